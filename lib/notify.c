/* notify.c - thin wrappers around sd_notify(). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "notify.h"

int notify_ready(const char *status)
{
        if (status)
                return sd_notifyf(false, "READY=1\nSTATUS=%s", status);
        return sd_notify(false, "READY=1");
}

int notify_status(const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return sd_notifyf(false, "STATUS=%s", s);
}

int notify_stopping(void)
{
        return sd_notify(false, "STOPPING=1");
}

int notify_reloading(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu",
                          (unsigned long long)ts.tv_sec * 1000000ULL +
                                  (unsigned long long)ts.tv_nsec / 1000ULL);
}

unsigned long long notify_watchdog_usec(void)
{
        uint64_t usec = 0;

        if (sd_watchdog_enabled(false, &usec) <= 0)
                return 0;
        return usec;
}

int notify_watchdog(void)
{
        return sd_notify(false, "WATCHDOG=1");
}
