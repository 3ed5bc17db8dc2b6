/* tracker-report-output.h - tracker-report's rows as an aligned table, CSV or JSON. */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "tracker-report-query.h"

typedef enum ReportFormat {
        REPORT_FORMAT_TABLE,
        REPORT_FORMAT_CSV,
        REPORT_FORMAT_JSON,
} ReportFormat;

#define REPORT_TIME_LEN 19 /* "YYYY-MM-DD HH:MM:SS" */

/* t (unix seconds) as local time "YYYY-MM-DD HH:MM:SS". */
int report_time_format(int64_t t, char ret[static REPORT_TIME_LEN + 1]);

/* Write the rows of a report of kind to f. Names are written so that they can never break the
 * format: CSV-quoted, JSON-escaped, and in the table escaped if not printable UTF-8. */
int report_output(FILE *f, ReportFormat format, ReportKind kind, const ReportRows *rows);
