/* trackled-content.c - reading the state of a path for trackle: openat2 inside the client's
 * root, SHA-256 (libsodium), content cap, redaction and the binary flag. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sodium.h>

#include "macro.h"
#include "trackled-content.h"
#include "utf8.h"

static const char *const kind_names[_TRACKLED_KIND_MAX] = {
        [TRACKLED_KIND_ABSENT] = "absent",       [TRACKLED_KIND_FILE] = "file",
        [TRACKLED_KIND_DIRECTORY] = "directory", [TRACKLED_KIND_SYMLINK] = "symlink",
        [TRACKLED_KIND_OTHER] = "other",         [TRACKLED_KIND_UNKNOWN] = "unknown",
};

const char *trackled_kind_to_string(TrackledKind k)
{
        return k < _TRACKLED_KIND_MAX ? kind_names[k] : "unknown";
}

TrackledKind trackled_kind_from_string(const char *s)
{
        for (size_t i = 0; s && i < _TRACKLED_KIND_MAX; i++)
                if (streq(s, kind_names[i]))
                        return (TrackledKind)i;
        return TRACKLED_KIND_UNKNOWN;
}

void trackled_snapshot_done(TrackledSnapshot *s)
{
        if (!s)
                return;
        free(s->content);
        *s = (TrackledSnapshot){};
}

bool trackled_content_is_binary(const uint8_t *p, size_t n)
{
        if (n > 0 && memchr(p, '\0', n))
                return true;
        return !utf8_is_valid_n((const char *)p, n);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[d[i] >> 4];
                out[2 * i + 1] = digits[d[i] & 15];
        }
        out[2 * n] = '\0';
}

void trackled_sha256_hex(const uint8_t *p, size_t n, char ret[65])
{
        uint8_t d[crypto_hash_sha256_BYTES];

        crypto_hash_sha256(d, p, n);
        hex(d, sizeof(d), ret);
}

static void set_meta(TrackledSnapshot *s, const struct stat *st)
{
        s->have_meta = true;
        s->mode = st->st_mode & 07777;
        s->uid = st->st_uid;
        s->gid = st->st_gid;
        s->size = (uint64_t)st->st_size;
        if (S_ISREG(st->st_mode))
                s->kind = TRACKLED_KIND_FILE;
        else if (S_ISDIR(st->st_mode))
                s->kind = TRACKLED_KIND_DIRECTORY;
        else if (S_ISLNK(st->st_mode))
                s->kind = TRACKLED_KIND_SYMLINK;
        else
                s->kind = TRACKLED_KIND_OTHER;
}

static void set_unknown(TrackledSnapshot *s, int error)
{
        free(s->content);
        *s = (TrackledSnapshot){.kind = TRACKLED_KIND_UNKNOWN, .error = error};
}

/* Read a regular file to its end: hash all of it, keep at most content_max bytes. */
static int read_regular(int fd, const TrackledConfig *c, TrackledSnapshot *s)
{
        crypto_hash_sha256_state h;
        uint8_t d[crypto_hash_sha256_BYTES];
        _cleanup_free_ uint8_t *buf = NULL;
        uint8_t chunk[65536];
        size_t kept = 0, alloc = 0;
        uint64_t total = 0;
        bool keep = !s->redacted;

        crypto_hash_sha256_init(&h);
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                if (total == 0 && memchr(chunk, '\0', (size_t)n))
                        s->binary = true;
                crypto_hash_sha256_update(&h, chunk, (unsigned long long)n);
                total += (uint64_t)n;
                if (keep && total > c->content_max) {
                        keep = false;
                        s->over_cap = true;
                        free(buf);
                        buf = NULL;
                        alloc = 0;
                        kept = 0;
                }
                if (keep) {
                        if (kept + (size_t)n > alloc) {
                                size_t na = MAX(alloc * 2, kept + (size_t)n);
                                uint8_t *nb = realloc(buf, na);
                                if (!nb)
                                        return -ENOMEM;
                                buf = nb;
                                alloc = na;
                        }
                        memcpy(buf + kept, chunk, (size_t)n);
                        kept += (size_t)n;
                }
        }
        crypto_hash_sha256_final(&h, d);
        hex(d, sizeof(d), s->sha256);
        s->have_hash = true;
        s->size = total;
        if (keep) {
                if (!buf) {
                        buf = malloc(1);
                        if (!buf)
                                return -ENOMEM;
                }
                s->binary = s->binary || trackled_content_is_binary(buf, kept);
                s->content = TAKE_PTR(buf);
                s->content_len = kept;
        }
        return 0;
}

static int snapshot_regular_fd(int fd, const char *path, const TrackledConfig *c,
                               TrackledSnapshot *s)
{
        int r;

        s->redacted = trackled_config_is_redacted(c, path);
        r = read_regular(fd, c, s);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                set_unknown(s, r);
        return 0;
}

int trackled_snapshot_empty(const char *path, const TrackledConfig *c, TrackledSnapshot *ret)
{
        TrackledSnapshot s = {.kind = TRACKLED_KIND_FILE};

        s.redacted = trackled_config_is_redacted(c, path);
        trackled_sha256_hex((const uint8_t *)"", 0, s.sha256);
        s.have_hash = true;
        if (!s.redacted) {
                s.content = malloc(1);
                if (!s.content)
                        return -ENOMEM;
        }
        *ret = s;
        return 0;
}

/* The target of the symlink fd (an O_PATH descriptor of the link itself) is its content. */
static int snapshot_symlink_fd(int fd, const char *path, const TrackledConfig *c,
                               TrackledSnapshot *s)
{
        char target[4097];
        ssize_t n = readlinkat(fd, "", target, sizeof(target));

        if (n < 0 || (size_t)n >= sizeof(target)) {
                set_unknown(s, n < 0 ? negative_errno() : -ENAMETOOLONG);
                return 0;
        }
        s->redacted = trackled_config_is_redacted(c, path);
        trackled_sha256_hex((const uint8_t *)target, (size_t)n, s->sha256);
        s->have_hash = true;
        s->size = (uint64_t)n;
        if (!s->redacted) {
                s->content = malloc((size_t)n + 1);
                if (!s->content)
                        return -ENOMEM;
                memcpy(s->content, target, (size_t)n);
                s->content_len = (size_t)n;
                s->binary = trackled_content_is_binary(s->content, s->content_len);
        }
        return 0;
}

/* Recording a file must not change what ls -lu shows of it: reads go without an access time
 * update where the kernel lets us (files root owns; a file of another user needs CAP_FOWNER,
 * which trackled.service does not have, and is read as before). */
static void no_atime(int fd)
{
        int fl = fcntl(fd, F_GETFL);

        if (fl >= 0 && !(fl & O_NOATIME))
                (void)fcntl(fd, F_SETFL, fl | O_NOATIME);
}

int trackled_snapshot_fd(int fd, const char *path, const TrackledConfig *c, TrackledSnapshot *ret)
{
        TrackledSnapshot s = {};
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0) {
                set_unknown(&s, negative_errno());
                *ret = s;
                return 0;
        }
        set_meta(&s, &st);
        if (S_ISREG(st.st_mode))
                no_atime(fd);
        if (S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_SET) >= 0) {
                r = snapshot_regular_fd(fd, path, c, &s);
                if (r < 0) {
                        trackled_snapshot_done(&s);
                        return r;
                }
        } else if (S_ISREG(st.st_mode)) {
                set_unknown(&s, negative_errno());
        } else if (S_ISLNK(st.st_mode)) {
                r = snapshot_symlink_fd(fd, path, c, &s);
                if (r < 0) {
                        trackled_snapshot_done(&s);
                        return r;
                }
        }
        *ret = s;
        return 0;
}

static int open_in_root(int rootfd, const char *path, uint64_t flags)
{
        struct open_how how = {
                /* openat2() refuses O_PATH combined with anything but these */
                .flags = flags | O_NOFOLLOW | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        long fd;

        fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        return fd < 0 ? negative_errno() : (int)fd;
}

static int open_read(int rootfd, const char *path)
{
        int fd = open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOATIME);

        return fd == -EPERM ? open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK) : fd;
}

int trackled_open_regular(int rootfd, const char *path)
{
        struct stat st;
        int fd;

        fd = open_read(rootfd, path);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                safe_close(fd);
                return -EBADFD;
        }
        return fd;
}

int trackled_snapshot_path(int rootfd, const char *path, const TrackledConfig *c,
                           TrackledSnapshot *ret)
{
        _cleanup_close_ int pfd = -EBADF, fd = -EBADF;
        TrackledSnapshot s = {};
        struct stat st, st2;
        int r;

        pfd = open_in_root(rootfd, path, O_PATH);
        if (pfd == -ENOENT || pfd == -ENOTDIR) {
                *ret = (TrackledSnapshot){.kind = TRACKLED_KIND_ABSENT};
                return 0;
        }
        if (pfd < 0 || fstat(pfd, &st) < 0) {
                set_unknown(&s, pfd < 0 ? pfd : negative_errno());
                *ret = s;
                return 0;
        }
        set_meta(&s, &st);
        if (S_ISLNK(st.st_mode)) {
                r = snapshot_symlink_fd(pfd, path, c, &s);
                if (r < 0)
                        return r;
        } else if (S_ISREG(st.st_mode)) {
                /* Re-open for reading and make sure it is still the same file. */
                fd = open_read(rootfd, path);
                if (fd < 0 || fstat(fd, &st2) < 0) {
                        set_unknown(&s, fd < 0 ? fd : negative_errno());
                        *ret = s;
                        return 0;
                }
                if (st2.st_dev != st.st_dev || st2.st_ino != st.st_ino || !S_ISREG(st2.st_mode)) {
                        set_unknown(&s, -ESTALE);
                        *ret = s;
                        return 0;
                }
                r = snapshot_regular_fd(fd, path, c, &s);
                if (r < 0) {
                        trackled_snapshot_done(&s);
                        return r;
                }
        }
        *ret = s;
        return 0;
}
