/* udp-sink.c - the raw receive rate: recvmmsg() in batches like trackerd, count, discard. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VLEN 64       /* as trackerd's RECV_VLEN */
#define BUF_SIZE 1024 /* more than any tracker datagram */

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
        stop = 1;
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The kernel's drop counter of our socket: the last column of its /proc/net/udp line. */
static long long socket_drops(int fd)
{
        char line[512];
        struct stat st;
        long long drops = -1;
        FILE *f;

        if (fstat(fd, &st) < 0 || !(f = fopen("/proc/net/udp", "re")))
                return -1;
        while (fgets(line, sizeof(line), f)) {
                unsigned long long inode, d;

                if (sscanf(line,
                           " %*u: %*x:%*x %*x:%*x %*x %*x:%*x %*x:%*x %*x %*u %*u %llu %*u %*x "
                           "%llu",
                           &inode, &d) == 2 &&
                    inode == (unsigned long long)st.st_ino) {
                        drops = (long long)d;
                        break;
                }
        }
        fclose(f);
        return drops;
}

int main(int argc, char **argv)
{
        struct sockaddr_in sa = {.sin_family = AF_INET};
        static struct mmsghdr msgs[VLEN];
        static struct iovec iovs[VLEN];
        static uint8_t bufs[VLEN][BUF_SIZE];
        const char *addr = "127.0.0.1";
        unsigned long port = 0, idle_ms = 500, first_ms = 60000;
        long rcvbuf = 0;
        uint64_t received = 0, t_first = 0, t_last = 0, batches = 0;
        socklen_t len = sizeof(sa);
        struct sigaction sig = {.sa_handler = on_term};
        int fd, c, got = 0;

        while ((c = getopt(argc, argv, "a:p:b:i:t:h")) >= 0)
                switch (c) {
                case 'a':
                        addr = optarg;
                        break;
                case 'p':
                        port = strtoul(optarg, NULL, 10);
                        break;
                case 'b':
                        rcvbuf = strtol(optarg, NULL, 10);
                        break;
                case 'i':
                        idle_ms = strtoul(optarg, NULL, 10);
                        break;
                case 't':
                        first_ms = strtoul(optarg, NULL, 10);
                        break;
                default:
                        fprintf(stderr, "Usage: udp-sink [-a ADDR] [-p PORT] [-b RCVBUF] "
                                        "[-i IDLE_MS] [-t FIRST_MS]\n"
                                        "Prints 'PORT n', then when no datagram came for IDLE_MS "
                                        "after the first one (or on SIGTERM) a RESULT line.\n");
                        return c == 'h' ? 0 : 2;
                }
        if (port > 65535 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
                return 2;
        sa.sin_port = htons((uint16_t)port);
        sigaction(SIGTERM, &sig, NULL);
        sigaction(SIGINT, &sig, NULL);

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
                perror("udp-sink: socket");
                return 1;
        }
        if (rcvbuf > 0) {
                int v = (int)rcvbuf;

                /* As trackerd does: FORCE needs CAP_NET_ADMIN, the plain one obeys rmem_max. */
                if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
                        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
        }
        {
                int v = 0;
                socklen_t l = sizeof(v);

                (void)getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l);
                printf("PORT %u rcvbuf=%d\n", ntohs(sa.sin_port), v);
                fflush(stdout);
        }
        for (size_t i = 0; i < VLEN; i++) {
                iovs[i] = (struct iovec){bufs[i], BUF_SIZE};
                msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iovs[i], .msg_iovlen = 1};
        }

        while (!stop) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int n = poll(&p, 1, got ? (int)idle_ms : (int)first_ms);

                if (n == 0)
                        break;
                if (n < 0)
                        continue;
                while ((n = recvmmsg(fd, msgs, VLEN, MSG_DONTWAIT, NULL)) > 0) {
                        uint64_t t = now_ns();

                        if (!got) {
                                t_first = t;
                                got = 1;
                        }
                        received += (uint64_t)n;
                        batches++;
                        t_last = t;
                }
        }
        printf("RESULT received=%" PRIu64 " t_first_ns=%" PRIu64 " t_last_ns=%" PRIu64
               " drops=%lld batches=%" PRIu64 "\n",
               received, t_first, t_last, socket_drops(fd), batches);
        return 0;
}
