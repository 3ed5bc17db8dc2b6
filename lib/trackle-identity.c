/* trackle-identity.c - the session check shared by libtrackle.so and the console tools. Runs
 * inside other people's processes (through libtrackle.so): opens, reads and closes are raw
 * syscalls, so that they never reach the library's own wrappers and are no cancellation
 * points (see preload-core.c); no malloc, no stdio; errno is restored. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "trackle-identity.h"

#define IDENTITY_WALK_MAX 4096

static ssize_t read_small(const char *path, char *buf, size_t size)
{
        ssize_t n;
        int fd;

        fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW,
                          0);
        if (fd < 0)
                return -1;
        do
                n = syscall(SYS_read, fd, buf, size - 1);
        while (n < 0 && errno == EINTR);
        (void)syscall(SYS_close, fd);
        if (n < 0)
                return -1;
        buf[n] = 0;
        return n;
}

bool trackle_parse_u64(const char *s, size_t len, uint64_t *ret)
{
        uint64_t v = 0;

        if (len == 0 || len > 20 || s[0] == '0')
                return false;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
                        return false;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        *ret = v;
        return true;
}

size_t trackle_fmt_u64(char *out, uint64_t v)
{
        char tmp[24];
        size_t n = 0, i = 0;

        do
                tmp[n++] = (char)('0' + v % 10);
        while ((v /= 10) > 0);
        while (n > 0)
                out[i++] = tmp[--n];
        out[i] = 0;
        return i;
}

/* Value of "key=" in a marker line, as a strict decimal. */
static bool marker_field(const char *text, const char *key, uint64_t *ret)
{
        size_t klen = strlen(key);

        for (const char *p = text; *p;) {
                const char *end = p;

                while (*end && *end != ' ' && *end != '\n')
                        end++;
                if ((size_t)(end - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=')
                        return trackle_parse_u64(p + klen + 1, (size_t)(end - p) - klen - 1, ret);
                p = *end ? end + 1 : end;
        }
        return false;
}

/* The marker must be a regular root-owned file nobody else can write. */
static bool marker_ok(const char *path, char *text, size_t size)
{
        struct stat st;

        if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return false;
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0022))
                return false;
        return read_small(path, text, size) > 0;
}

static bool marker_path(char *out, size_t size, char kind, uint64_t id)
{
        size_t n = strlen(TRACKLE_ACTIVE_DIR);

        if (n + 24 > size)
                return false;
        memcpy(out, TRACKLE_ACTIVE_DIR, n);
        out[n++] = '/';
        out[n++] = kind;
        trackle_fmt_u64(out + n, id);
        return true;
}

/* Field 4 (ppid) and 22 (starttime) of /proc/<pid>/stat; comm may contain anything. */
static bool proc_stat(uint64_t pid, char *buf, size_t size, uint64_t *ret_ppid, uint64_t *ret_start)
{
        char path[48] = "/proc/";
        const char *p;
        uint64_t ppid = 0, start = 0;
        int field = 3;

        trackle_fmt_u64(path + 6, pid);
        strcat(path, "/stat");
        if (read_small(path, buf, size) <= 0)
                return false;
        p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return false;
        p += 2; /* at field 3 (state) */
        for (; *p && field <= 22; field++) {
                const char *end = strchr(p, ' ');
                size_t len = end ? (size_t)(end - p) : strlen(p);

                if (field == 4 && !(len == 1 && p[0] == '0') && !trackle_parse_u64(p, len, &ppid))
                        return false;
                if (field == 22 && !trackle_parse_u64(p, len, &start))
                        return false;
                if (!end)
                        break;
                p = end + 1;
        }
        if (field < 22)
                return false;
        *ret_ppid = ppid;
        *ret_start = start;
        return true;
}

static bool check(TrackleIdentityWork *w, uint64_t hint, uint64_t *ret_session, bool *ret_audit)
{
        char *path = w->path, *text = w->text;
        uint64_t sid, id, leader, start;

        if (read_small("/proc/self/sessionid", text, sizeof(w->text)) > 0) {
                size_t n = strcspn(text, "\n");

                if (trackle_parse_u64(text, n, &sid) && sid != UINT32_MAX &&
                    marker_path(path, sizeof(w->path), 'a', sid) &&
                    marker_ok(path, text, sizeof(w->text)) && marker_field(text, "session", &id)) {
                        *ret_session = id;
                        *ret_audit = true;
                        return true;
                }
        }
        if (hint == 0)
                return false;
        if (!marker_path(path, sizeof(w->path), 'p', hint) ||
            !marker_ok(path, text, sizeof(w->text)))
                return false;
        if (!marker_field(text, "leader", &leader) || !marker_field(text, "start", &start))
                return false;
        for (uint64_t pid = (uint64_t)getpid(), i = 0; pid > 0 && i < IDENTITY_WALK_MAX; i++) {
                uint64_t ppid, st;

                if (!proc_stat(pid, w->stat, sizeof(w->stat), &ppid, &st))
                        return false;
                if (pid == leader) {
                        if (st != start)
                                return false;
                        *ret_session = hint;
                        *ret_audit = false;
                        return true;
                }
                pid = ppid;
        }
        return false;
}

bool trackle_identity_check_in(TrackleIdentityWork *work, uint64_t hint, uint64_t *ret_session,
                               bool *ret_audit)
{
        int saved = errno;
        bool audit = false, in;
        uint64_t id = 0;

        in = check(work, hint, &id, &audit);
        errno = saved;
        if (in) {
                *ret_session = id;
                if (ret_audit)
                        *ret_audit = audit;
        }
        return in;
}

bool trackle_identity_check(uint64_t hint, uint64_t *ret_session, bool *ret_audit)
{
        TrackleIdentityWork work;

        return trackle_identity_check_in(&work, hint, ret_session, ret_audit);
}
