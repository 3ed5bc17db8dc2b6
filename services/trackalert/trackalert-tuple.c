/* trackalert-tuple.c - JSON to LoginTuple, and a small JSON writer for responses. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "trackalert-tuple.h"

int ta_json_parse(const char *text, size_t len, json_object **ret, const char **ret_error)
{
        struct json_tokener *tok;
        json_object *obj;
        enum json_tokener_error e;

        if (len > TA_BODY_MAX) {
                *ret_error = "request body too large";
                return -E2BIG;
        }
        tok = json_tokener_new_ex(TA_JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        /* With the terminating NUL, so that a top-level number ends ("42" is complete). */
        assert(text[len] == '\0');
        obj = json_tokener_parse_ex(tok, text, (int)len + 1);
        e = json_tokener_get_error(tok);
        if (e == json_tokener_continue || e == json_tokener_error_parse_eof) {
                json_object_put(obj);
                obj = NULL;
                json_tokener_free(tok);
                *ret_error = "unexpected end of input";
                return -EBADMSG;
        }
        if (e != json_tokener_success) {
                json_object_put(obj);
                json_tokener_free(tok);
                *ret_error = json_tokener_error_desc(e);
                return -EBADMSG;
        }
        /* Anything but white space after the value is an error, as in json11. */
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
                if (!strchr(" \t\r\n", text[i])) {
                        json_object_put(obj);
                        json_tokener_free(tok);
                        *ret_error = "unexpected trailing characters";
                        return -EBADMSG;
                }
        json_tokener_free(tok);
        *ret = obj;
        return 0;
}

void ta_kv_list_done(TaKvList *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].key);
                free(l->items[i].value);
                for (size_t j = 0; j < l->items[i].n_values; j++)
                        free(l->items[i].values[j]);
                free(l->items[i].values);
        }
        free(l->items);
        *l = (TaKvList){};
}

const char *ta_kv_list_get(const TaKvList *l, const char *key)
{
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].key, key))
                        return l->items[i].value;
        return NULL;
}

static TaKv *kv_list_append(TaKvList *l, const char *key)
{
        TaKv *p = reallocarray(l->items, l->n + 1, sizeof(*p));
        if (!p)
                return NULL;
        l->items = p;
        p = &l->items[l->n];
        *p = (TaKv){.key = strdup(key)};
        if (!p->key)
                return NULL;
        l->n++;
        return p;
}

int ta_kv_list_add(TaKvList *l, const char *key, const char *value)
{
        TaKv *kv = kv_list_append(l, key);
        if (!kv)
                return -ENOMEM;
        kv->value = strdup(value);
        return kv->value ? 0 : -ENOMEM;
}

static const char *json_string_value(json_object *o)
{
        return o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : "";
}

int ta_attrs_from_json(json_object *attrs, TaKvList *ret_attrs, TaKvList *ret_mv)
{
        int r;

        if (!attrs || !json_object_is_type(attrs, json_type_object))
                return 0;
        json_object_object_foreach(attrs, key, val)
        {
                if (json_object_is_type(val, json_type_string)) {
                        r = ta_kv_list_add(ret_attrs, key, json_object_get_string(val));
                        if (r < 0)
                                return r;
                } else if (ret_mv && json_object_is_type(val, json_type_array)) {
                        size_t n = json_object_array_length(val);
                        TaKv *kv = kv_list_append(ret_mv, key);

                        if (!kv)
                                return -ENOMEM;
                        kv->values = calloc(n + 1, sizeof(char *));
                        if (!kv->values)
                                return -ENOMEM;
                        for (size_t i = 0; i < n; i++) {
                                kv->values[i] =
                                        strdup(json_string_value(json_object_array_get_idx(val, i)));
                                if (!kv->values[i])
                                        return -ENOMEM;
                                kv->n_values++;
                        }
                }
        }
        return 0;
}

static int take_string(json_object *obj, const char *key, char **ret)
{
        json_object *v = NULL;

        (void)json_object_object_get_ex(obj, key, &v);
        *ret = strdup(json_string_value(v));
        return *ret ? 0 : -ENOMEM;
}

static bool take_bool(json_object *obj, const char *key)
{
        json_object *v = NULL;

        if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_boolean))
                return false;
        return json_object_get_boolean(v);
}

static double take_number(json_object *obj, const char *key)
{
        json_object *v = NULL;

        if (!json_object_object_get_ex(obj, key, &v))
                return 0;
        if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
                return json_object_get_double(v);
        return 0;
}

TaTuple *ta_tuple_ref(TaTuple *t)
{
        if (t)
                __atomic_add_fetch(&t->refcount, 1, __ATOMIC_RELAXED);
        return t;
}

TaTuple *ta_tuple_unref(TaTuple *t)
{
        if (!t || __atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) > 0)
                return NULL;
        free(t->login);
        free(t->pwhash);
        free(t->fail_type);
        free(t->protocol);
        free(t->device_id);
        free(t->session_id);
        free(t->country);
        ta_kv_list_done(&t->attrs);
        ta_kv_list_done(&t->attrs_mv);
        ta_kv_list_done(&t->device_attrs);
        free(t);
        return NULL;
}

void ta_tuple_unrefp(TaTuple **t)
{
        ta_tuple_unref(*t);
}

int ta_tuple_from_json(json_object *obj, TaTuple **ret)
{
        _cleanup_(ta_tuple_unrefp) TaTuple *t = NULL;
        json_object *v = NULL;
        int r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->refcount = 1;
        ta_addr_any(&t->remote);
        if (!obj || !json_object_is_type(obj, json_type_object))
                obj = NULL; /* json11 answers every lookup on a non-object with null */

        if ((r = take_string(obj, "login", &t->login)) < 0 ||
            (r = take_string(obj, "pwhash", &t->pwhash)) < 0 ||
            (r = take_string(obj, "fail_type", &t->fail_type)) < 0 ||
            (r = take_string(obj, "protocol", &t->protocol)) < 0 ||
            (r = take_string(obj, "device_id", &t->device_id)) < 0 ||
            (r = take_string(obj, "session_id", &t->session_id)) < 0)
                return r;
        t->success = take_bool(obj, "success");
        t->policy_reject = take_bool(obj, "policy_reject");
        t->tls = take_bool(obj, "tls");
        t->t = take_number(obj, "t");

        if (obj && json_object_object_get_ex(obj, "remote", &v) &&
            json_object_is_type(v, json_type_string)) {
                r = ta_addr_parse(json_object_get_string(v), &t->remote);
                if (r < 0)
                        return -EADDRNOTAVAIL;
                ta_addr_unmap(&t->remote);
        }
        if (obj && json_object_object_get_ex(obj, "attrs", &v)) {
                r = ta_attrs_from_json(v, &t->attrs, &t->attrs_mv);
                if (r < 0)
                        return r;
        }
        if (obj && json_object_object_get_ex(obj, "device_attrs", &v)) {
                r = ta_attrs_from_json(v, &t->device_attrs, NULL);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

int ta_tuple_parse(const char *text, size_t len, TaTuple **ret, const char **ret_error)
{
        json_object *obj = NULL;
        int r;

        r = ta_json_parse(text, len, &obj, ret_error);
        if (r < 0)
                return r;
        r = ta_tuple_from_json(obj, ret);
        json_object_put(obj);
        if (r == -EADDRNOTAVAIL)
                *ret_error = "remote is not an IP address";
        return r;
}

void ta_buf_add(TaBuf *b, const char *s, size_t n)
{
        if (b->oom)
                return;
        if (b->len + n + 1 > b->allocated) {
                size_t na = MAX(b->allocated * 2, b->len + n + 1);
                char *p;

                na = MAX(na, (size_t)256);
                p = realloc(b->data, na);
                if (!p) {
                        b->oom = true;
                        return;
                }
                b->data = p;
                b->allocated = na;
        }
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
}

void ta_buf_puts(TaBuf *b, const char *s)
{
        ta_buf_add(b, s, strlen(s));
}

void ta_buf_printf(TaBuf *b, const char *fmt, ...)
{
        char small[256];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n < sizeof(small)) {
                ta_buf_add(b, small, (size_t)n);
                return;
        }
        {
                _cleanup_free_ char *big = NULL;

                va_start(ap, fmt);
                n = vasprintf(&big, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        big = NULL;
                        b->oom = true;
                        return;
                }
                ta_buf_add(b, big, (size_t)n);
        }
}

void ta_buf_json_string(TaBuf *b, const char *s, size_t n)
{
        size_t start = 0;

        ta_buf_add(b, "\"", 1);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                char esc[8];

                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                ta_buf_add(b, s + start, i - start);
                switch (c) {
                case '"': ta_buf_add(b, "\\\"", 2); break;
                case '\\': ta_buf_add(b, "\\\\", 2); break;
                case '\n': ta_buf_add(b, "\\n", 2); break;
                case '\r': ta_buf_add(b, "\\r", 2); break;
                case '\t': ta_buf_add(b, "\\t", 2); break;
                default:
                        snprintf(esc, sizeof(esc), "\\u%04x", c);
                        ta_buf_add(b, esc, 6);
                }
                start = i + 1;
        }
        ta_buf_add(b, s + start, n - start);
        ta_buf_add(b, "\"", 1);
}

void ta_buf_done(TaBuf *b)
{
        free(b->data);
        *b = (TaBuf){};
}
