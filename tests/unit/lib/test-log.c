/* test-log.c - console logging (message, %m, structured fields) and the rate limiter. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "test.h"

/* Run fn with stderr redirected into a pipe and return what it wrote. */
static char *capture(void (*fn)(void))
{
        static char buf[8192];
        int p[2], saved;
        ssize_t n;

        if (pipe2(p, O_CLOEXEC) < 0)
                return NULL;
        saved = dup(STDERR_FILENO);
        dup2(p[1], STDERR_FILENO);
        fn();
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(p[1]);
        n = read(p[0], buf, sizeof(buf) - 1);
        close(p[0]);
        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

static int returned;

static void emit_plain(void)
{
        log_info("hello %s", "world");
        log_debug("not shown at info level");
        returned = log_error_errno(ENOENT, "Failed to open '%s': %m", "/x");
        errno = EBADF;
        returned += log_warning_errno(-EACCES, "denied: %m");
}

static void emit_fields(void)
{
        const LogField f[] = {{"TRACKER_USER", "alice"}, {"TRACKER_PROGRAM", "vim"}};
        log_fields(LOG_INFO, "0123456789abcdef0123456789abcdef", f, 2, "%s@%s %s", "alice", "h",
                   "vim");
}

int main(void)
{
        RateLimit rl = {.interval_usec = 1000, .burst = 3};
        unsigned long long suppressed = 99;
        char *out;

        setenv("TRACKSUITE_LOG_TARGET", "console", 1);
        unsetenv("TRACKSUITE_LOG_FIELDS");
        setenv("TRACKSUITE_LOG_LEVEL", "info", 1);
        log_setup("test");
        ASSERT_EQ_INT(log_get_target(), LOG_TARGET_CONSOLE);
        ASSERT_EQ_INT(log_get_max_level(), LOG_INFO);

        out = capture(emit_plain);
        ASSERT_STREQ(out, "hello world\n"
                          "Failed to open '/x': No such file or directory\n"
                          "denied: Permission denied\n");
        ASSERT_EQ_INT(returned, -ENOENT - EACCES);

        out = capture(emit_fields);
        ASSERT_STREQ(out, "alice@h vim\n");
        setenv("TRACKSUITE_LOG_FIELDS", "1", 1);
        log_setup("test");
        out = capture(emit_fields);
        ASSERT_STREQ(out, "alice@h vim MESSAGE_ID=0123456789abcdef0123456789abcdef "
                          "TRACKER_USER=alice TRACKER_PROGRAM=vim\n");

        ASSERT_EQ_INT(log_level_from_string("debug"), LOG_DEBUG);
        ASSERT_EQ_INT(log_level_from_string("warning"), LOG_WARNING);
        ASSERT_EQ_INT(log_level_from_string("loud"), -EINVAL);

        /* 3 per interval, then suppressed; the next interval reports how many were. */
        ASSERT_TRUE(ratelimit_below(&rl, 10000, &suppressed));
        ASSERT_EQ_INT(suppressed, 0);
        ASSERT_TRUE(ratelimit_below(&rl, 10001, NULL));
        ASSERT_TRUE(ratelimit_below(&rl, 10002, NULL));
        ASSERT_TRUE(!ratelimit_below(&rl, 10003, NULL));
        ASSERT_TRUE(!ratelimit_below(&rl, 10500, NULL));
        ASSERT_TRUE(ratelimit_below(&rl, 11000, &suppressed));
        ASSERT_EQ_INT(suppressed, 2);
        return test_result();
}
