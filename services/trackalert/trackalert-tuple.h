/* trackalert-tuple.h - the LoginTuple of a report: JSON mapping with the original's defaults. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "trackalert-addr.h"

/* An ordered list of key/value pairs; values of multi-valued entries are NULL-terminated. */
typedef struct TaKv {
        char *key;
        char *value;   /* single-valued: attrs, device_attrs */
        char **values; /* multi-valued: attrs_mv */
        size_t n_values;
} TaKv;

typedef struct TaKvList {
        TaKv *items;
        size_t n;
} TaKvList;

typedef struct TaTuple {
        int refcount; /* atomic */
        char *login, *pwhash, *fail_type, *protocol, *device_id, *session_id;
        TaAddr remote;
        bool success, policy_reject, tls;
        double t;
        TaKvList attrs, attrs_mv, device_attrs;
        char *country; /* filled in by GeoIP for the history, may be NULL */
} TaTuple;

#define TA_JSON_DEPTH_MAX 32
#define TA_BODY_MAX (1024 * 1024)

/* Parse a JSON text (text[len] must be NUL) with a depth limit. On a syntax error *ret_error gets a static string. */
int ta_json_parse(const char *text, size_t len, json_object **ret, const char **ret_error);

/* Map a parsed report to a tuple with the original's rules: wrong types become the defaults
 * ("" / false / 0), a non-object is an empty report, only a "remote" that is a string but
 * not an address fails (-EADDRNOTAVAIL). */
int ta_tuple_from_json(json_object *obj, TaTuple **ret);
int ta_tuple_parse(const char *text, size_t len, TaTuple **ret, const char **ret_error);
TaTuple *ta_tuple_ref(TaTuple *t);
TaTuple *ta_tuple_unref(TaTuple *t);
void ta_tuple_unrefp(TaTuple **t);

/* Split an "attrs" object the original's way: string values to attrs, arrays to attrs_mv
 * (non-string elements become ""), anything else dropped. */
int ta_attrs_from_json(json_object *attrs, TaKvList *ret_attrs, TaKvList *ret_mv);
void ta_kv_list_done(TaKvList *l);
const char *ta_kv_list_get(const TaKvList *l, const char *key);
int ta_kv_list_add(TaKvList *l, const char *key, const char *value);

/* Append s as a JSON string literal (quotes included) to a growing buffer. */
typedef struct TaBuf {
        char *data;
        size_t len, allocated;
        bool oom;
} TaBuf;
void ta_buf_add(TaBuf *b, const char *s, size_t n);
void ta_buf_puts(TaBuf *b, const char *s);
void ta_buf_printf(TaBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ta_buf_json_string(TaBuf *b, const char *s, size_t n);
void ta_buf_done(TaBuf *b);
