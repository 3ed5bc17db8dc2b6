/* test-report.c - tracker-report's queries on a fixture database, and its table, CSV and JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "state.h"
#include "test.h"
#include "tracker-report-output.h"
#include "tracker-report-query.h"
#include "trackerd-store.h"

#define HOSTILE "we,ird \"n\xc3\xa4me\""

static char dir[] = "/tmp/test-report-XXXXXX";

/* Unix seconds of a UTC time; the test runs with TZ=UTC so this is also local time. */
static int64_t at(int year, int mon, int mday, int hour)
{
        struct tm tm = {
                .tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = mday, .tm_hour = hour};
        return (int64_t)timegm(&tm);
}

static int insert_daily(sqlite3 *db, const char *day, const char *program, const char *user,
                        const char *host, int64_t runs, int64_t first, int64_t last)
{
        sqlite3_stmt *st;
        int rc;

        rc = sqlite3_prepare_v2(db,
                                "INSERT INTO daily (day, program, user, host, runs, first, last) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, program, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, host, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, runs);
        sqlite3_bind_int64(st, 6, first);
        sqlite3_bind_int64(st, 7, last);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : -EIO;
}

static int insert_reject(sqlite3 *db, const char *reason, int64_t count, int64_t last)
{
        sqlite3_stmt *st;
        int rc;

        rc = sqlite3_prepare_v2(db, "INSERT INTO rejects (reason, count, last) VALUES (?1, ?2, ?3)",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return -EIO;
        sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, count);
        sqlite3_bind_int64(st, 3, last);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : -EIO;
}

static int make_fixture(const char *path)
{
        sqlite3 *db = NULL;
        int r;

        r = state_open(path, false, trackerd_store_migrations, trackerd_store_n_migrations, &db);
        if (r < 0)
                return r;
        if ((r = insert_daily(db, "2026-11-01", "vim", "alice", "ws1", 3, at(2026, 11, 1, 9),
                              at(2026, 11, 1, 17))) < 0 ||
            (r = insert_daily(db, "2026-11-01", "vim", "bob", "ws2", 2, at(2026, 11, 1, 10),
                              at(2026, 11, 1, 11))) < 0 ||
            (r = insert_daily(db, "2026-11-02", "vim", "alice", "ws2", 1, at(2026, 11, 2, 8),
                              at(2026, 11, 2, 8))) < 0 ||
            (r = insert_daily(db, "2026-11-01", "emacs", "alice", "ws1", 5, at(2026, 11, 1, 7),
                              at(2026, 11, 1, 20))) < 0 ||
            (r = insert_daily(db, "2026-10-01", "gcc", "carol", "ws3", 2, at(2026, 10, 1, 12),
                              at(2026, 10, 1, 13))) < 0 ||
            (r = insert_daily(db, "2026-11-02", HOSTILE, "bob", "ws1", 1, at(2026, 11, 2, 9),
                              at(2026, 11, 2, 9))) < 0 ||
            (r = insert_daily(db, "2026-09-15", "old", "dave", "ws1", 1, at(2026, 9, 15, 6),
                              at(2026, 9, 15, 6))) < 0 ||
            (r = insert_reject(db, "truncated", 2, at(2026, 11, 1, 1))) < 0 ||
            (r = insert_reject(db, "magic", 7, at(2026, 11, 2, 2))) < 0 ||
            (r = insert_reject(db, "text", 7, at(2026, 11, 2, 3))) < 0) {
                sqlite3_close_v2(db);
                return r;
        }
        return sqlite3_close_v2(db) == SQLITE_OK ? 0 : -EIO;
}

#define ASSERT_ROW(rows, i, n_, runs_, users_, programs_, hosts_, first_, last_)                   \
        do {                                                                                       \
                ASSERT_TRUE((i) < (rows).n);                                                       \
                if ((i) < (rows).n) {                                                              \
                        const ReportRow *_r = &(rows).rows[i];                                     \
                        ASSERT_STREQ(_r->name, n_);                                                \
                        ASSERT_EQ_INT(_r->runs, runs_);                                            \
                        ASSERT_EQ_INT(_r->users, users_);                                          \
                        ASSERT_EQ_INT(_r->programs, programs_);                                    \
                        ASSERT_EQ_INT(_r->hosts, hosts_);                                          \
                        ASSERT_EQ_INT(_r->first, first_);                                          \
                        ASSERT_EQ_INT(_r->last, last_);                                            \
                }                                                                                  \
        } while (0)

static void test_dates(void)
{
        char day[REPORT_DATE_LEN + 1];

        ASSERT_TRUE(report_date_is_valid("2026-11-02"));
        ASSERT_TRUE(report_date_is_valid("2024-02-29"));
        ASSERT_TRUE(report_date_is_valid("2000-02-29"));
        ASSERT_TRUE(report_date_is_valid("2026-04-30"));
        ASSERT_TRUE(report_date_is_valid("2026-12-31"));
        ASSERT_TRUE(!report_date_is_valid("2023-02-29"));
        ASSERT_TRUE(!report_date_is_valid("1900-02-29"));
        ASSERT_TRUE(!report_date_is_valid("2026-04-31"));
        ASSERT_TRUE(!report_date_is_valid("2026-13-01"));
        ASSERT_TRUE(!report_date_is_valid("2026-00-10"));
        ASSERT_TRUE(!report_date_is_valid("2026-01-00"));
        ASSERT_TRUE(!report_date_is_valid("0000-01-01"));
        ASSERT_TRUE(!report_date_is_valid("2026-1-01"));
        ASSERT_TRUE(!report_date_is_valid("2026-01-1"));
        ASSERT_TRUE(!report_date_is_valid("2026-01-011"));
        ASSERT_TRUE(!report_date_is_valid(" 2026-01-01"));
        ASSERT_TRUE(!report_date_is_valid("2026/01/01"));
        ASSERT_TRUE(!report_date_is_valid("2026-0a-01"));
        ASSERT_TRUE(!report_date_is_valid("+026-01-01"));
        ASSERT_TRUE(!report_date_is_valid(""));
        ASSERT_TRUE(!report_date_is_valid(NULL));

        ASSERT_EQ_INT(report_date_days_before(at(2026, 11, 2, 15), 0, day), 0);
        ASSERT_STREQ(day, "2026-11-02");
        ASSERT_EQ_INT(report_date_days_before(at(2026, 11, 2, 0), 2, day), 0);
        ASSERT_STREQ(day, "2026-10-31");
        ASSERT_EQ_INT(report_date_days_before(at(2024, 3, 1, 23), 1, day), 0);
        ASSERT_STREQ(day, "2024-02-29");
        ASSERT_EQ_INT(report_date_days_before(at(2026, 1, 1, 12), 366, day), 0);
        ASSERT_STREQ(day, "2024-12-31");
        ASSERT_EQ_INT(report_date_days_before(at(2026, 1, 1, 12), REPORT_DAYS_MAX + 1, day),
                      -ERANGE);

        ASSERT_EQ_INT(report_kind_from_string("unused"), REPORT_UNUSED);
        ASSERT_EQ_INT(report_kind_from_string("programs"), REPORT_PROGRAMS);
        ASSERT_EQ_INT(report_kind_from_string("Programs"), -EINVAL);
        ASSERT_STREQ(report_kind_to_string(REPORT_REJECTS), "rejects");
}

static void test_programs(sqlite3 *db)
{
        ReportRows rows = {};

        ASSERT_EQ_INT(report_query_programs(db, &(ReportFilter){}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 5);
        ASSERT_ROW(rows, 0, "vim", 6, 2, 0, 2, at(2026, 11, 1, 9), at(2026, 11, 2, 8));
        ASSERT_ROW(rows, 1, "emacs", 5, 1, 0, 1, at(2026, 11, 1, 7), at(2026, 11, 1, 20));
        ASSERT_ROW(rows, 2, "gcc", 2, 1, 0, 1, at(2026, 10, 1, 12), at(2026, 10, 1, 13));
        ASSERT_ROW(rows, 3, "old", 1, 1, 0, 1, at(2026, 9, 15, 6), at(2026, 9, 15, 6));
        ASSERT_ROW(rows, 4, HOSTILE, 1, 1, 0, 1, at(2026, 11, 2, 9), at(2026, 11, 2, 9));
        report_rows_done(&rows);

        ASSERT_EQ_INT(report_query_programs(db, &(ReportFilter){.since = "2026-11-02"}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 2);
        ASSERT_ROW(rows, 0, "vim", 1, 1, 0, 1, at(2026, 11, 2, 8), at(2026, 11, 2, 8));
        ASSERT_ROW(rows, 1, HOSTILE, 1, 1, 0, 1, at(2026, 11, 2, 9), at(2026, 11, 2, 9));
        report_rows_done(&rows);

        ASSERT_EQ_INT(report_query_programs(db, &(ReportFilter){.until = "2026-10-31"}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 2);
        ASSERT_ROW(rows, 0, "gcc", 2, 1, 0, 1, at(2026, 10, 1, 12), at(2026, 10, 1, 13));
        ASSERT_ROW(rows, 1, "old", 1, 1, 0, 1, at(2026, 9, 15, 6), at(2026, 9, 15, 6));
        report_rows_done(&rows);

        /* Both bounds inclusive; equal runs sort by name. */
        ASSERT_EQ_INT(
                report_query_programs(
                        db, &(ReportFilter){.since = "2026-11-01", .until = "2026-11-01"}, &rows),
                0);
        ASSERT_EQ_INT(rows.n, 2);
        ASSERT_ROW(rows, 0, "emacs", 5, 1, 0, 1, at(2026, 11, 1, 7), at(2026, 11, 1, 20));
        ASSERT_ROW(rows, 1, "vim", 5, 2, 0, 2, at(2026, 11, 1, 9), at(2026, 11, 1, 17));
        report_rows_done(&rows);

        ASSERT_EQ_INT(report_query_programs(db, &(ReportFilter){.since = "2027-01-01"}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 0);
        report_rows_done(&rows);

        ASSERT_EQ_INT(report_query_programs(db, &(ReportFilter){.since = "2026-11-1"}, &rows),
                      -EINVAL);
        ASSERT_EQ_INT(rows.n, 0);
}

static void test_users(sqlite3 *db)
{
        ReportRows rows = {};

        ASSERT_EQ_INT(report_query_users(db, &(ReportFilter){}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 4);
        ASSERT_ROW(rows, 0, "alice", 9, 0, 2, 2, at(2026, 11, 1, 7), at(2026, 11, 2, 8));
        ASSERT_ROW(rows, 1, "bob", 3, 0, 2, 2, at(2026, 11, 1, 10), at(2026, 11, 2, 9));
        ASSERT_ROW(rows, 2, "carol", 2, 0, 1, 1, at(2026, 10, 1, 12), at(2026, 10, 1, 13));
        ASSERT_ROW(rows, 3, "dave", 1, 0, 1, 1, at(2026, 9, 15, 6), at(2026, 9, 15, 6));
        report_rows_done(&rows);

        ASSERT_EQ_INT(
                report_query_users(
                        db, &(ReportFilter){.since = "2026-11-02", .until = "2026-11-02"}, &rows),
                0);
        ASSERT_EQ_INT(rows.n, 2);
        ASSERT_ROW(rows, 0, "alice", 1, 0, 1, 1, at(2026, 11, 2, 8), at(2026, 11, 2, 8));
        ASSERT_ROW(rows, 1, "bob", 1, 0, 1, 1, at(2026, 11, 2, 9), at(2026, 11, 2, 9));
        report_rows_done(&rows);

        /* The users of one program, by name; and on one host. */
        ASSERT_EQ_INT(report_query_users(db, &(ReportFilter){.user_program = "vim"}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 2);
        ASSERT_ROW(rows, 0, "alice", 4, 0, 1, 2, at(2026, 11, 1, 9), at(2026, 11, 2, 8));
        ASSERT_ROW(rows, 1, "bob", 2, 0, 1, 1, at(2026, 11, 1, 10), at(2026, 11, 1, 11));
        report_rows_done(&rows);
        ASSERT_EQ_INT(report_query_users(db, &(ReportFilter){.user_program = "vim", .host = "ws2"},
                                         &rows),
                      0);
        ASSERT_EQ_INT(rows.n, 2);
        ASSERT_ROW(rows, 0, "bob", 2, 0, 1, 1, at(2026, 11, 1, 10), at(2026, 11, 1, 11));
        ASSERT_ROW(rows, 1, "alice", 1, 0, 1, 1, at(2026, 11, 2, 8), at(2026, 11, 2, 8));
        report_rows_done(&rows);
        ASSERT_EQ_INT(report_query_users(db, &(ReportFilter){.user_program = "nano"}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 0);
        report_rows_done(&rows);

        /* Programs per host. */
        ASSERT_EQ_INT(report_query_programs(db, &(ReportFilter){.host = "ws1"}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 4);
        ASSERT_ROW(rows, 0, "emacs", 5, 1, 0, 1, at(2026, 11, 1, 7), at(2026, 11, 1, 20));
        ASSERT_ROW(rows, 1, "vim", 3, 1, 0, 1, at(2026, 11, 1, 9), at(2026, 11, 1, 17));
        ASSERT_ROW(rows, 2, "old", 1, 1, 0, 1, at(2026, 9, 15, 6), at(2026, 9, 15, 6));
        ASSERT_ROW(rows, 3, HOSTILE, 1, 1, 0, 1, at(2026, 11, 2, 9), at(2026, 11, 2, 9));
        report_rows_done(&rows);
        ASSERT_EQ_INT(report_query_programs(
                              db, &(ReportFilter){.host = "ws1", .since = "2026-11-02"}, &rows),
                      0);
        ASSERT_EQ_INT(rows.n, 1);
        ASSERT_ROW(rows, 0, HOSTILE, 1, 1, 0, 1, at(2026, 11, 2, 9), at(2026, 11, 2, 9));
        report_rows_done(&rows);
        ASSERT_EQ_INT(
                report_query_daily(db, &(ReportFilter){.program = "vim", .host = "ws2"}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 2);
        ASSERT_ROW(rows, 0, "2026-11-01", 2, 1, 0, 1, at(2026, 11, 1, 10), at(2026, 11, 1, 11));
        ASSERT_ROW(rows, 1, "2026-11-02", 1, 1, 0, 1, at(2026, 11, 2, 8), at(2026, 11, 2, 8));
        report_rows_done(&rows);
}

static void test_daily(sqlite3 *db)
{
        ReportRows rows = {};

        ASSERT_EQ_INT(report_query_daily(db, &(ReportFilter){.program = "vim"}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 2);
        ASSERT_ROW(rows, 0, "2026-11-01", 5, 2, 0, 2, at(2026, 11, 1, 9), at(2026, 11, 1, 17));
        ASSERT_ROW(rows, 1, "2026-11-02", 1, 1, 0, 1, at(2026, 11, 2, 8), at(2026, 11, 2, 8));
        report_rows_done(&rows);

        ASSERT_EQ_INT(report_query_daily(
                              db, &(ReportFilter){.program = "vim", .since = "2026-11-02"}, &rows),
                      0);
        ASSERT_EQ_INT(rows.n, 1);
        ASSERT_ROW(rows, 0, "2026-11-02", 1, 1, 0, 1, at(2026, 11, 2, 8), at(2026, 11, 2, 8));
        report_rows_done(&rows);

        ASSERT_EQ_INT(report_query_daily(
                              db, &(ReportFilter){.program = "vim", .until = "2026-10-31"}, &rows),
                      0);
        ASSERT_EQ_INT(rows.n, 0);
        report_rows_done(&rows);

        /* A name is matched exactly, never as a pattern. */
        ASSERT_EQ_INT(report_query_daily(db, &(ReportFilter){.program = "vi%"}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 0);
        report_rows_done(&rows);

        ASSERT_EQ_INT(report_query_daily(db, &(ReportFilter){.program = HOSTILE}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 1);
        ASSERT_ROW(rows, 0, "2026-11-02", 1, 1, 0, 1, at(2026, 11, 2, 9), at(2026, 11, 2, 9));
        report_rows_done(&rows);

        ASSERT_EQ_INT(report_query_daily(db, &(ReportFilter){}, &rows), -EINVAL);
}

static int write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -EIO;
}

static void test_unused(sqlite3 *db)
{
        ReportRows rows = {};
        ReportNames names = {};
        char day[REPORT_DATE_LEN + 1], path[64], bad[64];
        unsigned line = 99;

        ASSERT_EQ_INT(report_query_unused(db, &(ReportFilter){.before = "2026-11-01"}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 2);
        ASSERT_ROW(rows, 0, "old", 1, 1, 0, 1, at(2026, 9, 15, 6), at(2026, 9, 15, 6));
        ASSERT_ROW(rows, 1, "gcc", 2, 1, 0, 1, at(2026, 10, 1, 12), at(2026, 10, 1, 13));
        report_rows_done(&rows);

        /* --days N: last run more than N days before "now", 2026-11-02 15:00. */
        ASSERT_EQ_INT(report_date_days_before(at(2026, 11, 2, 15), 32, day), 0);
        ASSERT_EQ_INT(report_query_unused(db, &(ReportFilter){.before = day}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 1);
        ASSERT_ROW(rows, 0, "old", 1, 1, 0, 1, at(2026, 9, 15, 6), at(2026, 9, 15, 6));
        report_rows_done(&rows);

        ASSERT_EQ_INT(report_date_days_before(at(2026, 11, 2, 15), 31, day), 0);
        ASSERT_EQ_INT(report_query_unused(db, &(ReportFilter){.before = day}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 2);
        report_rows_done(&rows);

        ASSERT_EQ_INT(report_date_days_before(at(2026, 11, 2, 15), 0, day), 0);
        ASSERT_EQ_INT(report_query_unused(db, &(ReportFilter){.before = day}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 3);
        ASSERT_ROW(rows, 0, "old", 1, 1, 0, 1, at(2026, 9, 15, 6), at(2026, 9, 15, 6));
        ASSERT_ROW(rows, 1, "gcc", 2, 1, 0, 1, at(2026, 10, 1, 12), at(2026, 10, 1, 13));
        ASSERT_ROW(rows, 2, "emacs", 5, 1, 0, 1, at(2026, 11, 1, 7), at(2026, 11, 1, 20));
        report_rows_done(&rows);

        /* --tracked: never-used programs first; used ones only if unused; paths by base name. */
        snprintf(path, sizeof(path), "%s/tracked", dir);
        ASSERT_EQ_INT(write_file(path, "# tracked programs\n\n/usr/bin/vim\n  nano  \n"
                                       "/opt/x/bin/ed\r\nnano\n\t# indented comment\ngcc"),
                      0);
        ASSERT_EQ_INT(report_names_load(&names, path, &line), 0);
        ASSERT_EQ_INT(line, 0);
        ASSERT_EQ_INT(names.n, 5);
        report_names_sort(&names);
        ASSERT_EQ_INT(names.n, 4);
        ASSERT_STREQ(names.names[0], "ed");
        ASSERT_STREQ(names.names[1], "gcc");
        ASSERT_STREQ(names.names[2], "nano");
        ASSERT_STREQ(names.names[3], "vim");

        ASSERT_EQ_INT(report_query_unused(db,
                                          &(ReportFilter){.before = "2026-11-01",
                                                          .tracked = names.names,
                                                          .n_tracked = names.n},
                                          &rows),
                      0);
        ASSERT_EQ_INT(rows.n, 4);
        ASSERT_ROW(rows, 0, "ed", 0, 0, 0, 0, REPORT_NEVER, REPORT_NEVER);
        ASSERT_ROW(rows, 1, "nano", 0, 0, 0, 0, REPORT_NEVER, REPORT_NEVER);
        ASSERT_ROW(rows, 2, "old", 1, 1, 0, 1, at(2026, 9, 15, 6), at(2026, 9, 15, 6));
        ASSERT_ROW(rows, 3, "gcc", 2, 1, 0, 1, at(2026, 10, 1, 12), at(2026, 10, 1, 13));
        report_rows_done(&rows);
        report_names_done(&names);

        snprintf(bad, sizeof(bad), "%s/bad", dir);
        ASSERT_EQ_INT(write_file(bad, "vim\n\n/usr/bin/\n"), 0);
        ASSERT_EQ_INT(report_names_load(&names, bad, &line), -EINVAL);
        ASSERT_EQ_INT(line, 3);
        report_names_done(&names);
        ASSERT_EQ_INT(write_file(bad, "ok\nbell\a\n"), 0);
        ASSERT_EQ_INT(report_names_load(&names, bad, &line), -EINVAL);
        ASSERT_EQ_INT(line, 2);
        report_names_done(&names);
        snprintf(bad, sizeof(bad), "%s/missing", dir);
        ASSERT_EQ_INT(report_names_load(&names, bad, &line), -ENOENT);
        ASSERT_EQ_INT(line, 0);
        report_names_done(&names);

        /* tracked.d lists as they are: "PATH force", comments after the entry; listed
         * programs are shown by their paths, two paths of one name together. */
        ASSERT_EQ_INT(write_file(path, "/usr/bin/vim force\n/usr/bin/nano   force  # editor\n"
                                       "/opt/x/bin/gcc\n/usr/local/bin/gcc\tforce\nold\n"),
                      0);
        ASSERT_EQ_INT(report_names_load(&names, path, &line), 0);
        report_names_sort(&names);
        ASSERT_EQ_INT(names.n, 4);
        ASSERT_STREQ(names.names[0], "gcc");
        ASSERT_STREQ(names.names[1], "nano");
        ASSERT_STREQ(names.names[2], "old");
        ASSERT_STREQ(names.names[3], "vim");
        ASSERT_TRUE(names.paths && names.paths->n == 5);
        ASSERT_EQ_INT(report_query_unused(db,
                                          &(ReportFilter){.before = "2026-11-01",
                                                          .tracked = names.names,
                                                          .n_tracked = names.n,
                                                          .tracked_paths = names.paths->names,
                                                          .n_tracked_paths = names.paths->n},
                                          &rows),
                      0);
        ASSERT_EQ_INT(rows.n, 3);
        ASSERT_ROW(rows, 0, "/usr/bin/nano", 0, 0, 0, 0, REPORT_NEVER, REPORT_NEVER);
        ASSERT_ROW(rows, 1, "old", 1, 1, 0, 1, at(2026, 9, 15, 6), at(2026, 9, 15, 6));
        ASSERT_ROW(rows, 2, "/opt/x/bin/gcc /usr/local/bin/gcc", 2, 1, 0, 1, at(2026, 10, 1, 12),
                   at(2026, 10, 1, 13));
        report_rows_done(&rows);
        report_names_done(&names);

        ASSERT_EQ_INT(report_query_unused(db, &(ReportFilter){}, &rows), -EINVAL);
}

static void test_rejects(sqlite3 *db)
{
        ReportRows rows = {};

        ASSERT_EQ_INT(report_query(db, REPORT_REJECTS, &(ReportFilter){}, &rows), 0);
        ASSERT_EQ_INT(rows.n, 3);
        ASSERT_ROW(rows, 0, "magic", 7, 0, 0, 0, 0, at(2026, 11, 2, 2));
        ASSERT_ROW(rows, 1, "text", 7, 0, 0, 0, 0, at(2026, 11, 2, 3));
        ASSERT_ROW(rows, 2, "truncated", 2, 0, 0, 0, 0, at(2026, 11, 1, 1));
        report_rows_done(&rows);
}

/* The report as text, or NULL. */
static char *render(sqlite3 *db, ReportKind kind, const ReportFilter *filter, ReportFormat fmt)
{
        ReportRows rows = {};
        char *text = NULL;
        size_t size;
        FILE *f;
        int r;

        if (report_query(db, kind, filter, &rows) < 0)
                return NULL;
        f = open_memstream(&text, &size);
        if (!f) {
                report_rows_done(&rows);
                return NULL;
        }
        r = report_output(f, fmt, kind, &rows);
        report_rows_done(&rows);
        if (fclose(f) != 0 || r < 0) {
                free(text);
                return NULL;
        }
        return text;
}

static void test_output(sqlite3 *db)
{
        ReportFilter nov2 = {.since = "2026-11-02"};
        char *s;
        json_object *j, *o, *v;
        char t[REPORT_TIME_LEN + 1];

        ASSERT_EQ_INT(report_time_format(at(2026, 11, 2, 8), t), 0);
        ASSERT_STREQ(t, "2026-11-02 08:00:00");

        s = render(db, REPORT_PROGRAMS, &nov2, REPORT_FORMAT_CSV);
        ASSERT_STREQ(s, "program,runs,users,hosts,first,first_unix,last,last_unix\n"
                        "vim,1,1,1,2026-11-02 08:00:00,1793606400,2026-11-02 08:00:00,1793606400\n"
                        "\"we,ird \"\"n\xc3\xa4me\"\"\",1,1,1,2026-11-02 09:00:00,1793610000,"
                        "2026-11-02 09:00:00,1793610000\n");
        free(s);

        /* Widened to the longest name, counted in characters, not bytes. */
        s = render(db, REPORT_PROGRAMS, &nov2, REPORT_FORMAT_TABLE);
        ASSERT_STREQ(s, "PROGRAM        RUNS  USERS  HOSTS  FIRST                LAST\n"
                        "vim               1      1      1  2026-11-02 08:00:00  "
                        "2026-11-02 08:00:00\n" HOSTILE "     1      1      1  "
                        "2026-11-02 09:00:00  2026-11-02 09:00:00\n");
        free(s);

        s = render(db, REPORT_PROGRAMS, &nov2, REPORT_FORMAT_JSON);
        j = s ? json_tokener_parse(s) : NULL;
        ASSERT_TRUE(j && json_object_is_type(j, json_type_array));
        ASSERT_EQ_INT(j ? json_object_array_length(j) : 0, 2);
        o = j ? json_object_array_get_idx(j, 1) : NULL;
        ASSERT_TRUE(o && json_object_object_get_ex(o, "program", &v));
        ASSERT_STREQ(o ? json_object_get_string(v) : NULL, HOSTILE);
        ASSERT_TRUE(o && json_object_object_get_ex(o, "runs", &v) &&
                    json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 1);
        ASSERT_TRUE(o && json_object_object_get_ex(o, "hosts", &v) &&
                    json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 1);
        ASSERT_TRUE(o && json_object_object_get_ex(o, "first", &v));
        ASSERT_STREQ(o ? json_object_get_string(v) : NULL, "2026-11-02 09:00:00");
        ASSERT_TRUE(o && json_object_object_get_ex(o, "last_unix", &v) &&
                    json_object_is_type(v, json_type_int) &&
                    json_object_get_int64(v) == at(2026, 11, 2, 9));
        ASSERT_TRUE(o && !json_object_object_get_ex(o, "programs", NULL));
        /* Non-ASCII stays UTF-8, the quotes are escaped. */
        ASSERT_TRUE(s && strstr(s, "\"we,ird \\\"n\xc3\xa4me\\\"\""));
        json_object_put(j);
        free(s);

        /* Never used: "never" in the table, empty in CSV, null in JSON. */
        char *tracked[] = {(char *)"nano"};
        ReportFilter unused = {.before = "2026-10-01", .tracked = tracked, .n_tracked = 1};

        s = render(db, REPORT_UNUSED, &unused, REPORT_FORMAT_TABLE);
        ASSERT_STREQ(s, "PROGRAM  RUNS  LAST\n"
                        "nano        0  never\n"
                        "old         1  2026-09-15 06:00:00\n");
        free(s);
        s = render(db, REPORT_UNUSED, &unused, REPORT_FORMAT_CSV);
        ASSERT_STREQ(s, "program,runs,last,last_unix\n"
                        "nano,0,,\n"
                        "old,1,2026-09-15 06:00:00,1789452000\n");
        free(s);
        s = render(db, REPORT_UNUSED, &unused, REPORT_FORMAT_JSON);
        j = s ? json_tokener_parse(s) : NULL;
        o = j ? json_object_array_get_idx(j, 0) : NULL;
        ASSERT_TRUE(o && json_object_object_get_ex(o, "last", &v) && v == NULL);
        ASSERT_TRUE(o && json_object_object_get_ex(o, "last_unix", &v) && v == NULL);
        ASSERT_TRUE(o && json_object_object_get_ex(o, "runs", &v) && json_object_get_int(v) == 0);
        json_object_put(j);
        free(s);

        s = render(db, REPORT_REJECTS, &(ReportFilter){}, REPORT_FORMAT_TABLE);
        ASSERT_STREQ(s, "REASON     COUNT  LAST\n"
                        "magic          7  2026-11-02 02:00:00\n"
                        "text           7  2026-11-02 03:00:00\n"
                        "truncated      2  2026-11-01 01:00:00\n");
        free(s);

        s = render(db, REPORT_DAILY, &(ReportFilter){.program = "vim"}, REPORT_FORMAT_CSV);
        ASSERT_STREQ(s, "day,runs,users,hosts\n2026-11-01,5,2,2\n2026-11-02,1,1,1\n");
        free(s);

        s = render(db, REPORT_USERS, &(ReportFilter){.until = "2026-09-30"}, REPORT_FORMAT_JSON);
        j = s ? json_tokener_parse(s) : NULL;
        ASSERT_EQ_INT(j ? json_object_array_length(j) : 0, 1);
        o = j ? json_object_array_get_idx(j, 0) : NULL;
        ASSERT_TRUE(o && json_object_object_get_ex(o, "user", &v));
        ASSERT_STREQ(o ? json_object_get_string(v) : NULL, "dave");
        ASSERT_TRUE(o && json_object_object_get_ex(o, "programs", &v) &&
                    json_object_get_int(v) == 1);
        json_object_put(j);
        free(s);

        /* Nothing found: a header, an empty array. */
        s = render(db, REPORT_DAILY, &(ReportFilter){.program = "nano"}, REPORT_FORMAT_TABLE);
        ASSERT_STREQ(s, "DAY  RUNS  USERS  HOSTS\n");
        free(s);
        s = render(db, REPORT_DAILY, &(ReportFilter){.program = "nano"}, REPORT_FORMAT_JSON);
        j = s ? json_tokener_parse(s) : NULL;
        ASSERT_TRUE(j && json_object_is_type(j, json_type_array) &&
                    json_object_array_length(j) == 0);
        json_object_put(j);
        free(s);
}

/* Names that are not printable UTF-8 never reach the terminal raw, and never break CSV/JSON. */
static void test_escaping(void)
{
        ReportRows rows = {};
        ReportRow row[] = {
                {.name = (char *)"esc\x1b[31m", .runs = 1, .last = 0},
                {.name = (char *)"c1\xc2\x9b"
                                 "2J",
                 .runs = 2,
                 .last = 0},
                {.name = (char *)"bad\xff", .runs = 3, .last = 0},
                {.name = (char *)"line\nbreak", .runs = 4, .last = 0},
        };
        char *text = NULL, *csv = NULL;
        size_t size;
        FILE *f;

        rows.rows = row;
        rows.n = ELEMENTSOF(row);
        f = open_memstream(&text, &size);
        ASSERT_TRUE(f);
        if (!f)
                return;
        ASSERT_EQ_INT(report_output(f, REPORT_FORMAT_TABLE, REPORT_REJECTS, &rows), 0);
        fclose(f);
        ASSERT_STREQ(text, "REASON         COUNT  LAST\n"
                           "esc\\x1b[31m        1  1970-01-01 00:00:00\n"
                           "c1\\xc2\\x9b2J       2  1970-01-01 00:00:00\n"
                           "bad\\xff            3  1970-01-01 00:00:00\n"
                           "line\\x0abreak      4  1970-01-01 00:00:00\n");
        free(text);

        f = open_memstream(&csv, &size);
        ASSERT_TRUE(f);
        if (!f)
                return;
        ASSERT_EQ_INT(report_output(f, REPORT_FORMAT_CSV, REPORT_REJECTS, &rows), 0);
        fclose(f);
        ASSERT_STREQ(csv, "reason,count,last,last_unix\n"
                          "esc\x1b[31m,1,1970-01-01 00:00:00,0\n"
                          "c1\xc2\x9b"
                          "2J,2,1970-01-01 00:00:00,0\n"
                          "bad\\xff,3,1970-01-01 00:00:00,0\n"
                          "\"line\nbreak\",4,1970-01-01 00:00:00,0\n");
        free(csv);

        /* --csv: a program name a spreadsheet would run as a formula is neutralised. */
        {
                ReportRow evil[] = {
                        {.name = (char *)"=cmd|' /C calc'!A0", .runs = 1, .last = 0},
                        {.name = (char *)"+1", .runs = 2, .last = 0},
                        {.name = (char *)"-x", .runs = 3, .last = 0},
                        {.name = (char *)"@SUM(1)", .runs = 4, .last = 0},
                };
                ReportRows er = {.rows = evil, .n = ELEMENTSOF(evil)};

                csv = NULL;
                f = open_memstream(&csv, &size);
                ASSERT_TRUE(f);
                if (!f)
                        return;
                ASSERT_EQ_INT(report_output(f, REPORT_FORMAT_CSV, REPORT_REJECTS, &er), 0);
                fclose(f);
                ASSERT_STREQ(csv, "reason,count,last,last_unix\n"
                                  "'=cmd|' /C calc'!A0,1,1970-01-01 00:00:00,0\n"
                                  "'+1,2,1970-01-01 00:00:00,0\n"
                                  "'-x,3,1970-01-01 00:00:00,0\n"
                                  "'@SUM(1),4,1970-01-01 00:00:00,0\n");
                free(csv);
        }
}

int main(void)
{
        sqlite3 *db = NULL;
        char path[64];

        setenv("TZ", "UTC", 1);
        tzset();
        test_dates();
        test_escaping();

        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        snprintf(path, sizeof(path), "%s/tracker.db", dir);
        ASSERT_EQ_INT(make_fixture(path), 0);
        /* As the tool opens it. */
        ASSERT_EQ_INT(
                state_open(path, true, trackerd_store_migrations, trackerd_store_n_migrations, &db),
                0);
        if (db) {
                test_programs(db);
                test_users(db);
                test_daily(db);
                test_unused(db);
                test_rejects(db);
                test_output(db);
                sqlite3_close_v2(db);
        }

        snprintf(path, sizeof(path), "%s/tracker.db", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/tracker.db-wal", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/tracker.db-shm", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/tracked", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/bad", dir);
        unlink(path);
        rmdir(dir);
        return test_result();
}
