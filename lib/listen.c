/* listen.c - socket activation by fd name (sd_listen_fds_with_names) and manual binding. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <systemd/sd-daemon.h>

#include "addr.h"
#include "listen.h"
#include "macro.h"

/* The passed fds are fetched once (which unsets $LISTEN_FDS so children do not inherit
 * them) and looked up by name as often as the daemon needs. */
static int passed_n = -1;
static char **passed_names;

int listen_fds_by_name(const char *name, int type, int *fds, size_t max)
{
        char **names;
        size_t found = 0;
        int n, r = 0;

        if (passed_n < 0)
                passed_n = sd_listen_fds_with_names(/* unset_environment= */ true, &passed_names);
        n = passed_n;
        names = passed_names;
        if (n <= 0)
                return n;
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                const char *fdname = names ? names[i] : "unknown";

                if (!streq(fdname, name) && !streq(fdname, "unknown"))
                        continue;
                if (sd_is_socket(fd, AF_UNSPEC, type, -1) <= 0) {
                        r = -EBADFD;
                        break;
                }
                if (found >= max) {
                        r = -E2BIG;
                        break;
                }
                fds[found++] = fd;
        }
        return r < 0 ? r : (int)found;
}

int listen_open(const char *spec, int type, unsigned short default_port)
{
        char host[ADDR_STRLEN];
        SockaddrUnion sa;
        socklen_t salen;
        uint16_t port;
        int fd, r, one = 1;

        r = addr_split_host_port(spec, default_port, host, sizeof(host), &port);
        if (r < 0)
                return r;
        r = addr_parse_ip(host, port, &sa, &salen);
        if (r < 0)
                return r;
        fd = socket(sa.sa.sa_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (sa.sa.sa_family == AF_INET6) {
                int zero = 0; /* "[::]" serves IPv4 too, like BindIPv6Only=default */
                (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        }
        if (bind(fd, &sa.sa, salen) < 0 ||
            (type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)) {
                r = negative_errno();
                safe_close(fd);
                return r;
        }
        return fd;
}
