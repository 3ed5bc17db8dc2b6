/* test-store.c - nacct.db: schema, one transaction per commit, sums across commits, nothing
 * written when a commit fails, expiry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nacctd-agg.h"
#include "nacctd-decode.h"
#include "nacctd-net.h"
#include "nacctd-store.h"
#include "state.h"
#include "test.h"

static long long q(sqlite3 *db, const char *sql)
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

static void flow(NacctAgg *a, const char *src, const char *dst, uint16_t sport, uint16_t dport,
                 uint16_t dev, uint32_t user, int64_t bin, uint64_t pin, uint64_t bin_bytes,
                 uint64_t pout, uint64_t bout)
{
        NacctFlow f;
        NacctAddr x;

        memset(&f, 0, sizeof(f));
        nacct_addr_parse(src, &x);
        memcpy(f.key.src, x.b, 16);
        f.key.family = x.family;
        nacct_addr_parse(dst, &x);
        memcpy(f.key.dst, x.b, 16);
        f.key.proto = 17;
        f.key.sport = sport;
        f.key.dport = dport;
        f.key.dev = dev;
        f.user = user;
        f.user_side = NACCT_USER_SIDE_DST;
        f.bin = bin;
        f.db_packets[NACCT_DIR_IN] = pin;
        f.db_bytes[NACCT_DIR_IN] = bin_bytes;
        f.db_packets[NACCT_DIR_OUT] = pout;
        f.db_bytes[NACCT_DIR_OUT] = bout;
        nacct_agg_fold_flow(a, &f);
}

int main(void)
{
        char dir[] = "/tmp/test-nacct-store-XXXXXX", path[128], cmd[160];
        NacctNames *devs = NULL, *users = NULL;
        NacctStore *s = NULL;
        NacctAgg *a = NULL;
        uint32_t eth0, bob;
        uint64_t deleted = 0;
        sqlite3 *db;
        int v = -1;

        if (!mkdtemp(dir))
                return 1;
        snprintf(path, sizeof(path), "%s/nacct.db", dir);
        ASSERT_EQ_INT(nacct_store_open(path, &s), 0);
        if (!s)
                return test_result();
        db = nacct_store_db(s);
        ASSERT_EQ_INT(state_user_version(db, &v), 0);
        ASSERT_EQ_INT(v, (int)nacct_store_n_migrations);

        nacct_names_new(8, &devs);
        nacct_names_new(8, &users);
        nacct_names_ref(devs, "eth0", &eth0);
        nacct_names_ref(users, "bob", &bob);
        nacct_agg_new(devs, users, 10000, &a);

        flow(a, "10.0.0.1", "10.0.0.2", 4000, 53, (uint16_t)eth0, bob, 3600, 2, 200, 1, 50);
        flow(a, "2001:db8::1", "2001:db8::2", 4000, 53, (uint16_t)eth0, NACCT_NAME_NONE, 7200, 1,
             70, 0, 0);
        ASSERT_EQ_INT(nacct_store_commit(s, a, 3600), 0);
        ASSERT_EQ_INT(q(db, "SELECT sum(bytes) FROM totals"), 320);
        ASSERT_EQ_INT(q(db, "SELECT sum(packets) FROM totals"), 4);
        ASSERT_EQ_INT(q(db, "SELECT count(*) FROM totals"), 2);
        ASSERT_EQ_INT(q(db, "SELECT bytes_in FROM interfaces WHERE interface='eth0' AND bin=3600"),
                      200);
        ASSERT_EQ_INT(q(db, "SELECT bytes_out FROM interfaces WHERE interface='eth0' AND bin=3600"),
                      50);
        ASSERT_EQ_INT(q(db, "SELECT bytes_out FROM hosts WHERE host='10.0.0.1'"), 250);
        ASSERT_EQ_INT(q(db, "SELECT sum(bytes_in) FROM hosts WHERE host='10.0.0.2'"), 250);
        ASSERT_EQ_INT(q(db, "SELECT bytes_in FROM hosts WHERE host='2001:db8::2' AND bin=7200"),
                      70);
        ASSERT_EQ_INT(q(db, "SELECT bytes_out FROM hosts WHERE host='2001:db8::1'"), 70);
        ASSERT_EQ_INT(q(db, "SELECT bytes_in FROM users WHERE user='bob'"), 250);
        ASSERT_EQ_INT(q(db, "SELECT count(*) FROM users"), 1);
        ASSERT_EQ_INT(q(db, "SELECT sum(bytes_in) FROM ports WHERE proto=17 AND port=53"), 320);
        ASSERT_EQ_INT(q(db, "SELECT sum(packets_in + packets_out) FROM protocols WHERE proto=17"),
                      4);
        ASSERT_EQ_INT(q(db, "SELECT value FROM settings WHERE key='bin_seconds'"), 3600);
        /* Each dimension adds up to the totals. */
        ASSERT_EQ_INT(q(db, "SELECT sum(bytes_in) FROM hosts"), 320);
        ASSERT_EQ_INT(q(db, "SELECT sum(bytes_out) FROM hosts"), 320);
        ASSERT_EQ_INT(q(db, "SELECT sum(bytes_in + bytes_out) FROM interfaces"), 320);

        /* A second commit adds up. */
        ASSERT_EQ_INT(nacct_store_commit(s, a, 3600), 0);
        ASSERT_EQ_INT(q(db, "SELECT sum(bytes) FROM totals"), 640);
        nacct_agg_clear(a);

        /* A failing commit writes nothing, and the aggregates stay for the retry. */
        flow(a, "10.0.0.1", "10.0.0.2", 4000, 53, (uint16_t)eth0, bob, 3600, 1, 1000, 0, 0);
        ASSERT_EQ_INT(state_exec(db, "PRAGMA query_only = ON"), 0);
        ASSERT_TRUE(nacct_store_commit(s, a, 3600) < 0);
        ASSERT_EQ_INT(state_exec(db, "PRAGMA query_only = OFF"), 0);
        ASSERT_EQ_INT(q(db, "SELECT sum(bytes) FROM totals"), 640);
        ASSERT_TRUE(a->n > 0);
        ASSERT_EQ_INT(nacct_store_commit(s, a, 3600), 0);
        ASSERT_EQ_INT(q(db, "SELECT sum(bytes) FROM totals"), 1640);
        nacct_agg_clear(a);

        /* Expiry: bins before the cutoff go from every table. */
        ASSERT_EQ_INT(nacct_store_expire(s, 7200, &deleted), 0);
        ASSERT_TRUE(deleted > 0);
        ASSERT_EQ_INT(q(db, "SELECT min(bin) FROM totals"), 7200);
        ASSERT_EQ_INT(q(db, "SELECT count(*) FROM hosts WHERE bin < 7200"), 0);
        ASSERT_EQ_INT(q(db, "SELECT count(*) FROM interfaces WHERE bin < 7200"), 0);

        nacct_agg_free(a);
        nacct_store_free(s);
        /* Reopening migrates nothing and keeps the data. */
        ASSERT_EQ_INT(nacct_store_open(path, &s), 0);
        ASSERT_EQ_INT(q(nacct_store_db(s), "SELECT sum(bytes) FROM totals"), 140);
        nacct_store_free(s);
        nacct_names_unref(devs, eth0);
        nacct_names_unref(users, bob);
        nacct_names_free(devs);
        nacct_names_free(users);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void)!system(cmd);
        return test_result();
}
