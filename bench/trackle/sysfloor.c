/* sysfloor.c - the cost of the system calls libtrackle.so adds per created file, on this
 * machine: getpid, fstat of a descriptor, getcwd, fstatat of a path (bench/trackle/README.md,
 * run H). Not part of bench/trackle/run; by hand:
 *
 *   gcc -O2 -o sysfloor sysfloor.c && ./sysfloor [PATH]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define N 200000

static double now(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        const char *path = argc > 1 ? argv[1] : "/etc/passwd";
        char buf[PATH_MAX];
        struct stat st;
        double t, a, b, c, d;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
                perror(path);
                return 1;
        }
        t = now();
        for (int i = 0; i < N; i++)
                (void)syscall(SYS_getpid);
        a = now() - t;
        t = now();
        for (int i = 0; i < N; i++)
                (void)fstat(fd, &st);
        b = now() - t;
        t = now();
        for (int i = 0; i < N; i++)
                (void)getcwd(buf, sizeof(buf));
        c = now() - t;
        t = now();
        for (int i = 0; i < N; i++)
                (void)fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW);
        d = now() - t;
        printf("us per call: getpid %.2f  fstat %.2f  getcwd %.2f  fstatat(path) %.2f\n",
               a / N * 1e6, b / N * 1e6, c / N * 1e6, d / N * 1e6);
        return 0;
}
