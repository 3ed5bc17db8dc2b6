/* tracker-report-output.h - tracker-report's rows as an aligned table, CSV or JSON. */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "report.h"

#include "tracker-report-query.h"

/* Write the rows of a report of kind to f (REPORT_FORMAT_TABLE, _CSV or _JSON) with lib/report's
 * writers and escaping (see report_write()). */
int report_output(FILE *f, ReportFormat format, ReportKind kind, const ReportRows *rows);
