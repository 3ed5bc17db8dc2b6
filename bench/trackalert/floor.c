/* floor.c - the fastest "HTTP server" this machine can run: one thread, epoll, and for every
 * request that arrives on a keep-alive connection the same 200 {"status":"ok"} response,
 * without parsing more than the end of the headers and Content-Length. wrk against it shows
 * what loopback TCP and wrk itself leave for a real server on the same cores.
 *
 *   cc -O2 -o floor floor.c && ./floor PORT */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                           "Content-Length: 15\r\n\r\n{\"status\":\"ok\"}";

typedef struct Conn {
        char buf[65536];
        size_t len;
} Conn;

/* Consumes complete requests (headers + Content-Length body) from c, returns how many. */
static int requests(Conn *c)
{
        int n = 0;

        for (;;) {
                char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), *cl;
                size_t total, body = 0;

                if (!end)
                        break;
                *end = '\0';
                cl = strcasestr(c->buf, "\r\nContent-Length:");
                if (cl)
                        body = strtoul(cl + 17, NULL, 10);
                total = (size_t)(end - c->buf) + 4 + body;
                if (total > c->len) {
                        *end = '\r';
                        break;
                }
                memmove(c->buf, c->buf + total, c->len - total);
                c->len -= total;
                n++;
        }
        return n;
}

int main(int argc, char **argv)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        struct epoll_event ev = {.events = EPOLLIN}, evs[256];
        int one = 1, s, ep;

        if (argc != 2)
                return 2;
        a.sin_port = htons((uint16_t)atoi(argv[1]));
        s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1024) < 0) {
                perror("listen");
                return 1;
        }
        ep = epoll_create1(0);
        ev.data.ptr = NULL;
        epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
        for (;;) {
                int n = epoll_wait(ep, evs, 256, -1);

                for (int i = 0; i < n; i++) {
                        Conn *c = evs[i].data.ptr;
                        ssize_t r;
                        int k;

                        if (!c) {
                                int fd;

                                while ((fd = accept4(s, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                                        struct epoll_event e = {.events = EPOLLIN};
                                        Conn *nc = calloc(1, sizeof(Conn) + sizeof(int));

                                        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                                        *(int *)(nc + 1) = fd;
                                        e.data.ptr = nc;
                                        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                                }
                                continue;
                        }
                        r = read(*(int *)(c + 1), c->buf + c->len, sizeof(c->buf) - c->len);
                        if (r <= 0) {
                                close(*(int *)(c + 1));
                                free(c);
                                continue;
                        }
                        c->len += (size_t)r;
                        k = requests(c);
                        for (int j = 0; j < k; j++)
                                (void)!write(*(int *)(c + 1), resp, sizeof(resp) - 1);
                }
        }
}
