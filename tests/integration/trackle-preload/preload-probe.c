/* preload-probe.c - calls every wrapped function once failing and once succeeding and prints
 * "name return errno" (errno set to 4242 before each call), so the output with and without
 * libtrackle.so can be compared byte for byte. "fds" mode checks the library's descriptors
 * when 0-2 are closed. Built without sanitizers: it runs under the preload library. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

extern char **environ;
int __open_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);

#define SENT 4242
/* glibc 2.34+ makes SIGSTKSZ a sysconf() call under _GNU_SOURCE; programs built without it
 * have the historical constant, which is what a crash handler's stack often is. */
#define T(name, expr)                                                                              \
        do {                                                                                       \
                long r_;                                                                           \
                errno = SENT;                                                                      \
                r_ = (long)(expr);                                                                 \
                printf("%-14s %ld %d\n", name, r_<0 ? -1L : r_> 0 ? 1L : 0L, errno);               \
        } while (0)
#define TFD(name, expr)                                                                            \
        do {                                                                                       \
                int fd_;                                                                           \
                errno = SENT;                                                                      \
                fd_ = (expr);                                                                      \
                printf("%-14s %d %d\n", name, fd_ >= 0 ? 0 : -1, errno);                           \
                if (fd_ >= 0)                                                                      \
                        close(fd_);                                                                \
        } while (0)
#define TF(name, expr)                                                                             \
        do {                                                                                       \
                FILE *f_;                                                                          \
                errno = SENT;                                                                      \
                f_ = (expr);                                                                       \
                printf("%-14s %d %d\n", name, f_ ? 0 : -1, errno);                                 \
                if (f_)                                                                            \
                        fclose(f_);                                                                \
        } while (0)

static int child_status(pid_t pid)
{
        int st = 0;

        waitpid(pid, &st, 0);
        return st;
}

static void errno_mode(void)
{
        struct timeval tv[2] = {{1, 0}, {2, 0}};
        struct timespec ts[2] = {{1, 0}, {2, 0}};
        struct utimbuf ub = {1, 2};
        char t1[] = "tmpXXXXXX", t2[] = "tmpXXXXXX", t3[] = "tmpXXXXXX.x", t4[] = "tmpXXXXXX.y",
             t5[] = "tmpXXXXXX", t6[] = "tmpXXXXXX", t7[] = "dirXXXXXX", bad[] = "bad";
        char *const argv[] = {"true", NULL};
        pid_t pid;
        int dfd = open(".", O_RDONLY | O_DIRECTORY);
        FILE *f;

        setvbuf(stdout, NULL, _IONBF, 0);
        TFD("open-missing", open("missing/x", O_RDONLY));
        TFD("open-create", open("a", O_WRONLY | O_CREAT | O_TRUNC, 0644));
        T("write-a", write(open("a", O_WRONLY | O_APPEND), "hello\n", 6));
        TFD("open-trunc", open("a", O_WRONLY | O_TRUNC));
        TFD("open-excl", open("a", O_WRONLY | O_CREAT | O_EXCL, 0644));
        TFD("open64", open64("b", O_RDWR | O_CREAT, 0600));
        TFD("openat", openat(dfd, "c", O_WRONLY | O_CREAT, 0600));
        TFD("openat-bad", openat(-7, "c", O_WRONLY));
        TFD("openat64", openat64(dfd, "c", O_WRONLY | O_APPEND));
        TFD("creat", creat("d", 0644));
        TFD("creat-bad", creat("missing/d", 0644));
        TFD("creat64", creat64("d", 0644));
        TFD("__open_2", __open_2("a", O_WRONLY));
        TFD("__openat_2", __openat_2(dfd, "missing/a", O_RDONLY));
        TF("fopen-w", fopen("e", "w"));
        TF("fopen-r-miss", fopen("missing", "r"));
        TF("fopen-a+", fopen("e", "a+"));
        TF("fopen-bad", fopen("e", "q"));
        TF("fopen64", fopen64("e", "r+"));
        f = fopen("e", "r");
        TF("freopen", freopen("a", "w", f));
        T("rename", rename("e", "e2"));
        T("rename-miss", rename("e", "e3"));
        T("renameat", renameat(dfd, "e2", dfd, "e"));
        T("renameat2-nr", renameat2(dfd, "e", dfd, "a", RENAME_NOREPLACE));
        T("renameat2-x", renameat2(dfd, "e", dfd, "a", RENAME_EXCHANGE));
        T("unlink", unlink("e"));
        T("unlink-miss", unlink("e"));
        T("mkdir", mkdir("D", 0755));
        T("mkdir-exist", mkdir("D", 0755));
        T("mkdirat", mkdirat(dfd, "D/E", 0755));
        T("rmdir-notempty", rmdir("D"));
        T("unlinkat-dir", unlinkat(dfd, "D/E", AT_REMOVEDIR));
        T("unlinkat", unlinkat(dfd, "d", 0));
        T("remove-dir", remove("D"));
        T("remove", remove("b"));
        T("remove-miss", remove("b"));
        T("link", link("a", "l1"));
        T("link-exist", link("a", "l1"));
        T("linkat", linkat(dfd, "a", dfd, "l2", 0));
        T("symlink", symlink("a", "s1"));
        T("symlink-exist", symlink("a", "s1"));
        T("symlinkat", symlinkat("a", dfd, "s2"));
        T("mknod", mknod("p1", S_IFIFO | 0600, 0));
        T("mknodat", mknodat(dfd, "p2", S_IFIFO | 0600, 0));
        T("mkfifo", mkfifo("p3", 0600));
        T("mkfifoat", mkfifoat(dfd, "p3", 0600));
        T("truncate", truncate("a", 3));
        T("truncate-miss", truncate("missing", 3));
        T("truncate64", truncate64("a", 2));
        T("chmod", chmod("a", 0600));
        T("chmod-miss", chmod("missing", 0600));
        T("lchmod", lchmod("s1", 0600));
        T("fchmod", fchmod(dfd, 0755));
        T("fchmod-bad", fchmod(-1, 0755));
        T("fchmodat", fchmodat(dfd, "a", 0644, 0));
        T("chown", chown("a", 0, 0));
        T("lchown", lchown("s1", 0, 0));
        T("fchown", fchown(dfd, 0, 0));
        T("fchownat", fchownat(dfd, "a", 0, 0, AT_SYMLINK_NOFOLLOW));
        T("fchownat-bad", fchownat(dfd, "missing", 0, 0, 0));
        T("utime", utime("a", &ub));
        T("utimes", utimes("a", tv));
        T("lutimes", lutimes("s1", tv));
        T("futimes", futimes(dfd, tv));
        T("futimesat", futimesat(dfd, "a", tv));
        T("utimensat", utimensat(dfd, "a", ts, 0));
        T("utimensat-bad", utimensat(dfd, "missing", ts, 0));
        T("futimens", futimens(dfd, ts));
        T("setxattr", setxattr("a", "user.t", "v", 1, 0));
        T("lsetxattr", lsetxattr("a", "user.t", "v", 1, 0));
        T("fsetxattr", fsetxattr(dfd, "user.t", "v", 1, 0));
        T("setxattr-miss", setxattr("missing", "user.t", "v", 1, 0));
        T("removexattr", removexattr("a", "user.t"));
        T("lremovexattr", lremovexattr("a", "user.t"));
        T("fremovexattr", fremovexattr(dfd, "user.t"));
        T("close-bad", close(-1));
        T("fclose", fclose(fopen("a", "r")));
        T("dup2-bad", dup2(-1, 50));
        T("dup2", dup2(dfd, 50));
        T("dup3-bad", dup3(50, 50, 0));
        T("dup3", dup3(dfd, 51, O_CLOEXEC));
        T("close_range", close_range(50, 51, 0));
        T("close_range-bad", close_range(9, 8, 0));
        T("close", close(dup(dfd)));
        TFD("mkstemp", mkstemp(t1));
        TFD("mkstemp-bad", mkstemp(bad));
        TFD("mkstemp64", mkstemp64(t2));
        TFD("mkstemps", mkstemps(t3, 2));
        TFD("mkostemps", mkostemps(t4, 2, O_CLOEXEC));
        TFD("mkostemp", mkostemp(t5, O_CLOEXEC));
        TFD("mkostemp64", mkostemp64(t6, 0));
        T("mkdtemp", mkdtemp(t7) ? 0 : -1);
        T("mkdtemp-bad", mkdtemp(bad) ? 0 : -1);
        T("execve-miss", execve("/nonexistent", argv, environ));
        T("execv-miss", execv("/nonexistent", argv));
        T("execvp-miss", execvp("nonexistent-cmd", argv));
        T("execvpe-miss", execvpe("nonexistent-cmd", argv, environ));
        T("execl-miss", execl("/nonexistent", "x", (char *)NULL));
        T("execlp-miss", execlp("nonexistent-cmd", "x", (char *)NULL));
        T("execle-miss", execle("/nonexistent", "x", (char *)NULL, environ));
        T("fexecve-bad", fexecve(-1, argv, environ));
        T("execveat-miss", execveat(dfd, "nonexistent", argv, environ, 0));
        errno = SENT;
        printf("%-14s %d %d\n", "posix_spawn",
               posix_spawn(&pid, "/nonexistent", NULL, NULL, argv, environ), errno);
        errno = SENT;
        if (posix_spawnp(&pid, "true", NULL, NULL, argv, environ) == 0)
                printf("%-14s %d %d\n", "posix_spawnp", child_status(pid), errno);
        T("system", system("exit 3"));
        printf("%-14s %d\n", "system-status", system("exit 3"));
        printf("%-14s %d\n", "system-null", system(NULL));
        errno = SENT;
        f = popen("echo hi", "r");
        printf("%-14s %d %d\n", "popen", f ? 0 : -1, errno);
        if (f) {
                char line[64];

                while (fgets(line, sizeof(line), f))
                        ;
                printf("%-14s %d\n", "pclose", pclose(f));
        }
        close(dfd);
}

/* The library skips metadata calls on descriptors of files it created or reported, without
 * a system call: every way of closing such a descriptor, followed by the number's reuse for a
 * file it did not report through a call it does not see (dup), must make the next fchmod an
 * event again; so must a child of vfork() that opens a created file under its parent's
 * number. "dN" must get CHMOD events, "cN" none. */
static int ro_open(const char *dir, const char *name)
{
        char path[4096];
        int ro;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        ro = open(path, O_RDONLY | O_CLOEXEC);
        if (ro < 0)
                exit(2);
        return ro;
}

static int dup_as(int ro, int want)
{
        int fd = dup(ro); /* the lowest free number: the one just closed */

        if (fd != want) {
                fprintf(stderr, "dup: got %d, want %d\n", fd, want);
                exit(2);
        }
        close(ro);
        return fd;
}

static int created(const char *dir, const char *name)
{
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || fchmod(fd, 0600) < 0)
                exit(3);
        return fd;
}

/* A child of vfork() closes a read-only descriptor of DNAME, creates CNAME under its number,
 * then exits or execs; the parent then fchmods its own DNAME through that number. */
static int vfork_reuse(const char *dir, const char *dname, const char *cname, bool exec)
{
        char path[4096];
        int ro = ro_open(dir, dname);
        pid_t pid;

        snprintf(path, sizeof(path), "%s/%s", dir, cname);
        pid = vfork();
        if (pid == 0) {
                close(ro);
                if (open(path, O_WRONLY | O_CREAT | O_EXCL, 0644) != ro)
                        _exit(1);
                if (exec)
                        execl("/bin/true", "true", (char *)NULL);
                _exit(exec ? 2 : 0);
        }
        if (pid < 0 || child_status(pid) != 0)
                return -1;
        return fchmod(ro, 0600);
}

static int reuse_mode(const char *dir)
{
        char path[4096];
        int sv[4][2];
        FILE *f;
        pid_t pid;
        volatile int fd, ro; /* live across vfork() */

        /* A child of vfork() acts as its parent once the library knows the parent's pid
         * without asking (any tracked call: a write-open of /dev/null, which sends
         * nothing). It must not connect: the socket would be its own, under a number that
         * is free in its parent, where the next open takes it. */
        fd = open("/dev/null", O_WRONLY);
        close(fd);
        pid = vfork();
        if (pid == 0) {
                snprintf(path, sizeof(path), "%s/c0", dir);
                _exit(close(open(path, O_WRONLY | O_CREAT | O_EXCL, 0644)) == 0 ? 0 : 1);
        }
        if (pid < 0 || child_status(pid) != 0)
                return 16;
        ro = ro_open(dir, "d0");
        fd = created(dir, "c0b");
        if (fcntl(ro, F_GETFD) < 0 || fcntl(fd, F_GETFD) < 0) {
                fprintf(stderr, "the library closed a descriptor of the program\n");
                return 17;
        }
        close(fd);
        close(ro);

        /* no socket of the library below the next free number, so the child's open gets
         * the number it closed */
        if (vfork_reuse(dir, "d7", "c7", false) != 0)
                return 7;

        ro = ro_open(dir, "d1");
        fd = created(dir, "c1");
        close(fd);
        fchmod(dup_as(ro, fd), 0600);

        ro = ro_open(dir, "d2");
        snprintf(path, sizeof(path), "%s/c2", dir);
        f = fopen(path, "wx");
        if (!f || fchmod(fileno(f), 0600) < 0)
                return 3;
        fd = fileno(f);
        fclose(f);
        fchmod(dup_as(ro, fd), 0600);

        fd = created(dir, "c3");
        if (dup2(ro_open(dir, "d3"), fd) != fd)
                return 4;
        fchmod(fd, 0600);

        fd = created(dir, "c4");
        if (dup3(ro_open(dir, "d4"), fd, O_CLOEXEC) != fd)
                return 5;
        fchmod(fd, 0600);

        ro = ro_open(dir, "d5");
        fd = created(dir, "c5");
        if (close_range((unsigned)fd, (unsigned)fd, 0) < 0)
                return 6;
        fchmod(dup_as(ro, fd), 0600);

        ro = ro_open(dir, "d6");
        fd = created(dir, "c6");
        closefrom(fd);
        fchmod(dup_as(ro, fd), 0600);

        /* The name of a directory descriptor is cached: a closed one reused for another
         * directory, and one a child of vfork() reopened, must not keep the old name. */
        snprintf(path, sizeof(path), "%s/e1", dir);
        fd = open(path, O_RDONLY | O_DIRECTORY);
        close(openat(fd, "x1", O_WRONLY | O_CREAT | O_EXCL, 0644));
        ro = ro_open(dir, "e2");
        close(fd);
        fd = dup_as(ro, fd);
        close(openat(fd, "x2", O_WRONLY | O_CREAT | O_EXCL, 0644));
        close(fd);
        snprintf(path, sizeof(path), "%s/e3", dir);
        fd = open(path, O_RDONLY | O_DIRECTORY);
        pid = vfork();
        if (pid == 0) {
                snprintf(path, sizeof(path), "%s/e4", dir);
                close(fd);
                if (open(path, O_RDONLY | O_DIRECTORY) != fd)
                        _exit(1);
                _exit(close(openat(fd, "y1", O_WRONLY | O_CREAT | O_EXCL, 0644)) == 0 ? 0 : 1);
        }
        if (pid < 0 || child_status(pid) != 0)
                return 12;
        close(openat(fd, "y2", O_WRONLY | O_CREAT | O_EXCL, 0644));
        close(fd);

        /* A directory renamed by another process: the cached name is trusted for at most
         * 1 ms (trackle(8)); past that, names follow the rename. */
        snprintf(path, sizeof(path), "%s/e5", dir);
        fd = open(path, O_RDONLY | O_DIRECTORY);
        close(openat(fd, "z1", O_WRONLY | O_CREAT | O_EXCL, 0644));
        pid = fork();
        if (pid == 0) {
                char to[4096];

                snprintf(to, sizeof(to), "%s/e6", dir);
                _exit(rename(path, to) == 0 ? 0 : 1);
        }
        if (pid < 0 || child_status(pid) != 0)
                return 13;
        {
                /* not waiting for a condition: the cache's time of trust must pass */
                struct timespec ts = {0, 3 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        close(openat(fd, "z2", O_WRONLY | O_CREAT | O_EXCL, 0644));
        close(fd);

        /* Children of vfork() again, now that the library knows this process's pid without
         * asking (the child acts as its parent until it exits or execs): one that exits, one
         * that execs, each after opening a created file under a number its parent uses. */
        if (vfork_reuse(dir, "d9", "c9", false) != 0 || vfork_reuse(dir, "d10", "c10", true) != 0)
                return 14;

        /* still skipped: in this process, and in a child of fork() */
        fd = created(dir, "c8");
        pid = fork();
        if (pid == 0)
                _exit(fchmod(fd, 0644) == 0 ? 0 : 1);
        if (pid < 0 || child_status(pid) != 0)
                return 8;

        /* The program closes every descriptor, the library's socket included, and its own
         * sockets take the numbers: the library connects afresh and never writes to them. */
        closefrom(3);
        for (int i = 0; i < 4; i++)
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv[i]) < 0)
                        return 9;
        snprintf(path, sizeof(path), "%s/d8", dir);
        fd = open(path, O_WRONLY);
        if (fd < 0 || write(fd, "x\n", 2) != 2)
                return 10;
        close(fd);
        for (int i = 0; i < 4; i++)
                for (int j = 0; j < 2; j++)
                        if (recv(sv[i][j], path, sizeof(path), MSG_DONTWAIT) != -1 ||
                            errno != EAGAIN) {
                                fprintf(stderr, "bytes on the program's socket %d\n", sv[i][j]);
                                return 11;
                        }
        return 0;
}

/* With 0-2 closed: a tracked write-open, then our own opens must get 0 and 1. */
static int fds_mode(const char *out, const char *file)
{
        char line[512], link[64], target[256];
        int null, o, fd;
        struct dirent *de;
        DIR *d;

        close(0);
        close(1);
        close(2);
        fd = open(file, O_WRONLY | O_APPEND);
        if (fd < 0)
                return 2;
        close(fd);
        null = open("/dev/null", O_RDONLY);
        o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0)
                return 3;
        snprintf(line, sizeof(line), "first %d %d\n", null, o);
        write(o, line, strlen(line));
        d = opendir("/proc/self/fd");
        while (d && (de = readdir(d))) {
                ssize_t n;
                int flags;

                if (de->d_name[0] == '.')
                        continue;
                fd = atoi(de->d_name);
                snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
                n = readlink(link, target, sizeof(target) - 1);
                target[n < 0 ? 0 : n] = 0;
                flags = fcntl(fd, F_GETFD);
                snprintf(line, sizeof(line), "fd %d %s %d\n", fd, target,
                         flags >= 0 && (flags & FD_CLOEXEC));
                write(o, line, strlen(line));
        }
        return 0;
}

/* open() DIR/NAME with flags and close it: 0, or -1 if it could not be opened. */
static int open_close(const char *dir, const char *name, int flags)
{
        char p[4096];
        int fd;

        snprintf(p, sizeof(p), "%s/%s", dir, name);
        fd = open(p, flags, 0644);
        if (fd < 0)
                return -1;
        close(fd);
        return 0;
}

/* "signal" mode: a SIGALRM handler creates DIR/sig while the main thread is inside the
 * library (waiting for the answer to the BEFORE of DIR/held, which the fake trackled delays by
 * 300 ms; the alarm comes after 50):
 * the handler's call must be skipped, not wait for its own thread. Then DIR/after. */
static const char *sig_dir;
static volatile sig_atomic_t sig_done;

static void on_alarm(int sig)
{
        char p[4096];
        int fd;

        (void)sig;
        snprintf(p, sizeof(p), "%s/sig", sig_dir);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
                close(fd);
        sig_done = 1;
}

static int signal_mode(const char *dir)
{
        struct itimerval it = {.it_value = {.tv_usec = 50000}};
        struct sigaction sa = {.sa_handler = on_alarm};

        sig_dir = dir;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGALRM, &sa, NULL) < 0 || setitimer(ITIMER_REAL, &it, NULL) < 0)
                return 2;
        if (open_close(dir, "held", O_RDWR) < 0)
                return 3;
        if (!sig_done)
                return 4;
        if (open_close(dir, "after", O_WRONLY | O_CREAT | O_TRUNC) < 0)
                return 5;
        return 0;
}

/* "futexdeny" mode: the program's own seccomp filter refuses the futex wait that the library's
 * lock sleeps in (FUTEX_WAIT_PRIVATE: EPERM). The main thread opens DIR/gate for writing;
 * the fake trackled answers that BEFORE only once DIR/gate.release exists, so the main
 * thread holds the library meanwhile. A second thread waits until the fake trackled has the
 * BEFORE (it makes DIR/gate.got), then chmods DIR/other: the library is busy and the call
 * cannot sleep on its lock, so it must be skipped at once and counted, not spun on. That
 * thread then makes DIR/gate.release with raw system calls (past the library), and the main
 * thread, answered, chmods DIR/after. Prints "other=RC/ERRNO". Exit 77: no filter for this
 * architecture. */
#if defined(__x86_64__)
#define PROBE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PROBE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PROBE_ARG1_LOW offsetof(struct seccomp_data, args[1])
#else
#define PROBE_ARG1_LOW (offsetof(struct seccomp_data, args[1]) + 4)
#endif
static const char *futex_dir;
static int futex_other_rc = -2, futex_other_errno;

static void *futex_thread(void *arg)
{
        char got[4096], p[4096];
        struct timespec tick = {.tv_nsec = 1000000};
        int fd;

        (void)arg;
        snprintf(got, sizeof(got), "%s/gate.got", futex_dir);
        for (int i = 0; i < 10000 && access(got, F_OK) < 0; i++) /* polls, 10 s at most */
                nanosleep(&tick, NULL);
        snprintf(p, sizeof(p), "%s/other", futex_dir);
        futex_other_rc = chmod(p, 0600);
        futex_other_errno = futex_other_rc < 0 ? errno : 0;
        snprintf(p, sizeof(p), "%s/gate.release", futex_dir);
        fd = (int)syscall(SYS_openat, AT_FDCWD, p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
                (void)syscall(SYS_close, fd);
        return NULL;
}

static int futexdeny_mode(const char *dir)
{
#ifdef PROBE_AUDIT_ARCH
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROBE_AUDIT_ARCH, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_futex, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, PROBE_ARG1_LOW),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAIT_PRIVATE, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
        char p[4096];
        pthread_t t;

        futex_dir = dir;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                return 2;
        if (pthread_create(&t, NULL, futex_thread, NULL) != 0)
                return 3;
        if (open_close(dir, "gate", O_WRONLY) < 0)
                return 4;
        if (pthread_join(t, NULL) != 0)
                return 5;
        snprintf(p, sizeof(p), "%s/after", dir);
        if (chmod(p, 0600) < 0)
                return 6;
        printf("other=%d/%d\n", futex_other_rc, futex_other_errno);
        return 0;
#else
        (void)dir;
        return 77;
#endif
}

/* "longjmp" mode: 40 times, a SIGALRM handler siglongjmp()s out of an open() for writing of
 * DIR/fifo, which blocks (no reader): each time the wrapper's path buffer is left taken, as
 * its cleanup never runs. Then chmod(DIR/after), which needs a path buffer of its own. */
static sigjmp_buf lj_env;

static void on_lj_alarm(int sig)
{
        (void)sig;
        siglongjmp(lj_env, 1);
}

static int longjmp_mode(const char *dir)
{
        struct sigaction sa = {.sa_handler = on_lj_alarm}; /* no SA_RESTART */
        struct itimerval it = {.it_value = {.tv_usec = 5000}}, off = {{0, 0}, {0, 0}};
        char p[4096];
        volatile int jumps = 0; /* changed between sigsetjmp() and the siglongjmp() back */

        snprintf(p, sizeof(p), "%s/fifo", dir);
        sigemptyset(&sa.sa_mask);
        if (mkfifo(p, 0600) < 0 || sigaction(SIGALRM, &sa, NULL) < 0)
                return 2;
        for (volatile int i = 0; i < 40; i++) {
                if (sigsetjmp(lj_env, 1) != 0) {
                        jumps++;
                        continue;
                }
                if (setitimer(ITIMER_REAL, &it, NULL) < 0)
                        return 3;
                if (open(p, O_WRONLY) >= 0) /* a reader came: not this test's */
                        return 4;
        }
        (void)setitimer(ITIMER_REAL, &off, NULL);
        snprintf(p, sizeof(p), "%s/after", dir);
        if (chmod(p, 0600) < 0)
                return 5;
        printf("jumps=%d\n", (int)jumps);
        return 0;
}

/* "cancelopen" mode: 40 threads, one after the other, are cancelled inside an open() for
 * writing of DIR/fifo, which blocks (no reader) and is a cancellation point: a thread that
 * dies there may leave its wrapper's path buffer taken. Then chmod(DIR/after). */
static void *cancelopen_thread(void *arg)
{
        (void)open((const char *)arg, O_WRONLY);
        return NULL;
}

static int cancelopen_mode(const char *dir)
{
        char p[4096];
        int cancelled = 0;

        snprintf(p, sizeof(p), "%s/fifo", dir);
        if (mkfifo(p, 0600) < 0)
                return 2;
        for (int i = 0; i < 40; i++) {
                pthread_t t;
                void *ret = NULL;

                if (pthread_create(&t, NULL, cancelopen_thread, p) != 0 || pthread_cancel(t) != 0 ||
                    pthread_join(t, &ret) != 0)
                        return 3;
                cancelled += ret == PTHREAD_CANCELED;
        }
        snprintf(p, sizeof(p), "%s/after", dir);
        if (chmod(p, 0600) < 0)
                return 5;
        printf("cancelled=%d\n", cancelled);
        return 0;
}

/* "cancel" mode: a thread with a cancellation request pending calls chmod(DIR/c1), which is
 * no cancellation point: the library's work inside it (session check, connection, waits)
 * must not become one, or the thread would die holding the library. Then the main thread's
 * chmod(DIR/c2). Prints "survived=S canceled=C". */
static int cancel_pipe[2];
static volatile sig_atomic_t cancel_survived;

static void *cancel_thread(void *arg)
{
        const char *dir = arg;
        char p[4096], c;
        int old;

        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
        if (read(cancel_pipe[0], &c, 1) != 1) /* the main thread has asked for cancellation */
                return NULL;
        pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
        snprintf(p, sizeof(p), "%s/c1", dir);
        (void)chmod(p, 0600);
        cancel_survived = 1;
        pthread_testcancel();
        return NULL;
}

static int cancel_mode(const char *dir)
{
        char p[4096];
        pthread_t t;
        void *ret = NULL;

        if (pipe(cancel_pipe) < 0 || pthread_create(&t, NULL, cancel_thread, (void *)dir) != 0)
                return 2;
        if (pthread_cancel(t) != 0 || write(cancel_pipe[1], "x", 1) != 1 ||
            pthread_join(t, &ret) != 0)
                return 3;
        snprintf(p, sizeof(p), "%s/c2", dir);
        if (chmod(p, 0600) < 0)
                return 4;
        printf("survived=%d canceled=%d\n", (int)cancel_survived, ret == PTHREAD_CANCELED);
        return 0;
}

/* "altstack" mode: a signal handler on an alternate stack makes the process's first tracked
 * calls (so the session check, the connection and each real function's dlsym() happen inside
 * it too): creates DIR/alt-new, writes DIR/alt-old (a BEFORE), renames DIR/alt-new over
 * DIR/alt-old2, chmods and unlinks DIR/alt-old. The stack is SIGSTKSZ as glibc defines it now
 * (sysconf(_SC_SIGSTKSZ), four times the kernel's minimum for this CPU's signal frame: 8 KiB
 * on most machines, 13 KiB with AVX-512), at least 8 KiB, painted, with a painted guard
 * below it. Prints "stack=SIZE used=BYTES" (how deep the handler went), or "overflow=BYTES"
 * and exit 4 if it went past the stack: the test compares the depth with and without the
 * library. */
static const char *alt_dir;
static volatile sig_atomic_t alt_done;
#define ALT_GUARD 8192
static char alt_mem[65536] __attribute__((aligned(64)));

static void on_usr1(int sig)
{
        char a[512], b[512];
        int fd;

        (void)sig;
        snprintf(a, sizeof(a), "%s/alt-new", alt_dir);
        fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
                return;
        close(fd);
        snprintf(b, sizeof(b), "%s/alt-old", alt_dir);
        fd = open(b, O_WRONLY | O_APPEND);
        if (fd < 0)
                return;
        close(fd);
        if (chmod(b, 0600) < 0 || unlink(b) < 0)
                return;
        snprintf(b, sizeof(b), "%s/alt-old2", alt_dir);
        if (rename(a, b) < 0)
                return;
        alt_done = 1;
}

/* ... "altexec": such a handler's first tracked call is an execve() of a shell that writes
 * DIR/exec-out (so the shell must have got the library); "altexecfail": an execve() of a
 * program that does not exist, which returns, so that the exec wrapper's depth is measured. */
static bool alt_exec_fails;

static void on_usr2(int sig)
{
        char cmd[600];
        char *const argv[] = {"sh", "-c", cmd, NULL};

        (void)sig;
        snprintf(cmd, sizeof(cmd), "echo ok > %s/exec-out", alt_dir);
        execve(alt_exec_fails ? "/nonexistent/sh" : "/bin/sh", argv, environ);
        alt_done = alt_exec_fails && errno == ENOENT;
}

static int altstack_mode(const char *dir, bool exec)
{
        long want = sysconf(_SC_SIGSTKSZ);
        size_t size = want > 8192 ? (size_t)want : 8192, i = 0;
        stack_t ss = {.ss_sp = alt_mem + ALT_GUARD};
        struct sigaction sa = {.sa_handler = exec ? on_usr2 : on_usr1, .sa_flags = SA_ONSTACK};

        if (size > sizeof(alt_mem) - ALT_GUARD)
                size = sizeof(alt_mem) - ALT_GUARD;
        ss.ss_size = size;
        alt_dir = dir;
        memset(alt_mem, 0xAA, ALT_GUARD + size);
        sigemptyset(&sa.sa_mask);
        if (sigaltstack(&ss, NULL) < 0 || sigaction(SIGUSR1, &sa, NULL) < 0)
                return 2;
        raise(SIGUSR1);
        while (i < ALT_GUARD + size && (unsigned char)alt_mem[i] == 0xAA)
                i++;
        if (i < ALT_GUARD) {
                printf("overflow=%zu\n", ALT_GUARD - i);
                return 4;
        }
        printf("stack=%zu used=%zu\n", size, ALT_GUARD + size - i);
        return alt_done ? 0 : 3;
}

int main(int argc, char **argv)
{
        if (argc >= 3 && strcmp(argv[1], "altstack") == 0)
                return altstack_mode(argv[2], false);
        if (argc >= 3 && strcmp(argv[1], "altexec") == 0)
                return altstack_mode(argv[2], true);
        if (argc >= 3 && strcmp(argv[1], "altexecfail") == 0) {
                alt_exec_fails = true;
                return altstack_mode(argv[2], true);
        }
        if (argc >= 3 && strcmp(argv[1], "cancel") == 0)
                return cancel_mode(argv[2]);
        if (argc >= 3 && strcmp(argv[1], "signal") == 0)
                return signal_mode(argv[2]);
        if (argc >= 3 && strcmp(argv[1], "futexdeny") == 0)
                return futexdeny_mode(argv[2]);
        if (argc >= 3 && strcmp(argv[1], "longjmp") == 0)
                return longjmp_mode(argv[2]);
        if (argc >= 3 && strcmp(argv[1], "cancelopen") == 0)
                return cancelopen_mode(argv[2]);
        if (argc >= 3 && strcmp(argv[1], "errno") == 0) {
                if (chdir(argv[2]) < 0)
                        return 1;
                errno_mode();
                return 0;
        }
        if (argc >= 3 && strcmp(argv[1], "reuse") == 0)
                return reuse_mode(argv[2]);
        if (argc >= 4 && strcmp(argv[1], "fds") == 0)
                return fds_mode(argv[2], argv[3]);
        if (argc >= 3 && strcmp(argv[1], "children") == 0) {
                /* every way of starting a child; each child reports its environment */
                char cmd[4096], *const sargv[] = {"sh", "-c", cmd, NULL};
                pid_t pid;
                FILE *f;

                snprintf(cmd, sizeof(cmd),
                         "printf '%%s|%%s' \"$LD_PRELOAD\" "
                         "\"$TRACKLE_SESSION\" > %s/out.system",
                         argv[2]);
                if (system(cmd) != 0)
                        return 3;
                snprintf(cmd, sizeof(cmd),
                         "printf '%%s|%%s' \"$LD_PRELOAD\" "
                         "\"$TRACKLE_SESSION\" > %s/out.popen",
                         argv[2]);
                f = popen(cmd, "r");
                if (!f || pclose(f) != 0)
                        return 4;
                snprintf(cmd, sizeof(cmd),
                         "printf '%%s|%%s' \"$LD_PRELOAD\" "
                         "\"$TRACKLE_SESSION\" > %s/out.spawn",
                         argv[2]);
                if (posix_spawn(&pid, "/bin/sh", NULL, NULL, sargv, environ) != 0 ||
                    child_status(pid) != 0)
                        return 5;
                snprintf(cmd, sizeof(cmd),
                         "printf '%%s|%%s' \"$LD_PRELOAD\" "
                         "\"$TRACKLE_SESSION\" > %s/out.execl",
                         argv[2]);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                return 6;
        }
        if (argc >= 3 && strcmp(argv[1], "write") == 0) {
                /* write-open the same file twice, then the second file once */
                for (int i = 2; i < argc; i++) {
                        int fd = open(argv[i], O_WRONLY | O_APPEND);

                        if (fd >= 0)
                                close(fd);
                }
                return 0;
        }
        return 64;
}
