/* test-config.c - tracker.conf(5) and trackerd.conf(5): defaults, values, file:line errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

static void test_trackerd_conf(void)
{
        TrackerdConfig c;
        ConfError err = {};
        const char *p;

        trackerd_config_defaults(&c);
        ASSERT_TRUE(c.log_uses);
        ASSERT_EQ_INT(c.retention_sec, 400 * 86400);
        ASSERT_EQ_INT(c.idle_exit_sec, 0);
        ASSERT_EQ_INT(trackerd_config_load("/nonexistent", &c, &err), 0);

        p = write_file("d1.conf", "[Collector]\nLogUses=no\nRetention=90d\nIdleExitSec=10min\n"
                                  "BatchMax=128\nReceiveBuffer=0\n");
        ASSERT_EQ_INT(trackerd_config_load(p, &c, &err), 0);
        ASSERT_TRUE(!c.log_uses);
        ASSERT_EQ_INT(c.retention_sec, 90 * 86400);
        ASSERT_EQ_INT(c.idle_exit_sec, 600);
        ASSERT_EQ_INT(c.batch_max, 128);
        ASSERT_EQ_INT(c.receive_buffer, 0);

        /* A broken file leaves the configuration as it was. */
        p = write_file("d2.conf", "[Collector]\nLogUses=yes\nBatchMax=0\n");
        ASSERT_EQ_INT(trackerd_config_load(p, &c, &err), -EINVAL);
        ASSERT_EQ_INT(err.line, 3);
        ASSERT_TRUE(!c.log_uses);
        ASSERT_EQ_INT(c.batch_max, 128);
        p = write_file("d3.conf", "[Collector]\nBatchMax=65537\n");
        ASSERT_EQ_INT(trackerd_config_load(p, &c, &err), -EINVAL);
        p = write_file("d4.conf", "[Collector]\nReceiveBuffer=4294967296\n");
        ASSERT_EQ_INT(trackerd_config_load(p, &c, &err), -EINVAL);
        p = write_file("d5.conf", "[Tracker]\nServer=x\n");
        ASSERT_EQ_INT(trackerd_config_load(p, &c, &err), -EINVAL);
        ASSERT_EQ_INT(err.line, 1);
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
