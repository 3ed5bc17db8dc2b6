/* trackle-spool.c - bash history, per-command status and the session rc file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "parse.h"

#include "trackle-spool.h"

void trackle_history_free(TrackleHistoryEntry *h, size_t n)
{
        for (size_t i = 0; h && i < n; i++)
                free(h[i].line);
        free(h);
}

void trackle_status_free(TrackleStatusLine *s, size_t n)
{
        for (size_t i = 0; s && i < n; i++)
                free(s[i].cwd);
        free(s);
}

/* "#" and 1..19 digits, nothing else: bash's timestamp line. */
static bool is_timestamp(const char *p, size_t l, int64_t *ret)
{
        char buf[24];
        uint64_t v;

        if (l < 2 || l > 20 || p[0] != '#')
                return false;
        for (size_t i = 1; i < l; i++)
                if (p[i] < '0' || p[i] > '9')
                        return false;
        memcpy(buf, p + 1, l - 1);
        buf[l - 1] = 0;
        if (parse_uint64(buf, &v) < 0 || v > INT64_MAX)
                return false;
        *ret = (int64_t)v;
        return true;
}

static int grow(void **array, size_t *allocated, size_t need, size_t size)
{
        void *p;
        size_t n;

        if (need <= *allocated)
                return 0;
        n = MAX(need, *allocated * 2);
        n = MAX(n, (size_t)16);
        p = reallocarray(*array, n, size);
        if (!p)
                return -ENOMEM;
        *array = p;
        *allocated = n;
        return 0;
}

/* Append l bytes of p to the entry's line, with a \n between lines. */
static int entry_append(TrackleHistoryEntry *e, const char *p, size_t l)
{
        size_t old = e->line ? strlen(e->line) : 0, add = (e->line ? 1 : 0) + l;
        char *n;

        n = realloc(e->line, old + add + 1);
        if (!n)
                return -ENOMEM;
        if (e->line)
                n[old++] = '\n';
        memcpy(n + old, p, l);
        n[old + l] = 0;
        e->line = n;
        return 0;
}

int trackle_history_parse(const char *text, size_t len, TrackleHistoryEntry **ret, size_t *ret_n)
{
        TrackleHistoryEntry *h = NULL;
        size_t n = 0, allocated = 0;
        bool open_entry = false; /* the last entry has a timestamp but no line yet, or lines */
        int r;

        for (size_t pos = 0; pos < len;) {
                const char *p = text + pos, *nl = memchr(p, '\n', len - pos);
                size_t l = nl ? (size_t)(nl - p) : len - pos;
                int64_t t;

                pos += l + (nl ? 1 : 0);
                if (memchr(p, 0, l))
                        continue; /* bash never writes a NUL; skip a damaged line */
                if (is_timestamp(p, l, &t)) {
                        r = grow((void **)&h, &allocated, n + 1, sizeof(*h));
                        if (r < 0)
                                goto fail;
                        h[n++] = (TrackleHistoryEntry){.time = t};
                        open_entry = true;
                        continue;
                }
                if (!open_entry) {
                        /* An entry without a timestamp: one line, time unknown. */
                        r = grow((void **)&h, &allocated, n + 1, sizeof(*h));
                        if (r < 0)
                                goto fail;
                        h[n++] = (TrackleHistoryEntry){.time = -1};
                        r = entry_append(&h[n - 1], p, l);
                        if (r < 0)
                                goto fail;
                        continue;
                }
                /* A line of the entry opened by the last timestamp: a multi-line command
                 * (lithist) continues it. */
                r = entry_append(&h[n - 1], p, l);
                if (r < 0)
                        goto fail;
        }
        /* A timestamp with nothing after it is an empty line. */
        for (size_t i = 0; i < n; i++)
                if (!h[i].line) {
                        h[i].line = strdup("");
                        if (!h[i].line) {
                                r = -ENOMEM;
                                goto fail;
                        }
                }
        *ret = h;
        *ret_n = n;
        return 0;
fail:
        trackle_history_free(h, n);
        return r;
}

static char *unescape_cwd(const char *p, size_t l)
{
        char *s = malloc(l + 1), *o = s;

        if (!s)
                return NULL;
        for (size_t i = 0; i < l; i++) {
                if (p[i] == '\\' && i + 1 < l && (p[i + 1] == '\\' || p[i + 1] == 'n')) {
                        *o++ = p[i + 1] == 'n' ? '\n' : '\\';
                        i++;
                } else
                        *o++ = p[i];
        }
        *o = 0;
        return s;
}

int trackle_status_parse(const char *text, size_t len, TrackleStatusLine **ret, size_t *ret_n)
{
        TrackleStatusLine *s = NULL;
        size_t n = 0, allocated = 0;
        int r;

        for (size_t pos = 0; pos < len;) {
                const char *p = text + pos, *nl = memchr(p, '\n', len - pos), *sp1, *sp2;
                size_t l = nl ? (size_t)(nl - p) : len - pos;
                char num[24], ex[24];
                uint64_t h;
                uint32_t e;
                int exit;

                pos += l + (nl ? 1 : 0);
                if (!nl || memchr(p, 0, l))
                        continue; /* unterminated (being written, or cut by a crash) */
                sp1 = memchr(p, ' ', l);
                if (!sp1)
                        continue;
                sp2 = memchr(sp1 + 1, ' ', l - (size_t)(sp1 + 1 - p));
                if (!sp2)
                        continue;
                if ((size_t)(sp1 - p) >= sizeof(num) || (size_t)(sp2 - sp1 - 1) >= sizeof(ex))
                        continue;
                memcpy(num, p, (size_t)(sp1 - p));
                num[sp1 - p] = 0;
                memcpy(ex, sp1 + 1, (size_t)(sp2 - sp1 - 1));
                ex[sp2 - sp1 - 1] = 0;
                if (parse_uint64(num, &h) < 0)
                        continue;
                if (streq(ex, "-"))
                        exit = -1;
                else if (parse_uint32(ex, &e) < 0 || e > 255)
                        continue;
                else
                        exit = (int)e;
                r = grow((void **)&s, &allocated, n + 1, sizeof(*s));
                if (r < 0)
                        goto fail;
                s[n] = (TrackleStatusLine){.histnum = h, .exit = exit};
                s[n].cwd = unescape_cwd(sp2 + 1, l - (size_t)(sp2 + 1 - p));
                if (!s[n].cwd) {
                        r = -ENOMEM;
                        goto fail;
                }
                n++;
        }
        *ret = s;
        *ret_n = n;
        return 0;
fail:
        trackle_status_free(s, n);
        return r;
}

int trackle_format_time(int64_t t, char *buf, size_t size)
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm))
                return -ERANGE;
        if (strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return -ENOBUFS;
        return 0;
}

static int command_new(const char *line, int64_t time, const char *cwd, int exit, json_object **ret)
{
        json_object *o = json_object_new_object();
        char buf[64];

        if (!o)
                return -ENOMEM;
        if (time >= 0 && trackle_format_time(time, buf, sizeof(buf)) >= 0)
                json_object_object_add(o, "time", json_object_new_string(buf));
        else
                json_object_object_add(o, "time", NULL);
        json_object_object_add(o, "cwd", cwd ? json_object_new_string(cwd) : NULL);
        json_object_object_add(o, "line", json_object_new_string(line));
        json_object_object_add(o, "exit", exit >= 0 ? json_object_new_int(exit) : NULL);
        *ret = o;
        return 0;
}

int trackle_spool_command_one(const char *line, int64_t time, const char *cwd, int exit,
                              json_object **ret)
{
        json_object *a = json_object_new_array(), *c;
        int r;

        if (!a)
                return -ENOMEM;
        r = command_new(line, time, cwd, exit, &c);
        if (r < 0) {
                json_object_put(a);
                return r;
        }
        json_object_array_add(a, c);
        *ret = a;
        return 0;
}

int trackle_spool_commands(const TrackleHistoryEntry *h, size_t n_h, const TrackleStatusLine *s,
                           size_t n_s, const char *initial_cwd, int shell_exit, json_object **ret)
{
        json_object *a = json_object_new_array();
        uint64_t base = 0;
        size_t si = 0;
        const char *cwd = initial_cwd;
        int r;

        if (!a)
                return -ENOMEM;
        if (n_s > 0 && s[0].exit < 0) {
                base = s[0].histnum;
                cwd = s[0].cwd;
                si = 1;
        }
        for (size_t k = 0; k < n_h; k++) {
                uint64_t num = base + k + 1;
                const char *this_cwd;
                json_object *c;
                int exit = -1;

                /* Skip status lines of numbers before this entry (should not happen). */
                while (si < n_s && s[si].histnum < num) {
                        cwd = s[si].cwd;
                        si++;
                }
                this_cwd = cwd;
                if (si < n_s && s[si].histnum == num) {
                        exit = s[si].exit;
                        cwd = s[si].cwd;
                        si++;
                } else if (k + 1 == n_h && si >= n_s)
                        exit = shell_exit;
                r = command_new(h[k].line, h[k].time, this_cwd, exit, &c);
                if (r < 0) {
                        json_object_put(a);
                        return r;
                }
                json_object_array_add(a, c);
        }
        *ret = a;
        return 0;
}

/* s in single quotes for bash. */
static char *shell_quote(const char *s)
{
        size_t n = 3;
        char *q, *o;

        for (const char *p = s; *p; p++)
                n += *p == '\'' ? 4 : 1;
        q = malloc(n);
        if (!q)
                return NULL;
        o = q;
        *o++ = '\'';
        for (const char *p = s; *p; p++)
                if (*p == '\'') {
                        memcpy(o, "'\\''", 4);
                        o += 4;
                } else
                        *o++ = *p;
        *o++ = '\'';
        *o = 0;
        return q;
}

int trackle_spool_bashrc(const char *spool, const char *prompt, char **ret)
{
        _cleanup_free_ char *qh = NULL, *qs = NULL, *hist = NULL, *status = NULL, *qp = NULL,
                            *ps1 = NULL;
        char *text;

        if (asprintf(&hist, "%s/history", spool) < 0 || asprintf(&status, "%s/status", spool) < 0)
                return -ENOMEM;
        qh = shell_quote(hist);
        qs = shell_quote(status);
        if (!qh || !qs)
                return -ENOMEM;
        /* The prompt prefix from trackle-shell-prompt, asked once: it makes the same check as
         * libtrackle.so, so the prefix shows that the shell really is tracked (and one exec is
         * recorded, not one per prompt). Without the tool, the plain prefix. */
        if (prompt) {
                qp = shell_quote(prompt);
                if (!qp || asprintf(&ps1, "PS1=\"$(%s --ps1)${PS1-}\"\n", qp) < 0)
                        return -ENOMEM;
        } else {
                ps1 = strdup("PS1='\\[\\e[1;32m\\]Trackle\\[\\e[0m\\] '\"${PS1-}\"\n");
                if (!ps1)
                        return -ENOMEM;
        }
        if (asprintf(&text,
                     "# trackle(1) session: the usual ~/.bashrc, then trackle's history settings.\n"
                     "if [ -f ~/.bashrc ]; then . ~/.bashrc; fi\n"
                     "HISTFILE=%s\n"
                     "HISTFILESIZE=-1\n"
                     "HISTSIZE=100000\n"
                     "HISTCONTROL=\n"
                     "HISTIGNORE=\n"
                     "HISTTIMEFORMAT=${HISTTIMEFORMAT:-'%%F %%T '}\n"
                     "shopt -s histappend\n"
                     "__trackle_status=%s\n"
                     "__trackle_last=-\n"
                     "__trackle_prompt() {\n"
                     "        local __trackle_s=$? __trackle_h __trackle_p\n"
                     "        builtin history -a\n"
                     "        __trackle_h=$(builtin history 1)\n"
                     "        __trackle_h=${__trackle_h#\"${__trackle_h%%%%[0-9]*}\"}\n"
                     "        __trackle_h=${__trackle_h%%%%[!0-9]*}\n"
                     "        __trackle_h=${__trackle_h:-0}\n"
                     "        if [[ $__trackle_h != \"$__trackle_last\" ]]; then\n"
                     "                __trackle_p=${PWD//\\\\/\\\\\\\\}\n"
                     "                __trackle_p=${__trackle_p//$'\\n'/\\\\n}\n"
                     "                if [[ $__trackle_last == - ]]; then\n"
                     "                        builtin printf '%%s - %%s\\n' \"$__trackle_h\" "
                     "\"$__trackle_p\"\n"
                     "                else\n"
                     "                        builtin printf '%%s %%s %%s\\n' \"$__trackle_h\" "
                     "\"$__trackle_s\" \"$__trackle_p\"\n"
                     "                fi >>\"$__trackle_status\"\n"
                     "                __trackle_last=$__trackle_h\n"
                     "        fi\n"
                     "        return $__trackle_s\n"
                     "}\n"
                     "PROMPT_COMMAND=\"__trackle_prompt${PROMPT_COMMAND:+; $PROMPT_COMMAND}\"\n"
                     "%s",
                     qh, qs, ps1) < 0)
                return -ENOMEM;
        *ret = text;
        return 0;
}

int trackle_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, allocated = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        for (;;) {
                ssize_t k;

                if (grow((void **)&buf, &allocated, n + 4096 + 1, 1) < 0)
                        return -ENOMEM;
                k = read(fd, buf + n, allocated - n - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t)k;
                if (n > max)
                        return -EFBIG;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}
