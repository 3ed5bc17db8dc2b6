/* trackalert-http.h - the REST API on lib/http: routing, ACL, Basic auth. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "trackalert-runtime.h"

#define TA_HTTP_FDS_MAX 16
#define TA_HTTP_TIMEOUT_SEC 30 /* idle keep-alive connections */
/* The whole request head (line and headers) must arrive within this from accept, the body
 * within TA_HTTP_BODY_TIMEOUT_SEC after it, however steadily a client trickles bytes. */
#define TA_HTTP_HEAD_TIMEOUT_SEC 10
#define TA_HTTP_BODY_TIMEOUT_SEC 60
/* libmicrohttpd's per-connection memory for the request line, headers and read buffer. It
 * clears the whole of it after each request, so the default 32 KiB costs more than it buys:
 * 16 KiB still takes headers of about 12 KiB (larger ones get 431). */
#ifndef TA_HTTP_CONN_MEMORY
#define TA_HTTP_CONN_MEMORY (16 * 1024)
#endif
/* Over TA_BODY_MAX a body is read and dropped up to this size, then the connection closes. */
#define TA_BODY_DISCARD_MAX (8 * 1024 * 1024)

typedef struct TaHttp TaHttp;

/* Serve on the passed fds (socket activation, taken over) or, with none, on the configured
 * listeners, or on TA_DEFAULT_HTTP. */
int ta_http_new(TaRuntime *rt, const int *fds, size_t n_fds, TaHttp **ret);
TaHttp *ta_http_free(TaHttp *h);
uint64_t ta_http_active_connections(TaHttp *h);
size_t ta_http_n_listeners(TaHttp *h);
/* Connections one client address may hold at once: a tenth of setMaxWebserverConns(). */
unsigned ta_http_per_client(unsigned max_conns);
