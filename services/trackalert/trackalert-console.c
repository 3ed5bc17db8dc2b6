/* trackalert-console.c - the console wire protocol (spec section 5), server and client. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
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

static char *mfree_erase(char *p, size_t len)
{
        if (p)
                sodium_memzero(p, len);
        free(p);
        return NULL;
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

/* ---- server
 *
 * The accept thread does the handshake of every new connection itself, without blocking: a
 * connection is only given a thread of its own once its first frame decrypts with the key.
 * Until then it is "pending": it has TA_CONSOLE_AUTH_USEC to authenticate, and when
 * TA_CONSOLE_PENDING_MAX connections are pending the oldest one is dropped to make room, so idle
 * or slow connections cannot keep the administrator out. Authenticated connections (at most
 * TA_CONSOLE_CONNS_MAX) are closed after TA_CONSOLE_IDLE_USEC without a command. Every thread is
 * joined at stop. */

typedef struct Pending {
        int fd;
        char peer[TA_ADDR_STRLEN];
        uint64_t deadline;
        uint8_t ours[TA_NONCE_SIZE], theirs[TA_NONCE_SIZE];
        size_t got; /* bytes of their nonce and the length prefix read */
        uint8_t hdr[2];
        uint8_t *frame;
        size_t frame_len, frame_got;
} Pending;

typedef struct Conn {
        TaRuntime *rt;
        int fd; /* closed by whoever joins the thread */
        char peer[TA_ADDR_STRLEN];
        uint8_t rd[TA_NONCE_SIZE], wr[TA_NONCE_SIZE];
        char *first; /* the first command, already decrypted */
        size_t first_len;
        pthread_t thread;
        bool used, done; /* done: atomic */
} Conn;

static int server_fd = -EBADF;
static int stop_pipe[2] = {-1, -1};
static pthread_t accept_thread;
static bool accept_started;
static TaRuntime *server_rt;
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static Conn conns[TA_CONSOLE_CONNS_MAX];
static Pending pending[TA_CONSOLE_PENDING_MAX];
static size_t n_pending;
static RateLimit unauth_log = {.interval_usec = 60ULL * 1000000ULL, .burst = 5};

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* What unauthenticated peers cause is logged at most a few times a minute (only the accept
 * thread calls this). */
static void log_unauthenticated(const char *peer, const char *what)
{
        unsigned long long suppressed = 0;
        bool show = ratelimit_below(&unauth_log, now_usec(), &suppressed);

        if (suppressed > 0)
                log_warning("Suppressed %llu messages about unauthenticated console connections.",
                            suppressed);
        if (show)
                log_warning("Console connection from %s: %s, closing.", peer, what);
}

static int console_respond(Conn *c, const char *line, size_t len)
{
        _cleanup_free_ char *response = NULL;
        int r;

        r = ta_lua_console(c->rt, line, len, &response);
        if (r < 0 || !response) {
                free(response);
                response = strdup("Error: out of memory\n");
                if (!response)
                        return -ENOMEM;
        }
        return send_frame(c->fd, c->rt->config.key, c->wr, response, strlen(response));
}

static void *conn_thread(void *userdata)
{
        Conn *c = userdata;
        const uint8_t *key = c->rt->config.key;
        int r;

        r = console_respond(c, c->first, c->first_len);
        c->first = mfree_erase(c->first, c->first_len);
        while (r >= 0 && !ta_runtime_stopping(c->rt)) {
                _cleanup_free_ char *line = NULL;
                struct pollfd p = {.fd = c->fd, .events = POLLIN};
                size_t len;

                r = poll(&p, 1, (int)(TA_CONSOLE_IDLE_USEC / 1000));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r == 0) {
                        log_info("Console connection from %s idle for %llu s, closing.", c->peer,
                                 (unsigned long long)(TA_CONSOLE_IDLE_USEC / 1000000ULL));
                        break;
                }
                if (r < 0)
                        break;
                /* the rest of a frame must follow within SO_RCVTIMEO */
                r = recv_frame(c->fd, key, c->rd, &line, &len);
                if (r == -EBADMSG) {
                        log_warning("Console connection from %s: cannot decrypt, closing.",
                                    c->peer);
                        break;
                }
                if (r < 0)
                        break;
                r = console_respond(c, line, len);
        }
        log_debug("Console connection from %s closed.", c->peer);
        __atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
        return NULL;
}

/* Joins the threads of closed connections; with all, every connection is ended first. */
static void conns_reap(bool all)
{
        for (size_t i = 0; i < ELEMENTSOF(conns); i++) {
                Conn *c = &conns[i];

                pthread_mutex_lock(&conns_lock);
                if (!c->used || (!all && !__atomic_load_n(&c->done, __ATOMIC_ACQUIRE))) {
                        pthread_mutex_unlock(&conns_lock);
                        continue;
                }
                if (all)
                        (void)shutdown(c->fd, SHUT_RDWR); /* wakes the thread's poll/read */
                pthread_mutex_unlock(&conns_lock);
                pthread_join(c->thread, NULL);
                pthread_mutex_lock(&conns_lock);
                safe_close(c->fd);
                c->first = mfree_erase(c->first, c->first_len);
                *c = (Conn){.fd = -EBADF};
                pthread_mutex_unlock(&conns_lock);
        }
}

static void pending_drop(size_t i)
{
        Pending *p = &pending[i];

        safe_close(p->fd);
        free(p->frame);
        sodium_memzero(p, sizeof(*p));
        pending[i] = pending[--n_pending];
}

/* The first frame decrypted: give the connection a thread. */
static void pending_promote(size_t i, char *first, size_t first_len)
{
        Pending *p = &pending[i];
        Conn *c = NULL;
        uint8_t rd[TA_NONCE_SIZE], wr[TA_NONCE_SIZE];
        int fl;

        ta_nonce_merge(p->ours, p->theirs, rd);
        ta_nonce_merge(p->theirs, p->ours, wr);
        ta_nonce_increment(rd); /* the first frame was opened with it */
        conns_reap(false);
        pthread_mutex_lock(&conns_lock);
        for (size_t j = 0; j < ELEMENTSOF(conns) && !c; j++)
                if (!conns[j].used)
                        c = &conns[j];
        if (!c) {
                pthread_mutex_unlock(&conns_lock);
                log_warning("Console connection from %s: already %d console sessions, refusing "
                            "it.",
                            p->peer, TA_CONSOLE_CONNS_MAX);
                (void)send_frame(p->fd, server_rt->config.key, wr,
                                 "Error: too many console sessions\n", 33);
                free(mfree_erase(first, first_len));
                pending_drop(i);
                return;
        }
        *c = (Conn){
                .rt = server_rt, .fd = p->fd, .first = first, .first_len = first_len, .used = true};
        memcpy(c->peer, p->peer, sizeof(c->peer));
        memcpy(c->rd, rd, sizeof(rd));
        memcpy(c->wr, wr, sizeof(wr));
        fl = fcntl(c->fd, F_GETFL);
        if (fl >= 0)
                (void)fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
        (void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO,
                         &(struct timeval){.tv_sec = TA_CONSOLE_AUTH_USEC / 1000000ULL},
                         sizeof(struct timeval));
        (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO,
                         &(struct timeval){.tv_sec = TA_CONSOLE_AUTH_USEC / 1000000ULL},
                         sizeof(struct timeval));
        p->fd = -EBADF; /* now the Conn's */
        if (pthread_create(&c->thread, NULL, conn_thread, c) != 0) {
                safe_close(c->fd);
                c->first = mfree_erase(c->first, c->first_len);
                *c = (Conn){.fd = -EBADF};
                pthread_mutex_unlock(&conns_lock);
                log_error("Cannot start a console thread, closing the connection from %s.",
                          p->peer);
                pending_drop(i);
                return;
        }
        pthread_mutex_unlock(&conns_lock);
        log_info("Console connection from %s.", p->peer);
        pending_drop(i);
}

/* Reads what the connection sent; returns false when it was dropped or promoted. */
static bool pending_read(size_t i)
{
        Pending *p = &pending[i];
        uint8_t rd[TA_NONCE_SIZE];
        char *plain = NULL;
        size_t plain_len;
        ssize_t n;
        int r;

        for (;;) {
                uint8_t *dst;
                size_t want;

                if (p->got < TA_NONCE_SIZE) {
                        dst = p->theirs + p->got;
                        want = TA_NONCE_SIZE - p->got;
                } else if (p->got < TA_NONCE_SIZE + 2) {
                        dst = p->hdr + (p->got - TA_NONCE_SIZE);
                        want = TA_NONCE_SIZE + 2 - p->got;
                } else {
                        dst = p->frame + p->frame_got;
                        want = p->frame_len - p->frame_got;
                }
                n = want > 0 ? read(p->fd, dst, want) : 0;
                if (want > 0 && n < 0 && errno == EINTR)
                        continue;
                if (want > 0 && n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return true;
                if (want > 0 && n <= 0) {
                        pending_drop(i); /* closed before authenticating: nothing to say */
                        return false;
                }
                if (p->got < TA_NONCE_SIZE + 2) {
                        p->got += (size_t)n;
                        if (p->got == TA_NONCE_SIZE &&
                            write_full(p->fd, p->ours, sizeof(p->ours)) < 0) {
                                pending_drop(i);
                                return false;
                        }
                        if (p->got == TA_NONCE_SIZE + 2) {
                                p->frame_len = ((size_t)p->hdr[0] << 8) | p->hdr[1];
                                if (p->frame_len < crypto_secretbox_MACBYTES) {
                                        log_unauthenticated(p->peer, "not a console frame");
                                        pending_drop(i);
                                        return false;
                                }
                                p->frame = malloc(p->frame_len);
                                if (!p->frame) {
                                        pending_drop(i);
                                        return false;
                                }
                        }
                        continue;
                }
                p->frame_got += (size_t)n;
                if (p->frame_got < p->frame_len)
                        continue;
                ta_nonce_merge(p->ours, p->theirs, rd);
                r = ta_console_open(server_rt->config.key, rd, p->frame, p->frame_len, &plain,
                                    &plain_len);
                if (r == -EBADMSG) {
                        log_unauthenticated(p->peer, "cannot decrypt, wrong key?");
                        pending_drop(i);
                        return false;
                }
                if (r < 0) {
                        pending_drop(i);
                        return false;
                }
                pending_promote(i, plain, plain_len);
                return false;
        }
}

static void pending_add(int fd, const struct sockaddr *sa, socklen_t salen)
{
        Pending *p;
        TaAddr a;

        if (n_pending == TA_CONSOLE_PENDING_MAX) {
                size_t oldest = 0;

                for (size_t i = 1; i < n_pending; i++)
                        if (pending[i].deadline < pending[oldest].deadline)
                                oldest = i;
                log_unauthenticated(pending[oldest].peer,
                                    "too many unauthenticated connections, dropping the oldest");
                pending_drop(oldest);
        }
        p = &pending[n_pending++];
        *p = (Pending){.fd = fd, .deadline = now_usec() + TA_CONSOLE_AUTH_USEC};
        randombytes_buf(p->ours, sizeof(p->ours));
        if (ta_addr_from_sockaddr(sa, salen, &a) >= 0)
                ta_addr_to_string_port(&a, p->peer);
        else
                strcpy(p->peer, "?");
}

static void *accept_loop(void *userdata)
{
        for (;;) {
                struct pollfd p[2 + TA_CONSOLE_PENDING_MAX];
                uint64_t now = now_usec(), next = UINT64_MAX;
                size_t n = n_pending;
                int timeout;

                p[0] = (struct pollfd){.fd = server_fd, .events = POLLIN};
                p[1] = (struct pollfd){.fd = stop_pipe[0], .events = POLLIN};
                for (size_t i = 0; i < n; i++) {
                        p[2 + i] = (struct pollfd){.fd = pending[i].fd, .events = POLLIN};
                        next = MIN(next, pending[i].deadline);
                }
                /* Also wake up now and then to join the threads of ended sessions. */
                timeout = next == UINT64_MAX
                                  ? 1000
                                  : (int)MIN((next - MIN(next, now)) / 1000 + 1, 1000ULL);
                if (poll(p, 2 + n, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[1].revents)
                        break;
                /* back to front: dropping entry i moves the last one into it */
                now = now_usec();
                for (size_t i = n; i-- > 0;) {
                        if (p[2 + i].revents && !pending_read(i))
                                continue;
                        if (pending[i].deadline <= now) {
                                log_unauthenticated(pending[i].peer,
                                                    "no valid command within the time limit");
                                pending_drop(i);
                        }
                }
                if (p[0].revents) {
                        SockaddrUnion sa;
                        socklen_t salen = sizeof(sa);
                        int fd = accept4(server_fd, &sa.sa, &salen, SOCK_CLOEXEC | SOCK_NONBLOCK);

                        if (fd >= 0)
                                pending_add(fd, &sa.sa, salen);
                }
                conns_reap(false);
        }
        while (n_pending > 0)
                pending_drop(n_pending - 1);
        return NULL;
}

int ta_console_server_start(TaRuntime *rt, const char *addr)
{
        int r;

        if (!rt->config.key_set)
                return log_error_errno(ENOKEY,
                                       "controlSocket('%s') needs a key: add setKey() "
                                       "(makeKey() makes one).",
                                       addr);
        r = listen_open(addr, SOCK_STREAM, TA_DEFAULT_CONTROL_PORT);
        if (r < 0)
                return log_error_errno(r, "Cannot listen on console address '%s': %m", addr);
        server_fd = r;
        server_rt = rt;
        for (size_t i = 0; i < ELEMENTSOF(conns); i++)
                conns[i] = (Conn){.fd = -EBADF};
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
        /* Lua calls end at once now that the runtime is stopping; a session waiting for its
         * next command is woken by the shutdown(). */
        conns_reap(true);
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

typedef struct Client {
        const char *addr;
        const uint8_t *key;
        int fd;
        uint8_t rd[TA_NONCE_SIZE], wr[TA_NONCE_SIZE];
} Client;

/* Connects and exchanges nonces; prints the original's banner. */
static int client_open(Client *cl)
{
        uint8_t ours[TA_NONCE_SIZE], theirs[TA_NONCE_SIZE];
        int r;

        printf("Connecting to %s\n", cl->addr);
        fflush(stdout);
        cl->fd = client_connect(cl->addr);
        if (cl->fd < 0)
                return log_error_errno(cl->fd, "Cannot connect to the console at '%s': %m",
                                       cl->addr);
        randombytes_buf(ours, sizeof(ours));
        r = write_full(cl->fd, ours, sizeof(ours));
        if (r >= 0)
                r = read_full(cl->fd, theirs, sizeof(theirs));
        if (r < 0) {
                cl->fd = safe_close(cl->fd);
                return log_error_errno(r, "Console handshake with '%s' failed: %m", cl->addr);
        }
        ta_nonce_merge(ours, theirs, cl->rd);
        ta_nonce_merge(theirs, ours, cl->wr);
        return 0;
}

/* The server closes a session that stays idle, or that has not authenticated in time: then
 * the next command goes over a new connection. */
static bool client_closed(Client *cl)
{
        struct pollfd p = {.fd = cl->fd, .events = POLLIN};
        char c;

        if (cl->fd < 0)
                return true;
        if (poll(&p, 1, 0) <= 0)
                return false;
        return recv(cl->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

/* Prints the answer as the original did (followed by a newline); returns 1 when the answer
 * reports a failure ("Error: ..." or an unprintable object). */
static int client_command(Client *cl, const char *cmd)
{
        _cleanup_free_ char *resp = NULL;
        size_t len;
        int r;

        r = send_frame(cl->fd, cl->key, cl->wr, cmd, strlen(cmd));
        if (r < 0)
                return r;
        r = recv_frame(cl->fd, cl->key, cl->rd, &resp, &len);
        if (r < 0)
                return r;
        fwrite(resp, 1, len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        return strncmp(resp, "Error: ", 7) == 0 ||
               strncmp(resp, "Command returned an object", 26) == 0;
}

int ta_console_client(const char *addr, const uint8_t key[static 32], const char *command)
{
        Client cl = {.addr = addr, .key = key, .fd = -EBADF};
        int r;

        r = client_open(&cl);
        if (r < 0)
                return r;
        if (command) {
                r = client_command(&cl, command);
                safe_close(cl.fd);
                if (r < 0)
                        return log_error_errno(r, "Console command failed (wrong key?): %m");
                return r > 0 ? -EBADMSG : 0;
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
                        if (client_closed(&cl)) {
                                cl.fd = safe_close(cl.fd);
                                r = client_open(&cl);
                                if (r < 0)
                                        break;
                        }
                        r = client_command(&cl, line);
                        if (r < 0) {
                                log_error_errno(r, "Console connection lost (wrong key?): %m");
                                break;
                        }
                }
                lineedit_done(&le);
        }
        safe_close(cl.fd);
        return r < 0 ? r : 0;
}
