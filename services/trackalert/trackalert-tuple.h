/* trackalert-tuple.h - the LoginTuple of a report: JSON mapping with the original's defaults,
 * built in a per-connection arena and packed into one block for Lua. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "trackalert-addr.h"

/* An ordered list of key/value pairs; values of multi-valued entries are NULL-terminated.
 * Lists built with ta_kv_list_add() own their strings (ta_kv_list_done()); the lists of a
 * TaTuple are views into the tuple's arena or packed block and are never freed alone. */
typedef struct TaKv {
        char *key;
        char *value;   /* single-valued: attrs, device_attrs */
        char **values; /* multi-valued: attrs_mv */
        size_t n_values;
} TaKv;

typedef struct TaKvList {
        TaKv *items;
        size_t n, allocated;
} TaKvList;

void ta_kv_list_done(TaKvList *l);
const char *ta_kv_list_get(const TaKvList *l, const char *key);
int ta_kv_list_add(TaKvList *l, const char *key, const char *value);

/* A bump allocator for everything one request needs; reset between requests, it keeps its
 * first chunk, so a connection serves report after report without calling malloc. */
typedef struct TaArenaChunk TaArenaChunk;
typedef struct TaArena {
        TaArenaChunk *chunks;
} TaArena;

void *ta_arena_alloc(TaArena *a, size_t size);
char *ta_arena_strdup(TaArena *a, const char *s);
char *ta_arena_strndup(TaArena *a, const char *s, size_t n);
/* Append to a list whose memory comes from the arena. */
int ta_kv_list_add_arena(TaKvList *l, TaArena *a, const char *key, const char *value);
void ta_arena_reset(TaArena *a);
void ta_arena_done(TaArena *a);

typedef struct TaTuple {
        char *login, *pwhash, *fail_type, *protocol, *device_id, *session_id; /* never NULL */
        TaAddr remote;
        bool success, policy_reject, tls;
        bool device_attrs_given; /* the report had a device_attrs object */
        double t;
        TaKvList attrs, attrs_mv, device_attrs;
        char *country; /* filled in by GeoIP for the history, may be NULL */
} TaTuple;

#define TA_BODY_MAX (1024 * 1024)

/* Map a report body to a tuple with the original's rules: wrong types become the defaults
 * ("" / false / 0), a non-object is an empty report, a key given twice counts the last time,
 * only a "remote" that is a string but not an address fails (-EADDRNOTAVAIL). A syntax error
 * is -EBADMSG with json11's message. text[len] must be '\0'; the text is rewritten (strings
 * are decoded in place) and must live as long as the tuple; the rest comes from the arena,
 * and so does *ret_error. */
int ta_tuple_parse(char *text, size_t len, TaArena *arena, TaTuple *ret, const char **ret_error);

/* The arguments of a custom endpoint: the "attrs" object of the body split the original's way
 * (string values to attrs, arrays to attrs_mv, anything else dropped). */
int ta_custom_args_parse(char *text, size_t len, TaArena *arena, TaKvList *ret_attrs,
                         TaKvList *ret_mv, const char **ret_error);

/* One self-contained copy of a tuple in a single block (what Lua holds): size, then copy into
 * a block of that size, suitably aligned; the copy's pointers point into the block. */
size_t ta_tuple_packed_size(const TaTuple *t);
TaTuple *ta_tuple_pack(const TaTuple *t, void *block);

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
