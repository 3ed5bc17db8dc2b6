/* snap.c - the cost of first touches of existing files (bench/trackle/run).
 *
 *   snap DIR N
 *
 * Opens DIR/w (warm-up, not timed: a library connects at its first call that matters) and then
 * DIR/f0 .. DIR/f<N-1>, each with open(O_WRONLY) (no O_TRUNC: the content stays, so every run
 * sees the same files) and close(). In a tracked session each of these is the first
 * destructive touch of an existing file by this process, so libtrackle.so sends a BEFORE and
 * waits for trackled to store the content. Prints
 *
 *   SNAP ns=<wall ns of the N open+close, CLOCK_MONOTONIC> n=<N> failed=<opens that failed>
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: snap DIR N\n");
                return 2;
        }
        const char *dir = argv[1];
        long n = strtol(argv[2], NULL, 10);
        char path[4096];
        snprintf(path, sizeof path, "%s/w", dir);
        int fd = open(path, O_WRONLY);
        if (fd >= 0)
                close(fd);
        long failed = 0;
        long long start = now_ns();
        for (long i = 0; i < n; i++) {
                snprintf(path, sizeof path, "%s/f%ld", dir, i);
                fd = open(path, O_WRONLY);
                if (fd < 0)
                        failed++;
                else
                        close(fd);
        }
        long long ns = now_ns() - start;
        printf("SNAP ns=%lld n=%ld failed=%ld\n", ns, n, failed);
        fflush(stdout);
        return failed ? 1 : 0;
}
