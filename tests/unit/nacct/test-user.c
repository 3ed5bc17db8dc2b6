/* test-user.c - dynamicip lookups (files named after addresses, rewritten, removed, empty or
 * not a name) and utmp lookups for `line`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utmp.h>

#include "nacctd-names.h"
#include "nacctd-net.h"
#include "nacctd-user.h"
#include "test.h"

static char dir[] = "/tmp/test-nacct-user-XXXXXX";

static void write_file(const char *name, const char *content, bool truncate_in_place)
{
        char path[256];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT | (truncate_in_place ? O_TRUNC : O_EXCL), 0644);
        if (fd < 0 && !truncate_in_place) {
                unlink(path);
                fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        }
        if (fd < 0)
                return;
        (void)!write(fd, content, strlen(content));
        close(fd);
}

static void set_mtime(const char *name, time_t t)
{
        char path[256];
        struct timespec ts[2] = {{t, 0}, {t, 0}};

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        utimensat(AT_FDCWD, path, ts, 0);
}

static const char *lookup(NacctUsers *u, NacctNames *names, const char *addr, int64_t now)
{
        static char buf[128];
        NacctAddr a;
        uint32_t id;

        if (nacct_addr_parse(addr, &a) < 0)
                return "BAD";
        id = nacct_users_dynamic(u, dir, a.family, a.b, now);
        if (id == NACCT_NAME_NONE)
                return "unknown";
        snprintf(buf, sizeof(buf), "%s", nacct_names_get(names, id));
        nacct_names_unref(names, id);
        return buf;
}

static void test_name_check(void)
{
        size_t n;

        ASSERT_EQ_INT(nacct_user_name_check("alice\n", 6, &n), 0);
        ASSERT_EQ_INT(n, 5);
        ASSERT_EQ_INT(nacct_user_name_check("alice \r\nsecond line", 19, &n), 0);
        ASSERT_EQ_INT(n, 5);
        ASSERT_EQ_INT(nacct_user_name_check("", 0, &n), -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check("\n", 1, &n), -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check(" alice", 6, &n), -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check("al ice", 6, &n), -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check("al\tice", 6, &n), -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check("al\x01ice", 6, &n), -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check("\xff\xfe", 2, &n), -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check("jürgen", strlen("jürgen"), &n), 0);
        /* Names that do not show as themselves are refused at the boundary: bidi overrides
         * and isolates, zero-width characters, line/paragraph separators, C1 controls. */
        ASSERT_EQ_INT(nacct_user_name_check("\xe2\x80\xae"
                                            "ecila",
                                            8, &n),
                      -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check("a\xe2\x81\xa6"
                                            "b",
                                            5, &n),
                      -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check("ali\xe2\x80\x8b"
                                            "ce",
                                            8, &n),
                      -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check("a\xe2\x80\xa8"
                                            "b",
                                            5, &n),
                      -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check("a\xe2\x80\xa9"
                                            "b",
                                            5, &n),
                      -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check("a\xc2\x9b"
                                            "b",
                                            4, &n),
                      -EINVAL);
        ASSERT_EQ_INT(nacct_user_name_check("\xef\xbb\xbf"
                                            "alice",
                                            8, &n),
                      -EINVAL);
        {
                char long_name[100];

                memset(long_name, 'a', 99);
                long_name[99] = '\0';
                ASSERT_EQ_INT(nacct_user_name_check(long_name, 99, &n), -EINVAL);
        }
}

static void test_dynamic(void)
{
        NacctNames *names = NULL;
        NacctUsers *u = NULL;

        ASSERT_EQ_INT(nacct_names_new(100, &names), 0);
        ASSERT_EQ_INT(nacct_users_new(names, &u), 0);

        write_file("10.200.1.2", "alice\n", false);
        ASSERT_STREQ(lookup(u, names, "10.200.1.2", 1000), "alice");
        ASSERT_STREQ(lookup(u, names, "10.200.1.3", 1000), "unknown");

        /* Rewritten in place (the directory's mtime does not change): the original missed
         * this; we notice it at the next check, NACCT_USER_RECHECK_SEC later. */
        write_file("10.200.1.2", "bob\n", true);
        ASSERT_STREQ(lookup(u, names, "10.200.1.2", 1001), "alice");
        ASSERT_STREQ(lookup(u, names, "10.200.1.2", 1000 + NACCT_USER_RECHECK_SEC), "bob");
        /* Same size, different content: the mtime tells. */
        write_file("10.200.1.2", "eve\n", true);
        set_mtime("10.200.1.2", 12345);
        ASSERT_STREQ(lookup(u, names, "10.200.1.2", 1010), "eve");

        /* A file that appears later (login) and goes away (logout). */
        ASSERT_STREQ(lookup(u, names, "10.200.1.4", 1010), "unknown");
        write_file("10.200.1.4", "carol", false);
        ASSERT_STREQ(lookup(u, names, "10.200.1.4", 1011), "unknown"); /* cached */
        ASSERT_STREQ(lookup(u, names, "10.200.1.4", 1015), "carol");
        {
                char path[256];

                snprintf(path, sizeof(path), "%s/10.200.1.4", dir);
                unlink(path);
        }
        ASSERT_STREQ(lookup(u, names, "10.200.1.4", 1020), "unknown");

        /* Empty (the original read user[-1]), binary, a directory: unknown. */
        write_file("10.200.1.5", "", false);
        ASSERT_STREQ(lookup(u, names, "10.200.1.5", 1020), "unknown");
        write_file("10.200.1.6", "\x01\x02\x03", false);
        ASSERT_STREQ(lookup(u, names, "10.200.1.6", 1020), "unknown");
        /* A FIFO with a writer that keeps sending names, a symlink to a device: not a regular
         * file, unknown, and nothing blocks. */
        {
                char path[256];
                int w;

                snprintf(path, sizeof(path), "%s/10.200.1.9", dir);
                ASSERT_EQ_INT(mkfifo(path, 0644), 0);
                w = open(path, O_RDWR | O_NONBLOCK);
                ASSERT_TRUE(w >= 0);
                (void)!write(w, "mallory\n", 8);
                ASSERT_STREQ(lookup(u, names, "10.200.1.9", 1020), "unknown");
                close(w);
                snprintf(path, sizeof(path), "%s/10.200.1.10", dir);
                ASSERT_EQ_INT(symlink("/dev/zero", path), 0);
                ASSERT_STREQ(lookup(u, names, "10.200.1.10", 1020), "unknown");
        }
        {
                char path[256];

                snprintf(path, sizeof(path), "%s/10.200.1.7", dir);
                mkdir(path, 0755);
        }
        ASSERT_STREQ(lookup(u, names, "10.200.1.7", 1020), "unknown");

        /* IPv6: the file is named by the canonical text form. */
        write_file("2001:db8::5", "dave\n", false);
        ASSERT_STREQ(lookup(u, names, "2001:DB8:0::5", 1020), "dave");

        /* After a reset every address is looked up again. */
        nacct_users_reset(u);
        ASSERT_STREQ(lookup(u, names, "10.200.1.2", 1020), "eve");

        nacct_users_free(u);
        /* Every reference was returned. */
        ASSERT_EQ_INT(nacct_names_count(names), 0);
        nacct_names_free(names);
}

static void put_utmp(const char *path, const char *line, const char *user, short type)
{
        struct utmp ut;

        memset(&ut, 0, sizeof(ut));
        ut.ut_type = type;
        ut.ut_pid = 1;
        strncpy(ut.ut_line, line, sizeof(ut.ut_line));
        strncpy(ut.ut_id, line + strlen(line) - 2, sizeof(ut.ut_id));
        strncpy(ut.ut_user, user, sizeof(ut.ut_user));
        utmpname(path);
        setutent();
        pututline(&ut);
        endutent();
}

static void test_utmp(void)
{
        NacctNames *names = NULL;
        NacctUsers *u = NULL;
        char path[256];
        uint32_t id;
        int fd;

        snprintf(path, sizeof(path), "%s/utmp", dir);
        fd = open(path, O_WRONLY | O_CREAT, 0644);
        close(fd);
        put_utmp(path, "ttyS0", "frank", USER_PROCESS);
        put_utmp(path, "ttyS1", "gone", DEAD_PROCESS);

        ASSERT_EQ_INT(nacct_names_new(100, &names), 0);
        ASSERT_EQ_INT(nacct_users_new(names, &u), 0);
        ASSERT_EQ_INT(nacct_users_set_utmp_path(u, path), 0);
        id = nacct_users_utmp(u, "ttyS0", 1000);
        ASSERT_STREQ(nacct_names_get(names, id), "frank");
        nacct_names_unref(names, id);
        ASSERT_EQ_INT(nacct_users_utmp(u, "ttyS1", 1000), NACCT_NAME_NONE);
        ASSERT_EQ_INT(nacct_users_utmp(u, "ttyS9", 1000), NACCT_NAME_NONE);

        /* A new login on the line is seen after the recheck interval. */
        put_utmp(path, "ttyS0", "grace", USER_PROCESS);
        {
                struct timespec ts[2] = {{5000, 0}, {5000, 0}};
                utimensat(AT_FDCWD, path, ts, 0);
        }
        id = nacct_users_utmp(u, "ttyS0", 1001);
        ASSERT_STREQ(nacct_names_get(names, id), "frank");
        nacct_names_unref(names, id);
        id = nacct_users_utmp(u, "ttyS0", 1000 + NACCT_USER_RECHECK_SEC);
        ASSERT_STREQ(nacct_names_get(names, id), "grace");
        nacct_names_unref(names, id);

        nacct_users_free(u);
        ASSERT_EQ_INT(nacct_names_count(names), 0);
        nacct_names_free(names);
}

int main(void)
{
        char cmd[128];

        if (!mkdtemp(dir))
                return 1;
        test_name_check();
        test_dynamic();
        test_utmp();
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void)!system(cmd);
        return test_result();
}
