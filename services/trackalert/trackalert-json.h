/* trackalert-json.h - a JSON reader that accepts and rejects exactly what the original's json11
 * does, with json11's error messages, and decodes strings in place: no allocation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* json11's nesting limit: a value inside more than this many containers is refused. */
#define TA_JSON_DEPTH_MAX 200
#define TA_JSON_ERROR_MAX 96

typedef enum TaJsonType {
        TA_JSON_NULL,
        TA_JSON_BOOL,
        TA_JSON_NUMBER,
        TA_JSON_STRING,
        TA_JSON_ARRAY,  /* begun: read the elements with ta_json_array_next() */
        TA_JSON_OBJECT, /* begun: read the members with ta_json_object_next() */
} TaJsonType;

typedef struct TaJsonValue {
        TaJsonType type;
        unsigned depth;
        bool boolean;
        double number;
        char *string; /* decoded in place in the text and NUL-terminated there */
        size_t length;
} TaJsonValue;

typedef struct TaJson {
        char *text; /* text[len] must be '\0'; strings are rewritten in place */
        size_t len, i;
        bool failed;
        char error[TA_JSON_ERROR_MAX];
} TaJson;

void ta_json_init(TaJson *j, char *text, size_t len);

/* Each function returns >= 0 on success and -EBADMSG after the first syntax error, whose
 * message is then in j->error. */

/* Read a value at the given nesting depth: scalars completely, containers only up to their
 * opening bracket. */
int ta_json_value(TaJson *j, unsigned depth, TaJsonValue *ret);
/* The next element of a begun array: 1 with the element begun, 0 at the end. */
int ta_json_array_next(TaJson *j, const TaJsonValue *array, bool first, TaJsonValue *ret);
/* The next member of a begun object: 1 with the key and the value begun, 0 at the end. */
int ta_json_object_next(TaJson *j, const TaJsonValue *object, bool first, char **ret_key,
                        TaJsonValue *ret);
/* Read and check the rest of a begun value (a no-op for scalars). */
int ta_json_skip(TaJson *j, const TaJsonValue *v);
/* After the top-level value: only white space may follow. */
int ta_json_end(TaJson *j);
