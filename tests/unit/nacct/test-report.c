/* test-report.c - nacct-report's queries over a database nacctd's store wrote, and its table,
 * CSV, JSON and SVG output, including names that must be escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "nacct-report-output.h"
#include "nacct-report-query.h"
#include "nacctd-agg.h"
#include "nacctd-decode.h"
#include "nacctd-net.h"
#include "nacctd-store.h"
#include "state.h"
#include "test.h"

static void flow(NacctAgg *a, const char *src, uint16_t sport, const char *dst, uint16_t dport,
                 uint8_t proto, uint32_t dev, uint32_t user, int64_t bin, uint64_t bytes)
{
        NacctFlow f;
        NacctAddr x;

        memset(&f, 0, sizeof(f));
        nacct_addr_parse(src, &x);
        memcpy(f.key.src, x.b, 16);
        f.key.family = x.family;
        nacct_addr_parse(dst, &x);
        memcpy(f.key.dst, x.b, 16);
        f.key.sport = sport;
        f.key.dport = dport;
        f.key.proto = proto;
        f.key.dev = (uint16_t)dev;
        f.user = user;
        f.user_side = NACCT_USER_SIDE_SRC;
        f.bin = bin;
        f.db_packets[NACCT_DIR_IN] = 1;
        f.db_bytes[NACCT_DIR_IN] = bytes;
        nacct_agg_fold_flow(a, &f);
}

static char *render(NrFormat fmt, NrKind kind, const NrRows *rows)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        nr_output(f, fmt, kind, rows, &(NrChart){.title = "a <title> & more", .by = NR_BY_DAY});
        fclose(f);
        return buf;
}

int main(void)
{
        char dir[] = "/tmp/test-nacct-report-XXXXXX", path[128], cmd[160];
        NacctNames *devs = NULL, *users = NULL;
        NacctStore *s = NULL;
        NacctAgg *a = NULL;
        uint32_t eth0, alice, weird;
        NrRows rows = {};
        NrFilter f = {.since = INT64_MIN, .until = INT64_MAX, .top = 0, .by = NR_BY_DAY};
        sqlite3 *db = NULL;
        int64_t day1, day2;
        char *out;

        setenv("TZ", "UTC", 1);
        tzset();
        if (!mkdtemp(dir))
                return 1;
        snprintf(path, sizeof(path), "%s/nacct.db", dir);
        ASSERT_EQ_INT(nr_parse_date("2024-03-01", &day1), 0);
        ASSERT_EQ_INT(day1, 1709251200);
        ASSERT_EQ_INT(nr_parse_date("2024-03-02", &day2), 0);
        ASSERT_EQ_INT(nr_parse_date("2024-02-30", &day2), -EINVAL);
        ASSERT_EQ_INT(nr_parse_date("2024-3-1", &day2), -EINVAL);
        ASSERT_EQ_INT(nr_parse_date("2024-03-02", &day2), 0);
        {
                char h[64];

                ASSERT_EQ_INT(nr_normalize_host("2001:DB8:0::1", h, sizeof(h)), 0);
                ASSERT_STREQ(h, "2001:db8::1");
                ASSERT_EQ_INT(nr_normalize_host("nope", h, sizeof(h)), -EINVAL);
        }

        ASSERT_EQ_INT(nacct_store_open(path, &s), 0);
        nacct_names_new(8, &devs);
        nacct_names_new(8, &users);
        nacct_names_ref(devs, "eth0", &eth0);
        nacct_names_ref(users, "alice", &alice);
        nacct_names_ref(users, "o'brien, \"the\" <user>", &weird);
        nacct_agg_new(devs, users, 1000, &a);
        /* Day 1: 10.0.0.1 -> 10.0.0.2:443 1000 bytes (alice) in two hours; day 2: 500 bytes
         * 10.0.0.3 -> 10.0.0.1:53 and 10.0.0.2 -> 10.0.0.1 ICMP 84 (weird user). */
        flow(a, "10.0.0.1", 50000, "10.0.0.2", 443, 6, eth0, alice, day1, 600);
        flow(a, "10.0.0.1", 50000, "10.0.0.2", 443, 6, eth0, alice, day1 + 3600, 400);
        flow(a, "10.0.0.3", 40000, "10.0.0.1", 53, 17, eth0, NACCT_NAME_NONE, day2, 500);
        flow(a, "10.0.0.2", 8, "10.0.0.1", 0, 1, eth0, weird, day2 + 7200, 84);
        ASSERT_EQ_INT(nacct_store_commit(s, a, 3600), 0);
        nacct_agg_free(a);
        nacct_store_free(s);

        ASSERT_EQ_INT(state_open(path, true, nacct_store_migrations, nacct_store_n_migrations, &db),
                      0);
        ASSERT_EQ_INT(nr_bin_seconds(db), 3600);

        /* Top hosts: 10.0.0.1 sent 1000, received 584. */
        ASSERT_EQ_INT(nr_query(db, NR_HOSTS, &f, &rows), 0);
        ASSERT_EQ_INT(rows.n, 3);
        ASSERT_STREQ(rows.rows[0].name, "10.0.0.1");
        ASSERT_EQ_INT(rows.rows[0].bytes_out, 1000);
        ASSERT_EQ_INT(rows.rows[0].bytes_in, 584);
        ASSERT_EQ_INT(rows.rows[0].bytes, 1584);
        nr_rows_done(&rows);
        f.top = 1;
        ASSERT_EQ_INT(nr_query(db, NR_HOSTS, &f, &rows), 0);
        ASSERT_EQ_INT(rows.n, 1);
        nr_rows_done(&rows);
        f.top = 0;
        /* The period: day 2 only. */
        f.since = day2;
        ASSERT_EQ_INT(nr_query(db, NR_HOSTS, &f, &rows), 0);
        ASSERT_STREQ(rows.rows[0].name, "10.0.0.1");
        ASSERT_EQ_INT(rows.rows[0].bytes_in, 584);
        ASSERT_EQ_INT(rows.rows[0].bytes_out, 0);
        nr_rows_done(&rows);
        f.since = INT64_MIN;

        ASSERT_EQ_INT(nr_query(db, NR_PORTS, &f, &rows), 0);
        ASSERT_EQ_INT(rows.n, 2);
        ASSERT_EQ_INT(rows.rows[0].proto, 6);
        ASSERT_EQ_INT(rows.rows[0].port, 443);
        ASSERT_EQ_INT(rows.rows[0].bytes_in, 1000);
        nr_rows_done(&rows);
        ASSERT_EQ_INT(nr_query(db, NR_PROTOCOLS, &f, &rows), 0);
        ASSERT_EQ_INT(rows.n, 3);
        nr_rows_done(&rows);
        ASSERT_EQ_INT(nr_query(db, NR_USERS, &f, &rows), 0);
        ASSERT_EQ_INT(rows.n, 2);
        ASSERT_STREQ(rows.rows[0].name, "alice");
        ASSERT_EQ_INT(rows.rows[0].bytes_out, 1000);
        nr_rows_done(&rows);

        ASSERT_EQ_INT(nr_query(db, NR_DAILY, &f, &rows), 0);
        ASSERT_EQ_INT(rows.n, 2);
        ASSERT_STREQ(rows.rows[0].name, "2024-03-01");
        ASSERT_EQ_INT(rows.rows[0].bytes, 1000);
        ASSERT_EQ_INT(rows.rows[1].bytes, 584);
        ASSERT_EQ_INT(rows.rows[1].packets, 2);
        nr_rows_done(&rows);
        ASSERT_EQ_INT(nr_query(db, NR_MONTHLY, &f, &rows), 0);
        ASSERT_EQ_INT(rows.n, 1);
        ASSERT_STREQ(rows.rows[0].name, "2024-03");
        ASSERT_EQ_INT(rows.rows[0].bytes, 1584);
        nr_rows_done(&rows);

        f.by = NR_BY_HOUR;
        f.subject = "10.0.0.1";
        ASSERT_EQ_INT(nr_query(db, NR_HOST, &f, &rows), 0);
        ASSERT_EQ_INT(rows.n, 4);
        ASSERT_STREQ(rows.rows[0].name, "2024-03-01 00:00");
        ASSERT_EQ_INT(rows.rows[0].time, day1);
        ASSERT_EQ_INT(rows.rows[1].bytes_out, 400);
        nr_rows_done(&rows);
        f.subject = "o'brien, \"the\" <user>";
        ASSERT_EQ_INT(nr_query(db, NR_USER, &f, &rows), 0);
        ASSERT_EQ_INT(rows.n, 1);
        nr_rows_done(&rows);

        /* Output formats. */
        f.subject = NULL;
        f.by = NR_BY_DAY;
        ASSERT_EQ_INT(nr_query(db, NR_USERS, &f, &rows), 0);
        out = render(NR_FORMAT_CSV, NR_USERS, &rows);
        ASSERT_STREQ(out, "user,bytes,bytes_in,bytes_out,packets_in,packets_out\r\n"
                          "alice,1000,0,1000,0,2\r\n"
                          "\"o'brien, \"\"the\"\" <user>\",84,0,84,0,1\r\n");
        free(out);
        out = render(NR_FORMAT_JSON, NR_USERS, &rows);
        {
                json_object *j = json_tokener_parse(out);

                ASSERT_TRUE(j && json_object_array_length(j) == 2);
                ASSERT_STREQ(json_object_get_string(json_object_object_get(
                                     json_object_array_get_idx(j, 1), "user")),
                             "o'brien, \"the\" <user>");
                ASSERT_EQ_INT(json_object_get_int64(json_object_object_get(
                                      json_object_array_get_idx(j, 0), "bytes_out")),
                              1000);
                json_object_put(j);
        }
        free(out);
        out = render(NR_FORMAT_TABLE, NR_USERS, &rows);
        ASSERT_TRUE(strstr(out, "USER") == out);
        ASSERT_TRUE(strstr(out, "1000 B") != NULL);
        free(out);
        ASSERT_EQ_INT(nr_output(stdout, NR_FORMAT_SVG, NR_USERS, &rows, &(NrChart){.title = "x"}),
                      -EOPNOTSUPP);
        nr_rows_done(&rows);

        ASSERT_EQ_INT(nr_query(db, NR_DAILY, &f, &rows), 0);
        out = render(NR_FORMAT_SVG, NR_DAILY, &rows);
        ASSERT_TRUE(strstr(out, "<svg ") != NULL);
        ASSERT_TRUE(strstr(out, "a &lt;title&gt; &amp; more") != NULL);
        ASSERT_TRUE(strstr(out, ">Mar 2024<") != NULL);
        ASSERT_TRUE(strlen(out) > 7 && streq(out + strlen(out) - 7, "</svg>\n"));
        free(out);
        nr_rows_done(&rows);

        /* A name that is not text is escaped in the table. */
        {
                NrRow r = {.name = (char *)"bad\x01\xff"};
                NrRows one = {.rows = &r, .n = 1};

                out = render(NR_FORMAT_TABLE, NR_HOSTS, &one);
                ASSERT_TRUE(strstr(out, "bad\\x01\\xff") != NULL);
                free(out);
        }
        {
                char b[16];

                ASSERT_STREQ(nr_format_bytes(1023, b, sizeof(b)), "1023 B");
                ASSERT_STREQ(nr_format_bytes(1536, b, sizeof(b)), "1.5 KiB");
                ASSERT_STREQ(nr_format_bytes(5LL << 30, b, sizeof(b)), "5.0 GiB");
                ASSERT_STREQ(nr_protocol_name(58), "ipv6-icmp");
                ASSERT_TRUE(nr_protocol_name(250) == NULL);
        }
        ASSERT_EQ_INT(nr_kind_from_string("monthly"), NR_MONTHLY);
        ASSERT_EQ_INT(nr_kind_from_string("nope"), -EINVAL);

        sqlite3_close(db);
        nacct_names_free(devs);
        nacct_names_free(users);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void)!system(cmd);
        return test_result();
}
