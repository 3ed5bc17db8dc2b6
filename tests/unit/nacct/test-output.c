/* test-output.c - the classic line with fields disabled, grouping by the reduced key, the
 * fdelay/activetimeout rules, all-or-nothing appends, the dump file and its recovery. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nacctd-config.h"
#include "nacctd-flow.h"
#include "nacctd-names.h"
#include "nacctd-net.h"
#include "nacctd-output.h"
#include "test.h"

static char tmpdir[] = "/tmp/test-nacct-output-XXXXXX";

static NacctKey mkkey(const char *src, uint16_t sport, const char *dst, uint16_t dport,
                      uint8_t proto, uint16_t dev)
{
        NacctKey k;
        NacctAddr a;

        memset(&k, 0, sizeof(k));
        nacct_addr_parse(src, &a);
        memcpy(k.src, a.b, 16);
        k.family = a.family;
        nacct_addr_parse(dst, &a);
        memcpy(k.dst, a.b, 16);
        k.sport = sport;
        k.dport = dport;
        k.proto = proto;
        k.dev = dev;
        return k;
}

static NacctConfig *cfg(const char *extra)
{
        char text[512];
        NacctConfig *c = NULL;

        snprintf(text, sizeof(text), "file /dev/null\nfdelay 60\nactivetimeout 0\n%s", extra);
        if (nacct_config_parse("t", text, strlen(text), NULL, &c) < 0)
                return NULL;
        return c;
}

static char *slurp(const char *path)
{
        static char buf[65536];
        int fd = open(path, O_RDONLY);
        ssize_t n;

        if (fd < 0)
                return NULL;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n < 0 ? 0 : n] = '\0';
        return buf;
}

static void write_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ_INT(write(fd, text, strlen(text)), (long long)strlen(text));
        close(fd);
}

static void test_line(void)
{
        bool none[_NACCT_FIELD_MAX] = {};
        bool some[_NACCT_FIELD_MAX] = {};
        char buf[NACCT_LINE_MAX];
        NacctKey k = mkkey("10.200.1.2", 8, "10.200.2.2", 0, 1, 0);
        size_t n;

        n = nacct_line_format(buf, none, 1795348551, &k, 3, 252, "eth0", "alice");
        ASSERT_STREQ(buf, "1795348551\t1\t10.200.1.2\t8\t10.200.2.2\t0\t3\t252\teth0\talice\n");
        ASSERT_EQ_INT(n, strlen(buf));
        /* The spec's example: disable 4 and 7 -> 8 columns. */
        some[4] = some[7] = true;
        k = mkkey("10.200.1.2", 60362, "10.200.2.2", 5002, 6, 0);
        nacct_line_format(buf, some, 1795348671, &k, 9, 813, "eth0", "alice");
        ASSERT_STREQ(buf, "1795348671\t6\t10.200.1.2\t10.200.2.2\t5002\t813\teth0\talice\n");
        /* Everything that can go, gone: time only. */
        for (int i = 2; i <= 10; i++)
                some[i] = true;
        nacct_line_format(buf, some, 5, &k, 1, 1, "eth0", NULL);
        ASSERT_STREQ(buf, "5\n");
        /* IPv6, unknown user, 64-bit byte counts. */
        k = mkkey("2001:db8::1", 443, "2001:db8::2", 50000, 6, 0);
        nacct_line_format(buf, none, 0, &k, 4294967296ULL, 18446744073709551615ULL, "veth-a", NULL);
        ASSERT_STREQ(buf, "0\t6\t2001:db8::1\t443\t2001:db8::2\t50000\t4294967296\t"
                          "18446744073709551615\tveth-a\tunknown\n");
        /* Names from outside can neither split the line nor shift its fields, nor hide or
         * reorder text: every byte that is not visible text is written as \xNN, as in the
         * report tables (and a backslash too, once a name is escaped). */
        k = mkkey("10.0.0.1", 1, "10.0.0.2", 2, 17, 0);
        {
                static const struct {
                        const char *dev, *user, *want;
                } cases[] = {
                        {"e\tth0", "alice", "e\\x09th0\talice"},
                        {"eth0", "al\nice", "eth0\tal\\x0aice"},
                        {"eth0", "fake\n1\t6\t1.2.3.4", "eth0\tfake\\x0a1\\x096\\x091.2.3.4"},
                        {"x\x1b[2J", "u", "x\\x1b[2J\tu"},
                        {"eth0",
                         "\xe2\x80\xae"
                         "cba",
                         "eth0\t\\xe2\\x80\\xaecba"},
                        {"eth0",
                         "a\xe2\x80\xa8"
                         "b",
                         "eth0\ta\\xe2\\x80\\xa8b"},
                        {"eth0",
                         "a\xe2\x80\x8b"
                         "b\\",
                         "eth0\ta\\xe2\\x80\\x8bb\\x5c"},
                        {"eth0", "j\xc3\xbcrgen", "eth0\tj\xc3\xbcrgen"},
                        {"eth0", "bad\xff", "eth0\tbad\\xff"},
                };

                for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                        char want[256];
                        size_t tabs = 0;

                        nacct_line_format(buf, none, 7, &k, 1, 28, cases[i].dev, cases[i].user);
                        snprintf(want, sizeof(want), "7\t17\t10.0.0.1\t1\t10.0.0.2\t2\t1\t28\t%s\n",
                                 cases[i].want);
                        ASSERT_STREQ(buf, want);
                        for (const char *q = buf; *q; q++)
                                tabs += *q == '\t';
                        ASSERT_EQ_INT(tabs, 9);
                        ASSERT_TRUE(strchr(buf, '\n') == buf + strlen(buf) - 1);
                }
                /* The longest names fit, escaped. */
                {
                        char dev[65], user[129];

                        memset(dev, 0x1b, 64);
                        dev[64] = '\0';
                        memset(user, 0x01, 128);
                        user[128] = '\0';
                        ASSERT_TRUE(nacct_line_format(buf, none, 7, &k, 1, 28, dev, user) <
                                    NACCT_LINE_MAX);
                }
        }
}

typedef struct Fixture {
        NacctFlowTable *t;
        NacctNames *devs;
        NacctNames *users;
        uint32_t eth0;
        uint32_t alice;
} Fixture;

static NacctFlow *add(Fixture *fx, NacctKey k, uint64_t packets, uint64_t bytes, int64_t first,
                      int64_t last, uint32_t user)
{
        bool created;
        NacctFlow *f = nacct_flow_get(fx->t, &k, nacct_flow_hash(fx->t, &k), &created);

        f->packets = packets;
        f->bytes = bytes;
        f->first = first;
        f->last = last;
        f->user = user;
        return f;
}

static void test_collect(void)
{
        Fixture fx = {};
        NacctCollect col;
        NacctConfig *c;

        ASSERT_EQ_INT(nacct_flow_table_new(100, &fx.t), 0);
        ASSERT_EQ_INT(nacct_names_new(10, &fx.devs), 0);
        ASSERT_EQ_INT(nacct_names_new(10, &fx.users), 0);
        nacct_names_ref(fx.devs, "eth0", &fx.eth0);
        nacct_names_ref(fx.users, "alice", &fx.alice);
        /* Three connections to :5002 from different ports, one still busy; one reply. */
        add(&fx, mkkey("10.0.0.2", 40001, "10.0.0.3", 5002, 6, 0), 3, 300, 1000, 1010, fx.alice);
        add(&fx, mkkey("10.0.0.2", 40002, "10.0.0.3", 5002, 6, 0), 3, 313, 1000, 1020, fx.alice);
        add(&fx, mkkey("10.0.0.2", 40003, "10.0.0.3", 5002, 6, 0), 3, 200, 1000, 1090, fx.alice);
        add(&fx, mkkey("10.0.0.3", 5002, "10.0.0.2", 40001, 6, 0), 2, 80, 1000, 1010,
            NACCT_NAME_NONE);
        /* A record already written and not touched since: no line. */
        add(&fx, mkkey("10.0.0.9", 1, "10.0.0.8", 2, 17, 0), 0, 0, 0, 900, NACCT_NAME_NONE);

        /* No key field disabled: one line per record; at 1100 with fdelay 60 only the busy
         * one (last 1090) is held back. */
        c = cfg("");
        ASSERT_EQ_INT(nacct_collect(fx.t, c, fx.devs, fx.users, 1100, false, &col), 0);
        ASSERT_EQ_INT(col.n_due_lines, 3);
        ASSERT_EQ_INT(col.n_pending_lines, 1);
        ASSERT_EQ_INT(col.n_due_records, 3);
        ASSERT_TRUE(col.due_records[0] && col.due_records[1] && !col.due_records[2] &&
                    col.due_records[3] && !col.due_records[4]);
        ASSERT_TRUE(col.pending.len > 0 &&
                    strstr(col.pending.data, "1100\t6\t10.0.0.2\t40003\t10.0.0.3\t5002\t3\t200\t"
                                             "eth0\talice\n") == col.pending.data);
        nacct_collect_done(&col);
        /* fdelay is "more than": idle exactly fdelay seconds is not yet due. */
        ASSERT_EQ_INT(nacct_collect(fx.t, c, fx.devs, fx.users, 1080, false, &col), 0);
        ASSERT_EQ_INT(col.n_due_lines, 2);
        nacct_collect_done(&col);
        /* Forced: everything with something to write. */
        ASSERT_EQ_INT(nacct_collect(fx.t, c, fx.devs, fx.users, 1100, true, &col), 0);
        ASSERT_EQ_INT(col.n_due_lines, 4);
        ASSERT_EQ_INT(col.n_pending_lines, 0);
        nacct_collect_done(&col);
        nacct_config_free(c);

        /* activetimeout: the busy one is written too once its oldest packet is old enough. */
        c = cfg("activetimeout 100\n");
        ASSERT_EQ_INT(nacct_collect(fx.t, c, fx.devs, fx.users, 1099, false, &col), 0);
        ASSERT_EQ_INT(col.n_due_lines, 3);
        nacct_collect_done(&col);
        ASSERT_EQ_INT(nacct_collect(fx.t, c, fx.devs, fx.users, 1100, false, &col), 0);
        ASSERT_EQ_INT(col.n_due_lines, 4);
        nacct_collect_done(&col);
        nacct_config_free(c);

        /* disable 4: the three connections form one group; it is due only when all three
         * are idle, as the original's merged record was. */
        c = cfg("disable 4\ndisable 7\n");
        ASSERT_EQ_INT(nacct_collect(fx.t, c, fx.devs, fx.users, 1100, false, &col), 0);
        ASSERT_EQ_INT(col.n_due_lines, 1); /* the reply */
        ASSERT_EQ_INT(col.n_pending_lines, 1);
        ASSERT_STREQ(col.pending.data, "1100\t6\t10.0.0.2\t10.0.0.3\t5002\t813\teth0\talice\n");
        ASSERT_TRUE(!col.due_records[0] && !col.due_records[1] && !col.due_records[2] &&
                    col.due_records[3]);
        nacct_collect_done(&col);
        ASSERT_EQ_INT(nacct_collect(fx.t, c, fx.devs, fx.users, 1151, false, &col), 0);
        ASSERT_EQ_INT(col.n_due_lines, 2);
        ASSERT_EQ_INT(col.n_due_records, 4);
        ASSERT_TRUE(strstr(col.due.data, "1151\t6\t10.0.0.2\t10.0.0.3\t5002\t813\teth0\talice\n"));
        ASSERT_TRUE(
                strstr(col.due.data, "1151\t6\t10.0.0.3\t10.0.0.2\t40001\t80\teth0\tunknown\n"));
        nacct_collect_done(&col);
        nacct_config_free(c);

        /* disable 3 and 5 (both addresses): flows of different users stay apart. */
        c = cfg("disable 3\ndisable 4\ndisable 5\ndisable 6\n");
        ASSERT_EQ_INT(nacct_collect(fx.t, c, fx.devs, fx.users, 2000, false, &col), 0);
        ASSERT_EQ_INT(col.n_due_lines, 2);
        ASSERT_TRUE(strstr(col.due.data, "2000\t6\t9\t813\teth0\talice\n") != NULL);
        ASSERT_TRUE(strstr(col.due.data, "2000\t6\t2\t80\teth0\tunknown\n") != NULL);
        nacct_collect_done(&col);
        nacct_config_free(c);

        nacct_flow_table_free(fx.t);
        nacct_names_free(fx.devs);
        nacct_names_free(fx.users);
}

static void test_append(void)
{
        char path[256];
        struct rlimit old, lim;
        char *big;
        int r;

        snprintf(path, sizeof(path), "%s/log", tmpdir);
        ASSERT_EQ_INT(nacct_log_append(path, "a\n", 2), 0);
        ASSERT_EQ_INT(nacct_log_append(path, "b\n", 2), 0);
        ASSERT_EQ_INT(nacct_log_append(path, NULL, 0), 0);
        ASSERT_STREQ(slurp(path), "a\nb\n");

        /* A write that fails halfway (file size limit) leaves the file as it was. */
        big = malloc(1 << 20);
        memset(big, 'x', 1 << 20);
        signal(SIGXFSZ, SIG_IGN);
        getrlimit(RLIMIT_FSIZE, &old);
        lim = old;
        lim.rlim_cur = 100000;
        setrlimit(RLIMIT_FSIZE, &lim);
        r = nacct_log_append(path, big, 1 << 20);
        setrlimit(RLIMIT_FSIZE, &old);
        ASSERT_EQ_INT(r, -EFBIG);
        ASSERT_STREQ(slurp(path), "a\nb\n");
        free(big);

        /* No directory: an error, nothing else. */
        snprintf(path, sizeof(path), "%s/nodir/log", tmpdir);
        ASSERT_EQ_INT(nacct_log_append(path, "a\n", 2), -ENOENT);
        /* Anything but a regular file is refused, and opening it never blocks (a FIFO
         * without a reader, a FIFO with one, a directory, a device, a socket's path). */
        ASSERT_EQ_INT(nacct_log_append("/dev/full", "a\n", 2), -NACCT_ENOTREG);
        ASSERT_EQ_INT(nacct_log_append("/dev/null", NULL, 0), -NACCT_ENOTREG);
        ASSERT_EQ_INT(nacct_log_append(tmpdir, "a\n", 2), -EISDIR);
        snprintf(path, sizeof(path), "%s/fifo", tmpdir);
        ASSERT_EQ_INT(mkfifo(path, 0600), 0);
        ASSERT_EQ_INT(nacct_log_append(path, "a\n", 2), -NACCT_ENOTREG);
        {
                int rfd = open(path, O_RDONLY | O_NONBLOCK);

                ASSERT_TRUE(rfd >= 0);
                ASSERT_EQ_INT(nacct_log_append(path, "a\n", 2), -NACCT_ENOTREG);
                close(rfd);
        }
        ASSERT_STREQ(nacct_strerror_file(-NACCT_ENOTREG), "Not a regular file");
}

static void test_dump(void)
{
        char dump[256], log[256], tmp[300], path[256];
        size_t lines = 99;
        NacctBuffer backlog = {};

        snprintf(dump, sizeof(dump), "%s/dump", tmpdir);
        snprintf(log, sizeof(log), "%s/dlog", tmpdir);
        snprintf(tmp, sizeof(tmp), "%s.new", dump);
        ASSERT_EQ_INT(nacct_dump_write(dump, "x\ty\n", 4), 0);
        ASSERT_STREQ(slurp(dump), NACCT_DUMP_MAGIC "x\ty\n");
        ASSERT_EQ_INT(nacct_dump_is_ours(dump), 1);
        ASSERT_EQ_INT(nacct_dump_write(dump, "z\n", 2), 0);
        ASSERT_STREQ(slurp(dump), NACCT_DUMP_MAGIC "z\n");
        ASSERT_EQ_INT(nacct_dump_write(dump, NULL, 0), 0);
        ASSERT_TRUE(access(dump, F_OK) < 0);
        ASSERT_EQ_INT(nacct_dump_write(dump, NULL, 0), 0);

        /* Nothing to recover. */
        ASSERT_EQ_INT(nacct_dump_recover(dump, log, &backlog, &lines), 0);
        ASSERT_EQ_INT(lines, 0);
        /* A crash left two lines (the last one without newline, say a hand-edited file). */
        nacct_log_append(log, "old\n", 4);
        nacct_dump_write(dump, "1\t2\n3\t4", 7);
        ASSERT_EQ_INT(nacct_dump_recover(dump, log, &backlog, &lines), 1);
        ASSERT_EQ_INT(lines, 2);
        ASSERT_STREQ(slurp(log), "old\n1\t2\n3\t4\n");
        ASSERT_TRUE(access(dump, F_OK) < 0);

        /* The log cannot be written: the dump stays where it is (nothing renamed), and its
         * lines come back to the caller. */
        snprintf(log, sizeof(log), "%s/nodir/log", tmpdir);
        nacct_dump_write(dump, "a\n", 2);
        ASSERT_EQ_INT(nacct_dump_recover(dump, log, &backlog, &lines), -ENOENT);
        ASSERT_EQ_INT(lines, 1);
        ASSERT_STREQ(backlog.data, "a\n");
        ASSERT_STREQ(slurp(dump), NACCT_DUMP_MAGIC "a\n");
        nacct_buffer_done(&backlog);

        /* A file nacctd did not write is never read back, replaced or removed: the log itself,
         * any other file; nor is a foreign file at dump.new. */
        snprintf(log, sizeof(log), "%s/dlog", tmpdir);
        ASSERT_EQ_INT(nacct_dump_recover(log, log, &backlog, &lines), -EEXIST);
        ASSERT_EQ_INT(nacct_dump_write(log, "q\n", 2), -EEXIST);
        ASSERT_EQ_INT(nacct_dump_write(log, NULL, 0), -EEXIST);
        ASSERT_STREQ(slurp(log), "old\n1\t2\n3\t4\n");
        ASSERT_EQ_INT(nacct_dump_is_ours(log), 0);
        write_file(tmp, "precious\n");
        ASSERT_EQ_INT(nacct_dump_write(dump, "b\n", 2), -EEXIST);
        ASSERT_STREQ(slurp(tmp), "precious\n");
        ASSERT_STREQ(slurp(dump), NACCT_DUMP_MAGIC "a\n");
        unlink(tmp);
        /* A leftover dump.new of ours (a crash before the rename) is replaced. */
        write_file(tmp, NACCT_DUMP_MAGIC "old\n");
        ASSERT_EQ_INT(nacct_dump_write(dump, "b\n", 2), 0);
        ASSERT_STREQ(slurp(dump), NACCT_DUMP_MAGIC "b\n");
        ASSERT_TRUE(access(tmp, F_OK) < 0);

        /* A directory, a FIFO or a device as the dump: refused, untouched, no hang. */
        snprintf(path, sizeof(path), "%s/dumpdir", tmpdir);
        ASSERT_EQ_INT(mkdir(path, 0700), 0);
        ASSERT_EQ_INT(nacct_dump_recover(path, log, &backlog, &lines), -EISDIR);
        ASSERT_EQ_INT(nacct_dump_write(path, "x\n", 2), -EISDIR);
        ASSERT_EQ_INT(nacct_dump_write(path, NULL, 0), -EISDIR);
        ASSERT_TRUE(access(path, F_OK) == 0);
        snprintf(path, sizeof(path), "%s/dumpfifo", tmpdir);
        ASSERT_EQ_INT(mkfifo(path, 0600), 0);
        ASSERT_EQ_INT(nacct_dump_recover(path, log, &backlog, &lines), -NACCT_ENOTREG);
        ASSERT_EQ_INT(nacct_dump_write(path, "x\n", 2), -NACCT_ENOTREG);
        ASSERT_EQ_INT(nacct_dump_write(path, NULL, 0), -NACCT_ENOTREG);
        ASSERT_TRUE(access(path, F_OK) == 0);
        ASSERT_EQ_INT(nacct_dump_write("/dev/null", NULL, 0), -NACCT_ENOTREG);
        ASSERT_EQ_INT(nacct_dump_recover("/dev/zero", log, &backlog, &lines), -NACCT_ENOTREG);
}

int main(void)
{
        char cmd[128];

        if (!mkdtemp(tmpdir))
                return 1;
        test_line();
        test_collect();
        test_append();
        test_dump();
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        (void)!system(cmd);
        return test_result();
}
