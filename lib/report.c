/* report.c - table, CSV and JSON writers for typed columns, and SVG charts of time series;
 * every byte of text from outside goes through the escaping of its format. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include <json-c/json.h>

#include "macro.h"
#include "report.h"
#include "utf8.h"

#define CELL_MAX 32 /* the longest number, time or byte count, "@-9223372036854775808", fits */

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

const char *report_format_bytes(int64_t v, char *buf, size_t size)
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double d = (double)v;
        size_t u = 0;

        if (v < 1024) {
                snprintf(buf, size, "%" PRId64 " B", v);
                return buf;
        }
        while (d >= 1024 && u + 1 < ELEMENTSOF(units)) {
                d /= 1024;
                u++;
        }
        snprintf(buf, size, "%.1f %s", d, units[u]);
        return buf;
}

/* A time for humans; a time beyond what the calendar functions take as "@unix". */
static const char *time_text(int64_t t, char buf[static CELL_MAX])
{
        if (report_time_format(t, buf) < 0)
                snprintf(buf, CELL_MAX, "@%" PRId64, t);
        return buf;
}

/* s as valid UTF-8: invalid bytes (and then every backslash) as \xNN. For CSV and JSON, which
 * carry any text, but only text. */
static int text_valid(const char *s, char **ret_alloc, const char **ret)
{
        size_t len = strlen(s);
        char *copy, *q;

        *ret_alloc = NULL;
        if (utf8_is_valid_n(s, len)) {
                *ret = s;
                return 0;
        }
        copy = malloc(len * 4 + 1);
        if (!copy)
                return -ENOMEM;
        q = copy;
        for (size_t i = 0; i < len;) {
                size_t n = utf8_sequence_n(s + i, len - i, NULL);

                if (n == 0 || s[i] == '\\') {
                        q += sprintf(q, "\\x%02x", (unsigned char)s[i]);
                        i++;
                } else {
                        memcpy(q, s + i, n);
                        q += n;
                        i += n;
                }
        }
        *q = '\0';
        *ret = *ret_alloc = copy;
        return 0;
}

/* s for a terminal: utf8_escape_invisible(). */
static int text_visible(const char *s, char **ret_alloc, const char **ret)
{
        int r = utf8_escape_invisible(s, ret_alloc);

        if (r < 0)
                return r;
        *ret = *ret_alloc ?: s;
        return 0;
}

/* Terminal columns taken by s, which is visible UTF-8. Outside a UTF-8 locale wcwidth() knows
 * no wide characters; counting one column each is then the best guess. */
static size_t text_width(const char *s)
{
        size_t width = 0, len = strlen(s);

        for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t n = utf8_sequence_n(s + i, len - i, &cp);
                int w;

                if (n == 0)
                        n = 1, cp = '?';
                i += n;
                w = wcwidth((wchar_t)cp);
                width += w < 0 ? 1 : (size_t)w;
        }
        return width;
}

static const ReportCell *cell_at(const ReportTable *t, size_t row, size_t col)
{
        return &t->cells[row * t->n_columns + col];
}

static bool column_is_number(const ReportColumn *c)
{
        return c->type == REPORT_COLUMN_INT || c->type == REPORT_COLUMN_BYTES;
}

/* The text of a table cell. *ret_alloc is set if the text had to be copied. */
static int table_cell(const ReportColumn *c, const ReportCell *cell, char buf[static CELL_MAX],
                      char **ret_alloc, const char **ret)
{
        *ret_alloc = NULL;
        switch (c->type) {
        case REPORT_COLUMN_TEXT:
                return text_visible(strempty(cell->text), ret_alloc, ret);
        case REPORT_COLUMN_INT:
                snprintf(buf, CELL_MAX, "%" PRId64, cell->value);
                *ret = buf;
                return 0;
        case REPORT_COLUMN_BYTES:
                *ret = report_format_bytes(cell->value, buf, CELL_MAX);
                return 0;
        case REPORT_COLUMN_TIME:
                *ret = cell->value == REPORT_TIME_NEVER ? "never" : time_text(cell->value, buf);
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
static void table_print(FILE *f, bool right, bool last, const char *text, size_t width)
{
        size_t w = text_width(text), pad = width > w ? width - w : 0;

        if (right)
                table_pad(f, pad);
        fputs(text, f);
        if (!right && !last)
                table_pad(f, pad);
        if (!last)
                fputs("  ", f);
}

static int output_table(FILE *f, const ReportTable *t, const size_t *cols, size_t n_cols)
{
        _cleanup_free_ size_t *widths = calloc(n_cols ?: 1, sizeof(size_t));
        char buf[CELL_MAX];
        int r;

        if (!widths)
                return -ENOMEM;
        for (size_t i = 0; i < n_cols; i++)
                widths[i] = strlen(t->columns[cols[i]].key);
        for (size_t k = 0; k < t->n_rows; k++)
                for (size_t i = 0; i < n_cols; i++) {
                        _cleanup_free_ char *alloc = NULL;
                        const char *text;

                        r = table_cell(&t->columns[cols[i]], cell_at(t, k, cols[i]), buf, &alloc,
                                       &text);
                        if (r < 0)
                                return r;
                        widths[i] = MAX(widths[i], text_width(text));
                }

        for (size_t i = 0; i < n_cols; i++) {
                const ReportColumn *c = &t->columns[cols[i]];
                size_t l;

                for (l = 0; c->key[l] && l < CELL_MAX - 1; l++)
                        buf[l] = (char)toupper((unsigned char)c->key[l]);
                buf[l] = '\0';
                table_print(f, column_is_number(c) && !t->style.table_header_left, i == n_cols - 1,
                            buf, widths[i]);
        }
        fputc('\n', f);
        for (size_t k = 0; k < t->n_rows; k++) {
                for (size_t i = 0; i < n_cols; i++) {
                        const ReportColumn *c = &t->columns[cols[i]];
                        _cleanup_free_ char *alloc = NULL;
                        const char *text;

                        r = table_cell(c, cell_at(t, k, cols[i]), buf, &alloc, &text);
                        if (r < 0)
                                return r;
                        table_print(f, column_is_number(c), i == n_cols - 1, text, widths[i]);
                }
                fputc('\n', f);
        }
        return 0;
}

void report_csv_field(FILE *f, bool first, const char *s)
{
        /* A spreadsheet runs a cell that starts like this as a formula (CSV injection). */
        bool formula = s[0] && strchr("=+-@\t\r", s[0]);

        if (!first)
                fputc(',', f);
        if (s[strcspn(s, ",\"\r\n")] == '\0') {
                if (formula)
                        fputc('\'', f);
                fputs(s, f);
                return;
        }
        fputc('"', f);
        if (formula)
                fputc('\'', f);
        for (; *s; s++) {
                if (*s == '"')
                        fputc('"', f);
                fputc(*s, f);
        }
        fputc('"', f);
}

static int output_csv(FILE *f, const ReportTable *t, const size_t *cols, size_t n_cols)
{
        const char *eol = t->style.csv_crlf ? "\r\n" : "\n";
        char buf[CELL_MAX];
        int r;

        for (size_t i = 0; i < n_cols; i++) {
                const ReportColumn *c = &t->columns[cols[i]];

                report_csv_field(f, i == 0, c->key);
                if (c->type == REPORT_COLUMN_TIME) {
                        snprintf(buf, sizeof(buf), "%s_unix", c->key);
                        report_csv_field(f, false, buf);
                }
        }
        fputs(eol, f);
        for (size_t k = 0; k < t->n_rows; k++) {
                for (size_t i = 0; i < n_cols; i++) {
                        const ReportColumn *c = &t->columns[cols[i]];
                        const ReportCell *cell = cell_at(t, k, cols[i]);
                        _cleanup_free_ char *alloc = NULL;
                        const char *text;
                        int64_t v = cell->value;

                        switch (c->type) {
                        case REPORT_COLUMN_TEXT:
                                r = text_valid(strempty(cell->text), &alloc, &text);
                                if (r < 0)
                                        return r;
                                report_csv_field(f, i == 0, text);
                                break;
                        case REPORT_COLUMN_INT:
                        case REPORT_COLUMN_BYTES:
                                /* Numbers as numbers: a negative one is not a formula. */
                                if (i > 0)
                                        fputc(',', f);
                                fprintf(f, "%" PRId64, v);
                                break;
                        case REPORT_COLUMN_TIME:
                                /* Never: both fields empty. */
                                report_csv_field(f, i == 0,
                                                 v == REPORT_TIME_NEVER ? "" : time_text(v, buf));
                                if (v == REPORT_TIME_NEVER)
                                        fputc(',', f);
                                else
                                        fprintf(f, ",%" PRId64, v);
                                break;
                        }
                }
                fputs(eol, f);
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

static int json_row(json_object *obj, const ReportTable *t, size_t k)
{
        char buf[CELL_MAX], key[CELL_MAX + 8];
        int r;

        for (size_t i = 0; i < t->n_columns; i++) {
                const ReportColumn *c = &t->columns[i];
                const ReportCell *cell = cell_at(t, k, i);
                _cleanup_free_ char *alloc = NULL;
                const char *text;
                int64_t v = cell->value;

                switch (c->type) {
                case REPORT_COLUMN_TEXT:
                        r = text_valid(strempty(cell->text), &alloc, &text);
                        if (r >= 0)
                                r = json_add(obj, c->key, json_object_new_string(text), false);
                        break;
                case REPORT_COLUMN_INT:
                case REPORT_COLUMN_BYTES:
                        r = json_add(obj, c->key, json_object_new_int64(v), false);
                        break;
                case REPORT_COLUMN_TIME:
                        /* Never: both null. */
                        snprintf(key, sizeof(key), "%s_unix", c->key);
                        if (v == REPORT_TIME_NEVER)
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

static int output_json(FILE *f, const ReportTable *t)
{
        _cleanup_(json_object_putp) json_object *array = NULL;
        const char *s;
        int r;

        array = json_object_new_array();
        if (!array)
                return -ENOMEM;
        for (size_t k = 0; k < t->n_rows; k++) {
                json_object *obj = json_object_new_object();

                if (!obj)
                        return -ENOMEM;
                if (json_object_array_add(array, obj) < 0) {
                        json_object_put(obj);
                        return -ENOMEM;
                }
                r = json_row(obj, t, k);
                if (r < 0)
                        return r;
        }
        s = json_object_to_json_string_ext(
                array, JSON_C_TO_STRING_PRETTY |
                               (t->style.json_spaced ? JSON_C_TO_STRING_SPACED : 0) |
                               JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        fputs(s, f);
        fputc('\n', f);
        return 0;
}

int report_write(FILE *f, ReportFormat format, const ReportTable *t)
{
        _cleanup_free_ size_t *cols = NULL;
        size_t n_cols = 0;
        int r;

        /* The columns shown in a table and in CSV. */
        cols = calloc(t->n_columns ?: 1, sizeof(size_t));
        if (!cols)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_columns; i++)
                if (!t->columns[i].json_only)
                        cols[n_cols++] = i;

        switch (format) {
        case REPORT_FORMAT_TABLE:
                r = output_table(f, t, cols, n_cols);
                break;
        case REPORT_FORMAT_CSV:
                r = output_csv(f, t, cols, n_cols);
                break;
        case REPORT_FORMAT_JSON:
                r = output_json(f, t);
                break;
        default:
                r = -EINVAL;
        }
        if (r < 0)
                return r;
        return ferror(f) ? -EIO : 0;
}

/* ---- SVG charts ---- */

#define SVG_W 960
#define SVG_H 420
#define SVG_LEFT 78
#define SVG_RIGHT 36
#define SVG_TOP 56
#define SVG_BOTTOM 78
#define SVG_FONT 12
#define SVG_CHAR_W 7.2 /* width of a digit at SVG_FONT in a sans-serif face, generously */
#define SVG_BUCKETS_MAX 20000
#define SVG_Y_TICKS_MAX 6

static const char *const svg_colors[REPORT_CHART_SERIES_MAX] = {"#4e79a7", "#f28e2b"};

static void xml_text(FILE *f, const char *s)
{
        _cleanup_free_ char *alloc = NULL;

        /* Invisible characters are as misleading in a chart as on a terminal. */
        if (utf8_escape_invisible(s, &alloc) > 0)
                s = alloc;
        for (; *s; s++)
                switch (*s) {
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '&':
                        fputs("&amp;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                default:
                        fputc(*s, f);
                }
}

void report_axis_ticks(double max, double unit_div, unsigned max_ticks, double *ret_step,
                       double *ret_top)
{
        static const double mult[] = {1, 2, 5};
        double v = max / unit_div, p;

        if (!(v > 0)) {
                *ret_step = 1;
                *ret_top = max_ticks;
                return;
        }
        p = pow(10, floor(log10(v / max_ticks)));
        for (;; p *= 10)
                for (size_t i = 0; i < ELEMENTSOF(mult); i++) {
                        double step = mult[i] * p;
                        double n = ceil(v / step - 1e-9);

                        if (n <= max_ticks) {
                                *ret_step = step;
                                *ret_top = MAX(n, 1) * step;
                                return;
                        }
                }
}

typedef enum BucketKind {
        BUCKET_HOUR,
        BUCKET_DAY,
        BUCKET_MONTH,
} BucketKind;

static BucketKind bucket_kind(int64_t sec)
{
        if (sec > 0 && sec < 86400)
                return BUCKET_HOUR;
        if (sec > 0 && sec < 28 * 86400)
                return BUCKET_DAY;
        return BUCKET_MONTH;
}

static struct tm tm_of(const ReportChart *c, int64_t t)
{
        time_t tt = (time_t)t;
        struct tm tm = {};

        if (c->utc)
                gmtime_r(&tt, &tm);
        else
                localtime_r(&tt, &tm);
        return tm;
}

static int64_t tm_to_time(const ReportChart *c, struct tm *tm)
{
        tm->tm_isdst = -1;
        return c->utc ? (int64_t)timegm(tm) : (int64_t)mktime(tm);
}

/* The start of the bucket holding t, and the start of the next one. */
static int64_t bucket_start(const ReportChart *c, BucketKind k, int64_t t, int step)
{
        struct tm tm = tm_of(c, t);

        tm.tm_sec = tm.tm_min = 0;
        if (k != BUCKET_HOUR)
                tm.tm_hour = 0;
        if (k == BUCKET_MONTH)
                tm.tm_mday = 1;
        if (k == BUCKET_HOUR)
                tm.tm_hour += step;
        else if (k == BUCKET_DAY)
                tm.tm_mday += step;
        else
                tm.tm_mon += step;
        return tm_to_time(c, &tm);
}

/* Label spacing: every `step` buckets, at times where `aligned` says so. */
typedef struct LabelStep {
        BucketKind kind;
        int buckets;   /* at least this many buckets apart */
        int hour_mod;  /* hours: label when hour % hour_mod == 0 (0: any) */
        int mday_mod;  /* days: when (mday - 1) % mday_mod == 0 and mday_mod divides the month */
        bool monday;   /* days: Mondays */
        int month_mod; /* months: when month % month_mod == 0 */
} LabelStep;

static const LabelStep label_steps[] = {
        {BUCKET_HOUR, 1, 1, 0, false, 0},    {BUCKET_HOUR, 2, 2, 0, false, 0},
        {BUCKET_HOUR, 3, 3, 0, false, 0},    {BUCKET_HOUR, 6, 6, 0, false, 0},
        {BUCKET_HOUR, 12, 12, 0, false, 0},  {BUCKET_HOUR, 24, 24, 0, false, 0},
        {BUCKET_HOUR, 168, 24, 0, true, 0},  {BUCKET_HOUR, 744, 24, -1, false, 0},
        {BUCKET_DAY, 1, 0, 1, false, 0},     {BUCKET_DAY, 2, 0, 2, false, 0},
        {BUCKET_DAY, 7, 0, 0, true, 0},      {BUCKET_DAY, 31, 0, -1, false, 0},
        {BUCKET_DAY, 92, 0, -1, false, 3},   {BUCKET_DAY, 366, 0, -1, false, 12},
        {BUCKET_MONTH, 1, 0, 0, false, 1},   {BUCKET_MONTH, 2, 0, 0, false, 2},
        {BUCKET_MONTH, 3, 0, 0, false, 3},   {BUCKET_MONTH, 6, 0, 0, false, 6},
        {BUCKET_MONTH, 12, 0, 0, false, 12}, {BUCKET_MONTH, 24, 0, 0, false, 24},
        {BUCKET_MONTH, 60, 0, 0, false, 60},
};

static bool label_here(const LabelStep *s, const struct tm *tm)
{
        switch (s->kind) {
        case BUCKET_HOUR:
                if (tm->tm_hour % s->hour_mod != 0)
                        return false;
                if (s->monday)
                        return tm->tm_wday == 1;
                if (s->mday_mod < 0)
                        return tm->tm_mday == 1;
                return true;
        case BUCKET_DAY:
                if (s->monday)
                        return tm->tm_wday == 1;
                if (s->mday_mod < 0)
                        return tm->tm_mday == 1 &&
                               (s->month_mod == 0 || tm->tm_mon % s->month_mod == 0);
                /* Every other day: the odd days, so that the 1st is always labelled. */
                return (tm->tm_mday - 1) % s->mday_mod == 0 && tm->tm_mday <= 29;
        case BUCKET_MONTH:
                return (tm->tm_year * 12 + tm->tm_mon) % s->month_mod == 0;
        }
        return false;
}

typedef enum LabelForm {
        LABEL_HOUR,  /* "13:00", the day below where it changes */
        LABEL_DAY,   /* "14", the month and year below where they change */
        LABEL_MONTH, /* "Mar", the year below where it changes */
        LABEL_YEAR,  /* "2024" */
} LabelForm;

static LabelForm label_form(const LabelStep *s)
{
        switch (s->kind) {
        case BUCKET_HOUR:
                return s->hour_mod < 24 ? LABEL_HOUR : s->mday_mod < 0 ? LABEL_MONTH : LABEL_DAY;
        case BUCKET_DAY:
                return s->mday_mod < 0 ? (s->month_mod >= 12 ? LABEL_YEAR : LABEL_MONTH)
                                       : LABEL_DAY;
        case BUCKET_MONTH:
                return s->month_mod >= 12 ? LABEL_YEAR : LABEL_MONTH;
        }
        return LABEL_DAY;
}

/* The two lines of a time label: the finer unit, and the coarser one where it changes. */
static void label_text(LabelForm form, const struct tm *tm, const struct tm *prev, bool first,
                       char *l1, size_t s1, char *l2, size_t s2)
{
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

        *l2 = '\0';
        switch (form) {
        case LABEL_HOUR:
                snprintf(l1, s1, "%02d:00", tm->tm_hour);
                if (first || tm->tm_yday != prev->tm_yday || tm->tm_year != prev->tm_year)
                        snprintf(l2, s2, "%s %d", months[tm->tm_mon], tm->tm_mday);
                break;
        case LABEL_DAY:
                snprintf(l1, s1, "%d", tm->tm_mday);
                if (first || tm->tm_mon != prev->tm_mon || tm->tm_year != prev->tm_year)
                        snprintf(l2, s2, "%s %d", months[tm->tm_mon], tm->tm_year + 1900);
                break;
        case LABEL_MONTH:
                snprintf(l1, s1, "%s", months[tm->tm_mon]);
                if (first || tm->tm_year != prev->tm_year)
                        snprintf(l2, s2, "%d", tm->tm_year + 1900);
                break;
        case LABEL_YEAR:
                snprintf(l1, s1, "%d", tm->tm_year + 1900);
                break;
        }
}

static double label_width(const LabelStep *s)
{
        /* The widest first line plus a gap: "23:00", "31", "Sep", "2024". */
        static const int chars[] = {
                [LABEL_HOUR] = 5, [LABEL_DAY] = 2, [LABEL_MONTH] = 3, [LABEL_YEAR] = 4};

        return chars[label_form(s)] * SVG_CHAR_W + 14;
}

/* Units of the y axis: bytes in powers of 1024, bit/s in powers of 1000. */
static double y_unit(const ReportChart *c, double max, const char **ret_name)
{
        static const char *const bytes[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        static const char *const bits[] = {"bit/s",  "kbit/s", "Mbit/s",
                                           "Gbit/s", "Tbit/s", "Pbit/s"};
        double base = c->bits_per_second ? 1000 : 1024, div = 1;
        size_t u = 0;

        while (max >= base * div && u + 1 < ELEMENTSOF(bytes)) {
                div *= base;
                u++;
        }
        *ret_name = c->bits_per_second ? bits[u] : bytes[u];
        return div;
}

static void tick_text(double v, double step, char *buf, size_t size)
{
        int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);

        snprintf(buf, size, "%.*f", decimals, v);
}

int report_chart_svg(FILE *f, const ReportChart *c)
{
        const double pw = SVG_W - SVG_LEFT - SVG_RIGHT, ph = SVG_H - SVG_TOP - SVG_BOTTOM;
        const BucketKind kind = bucket_kind(c->bucket_sec);
        static const char *const per[] = {"hour", "day", "month"};
        _cleanup_free_ int64_t *starts = NULL;
        _cleanup_free_ double *height = NULL;
        size_t n_buckets = 0, n_series = MIN(MAX(c->n_series, 1), REPORT_CHART_SERIES_MAX);
        double max = 0, div, step, top, bw;
        const LabelStep *ls = NULL;
        const char *unit;
        char buf[64], zone[16] = "";

        /* The buckets from the first point to the last, gaps included. */
        if (c->n_points > 0) {
                int64_t t = bucket_start(c, kind, c->points[0].time, 0);
                int64_t end = bucket_start(c, kind, c->points[c->n_points - 1].time, 1);

                starts = malloc(sizeof(int64_t) * (SVG_BUCKETS_MAX + 1));
                if (!starts)
                        return -ENOMEM;
                while (t < end && n_buckets < SVG_BUCKETS_MAX) {
                        starts[n_buckets++] = t;
                        t = bucket_start(c, kind, t, 1);
                }
                starts[n_buckets] = t;
        }
        /* Each point's values as bytes or bit/s, stacked. */
        height = calloc((c->n_points ?: 1) * n_series, sizeof(double));
        if (!height)
                return -ENOMEM;
        for (size_t i = 0, j = 0; i < c->n_points; i++) {
                double sum = 0;

                while (j + 1 < n_buckets && starts[j + 1] <= c->points[i].time)
                        j++;
                for (size_t s = 0; s < n_series; s++) {
                        double v = (double)c->points[i].values[s];

                        if (c->bits_per_second) {
                                double len = n_buckets ? (double)(starts[j + 1] - starts[j])
                                                       : (double)c->bucket_sec;

                                v = v * 8 / (len > 0 ? len : 1);
                        }
                        height[i * n_series + s] = v;
                        sum += v;
                }
                max = MAX(max, sum);
        }
        div = y_unit(c, max, &unit);
        report_axis_ticks(max, div, SVG_Y_TICKS_MAX, &step, &top);
        bw = n_buckets ? pw / (double)n_buckets : pw;
        for (size_t i = 0; i < ELEMENTSOF(label_steps); i++)
                if (label_steps[i].kind == kind &&
                    label_steps[i].buckets * bw >= label_width(&label_steps[i])) {
                        ls = &label_steps[i];
                        break;
                }
        {
                struct tm tm = tm_of(c, c->n_points > 0 ? c->points[0].time : (int64_t)time(NULL));

                if (c->utc)
                        snprintf(zone, sizeof(zone), "UTC");
                else
                        strftime(zone, sizeof(zone), "%Z", &tm);
        }

        fprintf(f,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Verdana, sans-serif\" "
                "font-size=\"%d\">\n",
                SVG_W, SVG_H, SVG_W, SVG_H, SVG_FONT);
        fputs("<title>", f);
        xml_text(f, c->title);
        fputs("</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", f);
        fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">", SVG_LEFT);
        xml_text(f, c->title);
        fputs("</text>\n", f);

        /* Y axis: gridlines at round values, the unit in the axis title. */
        for (double v = 0; v <= top + step / 2; v += step) {
                double y = SVG_TOP + ph - ph * v / top;

                tick_text(v, step, buf, sizeof(buf));
                fprintf(f,
                        "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>\n"
                        "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                        SVG_LEFT, y, SVG_W - SVG_RIGHT, y, v == 0 ? "black" : "#ddd", SVG_LEFT - 6,
                        y + 4, buf);
        }
        fprintf(f, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">",
                SVG_TOP + ph / 2);
        if (c->bits_per_second)
                fprintf(f, "%s (average over each %s)</text>\n", unit, per[kind]);
        else
                fprintf(f, "%s per %s</text>\n", unit, per[kind]);

        /* Bars: the series stacked, each with a tooltip. */
        for (size_t i = 0, j = 0; i < c->n_points; i++) {
                double base = 0, x, w;

                while (j + 1 < n_buckets && starts[j + 1] <= c->points[i].time)
                        j++;
                x = SVG_LEFT + bw * (double)j + (bw > 4 ? 1 : 0);
                w = bw > 4 ? bw - 2 : bw;
                for (size_t s = 0; s < n_series; s++) {
                        double v = height[i * n_series + s], h = ph * v / div / top;
                        char t[REPORT_TIME_LEN + 1];

                        fprintf(f,
                                "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                                "fill=\"%s\"><title>",
                                x, SVG_TOP + ph - base - h, w, h, svg_colors[s]);
                        if (report_time_format(n_buckets ? starts[j] : c->points[i].time, t) >= 0)
                                fputs(t, f);
                        if (c->series[s]) {
                                fputc(' ', f);
                                xml_text(f, c->series[s]);
                        }
                        if (c->bits_per_second)
                                fprintf(f, ": %.0f bit/s</title></rect>\n", v);
                        else
                                fprintf(f, ": %s</title></rect>\n",
                                        report_format_bytes(c->points[i].values[s], buf,
                                                            sizeof(buf)));
                        base += h;
                }
        }
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", SVG_LEFT,
                SVG_TOP, SVG_LEFT, SVG_TOP + (int)ph);

        /* X axis: labels at round times, centred under their bucket, never beyond the image. */
        if (ls) {
                struct tm prev = {};
                bool first = true;
                double last_x = -1e9;

                for (size_t j = 0; j < n_buckets; j++) {
                        struct tm tm = tm_of(c, starts[j]);
                        char l1[16], l2[24];
                        double x = SVG_LEFT + bw * ((double)j + 0.5), half, lx;

                        if (!label_here(ls, &tm) || x - last_x < label_width(ls))
                                continue;
                        label_text(label_form(ls), &tm, &prev, first, l1, sizeof(l1), l2,
                                   sizeof(l2));
                        fprintf(f,
                                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
                                "stroke=\"black\"/>\n",
                                x, SVG_TOP + (int)ph, x, SVG_TOP + (int)ph + 4);
                        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                                x, SVG_TOP + (int)ph + 17, l1);
                        if (*l2) {
                                half = strlen(l2) * SVG_CHAR_W / 2;
                                lx = MIN(MAX(x, half + 2), SVG_W - half - 2);
                                fprintf(f,
                                        "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
                                        "font-weight=\"bold\">%s</text>\n",
                                        lx, SVG_TOP + (int)ph + 32, l2);
                        }
                        prev = tm;
                        first = false;
                        last_x = x;
                }
        }
        fprintf(f,
                "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">time (%s), one bar per %s"
                "</text>\n",
                SVG_LEFT + pw / 2, SVG_H - 12, zone, per[kind]);

        /* Legend, below the title line. */
        for (size_t s = 0; s < n_series && n_series > 1; s++) {
                int lx = SVG_W - SVG_RIGHT - 150 + (int)s * 80;

                fprintf(f,
                        "<rect x=\"%d\" y=\"34\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                        "<text x=\"%d\" y=\"44\">",
                        lx, svg_colors[s], lx + 16);
                xml_text(f, strempty(c->series[s]));
                fputs("</text>\n", f);
        }
        if (c->n_points == 0)
                fprintf(f,
                        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no traffic in this "
                        "period</text>\n",
                        SVG_LEFT + (int)pw / 2, SVG_TOP + (int)ph / 2);
        fputs("</svg>\n", f);
        return ferror(f) ? -EIO : 0;
}
