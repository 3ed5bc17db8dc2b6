/* nacctd-debug.c - debug categories to the debug file, one write() per line. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#include "nacctd-config.h"
#include "nacctd-debug.h"

static uint32_t debug_mask;
static int debug_fd = -EBADF;

void nacct_debug_set_mask(uint32_t mask)
{
        debug_mask = mask;
}

uint32_t nacct_debug_get_mask(void)
{
        return debug_mask;
}

int nacct_debug_open(const char *path)
{
        int fd = -EBADF;

        if (path && streq(path, "/dev/null"))
                path = NULL;
        if (path) {
                /* A regular file only, never blocking on a FIFO. */
                int r = nacct_open_regular(path, O_WRONLY | O_APPEND | O_CREAT, &fd);
                if (r < 0)
                        return r;
        }
        safe_close(debug_fd);
        debug_fd = fd;
        return 0;
}

void nacct_debug_close(void)
{
        debug_fd = safe_close(debug_fd);
}

static const char *category_name(uint32_t category)
{
        switch (category) {
        case NACCT_DEBUG_CONFIG:
                return "CONF ";
        case NACCT_DEBUG_STATE:
                return "STATE";
        case NACCT_DEBUG_UTMP:
                return "UTMP ";
        case NACCT_DEBUG_DYNA:
                return "DYNA ";
        case NACCT_DEBUG_SYSCALL:
                return "SYSC ";
        case NACCT_DEBUG_IGNORE:
                return "IGN  ";
        case NACCT_DEBUG_MISC:
                return "MISC ";
        case NACCT_DEBUG_STATS:
                return "STATS";
        case NACCT_DEBUG_SIGNAL:
                return "SIG  ";
        case NACCT_DEBUG_ERROR:
                return "ERROR";
        case NACCT_DEBUG_ANNOY:
                return "ANNOY";
        default:
                return "?????";
        }
}

void nacct_debug_internal(uint32_t category, const char *fmt, ...)
{
        char line[1024], msg[900];
        time_t now = time(NULL);
        struct tm tm;
        va_list ap;
        int n;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (debug_fd < 0) {
                log_debug("[%s] %s", category_name(category), msg);
                return;
        }
        if (!localtime_r(&now, &tm))
                return;
        n = snprintf(line, sizeof(line), "%02d/%02d %02d:%02d:%02d [%s] %s\n", tm.tm_mday,
                     tm.tm_mon + 1, tm.tm_hour, tm.tm_min, tm.tm_sec, category_name(category), msg);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof(line)) {
                n = sizeof(line) - 1;
                line[n - 1] = '\n';
        }
        (void)!write(debug_fd, line, (size_t)n);
}
