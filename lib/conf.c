/* conf.c - INI-style configuration parser. */
#include <assert.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "macro.h"
#include "parse.h"
#include "utf8.h"

_printf_(3, 4) static int conf_fail(ConfError *err, unsigned line, const char *fmt, ...)
{
        va_list ap;

        if (!err)
                return -EINVAL;
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static char *strip(char *s)
{
        char *e;

        s += strspn(s, " \t");
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                e--;
        *e = '\0';
        return s;
}

_printf_(5, 6) static void conf_warn(ConfWarn warn, void *userdata, const ConfError *err,
                                     unsigned line, const char *fmt, ...)
{
        char msg[CONF_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        warn(err ? err->file : NULL, line, msg, userdata);
}

int conf_parse_text(const char *filename, char *text, const ConfItem *items, size_t n_items,
                    void *base, ConfError *err)
{
        return conf_parse_text_warn(filename, text, items, n_items, base, NULL, NULL, err);
}

/* One problem on one line: an error (strict), or a warning and the line skipped (lenient). */
#define LINE_PROBLEM(...)                                                                          \
        ({                                                                                         \
                if (!lenient)                                                                      \
                        return conf_fail(err, lineno, __VA_ARGS__);                                \
                conf_warn(warn, userdata, err, lineno, __VA_ARGS__);                               \
                problems++;                                                                        \
        })

static int conf_parse(const char *filename, char *text, const ConfItem *items, size_t n_items,
                      void *base, ConfWarn warn, void *userdata, bool lenient, ConfError *err)
{
        const char *section = NULL;
        bool skip_section = false;
        unsigned lineno = 0;
        char *next = text;
        size_t len = strlen(text);
        int problems = 0;

        if (err) {
                err->file = filename;
                err->line = 0;
                err->message[0] = '\0';
        }
        if (!utf8_is_valid_n(text, len))
                return conf_fail(err, 0, "file is not valid UTF-8 text");

        while (next) {
                char *line = next, *eq, *key, *value;
                const ConfItem *item = NULL;
                const char *msg = NULL;
                int r;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                lineno++;

                line = strip(line);
                if (*line == '\0' || *line == '#' || *line == ';')
                        continue;

                if (*line == '[') {
                        char *end = strchr(line, ']');
                        bool known = false;

                        if (!end || end[1] != '\0' || end == line + 1) {
                                LINE_PROBLEM("invalid section header '%s'%s", line,
                                             lenient ? ", ignoring the section" : "");
                                section = line;
                                skip_section = true;
                                continue;
                        }
                        *end = '\0';
                        section = line + 1;
                        for (size_t i = 0; i < n_items && !known; i++)
                                known = streq(items[i].section, section);
                        skip_section = false;
                        if (!known) {
                                if (!warn)
                                        return conf_fail(err, lineno, "unknown section [%s]",
                                                         section);
                                conf_warn(warn, userdata, err, lineno,
                                          "unknown section [%s], ignoring", section);
                                problems += lenient;
                                skip_section = true;
                        }
                        continue;
                }

                eq = strchr(line, '=');
                if (!eq) {
                        LINE_PROBLEM("expected Key=Value, got '%s'%s", line,
                                     lenient ? ", ignoring" : "");
                        continue;
                }
                *eq = '\0';
                key = strip(line);
                value = strip(eq + 1);
                if (*key == '\0') {
                        LINE_PROBLEM("missing key before '='%s", lenient ? ", ignoring" : "");
                        continue;
                }
                if (!section) {
                        LINE_PROBLEM("'%s' outside of any [Section]%s", key,
                                     lenient ? ", ignoring" : "");
                        continue;
                }

                for (size_t i = 0; i < n_items; i++)
                        if (streq(items[i].section, section) && streq(items[i].key, key)) {
                                item = &items[i];
                                break;
                        }
                if (!item && skip_section)
                        continue;
                if (!item && warn) {
                        conf_warn(warn, userdata, err, lineno,
                                  "unknown key '%s' in section [%s], ignoring", key, section);
                        problems += lenient;
                        continue;
                }
                if (!item)
                        return conf_fail(err, lineno, "unknown key '%s' in section [%s]", key,
                                         section);

                r = item->parse(value, (uint8_t *)base + item->offset, &msg);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        LINE_PROBLEM("invalid value '%s' for %s=: %s%s", value, key,
                                     msg ?: strerror(-r), lenient ? ", ignoring" : "");
        }
        return problems;
}

int conf_parse_text_warn(const char *filename, char *text, const ConfItem *items, size_t n_items,
                         void *base, ConfWarn warn, void *userdata, ConfError *err)
{
        return conf_parse(filename, text, items, n_items, base, warn, userdata, false, err);
}

int conf_parse_text_lenient(const char *filename, char *text, const ConfItem *items, size_t n_items,
                            void *base, ConfWarn warn, void *userdata, ConfError *err)
{
        assert(warn);
        return conf_parse(filename, text, items, n_items, base, warn, userdata, true, err);
}

int conf_parse_file(const char *path, const ConfItem *items, size_t n_items, void *base,
                    ConfError *err)
{
        return conf_parse_file_warn(path, items, n_items, base, NULL, NULL, err);
}

/* Read a whole configuration file. A FIFO, device or directory is refused without blocking
 * (O_NONBLOCK: opening a FIFO with no writer would wait for one for ever). */
static int conf_read_file(const char *path, char **ret, ConfError *err)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t have = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int r = negative_errno();
                if (r == -ENOENT)
                        return r;
                if (err) {
                        err->file = path;
                        err->line = 0;
                        snprintf(err->message, sizeof(err->message), "cannot open: %s",
                                 strerror(-r));
                }
                return r;
        }
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (err) {
                err->file = path;
                err->line = 0;
                err->message[0] = '\0';
        }
        if (!S_ISREG(st.st_mode))
                return conf_fail(err, 0, "not a regular file but %s",
                                 S_ISDIR(st.st_mode)                          ? "a directory"
                                 : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                                 : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                              : "a socket");
        if (st.st_size > CONF_FILE_MAX)
                return conf_fail(err, 0, "file is larger than %d bytes", CONF_FILE_MAX);

        buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (have < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                have += (size_t)n;
        }
        buf[have] = '\0';
        if (strlen(buf) != have)
                return conf_fail(err, 0, "file contains a NUL byte");
        *ret = TAKE_PTR(buf);
        return 0;
}

static int conf_parse_file_full(const char *path, const ConfItem *items, size_t n_items, void *base,
                                ConfWarn warn, void *userdata, bool lenient, ConfError *err)
{
        _cleanup_free_ char *buf = NULL;
        int r;

        r = conf_read_file(path, &buf, err);
        if (r < 0)
                return r;
        return conf_parse(path, buf, items, n_items, base, warn, userdata, lenient, err);
}

int conf_parse_file_warn(const char *path, const ConfItem *items, size_t n_items, void *base,
                         ConfWarn warn, void *userdata, ConfError *err)
{
        return conf_parse_file_full(path, items, n_items, base, warn, userdata, false, err);
}

int conf_parse_file_lenient(const char *path, const ConfItem *items, size_t n_items, void *base,
                            ConfWarn warn, void *userdata, ConfError *err)
{
        assert(warn);
        return conf_parse_file_full(path, items, n_items, base, warn, userdata, true, err);
}

int conf_parse_string(const char *value, void *data, const char **ret_msg)
{
        char **s = data, *c;

        (void)ret_msg;
        c = strdup(value);
        if (!c)
                return -ENOMEM;
        free(*s);
        *s = c;
        return 0;
}

int conf_parse_bool(const char *value, void *data, const char **ret_msg)
{
        if (parse_bool(value, data) < 0) {
                *ret_msg = "expected yes or no";
                return -EINVAL;
        }
        return 0;
}

int conf_parse_uint64(const char *value, void *data, const char **ret_msg)
{
        int r = parse_uint64(value, data);
        if (r < 0)
                *ret_msg = r == -ERANGE ? "number out of range" : "expected a non-negative integer";
        return r;
}

int conf_parse_timespan_sec(const char *value, void *data, const char **ret_msg)
{
        int r = parse_timespan_sec(value, data);
        if (r < 0)
                *ret_msg = "expected a time span such as 90d, 12h, 30min or 45s";
        return r;
}

int conf_parse_timespan_msec(const char *value, void *data, const char **ret_msg)
{
        int r = parse_timespan_msec(value, data);
        if (r < 0)
                *ret_msg = "expected a time span in milliseconds such as 5 or 5ms";
        return r;
}
