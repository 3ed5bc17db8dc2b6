/* trackalert-console.c - the console wire protocol (spec section 5), server and client. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include "addr.h"
#include "listen.h"
#include "log.h"
#include "macro.h"
#include "trackalert-console.h"
#include "trackalert-lineedit.h"
#include "trackalert-lua.h"

void ta_nonce_merge(const uint8_t lower[static TA_NONCE_SIZE],
                    const uint8_t higher[static TA_NONCE_SIZE], uint8_t ret[static TA_NONCE_SIZE])
{
        memcpy(ret, lower, TA_NONCE_SIZE / 2);
        memcpy(ret + TA_NONCE_SIZE / 2, higher + TA_NONCE_SIZE / 2, TA_NONCE_SIZE / 2);
}

void ta_nonce_increment(uint8_t nonce[static TA_NONCE_SIZE])
{
        uint32_t v = ((uint32_t)nonce[0] << 24) | ((uint32_t)nonce[1] << 16) |
                     ((uint32_t)nonce[2] << 8) | nonce[3];

        v++;
        nonce[0] = (uint8_t)(v >> 24);
        nonce[1] = (uint8_t)(v >> 16);
        nonce[2] = (uint8_t)(v >> 8);
        nonce[3] = (uint8_t)v;
}

int ta_console_seal(const uint8_t key[static 32], uint8_t nonce[static TA_NONCE_SIZE],
                    const void *plain, size_t len, TaBuf *frame)
{
        size_t clen = len + crypto_secretbox_MACBYTES;
        uint8_t *c;

        if (clen > TA_FRAME_MAX)
                return -EMSGSIZE;
        c = malloc(clen + 2);
        if (!c)
                return -ENOMEM;
        c[0] = (uint8_t)(clen >> 8);
        c[1] = (uint8_t)clen;
        crypto_secretbox_easy(c + 2, plain, len, nonce, key);
        ta_nonce_increment(nonce);
        ta_buf_add(frame, (const char *)c, clen + 2);
        free(c);
        return frame->oom ? -ENOMEM : 0;
}

int ta_console_open(const uint8_t key[static 32], uint8_t nonce[static TA_NONCE_SIZE],
                    const uint8_t *cipher, size_t len, char **ret_plain, size_t *ret_len)
{
        char *p;

        if (len < crypto_secretbox_MACBYTES)
                return -EBADMSG;
        p = malloc(len - crypto_secretbox_MACBYTES + 1);
        if (!p)
                return -ENOMEM;
        if (crypto_secretbox_open_easy((uint8_t *)p, cipher, len, nonce, key) != 0) {
                free(p);
                return -EBADMSG;
        }
        ta_nonce_increment(nonce);
        p[len - crypto_secretbox_MACBYTES] = '\0';
        *ret_plain = p;
        *ret_len = len - crypto_secretbox_MACBYTES;
        return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
        uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = read(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return -ECONNRESET;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
        const uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static int recv_frame(int fd, const uint8_t *key, uint8_t *nonce, char **ret, size_t *ret_len)
{
        uint8_t hdr[2], *c;
        size_t len;
        int r;

        r = read_full(fd, hdr, 2);
        if (r < 0)
                return r;
        len = ((size_t)hdr[0] << 8) | hdr[1];
        c = malloc(len ? len : 1);
        if (!c)
                return -ENOMEM;
        r = read_full(fd, c, len);
        if (r >= 0)
                r = ta_console_open(key, nonce, c, len, ret, ret_len);
        free(c);
        return r;
}

static int send_frame(int fd, const uint8_t *key, uint8_t *nonce, const char *plain, size_t len)
{
        TaBuf f = {};
        int r;

        /* The original wrapped the length at 64 KiB and broke the stream; cut instead. */
        if (len > TA_FRAME_MAX - crypto_secretbox_MACBYTES)
                len = TA_FRAME_MAX - crypto_secretbox_MACBYTES;
        r = ta_console_seal(key, nonce, plain, len, &f);
        if (r >= 0)
                r = write_full(fd, f.data, f.len);
        ta_buf_done(&f);
        return r;
}

/* ---- server */

typedef struct Conn {
        TaRuntime *rt;
        int fd;
        char peer[TA_ADDR_STRLEN];
} Conn;

static int server_fd = -EBADF;
static int stop_pipe[2] = {-1, -1};
static pthread_t accept_thread;
static bool accept_started;
static unsigned n_conns; /* atomic */

static void *conn_thread(void *userdata)
{
        Conn *c = userdata;
        const uint8_t *key = c->rt->config.key;
        uint8_t theirs[TA_NONCE_SIZE], ours[TA_NONCE_SIZE], rd[TA_NONCE_SIZE], wr[TA_NONCE_SIZE];
        int r;

        randombytes_buf(ours, sizeof(ours));
        r = read_full(c->fd, theirs, sizeof(theirs));
        if (r >= 0)
                r = write_full(c->fd, ours, sizeof(ours));
        if (r < 0)
                goto done;
        ta_nonce_merge(ours, theirs, rd);
        ta_nonce_merge(theirs, ours, wr);
        log_info("Console connection from %s.", c->peer);
        for (;;) {
                _cleanup_free_ char *line = NULL, *response = NULL;
                size_t len;

                r = recv_frame(c->fd, key, rd, &line, &len);
                if (r == -EBADMSG) {
                        log_warning("Console connection from %s: cannot decrypt, wrong key? "
                                    "Closing.",
                                    c->peer);
                        break;
                }
                if (r < 0)
                        break;
                r = ta_lua_console(c->rt, line, len, &response);
                if (r < 0)
                        response = strdup("Error: out of memory\n");
                if (!response)
                        break;
                r = send_frame(c->fd, key, wr, response, strlen(response));
                if (r < 0)
                        break;
        }
done:
        safe_close(c->fd);
        free(c);
        __atomic_sub_fetch(&n_conns, 1, __ATOMIC_RELAXED);
        return NULL;
}

static void *accept_loop(void *userdata)
{
        TaRuntime *rt = userdata;

        for (;;) {
                struct pollfd p[2] = {{.fd = server_fd, .events = POLLIN},
                                      {.fd = stop_pipe[0], .events = POLLIN}};
                SockaddrUnion sa;
                socklen_t salen = sizeof(sa);
                pthread_attr_t attr;
                pthread_t t;
                Conn *c;
                TaAddr a;
                int fd;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[1].revents)
                        break;
                fd = accept4(server_fd, &sa.sa, &salen, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                if (__atomic_add_fetch(&n_conns, 1, __ATOMIC_RELAXED) > TA_CONSOLE_CONNS_MAX) {
                        __atomic_sub_fetch(&n_conns, 1, __ATOMIC_RELAXED);
                        log_warning("Too many console connections, refusing one.");
                        safe_close(fd);
                        continue;
                }
                c = calloc(1, sizeof(*c));
                if (!c) {
                        __atomic_sub_fetch(&n_conns, 1, __ATOMIC_RELAXED);
                        safe_close(fd);
                        continue;
                }
                c->rt = rt;
                c->fd = fd;
                if (ta_addr_from_sockaddr(&sa.sa, salen, &a) >= 0)
                        ta_addr_to_string_port(&a, c->peer);
                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                if (pthread_create(&t, &attr, conn_thread, c) != 0) {
                        __atomic_sub_fetch(&n_conns, 1, __ATOMIC_RELAXED);
                        safe_close(fd);
                        free(c);
                }
                pthread_attr_destroy(&attr);
        }
        return NULL;
}

int ta_console_server_start(TaRuntime *rt, const char *addr)
{
        int r, fl;

        if (!rt->config.key_set)
                return log_error_errno(ENOKEY,
                                       "controlSocket('%s') needs a key: add setKey() "
                                       "(makeKey() makes one).",
                                       addr);
        r = listen_open(addr, SOCK_STREAM, TA_DEFAULT_CONTROL_PORT);
        if (r < 0)
                return log_error_errno(r, "Cannot listen on console address '%s': %m", addr);
        server_fd = r;
        fl = fcntl(server_fd, F_GETFL);
        if (fl >= 0)
                (void)fcntl(server_fd, F_SETFL, fl & ~O_NONBLOCK);
        if (pipe2(stop_pipe, O_CLOEXEC) < 0)
                return log_error_errno(errno, "pipe2() failed: %m");
        r = -pthread_create(&accept_thread, NULL, accept_loop, rt);
        if (r < 0)
                return log_error_errno(r, "Cannot start the console thread: %m");
        accept_started = true;
        log_info("Console listening on %s.", addr);
        return 0;
}

void ta_console_server_stop(void)
{
        if (accept_started) {
                (void)!write(stop_pipe[1], "x", 1);
                pthread_join(accept_thread, NULL);
                accept_started = false;
        }
        server_fd = safe_close(server_fd);
        if (stop_pipe[0] >= 0) {
                safe_close(stop_pipe[0]);
                safe_close(stop_pipe[1]);
                stop_pipe[0] = stop_pipe[1] = -1;
        }
}

/* ---- client */

static int client_connect(const char *addr)
{
        char host[ADDR_STRLEN];
        SockaddrUnion sa;
        socklen_t salen;
        uint16_t port;
        int fd, r;

        r = addr_split_host_port(addr, TA_DEFAULT_CONTROL_PORT, host, sizeof(host), &port);
        if (r < 0)
                return r;
        r = addr_parse_ip(host, port, &sa, &salen);
        if (r < 0)
                return r;
        fd = socket(sa.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, &sa.sa, salen) < 0) {
                r = negative_errno();
                safe_close(fd);
                return r;
        }
        return fd;
}

static int client_command(int fd, const uint8_t *key, uint8_t *wr, uint8_t *rd, const char *cmd)
{
        _cleanup_free_ char *resp = NULL;
        size_t len;
        int r;

        r = send_frame(fd, key, wr, cmd, strlen(cmd));
        if (r < 0)
                return r;
        r = recv_frame(fd, key, rd, &resp, &len);
        if (r < 0)
                return r;
        fwrite(resp, 1, len, stdout);
        fflush(stdout);
        return 0;
}

int ta_console_client(const char *addr, const uint8_t key[static 32], const char *command)
{
        uint8_t ours[TA_NONCE_SIZE], theirs[TA_NONCE_SIZE], rd[TA_NONCE_SIZE], wr[TA_NONCE_SIZE];
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = client_connect(addr);
        if (fd < 0)
                return log_error_errno(fd, "Cannot connect to the console at '%s': %m", addr);
        randombytes_buf(ours, sizeof(ours));
        r = write_full(fd, ours, sizeof(ours));
        if (r >= 0)
                r = read_full(fd, theirs, sizeof(theirs));
        if (r < 0)
                return log_error_errno(r, "Console handshake with '%s' failed: %m", addr);
        ta_nonce_merge(ours, theirs, rd);
        ta_nonce_merge(theirs, ours, wr);

        if (command) {
                r = client_command(fd, key, wr, rd, command);
                if (r < 0)
                        return log_error_errno(r, "Console command failed (wrong key?): %m");
                return 0;
        }
        {
                _cleanup_free_ char *hist = NULL;
                const char *home = getenv("HOME");
                LineEdit le;

                if (home && asprintf(&hist, "%s/.trackalert_history", home) < 0)
                        hist = NULL;
                lineedit_init(&le, hist);
                for (;;) {
                        _cleanup_free_ char *line = lineedit_read(&le, "> ");

                        if (!line || streq(line, "quit") || streq(line, "exit"))
                                break;
                        if (!*line)
                                continue;
                        r = client_command(fd, key, wr, rd, line);
                        if (r < 0) {
                                lineedit_done(&le);
                                return log_error_errno(r, "Console connection lost (wrong key?): "
                                                          "%m");
                        }
                }
                lineedit_done(&le);
        }
        return 0;
}
