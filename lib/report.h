/* report.h - the report writers of the bundle's tools: rows of typed columns as an aligned
 * table, CSV or JSON, and time series as an SVG chart. Text from outside is escaped for each
 * format by one rule (see report_write()). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum ReportFormat {
        REPORT_FORMAT_TABLE,
        REPORT_FORMAT_CSV,
        REPORT_FORMAT_JSON,
        REPORT_FORMAT_SVG,
} ReportFormat;

#define REPORT_TIME_LEN 19          /* "YYYY-MM-DD HH:MM:SS" */
#define REPORT_TIME_NEVER INT64_MIN /* a time that did not happen */

/* t (unix seconds) as local time "YYYY-MM-DD HH:MM:SS". */
int report_time_format(int64_t t, char ret[static REPORT_TIME_LEN + 1]);

/* 1536 -> "1.5 KiB". */
const char *report_format_bytes(int64_t v, char *buf, size_t size);

typedef enum ReportColumnType {
        REPORT_COLUMN_TEXT,  /* ReportCell.text, possibly from the network */
        REPORT_COLUMN_INT,   /* ReportCell.value */
        REPORT_COLUMN_BYTES, /* ReportCell.value; human-readable in the table */
        REPORT_COLUMN_TIME,  /* ReportCell.value, unix seconds or REPORT_TIME_NEVER; in CSV and
                              * JSON a second field KEY_unix */
} ReportColumnType;

typedef struct ReportColumn {
        const char *key; /* JSON key and CSV header; upper case in the table header */
        ReportColumnType type;
        bool json_only;
} ReportColumn;

typedef struct ReportCell {
        const char *text; /* REPORT_COLUMN_TEXT; NULL is "" */
        int64_t value;
} ReportCell;

/* What differs between the tools' formats (kept as their users know them). */
typedef struct ReportStyle {
        bool csv_crlf;          /* CSV lines end in CR LF (RFC 4180), else LF */
        bool json_spaced;       /* "key": value */
        bool table_header_left; /* headers of number columns left-aligned like the others */
} ReportStyle;

typedef struct ReportTable {
        const ReportColumn *columns;
        size_t n_columns;
        const ReportCell *cells; /* n_rows * n_columns, row by row */
        size_t n_rows;
        ReportStyle style;
} ReportTable;

/* Write t as a table, CSV or JSON. Text cells:
 * - table: text that is not visible as itself (invalid UTF-8, control characters, invisible,
 *   bidi embedding/override/isolate and line/paragraph separator characters) is written with
 *   each such byte, and each backslash, as \xNN (utf8_escape_invisible());
 * - CSV (RFC 4180): quoted when it holds a comma, quote or line break; a cell that starts
 *   with =, +, -, @, TAB or CR gets a leading ' so that no spreadsheet runs it as a formula;
 *   invalid UTF-8 is escaped as \xNN;
 * - JSON: a string (json-c escapes controls); invalid UTF-8 is escaped as \xNN. */
int report_write(FILE *f, ReportFormat format, const ReportTable *t);

/* A CSV cell as report_write() writes it, with a separating comma unless first. */
void report_csv_field(FILE *f, bool first, const char *s);

/* ---- SVG charts of time series ---- */

#define REPORT_CHART_SERIES_MAX 2

typedef struct ReportChartPoint {
        int64_t time;                            /* start of the bucket, unix seconds */
        int64_t values[REPORT_CHART_SERIES_MAX]; /* bytes in the bucket, per series */
} ReportChartPoint;

typedef struct ReportChart {
        const char *title;
        const char *series[REPORT_CHART_SERIES_MAX]; /* names for the legend; NULL: unused */
        size_t n_series;                             /* 1 or 2, stacked */
        int64_t bucket_sec;                          /* length of a bucket */
        bool bits_per_second;                        /* bytes / bucket_sec * 8, in bit/s */
        bool utc;                                    /* time labels in UTC, else local time */
        const ReportChartPoint *points;              /* ascending time */
        size_t n_points;
} ReportChart;

/* An SVG bar chart: one bar per bucket (the series stacked), a y axis with round ticks (1, 2,
 * 5 times a power of ten in the unit shown: B/KB/MB... or bit/s, kbit/s...), time labels at
 * round times that neither repeat nor overlap, axis titles. */
int report_chart_svg(FILE *f, const ReportChart *c);

/* The y axis: a step of 1, 2 or 5 times a power of 10 (in units of unit_div) with at most
 * max_ticks steps up to a top >= max. For tests. */
void report_axis_ticks(double max, double unit_div, unsigned max_ticks, double *ret_step,
                       double *ret_top);
