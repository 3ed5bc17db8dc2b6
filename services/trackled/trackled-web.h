/* trackled-web.h - the interface between trackled's HTTP plumbing (trackled-web.c: sockets,
 * login sessions, CSRF, limits, headers, the JSON API) and its HTML pages (one function each,
 * registered in trackled-web-routes.c).
 *
 * Before a page function runs, the plumbing has: decoded the path; read the body (size
 * limited); found the login session from the cookie; and for every method other than GET and
 * HEAD checked the CSRF token (form field WEB_CSRF_FIELD or header X-CSRF-Token) — a page never
 * sees a state-changing request without a valid token, nor a WEB_ROUTE_LOGIN page a request
 * without a login. After it, the plumbing adds Content-Security-Policy and the other security
 * headers to every response, and the cookies. Pages write HTML only through lib/html.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "html.h"
#include "trackled-config.h"
#include "trackled-store.h"

#define WEB_CSRF_FIELD "csrf" /* <input type="hidden" name="csrf" value="..."> in every form */
#define WEB_HEADERS_MAX 8

typedef struct WebRequest {
        const char *method; /* "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE" */
        const char *path;   /* decoded, starts with '/', without the query */
        const char *body;   /* NUL-terminated ("" when none) */
        size_t body_len;
        const char *content_type; /* may be NULL */
        const char *client;       /* the client's address as text */
        const char *user;         /* logged-in account name, NULL when anonymous */
        int64_t account;          /* its id, 0 when anonymous */
        bool admin;               /* logged in as a sysadmin (every account is one) */
        bool tls;
        /* The token for the forms of this response (the anonymous visitor's too). */
        const char *csrf_token;
        TrackledStore *store;
        const TrackledConfig *config;
        void *internal; /* trackled-web.c's, for web_arg() and web_header() */
} WebRequest;

typedef struct WebResponse {
        unsigned status;          /* 200 unless set */
        const char *content_type; /* "text/html; charset=utf-8" unless set (static string) */
        Html body;
        char *location;                 /* with a 3xx status; web_redirect() sets both */
        char *headers[WEB_HEADERS_MAX]; /* extra "Name: value" lines, malloc'ed */
        size_t n_headers;
} WebResponse;

/* A query argument (any method) or, in a POST/PUT/PATCH with an
 * application/x-www-form-urlencoded body, a form field; decoded; NULL when absent. A name
 * given both ways: the form field wins. */
const char *web_arg(const WebRequest *r, const char *name);
/* All values of a repeated argument (checkboxes); *ret_n of them; valid with the request. */
const char *const *web_args(const WebRequest *r, const char *name, size_t *ret_n);
/* A request header; NULL when absent. */
const char *web_header(const WebRequest *r, const char *name);

/* 303 See Other (after a POST) or another 3xx to location (a path on this site). */
int web_redirect(WebResponse *resp, unsigned status, const char *location);
/* An extra response header; -EINVAL for names or values with line breaks. */
int web_response_header(WebResponse *resp, const char *name, const char *value);
/* A plain error page with status (for 400, 403, 404 ...); message is text, escaped. */
int web_error(WebResponse *resp, unsigned status, const char *message);

/* A page: fills resp, returns 0 (or -errno: the plumbing answers 500 and logs it). */
typedef int (*WebPageFunc)(const WebRequest *req, WebResponse *resp);

typedef enum WebRouteFlags {
        WEB_ROUTE_PREFIX = 1 << 0, /* path starts with the route's path (ending in '/') */
        WEB_ROUTE_LOGIN = 1 << 1,  /* sysadmins only: anonymous visitors go to /login */
        WEB_ROUTE_POST = 1 << 2,   /* also takes POST (always after the CSRF check) */
} WebRouteFlags;

typedef struct WebRoute {
        const char *path; /* "/newticket", or with WEB_ROUTE_PREFIX "/ticket/" */
        WebPageFunc func;
        unsigned flags;
} WebRoute;

/* trackled-web-routes.c: the page table, searched in order; first match wins. /api/, /login
 * and /logout are the plumbing's and never reach it. */
extern const WebRoute web_routes[];
extern const size_t web_n_routes;

/* The pages (one file each, trackled-page-*.c). */
int web_page_index(const WebRequest *req, WebResponse *resp);
