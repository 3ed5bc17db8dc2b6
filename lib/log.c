/* log.c - journal/console logging backend. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <systemd/sd-journal.h>

#include "log.h"

#define LOG_LINE_MAX 2048
#define LOG_FIELDS_MAX 24

static int max_level = LOG_INFO;
static LogTarget target = LOG_TARGET_AUTO;
static bool console_fields;
static const char *component = "tracksuite";

static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int log_level_from_string(const char *s)
{
        static const char *const names[] = {"emerg", "alert", "crit",   "err",
                                            "warning", "notice", "info", "debug"};

        if (!s)
                return -EINVAL;
        for (int i = 0; i < (int)ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return i;
        if (streq(s, "error"))
                return LOG_ERR;
        if (streq(s, "warn"))
                return LOG_WARNING;
        return -EINVAL;
}

void log_setup(const char *comp)
{
        const char *e;

        if (comp)
                component = comp;
        e = getenv("TRACKSUITE_LOG_LEVEL");
        if (e) {
                int l = log_level_from_string(e);
                if (l >= 0)
                        max_level = l;
        }
        e = getenv("TRACKSUITE_LOG_TARGET");
        if (streq_ptr(e, "journal"))
                target = LOG_TARGET_JOURNAL;
        else if (streq_ptr(e, "console"))
                target = LOG_TARGET_CONSOLE;
        if (target == LOG_TARGET_AUTO)
                target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_CONSOLE;
        e = getenv("TRACKSUITE_LOG_FIELDS");
        console_fields = e && (streq(e, "1") || streq(e, "yes"));
}

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

void log_set_target(LogTarget t)
{
        target = t;
}

LogTarget log_get_target(void)
{
        return target == LOG_TARGET_AUTO ? LOG_TARGET_CONSOLE : target;
}

static int write_journal(int level, int error, const char *file, int line, const char *func,
                         const char *message_id, const LogField *fields, size_t n_fields,
                         const char *msg)
{
        char prio[16], code_file[LOG_LINE_MAX], code_line[32], err[32], comp[128], mid[64];
        char ident[128];
        char *field_bufs[LOG_FIELDS_MAX] = {};
        struct iovec iov[8 + LOG_FIELDS_MAX];
        size_t n = 0;
        _cleanup_free_ char *m = NULL;
        int r;

        if (n_fields > LOG_FIELDS_MAX)
                n_fields = LOG_FIELDS_MAX;
        if (asprintf(&m, "MESSAGE=%s", msg) < 0)
                return -ENOMEM;
        iov[n++] = (struct iovec){m, strlen(m)};
        snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
        iov[n++] = (struct iovec){prio, strlen(prio)};
        snprintf(comp, sizeof(comp), "TRACKSUITE_COMPONENT=%s", component);
        iov[n++] = (struct iovec){comp, strlen(comp)};
        snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", program_invocation_short_name);
        iov[n++] = (struct iovec){ident, strlen(ident)};
        if (error != 0) {
                snprintf(err, sizeof(err), "ERRNO=%d", abs(error));
                iov[n++] = (struct iovec){err, strlen(err)};
        }
        if (message_id) {
                snprintf(mid, sizeof(mid), "MESSAGE_ID=%s", message_id);
                iov[n++] = (struct iovec){mid, strlen(mid)};
        }
        for (size_t i = 0; i < n_fields; i++) {
                if (asprintf(&field_bufs[i], "%s=%s", fields[i].name, strempty(fields[i].value)) <
                    0) {
                        field_bufs[i] = NULL;
                        continue;
                }
                iov[n++] = (struct iovec){field_bufs[i], strlen(field_bufs[i])};
        }
        snprintf(code_file, sizeof(code_file), "CODE_FILE=%s", file);
        snprintf(code_line, sizeof(code_line), "CODE_LINE=%d", line);
        r = sd_journal_sendv_with_location(code_file, code_line, func, iov, (int)n);
        for (size_t i = 0; i < n_fields; i++)
                free(field_bufs[i]);
        return r;
}

static void write_console(const LogField *fields, size_t n_fields, const char *message_id,
                          const char *msg)
{
        char line[LOG_LINE_MAX * 2];
        size_t len;

        len = (size_t)snprintf(line, sizeof(line), "%s", msg);
        if (console_fields) {
                if (message_id && len < sizeof(line))
                        len += (size_t)snprintf(line + len, sizeof(line) - len, " MESSAGE_ID=%s",
                                                message_id);
                for (size_t i = 0; i < n_fields && len < sizeof(line); i++)
                        len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%s",
                                                fields[i].name, strempty(fields[i].value));
        }
        if (len >= sizeof(line))
                len = sizeof(line) - 1;
        line[len++] = '\n';
        /* One write() per line so lines of concurrent writers do not interleave. */
        (void)!write(STDERR_FILENO, line, len);
}

_printf_(9, 0) static int log_dispatch(int level, int error, const char *file, int line,
                                       const char *func, const char *message_id,
                                       const LogField *fields, size_t n_fields, const char *fmt,
                                       va_list ap)
{
        char msg[LOG_LINE_MAX];
        int saved = errno;

        /* %m in fmt means the error we are logging, not whatever errno happens to be. */
        errno = abs(error);
        vsnprintf(msg, sizeof(msg), fmt, ap);

        if (log_get_target() == LOG_TARGET_JOURNAL)
                (void)write_journal(level, error, file, line, func, message_id, fields, n_fields,
                                    msg);
        else
                write_console(fields, n_fields, message_id, msg);
        errno = saved;
        return -abs(error);
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *fmt, ...)
{
        va_list ap;
        int r;

        if (level > max_level)
                return -abs(error);
        va_start(ap, fmt);
        r = log_dispatch(level, error, file, line, func, NULL, NULL, 0, fmt, ap);
        va_end(ap);
        return r;
}

int log_fields_internal(int level, int error, const char *file, int line, const char *func,
                        const char *message_id, const LogField *fields, size_t n_fields,
                        const char *fmt, ...)
{
        va_list ap;
        int r;

        if (level > max_level)
                return -abs(error);
        va_start(ap, fmt);
        r = log_dispatch(level, error, file, line, func, message_id, fields, n_fields, fmt, ap);
        va_end(ap);
        return r;
}

int ratelimit_below(RateLimit *rl, unsigned long long now, unsigned long long *ret_suppressed)
{
        if (rl->begin_usec == 0 || now >= rl->begin_usec + rl->interval_usec) {
                if (ret_suppressed)
                        *ret_suppressed = rl->suppressed;
                rl->begin_usec = now;
                rl->num = 0;
                rl->suppressed = 0;
        } else if (ret_suppressed)
                *ret_suppressed = 0;
        if (rl->num < rl->burst) {
                rl->num++;
                return 1;
        }
        rl->suppressed++;
        return 0;
}
