/* http.h - the HTTP server layer of trackalert and trackled on libmicrohttpd: listeners (passed
 * or opened, TLS optional), request bodies with a limit, and limits against slow or numerous
 * clients (connections in total and per client address, deadlines for the request head and
 * body, a policy applied at accept). Routing, authentication and pages are the callers'. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <systemd/sd-event.h>

#define HTTP_LISTENERS_MAX 16
/* A body buffer that grew for one big request is not kept for the connection's life. */
#define HTTP_BODY_KEEP_MAX (64 * 1024)

typedef struct HttpServer HttpServer;

/* One complete request: the head is parsed and the body (up to HttpLimits.body_max) read. */
typedef struct HttpRequest {
        struct MHD_Connection *connection;
        const char *url; /* decoded path, without the query */
        const char *method;
        char *body; /* NUL-terminated and writable (parsers may decode in place), never NULL */
        size_t body_len;
        void *conn_data; /* HttpConfig.conn_new's object for this connection, or NULL */
} HttpRequest;

/* Queues a response (or returns MHD_NO to close the connection). */
typedef enum MHD_Result (*HttpHandler)(void *userdata, const HttpRequest *req);

typedef struct HttpLimits {
        unsigned connections_max;        /* per listener; 0: 1000 */
        unsigned connections_per_client; /* per client address and listener; 0: no limit */
        /* From accept to the end of the first request's head (request line and headers). */
        unsigned head_timeout_sec;
        /* After a response, for the next request's head on the same connection; also
         * libmicrohttpd's inactivity timeout. */
        unsigned keepalive_timeout_sec;
        /* From the end of the head to the end of the body. */
        unsigned body_timeout_sec;
        size_t body_max;          /* larger bodies are answered 413 */
        size_t body_discard_max;  /* up to this, an excess body is read and dropped first */
        size_t connection_memory; /* libmicrohttpd's per-connection buffer (head size bound) */
} HttpLimits;

typedef struct HttpConfig {
        HttpHandler handler;
        void *userdata;
        /* Optional per-connection object (reused by each request on it). */
        void *(*conn_new)(void *userdata);
        void (*conn_free)(void *userdata, void *conn_data);
        void (*request_done)(void *userdata, void *conn_data);
        /* Optional: called at accept with the peer, before a byte is read; false closes it. */
        bool (*accept_policy)(void *userdata, const struct sockaddr *sa, socklen_t len);
        /* > 0: each listener runs its own pool of this many threads. 0: everything runs in
         * event's loop (thread-free: the handler may use single-threaded state). */
        unsigned threads;
        sd_event *event;
        const char *server;         /* Server: header of our own answers */
        const char *too_large_type; /* the 413 answer */
        const char *too_large_body;
        HttpLimits limits;
} HttpConfig;

typedef struct HttpCounters {
        uint64_t active;    /* open connections */
        uint64_t refused;   /* closed at accept by accept_policy */
        uint64_t timed_out; /* closed because a head or body deadline passed */
} HttpCounters;

/* Copies config (the strings must outlive the server). */
int http_server_new(const HttpConfig *config, HttpServer **ret);
/* Serve on fd (a listening stream socket; owned by the server from now on, even on failure).
 * With cert_pem and key_pem (PEM text, not paths) over TLS. -EOPNOTSUPP: no TLS support. */
int http_server_add_listener(HttpServer *s, int fd, const char *cert_pem, const char *key_pem,
                             const char *priorities);
HttpServer *http_server_free(HttpServer *s);
size_t http_server_n_listeners(HttpServer *s);
void http_server_counters(HttpServer *s, HttpCounters *ret);
/* Close connections whose deadline passed; called once a second by the server itself. */
void http_server_sweep(HttpServer *s);

/* Reads a PEM file (at most 1 MiB) into a NUL-terminated string. */
int http_read_pem(const char *path, char **ret);

/* The request's peer; the address of an IPv4-mapped IPv6 peer is returned as AF_INET. */
int http_peer(struct MHD_Connection *c, struct sockaddr_storage *ret, socklen_t *ret_len);
/* A response carrying Server: and Content-Type:; copy=false needs body to outlive it. */
struct MHD_Response *http_response_new(const char *server, const char *ctype, const void *body,
                                       size_t len, bool copy);
/* Queue status with the body copied (and the response released). */
enum MHD_Result http_respond(struct MHD_Connection *c, const char *server, unsigned status,
                             const char *ctype, const void *body, size_t len, bool close);
