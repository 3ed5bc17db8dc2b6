/* test-config.c - tracker.conf(5) and trackerd.conf(5): defaults, values, file:line errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "test.h"
#include "trackerd-config.h"
#include "tracker-send.h"

static char dir[] = "/tmp/test-config-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
        static char path[128];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        fputs(text, f);
        fclose(f);
        return path;
}

static void test_tracker_conf(void)
{
        TrackerConfig c;
        ConfError err = {};
        const char *p;

        unsetenv(TRACKER_SERVER_ENV);
        ASSERT_EQ_INT(tracker_config_load("/nonexistent/tracker.conf", &c, &err), 0);
        ASSERT_TRUE(c.server == NULL);
        ASSERT_EQ_INT(c.resolve_timeout_ms, TRACKER_RESOLVE_TIMEOUT_MS_DEFAULT);
        ASSERT_STREQ(tracker_server_spec(&c), TRACKER_DEFAULT_SERVER);

        p = write_file("t1.conf", "[Tracker]\nServer=[2001:db8::1]:99\nResolveTimeoutMSec=20\n");
        ASSERT_EQ_INT(tracker_config_load(p, &c, &err), 0);
        ASSERT_STREQ(tracker_server_spec(&c), "[2001:db8::1]:99");
        ASSERT_EQ_INT(c.resolve_timeout_ms, 20);
        setenv(TRACKER_SERVER_ENV, "127.0.0.1:5", 1);
        ASSERT_STREQ(tracker_server_spec(&c), "127.0.0.1:5");
        setenv(TRACKER_SERVER_ENV, "", 1);
        ASSERT_STREQ(tracker_server_spec(&c), "[2001:db8::1]:99");
        unsetenv(TRACKER_SERVER_ENV);
        tracker_config_done(&c);

        p = write_file("t2.conf", "[Tracker]\n\nServer=track:99999\n");
        ASSERT_EQ_INT(tracker_config_load(p, &c, &err), -EINVAL);
        ASSERT_EQ_INT(err.line, 3);
        ASSERT_TRUE(strstr(err.message, "Server=") != NULL);
        p = write_file("t3.conf", "[Tracker]\nSrever=track\n");
        ASSERT_EQ_INT(tracker_config_load(p, &c, &err), -EINVAL);
        ASSERT_EQ_INT(err.line, 2);
        ASSERT_TRUE(strstr(err.message, "unknown key 'Srever'") != NULL);
        p = write_file("t4.conf", "[Tracker]\nResolveTimeoutMSec=soon\n");
        ASSERT_EQ_INT(tracker_config_load(p, &c, &err), -EINVAL);
        ASSERT_EQ_INT(err.line, 2);
}

static unsigned warned[16], n_warned;

static void warn(const char *file, unsigned line, const char *message, void *userdata)
{
        if (n_warned < 16)
                warned[n_warned] = line;
        n_warned++;
}

static void test_trackerd_conf(void)
{
        TrackerdConfig c;
        ConfError err = {};
        SockaddrUnion u;
        socklen_t len;
        const char *p;

        trackerd_config_defaults(&c);
        ASSERT_TRUE(c.log_uses);
        ASSERT_EQ_INT(c.retention_sec, 400 * 86400);
        ASSERT_EQ_INT(c.idle_exit_sec, 0);
        ASSERT_EQ_INT(c.allow.n, 0);
        ASSERT_EQ_INT(trackerd_config_load("/nonexistent", &c, warn, NULL, &err), 0);

        p = write_file("d1.conf", "[Collector]\nLogUses=no\nRetention=90d\nIdleExitSec=10min\n"
                                  "BatchMax=128\nReceiveBuffer=0\n"
                                  "AllowSource=192.0.2.0/24 2001:db8::/32\nAllowSource=::1\n");
        ASSERT_EQ_INT(trackerd_config_load(p, &c, warn, NULL, &err), 0);
        ASSERT_EQ_INT(n_warned, 0);
        ASSERT_TRUE(!c.log_uses);
        ASSERT_EQ_INT(c.retention_sec, 90 * 86400);
        ASSERT_EQ_INT(c.idle_exit_sec, 600);
        ASSERT_EQ_INT(c.batch_max, 128);
        ASSERT_EQ_INT(c.receive_buffer, 0);
        ASSERT_EQ_INT(c.allow.n, 3);
        ASSERT_EQ_INT(addr_parse_ip("192.0.2.77", 1, &u, &len), 0);
        ASSERT_TRUE(trackerd_allow_contains(&c.allow, &u.sa, len));
        ASSERT_EQ_INT(addr_parse_ip("198.51.100.1", 1, &u, &len), 0);
        ASSERT_TRUE(!trackerd_allow_contains(&c.allow, &u.sa, len));

        /* Every problem is warned about with its line and ignored; the rest applies, and what
         * the file does not set (or sets wrongly) is the default, not the previous value. */
        p = write_file("d2.conf", "[Collector]\nRetention=30d\nBatchMax=0\nLogUsse=no\n"
                                  "BatchMax=65537\nReceiveBuffer=4294967296\n"
                                  "AllowSource=192.0.2.0/24 192.0.2.1/24\nAllowSource=10.0.0.0/8\n"
                                  "IdleExitSec=forever\n[Tracker]\nServer=x\n[Collector]\n"
                                  "nonsense\nAllowSource=\nAllowSource=::1\n");
        n_warned = 0;
        ASSERT_EQ_INT(trackerd_config_load(p, &c, warn, NULL, &err), 8);
        ASSERT_EQ_INT(n_warned, 8);
        ASSERT_EQ_INT(warned[0], 3);
        ASSERT_EQ_INT(warned[1], 4);
        ASSERT_EQ_INT(warned[2], 5);
        ASSERT_EQ_INT(warned[3], 6);
        ASSERT_EQ_INT(warned[4], 7);
        ASSERT_EQ_INT(warned[5], 9);
        ASSERT_EQ_INT(warned[6], 10);
        ASSERT_EQ_INT(warned[7], 13);
        ASSERT_EQ_INT(c.retention_sec, 30 * 86400);
        ASSERT_TRUE(c.log_uses);
        ASSERT_EQ_INT(c.batch_max, 4096);
        ASSERT_EQ_INT(c.idle_exit_sec, 0);
        ASSERT_EQ_INT(c.receive_buffer, 8 * 1024 * 1024);
        ASSERT_EQ_INT(c.allow.n, 1); /* emptied on line 14, then ::1 */

        /* A file that cannot be used as a whole leaves the configuration as it was. */
        p = write_file("d3.conf", "[Collector]\nLogUses=no\n\xff\n");
        ASSERT_EQ_INT(trackerd_config_load(p, &c, warn, NULL, &err), -EINVAL);
        ASSERT_TRUE(c.log_uses);
        ASSERT_EQ_INT(c.allow.n, 1);
        ASSERT_EQ_INT(trackerd_config_load(dir, &c, warn, NULL, &err), -EINVAL);
        ASSERT_TRUE(strstr(err.message, "directory") != NULL);
}

int main(void)
{
        char cmd[128];

        if (!mkdtemp(dir))
                return 1;
        test_tracker_conf();
        test_trackerd_conf();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ASSERT_EQ_INT(system(cmd), 0);
        return test_result();
}
