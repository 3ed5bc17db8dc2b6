/* udp-blast.c - send N valid tracker datagrams with sendmmsg(), as fast as possible or paced,
 * with user, host and program names drawn from a few hundred so daily aggregates have a
 * realistic number of distinct keys. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tracker-proto.h"

#define POOL 65536 /* distinct pre-encoded datagrams, cycled */
#define BATCH_MAX 256

static uint8_t pool[POOL][TRACKER_DATAGRAM_MAX];
static size_t pool_len[POOL];

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static const char *const stems[] = {
        "gcc",   "make",    "python", "perl",   "vim",    "emacs", "git",
        "ssh",   "rsync",   "tar",    "gzip",   "matlab", "R",     "gnuplot",
        "latex", "convert", "ffmpeg", "octave", "java",   "node",
};

/* Users are uniform; programs are skewed (a few popular, a long tail) like real sites. */
static int pool_fill(unsigned users, unsigned programs, unsigned hosts, uint64_t seed)
{
        uint64_t s = seed | 1;

        for (size_t i = 0; i < POOL; i++) {
                unsigned user = (unsigned)(xorshift(&s) % users);
                double x = (double)(xorshift(&s) % 1000000) / 1000000.0;
                unsigned prog = (unsigned)(x * x * x * programs);
                TrackerUse u = {.uid = 1000 + user};
                int r;

                snprintf(u.user, sizeof(u.user), "user%03u", user);
                snprintf(u.host, sizeof(u.host), "node%02u.cluster.example.org", user % hosts);
                snprintf(u.program, sizeof(u.program), "%s-%u",
                         stems[prog % (sizeof(stems) / sizeof(stems[0]))], prog);
                r = tracker_use_encode(&u, pool[i], sizeof(pool[i]), &pool_len[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Sleep until t (absolute, CLOCK_MONOTONIC ns). No spinning: on a small machine the sender
 * must not take CPU time from the receiver it measures; lateness is caught up by the next
 * batches, since every batch is due at an absolute time. */
static void wait_until(uint64_t t)
{
        struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ULL),
                              .tv_nsec = (long)(t % 1000000000ULL)};

        if (now_ns() >= t)
                return;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

static void usage(void)
{
        fprintf(stderr, "Usage: udp-blast -p PORT -n COUNT [-a ADDR] [-r RATE] [-b BATCH]\n"
                        "                 [-U USERS] [-P PROGRAMS] [-H HOSTS]\n"
                        "  -r RATE   datagrams per second (default 0: as fast as possible)\n"
                        "  -b BATCH  datagrams per sendmmsg() (default 64; paced: so that batches\n"
                        "            leave every 200 us)\n");
}

int main(int argc, char **argv)
{
        struct sockaddr_in sa = {.sin_family = AF_INET};
        static struct mmsghdr msgs[BATCH_MAX];
        static struct iovec iovs[BATCH_MAX];
        const char *addr = "127.0.0.1";
        unsigned long port = 0, users = 300, programs = 300, hosts = 40, batch = 0;
        uint64_t count = 0, sent = 0, errors = 0, t_first = 0, t_last, t_start, at = 0;
        double rate = 0;
        int fd, c;

        while ((c = getopt(argc, argv, "a:p:n:r:b:U:P:H:h")) >= 0)
                switch (c) {
                case 'a':
                        addr = optarg;
                        break;
                case 'p':
                        port = strtoul(optarg, NULL, 10);
                        break;
                case 'n':
                        count = strtoull(optarg, NULL, 10);
                        break;
                case 'r':
                        rate = strtod(optarg, NULL);
                        break;
                case 'b':
                        batch = strtoul(optarg, NULL, 10);
                        break;
                case 'U':
                        users = strtoul(optarg, NULL, 10);
                        break;
                case 'P':
                        programs = strtoul(optarg, NULL, 10);
                        break;
                case 'H':
                        hosts = strtoul(optarg, NULL, 10);
                        break;
                default:
                        usage();
                        return c == 'h' ? 0 : 2;
                }
        if (port == 0 || port > 65535 || count == 0 || users == 0 || programs == 0 || hosts == 0 ||
            inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
                usage();
                return 2;
        }
        if (batch == 0)
                batch = rate > 0 ? (unsigned long)(rate / 5000.0) : 64;
        batch = batch < 1 ? 1 : batch > BATCH_MAX ? BATCH_MAX : batch;
        sa.sin_port = htons((uint16_t)port);

        if (pool_fill((unsigned)users, (unsigned)programs, (unsigned)hosts, 0x9e3779b97f4a7c15ULL) <
            0) {
                fprintf(stderr, "udp-blast: cannot encode datagrams\n");
                return 1;
        }
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("udp-blast: socket");
                return 1;
        }
        (void)prctl(PR_SET_TIMERSLACK, 1UL);
        for (size_t i = 0; i < batch; i++)
                msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iovs[i], .msg_iovlen = 1};

        t_start = now_ns();
        while (sent < count) {
                size_t want = (size_t)(batch < count - sent ? batch : count - sent), done = 0;

                if (rate > 0)
                        wait_until(t_start + (uint64_t)((double)sent * 1e9 / rate));
                for (size_t i = 0; i < want; i++) {
                        size_t k = (size_t)((at + i) % POOL);

                        iovs[i] = (struct iovec){pool[k], pool_len[k]};
                }
                if (t_first == 0)
                        t_first = now_ns();
                while (done < want) {
                        int n = sendmmsg(fd, msgs + done, (unsigned)(want - done), 0);

                        if (n < 0) {
                                /* A refused or full queue: count it and try again. */
                                if (++errors > 1000000) {
                                        perror("udp-blast: sendmmsg");
                                        return 1;
                                }
                                continue;
                        }
                        done += (size_t)n;
                }
                sent += want;
                at += want;
        }
        t_last = now_ns();
        printf("RESULT sent=%" PRIu64 " errors=%" PRIu64 " t_first_ns=%" PRIu64
               " t_last_ns=%" PRIu64 " rate=%.0f batch=%lu target_rate=%.0f\n",
               sent, errors, t_first, t_last, (double)sent * 1e9 / (double)(t_last - t_first + 1),
               batch, rate);
        return 0;
}
