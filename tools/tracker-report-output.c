/* tracker-report-output.c - one column layout per report, written by lib/report as table, CSV
 * or JSON (the writers nacct-report uses too). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "macro.h"
#include "report.h"

#include "tracker-report-output.h"

#define COLUMNS_MAX 6

typedef struct Column {
        const char *key;
        ReportColumnType type;
        size_t offset; /* of the int64_t field in ReportRow; the name for text */
} Column;

/* clang-format off */
#define NAME(k) {k, REPORT_COLUMN_TEXT, 0}
#define COUNT(k, field) {k, REPORT_COLUMN_INT, offsetof(ReportRow, field)}
#define TIME(k, field) {k, REPORT_COLUMN_TIME, offsetof(ReportRow, field)}
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

int report_output(FILE *f, ReportFormat format, ReportKind kind, const ReportRows *rows)
{
        _cleanup_free_ ReportCell *cells = NULL;
        ReportColumn columns[COLUMNS_MAX];
        const Column *cols;
        size_t n = 0;

        if (kind < 0 || kind >= _REPORT_KIND_MAX || format == REPORT_FORMAT_SVG)
                return -EINVAL;
        cols = layouts[kind];
        while (n < COLUMNS_MAX && cols[n].key) {
                columns[n] = (ReportColumn){.key = cols[n].key, .type = cols[n].type};
                n++;
        }
        cells = calloc((rows->n * n) ?: 1, sizeof(ReportCell));
        if (!cells)
                return -ENOMEM;
        for (size_t k = 0; k < rows->n; k++)
                for (size_t i = 0; i < n; i++) {
                        const ReportRow *row = &rows->rows[k];

                        if (cols[i].type == REPORT_COLUMN_TEXT)
                                cells[k * n + i].text = row->name;
                        else
                                cells[k * n + i].value =
                                        *(const int64_t *)((const char *)row + cols[i].offset);
                }
        return report_write(f, format,
                            &(ReportTable){
                                    .columns = columns,
                                    .n_columns = n,
                                    .cells = cells,
                                    .n_rows = rows->n,
                                    /* As tracker-report always wrote them. */
                                    .style = {.json_spaced = true},
                            });
}
