/* test-listen.c - socket activation by name, as systemd and systemd-socket-activate pass fds. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "listen.h"
#include "test.h"

int main(void)
{
        int udp, tcp, fds[4], r;
        char pid[32], spec[64];
        struct sockaddr_in sin;
        socklen_t len = sizeof(sin);

        /* fds 3 and 4, as the service manager would pass them */
        udp = socket(AF_INET, SOCK_DGRAM, 0);
        tcp = socket(AF_INET, SOCK_STREAM, 0);
        ASSERT_TRUE(udp >= 0 && tcp >= 0);
        ASSERT_EQ_INT(dup2(udp, SD_LISTEN_FDS_START), SD_LISTEN_FDS_START);
        ASSERT_EQ_INT(dup2(tcp, SD_LISTEN_FDS_START + 1), SD_LISTEN_FDS_START + 1);
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        setenv("LISTEN_PID", pid, 1);
        setenv("LISTEN_FDS", "2", 1);
        setenv("LISTEN_FDNAMES", "tracker:console", 1);

        r = listen_fds_by_name("tracker", SOCK_DGRAM, fds, 4);
        ASSERT_EQ_INT(r, 1);
        ASSERT_EQ_INT(fds[0], SD_LISTEN_FDS_START);
        /* The environment is consumed once; later look-ups by name still work. */
        ASSERT_TRUE(getenv("LISTEN_FDS") == NULL);
        ASSERT_EQ_INT(listen_fds_by_name("console", SOCK_STREAM, fds, 4), 1);
        ASSERT_EQ_INT(fds[0], SD_LISTEN_FDS_START + 1);
        /* A socket of the wrong type under our name is an error, not silently used. */
        ASSERT_EQ_INT(listen_fds_by_name("console", SOCK_DGRAM, fds, 4), -EBADFD);
        ASSERT_EQ_INT(listen_fds_by_name("nothing", SOCK_DGRAM, fds, 4), 0);
        ASSERT_EQ_INT(listen_fds_by_name("tracker", SOCK_DGRAM, fds, 0), -E2BIG);

        /* Find a free port, then bind it through listen_open(). */
        r = socket(AF_INET, SOCK_DGRAM, 0);
        sin = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
        ASSERT_EQ_INT(bind(r, (struct sockaddr *)&sin, sizeof(sin)), 0);
        ASSERT_EQ_INT(getsockname(r, (struct sockaddr *)&sin, &len), 0);
        close(r);
        snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(sin.sin_port));
        r = listen_open(spec, SOCK_DGRAM, 1738);
        ASSERT_TRUE(r >= 0);
        if (r >= 0) {
                struct sockaddr_in got;
                len = sizeof(got);
                ASSERT_EQ_INT(getsockname(r, (struct sockaddr *)&got, &len), 0);
                ASSERT_EQ_INT(got.sin_port, sin.sin_port);
                close(r);
        }
        snprintf(spec, sizeof(spec), "[::1]:%u", ntohs(sin.sin_port));
        r = listen_open(spec, SOCK_STREAM, 1738);
        ASSERT_TRUE(r >= 0 || r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT);
        if (r >= 0)
                close(r);
        ASSERT_EQ_INT(listen_open("track:1", SOCK_DGRAM, 1738), -EINVAL);
        ASSERT_EQ_INT(listen_open("127.0.0.1:99999", SOCK_DGRAM, 1738), -ERANGE);
        return test_result();
}
