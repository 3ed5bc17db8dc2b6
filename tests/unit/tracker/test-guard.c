/* test-guard.c - the TRACKING=name:depth:time recursion guard. */
#include <errno.h>

#include "test.h"
#include "tracker-guard.h"

static int depth_of(const char *env, const char *program, time_t now)
{
        unsigned d = 0;
        int r = tracking_next_depth(env, program, now, &d);
        return r < 0 ? r : (int)d;
}

int main(void)
{
        char buf[64];
        time_t now = 1795351261;

        ASSERT_EQ_INT(depth_of(NULL, "vim", now), 1);
        ASSERT_EQ_INT(depth_of("vim:1:1795351261", "vim", now), 2);
        ASSERT_EQ_INT(depth_of("vim:1:1795351260", "vim", now), 2);   /* one second ago */
        ASSERT_EQ_INT(depth_of("vim:1:1795351262", "vim", now), 2);   /* clock skew */
        ASSERT_EQ_INT(depth_of("vim:5:1795351259", "vim", now), 1);   /* two seconds ago */
        ASSERT_EQ_INT(depth_of("emacs:5:1795351261", "vim", now), 1); /* another program */
        ASSERT_EQ_INT(depth_of("vim:8:1795351261", "vim", now), 9);
        ASSERT_EQ_INT(depth_of("vim:9:1795351261", "vim", now), -ELOOP);
        ASSERT_EQ_INT(depth_of("vim:500:1795351261", "vim", now), -ELOOP);
        /* Program names may contain colons: parse from the right. */
        ASSERT_EQ_INT(depth_of("a:b:3:1795351261", "a:b", now), 4);
        ASSERT_EQ_INT(depth_of("a:b:3:1795351261", "b", now), 1);
        /* Malformed values count as unset. */
        ASSERT_EQ_INT(depth_of("", "vim", now), 1);
        ASSERT_EQ_INT(depth_of("vim", "vim", now), 1);
        ASSERT_EQ_INT(depth_of("vim:x:1795351261", "vim", now), 1);
        ASSERT_EQ_INT(depth_of("vim:1:", "vim", now), 1);
        ASSERT_EQ_INT(depth_of("vim::1795351261", "vim", now), 1);
        ASSERT_EQ_INT(depth_of(":1:1795351261", "", now), 1);
        ASSERT_EQ_INT(depth_of("vim:-1:1795351261", "vim", now), 1);
        ASSERT_EQ_INT(depth_of("vim:99999999999999999999:1795351261", "vim", now), 1);
        ASSERT_EQ_INT(depth_of("vim:1:99999999999999999999", "vim", now), 1);

        ASSERT_EQ_INT(tracking_format(buf, sizeof(buf), "vim", 3, now), 0);
        ASSERT_STREQ(buf, "vim:3:1795351261");
        ASSERT_EQ_INT(depth_of(buf, "vim", now), 4);
        ASSERT_EQ_INT(tracking_format(buf, 8, "vim", 3, now), -ENOBUFS);
        return test_result();
}
