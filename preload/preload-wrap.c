/* preload-wrap.c - the exported wrappers of libtrackle.so (interposition.md §3.3 A-F).
 *
 * Each wrapper resolves the real function on first use (it may be called before any
 * constructor, e.g. from libselinux's; close, fclose, dup2 and _exit need no resolving, see
 * there), asks preload-core.c what to record, restores errno, calls the real function, and
 * reports only after success. Errno and the return value the
 * caller sees are exactly the real function's. */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS /* we define both open and open64 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include "trackle-preload.h"

extern char **environ;

/* FORTIFY variants, declared by glibc only under _FORTIFY_SOURCE. */
TP_EXPORT int __open_2(const char *path, int flags);
TP_EXPORT int __open64_2(const char *path, int flags);
TP_EXPORT int __openat_2(int dirfd, const char *path, int flags);
TP_EXPORT int __openat64_2(int dirfd, const char *path, int flags);

/* A slot of its own for each call site (see tp_real()) */
#define REAL(name) ((__typeof__(&name))tp_real(TP_REAL_FIRST + __COUNTER__, #name))
#define REAL_EXEC(name) ((__typeof__(&name))tp_real(TP_REAL_##name, #name))

#define REAL_EXEC_OR(name, fail)                                                                   \
        __typeof__(&name) real = REAL_EXEC(name);                                                  \
        if (!real) {                                                                               \
                errno = ENOSYS;                                                                    \
                return fail;                                                                       \
        }

/* Missing real symbol: fail the way a missing kernel feature would. */
#define REAL_OR(name, fail)                                                                        \
        __typeof__(&name) real = REAL(name);                                                       \
        if (!real) {                                                                               \
                errno = ENOSYS;                                                                    \
                return fail;                                                                       \
        }

static bool needs_mode(int flags)
{
        return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

#define MODE_ARG(flags)                                                                            \
        mode_t mode = 0;                                                                           \
        if (needs_mode(flags)) {                                                                   \
                va_list ap;                                                                        \
                va_start(ap, flags);                                                               \
                mode = va_arg(ap, mode_t);                                                         \
                va_end(ap);                                                                        \
        }

static inline int tp_fd_of_int(int fd)
{
        return fd;
}

static inline int tp_fd_of_file(FILE *f)
{
        return fileno(f);
}

#define OPEN_FD(r) _Generic((r), FILE * : tp_fd_of_file, default : tp_fd_of_int)(r)

/* The whole open protocol around CALL: BEFORE for an existing target, CREATED after. */
#define OPEN_BODY(type, fail, dirfd, path, flags, CALL)                                            \
        do {                                                                                       \
                int e_ = errno;                                                                    \
                TP_PRE(p_);                                                                        \
                type r_;                                                                           \
                tp_pre_open(&p_, dirfd, tp_launder(path), flags);                                  \
                errno = e_;                                                                        \
                r_ = CALL;                                                                         \
                if (r_ != (fail)) {                                                                \
                        e_ = errno;                                                                \
                        if (p_.active && !p_.exists && ((flags)&O_CREAT)) {                        \
                                tp_post(&p_, TRACKLE_OP_CREATED, NULL);                            \
                                p_.reported = true;                                                \
                        }                                                                          \
                        tp_opened(&p_, OPEN_FD(r_));                                               \
                        errno = e_;                                                                \
                }                                                                                  \
                return r_;                                                                         \
        } while (0)

/* The real call with the caller's errno, then the EVENT if it succeeded; returns its result. */
#define CALL_THEN_POST(event_op, CALL)                                                             \
        do {                                                                                       \
                errno = e_;                                                                        \
                r_ = CALL;                                                                         \
                if (r_ == 0) {                                                                     \
                        e_ = errno;                                                                \
                        tp_post(&p_, event_op, NULL);                                              \
                        errno = e_;                                                                \
                }                                                                                  \
                return r_;                                                                         \
        } while (0)

/* A metadata or namespace call: stat before (and BEFORE if op), EVENT after success. */
#define PATH_BODY(dirfd, path, statflags, before_op, event_op, CALL)                               \
        do {                                                                                       \
                int e_ = errno, r_;                                                                \
                TP_PRE(p_);                                                                        \
                tp_pre(&p_, dirfd, tp_launder(path), (statflags) | TP_MUST_EXIST | TP_KNOWN_SKIP,  \
                       before_op);                                                                 \
                CALL_THEN_POST(event_op, CALL);                                                    \
        } while (0)

#define FD_BODY(fd, event_op, CALL)                                                                \
        do {                                                                                       \
                int e_ = errno, r_;                                                                \
                TP_PRE(p_);                                                                        \
                if (tp_fd_reported(fd)) {                                                          \
                        errno = e_;                                                                \
                        return CALL;                                                               \
                }                                                                                  \
                tp_pre_fd(&p_, fd);                                                                \
                CALL_THEN_POST(event_op, CALL);                                                    \
        } while (0)

/* ---- A. opening for write ---- */

TP_EXPORT int open(const char *path, int flags, ...)
{
        MODE_ARG(flags);
        REAL_OR(open, -1);
        OPEN_BODY(int, -1, AT_FDCWD, path, flags, real(path, flags, mode));
}

TP_EXPORT int open64(const char *path, int flags, ...)
{
        MODE_ARG(flags);
        REAL_OR(open64, -1);
        OPEN_BODY(int, -1, AT_FDCWD, path, flags, real(path, flags, mode));
}

TP_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
        MODE_ARG(flags);
        REAL_OR(openat, -1);
        OPEN_BODY(int, -1, dirfd, path, flags, real(dirfd, path, flags, mode));
}

TP_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
        MODE_ARG(flags);
        REAL_OR(openat64, -1);
        OPEN_BODY(int, -1, dirfd, path, flags, real(dirfd, path, flags, mode));
}

TP_EXPORT int creat(const char *path, mode_t mode)
{
        REAL_OR(creat, -1);
        OPEN_BODY(int, -1, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, real(path, mode));
}

TP_EXPORT int creat64(const char *path, mode_t mode)
{
        REAL_OR(creat64, -1);
        OPEN_BODY(int, -1, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, real(path, mode));
}

TP_EXPORT int __open_2(const char *path, int flags)
{
        REAL_OR(__open_2, -1);
        OPEN_BODY(int, -1, AT_FDCWD, path, flags, real(path, flags));
}

TP_EXPORT int __open64_2(const char *path, int flags)
{
        REAL_OR(__open64_2, -1);
        OPEN_BODY(int, -1, AT_FDCWD, path, flags, real(path, flags));
}

TP_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
        REAL_OR(__openat_2, -1);
        OPEN_BODY(int, -1, dirfd, path, flags, real(dirfd, path, flags));
}

TP_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
        REAL_OR(__openat64_2, -1);
        OPEN_BODY(int, -1, dirfd, path, flags, real(dirfd, path, flags));
}

/* The open(2) flags an fopen mode stands for (glibc: first char, then up to 6 modifiers). */
static int fopen_flags(const char *mode)
{
        int flags;

        mode = tp_launder(mode);
        if (!mode)
                return 0;
        switch (mode[0]) {
        case 'r':
                flags = O_RDONLY;
                break;
        case 'w':
                flags = O_WRONLY | O_CREAT | O_TRUNC;
                break;
        case 'a':
                flags = O_WRONLY | O_CREAT | O_APPEND;
                break;
        default:
                return 0;
        }
        for (int i = 1; i < 7 && mode[i] && mode[i] != ','; i++) {
                if (mode[i] == '+')
                        flags = (flags & ~O_ACCMODE) | O_RDWR;
                else if (mode[i] == 'x')
                        flags |= O_EXCL;
        }
        return flags;
}

TP_EXPORT FILE *fopen(const char *path, const char *mode)
{
        int flags = fopen_flags(mode);
        REAL_OR(fopen, NULL);
        OPEN_BODY(FILE *, NULL, AT_FDCWD, path, flags, real(path, mode));
}

TP_EXPORT FILE *fopen64(const char *path, const char *mode)
{
        int flags = fopen_flags(mode);
        REAL_OR(fopen64, NULL);
        OPEN_BODY(FILE *, NULL, AT_FDCWD, path, flags, real(path, mode));
}

/* The descriptor under a stream that is about to be closed or reopened. */
static void stream_closing(FILE *stream)
{
        int e = errno;

        if (tp_launder((const char *)stream))
                tp_fd_closed(fileno(stream));
        errno = e;
}

TP_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
        int flags = tp_launder(path) ? fopen_flags(mode) : 0;
        REAL_OR(freopen, NULL);
        stream_closing(stream);
        OPEN_BODY(FILE *, NULL, AT_FDCWD, path, flags, real(path, mode, stream));
}

TP_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
        int flags = tp_launder(path) ? fopen_flags(mode) : 0;
        REAL_OR(freopen64, NULL);
        stream_closing(stream);
        OPEN_BODY(FILE *, NULL, AT_FDCWD, path, flags, real(path, mode, stream));
}

/* ---- B. namespace changes ---- */

static int rename_common(int od, const char *old, int nd, const char *new, unsigned flags, int r,
                         bool call, int (*fn)(int, const char *, int, const char *, unsigned),
                         int (*fn2)(const char *, const char *),
                         int (*fn3)(int, const char *, int, const char *))
{
        TP_PRE(a);
        TP_PRE(b);
        int e = errno;

        old = tp_launder(old);
        new = tp_launder(new);
        tp_pre(&a, od, old, AT_SYMLINK_NOFOLLOW | TP_KNOWN_SKIP, TRACKLE_OP_RENAME_SRC);
        if (flags & RENAME_NOREPLACE) /* fails on an existing new: nothing to stat */
                tp_pre(&b, nd, new, TP_NEW_ONLY, 0);
        else
                tp_pre(&b, nd, new, AT_SYMLINK_NOFOLLOW, TRACKLE_OP_RENAME_DST);
        errno = e;
        (void)call;
        if (fn)
                r = fn(od, old, nd, new, flags);
        else if (fn2)
                r = fn2(old, new);
        else
                r = fn3(od, old, nd, new);
        if (r != 0)
                return r;
        e = errno;
        /* (a path reported before, not looked at now, may have become a directory since) */
        if ((a.active && a.exists && S_ISDIR(a.st.st_mode)) || (a.active && a.reported) ||
            (b.active && b.exists && S_ISDIR(b.st.st_mode)))
                tp_dirs_moved();
        if (a.active && b.active)
                tp_post(&a, (flags & RENAME_EXCHANGE) ? TRACKLE_OP_EXCHANGED : TRACKLE_OP_RENAMED,
                        b.abs);
        else if (a.active)
                tp_post(&a, TRACKLE_OP_UNLINKED, NULL); /* moved out of sight */
        else if (b.active) {
                b.exists = false;
                tp_post(&b, TRACKLE_OP_CREATED, NULL);
        }
        errno = e;
        return r;
}

TP_EXPORT int rename(const char *old, const char *new)
{
        REAL_OR(rename, -1);
        return rename_common(AT_FDCWD, old, AT_FDCWD, new, 0, -1, true, NULL, real, NULL);
}

TP_EXPORT int renameat(int od, const char *old, int nd, const char *new)
{
        REAL_OR(renameat, -1);
        return rename_common(od, old, nd, new, 0, -1, true, NULL, NULL, real);
}

TP_EXPORT int renameat2(int od, const char *old, int nd, const char *new, unsigned flags)
{
        REAL_OR(renameat2, -1);
        return rename_common(od, old, nd, new, flags, -1, true, real, NULL, NULL);
}

TP_EXPORT int unlink(const char *path)
{
        REAL_OR(unlink, -1);
        PATH_BODY(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, TRACKLE_OP_UNLINK, TRACKLE_OP_UNLINKED,
                  real(path));
}

TP_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
        bool dir = flags & AT_REMOVEDIR;
        REAL_OR(unlinkat, -1);
        PATH_BODY(dirfd, path, AT_SYMLINK_NOFOLLOW, dir ? 0 : TRACKLE_OP_UNLINK,
                  dir ? TRACKLE_OP_RMDIR : TRACKLE_OP_UNLINKED, real(dirfd, path, flags));
}

TP_EXPORT int rmdir(const char *path)
{
        REAL_OR(rmdir, -1);
        PATH_BODY(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, TRACKLE_OP_RMDIR, real(path));
}

TP_EXPORT int remove(const char *path)
{
        int e = errno, r;
        TP_PRE(p);
        REAL_OR(remove, -1);

        tp_pre(&p, AT_FDCWD, tp_launder(path), AT_SYMLINK_NOFOLLOW | TP_MUST_EXIST,
               TRACKLE_OP_UNLINK);
        errno = e;
        r = real(path);
        if (r == 0) {
                e = errno;
                tp_post(&p,
                        p.exists && S_ISDIR(p.st.st_mode) ? TRACKLE_OP_RMDIR : TRACKLE_OP_UNLINKED,
                        NULL);
                errno = e;
        }
        return r;
}

static int link_common(int od, const char *old, int nd, const char *new, int flags,
                       int (*fn)(int, const char *, int, const char *, int),
                       int (*fn2)(const char *, const char *))
{
        int e = errno, r;
        bool have_old;
        TP_PRE(p);
        TP_PRE(o); /* only its absolute path, in a buffer of the library's */

        old = tp_launder(old);
        new = tp_launder(new);
        tp_pre(&p, nd, new, TP_NEW_ONLY, 0);
        if (p.active)
                tp_pre(&o, od, old, TP_NEW_ONLY, 0);
        have_old = p.active && o.active;
        errno = e;
        r = fn ? fn(od, old, nd, new, flags) : fn2(old, new);
        if (r == 0) {
                e = errno;
                p.exists = false;
                tp_post(&p, TRACKLE_OP_LINK, have_old ? o.abs : NULL);
                errno = e;
        }
        return r;
}

TP_EXPORT int link(const char *old, const char *new)
{
        REAL_OR(link, -1);
        return link_common(AT_FDCWD, old, AT_FDCWD, new, 0, NULL, real);
}

TP_EXPORT int linkat(int od, const char *old, int nd, const char *new, int flags)
{
        REAL_OR(linkat, -1);
        return link_common(od, old, nd, new, flags, real, NULL);
}

TP_EXPORT int symlink(const char *target, const char *path)
{
        int e = errno, r;
        TP_PRE(p);
        REAL_OR(symlink, -1);

        tp_pre(&p, AT_FDCWD, tp_launder(path), TP_NEW_ONLY, 0);
        errno = e;
        r = real(target, path);
        if (r == 0) {
                e = errno;
                p.exists = false;
                tp_post(&p, TRACKLE_OP_SYMLINK, target);
                errno = e;
        }
        return r;
}

TP_EXPORT int symlinkat(const char *target, int dirfd, const char *path)
{
        int e = errno, r;
        TP_PRE(p);
        REAL_OR(symlinkat, -1);

        tp_pre(&p, dirfd, tp_launder(path), TP_NEW_ONLY, 0);
        errno = e;
        r = real(target, dirfd, path);
        if (r == 0) {
                e = errno;
                p.exists = false;
                tp_post(&p, TRACKLE_OP_SYMLINK, target);
                errno = e;
        }
        return r;
}

#define CREATE_BODY(dirfd, path, op, CALL)                                                         \
        do {                                                                                       \
                int e_ = errno, r_;                                                                \
                TP_PRE(p_);                                                                        \
                tp_pre(&p_, dirfd, tp_launder(path), TP_NEW_ONLY, 0);                              \
                errno = e_;                                                                        \
                r_ = CALL;                                                                         \
                if (r_ == 0) {                                                                     \
                        e_ = errno;                                                                \
                        p_.exists = false;                                                         \
                        tp_post(&p_, op, NULL);                                                    \
                        errno = e_;                                                                \
                }                                                                                  \
                return r_;                                                                         \
        } while (0)

TP_EXPORT int mkdir(const char *path, mode_t mode)
{
        REAL_OR(mkdir, -1);
        CREATE_BODY(AT_FDCWD, path, TRACKLE_OP_MKDIR, real(path, mode));
}

TP_EXPORT int mkdirat(int dirfd, const char *path, mode_t mode)
{
        REAL_OR(mkdirat, -1);
        CREATE_BODY(dirfd, path, TRACKLE_OP_MKDIR, real(dirfd, path, mode));
}

TP_EXPORT int mknod(const char *path, mode_t mode, dev_t dev)
{
        REAL_OR(mknod, -1);
        CREATE_BODY(AT_FDCWD, path, TRACKLE_OP_MKNOD, real(path, mode, dev));
}

TP_EXPORT int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
        REAL_OR(mknodat, -1);
        CREATE_BODY(dirfd, path, TRACKLE_OP_MKNOD, real(dirfd, path, mode, dev));
}

TP_EXPORT int mkfifo(const char *path, mode_t mode)
{
        REAL_OR(mkfifo, -1);
        CREATE_BODY(AT_FDCWD, path, TRACKLE_OP_MKNOD, real(path, mode));
}

TP_EXPORT int mkfifoat(int dirfd, const char *path, mode_t mode)
{
        REAL_OR(mkfifoat, -1);
        CREATE_BODY(dirfd, path, TRACKLE_OP_MKNOD, real(dirfd, path, mode));
}

/* ---- C. content changes without open ---- */

#define TRUNCATE_BODY(path, CALL)                                                                  \
        do {                                                                                       \
                int e_ = errno, r_;                                                                \
                TP_PRE(p_);                                                                        \
                tp_pre_open(&p_, AT_FDCWD, tp_launder(path), O_WRONLY | O_TRUNC);                  \
                CALL_THEN_POST(TRACKLE_OP_TRUNCATED, CALL);                                        \
        } while (0)

TP_EXPORT int truncate(const char *path, off_t len)
{
        REAL_OR(truncate, -1);
        TRUNCATE_BODY(path, real(path, len));
}

TP_EXPORT int truncate64(const char *path, off64_t len)
{
        REAL_OR(truncate64, -1);
        TRUNCATE_BODY(path, real(path, len));
}

/* ---- D. metadata ---- */

static bool empty_path(const char *path, int flags)
{
        path = tp_launder(path);
        return (flags & AT_EMPTY_PATH) && path && !path[0];
}

TP_EXPORT int chmod(const char *path, mode_t mode)
{
        REAL_OR(chmod, -1);
        PATH_BODY(AT_FDCWD, path, 0, 0, TRACKLE_OP_CHMOD, real(path, mode));
}

TP_EXPORT int lchmod(const char *path, mode_t mode)
{
        REAL_OR(lchmod, -1);
        PATH_BODY(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, TRACKLE_OP_CHMOD, real(path, mode));
}

TP_EXPORT int fchmod(int fd, mode_t mode)
{
        REAL_OR(fchmod, -1);
        FD_BODY(fd, TRACKLE_OP_CHMOD, real(fd, mode));
}

TP_EXPORT int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
        REAL_OR(fchmodat, -1);
        PATH_BODY(dirfd, path, flags & AT_SYMLINK_NOFOLLOW, 0, TRACKLE_OP_CHMOD,
                  real(dirfd, path, mode, flags));
}

TP_EXPORT int chown(const char *path, uid_t uid, gid_t gid)
{
        REAL_OR(chown, -1);
        PATH_BODY(AT_FDCWD, path, 0, 0, TRACKLE_OP_CHOWN, real(path, uid, gid));
}

TP_EXPORT int lchown(const char *path, uid_t uid, gid_t gid)
{
        REAL_OR(lchown, -1);
        PATH_BODY(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, TRACKLE_OP_CHOWN, real(path, uid, gid));
}

TP_EXPORT int fchown(int fd, uid_t uid, gid_t gid)
{
        REAL_OR(fchown, -1);
        FD_BODY(fd, TRACKLE_OP_CHOWN, real(fd, uid, gid));
}

TP_EXPORT int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
        REAL_OR(fchownat, -1);
        if (empty_path(path, flags))
                FD_BODY(dirfd, TRACKLE_OP_CHOWN, real(dirfd, path, uid, gid, flags));
        PATH_BODY(dirfd, path, flags & AT_SYMLINK_NOFOLLOW, 0, TRACKLE_OP_CHOWN,
                  real(dirfd, path, uid, gid, flags));
}

TP_EXPORT int utime(const char *path, const struct utimbuf *times)
{
        REAL_OR(utime, -1);
        PATH_BODY(AT_FDCWD, path, 0, 0, TRACKLE_OP_UTIME, real(path, times));
}

TP_EXPORT int utimes(const char *path, const struct timeval tv[2])
{
        REAL_OR(utimes, -1);
        PATH_BODY(AT_FDCWD, path, 0, 0, TRACKLE_OP_UTIME, real(path, tv));
}

TP_EXPORT int lutimes(const char *path, const struct timeval tv[2])
{
        REAL_OR(lutimes, -1);
        PATH_BODY(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, TRACKLE_OP_UTIME, real(path, tv));
}

TP_EXPORT int futimes(int fd, const struct timeval tv[2])
{
        REAL_OR(futimes, -1);
        FD_BODY(fd, TRACKLE_OP_UTIME, real(fd, tv));
}

TP_EXPORT int futimesat(int dirfd, const char *path, const struct timeval tv[2])
{
        REAL_OR(futimesat, -1);
        if (!tp_launder(path))
                FD_BODY(dirfd, TRACKLE_OP_UTIME, real(dirfd, path, tv));
        PATH_BODY(dirfd, path, 0, 0, TRACKLE_OP_UTIME, real(dirfd, path, tv));
}

TP_EXPORT int utimensat(int dirfd, const char *path, const struct timespec ts[2], int flags)
{
        REAL_OR(utimensat, -1);
        if (!tp_launder(path) || empty_path(path, flags))
                FD_BODY(dirfd, TRACKLE_OP_UTIME, real(dirfd, path, ts, flags));
        PATH_BODY(dirfd, path, flags & AT_SYMLINK_NOFOLLOW, 0, TRACKLE_OP_UTIME,
                  real(dirfd, path, ts, flags));
}

TP_EXPORT int futimens(int fd, const struct timespec ts[2])
{
        REAL_OR(futimens, -1);
        FD_BODY(fd, TRACKLE_OP_UTIME, real(fd, ts));
}

TP_EXPORT int setxattr(const char *path, const char *name, const void *value, size_t size,
                       int flags)
{
        REAL_OR(setxattr, -1);
        PATH_BODY(AT_FDCWD, path, 0, 0, TRACKLE_OP_XATTR, real(path, name, value, size, flags));
}

TP_EXPORT int lsetxattr(const char *path, const char *name, const void *value, size_t size,
                        int flags)
{
        REAL_OR(lsetxattr, -1);
        PATH_BODY(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, TRACKLE_OP_XATTR,
                  real(path, name, value, size, flags));
}

TP_EXPORT int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)
{
        REAL_OR(fsetxattr, -1);
        FD_BODY(fd, TRACKLE_OP_XATTR, real(fd, name, value, size, flags));
}

TP_EXPORT int removexattr(const char *path, const char *name)
{
        REAL_OR(removexattr, -1);
        PATH_BODY(AT_FDCWD, path, 0, 0, TRACKLE_OP_XATTR, real(path, name));
}

TP_EXPORT int lremovexattr(const char *path, const char *name)
{
        REAL_OR(lremovexattr, -1);
        PATH_BODY(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, TRACKLE_OP_XATTR, real(path, name));
}

TP_EXPORT int fremovexattr(int fd, const char *name)
{
        REAL_OR(fremovexattr, -1);
        FD_BODY(fd, TRACKLE_OP_XATTR, real(fd, name));
}

/* ---- descriptors closed: only so that tp_fd_reported() needs no fstat ---- */

/* close, fclose and dup2 call glibc's own exported names for them (bound at load, -z now)
 * instead of resolving the next "close" with dlsym() at the first call: programs call close()
 * in signal handlers, where dlsym() (which may take locks and allocate) must not run. */
extern int __close(int fd);
extern int __dup2(int oldfd, int newfd);
extern int _IO_fclose(FILE *stream);

TP_EXPORT int close(int fd)
{
        tp_fd_closed(fd);
        return __close(fd);
}

TP_EXPORT int fclose(FILE *stream)
{
        stream_closing(stream);
        return _IO_fclose(stream);
}

TP_EXPORT int dup2(int oldfd, int newfd)
{
        if (oldfd != newfd)
                tp_fd_closed(newfd);
        return __dup2(oldfd, newfd);
}

TP_EXPORT int dup3(int oldfd, int newfd, int flags)
{
        REAL_OR(dup3, -1);
        if (oldfd != newfd)
                tp_fd_closed(newfd);
        return real(oldfd, newfd, flags);
}

TP_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
        REAL_OR(close_range, -1);
        if (!(flags & CLOSE_RANGE_CLOEXEC))
                tp_fds_closed(first, last);
        return real(first, last, flags);
}

TP_EXPORT void closefrom(int lowfd)
{
        __typeof__(&closefrom) real = REAL(closefrom);

        if (lowfd >= 0)
                tp_fds_closed((unsigned)lowfd, ~0u);
        if (real)
                real(lowfd);
}

/* glibc's _exit() is the exit_group system call; ours first lets a child of vfork() that
 * exits without exec drop what it cached in its parent's memory (tp_vfork_check()). */
static _Noreturn void exit_now(int status)
{
        if (tp_fd_cache_used())
                (void)tp_vfork_check();
        for (;;)
                (void)syscall(SYS_exit_group, status);
}

TP_EXPORT void _exit(int status)
{
        exit_now(status);
}

TP_EXPORT void _Exit(int status)
{
        exit_now(status);
}

/* ---- E. temporary files: new, so nothing before; CREATED after ---- */

#define TEMP_BODY(tmpl, CALL)                                                                      \
        do {                                                                                       \
                int e_, r_;                                                                        \
                r_ = CALL;                                                                         \
                if (r_ >= 0) {                                                                     \
                        e_ = errno;                                                                \
                        tp_fd_closed(r_);                                                          \
                        tp_post_created(AT_FDCWD, tmpl, false);                                    \
                        errno = e_;                                                                \
                }                                                                                  \
                return r_;                                                                         \
        } while (0)

TP_EXPORT int mkstemp(char *tmpl)
{
        REAL_OR(mkstemp, -1);
        TEMP_BODY(tmpl, real(tmpl));
}

TP_EXPORT int mkstemp64(char *tmpl)
{
        REAL_OR(mkstemp64, -1);
        TEMP_BODY(tmpl, real(tmpl));
}

TP_EXPORT int mkostemp(char *tmpl, int flags)
{
        REAL_OR(mkostemp, -1);
        TEMP_BODY(tmpl, real(tmpl, flags));
}

TP_EXPORT int mkostemp64(char *tmpl, int flags)
{
        REAL_OR(mkostemp64, -1);
        TEMP_BODY(tmpl, real(tmpl, flags));
}

TP_EXPORT int mkstemps(char *tmpl, int suffixlen)
{
        REAL_OR(mkstemps, -1);
        TEMP_BODY(tmpl, real(tmpl, suffixlen));
}

TP_EXPORT int mkostemps(char *tmpl, int suffixlen, int flags)
{
        REAL_OR(mkostemps, -1);
        TEMP_BODY(tmpl, real(tmpl, suffixlen, flags));
}

TP_EXPORT char *mkdtemp(char *tmpl)
{
        char *r;
        int e;
        REAL_OR(mkdtemp, NULL);

        r = real(tmpl);
        if (r) {
                e = errno;
                tp_post_created(AT_FDCWD, r, true);
                errno = e;
        }
        return r;
}

/* ---- F. exec and spawn: an EXEC frame, and the child environment with our library ---- */

/* The environment for a child: a new vector, or envp itself (inert, or it cannot be built). */
static char *const *child_env(TpEnvBuf *b, char *const envp[])
{
        TpExecInfo info;
        char **v;

        b->map = NULL;
        if (!tp_exec_info(&info))
                return envp;
        v = tp_env_build(b, &info, envp, NULL, 0, NULL, 0, true);
        return v ? v : envp;
}

static void fd_file(char *buf, size_t size, int fd)
{
        static const char prefix[] = "/proc/self/fd/";
        char tmp[16];
        size_t n = 0, k = 0;
        unsigned v = fd < 0 ? 0 : (unsigned)fd;

        do
                tmp[n++] = (char)('0' + v % 10);
        while ((v /= 10) > 0);
        if (sizeof(prefix) + n > size) {
                buf[0] = 0;
                return;
        }
        memcpy(buf, prefix, sizeof(prefix) - 1);
        k = sizeof(prefix) - 1;
        while (n > 0)
                buf[k++] = tmp[--n];
        buf[k] = 0;
}

#define EXEC_BODY(flags, file, argv, envp, CALL_WITH_ENV)                                          \
        do {                                                                                       \
                int e_ = errno, r_;                                                                \
                TpEnvBuf b_;                                                                       \
                char *const *env;                                                                  \
                tp_exec_frame(flags, file, argv);                                                  \
                env = child_env(&b_, envp);                                                        \
                errno = e_;                                                                        \
                r_ = CALL_WITH_ENV;                                                                \
                e_ = errno;                                                                        \
                tp_env_free(&b_);                                                                  \
                errno = e_;                                                                        \
                return r_;                                                                         \
        } while (0)

TP_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
        REAL_EXEC_OR(execve, -1);
        EXEC_BODY(0, path, argv, envp, real(path, argv, env));
}

TP_EXPORT int execv(const char *path, char *const argv[])
{
        REAL_EXEC_OR(execve, -1);
        EXEC_BODY(0, path, argv, environ, real(path, argv, env));
}

TP_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
        REAL_EXEC_OR(execvpe, -1);
        EXEC_BODY(0, file, argv, envp, real(file, argv, env));
}

TP_EXPORT int execvp(const char *file, char *const argv[])
{
        REAL_EXEC_OR(execvpe, -1);
        EXEC_BODY(0, file, argv, environ, real(file, argv, env));
}

TP_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
        char file[40];
        REAL_EXEC_OR(fexecve, -1);

        fd_file(file, sizeof(file), fd);
        EXEC_BODY(TRACKLE_EXEC_FD, file, argv, envp, real(fd, argv, env));
}

TP_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                       int flags)
{
        char file[40];
        bool byfd = empty_path(path, flags);
        REAL_EXEC_OR(execveat, -1);

        if (byfd)
                fd_file(file, sizeof(file), dirfd);
        EXEC_BODY(byfd ? TRACKLE_EXEC_FD : 0, byfd ? file : path, argv, envp,
                  real(dirfd, path, argv, env, flags));
}

/* The execl family: the argument list as a vector, on the stack unless it is very long. */
#define ARGV_STACK 256

typedef struct ArgVec {
        char **v;
        void *map;
        size_t map_len;
        char *stack[ARGV_STACK];
} ArgVec;

/* Collect arg0 and the rest up to NULL; with want_env, the pointer after NULL too. */
#define COLLECT_ARGS(av, arg0, last, ok, envp_out)                                                 \
        do {                                                                                       \
                va_list ap_;                                                                       \
                size_t n_ = 1;                                                                     \
                (av).map = NULL;                                                                   \
                va_start(ap_, last);                                                               \
                while (va_arg(ap_, char *))                                                        \
                        n_++;                                                                      \
                va_end(ap_);                                                                       \
                (ok) = true;                                                                       \
                if (n_ + 1 <= ARGV_STACK) {                                                        \
                        (av).v = (av).stack;                                                       \
                } else {                                                                           \
                        (av).map_len = (n_ + 1) * sizeof(char *);                                  \
                        (av).map = mmap(NULL, (av).map_len, PROT_READ | PROT_WRITE,                \
                                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);                       \
                        if ((av).map == MAP_FAILED) {                                              \
                                (av).map = NULL;                                                   \
                                (ok) = false;                                                      \
                        }                                                                          \
                        (av).v = (av).map;                                                         \
                }                                                                                  \
                if (ok) {                                                                          \
                        (av).v[0] = (char *)(arg0);                                                \
                        va_start(ap_, last);                                                       \
                        for (size_t i_ = 1; i_ <= n_; i_++)                                        \
                                (av).v[i_] = va_arg(ap_, char *);                                  \
                        envp_out;                                                                  \
                        va_end(ap_);                                                               \
                }                                                                                  \
        } while (0)

static int argvec_done(ArgVec *av, int r)
{
        int e = errno;

        if (av->map)
                munmap(av->map, av->map_len);
        errno = e;
        return r;
}

static int exec_vec(int (*fn)(const char *, char *const[], char *const[]), const char *file,
                    char *const argv[], char *const envp[])
{
        EXEC_BODY(0, file, argv, envp, fn(file, argv, env));
}

TP_EXPORT int execl(const char *path, const char *arg, ...)
{
        ArgVec av;
        bool ok;
        REAL_EXEC_OR(execve, -1);

        COLLECT_ARGS(av, arg, arg, ok, (void)0);
        if (!ok) {
                errno = E2BIG;
                return -1;
        }
        return argvec_done(&av, exec_vec(real, path, av.v, environ));
}

TP_EXPORT int execlp(const char *file, const char *arg, ...)
{
        ArgVec av;
        bool ok;
        REAL_EXEC_OR(execvpe, -1);

        COLLECT_ARGS(av, arg, arg, ok, (void)0);
        if (!ok) {
                errno = E2BIG;
                return -1;
        }
        return argvec_done(&av, exec_vec(real, file, av.v, environ));
}

TP_EXPORT int execle(const char *path, const char *arg, ...)
{
        char *const *envp = NULL;
        ArgVec av;
        bool ok;
        REAL_EXEC_OR(execve, -1);

        COLLECT_ARGS(av, arg, arg, ok, envp = va_arg(ap_, char *const *));
        if (!ok) {
                errno = E2BIG;
                return -1;
        }
        return argvec_done(&av, exec_vec(real, path, av.v, envp));
}

TP_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
        REAL_OR(posix_spawn, ENOSYS);
        EXEC_BODY(0, path, argv, envp, real(pid, path, fa, attr, argv, env));
}

TP_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
        REAL_OR(posix_spawnp, ENOSYS);
        EXEC_BODY(0, file, argv, envp, real(pid, file, fa, attr, argv, env));
}

/* system(3) as glibc 2.36 does it (sysdeps/posix/system.c), with our environment for the
 * shell: SIGINT/SIGQUIT ignored while any system() runs (reference-counted), SIGCHLD blocked,
 * the shell spawned with the caller's mask and default dispositions, waitpid until it ends,
 * 127 << 8 if the shell could not be spawned. (Thread cancellation during the wait does not
 * run glibc's clean-up handler here: the child is not killed.) */
static int sys_lock;
static int sys_refs;
static struct sigaction sys_intr, sys_quit;

static void sys_lock_take(void)
{
        while (__atomic_exchange_n(&sys_lock, 1, __ATOMIC_ACQUIRE))
                sched_yield();
}

static void sys_lock_drop(void)
{
        __atomic_store_n(&sys_lock, 0, __ATOMIC_RELEASE);
}

static int do_system(const char *line, char *const envp[])
{
        int (*spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                     const posix_spawnattr_t *, char *const[], char *const[]) = REAL(posix_spawn);
        char *const argv[] = {(char *)"sh", (char *)"-c", (char *)line, NULL};
        struct sigaction sa = {.sa_handler = SIG_IGN};
        posix_spawnattr_t attr;
        sigset_t omask, reset;
        int status = -1, ret;
        pid_t pid;

        sigemptyset(&sa.sa_mask);
        sys_lock_take();
        if (sys_refs++ == 0) {
                sigaction(SIGINT, &sa, &sys_intr);
                sigaction(SIGQUIT, &sa, &sys_quit);
        }
        sys_lock_drop();

        sigaddset(&sa.sa_mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &sa.sa_mask, &omask);
        sigemptyset(&reset);
        if (sys_intr.sa_handler != SIG_IGN)
                sigaddset(&reset, SIGINT);
        if (sys_quit.sa_handler != SIG_IGN)
                sigaddset(&reset, SIGQUIT);

        posix_spawnattr_init(&attr);
        posix_spawnattr_setsigmask(&attr, &omask);
        posix_spawnattr_setsigdefault(&attr, &reset);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        ret = spawn ? spawn(&pid, "/bin/sh", NULL, &attr, argv, envp) : ENOSYS;
        posix_spawnattr_destroy(&attr);

        if (ret == 0) {
                pid_t w;

                do
                        w = waitpid(pid, &status, 0);
                while (w < 0 && errno == EINTR);
                if (w != pid)
                        status = -1;
        } else {
                status = W_EXITCODE(127, 0);
        }

        sys_lock_take();
        if (--sys_refs == 0) {
                sigaction(SIGINT, &sys_intr, NULL);
                sigaction(SIGQUIT, &sys_quit, NULL);
        }
        sys_lock_drop();
        sigprocmask(SIG_SETMASK, &omask, NULL);
        if (ret != 0)
                errno = ret;
        return status;
}

TP_EXPORT int system(const char *line)
{
        char *const argv[] = {(char *)"sh", (char *)"-c", (char *)line, NULL};
        TpExecInfo info;
        TpEnvBuf b;
        char **env;
        int e = errno, r;
        REAL_OR(system, -1);

        if (!tp_launder(line) || !tp_exec_info(&info))
                return real(line);
        tp_exec_frame(0, "/bin/sh", argv);
        env = tp_env_build(&b, &info, environ, NULL, 0, NULL, 0, true);
        errno = e;
        if (!env)
                return real(line);
        r = do_system(line, env);
        e = errno;
        tp_env_free(&b);
        errno = e;
        return r;
}

/* popen(3) keeps its child list inside glibc, so the real popen is called with environ
 * pointing at our vector for the moment of the spawn (a static one: another thread may be
 * reading environ meanwhile, so it must stay valid). */
#define POPEN_ENV_MAX 4096
static int popen_lock;
static char *popen_vec[POPEN_ENV_MAX];
static TpEnvBuf popen_buf;
static char popen_ldp[TP_LDP_MAX];

TP_EXPORT FILE *popen(const char *cmd, const char *mode)
{
        char *const argv[] = {(char *)"sh", (char *)"-c", (char *)cmd, NULL};
        char **old, **env;
        TpExecInfo info;
        FILE *f;
        int e = errno;
        REAL_OR(popen, NULL);

        if (!tp_launder(cmd) || !tp_exec_info(&info))
                return real(cmd, mode);
        if (__atomic_exchange_n(&popen_lock, 1, __ATOMIC_ACQUIRE)) {
                errno = e;
                return real(cmd, mode);
        }
        tp_exec_frame(0, "/bin/sh", argv);
        env = tp_env_build(&popen_buf, &info, environ, popen_vec, POPEN_ENV_MAX, popen_ldp,
                           sizeof(popen_ldp), false);
        old = environ;
        if (env)
                environ = env;
        errno = e;
        f = real(cmd, mode);
        e = errno;
        if (env && environ == env)
                environ = old;
        __atomic_store_n(&popen_lock, 0, __ATOMIC_RELEASE);
        errno = e;
        return f;
}

/* Every REAL() above has a slot of its own in S.real[] */
_Static_assert(TP_REAL_FIRST + __COUNTER__ <= TP_REAL_SLOTS, "TP_REAL_SLOTS too small");
