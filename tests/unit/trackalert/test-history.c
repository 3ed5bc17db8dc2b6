/* test-history.c - the report history: batched writes, the questions, expiry by rowid in
 * chunks, the queue bound, and the migration of a version 1 database. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "macro.h"
#include "test.h"
#include "trackalert-history.h"
#include "trackalert-stats.h"

static char dir[] = "/tmp/test-ta-history-XXXXXX";

static TaTuple tuple(const char *login, const char *remote, bool success, const char *device,
                     const char *country)
{
        TaTuple t = {.login = (char *)login,
                     .pwhash = (char *)"",
                     .fail_type = (char *)"",
                     .protocol = (char *)"imap",
                     .device_id = (char *)device,
                     .session_id = (char *)"",
                     .success = success,
                     .country = (char *)country};

        ASSERT_EQ_INT(ta_addr_parse(remote, &t.remote), 0);
        return t;
}

static uint64_t count(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *st = NULL;
        uint64_t n = UINT64_MAX;

        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
                n = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return n;
}

static void range_of(const char *cidr, uint8_t lo[16], uint8_t hi[16])
{
        TaNetmask m;

        ASSERT_EQ_INT(ta_netmask_parse(cidr, &m), 0);
        ta_netmask_range(&m, lo, hi);
}

/* Failures, reports and distinct logins from cidr since then. */
static void check_counts(sqlite3 *db, const char *cidr, double since, uint64_t failures,
                         uint64_t reports, uint64_t logins)
{
        uint8_t lo[16], hi[16];
        uint64_t n = UINT64_MAX;

        range_of(cidr, lo, hi);
        ASSERT_EQ_INT(ta_history_count_range(db, lo, hi, since, true, false, &n), 0);
        ASSERT_EQ_INT(n, failures);
        ASSERT_EQ_INT(ta_history_count_range(db, lo, hi, since, false, false, &n), 0);
        ASSERT_EQ_INT(n, reports);
        ASSERT_EQ_INT(ta_history_count_range(db, lo, hi, since, false, true, &n), 0);
        ASSERT_EQ_INT(n, logins);
}

static void test_questions(const char *path)
{
        double now = (double)ta_now_realtime_usec() / 1e6;
        TaHistory *h = NULL;
        sqlite3 *db = NULL;
        uint8_t lo[16], hi[16];
        uint64_t n;
        bool seen;
        TaTuple t;

        ASSERT_EQ_INT(ta_history_open(path, 3600, 1024, &h), 0);
        if (!h)
                return;
        for (int i = 0; i < 3; i++) {
                t = tuple("alice", "192.0.2.10", false, "dev1", NULL);
                ASSERT_EQ_INT(ta_history_add(h, &t, now), 0);
        }
        t = tuple("alice", "192.0.2.10", true, "dev1", "DE");
        ASSERT_EQ_INT(ta_history_add(h, &t, now), 0);
        t = tuple("bob", "192.0.2.10", false, "", NULL);
        ASSERT_EQ_INT(ta_history_add(h, &t, now), 0);
        t = tuple("carol", "2001:db8::1", true, "", "FR");
        ASSERT_EQ_INT(ta_history_add(h, &t, now), 0);
        /* long ago, from another address of the same /24 */
        t = tuple("dave", "192.0.2.20", false, "", NULL);
        ASSERT_EQ_INT(ta_history_add(h, &t, now - 3000), 0);
        ASSERT_EQ_INT(ta_history_sync(h), 0);

        ASSERT_EQ_INT(ta_history_open_reader(path, &db), 0);
        range_of("192.0.2.10/32", lo, hi);
        ASSERT_EQ_INT(ta_history_seen_range(db, "alice", lo, hi, &seen), 0);
        ASSERT_TRUE(seen);
        range_of("192.0.2.0/24", lo, hi);
        ASSERT_EQ_INT(ta_history_seen_range(db, "carol", lo, hi, &seen), 0);
        ASSERT_TRUE(!seen);
        range_of("2001:db8::/32", lo, hi);
        ASSERT_EQ_INT(ta_history_seen_range(db, "carol", lo, hi, &seen), 0);
        ASSERT_TRUE(seen);
        ASSERT_EQ_INT(ta_history_seen_column(db, "alice", "country", "DE", &seen), 0);
        ASSERT_TRUE(seen);
        ASSERT_EQ_INT(ta_history_seen_column(db, "alice", "country", "FR", &seen), 0);
        ASSERT_TRUE(!seen);
        ASSERT_EQ_INT(ta_history_seen_column(db, "alice", "device_id", "dev1", &seen), 0);
        ASSERT_TRUE(seen);
        /* a report without a device does not make "" a known device */
        ASSERT_EQ_INT(ta_history_seen_column(db, "bob", "device_id", "", &seen), 0);
        ASSERT_TRUE(!seen);
        ASSERT_EQ_INT(ta_history_failures_login(db, "alice", now - 60, &n), 0);
        ASSERT_EQ_INT(n, 3);
        ASSERT_EQ_INT(ta_history_failures_login(db, "alice", now + 60, &n), 0);
        ASSERT_EQ_INT(n, 0);
        /* a network is walked address by address, each from the window's first second */
        check_counts(db, "192.0.2.10/32", now - 60, 4, 5, 2);
        check_counts(db, "192.0.2.0/24", now - 60, 4, 5, 2);
        check_counts(db, "192.0.2.0/24", now - 3600, 5, 6, 3);
        check_counts(db, "192.0.2.20/32", now - 3600, 1, 1, 1);
        check_counts(db, "192.0.2.20/32", now - 60, 0, 0, 0);
        check_counts(db, "192.0.2.0/24", now + 60, 0, 0, 0);
        check_counts(db, "192.0.3.0/24", now - 3600, 0, 0, 0);
        check_counts(db, "2001:db8::/32", now - 60, 0, 1, 1);
        check_counts(db, "::/0", now - 3600, 5, 7, 4);
        /* one row per (address, second, login) in a batch */
        ASSERT_EQ_INT(count(db, "SELECT count(*) FROM addr_second"), 4);
        /* one login_seen row per distinct (login, kind, value) */
        ASSERT_EQ_INT(count(db, "SELECT count(*) FROM login_seen"), 7);
        ta_history_close_reader(db);
        ta_history_free(h);
}

static void test_expire(const char *path)
{
        double now = (double)ta_now_realtime_usec() / 1e6;
        TaHistory *h = NULL;
        sqlite3 *db = NULL;
        uint64_t deleted = 0;
        TaTuple t;

        ASSERT_EQ_INT(ta_history_open(path, 3600, 200000, &h), 0);
        if (!h)
                return;
        /* more old reports than one chunk, then new ones */
        for (int i = 0; i < TA_HISTORY_EXPIRE_CHUNK + 1000; i++) {
                t = tuple(i % 2 ? "old1" : "old2", "198.51.100.1", i % 3 == 0, "", NULL);
                ASSERT_EQ_INT(ta_history_add(h, &t, now - 7200 + i * 1e-3), 0);
                if (i % 50000 == 0)
                        ta_history_sync(h);
        }
        for (int i = 0; i < 10; i++) {
                t = tuple("new", "198.51.100.2", false, "d", NULL);
                ASSERT_EQ_INT(ta_history_add(h, &t, now - 10 + i), 0);
        }
        ASSERT_EQ_INT(ta_history_sync(h), 0);
        ASSERT_EQ_INT(ta_history_expire(h, &deleted), 0);
        ASSERT_EQ_INT(deleted, TA_HISTORY_EXPIRE_CHUNK + 1000);
        ASSERT_EQ_INT(ta_history_open_reader(path, &db), 0);
        ASSERT_EQ_INT(count(db, "SELECT count(*) FROM reports"), 10);
        /* the old address's counts went with its reports */
        ASSERT_EQ_INT(count(db, "SELECT count(*) FROM addr_second WHERE addr = "
                                "x'00000000000000000000ffffc6336401'"),
                      0);
        ASSERT_EQ_INT(count(db, "SELECT total(reports) FROM addr_second"), 10);
        ASSERT_EQ_INT(count(db, "SELECT count(*) FROM login_seen WHERE login LIKE 'old%'"), 0);
        ASSERT_EQ_INT(count(db, "SELECT count(*) FROM login_seen WHERE login = 'new'"), 2);
        ta_history_close_reader(db);
        ta_history_free(h);
}

static void test_queue_bound(const char *path)
{
        TaHistory *h = NULL;
        TaHistoryCounters c;
        TaTuple t = tuple("x", "192.0.2.1", true, "", NULL);
        int refused = 0, added = 0;

        ASSERT_EQ_INT(ta_history_open(path, 0, 16, &h), 0);
        if (!h)
                return;
        /* a burst far over the bound: the producer waits for room (or is refused, and then
         * does not add); nothing added is lost */
        for (int i = 0; i < 20000; i++) {
                if (ta_history_wait_room(h) == -EAGAIN) {
                        refused++;
                        continue;
                }
                ASSERT_EQ_INT(ta_history_add(h, &t, 1.0), 0);
                added++;
        }
        ASSERT_EQ_INT(ta_history_sync(h), 0);
        ta_history_counters(h, &c);
        ASSERT_EQ_INT(c.refused, (uint64_t)refused);
        ASSERT_EQ_INT(c.written, (uint64_t)added);
        ASSERT_EQ_INT(c.failed, 0);
        ASSERT_EQ_INT(c.queued, 0);
        ta_history_free(h);
}

/* Invalid UTF-8 is not stored as is: every byte outside a well-formed sequence becomes \xNN
 * (truncated, overlong, surrogate, stray continuation, over U+10FFFF), valid text (with
 * backslashes, bidi characters, separators) is kept; the questions map their argument alike. */
static void test_invalid_utf8(const char *path)
{
        static const struct {
                const char *in, *stored;
        } cases[] = {
                {"caf\xc3\xa9", "caf\xc3\xa9"},
                {"DOMAIN\\user", "DOMAIN\\user"},
                {"a\xe2\x80\xae"
                 "b",
                 "a\xe2\x80\xae"
                 "b"},
                {"bad\xff", "bad\\xff"},
                {"\xc3", "\\xc3"},
                {"\xc0\xaf", "\\xc0\\xaf"},
                {"\xed\xa0\x80x", "\\xed\\xa0\\x80x"},
                {"\x80\x80", "\\x80\\x80"},
                {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},
        };
        TaHistory *h = NULL;
        sqlite3 *db = NULL;

        ASSERT_EQ_INT(ta_history_open(path, 0, 1024, &h), 0);
        if (!h)
                return;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                TaTuple t = tuple(cases[i].in, "192.0.2.9", false, cases[i].in, NULL);

                ASSERT_EQ_INT(ta_history_wait_room(h), 0);
                ASSERT_EQ_INT(ta_history_add(h, &t, 100.0), 0);
        }
        ASSERT_EQ_INT(ta_history_sync(h), 0);
        ASSERT_EQ_INT(ta_history_open_reader(path, &db), 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                sqlite3_stmt *st = NULL;
                uint64_t n = 0;
                bool seen = false;

                ASSERT_EQ_INT(sqlite3_prepare_v2(db,
                                                 "SELECT count(*) FROM reports WHERE login = ?1 "
                                                 "AND device_id = ?1 AND typeof(login) = 'text'",
                                                 -1, &st, NULL),
                              SQLITE_OK);
                sqlite3_bind_text(st, 1, cases[i].stored, -1, SQLITE_STATIC);
                ASSERT_EQ_INT(sqlite3_step(st), SQLITE_ROW);
                ASSERT_EQ_INT(sqlite3_column_int64(st, 0), 1);
                sqlite3_finalize(st);
                ASSERT_EQ_INT(ta_history_failures_login(db, cases[i].in, 0, &n), 0);
                ASSERT_EQ_INT(n, 1);
                ASSERT_EQ_INT(
                        ta_history_seen_column(db, cases[i].in, "device_id", cases[i].in, &seen),
                        0);
                ASSERT_TRUE(seen);
        }
        ta_history_close_reader(db);
        ta_history_free(h);
}

static void test_migration(const char *path)
{
        uint8_t lo[16], hi[16];
        uint64_t n = 0;
        sqlite3 *db = NULL;
        TaHistory *h = NULL;
        bool seen = false;

        /* a version 1 database as the first release wrote it */
        ASSERT_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
        ASSERT_EQ_INT(sqlite3_exec(db, ta_history_migrations[0], NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ_INT(sqlite3_exec(db,
                                   "INSERT INTO reports VALUES (1e9, 'v1', "
                                   "x'00000000000000000000ffffc0000201', 0, 'imap', 'dv', NULL, "
                                   "'NL', 0);"
                                   "PRAGMA user_version = 1;",
                                   NULL, NULL, NULL),
                      SQLITE_OK);
        sqlite3_close(db);
        db = NULL;

        ASSERT_EQ_INT(ta_history_open(path, 0, 16, &h), 0);
        ta_history_free(h);
        ASSERT_EQ_INT(ta_history_open_reader(path, &db), 0);
        ASSERT_EQ_INT(count(db, "PRAGMA user_version"), 3);
        ASSERT_EQ_INT(count(db, "SELECT count(*) FROM login_seen WHERE login = 'v1'"), 3);
        ASSERT_EQ_INT(ta_history_seen_column(db, "v1", "country", "NL", &seen), 0);
        ASSERT_TRUE(seen);
        ASSERT_EQ_INT(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'reports_time'"),
                      0);
        ASSERT_EQ_INT(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'reports_addr'"),
                      0);
        /* version 3 counts reports per address and second, from the reports already stored */
        ASSERT_EQ_INT(count(db, "SELECT failures FROM addr_second WHERE second = 1000000000"), 1);
        range_of("192.0.2.1/32", lo, hi);
        ASSERT_EQ_INT(ta_history_count_range(db, lo, hi, 1e9 - 1, true, false, &n), 0);
        ASSERT_EQ_INT(n, 1);
        ASSERT_EQ_INT(ta_history_count_range(db, lo, hi, 1e9 - 1, false, true, &n), 0);
        ASSERT_EQ_INT(n, 1);
        ta_history_close_reader(db);
}

int main(void)
{
        char path[sizeof(dir) + 32];

        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        snprintf(path, sizeof(path), "%s/q.db", dir);
        test_questions(path);
        snprintf(path, sizeof(path), "%s/e.db", dir);
        test_expire(path);
        snprintf(path, sizeof(path), "%s/b.db", dir);
        test_queue_bound(path);
        snprintf(path, sizeof(path), "%s/m.db", dir);
        test_migration(path);
        snprintf(path, sizeof(path), "%s/u.db", dir);
        test_invalid_utf8(path);
        {
                char cmd[sizeof(dir) + 16];

                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                (void)!system(cmd);
        }
        return test_result();
}
