/* exec-driver.c - time fork+execve+waitpid of several programs, interleaved in rounds, and
 * check that every run of a tracked program delivered exactly one valid datagram. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracker-proto.h"

#define VARIANTS_MAX 16
#define SERVER_ENV "TRACKSUITE_TRACKER_SERVER"

typedef struct Variant {
        const char *label;
        const char *path;
        const char *program; /* the name the shim reports: the basename of path */
        uint64_t *ns;
        size_t n;
        uint64_t recv_ok, recv_bad;
        char **env; /* NULL: the common environment */
} Variant;

typedef struct Extra {
        const char *label;
        const char *assignment; /* VAR=VALUE, @PORT@ stands for our receiver's port */
} Extra;

extern char **environ;

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static uint64_t percentile(const uint64_t *v, size_t n, unsigned p)
{
        size_t rank = (n * p + 99) / 100;

        return v[(rank == 0 ? 1 : rank) - 1];
}

static bool same_var(const char *a, const char *b)
{
        size_t n = strcspn(a, "=");

        return strncmp(a, b, n) == 0 && b[n] == '=';
}

/* Replace "@PORT@" in an assignment by the port of server ("host:port"). */
static char *expand(const char *a, const char *server)
{
        const char *at = strstr(a, "@PORT@"), *colon = strrchr(server, ':');
        char *r;

        if (!at || !colon)
                return strdup(a);
        if (asprintf(&r, "%.*s%s%s", (int)(at - a), a, colon + 1, at + 6) < 0)
                return NULL;
        return r;
}

/* The children get our environment with the collector address replaced (and TRACKING
 * dropped), plus one more assignment for a variant that wants it. */
static char **child_env(const char *server, const char *extra)
{
        size_t n = 0, k = 0;
        char **env, *s, *x = NULL;

        while (environ[n])
                n++;
        env = calloc(n + 3, sizeof(*env));
        if (!env || asprintf(&s, SERVER_ENV "=%s", server) < 0)
                return NULL;
        if (extra && !(x = expand(extra, server)))
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!same_var(s, environ[i]) && strncmp(environ[i], "TRACKING=", 9) != 0 &&
                    !(x && same_var(x, environ[i])))
                        env[k++] = environ[i];
        if (!(x && same_var(x, s)))
                env[k++] = s;
        if (x)
                env[k++] = x;
        return env;
}

static int run_once(const Variant *v, char **env, uint64_t *ret_ns)
{
        char *argv[] = {(char *)v->path, NULL};
        uint64_t t0, t1;
        pid_t pid;
        int status;

        t0 = now_ns();
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                execve(v->path, argv, env);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        t1 = now_ns();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "exec-driver: '%s' failed (status 0x%x)\n", v->path, status);
                return -ECHILD;
        }
        *ret_ns = t1 - t0;
        return 0;
}

/* Everything a run sent is queued by the time waitpid() returns: sendto() on loopback
 * delivers synchronously. So draining here attributes datagrams to the run just made. */
static void drain(const int fds[2], Variant *v)
{
        uint8_t buf[TRACKER_DATAGRAM_MAX + 1];
        TrackerUse u;
        ssize_t n;

        for (int i = 0; i < 2; i++) {
                if (fds[i] < 0)
                        continue;
                while ((n = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
                        if (tracker_use_decode(buf, (size_t)n, &u, NULL) >= 0 &&
                            strcmp(u.program, v->program) == 0)
                                v->recv_ok++;
                        else
                                v->recv_bad++;
                }
        }
}

/* Our collector: 127.0.0.1 on an ephemeral port, and [::1] on the same port if free, so a
 * shim that resolves a name such as "localhost" to ::1 first is counted too. */
static int open_receiver(int fds[2], char *ret_server, size_t size)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        socklen_t len = sizeof(sa);
        int one = 1;

        fds[0] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fds[0] < 0)
                return -errno;
        if (bind(fds[0], (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            getsockname(fds[0], (struct sockaddr *)&sa, &len) < 0)
                return -errno;
        snprintf(ret_server, size, "127.0.0.1:%u", ntohs(sa.sin_port));

        sa6.sin6_port = sa.sin_port;
        fds[1] = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fds[1] >= 0 && (setsockopt(fds[1], IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
                            bind(fds[1], (struct sockaddr *)&sa6, sizeof(sa6)) < 0)) {
                close(fds[1]);
                fds[1] = -1;
        }
        return 0;
}

/* Before sorting: ns[i] of every variant was measured in round i. */
static int write_raw(const char *path, const Variant *vs, size_t nv)
{
        FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        for (size_t i = 0; i < vs[0].n; i++)
                for (size_t k = 0; k < nv; k++)
                        fprintf(f, "%zu %s %" PRIu64 "\n", i, vs[k].label, vs[k].ns[i]);
        if (fclose(f) != 0)
                return -errno;
        return 0;
}

static void usage(void)
{
        fprintf(stderr,
                "Usage: exec-driver [-n RUNS] [-w WARMUP] [-s HOST:PORT] [-o FILE]\n"
                "                   [-e LABEL:VAR=VALUE]... LABEL=PATH...\n"
                "  -n RUNS      measured runs per variant (default 5000)\n"
                "  -w WARMUP    unmeasured runs per variant first (default 200)\n"
                "  -s SERVER    collector for " SERVER_ENV " (default: a socket of our own on\n"
                "               127.0.0.1 that counts and checks every datagram)\n"
                "  -o FILE      write every measured run as 'round label ns' lines\n"
                "  -e L:V=X     set V=X for variant L only; @PORT@ in X is the collector's port\n");
}

int main(int argc, char **argv)
{
        Variant vs[VARIANTS_MAX] = {};
        Extra extras[VARIANTS_MAX];
        size_t nx = 0;
        size_t nv = 0, runs = 5000, warmup = 200;
        const char *server = NULL, *raw = NULL;
        char own[64];
        char **env;
        int c, fds[2] = {-1, -1}, r;

        while ((c = getopt(argc, argv, "n:w:s:o:e:h")) >= 0)
                switch (c) {
                case 'n':
                        runs = strtoul(optarg, NULL, 10);
                        break;
                case 'w':
                        warmup = strtoul(optarg, NULL, 10);
                        break;
                case 's':
                        server = optarg;
                        break;
                case 'o':
                        raw = optarg;
                        break;
                case 'e': {
                        char *colon = strchr(optarg, ':');

                        if (!colon || !strchr(colon, '=') || nx >= VARIANTS_MAX) {
                                usage();
                                return 2;
                        }
                        *colon = '\0';
                        extras[nx++] = (Extra){optarg, colon + 1};
                        break;
                }
                default:
                        usage();
                        return c == 'h' ? 0 : 2;
                }
        if (runs == 0 || optind >= argc) {
                usage();
                return 2;
        }
        for (int i = optind; i < argc; i++) {
                char *eq = strchr(argv[i], '=');
                const char *slash;

                if (!eq || nv >= VARIANTS_MAX) {
                        usage();
                        return 2;
                }
                *eq = '\0';
                slash = strrchr(eq + 1, '/');
                vs[nv] = (Variant){
                        .label = argv[i],
                        .path = eq + 1,
                        .program = slash ? slash + 1 : eq + 1,
                        .ns = calloc(runs, sizeof(uint64_t)),
                };
                if (!vs[nv].ns)
                        return 1;
                nv++;
        }
        if (!server) {
                r = open_receiver(fds, own, sizeof(own));
                if (r < 0) {
                        fprintf(stderr, "exec-driver: receiver socket: %s\n", strerror(-r));
                        return 1;
                }
                server = own;
        }
        env = child_env(server, NULL);
        if (!env)
                return 1;
        for (size_t i = 0; i < nx; i++)
                for (size_t k = 0; k < nv; k++)
                        if (strcmp(extras[i].label, vs[k].label) == 0 &&
                            !(vs[k].env = child_env(server, extras[i].assignment)))
                                return 1;
        printf("SERVER %s %s\n", server,
               fds[0] < 0   ? "external"
               : fds[1] < 0 ? "counted"
                            : "counted, also on [::1]");

        /* Warm-up, then rounds: each round runs every variant once, starting one further each
         * round, so drift and "who ran before me" effects hit all variants alike. */
        for (size_t w = 0; w < warmup; w++)
                for (size_t k = 0; k < nv; k++) {
                        uint64_t ns;

                        r = run_once(&vs[k], vs[k].env ?: env, &ns);
                        if (r < 0)
                                return 1;
                        drain(fds, &vs[k]);
                }
        for (size_t k = 0; k < nv; k++)
                vs[k].recv_ok = vs[k].recv_bad = 0;

        for (size_t round = 0; round < runs; round++)
                for (size_t k = 0; k < nv; k++) {
                        Variant *v = &vs[(round + k) % nv];

                        r = run_once(v, v->env ?: env, &v->ns[v->n]);
                        if (r < 0)
                                return 1;
                        v->n++;
                        drain(fds, v);
                }
        if (raw && write_raw(raw, vs, nv) < 0) {
                fprintf(stderr, "exec-driver: cannot write '%s': %m\n", raw);
                return 1;
        }

        for (size_t k = 0; k < nv; k++) {
                Variant *v = &vs[k];
                uint64_t sum = 0;

                qsort(v->ns, v->n, sizeof(uint64_t), cmp_u64);
                for (size_t i = 0; i < v->n; i++)
                        sum += v->ns[i];
                printf("RESULT label=%s runs=%zu median_ns=%" PRIu64 " p90_ns=%" PRIu64
                       " mean_ns=%" PRIu64 " min_ns=%" PRIu64 " recv_ok=%" PRId64
                       " recv_bad=%" PRId64 "\n",
                       v->label, v->n, percentile(v->ns, v->n, 50), percentile(v->ns, v->n, 90),
                       sum / v->n, v->ns[0], fds[0] >= 0 ? (int64_t)v->recv_ok : -1,
                       fds[0] >= 0 ? (int64_t)v->recv_bad : -1);
        }
        return 0;
}
