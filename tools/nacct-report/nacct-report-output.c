/* nacct-report-output.c - one column layout per kind, written by lib/report: the table, CSV
 * and JSON writers and the SVG chart that tracker-report uses too. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "report.h"

#include "nacct-report-output.h"

typedef enum ColType {
        COL_NAME,  /* row->name */
        COL_PROTO, /* protocol name of row->proto */
        COL_BYTES, /* an int64 field, human-readable in tables */
        COL_COUNT, /* an int64 field */
        COL_START, /* row->time, in JSON only */
} ColType;

typedef struct Col {
        const char *key;
        ColType type;
        size_t offset;
} Col;

#define COLS_MAX 10

/* clang-format off */
#define NAME(k) {k, COL_NAME, 0}
#define BYTES(k, f) {k, COL_BYTES, offsetof(NrRow, f)}
#define COUNT(k, f) {k, COL_COUNT, offsetof(NrRow, f)}
#define START {"start", COL_START, offsetof(NrRow, time)}
#define DIRECTION                                                                                  \
        BYTES("bytes", bytes), BYTES("bytes_in", bytes_in), BYTES("bytes_out", bytes_out),         \
                COUNT("packets_in", packets_in), COUNT("packets_out", packets_out)
#define TOTAL BYTES("bytes", bytes), COUNT("packets", packets)

static const Col layouts[_NR_KIND_MAX][COLS_MAX] = {
        [NR_HOSTS] = {NAME("host"), DIRECTION},
        [NR_USERS] = {NAME("user"), DIRECTION},
        [NR_INTERFACES] = {NAME("interface"), DIRECTION},
        [NR_PROTOCOLS] = {{"protocol", COL_PROTO, 0}, COUNT("proto", proto), DIRECTION},
        [NR_PORTS] = {{"protocol", COL_PROTO, 0}, COUNT("port", port), DIRECTION},
        [NR_DAILY] = {NAME("day"), TOTAL, START},
        [NR_MONTHLY] = {NAME("month"), TOTAL, START},
        [NR_TIMELINE] = {NAME("time"), TOTAL, START},
        [NR_HOST] = {NAME("time"), DIRECTION, START},
        [NR_USER] = {NAME("time"), DIRECTION, START},
};
/* clang-format on */

const char *nr_protocol_name(int64_t proto)
{
        static const struct {
                int64_t n;
                const char *name;
        } known[] = {{1, "icmp"},  {2, "igmp"},  {6, "tcp"},    {17, "udp"},   {33, "dccp"},
                     {41, "ipv6"}, {47, "gre"},  {50, "esp"},   {51, "ah"},    {58, "ipv6-icmp"},
                     {89, "ospf"}, {103, "pim"}, {112, "vrrp"}, {132, "sctp"}, {136, "udplite"}};

        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (known[i].n == proto)
                        return known[i].name;
        return NULL;
}

const char *nr_format_bytes(int64_t v, char *buf, size_t size)
{
        return report_format_bytes(v, buf, size);
}

static int64_t field(const Col *c, const NrRow *r)
{
        return *(const int64_t *)((const char *)r + c->offset);
}

static int output_rows(FILE *f, ReportFormat format, NrKind kind, const NrRows *rows)
{
        _cleanup_free_ ReportCell *cells = NULL;
        _cleanup_free_ char *protos = NULL; /* numbers of unnamed protocols, CELL each */
        ReportColumn columns[COLS_MAX];
        const Col *cols = layouts[kind];
        size_t n = 0;
        enum { CELL = 24 };

        while (n < COLS_MAX && cols[n].key) {
                columns[n] = (ReportColumn){
                        .key = cols[n].key,
                        .type = cols[n].type == COL_NAME || cols[n].type == COL_PROTO
                                        ? REPORT_COLUMN_TEXT
                                : cols[n].type == COL_BYTES ? REPORT_COLUMN_BYTES
                                                            : REPORT_COLUMN_INT,
                        .json_only = cols[n].type == COL_START,
                };
                n++;
        }
        cells = calloc((rows->n * n) ?: 1, sizeof(ReportCell));
        protos = calloc(rows->n ?: 1, CELL);
        if (!cells || !protos)
                return -ENOMEM;
        for (size_t k = 0; k < rows->n; k++) {
                const NrRow *r = &rows->rows[k];

                for (size_t c = 0; c < n; c++) {
                        ReportCell *cell = &cells[k * n + c];

                        switch (cols[c].type) {
                        case COL_NAME:
                                cell->text = r->name;
                                break;
                        case COL_PROTO:
                                cell->text = nr_protocol_name(r->proto);
                                if (!cell->text) {
                                        snprintf(protos + k * CELL, CELL, "%" PRId64, r->proto);
                                        cell->text = protos + k * CELL;
                                }
                                break;
                        default:
                                cell->value = field(&cols[c], r);
                        }
                }
        }
        return report_write(f, format,
                            &(ReportTable){
                                    .columns = columns,
                                    .n_columns = n,
                                    .cells = cells,
                                    .n_rows = rows->n,
                                    /* As nacct-report always wrote them. */
                                    .style = {.csv_crlf = true, .table_header_left = true},
                            });
}

static int output_svg(FILE *f, NrKind kind, const NrRows *rows, const NrChart *chart)
{
        _cleanup_free_ ReportChartPoint *points = NULL;
        bool dir = nr_kind_has_direction(kind);
        NrBucket by = kind == NR_DAILY ? NR_BY_DAY : kind == NR_MONTHLY ? NR_BY_MONTH : chart->by;

        if (!nr_kind_is_series(kind))
                return -EOPNOTSUPP;
        points = calloc(rows->n ?: 1, sizeof(ReportChartPoint));
        if (!points)
                return -ENOMEM;
        for (size_t i = 0; i < rows->n; i++) {
                const NrRow *r = &rows->rows[i];

                points[i].time = r->time;
                points[i].values[0] = dir ? r->bytes_in : r->bytes;
                points[i].values[1] = dir ? r->bytes_out : 0;
        }
        return report_chart_svg(f, &(ReportChart){
                                           .title = chart->title ?: "traffic",
                                           .series = {dir ? "in" : "traffic", dir ? "out" : NULL},
                                           .n_series = dir ? 2 : 1,
                                           .bucket_sec = by == NR_BY_HOUR  ? 3600
                                                         : by == NR_BY_DAY ? 86400
                                                                           : 0,
                                           .bits_per_second = chart->bits_per_second,
                                           .points = points,
                                           .n_points = rows->n,
                                   });
}

int nr_output(FILE *f, NrFormat format, NrKind kind, const NrRows *rows, const NrChart *chart)
{
        switch (format) {
        case NR_FORMAT_TABLE:
                return output_rows(f, REPORT_FORMAT_TABLE, kind, rows);
        case NR_FORMAT_CSV:
                return output_rows(f, REPORT_FORMAT_CSV, kind, rows);
        case NR_FORMAT_JSON:
                return output_rows(f, REPORT_FORMAT_JSON, kind, rows);
        case NR_FORMAT_SVG:
                return output_svg(f, kind, rows, chart);
        }
        return -EINVAL;
}
