/* nacct-report-query.c - prepared statements over nacct.db's bins; days and months are local
 * time, a bin counts for the day its start falls on. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

#include "nacct-report-query.h"

static const char *const kind_names[_NR_KIND_MAX] = {
        [NR_HOSTS] = "hosts",         [NR_USERS] = "users",           [NR_PORTS] = "ports",
        [NR_PROTOCOLS] = "protocols", [NR_INTERFACES] = "interfaces", [NR_DAILY] = "daily",
        [NR_MONTHLY] = "monthly",     [NR_TIMELINE] = "timeline",     [NR_HOST] = "host",
        [NR_USER] = "user",
};

const char *nr_kind_to_string(NrKind k)
{
        return (unsigned)k < _NR_KIND_MAX ? kind_names[k] : NULL;
}

int nr_kind_from_string(const char *s)
{
        for (int k = 0; k < _NR_KIND_MAX; k++)
                if (streq(s, kind_names[k]))
                        return k;
        return -EINVAL;
}

int nr_bucket_from_string(const char *s)
{
        if (streq(s, "hour"))
                return NR_BY_HOUR;
        if (streq(s, "day"))
                return NR_BY_DAY;
        if (streq(s, "month"))
                return NR_BY_MONTH;
        return -EINVAL;
}

bool nr_kind_is_series(NrKind k)
{
        return k == NR_DAILY || k == NR_MONTHLY || k == NR_TIMELINE || k == NR_HOST || k == NR_USER;
}

bool nr_kind_has_direction(NrKind k)
{
        return k != NR_DAILY && k != NR_MONTHLY && k != NR_TIMELINE;
}

void nr_rows_done(NrRows *rows)
{
        for (size_t i = 0; i < rows->n; i++)
                free(rows->rows[i].name);
        free(rows->rows);
        *rows = (NrRows){};
}

static NrRow *rows_add(NrRows *rows)
{
        if (rows->n == rows->allocated) {
                size_t na = rows->allocated ? rows->allocated * 2 : 32;
                NrRow *r = realloc(rows->rows, sizeof(NrRow) * na);

                if (!r)
                        return NULL;
                rows->rows = r;
                rows->allocated = na;
        }
        memset(&rows->rows[rows->n], 0, sizeof(NrRow));
        return &rows->rows[rows->n++];
}

int nr_parse_date(const char *s, int64_t *ret)
{
        struct tm tm = {};
        char *end;
        time_t t;

        if (!s || strlen(s) != 10)
                return -EINVAL;
        end = strptime(s, "%Y-%m-%d", &tm);
        if (!end || *end)
                return -EINVAL;
        {
                int y = tm.tm_year, m = tm.tm_mon, d = tm.tm_mday;

                tm.tm_isdst = -1;
                t = mktime(&tm);
                /* mktime() normalises 2025-02-30 to March: not a date. */
                if (t == (time_t)-1 || tm.tm_year != y || tm.tm_mon != m || tm.tm_mday != d)
                        return -EINVAL;
        }
        *ret = (int64_t)t;
        return 0;
}

int nr_normalize_host(const char *s, char *buf, size_t size)
{
        unsigned char b[16];

        if (inet_pton(AF_INET, s, b) == 1)
                return inet_ntop(AF_INET, b, buf, (socklen_t)size) ? 0 : -ENAMETOOLONG;
        if (inet_pton(AF_INET6, s, b) == 1)
                return inet_ntop(AF_INET6, b, buf, (socklen_t)size) ? 0 : -ENAMETOOLONG;
        return -EINVAL;
}

int64_t nr_bin_seconds(sqlite3 *db)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE key = 'bin_seconds'", -1, &st,
                               NULL) != SQLITE_OK)
                return 0;
        if (sqlite3_step(st) != SQLITE_ROW)
                return 0;
        return sqlite3_column_int64(st, 0);
}

static const char *bucket_format(NrBucket by)
{
        switch (by) {
        case NR_BY_HOUR:
                return "%Y-%m-%d %H:00";
        case NR_BY_MONTH:
                return "%Y-%m";
        default:
                return "%Y-%m-%d";
        }
}

#define DIR_SUMS "sum(bytes_in), sum(bytes_out), sum(packets_in), sum(packets_out)"
#define PERIOD "bin >= ?1 AND bin < ?2"

static int build_sql(NrKind kind, const NrFilter *f, char *sql, size_t size)
{
        const char *table = NULL, *key = NULL;
        const char *fmt = bucket_format(f->by);
        int n;

        switch (kind) {
        case NR_HOSTS:
                table = "hosts", key = "host";
                break;
        case NR_USERS:
                table = "users", key = "user";
                break;
        case NR_INTERFACES:
                table = "interfaces", key = "interface";
                break;
        case NR_PROTOCOLS:
                table = "protocols", key = "proto";
                break;
        case NR_PORTS:
                table = "ports", key = "proto, port";
                break;
        case NR_DAILY:
                n = snprintf(sql, size,
                             "SELECT strftime('%%Y-%%m-%%d', bin, 'unixepoch', 'localtime') AS t, "
                             "min(bin), sum(bytes), sum(packets) FROM totals WHERE " PERIOD
                             " GROUP BY t ORDER BY t");
                return n < 0 || (size_t)n >= size ? -E2BIG : 0;
        case NR_MONTHLY:
                n = snprintf(sql, size,
                             "SELECT strftime('%%Y-%%m', bin, 'unixepoch', 'localtime') AS t, "
                             "min(bin), sum(bytes), sum(packets) FROM totals WHERE " PERIOD
                             " GROUP BY t ORDER BY t");
                return n < 0 || (size_t)n >= size ? -E2BIG : 0;
        case NR_TIMELINE:
                n = snprintf(sql, size,
                             "SELECT strftime('%s', bin, 'unixepoch', 'localtime') AS t, "
                             "min(bin), sum(bytes), sum(packets) FROM totals WHERE " PERIOD
                             " GROUP BY t ORDER BY t",
                             fmt);
                return n < 0 || (size_t)n >= size ? -E2BIG : 0;
        case NR_HOST:
        case NR_USER:
                n = snprintf(sql, size,
                             "SELECT strftime('%s', bin, 'unixepoch', 'localtime') AS t, "
                             "min(bin), " DIR_SUMS " FROM %s WHERE %s = ?3 AND " PERIOD
                             " GROUP BY t ORDER BY t",
                             fmt, kind == NR_HOST ? "hosts" : "users",
                             kind == NR_HOST ? "host" : "user");
                return n < 0 || (size_t)n >= size ? -E2BIG : 0;
        default:
                return -EINVAL;
        }
        /* The top-N kinds: the key columns, the sums, biggest first, ties by key. */
        n = snprintf(sql, size,
                     "SELECT %s, " DIR_SUMS " FROM %s WHERE " PERIOD " GROUP BY %s "
                     "ORDER BY sum(bytes_in) + sum(bytes_out) DESC, %s LIMIT ?4",
                     key, table, key, key);
        return n < 0 || (size_t)n >= size ? -E2BIG : 0;
}

static int dup_text(sqlite3_stmt *st, int col, char **ret)
{
        const unsigned char *t = sqlite3_column_text(st, col);

        *ret = strdup(t ? (const char *)t : "");
        return *ret ? 0 : -ENOMEM;
}

int nr_query(sqlite3 *db, NrKind kind, const NrFilter *f, NrRows *ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_nr_rows_ NrRows rows = {};
        char sql[1024];
        int rc, r;

        r = build_sql(kind, f, sql, sizeof(sql));
        if (r < 0)
                return r;
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return state_errno(rc);
        sqlite3_bind_int64(st, 1, f->since);
        sqlite3_bind_int64(st, 2, f->until);
        if (kind == NR_HOST || kind == NR_USER)
                sqlite3_bind_text(st, 3, f->subject ?: "", -1, SQLITE_STATIC);
        else
                sqlite3_bind_int64(st, 4, f->top > 0 ? f->top : -1);

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                NrRow *row = rows_add(&rows);
                int c = 0;

                if (!row)
                        return -ENOMEM;
                switch (kind) {
                case NR_PORTS:
                        row->proto = sqlite3_column_int64(st, c++);
                        row->port = sqlite3_column_int64(st, c++);
                        break;
                case NR_PROTOCOLS:
                        row->proto = sqlite3_column_int64(st, c++);
                        break;
                case NR_HOSTS:
                case NR_USERS:
                case NR_INTERFACES:
                        r = dup_text(st, c++, &row->name);
                        if (r < 0)
                                return r;
                        break;
                default: /* series: label, bucket start */
                        r = dup_text(st, c++, &row->name);
                        if (r < 0)
                                return r;
                        row->time = sqlite3_column_int64(st, c++);
                        break;
                }
                if (nr_kind_has_direction(kind)) {
                        row->bytes_in = sqlite3_column_int64(st, c++);
                        row->bytes_out = sqlite3_column_int64(st, c++);
                        row->packets_in = sqlite3_column_int64(st, c++);
                        row->packets_out = sqlite3_column_int64(st, c++);
                        row->bytes = row->bytes_in + row->bytes_out;
                        row->packets = row->packets_in + row->packets_out;
                } else {
                        row->bytes = sqlite3_column_int64(st, c++);
                        row->packets = sqlite3_column_int64(st, c++);
                }
        }
        if (rc != SQLITE_DONE)
                return state_errno(rc) ?: -EIO;
        *ret = rows;
        rows = (NrRows){};
        return 0;
}
