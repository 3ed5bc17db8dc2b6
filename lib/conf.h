/* conf.h - a strict INI-style ("[Section]" + "Key=Value") configuration parser with file:line
 * errors. Unknown sections and keys are errors (strict) or warnings with file:line (lenient),
 * never silently ignored. Files are opened without blocking: a FIFO is refused, not waited on. */
#pragma once

#include <stddef.h>

#define CONF_FILE_MAX (1024 * 1024)
#define CONF_MESSAGE_MAX 256

/* Parses value into the object at data. On failure returns -errno and may set *ret_msg to a
 * static string describing what is wrong. */
typedef int (*ConfValueParser)(const char *value, void *data, const char **ret_msg);

typedef struct ConfItem {
        const char *section;
        const char *key;
        ConfValueParser parse;
        size_t offset; /* of the field within the object passed as base */
} ConfItem;

typedef struct ConfError {
        const char *file; /* borrowed from the caller */
        unsigned line;    /* 0 if the error is not about a line (I/O, size) */
        char message[CONF_MESSAGE_MAX];
} ConfError;

/* Parse text (NUL-terminated, modified in place). */
int conf_parse_text(const char *filename, char *text, const ConfItem *items, size_t n_items,
                    void *base, ConfError *err);

/* Read and parse a file. Returns -ENOENT untouched (and without setting err) so that callers
 * can treat a missing file as "all defaults". */
int conf_parse_file(const char *path, const ConfItem *items, size_t n_items, void *base,
                    ConfError *err);

/* The lenient variants (spec of trackle, "unknown keys are warned about and ignored"): with
 * warn set, an unknown section or key is passed to warn (file, line, message) and skipped
 * instead of failing. Bad values are errors either way. With warn NULL they are the strict
 * functions above. */
typedef void (*ConfWarn)(const char *file, unsigned line, const char *message, void *userdata);
int conf_parse_text_warn(const char *filename, char *text, const ConfItem *items, size_t n_items,
                         void *base, ConfWarn warn, void *userdata, ConfError *err);
int conf_parse_file_warn(const char *path, const ConfItem *items, size_t n_items, void *base,
                         ConfWarn warn, void *userdata, ConfError *err);

/* systemd's convention for its own files, for daemons: every problem on a line (unknown
 * section or key, bad value, a line that is not Key=Value) is passed to warn (required) with
 * its line, the line is skipped and parsing goes on, so one typo never stops a service.
 * Returns the number of problems (>= 0), or -errno with err set when the file as a whole
 * cannot be used (unreadable, not a regular file, not UTF-8, too large). The file variant
 * returns -ENOENT untouched, and never blocks on a FIFO. */
int conf_parse_text_lenient(const char *filename, char *text, const ConfItem *items, size_t n_items,
                            void *base, ConfWarn warn, void *userdata, ConfError *err);
int conf_parse_file_lenient(const char *path, const ConfItem *items, size_t n_items, void *base,
                            ConfWarn warn, void *userdata, ConfError *err);

/* Value parsers for common field types. */
int conf_parse_string(const char *value, void *data, const char **ret_msg);        /* char * */
int conf_parse_bool(const char *value, void *data, const char **ret_msg);          /* bool */
int conf_parse_uint64(const char *value, void *data, const char **ret_msg);        /* uint64_t */
int conf_parse_timespan_sec(const char *value, void *data, const char **ret_msg);  /* uint64_t */
int conf_parse_timespan_msec(const char *value, void *data, const char **ret_msg); /* uint64_t */
