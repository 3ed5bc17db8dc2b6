/* tracker-report-query.c - the SQL behind tracker-report. Everything is answered from the daily
 * table, which is kept for ever, so reports reach back beyond the retention of raw uses. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "state.h"
#include "tracker-proto.h"
#include "utf8.h"

#include "tracker-report-query.h"

/* Bounds every YYYY-MM-DD sorts between, for a range open at one end. */
#define DAY_MIN "0000-00-00"
#define DAY_MAX "9999-99-99"

static const char *const kind_names[_REPORT_KIND_MAX] = {
        [REPORT_PROGRAMS] = "programs", [REPORT_USERS] = "users",     [REPORT_DAILY] = "daily",
        [REPORT_UNUSED] = "unused",     [REPORT_REJECTS] = "rejects",
};

const char *report_kind_to_string(ReportKind k)
{
        return k >= 0 && k < _REPORT_KIND_MAX ? kind_names[k] : NULL;
}

int report_kind_from_string(const char *s)
{
        for (int k = 0; k < _REPORT_KIND_MAX; k++)
                if (streq_ptr(s, kind_names[k]))
                        return k;
        return -EINVAL;
}

void report_rows_done(ReportRows *rows)
{
        for (size_t i = 0; i < rows->n; i++)
                free(rows->rows[i].name);
        free(rows->rows);
        *rows = (ReportRows){};
}

static ReportRows rows_take(ReportRows *rows)
{
        ReportRows r = *rows;

        *rows = (ReportRows){};
        return r;
}

static int rows_add(ReportRows *rows, const char *name, ReportRow **ret)
{
        char *copy;

        if (rows->n == rows->allocated) {
                size_t a = MAX(rows->allocated * 2, (size_t)16);
                ReportRow *p = reallocarray(rows->rows, a, sizeof(*p));

                if (!p)
                        return -ENOMEM;
                rows->rows = p;
                rows->allocated = a;
        }
        copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        rows->rows[rows->n] = (ReportRow){.name = copy};
        *ret = &rows->rows[rows->n++];
        return 0;
}

static int query_error(sqlite3 *db, int rc, const char *sql)
{
        log_debug("SQLite: %s: %s", sqlite3_errmsg(db), sql);
        return state_errno(rc) ?: -EIO;
}

/* Run sql with text parameters ?1..?n and append one row per result. Every query selects the
 * fields of a ReportRow in order (name, runs, users, programs, hosts, first, last), 0 where a
 * field means nothing for it. */
static int query_append(sqlite3 *db, const char *sql, const char *const *params, size_t n_params,
                        ReportRows *rows)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return query_error(db, rc, sql);
        for (size_t i = 0; i < n_params; i++) {
                rc = sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_STATIC);
                if (rc != SQLITE_OK)
                        return query_error(db, rc, sql);
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *name = (const char *)sqlite3_column_text(st, 0);
                ReportRow *row;

                if (!name && sqlite3_errcode(db) == SQLITE_NOMEM)
                        return -ENOMEM;
                r = rows_add(rows, strempty(name), &row);
                if (r < 0)
                        return r;
                row->runs = sqlite3_column_int64(st, 1);
                row->users = sqlite3_column_int64(st, 2);
                row->programs = sqlite3_column_int64(st, 3);
                row->hosts = sqlite3_column_int64(st, 4);
                row->first = sqlite3_column_int64(st, 5);
                row->last = sqlite3_column_int64(st, 6);
        }
        if (rc != SQLITE_DONE)
                return query_error(db, rc, sql);
        return 0;
}

static int query_rows(sqlite3 *db, const char *sql, const char *const *params, size_t n_params,
                      ReportRows *ret)
{
        _cleanup_rows_ ReportRows rows = {};
        int r;

        r = query_append(db, sql, params, n_params, &rows);
        if (r < 0)
                return r;
        *ret = rows_take(&rows);
        return 0;
}

static int filter_range(const ReportFilter *f, const char **ret_since, const char **ret_until)
{
        if ((f->since && !report_date_is_valid(f->since)) ||
            (f->until && !report_date_is_valid(f->until)))
                return -EINVAL;
        *ret_since = f->since ?: DAY_MIN;
        *ret_until = f->until ?: DAY_MAX;
        return 0;
}

/* Without a range or filter, the whole table in primary key order beats a walk over the day
 * index (4x on two million rows): two statements, chosen by whether there is one. */
static int query_ranged(sqlite3 *db, const ReportFilter *f, const char *sql_all,
                        const char *sql_filtered, ReportRows *ret)
{
        const char *p[4] = {NULL, NULL, f->host, f->user_program};
        int r;

        r = filter_range(f, &p[0], &p[1]);
        if (r < 0)
                return r;
        if (!f->since && !f->until && !f->host && !f->user_program)
                return query_rows(db, sql_all, NULL, 0, ret);
        return query_rows(db, sql_filtered, p, ELEMENTSOF(p), ret);
}

/* ?3: a host or NULL, ?4: a program or NULL (NULL matches everything). */
#define FILTER_WHERE                                                                               \
        "WHERE day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR host = ?3) AND (?4 IS NULL OR program = "  \
        "?4) "

#define PROGRAMS_SELECT                                                                            \
        "SELECT program, SUM(runs), COUNT(DISTINCT user), 0, COUNT(DISTINCT host), MIN(first), "   \
        "MAX(last) FROM daily "
#define PROGRAMS_GROUP "GROUP BY program ORDER BY SUM(runs) DESC, program"

int report_query_programs(sqlite3 *db, const ReportFilter *f, ReportRows *ret)
{
        return query_ranged(db, f, PROGRAMS_SELECT PROGRAMS_GROUP,
                            PROGRAMS_SELECT FILTER_WHERE PROGRAMS_GROUP, ret);
}

#define USERS_SELECT                                                                               \
        "SELECT user, SUM(runs), 0, COUNT(DISTINCT program), COUNT(DISTINCT host), MIN(first), "   \
        "MAX(last) FROM daily "
#define USERS_GROUP "GROUP BY user ORDER BY SUM(runs) DESC, user"

int report_query_users(sqlite3 *db, const ReportFilter *f, ReportRows *ret)
{
        return query_ranged(db, f, USERS_SELECT USERS_GROUP, USERS_SELECT FILTER_WHERE USERS_GROUP,
                            ret);
}

int report_query_daily(sqlite3 *db, const ReportFilter *f, ReportRows *ret)
{
        const char *p[4] = {NULL, NULL, f->host, f->program};
        int r;

        if (!f->program)
                return -EINVAL;
        r = filter_range(f, &p[0], &p[1]);
        if (r < 0)
                return r;
        return query_rows(db,
                          "SELECT day, SUM(runs), COUNT(DISTINCT user), 0, COUNT(DISTINCT host), "
                          "MIN(first), MAX(last) FROM daily " FILTER_WHERE
                          "GROUP BY day ORDER BY day",
                          p, ELEMENTSOF(p), ret);
}

/* A program the --tracked lists name by path is shown by its path(s), separated by spaces
 * (list paths have none): "/usr/bin/vim", or "/opt/a/bin/x /usr/bin/x" for two programs the
 * shim counts under one name. */
static int unused_full_path(const ReportFilter *f, ReportRow *row)
{
        _cleanup_free_ char *joined = NULL;
        size_t len = 0;

        for (size_t i = 0; i < f->n_tracked_paths; i++) {
                const char *path = f->tracked_paths[i], *base = strrchr(path, '/');
                size_t n = strlen(path);
                char *j;

                if (!base || !streq(base + 1, row->name))
                        continue;
                j = realloc(joined, len + n + 2);
                if (!j)
                        return -ENOMEM;
                joined = j;
                if (len > 0)
                        joined[len++] = ' ';
                memcpy(joined + len, path, n + 1);
                len += n;
        }
        if (joined) {
                free(row->name);
                row->name = TAKE_PTR(joined);
        }
        return 0;
}

/* Tracked programs that never ran at all, as rows with no runs and no last use. */
static int unused_never(sqlite3 *db, const ReportFilter *f, ReportRows *rows)
{
        static const char sql[] = "SELECT EXISTS (SELECT 1 FROM daily WHERE program = ?1)";
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r;

        if (f->n_tracked == 0)
                return 0;
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return query_error(db, rc, sql);
        for (size_t i = 0; i < f->n_tracked; i++) {
                ReportRow *row;
                bool used;

                rc = sqlite3_bind_text(st, 1, f->tracked[i], -1, SQLITE_STATIC);
                if (rc == SQLITE_OK)
                        rc = sqlite3_step(st);
                if (rc != SQLITE_ROW)
                        return query_error(db, rc, sql);
                used = sqlite3_column_int(st, 0) != 0;
                sqlite3_reset(st);
                if (used)
                        continue;
                r = rows_add(rows, f->tracked[i], &row);
                if (r < 0)
                        return r;
                row->first = row->last = REPORT_NEVER;
                r = unused_full_path(f, row);
                if (r < 0)
                        return r;
        }
        return 0;
}

int report_query_unused(sqlite3 *db, const ReportFilter *f, ReportRows *ret)
{
        _cleanup_rows_ ReportRows rows = {};
        const char *p[1] = {f->before};
        int r;

        if (!report_date_is_valid(f->before))
                return -EINVAL;
        /* Never used first: they are the surest candidates for removal. */
        r = unused_never(db, f, &rows);
        if (r < 0)
                return r;
        r = query_append(db,
                         "SELECT program, SUM(runs), COUNT(DISTINCT user), 0, "
                         "COUNT(DISTINCT host), MIN(first), MAX(last) "
                         "FROM daily GROUP BY program HAVING MAX(day) < ?1 "
                         "ORDER BY MAX(last), program",
                         p, ELEMENTSOF(p), &rows);
        if (r < 0)
                return r;
        for (size_t i = 0; i < rows.n; i++) {
                r = unused_full_path(f, &rows.rows[i]);
                if (r < 0)
                        return r;
        }
        *ret = rows_take(&rows);
        return 0;
}

int report_query_rejects(sqlite3 *db, const ReportFilter *f, ReportRows *ret)
{
        return query_rows(db,
                          "SELECT reason, count, 0, 0, 0, 0, last FROM rejects "
                          "ORDER BY count DESC, reason",
                          NULL, 0, ret);
}

int report_query(sqlite3 *db, ReportKind kind, const ReportFilter *f, ReportRows *ret)
{
        switch (kind) {
        case REPORT_PROGRAMS:
                return report_query_programs(db, f, ret);
        case REPORT_USERS:
                return report_query_users(db, f, ret);
        case REPORT_DAILY:
                return report_query_daily(db, f, ret);
        case REPORT_UNUSED:
                return report_query_unused(db, f, ret);
        case REPORT_REJECTS:
                return report_query_rejects(db, f, ret);
        default:
                return -EINVAL;
        }
}

static unsigned digits(const char *s, size_t n)
{
        unsigned v = 0;

        for (size_t i = 0; i < n; i++)
                v = v * 10 + (unsigned)(s[i] - '0');
        return v;
}

bool report_date_is_valid(const char *s)
{
        static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        unsigned y, m, d;
        bool leap;

        if (!s || strlen(s) != REPORT_DATE_LEN)
                return false;
        for (size_t i = 0; i < REPORT_DATE_LEN; i++)
                if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
                        return false;
        y = digits(s, 4);
        m = digits(s + 5, 2);
        d = digits(s + 8, 2);
        if (y == 0 || m < 1 || m > 12 || d < 1)
                return false;
        leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        return d <= mdays[m - 1] + (m == 2 && leap ? 1u : 0u);
}

int report_date_days_before(time_t now, uint64_t days, char ret[static REPORT_DATE_LEN + 1])
{
        char buf[REPORT_DATE_LEN + 2];
        struct tm tm;

        if (days > REPORT_DAYS_MAX)
                return -ERANGE;
        if (!localtime_r(&now, &tm))
                return -EOVERFLOW;
        /* Noon, so that a daylight saving change never moves us onto a neighbouring day. */
        tm.tm_mday -= (int)days;
        tm.tm_hour = 12;
        tm.tm_min = tm.tm_sec = 0;
        tm.tm_isdst = -1;
        if (mktime(&tm) == (time_t)-1)
                return -EOVERFLOW;
        if (strftime(buf, sizeof(buf), "%Y-%m-%d", &tm) != REPORT_DATE_LEN)
                return -ERANGE;
        memcpy(ret, buf, REPORT_DATE_LEN + 1);
        return 0;
}

void report_names_done(ReportNames *names)
{
        for (size_t i = 0; i < names->n; i++)
                free(names->names[i]);
        free(names->names);
        if (names->paths) {
                report_names_done(names->paths);
                free(names->paths);
        }
        *names = (ReportNames){};
}

static int names_add(ReportNames *names, const char *s, size_t len)
{
        char *copy;

        if (names->n == names->allocated) {
                size_t a = MAX(names->allocated * 2, (size_t)16);
                char **p = reallocarray(names->names, a, sizeof(*p));

                if (!p)
                        return -ENOMEM;
                names->names = p;
                names->allocated = a;
        }
        copy = strndup(s, len);
        if (!copy)
                return -ENOMEM;
        names->names[names->n++] = copy;
        return 0;
}

static int names_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void report_names_sort(ReportNames *names)
{
        size_t k = 0;

        if (names->paths)
                report_names_sort(names->paths);
        if (names->n == 0)
                return;
        qsort(names->names, names->n, sizeof(char *), names_cmp);
        for (size_t i = 1; i < names->n; i++) {
                if (streq(names->names[i], names->names[k]))
                        free(names->names[i]);
                else
                        names->names[++k] = names->names[i];
        }
        names->n = k + 1;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose)

/* The whole file, at most max bytes: a hard limit on what a stray argument makes us allocate. */
static int read_capped(FILE *f, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, allocated = 0, k;

        do {
                if (len == allocated) {
                        char *p;

                        if (allocated > max)
                                return -EFBIG;
                        allocated = allocated ? allocated * 2 : 4096;
                        p = realloc(buf, allocated);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                }
                k = fread(buf + len, 1, allocated - len, f);
                len += k;
        } while (k > 0);
        if (ferror(f))
                return -EIO;
        if (len > max)
                return -EFBIG;
        *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int report_names_load(ReportNames *names, const char *path, unsigned *ret_line)
{
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;
        unsigned line = 0;
        int r;

        *ret_line = 0;
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        r = read_capped(f, CONF_FILE_MAX, &text, &len);
        if (r < 0)
                return r;
        assert(text);
        for (const char *p = text, *end = text + len; p < end;) {
                const char *eol = memchr(p, '\n', (size_t)(end - p)) ?: end;
                const char *s = p, *e = eol, *base;

                p = eol + 1;
                line++;
                while (s < e && (*s == ' ' || *s == '\t'))
                        s++;
                while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                        e--;
                if (s == e || *s == '#')
                        continue;
                for (const char *h = s + 1; h < e; h++)
                        if (*h == '#' && (h[-1] == ' ' || h[-1] == '\t')) {
                                e = h; /* a comment after the entry, as in tracked.d lists */
                                break;
                        }
                while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                        e--;
                /* "PATH force" in tracked.d lists: wrap even an Essential package's file. */
                if (e - s > 6 && memcmp(e - 5, "force", 5) == 0 &&
                    (e[-6] == ' ' || e[-6] == '\t')) {
                        e -= 6;
                        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                                e--;
                }
                base = memrchr(s, '/', (size_t)(e - s));
                base = base ? base + 1 : s;
                /* Only what the shim could ever report: it counts programs by base name. */
                if (base == e || (size_t)(e - base) > TRACKER_PROGRAM_MAX ||
                    !tracker_field_is_valid(TRACKER_FIELD_PROGRAM, base, (size_t)(e - base))) {
                        *ret_line = line;
                        return -EINVAL;
                }
                if (!names->paths && !(names->paths = calloc(1, sizeof(ReportNames))))
                        return -ENOMEM;
                r = names_add(names->paths, s, (size_t)(e - s));
                if (r < 0)
                        return r;
                r = names_add(names, base, (size_t)(e - base));
                if (r < 0)
                        return r;
        }
        return 0;
}
