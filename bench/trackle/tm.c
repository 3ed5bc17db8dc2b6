/* tm.c - time a command from inside the shell it runs in (bench/trackle/run).
 *
 *   tm [-r R] [-v] -- PROGRAM ARG...
 *
 * Runs PROGRAM R times (default 1), one after the other (fork, execvp, waitpid), its stdout
 * and stderr on /dev/null unless -v, and prints one line on stdout:
 *
 *   TM ns=<wall ns of all R runs, CLOCK_MONOTONIC> runs=<R> failed=<runs with status != 0>
 *
 * Run both as `bash -c 'tm ...'` (untracked) and `trackle shell -c 'tm ...'` (tracked), the
 * time excludes the shell and the session set-up and end around it. tm itself is an ordinary
 * dynamically linked program, so inside a session libtrackle.so is loaded into it and into
 * every child, exactly as into a program the admin starts. Exit status: 0 when every run
 * exited 0, else 1; 2 on usage or system errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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
        long runs = 1;
        int verbose = 0, opt;
        while ((opt = getopt(argc, argv, "+r:v")) != -1) {
                switch (opt) {
                case 'r':
                        runs = strtol(optarg, NULL, 10);
                        if (runs < 1) {
                                fprintf(stderr, "tm: bad -r %s\n", optarg);
                                return 2;
                        }
                        break;
                case 'v':
                        verbose = 1;
                        break;
                default:
                        fprintf(stderr, "usage: tm [-r R] [-v] -- PROGRAM ARG...\n");
                        return 2;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "usage: tm [-r R] [-v] -- PROGRAM ARG...\n");
                return 2;
        }
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0) {
                perror("tm: /dev/null");
                return 2;
        }
        long failed = 0;
        long long start = now_ns();
        for (long i = 0; i < runs; i++) {
                pid_t pid = fork();
                if (pid < 0) {
                        perror("tm: fork");
                        return 2;
                }
                if (pid == 0) {
                        if (!verbose) {
                                dup2(null, STDOUT_FILENO);
                                dup2(null, STDERR_FILENO);
                        }
                        execvp(argv[optind], argv + optind);
                        _exit(127);
                }
                int status;
                while (waitpid(pid, &status, 0) < 0)
                        if (errno != EINTR) {
                                perror("tm: waitpid");
                                return 2;
                        }
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        failed++;
        }
        long long ns = now_ns() - start;
        printf("TM ns=%lld runs=%ld failed=%ld\n", ns, runs, failed);
        fflush(stdout);
        return failed ? 1 : 0;
}
