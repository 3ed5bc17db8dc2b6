/* http.c - the HTTP server layer on libmicrohttpd: listeners, bodies, connection limits and
 * deadlines, either on libmicrohttpd's thread pools or inside an sd-event loop. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "http.h"
#include "log.h"
#include "macro.h"
#include "parse.h"

#define USEC_PER_SEC 1000000ULL
#define SWEEP_INTERVAL_USEC USEC_PER_SEC
#define PEM_MAX (1024 * 1024)

typedef struct HttpConn HttpConn;

typedef struct HttpListener {
        HttpServer *server;
        struct MHD_Daemon *daemon;
        int fd;
        char *cert_pem, *key_pem;
        sd_event_source *io, *timer;
} HttpListener;

/* Per connection, reused by each request on it. */
struct HttpConn {
        int fd;
        uint64_t deadline; /* CLOCK_MONOTONIC usec; 0: none (a response is on its way) */
        char *body;
        size_t len, allocated;
        uint64_t received;
        bool too_big, responded, oom;
        void *data;
        HttpConn *prev, *next;
};

struct HttpServer {
        HttpConfig config;
        HttpListener listeners[HTTP_LISTENERS_MAX];
        size_t n;
        struct MHD_Response *too_large;
        pthread_mutex_t lock; /* conns, deadlines, counters, stopping */
        pthread_cond_t wake;
        HttpConn *conns;
        HttpCounters counters;
        pthread_t sweeper;
        bool sweeper_started, stopping;
        sd_event_source *sweep_timer;
};

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static void conn_set_deadline(HttpServer *s, HttpConn *hc, unsigned sec)
{
        pthread_mutex_lock(&s->lock);
        hc->deadline = sec > 0 ? now_usec() + sec * USEC_PER_SEC : 0;
        pthread_mutex_unlock(&s->lock);
}

struct MHD_Response *http_response_new(const char *server, const char *ctype, const void *body,
                                       size_t len, bool copy)
{
        struct MHD_Response *resp;

        resp = MHD_create_response_from_buffer(
                len, (void *)(body ?: ""), copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
        if (!resp)
                return NULL;
        if ((ctype &&
             MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES) ||
            (server && MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, server) != MHD_YES)) {
                MHD_destroy_response(resp);
                return NULL;
        }
        return resp;
}

enum MHD_Result http_respond(struct MHD_Connection *c, const char *server, unsigned status,
                             const char *ctype, const void *body, size_t len, bool close)
{
        struct MHD_Response *resp = http_response_new(server, ctype, body, len, true);
        enum MHD_Result ret;

        if (!resp)
                return MHD_NO;
        if (close &&
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES) {
                MHD_destroy_response(resp);
                return MHD_NO;
        }
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

int http_peer(struct MHD_Connection *c, struct sockaddr_storage *ret, socklen_t *ret_len)
{
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa;

        if (!ci || !ci->client_addr)
                return -ENOTCONN;
        sa = ci->client_addr;
        if (sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

                if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
                        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = in6->sin6_port};

                        memcpy(&in.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
                        memcpy(ret, &in, sizeof(in));
                        *ret_len = sizeof(in);
                        return 0;
                }
                memcpy(ret, sa, sizeof(struct sockaddr_in6));
                *ret_len = sizeof(struct sockaddr_in6);
                return 0;
        }
        if (sa->sa_family != AF_INET)
                return -EAFNOSUPPORT;
        memcpy(ret, sa, sizeof(struct sockaddr_in));
        *ret_len = sizeof(struct sockaddr_in);
        return 0;
}

static int body_add(HttpConn *hc, const char *data, size_t n)
{
        if (hc->len + n + 1 > hc->allocated) {
                size_t want = MAX(hc->len + n + 1, MAX(hc->allocated * 2, (size_t)1024));
                char *p = realloc(hc->body, want);

                if (!p)
                        return -ENOMEM;
                hc->body = p;
                hc->allocated = want;
        }
        memcpy(hc->body + hc->len, data, n);
        hc->len += n;
        hc->body[hc->len] = '\0';
        return 0;
}

static void body_drop(HttpConn *hc)
{
        free(hc->body);
        hc->body = NULL;
        hc->len = hc->allocated = 0;
}

static enum MHD_Result too_large(HttpServer *s, struct MHD_Connection *c, HttpConn *hc)
{
        hc->responded = true;
        return MHD_queue_response(c, 413, s->too_large);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_size, void **con_cls)
{
        HttpServer *s = cls;
        const HttpLimits *lim = &s->config.limits;
        HttpConn *hc = *con_cls;
        HttpRequest req;

        if (!hc) {
                const union MHD_ConnectionInfo *ci =
                        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
                const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
                uint64_t len;

                hc = ci ? ci->socket_context : NULL;
                if (!hc)
                        return MHD_NO;
                *con_cls = hc;
                /* The head is complete: from now on the body has its own deadline. */
                conn_set_deadline(s, hc, lim->body_timeout_sec);
                if (cl && parse_uint64(cl, &len) >= 0 && len > lim->body_max) {
                        hc->too_big = true;
                        /* A client that sends the body before reading would see a reset if we
                         * answered now; read and drop a moderate excess, answer early beyond. */
                        if (len > lim->body_discard_max)
                                return too_large(s, c, hc);
                }
                return MHD_YES;
        }
        if (*upload_size > 0) {
                size_t n = *upload_size;

                *upload_size = 0;
                if (hc->responded)
                        return MHD_YES;
                hc->received += n;
                if (hc->received > lim->body_max) {
                        hc->too_big = true;
                        body_drop(hc);
                        if (hc->received > lim->body_discard_max)
                                return too_large(s, c, hc);
                        return MHD_YES;
                }
                if (!hc->too_big && body_add(hc, upload_data, n) < 0)
                        return MHD_NO;
                return MHD_YES;
        }
        if (hc->responded)
                return MHD_YES;
        hc->responded = true;
        conn_set_deadline(s, hc, 0);
        if (hc->too_big)
                return too_large(s, c, hc);
        if (!hc->body && body_add(hc, "", 0) < 0)
                return MHD_NO;
        req = (HttpRequest){
                .connection = c,
                .url = url,
                .method = method,
                .body = hc->body,
                .body_len = hc->len,
                .conn_data = hc->data,
        };
        return s->config.handler(s->config.userdata, &req);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        HttpServer *s = cls;
        HttpConn *hc = *con_cls;

        if (!hc)
                return;
        if (hc->allocated > HTTP_BODY_KEEP_MAX)
                body_drop(hc);
        hc->len = 0;
        hc->received = 0;
        hc->too_big = hc->responded = false;
        if (s->config.request_done && hc->data)
                s->config.request_done(s->config.userdata, hc->data);
        conn_set_deadline(s, hc, s->config.limits.keepalive_timeout_sec);
        *con_cls = NULL;
}

static void sweep_timer_arm(HttpServer *s)
{
        int enabled = SD_EVENT_OFF;

        if (!s->sweep_timer)
                return;
        if (sd_event_source_get_enabled(s->sweep_timer, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return;
        (void)sd_event_source_set_time_relative(s->sweep_timer, SWEEP_INTERVAL_USEC);
        (void)sd_event_source_set_enabled(s->sweep_timer, SD_EVENT_ONESHOT);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
        HttpServer *s = cls;
        HttpConn *hc;

        if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *ci =
                        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

                /* A failed allocation leaves no context: the connection's requests then get
                 * MHD_NO (the connection is closed). */
                hc = calloc(1, sizeof(*hc));
                if (!hc)
                        return;
                hc->fd = ci ? ci->connect_fd : -EBADF;
                if (s->config.conn_new) {
                        hc->data = s->config.conn_new(s->config.userdata);
                        if (!hc->data) {
                                free(hc);
                                return;
                        }
                }
                pthread_mutex_lock(&s->lock);
                hc->deadline =
                        s->config.limits.head_timeout_sec > 0
                                ? now_usec() + s->config.limits.head_timeout_sec * USEC_PER_SEC
                                : 0;
                hc->next = s->conns;
                if (s->conns)
                        s->conns->prev = hc;
                s->conns = hc;
                s->counters.active++;
                pthread_mutex_unlock(&s->lock);
                *socket_context = hc;
                sweep_timer_arm(s);
                return;
        }
        hc = *socket_context;
        if (!hc)
                return;
        /* libmicrohttpd tells before it closes the socket: once unlinked here, the sweep can
         * no longer shut down an fd number that was reused meanwhile. */
        pthread_mutex_lock(&s->lock);
        if (hc->prev)
                hc->prev->next = hc->next;
        else
                s->conns = hc->next;
        if (hc->next)
                hc->next->prev = hc->prev;
        s->counters.active--;
        pthread_mutex_unlock(&s->lock);
        if (s->config.conn_free && hc->data)
                s->config.conn_free(s->config.userdata, hc->data);
        free(hc->body);
        free(hc);
        *socket_context = NULL;
}

void http_server_sweep(HttpServer *s)
{
        uint64_t now = now_usec();

        pthread_mutex_lock(&s->lock);
        for (HttpConn *hc = s->conns; hc; hc = hc->next)
                if (hc->deadline > 0 && hc->deadline <= now && hc->fd >= 0) {
                        /* libmicrohttpd sees the end of the stream and closes the connection
                         * in its own thread; its inactivity timeout alone lets a client that
                         * sends a byte now and then keep a connection for ever. */
                        (void)shutdown(hc->fd, SHUT_RDWR);
                        hc->deadline = 0;
                        s->counters.timed_out++;
                }
        pthread_mutex_unlock(&s->lock);
}

static void *sweeper_main(void *userdata)
{
        HttpServer *s = userdata;
        struct timespec ts;

        pthread_mutex_lock(&s->lock);
        while (!s->stopping) {
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_sec += 1;
                (void)pthread_cond_timedwait(&s->wake, &s->lock, &ts);
                if (s->stopping)
                        break;
                pthread_mutex_unlock(&s->lock);
                http_server_sweep(s);
                pthread_mutex_lock(&s->lock);
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

static int on_sweep_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        HttpServer *s = userdata;
        bool any;

        http_server_sweep(s);
        pthread_mutex_lock(&s->lock);
        any = s->conns != NULL;
        pthread_mutex_unlock(&s->lock);
        if (any)
                sweep_timer_arm(s);
        return 0;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
        HttpServer *s = cls;

        if (!s->config.accept_policy || s->config.accept_policy(s->config.userdata, addr, addrlen))
                return MHD_YES;
        pthread_mutex_lock(&s->lock);
        s->counters.refused++;
        pthread_mutex_unlock(&s->lock);
        return MHD_NO;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
        char msg[512];
        size_t n;

        vsnprintf(msg, sizeof(msg), fmt, ap);
        n = strlen(msg);
        while (n > 0 && msg[n - 1] == '\n')
                msg[--n] = '\0';
        log_debug("libmicrohttpd: %s", msg);
}

int http_read_pem(const char *path, char **ret)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t got = 0;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        buf = malloc(PEM_MAX + 1);
        if (!buf)
                return -ENOMEM;
        while (got < PEM_MAX) {
                n = read(fd, buf + got, PEM_MAX - got);
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        buf[got] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static void listener_rearm(HttpListener *l)
{
        MHD_UNSIGNED_LONG_LONG ms;

        if (!l->timer)
                return;
        if (MHD_get_timeout(l->daemon, &ms) != MHD_YES) {
                (void)sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
                return;
        }
        (void)sd_event_source_set_time_relative(l->timer, (uint64_t)ms * 1000);
        (void)sd_event_source_set_enabled(l->timer, SD_EVENT_ONESHOT);
}

static int on_listener_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        HttpListener *l = userdata;

        (void)MHD_run(l->daemon);
        listener_rearm(l);
        return 0;
}

static int on_listener_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        HttpListener *l = userdata;

        (void)MHD_run(l->daemon);
        listener_rearm(l);
        return 0;
}

static int listener_attach(HttpServer *s, HttpListener *l)
{
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_EPOLL_FD);
        int r;

        if (!di)
                return -EIO;
        r = sd_event_add_io(s->config.event, &l->io, di->epoll_fd, EPOLLIN, on_listener_io, l);
        if (r < 0)
                return r;
        /* Accuracy 1 µs: libmicrohttpd asks for 0 when it holds data read but not yet
         * processed, and sd-event's default of 250 ms would stretch a large body to minutes. */
        r = sd_event_add_time_relative(s->config.event, &l->timer, CLOCK_MONOTONIC, 0, 1,
                                       on_listener_timer, l);
        if (r < 0)
                return r;
        listener_rearm(l);
        return 0;
}

int http_server_add_listener(HttpServer *s, int fd, const char *cert_pem, const char *key_pem,
                             const char *priorities)
{
        const HttpLimits *lim = &s->config.limits;
        HttpListener *l;
        unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
        int fl, r;

        if (s->n >= HTTP_LISTENERS_MAX) {
                safe_close(fd);
                return -E2BIG;
        }
        if (cert_pem && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
                safe_close(fd);
                return -EOPNOTSUPP;
        }
        l = &s->listeners[s->n];
        *l = (HttpListener){.server = s, .fd = fd};
        fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
                (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        /* MHD_USE_ITC: without it MHD_stop_daemon() wakes its threads with shutdown() on the
         * listening socket, which is systemd's too: a .socket unit died with it. */
        if (s->config.threads > 0)
                flags |= MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TURBO | MHD_USE_ITC;
        if (cert_pem) {
                l->cert_pem = strdup(cert_pem);
                l->key_pem = strdup(key_pem ?: "");
                if (!l->cert_pem || !l->key_pem) {
                        r = -ENOMEM;
                        goto fail;
                }
                flags |= MHD_USE_TLS;
        }
        {
                /* The logger first, so that it sees the messages about the other options. */
                struct MHD_OptionItem opts[16] = {
                        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, NULL},
                        {MHD_OPTION_LISTEN_SOCKET, fd, NULL},
                        {MHD_OPTION_CONNECTION_LIMIT, lim->connections_max, NULL},
                        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim->connections_per_client, NULL},
                        {MHD_OPTION_CONNECTION_TIMEOUT, lim->keepalive_timeout_sec, NULL},
                        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)lim->connection_memory,
                         NULL},
                        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
                        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s},
                };
                size_t n = 8;

                /* Without threads no pool: libmicrohttpd warns even about one of size 1. */
                if (s->config.threads > 0)
                        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
                                                            s->config.threads, NULL};
                if (l->cert_pem) {
                        opts[n++] =
                                (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, l->cert_pem};
                        opts[n++] =
                                (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, l->key_pem};
                        if (priorities)
                                opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                                                    (void *)priorities};
                }
                opts[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
                l->daemon = MHD_start_daemon(flags, 0, on_accept, s, on_access, s, MHD_OPTION_ARRAY,
                                             opts, MHD_OPTION_END);
        }
        if (!l->daemon) {
                r = -EIO;
                goto fail;
        }
        s->n++;
        if (s->config.threads == 0) {
                r = listener_attach(s, l);
                if (r < 0)
                        return r; /* torn down with the server */
        }
        return 0;
fail:
        safe_close(fd);
        free(l->cert_pem);
        free(l->key_pem);
        *l = (HttpListener){.fd = -EBADF};
        return r;
}

int http_server_new(const HttpConfig *config, HttpServer **ret)
{
        _cleanup_free_ HttpServer *s = NULL;
        HttpLimits *lim;
        int r;

        assert(config->handler);
        assert(config->threads > 0 || config->event);
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->config = *config;
        lim = &s->config.limits;
        if (lim->connections_max == 0)
                lim->connections_max = 1000;
        if (lim->connection_memory == 0)
                lim->connection_memory = 16 * 1024;
        if (lim->body_discard_max < lim->body_max)
                lim->body_discard_max = lim->body_max;
        s->too_large = http_response_new(config->server, config->too_large_type ?: "text/plain",
                                         config->too_large_body ?: "Request body too large\n",
                                         strlen(config->too_large_body
                                                        ?: "Request body too "
                                                           "large\n"),
                                         false);
        if (!s->too_large)
                return -ENOMEM;
        if (MHD_add_response_header(s->too_large, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES) {
                MHD_destroy_response(s->too_large);
                return -ENOMEM;
        }
        pthread_mutex_init(&s->lock, NULL);
        {
                pthread_condattr_t ca;

                pthread_condattr_init(&ca);
                pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
                pthread_cond_init(&s->wake, &ca);
                pthread_condattr_destroy(&ca);
        }
        if (config->threads > 0) {
                r = -pthread_create(&s->sweeper, NULL, sweeper_main, s);
                if (r < 0) {
                        http_server_free(TAKE_PTR(s));
                        return r;
                }
                s->sweeper_started = true;
        } else {
                r = sd_event_add_time_relative(config->event, &s->sweep_timer, CLOCK_MONOTONIC,
                                               SWEEP_INTERVAL_USEC, 0, on_sweep_timer, s);
                if (r >= 0)
                        r = sd_event_source_set_enabled(s->sweep_timer, SD_EVENT_OFF);
                if (r < 0) {
                        http_server_free(TAKE_PTR(s));
                        return r;
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

HttpServer *http_server_free(HttpServer *s)
{
        if (!s)
                return NULL;
        if (s->sweeper_started) {
                pthread_mutex_lock(&s->lock);
                s->stopping = true;
                pthread_cond_signal(&s->wake);
                pthread_mutex_unlock(&s->lock);
                pthread_join(s->sweeper, NULL);
        }
        for (size_t i = 0; i < s->n; i++) {
                HttpListener *l = &s->listeners[i];

                l->io = sd_event_source_disable_unref(l->io);
                l->timer = sd_event_source_disable_unref(l->timer);
                /* Quiesced first, libmicrohttpd neither shuts down nor closes the socket: it
                 * is closed here, once, after the threads are gone. */
                (void)MHD_quiesce_daemon(l->daemon);
                MHD_stop_daemon(l->daemon);
                safe_close(l->fd);
                free(l->cert_pem);
                free(l->key_pem);
        }
        s->sweep_timer = sd_event_source_disable_unref(s->sweep_timer);
        if (s->too_large)
                MHD_destroy_response(s->too_large);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
}

size_t http_server_n_listeners(HttpServer *s)
{
        return s->n;
}

void http_server_counters(HttpServer *s, HttpCounters *ret)
{
        pthread_mutex_lock(&s->lock);
        *ret = s->counters;
        pthread_mutex_unlock(&s->lock);
}
