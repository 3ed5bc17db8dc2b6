/* trackalert-tuple.c - the LoginTuple of a report: JSON mapping with the original's defaults,
 * built in a per-connection arena and packed into one block for Lua. */
#include <errno.h>
#include <stdarg.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "trackalert-json.h"
#include "trackalert-tuple.h"

/* ---- owning key/value lists */

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

int ta_kv_list_add(TaKvList *l, const char *key, const char *value)
{
        TaKv *kv;

        if (l->n == l->allocated) {
                size_t na = MAX(l->allocated * 2, (size_t)8);
                TaKv *p = reallocarray(l->items, na, sizeof(*p));

                if (!p)
                        return -ENOMEM;
                l->items = p;
                l->allocated = na;
        }
        kv = &l->items[l->n];
        *kv = (TaKv){.key = strdup(key), .value = strdup(value)};
        if (!kv->key || !kv->value) {
                free(kv->key);
                free(kv->value);
                return -ENOMEM;
        }
        l->n++;
        return 0;
}

/* ---- the arena */

#define ARENA_CHUNK_MIN 4096
#define ARENA_KEEP_MAX (64 * 1024)
#define ARENA_ALIGN alignof(max_align_t)

struct TaArenaChunk {
        TaArenaChunk *next;
        size_t size, used;
        alignas(max_align_t) unsigned char data[];
};

void *ta_arena_alloc(TaArena *a, size_t size)
{
        TaArenaChunk *c = a->chunks;
        void *p;

        size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
        if (size == 0)
                size = ARENA_ALIGN;
        if (!c || c->size - c->used < size) {
                size_t n = MAX(MAX(size, (size_t)ARENA_CHUNK_MIN), c ? c->size * 2 : 0);

                if (n > SIZE_MAX / 2)
                        return NULL;
                c = malloc(sizeof(TaArenaChunk) + n);
                if (!c)
                        return NULL;
                c->size = n;
                c->used = 0;
                c->next = a->chunks;
                a->chunks = c;
        }
        p = c->data + c->used;
        c->used += size;
        return p;
}

char *ta_arena_strndup(TaArena *a, const char *s, size_t n)
{
        char *p = ta_arena_alloc(a, n + 1);

        if (!p)
                return NULL;
        memcpy(p, s, n);
        p[n] = '\0';
        return p;
}

char *ta_arena_strdup(TaArena *a, const char *s)
{
        return ta_arena_strndup(a, s, strlen(s));
}

/* Grow an array in the arena by doubling (the old copy stays until the reset). */
static void *arena_grow(TaArena *a, void *items, size_t n, size_t *allocated, size_t elem)
{
        size_t na;
        void *p;

        if (n < *allocated)
                return items;
        na = MAX(*allocated * 2, (size_t)8);
        if (na > SIZE_MAX / elem)
                return NULL;
        p = ta_arena_alloc(a, na * elem);
        if (!p)
                return NULL;
        if (items && n > 0)
                memcpy(p, items, MIN(n, *allocated) * elem);
        *allocated = na;
        return p;
}

int ta_kv_list_add_arena(TaKvList *l, TaArena *a, const char *key, const char *value)
{
        TaKv *items = arena_grow(a, l->items, l->n, &l->allocated, sizeof(TaKv));
        char *k, *v;

        if (!items)
                return -ENOMEM;
        l->items = items;
        k = ta_arena_strdup(a, key);
        v = ta_arena_strdup(a, value);
        if (!k || !v)
                return -ENOMEM;
        l->items[l->n++] = (TaKv){.key = k, .value = v};
        return 0;
}

void ta_arena_reset(TaArena *a)
{
        TaArenaChunk *keep = NULL, *next;

        for (TaArenaChunk *c = a->chunks; c; c = next) {
                next = c->next;
                if (!keep && c->size <= ARENA_KEEP_MAX) {
                        keep = c;
                        continue;
                }
                free(c);
        }
        if (keep) {
                keep->used = 0;
                keep->next = NULL;
        }
        a->chunks = keep;
}

void ta_arena_done(TaArena *a)
{
        TaArenaChunk *next;

        for (TaArenaChunk *c = a->chunks; c; c = next) {
                next = c->next;
                free(c);
        }
        a->chunks = NULL;
}

/* ---- JSON to tuple */

typedef enum AttrKind { ATTR_STRING, ATTR_ARRAY, ATTR_OTHER } AttrKind;

typedef struct Attr {
        char *key, *value;
        char **values;
        size_t n_values, order;
        AttrKind kind;
} Attr;

static int attr_cmp(const void *x, const void *y)
{
        const Attr *a = x, *b = y;
        int c = strcmp(a->key, b->key);

        if (c != 0)
                return c;
        return a->order < b->order ? -1 : a->order > b->order;
}

static int read_array_of_strings(TaJson *j, TaArena *a, const TaJsonValue *array, Attr *ret)
{
        size_t allocated = 0;
        TaJsonValue e;
        int r;

        for (bool first = true; (r = ta_json_array_next(j, array, first, &e)) > 0; first = false) {
                char **v =
                        arena_grow(a, ret->values, ret->n_values + 1, &allocated, sizeof(char *));

                if (!v)
                        return -ENOMEM;
                ret->values = v;
                /* json11's string_value(): a non-string element is "" */
                if (e.type == TA_JSON_STRING)
                        ret->values[ret->n_values++] = e.string;
                else {
                        r = ta_json_skip(j, &e);
                        if (r < 0)
                                return r;
                        ret->values[ret->n_values++] = (char *)"";
                }
        }
        if (r < 0)
                return r;
        if (!ret->values) {
                ret->values = ta_arena_alloc(a, sizeof(char *));
                if (!ret->values)
                        return -ENOMEM;
        }
        ret->values[ret->n_values] = NULL;
        return 0;
}

/* An "attrs"-like object. json11 keeps objects in a std::map: a key given twice counts the
 * last time (whatever its type), and the entries come out sorted by key. */
static int read_attrs(TaJson *j, TaArena *a, const TaJsonValue *object, bool with_mv,
                      TaKvList *ret_attrs, TaKvList *ret_mv)
{
        Attr *attrs = NULL;
        size_t n = 0, allocated = 0;
        TaJsonValue v;
        char *key;
        int r;

        for (bool first = true; (r = ta_json_object_next(j, object, first, &key, &v)) > 0;
             first = false) {
                Attr *at;

                attrs = arena_grow(a, attrs, n, &allocated, sizeof(Attr));
                if (!attrs)
                        return -ENOMEM;
                at = &attrs[n];
                *at = (Attr){.key = key, .order = n, .kind = ATTR_OTHER};
                n++;
                if (v.type == TA_JSON_STRING) {
                        at->kind = ATTR_STRING;
                        at->value = v.string;
                } else if (v.type == TA_JSON_ARRAY && with_mv) {
                        at->kind = ATTR_ARRAY;
                        r = read_array_of_strings(j, a, &v, at);
                        if (r < 0)
                                return r;
                } else if ((r = ta_json_skip(j, &v)) < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (n > 1)
                qsort(attrs, n, sizeof(Attr), attr_cmp);
        *ret_attrs = (TaKvList){};
        if (ret_mv)
                *ret_mv = (TaKvList){};
        for (size_t i = 0; i < n; i++) {
                TaKvList *l;

                if (i + 1 < n && streq(attrs[i].key, attrs[i + 1].key))
                        continue; /* a later one wins */
                if (attrs[i].kind == ATTR_OTHER)
                        continue;
                l = attrs[i].kind == ATTR_STRING ? ret_attrs : ret_mv;
                l->items = arena_grow(a, l->items, l->n, &l->allocated, sizeof(TaKv));
                if (!l->items)
                        return -ENOMEM;
                l->items[l->n++] = (TaKv){.key = attrs[i].key,
                                          .value = attrs[i].value,
                                          .values = attrs[i].values,
                                          .n_values = attrs[i].n_values};
        }
        return 0;
}

static int string_field(TaJson *j, const TaJsonValue *v, char **field)
{
        if (v->type == TA_JSON_STRING) {
                *field = v->string;
                return 0;
        }
        *field = (char *)""; /* json11's string_value() of anything else */
        return ta_json_skip(j, v);
}

static int bool_field(TaJson *j, const TaJsonValue *v, bool *field)
{
        *field = v->type == TA_JSON_BOOL && v->boolean;
        return ta_json_skip(j, v);
}

static int finish(TaJson *j, TaArena *a, int r, const char **ret_error)
{
        if (r >= 0)
                r = ta_json_end(j);
        if (r == -EBADMSG) {
                *ret_error = ta_arena_strdup(a, j->error) ?: "out of memory";
                return r;
        }
        if (r < 0)
                *ret_error = "out of memory";
        return r;
}

int ta_tuple_parse(char *text, size_t len, TaArena *a, TaTuple *ret, const char **ret_error)
{
        TaTuple t = {
                .login = (char *)"",
                .pwhash = (char *)"",
                .fail_type = (char *)"",
                .protocol = (char *)"",
                .device_id = (char *)"",
                .session_id = (char *)"",
        };
        const char *remote = NULL;
        TaJsonValue top, v;
        TaJson j;
        char *key;
        int r;

        ta_addr_any(&t.remote);
        ta_json_init(&j, text, len);
        r = ta_json_value(&j, 0, &top);
        if (r >= 0 && top.type == TA_JSON_OBJECT) {
                for (bool first = true; (r = ta_json_object_next(&j, &top, first, &key, &v)) > 0;
                     first = false) {
                        if (streq(key, "login"))
                                r = string_field(&j, &v, &t.login);
                        else if (streq(key, "pwhash"))
                                r = string_field(&j, &v, &t.pwhash);
                        else if (streq(key, "fail_type"))
                                r = string_field(&j, &v, &t.fail_type);
                        else if (streq(key, "protocol"))
                                r = string_field(&j, &v, &t.protocol);
                        else if (streq(key, "device_id"))
                                r = string_field(&j, &v, &t.device_id);
                        else if (streq(key, "session_id"))
                                r = string_field(&j, &v, &t.session_id);
                        else if (streq(key, "success"))
                                r = bool_field(&j, &v, &t.success);
                        else if (streq(key, "policy_reject"))
                                r = bool_field(&j, &v, &t.policy_reject);
                        else if (streq(key, "tls"))
                                r = bool_field(&j, &v, &t.tls);
                        else if (streq(key, "t")) {
                                t.t = v.type == TA_JSON_NUMBER ? v.number : 0;
                                r = ta_json_skip(&j, &v);
                        } else if (streq(key, "remote")) {
                                /* Only a string counts; checked once the last one is known. */
                                remote = v.type == TA_JSON_STRING ? v.string : NULL;
                                r = ta_json_skip(&j, &v);
                        } else if (streq(key, "attrs")) {
                                t.attrs = t.attrs_mv = (TaKvList){};
                                r = v.type == TA_JSON_OBJECT
                                            ? read_attrs(&j, a, &v, true, &t.attrs, &t.attrs_mv)
                                            : ta_json_skip(&j, &v);
                        } else if (streq(key, "device_attrs")) {
                                t.device_attrs = (TaKvList){};
                                t.device_attrs_given = v.type == TA_JSON_OBJECT;
                                r = v.type == TA_JSON_OBJECT
                                            ? read_attrs(&j, a, &v, false, &t.device_attrs, NULL)
                                            : ta_json_skip(&j, &v);
                        } else
                                r = ta_json_skip(&j, &v);
                        if (r < 0)
                                break;
                }
        } else if (r >= 0)
                r = ta_json_skip(&j, &top); /* json11 answers every lookup on a non-object */
        r = finish(&j, a, r, ret_error);
        if (r < 0)
                return r;
        if (remote) {
                if (ta_addr_parse(remote, &t.remote) < 0) {
                        *ret_error = "remote is not an IP address";
                        return -EADDRNOTAVAIL;
                }
                ta_addr_unmap(&t.remote);
        }
        *ret = t;
        return 0;
}

int ta_custom_args_parse(char *text, size_t len, TaArena *a, TaKvList *ret_attrs, TaKvList *ret_mv,
                         const char **ret_error)
{
        TaKvList attrs = {}, mv = {};
        TaJsonValue top, v;
        TaJson j;
        char *key;
        int r;

        ta_json_init(&j, text, len);
        r = ta_json_value(&j, 0, &top);
        if (r >= 0 && top.type == TA_JSON_OBJECT) {
                for (bool first = true; (r = ta_json_object_next(&j, &top, first, &key, &v)) > 0;
                     first = false) {
                        if (streq(key, "attrs")) {
                                attrs = mv = (TaKvList){};
                                r = v.type == TA_JSON_OBJECT
                                            ? read_attrs(&j, a, &v, true, &attrs, &mv)
                                            : ta_json_skip(&j, &v);
                        } else
                                r = ta_json_skip(&j, &v);
                        if (r < 0)
                                break;
                }
        } else if (r >= 0)
                r = ta_json_skip(&j, &top);
        r = finish(&j, a, r, ret_error);
        if (r < 0)
                return r;
        *ret_attrs = attrs;
        *ret_mv = mv;
        return 0;
}

/* ---- packing */

static size_t str_size(const char *s)
{
        return s ? strlen(s) + 1 : 0;
}

static void list_sizes(const TaKvList *l, size_t *arrays, size_t *strings)
{
        *arrays += l->n * sizeof(TaKv);
        for (size_t i = 0; i < l->n; i++) {
                *strings += str_size(l->items[i].key) + str_size(l->items[i].value);
                if (l->items[i].values) {
                        *arrays += (l->items[i].n_values + 1) * sizeof(char *);
                        for (size_t k = 0; k < l->items[i].n_values; k++)
                                *strings += str_size(l->items[i].values[k]);
                }
        }
}

size_t ta_tuple_packed_size(const TaTuple *t)
{
        size_t arrays = 0, strings = 0;

        strings += str_size(t->login) + str_size(t->pwhash) + str_size(t->fail_type) +
                   str_size(t->protocol) + str_size(t->device_id) + str_size(t->session_id) +
                   str_size(t->country);
        list_sizes(&t->attrs, &arrays, &strings);
        list_sizes(&t->attrs_mv, &arrays, &strings);
        list_sizes(&t->device_attrs, &arrays, &strings);
        return sizeof(TaTuple) + arrays + strings;
}

typedef struct Packer {
        unsigned char *arrays, *strings;
} Packer;

static char *pack_str(Packer *p, const char *s)
{
        size_t n = str_size(s);
        char *d = (char *)p->strings;

        if (!s)
                return NULL;
        memcpy(d, s, n);
        p->strings += n;
        return d;
}

static void pack_list(Packer *p, TaKvList *l)
{
        TaKv *items = (TaKv *)p->arrays;

        p->arrays += l->n * sizeof(TaKv);
        for (size_t i = 0; i < l->n; i++) {
                TaKv *src = &l->items[i], *dst = &items[i];

                *dst = (TaKv){.key = pack_str(p, src->key),
                              .value = pack_str(p, src->value),
                              .n_values = src->n_values};
                if (src->values) {
                        dst->values = (char **)p->arrays;
                        p->arrays += (src->n_values + 1) * sizeof(char *);
                        for (size_t k = 0; k < src->n_values; k++)
                                dst->values[k] = pack_str(p, src->values[k]);
                        dst->values[src->n_values] = NULL;
                }
        }
        l->items = l->n > 0 ? items : NULL;
        l->allocated = l->n;
}

TaTuple *ta_tuple_pack(const TaTuple *t, void *block)
{
        TaTuple *c = block;
        size_t arrays = 0, strings = 0;
        Packer p;

        /* arrays of pointers first (aligned after the struct), then the bytes */
        list_sizes(&t->attrs, &arrays, &strings);
        list_sizes(&t->attrs_mv, &arrays, &strings);
        list_sizes(&t->device_attrs, &arrays, &strings);
        *c = *t;
        p.arrays = (unsigned char *)(c + 1);
        p.strings = p.arrays + arrays;
        c->login = pack_str(&p, t->login);
        c->pwhash = pack_str(&p, t->pwhash);
        c->fail_type = pack_str(&p, t->fail_type);
        c->protocol = pack_str(&p, t->protocol);
        c->device_id = pack_str(&p, t->device_id);
        c->session_id = pack_str(&p, t->session_id);
        c->country = pack_str(&p, t->country);
        pack_list(&p, &c->attrs);
        pack_list(&p, &c->attrs_mv);
        pack_list(&p, &c->device_attrs);
        return c;
}

/* ---- a growing buffer for responses */

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
