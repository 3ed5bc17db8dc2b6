/* tracker-report-output.c - one column layout per report, rendered as table, CSV or JSON. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include <json-c/json.h>

#include "macro.h"
#include "utf8.h"

#include "tracker-report-output.h"

#define COLUMNS_MAX 6
#define CELL_MAX 32 /* the longest number or time, "@-9223372036854775808", fits */

typedef enum ColumnType {
        COLUMN_NAME,  /* ReportRow.name: text from the network */
        COLUMN_COUNT, /* an int64_t field */
        COLUMN_TIME,  /* an int64_t field in unix seconds, or REPORT_NEVER */
} ColumnType;

typedef struct Column {
        const char *key; /* JSON key and CSV header; upper case in the table header */
        ColumnType type;
        size_t offset; /* of the int64_t field in ReportRow */
} Column;

/* clang-format off */
#define NAME(k) {k, COLUMN_NAME, 0}
#define COUNT(k, field) {k, COLUMN_COUNT, offsetof(ReportRow, field)}
#define TIME(k, field) {k, COLUMN_TIME, offsetof(ReportRow, field)}
/* clang-format on */

/* Terminated by an entry without key. */
static const Column layouts[_REPORT_KIND_MAX][COLUMNS_MAX + 1] = {
        [REPORT_PROGRAMS] = {NAME("program"), COUNT("runs", runs), COUNT("users", users),
                             COUNT("hosts", hosts), TIME("first", first), TIME("last", last)},
        [REPORT_USERS] = {NAME("user"), COUNT("runs", runs), COUNT("programs", programs),
                          COUNT("hosts", hosts), TIME("first", first), TIME("last", last)},
        [REPORT_DAILY] = {NAME("day"), COUNT("runs", runs), COUNT("users", users),
                          COUNT("hosts", hosts)},
        [REPORT_UNUSED] = {NAME("program"), COUNT("runs", runs), TIME("last", last)},
        [REPORT_REJECTS] = {NAME("reason"), COUNT("count", runs), TIME("last", last)},
};

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)

int report_time_format(int64_t t, char ret[static REPORT_TIME_LEN + 1])
{
        char buf[REPORT_TIME_LEN + 2];
        time_t tt = (time_t)t;
        struct tm tm;

        if ((int64_t)tt != t || !localtime_r(&tt, &tm))
                return -ERANGE;
        if (strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm) != REPORT_TIME_LEN)
                return -ERANGE;
        memcpy(ret, buf, REPORT_TIME_LEN + 1);
        return 0;
}

static int64_t column_value(const Column *c, const ReportRow *row)
{
        return *(const int64_t *)((const char *)row + c->offset);
}

/* A time for humans; a time beyond what the calendar functions take as "@unix". */
static const char *time_text(int64_t t, char buf[static CELL_MAX])
{
        if (report_time_format(t, buf) < 0)
                snprintf(buf, CELL_MAX, "@%" PRId64, t);
        return buf;
}

/* U+0080..U+009F: C1 controls, which some terminals obey (0x9b is CSI). Printable UTF-8 as far
 * as utf8_is_printable_n() is concerned, so looked for here. */
static bool has_c1(const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
                        return true;
        return false;
}

/* s if it is valid UTF-8 (and, for a terminal, printable), else a copy with every byte outside
 * printable ASCII written as \xNN. The database is trackerd's, but it is only a file. */
static int text_safe(const char *s, bool terminal, char **ret_alloc, const char **ret)
{
        size_t len = strlen(s);
        char *copy, *q;

        *ret_alloc = NULL;
        if (terminal ? utf8_is_printable_n(s, len) && !has_c1(s) : utf8_is_valid_n(s, len)) {
                *ret = s;
                return 0;
        }
        copy = malloc(len * 4 + 1);
        if (!copy)
                return -ENOMEM;
        q = copy;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p >= 0x7f || *p == '\\')
                        q += sprintf(q, "\\x%02x", *p);
                else
                        *q++ = (char)*p;
        *q = '\0';
        *ret = *ret_alloc = copy;
        return 0;
}

/* Terminal columns taken by s, which is valid UTF-8. Outside a UTF-8 locale wcwidth() knows no
 * wide characters; counting one column each is then the best guess. */
static size_t text_width(const char *s)
{
        size_t width = 0;

        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                size_t n = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
                uint32_t cp = n == 1 ? *p : *p & (0x7f >> n);
                int w;

                for (size_t i = 1; i < n; i++)
                        cp = (cp << 6) | (p[i] & 0x3f);
                p += n;
                w = wcwidth((wchar_t)cp);
                width += w < 0 ? 1 : (size_t)w;
        }
        return width;
}

/* The text of a table cell. *ret_alloc is set if the text had to be copied. */
static int table_cell(const Column *c, const ReportRow *row, char buf[static CELL_MAX],
                      char **ret_alloc, const char **ret)
{
        *ret_alloc = NULL;
        switch (c->type) {
        case COLUMN_NAME:
                return text_safe(row->name, true, ret_alloc, ret);
        case COLUMN_COUNT:
                snprintf(buf, CELL_MAX, "%" PRId64, column_value(c, row));
                *ret = buf;
                return 0;
        case COLUMN_TIME:
                *ret = column_value(c, row) == REPORT_NEVER ? "never"
                                                            : time_text(column_value(c, row), buf);
                return 0;
        }
        return -EINVAL;
}

static void table_pad(FILE *f, size_t n)
{
        while (n-- > 0)
                fputc(' ', f);
}

/* Text left, numbers right; two spaces between columns, none at the end of a line. */
static void table_print(FILE *f, const Column *c, bool last, const char *text, size_t width)
{
        size_t pad = width - text_width(text);

        if (c->type == COLUMN_COUNT)
                table_pad(f, pad);
        fputs(text, f);
        if (c->type != COLUMN_COUNT && !last)
                table_pad(f, pad);
        if (!last)
                fputs("  ", f);
}

static void header_text(const Column *c, char buf[static CELL_MAX])
{
        size_t i;

        for (i = 0; c->key[i] && i < CELL_MAX - 1; i++)
                buf[i] = (char)toupper((unsigned char)c->key[i]);
        buf[i] = '\0';
}

static int output_table(FILE *f, const Column *cols, size_t n_cols, const ReportRows *rows)
{
        size_t widths[COLUMNS_MAX];
        char buf[CELL_MAX];
        int r;

        for (size_t i = 0; i < n_cols; i++)
                widths[i] = strlen(cols[i].key);
        for (size_t k = 0; k < rows->n; k++)
                for (size_t i = 0; i < n_cols; i++) {
                        _cleanup_free_ char *alloc = NULL;
                        const char *text;

                        r = table_cell(&cols[i], &rows->rows[k], buf, &alloc, &text);
                        if (r < 0)
                                return r;
                        widths[i] = MAX(widths[i], text_width(text));
                }

        for (size_t i = 0; i < n_cols; i++) {
                header_text(&cols[i], buf);
                table_print(f, &cols[i], i == n_cols - 1, buf, widths[i]);
        }
        fputc('\n', f);
        for (size_t k = 0; k < rows->n; k++) {
                for (size_t i = 0; i < n_cols; i++) {
                        _cleanup_free_ char *alloc = NULL;
                        const char *text;

                        r = table_cell(&cols[i], &rows->rows[k], buf, &alloc, &text);
                        if (r < 0)
                                return r;
                        table_print(f, &cols[i], i == n_cols - 1, text, widths[i]);
                }
                fputc('\n', f);
        }
        return 0;
}

/* RFC 4180: a field with a comma, a double quote or a line break is quoted, quotes doubled. */
static void csv_field(FILE *f, bool first, const char *s)
{
        if (!first)
                fputc(',', f);
        if (s[strcspn(s, ",\"\r\n")] == '\0') {
                fputs(s, f);
                return;
        }
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '"')
                        fputc('"', f);
                fputc(*s, f);
        }
        fputc('"', f);
}

static int output_csv(FILE *f, const Column *cols, size_t n_cols, const ReportRows *rows)
{
        char buf[CELL_MAX];
        int r;

        for (size_t i = 0; i < n_cols; i++) {
                csv_field(f, i == 0, cols[i].key);
                if (cols[i].type == COLUMN_TIME) {
                        snprintf(buf, sizeof(buf), "%s_unix", cols[i].key);
                        csv_field(f, false, buf);
                }
        }
        fputc('\n', f);
        for (size_t k = 0; k < rows->n; k++) {
                const ReportRow *row = &rows->rows[k];

                for (size_t i = 0; i < n_cols; i++) {
                        const Column *c = &cols[i];
                        _cleanup_free_ char *alloc = NULL;
                        const char *text;
                        int64_t v = c->type == COLUMN_NAME ? 0 : column_value(c, row);

                        switch (c->type) {
                        case COLUMN_NAME:
                                r = text_safe(row->name, false, &alloc, &text);
                                if (r < 0)
                                        return r;
                                csv_field(f, i == 0, text);
                                break;
                        case COLUMN_COUNT:
                                snprintf(buf, sizeof(buf), "%" PRId64, v);
                                csv_field(f, i == 0, buf);
                                break;
                        case COLUMN_TIME:
                                /* Never used: both fields empty. */
                                csv_field(f, i == 0, v == REPORT_NEVER ? "" : time_text(v, buf));
                                if (v != REPORT_NEVER)
                                        snprintf(buf, sizeof(buf), "%" PRId64, v);
                                csv_field(f, false, v == REPORT_NEVER ? "" : buf);
                                break;
                        }
                }
                fputc('\n', f);
        }
        return 0;
}

static int json_add(json_object *obj, const char *key, json_object *v, bool may_be_null)
{
        if (!v && !may_be_null)
                return -ENOMEM;
        if (json_object_object_add(obj, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int json_row(json_object *obj, const Column *cols, size_t n_cols, const ReportRow *row)
{
        char buf[CELL_MAX], key[CELL_MAX];
        int r;

        for (size_t i = 0; i < n_cols; i++) {
                const Column *c = &cols[i];
                _cleanup_free_ char *alloc = NULL;
                const char *text;
                int64_t v = c->type == COLUMN_NAME ? 0 : column_value(c, row);

                switch (c->type) {
                case COLUMN_NAME:
                        r = text_safe(row->name, false, &alloc, &text);
                        if (r >= 0)
                                r = json_add(obj, c->key, json_object_new_string(text), false);
                        break;
                case COLUMN_COUNT:
                        r = json_add(obj, c->key, json_object_new_int64(v), false);
                        break;
                case COLUMN_TIME:
                        /* Never used: both null. */
                        snprintf(key, sizeof(key), "%s_unix", c->key);
                        if (v == REPORT_NEVER)
                                r = json_add(obj, c->key, NULL, true)
                                            ?: json_add(obj, key, NULL, true);
                        else
                                r = json_add(obj, c->key, json_object_new_string(time_text(v, buf)),
                                             false)
                                            ?: json_add(obj, key, json_object_new_int64(v), false);
                        break;
                default:
                        r = -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int output_json(FILE *f, const Column *cols, size_t n_cols, const ReportRows *rows)
{
        _cleanup_(json_object_putp) json_object *array = NULL;
        const char *s;
        int r;

        array = json_object_new_array();
        if (!array)
                return -ENOMEM;
        for (size_t k = 0; k < rows->n; k++) {
                json_object *obj = json_object_new_object();

                if (!obj)
                        return -ENOMEM;
                if (json_object_array_add(array, obj) < 0) {
                        json_object_put(obj);
                        return -ENOMEM;
                }
                r = json_row(obj, cols, n_cols, &rows->rows[k]);
                if (r < 0)
                        return r;
        }
        s = json_object_to_json_string_ext(array, JSON_C_TO_STRING_PRETTY |
                                                          JSON_C_TO_STRING_SPACED |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        fputs(s, f);
        fputc('\n', f);
        return 0;
}

int report_output(FILE *f, ReportFormat format, ReportKind kind, const ReportRows *rows)
{
        const Column *cols;
        size_t n_cols = 0;
        int r;

        if (kind < 0 || kind >= _REPORT_KIND_MAX)
                return -EINVAL;
        cols = layouts[kind];
        while (n_cols < COLUMNS_MAX && cols[n_cols].key)
                n_cols++;

        switch (format) {
        case REPORT_FORMAT_TABLE:
                r = output_table(f, cols, n_cols, rows);
                break;
        case REPORT_FORMAT_CSV:
                r = output_csv(f, cols, n_cols, rows);
                break;
        case REPORT_FORMAT_JSON:
                r = output_json(f, cols, n_cols, rows);
                break;
        default:
                r = -EINVAL;
        }
        if (r < 0)
                return r;
        return ferror(f) ? -EIO : 0;
}
