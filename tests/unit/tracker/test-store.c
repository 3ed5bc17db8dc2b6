/* test-store.c - trackerd's store: batches, aggregates, rejects, atomic failure, expiry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "test.h"
#include "trackerd-store.h"

static TrackerdRecord rec(const char *user, const char *host, const char *program, int64_t t)
{
        TrackerdRecord r = {.time = t};
        r.use.uid = 1000;
        snprintf(r.use.user, sizeof(r.use.user), "%s", user);
        snprintf(r.use.host, sizeof(r.use.host), "%s", host);
        snprintf(r.use.program, sizeof(r.use.program), "%s", program);
        snprintf(r.source, sizeof(r.source), "192.0.2.1");
        return r;
}

static long long query_int(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *st;
        long long v = -1;

        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                return -2;
        if (sqlite3_step(st) == SQLITE_ROW)
                v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

int main(void)
{
        char dir[] = "/tmp/test-store-XXXXXX", path[128], cmd[160];
        TrackerdStore *s = NULL;
        uint64_t rejects[_TRACKER_BAD_MAX] = {};
        uint64_t deleted = 0;
        sqlite3 *db;
        /* noon on two consecutive days in UTC, so the day split is unambiguous */
        struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 20, .tm_hour = 12};
        int64_t d1, d2;

        setenv("TZ", "UTC", 1);
        tzset();
        d1 = (int64_t)timegm(&tm);
        d2 = d1 + 86400;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        snprintf(path, sizeof(path), "%s/tracker.db", dir);
        ASSERT_EQ_INT(trackerd_store_open(path, &s), 0);
        db = trackerd_store_db(s);

        TrackerdRecord batch[] = {
                rec("alice", "ws1", "vim", d1),     rec("alice", "ws1", "vim", d1 + 60),
                rec("bob", "ws2", "vim", d1 + 120), rec("alice", "ws1", "emacs", d1 + 5),
                rec("alice", "ws1", "vim", d2 + 1),
        };
        rejects[TRACKER_BAD_MAGIC] = 3;
        rejects[TRACKER_BAD_TEXT] = 1;
        ASSERT_EQ_INT(trackerd_store_commit(s, batch, 5, rejects, d2), 0);
        ASSERT_EQ_INT(query_int(db, "SELECT count(*) FROM uses"), 5);
        ASSERT_EQ_INT(query_int(db, "SELECT runs FROM daily WHERE day='2026-11-20' AND "
                                    "program='vim' AND user='alice' AND host='ws1'"),
                      2);
        ASSERT_EQ_INT(query_int(db, "SELECT first FROM daily WHERE day='2026-11-20' AND "
                                    "program='vim' AND user='alice'"),
                      d1);
        ASSERT_EQ_INT(query_int(db, "SELECT last FROM daily WHERE day='2026-11-20' AND "
                                    "program='vim' AND user='alice'"),
                      d1 + 60);
        ASSERT_EQ_INT(query_int(db, "SELECT runs FROM daily WHERE day='2026-11-21' AND "
                                    "program='vim'"),
                      1);
        ASSERT_EQ_INT(query_int(db, "SELECT count(*) FROM daily"), 4);
        ASSERT_EQ_INT(query_int(db, "SELECT count FROM rejects WHERE reason='bad-magic'"), 3);

        /* The same batch again adds up; rejects accumulate. */
        ASSERT_EQ_INT(trackerd_store_commit(s, batch, 2, rejects, d2), 0);
        ASSERT_EQ_INT(query_int(db, "SELECT runs FROM daily WHERE day='2026-11-20' AND "
                                    "program='vim' AND user='alice'"),
                      4);
        ASSERT_EQ_INT(query_int(db, "SELECT count FROM rejects WHERE reason='bad-magic'"), 6);
        ASSERT_EQ_INT(query_int(db, "SELECT count FROM rejects WHERE reason='bad-text'"), 2);

        /* A batch that fails half-way stores nothing: make the second insert fail. */
        ASSERT_EQ_INT(state_exec(db, "CREATE TRIGGER no_mallory BEFORE INSERT ON uses "
                                     "WHEN NEW.user = 'mallory' BEGIN "
                                     "SELECT RAISE(ABORT, 'refused'); END"),
                      0);
        TrackerdRecord bad[] = {rec("carol", "ws3", "ed", d2), rec("mallory", "ws3", "ed", d2)};
        ASSERT_TRUE(trackerd_store_commit(s, bad, 2, NULL, d2) < 0);
        ASSERT_EQ_INT(query_int(db, "SELECT count(*) FROM uses WHERE user='carol'"), 0);
        ASSERT_EQ_INT(query_int(db, "SELECT count(*) FROM daily WHERE user='carol'"), 0);
        ASSERT_EQ_INT(query_int(db, "SELECT count(*) FROM uses"), 7);
        /* ...and the store is usable afterwards. */
        ASSERT_EQ_INT(trackerd_store_commit(s, bad, 1, NULL, d2), 0);
        ASSERT_EQ_INT(query_int(db, "SELECT count(*) FROM uses WHERE user='carol'"), 1);

        /* Expiry drops raw uses only. */
        ASSERT_EQ_INT(trackerd_store_expire(s, d2, &deleted), 0);
        ASSERT_EQ_INT(deleted, 6);
        ASSERT_EQ_INT(query_int(db, "SELECT count(*) FROM uses"), 2);
        ASSERT_EQ_INT(query_int(db, "SELECT sum(runs) FROM daily"), 8);

        /* A large batch with many colliding keys: every aggregate adds up exactly. */
        {
                enum { N = 20000 };
                TrackerdRecord *big = calloc(N, sizeof(*big));
                char sql[256];
                long long total;

                ASSERT_TRUE(big != NULL);
                for (int i = 0; i < N; i++) {
                        char user[16], host[16], prog[16];
                        snprintf(user, sizeof(user), "u%d", i % 7);
                        snprintf(host, sizeof(host), "h%d", i % 3);
                        snprintf(prog, sizeof(prog), "p%d", i % 5);
                        big[i] = rec(user, host, prog, d2 + 86400 + (i % 2) * 86400 + i % 60);
                }
                ASSERT_EQ_INT(trackerd_store_commit(s, big, N, NULL, d2), 0);
                /* 7, 3, 5 and 2 are coprime: 210 distinct keys, each about 95 times */
                ASSERT_EQ_INT(query_int(db, "SELECT count(*) FROM daily WHERE user LIKE 'u%'"),
                              7 * 3 * 5 * 2);
                total = query_int(db, "SELECT sum(runs) FROM daily WHERE user LIKE 'u%'");
                ASSERT_EQ_INT(total, N);
                /* One key checked against a count of the batch itself. */
                {
                        long long want = 0;
                        for (int i = 0; i < N; i++)
                                want += i % 7 == 5 && i % 3 == 2 && i % 5 == 4 && i % 2 == 1;
                        snprintf(sql, sizeof(sql),
                                 "SELECT runs FROM daily WHERE user='u5' AND host='h2' AND "
                                 "program='p4' AND day='2026-11-23'");
                        ASSERT_EQ_INT(query_int(db, sql), want);
                }
                free(big);
        }

        trackerd_store_free(s);

        /* Reopening keeps everything and does not migrate again. */
        ASSERT_EQ_INT(trackerd_store_open(path, &s), 0);
        ASSERT_EQ_INT(query_int(trackerd_store_db(s), "PRAGMA user_version"),
                      (long long)trackerd_store_n_migrations);
        ASSERT_EQ_INT(query_int(trackerd_store_db(s), "SELECT sum(runs) FROM daily"), 8 + 20000);
        trackerd_store_free(s);

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ASSERT_EQ_INT(system(cmd), 0);
        return test_result();
}
