/* trackled-web.c - trackled's web: HTTP on lib/http inside trackled's sd-event loop (so the
 * database keeps one writer), login sessions, CSRF, security headers, rate limits, dispatch to
 * the JSON API and to the pages of the route table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <sodium.h>

#include "http.h"
#include "log.h"
#include "macro.h"
#include "trackled-account.h"
#include "trackled-mail.h"
#include "trackled-page.h"
#include "trackled-web-internal.h"

#define CT_HTML "text/html; charset=utf-8"
#define RATE_SLOTS 4096
#define RATE_PROBE 8

/* Scripts never run (not even our own: there are none), styles only from our stylesheet,
 * forms only to us, and no framing. */
#define WEB_CSP                                                                                    \
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "               \
        "frame-ancestors 'none'; base-uri 'none'"

typedef struct RateSlot {
        uint64_t key;
        int64_t window_start;
        unsigned count;
} RateSlot;

struct TrackledWeb {
        HttpServer *http;
        const TrackledConfig *config;
        TrackledStore *store;
        TrackledMail *mail;
        bool tls;
        uint8_t rate_key[crypto_shorthash_KEYBYTES];
        char *dummy_hash; /* checked for unknown names, so that they take as long */
        RateSlot rate[RATE_SLOTS];
};

typedef struct WebInternal {
        TrackledWeb *web;
        struct MHD_Connection *c;
        WebArg form[WEB_FORM_FIELDS_MAX];
        size_t n_form;
        char *form_text;
        const char *values[WEB_FORM_FIELDS_MAX]; /* web_args() */
} WebInternal;

TrackledWeb *web_of(const WebRequest *req)
{
        return ((WebInternal *)req->internal)->web;
}

TrackledMail *web_mail(TrackledWeb *w)
{
        return w->mail;
}

bool web_rate_check(TrackledWeb *w, WebRateKind kind, const char *key, unsigned limit,
                    unsigned window_sec, bool add)
{
        int64_t now = trackled_store_now(w->store);
        uint8_t h[crypto_shorthash_BYTES];
        uint8_t buf[1 + 256];
        size_t n = MIN(strlen(key), sizeof(buf) - 1);
        RateSlot *slot = NULL, *oldest = NULL;
        uint64_t k;

        buf[0] = (uint8_t)kind;
        memcpy(buf + 1, key, n);
        /* Keyed, so that nobody can aim at one slot with chosen keys. */
        crypto_shorthash(h, buf, n + 1, w->rate_key);
        memcpy(&k, h, sizeof(k));
        k |= 1; /* 0 marks a free slot */
        for (size_t i = 0; i < RATE_PROBE; i++) {
                RateSlot *s = &w->rate[(k + i) % RATE_SLOTS];

                if (s->key == k) {
                        slot = s;
                        break;
                }
                if (!oldest ||
                    (oldest->key != 0 && (s->key == 0 || s->window_start < oldest->window_start)))
                        oldest = s;
        }
        if (!slot) {
                if (!add)
                        return true;
                slot = oldest;
                *slot = (RateSlot){.key = k, .window_start = now};
        }
        if (now - slot->window_start >= (int64_t)window_sec) {
                slot->window_start = now;
                slot->count = 0;
        }
        if (slot->count >= limit)
                return false;
        if (add)
                slot->count++;
        return true;
}

static int hex_val(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int web_form_parse(char *text, size_t len, WebArg *args, size_t max, size_t *ret_n)
{
        size_t n = 0, i = 0;

        if (memchr(text, '\0', len))
                return -EINVAL;
        while (i < len) {
                char *field = text + i, *end = memchr(field, '&', len - i), *eq, *out;
                size_t flen = end ? (size_t)(end - field) : len - i;

                i += flen + 1;
                if (flen == 0)
                        continue;
                if (n >= max)
                        return -E2BIG;
                field[flen] = '\0';
                eq = strchr(field, '=');
                if (eq)
                        *eq = '\0';
                args[n].name = field;
                args[n].value = eq ? eq + 1 : field + flen; /* "" */
                for (int part = 0; part < 2; part++) {
                        char *p = part == 0 ? args[n].name : args[n].value;

                        for (out = p; *p; p++) {
                                if (*p == '+')
                                        *out++ = ' ';
                                else if (*p == '%') {
                                        int hi, lo;

                                        if (!p[1] || !p[2] || (hi = hex_val(p[1])) < 0 ||
                                            (lo = hex_val(p[2])) < 0 || (hi | lo) == 0)
                                                return -EINVAL;
                                        *out++ = (char)(hi << 4 | lo);
                                        p += 2;
                                } else
                                        *out++ = *p;
                        }
                        *out = '\0';
                }
                n++;
        }
        *ret_n = n;
        return 0;
}

const char *web_arg(const WebRequest *r, const char *name)
{
        WebInternal *in = r->internal;

        for (size_t i = 0; i < in->n_form; i++)
                if (streq(in->form[i].name, name))
                        return in->form[i].value;
        return in->c ? MHD_lookup_connection_value(in->c, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

const char *const *web_args(const WebRequest *r, const char *name, size_t *ret_n)
{
        WebInternal *in = r->internal;
        size_t n = 0;

        for (size_t i = 0; i < in->n_form; i++)
                if (streq(in->form[i].name, name))
                        in->values[n++] = in->form[i].value;
        if (n == 0) {
                const char *v = web_arg(r, name);

                if (v)
                        in->values[n++] = v;
        }
        *ret_n = n;
        return in->values;
}

const char *web_header(const WebRequest *r, const char *name)
{
        WebInternal *in = r->internal;

        return in->c ? MHD_lookup_connection_value(in->c, MHD_HEADER_KIND, name) : NULL;
}

static bool header_text_ok(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < ' ' || *s == 0x7f)
                        return false;
        return true;
}

int web_response_header(WebResponse *resp, const char *name, const char *value)
{
        char *line;

        if (!header_text_ok(name) || !header_text_ok(value) || strchr(name, ':'))
                return -EINVAL;
        if (resp->n_headers >= WEB_HEADERS_MAX)
                return -E2BIG;
        if (asprintf(&line, "%s: %s", name, value) < 0)
                return -ENOMEM;
        resp->headers[resp->n_headers++] = line;
        return 0;
}

int web_redirect(WebResponse *resp, unsigned status, const char *location)
{
        char *l;

        if (!header_text_ok(location) || location[0] != '/' || location[1] == '/' ||
            location[1] == '\\')
                return -EINVAL; /* only paths of this site: no open redirect */
        l = strdup(location);
        if (!l)
                return -ENOMEM;
        free(resp->location);
        resp->location = l;
        resp->status = status;
        return 0;
}

int web_error(WebResponse *resp, unsigned status, const char *message)
{
        html_done(&resp->body);
        resp->status = status;
        resp->content_type = CT_HTML;
        html_raw(&resp->body, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                              "<title>trackle: error</title>"
                              "<link rel=\"stylesheet\" href=\"/style.css\"></head><body>"
                              "<h1>Error</h1><p>");
        html_txt(&resp->body, message);
        html_raw(&resp->body, "</p></body></html>\n");
        return html_error(&resp->body);
}

static void response_done(WebResponse *resp)
{
        html_done(&resp->body);
        free(resp->location);
        for (size_t i = 0; i < resp->n_headers; i++)
                free(resp->headers[i]);
        *resp = (WebResponse){};
}

static void cookie_header(TrackledWeb *w, WebResponse *resp, const char *name, const char *value,
                          long max_age)
{
        char line[256];

        snprintf(line, sizeof(line), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s; Max-Age=%ld",
                 name, value, w->tls ? "; Secure" : "", max_age);
        (void)web_response_header(resp, "Set-Cookie", line);
}

int web_login_start(TrackledWeb *w, const WebRequest *req, WebResponse *resp, const char *user,
                    const char *password, char ret_csrf[65])
{
        _cleanup_free_ char *hash = NULL;
        char token[WEB_TOKEN_HEX];
        int64_t id = 0;
        bool ok;
        int r;

        /* Throttled per account and per client before the password is even looked at, so
         * that a guesser learns nothing from the limit's answers. */
        if (!web_rate_check(w, RATE_LOGIN_ACCOUNT, user, WEB_LOGIN_FAILS_PER_ACCOUNT,
                            WEB_LOGIN_WINDOW_SEC, false) ||
            !web_rate_check(w, RATE_LOGIN_CLIENT, req->client, WEB_LOGIN_FAILS_PER_CLIENT,
                            WEB_LOGIN_WINDOW_SEC, false))
                return -EBUSY;
        r = account_get(w->store, user, &id, &hash, NULL);
        if (r < 0 && r != -ENOENT)
                return r;
        /* An unknown name costs a hash too: its answer time tells nothing. */
        ok = account_password_ok(password, r >= 0 ? hash : w->dummy_hash);
        if (!ok || r < 0) {
                (void)web_rate_check(w, RATE_LOGIN_ACCOUNT, user, WEB_LOGIN_FAILS_PER_ACCOUNT,
                                     WEB_LOGIN_WINDOW_SEC, true);
                (void)web_rate_check(w, RATE_LOGIN_CLIENT, req->client, WEB_LOGIN_FAILS_PER_CLIENT,
                                     WEB_LOGIN_WINDOW_SEC, true);
                log_notice("Web login as '%s' from %s failed.", user, req->client);
                return -EACCES;
        }
        web_token_new(token);
        r = websession_new(w->store, id, token);
        if (r < 0)
                return r;
        cookie_header(w, resp, WEB_SESSION_COOKIE, token, WEB_SESSION_LIFETIME_SEC);
        web_csrf_of(token, ret_csrf);
        log_info("Web login as '%s' from %s.", user, req->client);
        return 0;
}

static void login_form(const WebRequest *req, WebResponse *resp, const char *message)
{
        Html *h = &resp->body;

        resp->content_type = CT_HTML;
        page_begin(req, resp, "Login", "login");
        html_raw(h, "<h1>Login</h1>");
        if (message)
                html_printf(h, "<p class=\"error\">%s</p>", message);
        page_form_begin(req, h, "/login", "login");
        html_raw(h, "<label>User <input name=\"user\" autocomplete=\"username\" required>"
                    "</label> <label>Password <input type=\"password\" name=\"password\" "
                    "autocomplete=\"current-password\" required></label> "
                    "<button type=\"submit\">Login</button>");
        page_form_end(h);
        page_end(req, resp);
}

static int page_login(TrackledWeb *w, const WebRequest *req, WebResponse *resp)
{
        const char *user, *password;
        char csrf[WEB_TOKEN_HEX];
        int r;

        if (streq(req->method, "GET") || streq(req->method, "HEAD")) {
                if (req->user)
                        return web_redirect(resp, 303, "/");
                login_form(req, resp, NULL);
                return 0;
        }
        user = web_arg(req, "user");
        password = web_arg(req, "password");
        if (!user || !password || strlen(password) > ACCOUNT_PASSWORD_MAX) {
                resp->status = 400;
                login_form(req, resp, "User and password are needed.");
                return 0;
        }
        r = web_login_start(w, req, resp, user, password, csrf);
        if (r == -EBUSY) {
                resp->status = 429;
                login_form(req, resp, "Too many failed logins; try again later.");
                return 0;
        }
        if (r == -EACCES) {
                resp->status = 403;
                login_form(req, resp, "Wrong user or password.");
                return 0;
        }
        if (r < 0)
                return r;
        return web_redirect(resp, 303, "/");
}

static int page_logout(TrackledWeb *w, const WebRequest *req, WebResponse *resp)
{
        WebInternal *in = req->internal;
        const char *token = MHD_lookup_connection_value(in->c, MHD_COOKIE_KIND, WEB_SESSION_COOKIE);

        if (streq(req->method, "GET") || streq(req->method, "HEAD")) {
                Html *h = &resp->body;

                /* Logging out changes state: a form with the token, not a link. */
                page_begin(req, resp, "Logout", NULL);
                page_form_begin(req, h, "/logout", NULL);
                html_raw(h, "<button type=\"submit\">Logout</button>");
                page_form_end(h);
                page_end(req, resp);
                return 0;
        }
        if (token)
                (void)websession_del(w->store, token);
        cookie_header(w, resp, WEB_SESSION_COOKIE, "", 0);
        return web_redirect(resp, 303, "/");
}

static const WebRoute *route_find(const char *path)
{
        for (size_t i = 0; i < web_n_routes; i++) {
                const WebRoute *r = &web_routes[i];

                if (r->flags & WEB_ROUTE_PREFIX ? strncmp(path, r->path, strlen(r->path)) == 0
                                                : streq(path, r->path))
                        return r;
        }
        return NULL;
}

static bool method_safe(const char *m)
{
        return streq(m, "GET") || streq(m, "HEAD");
}

static int dispatch(TrackledWeb *w, WebRequest *req, WebResponse *resp, bool has_cookie)
{
        const char *sent;
        const WebRoute *route;

        if (strncmp(req->path, "/api/", 5) == 0)
                return web_api(w, req, resp);
        /* Forms post from our own pages, which always carry the token. */
        if (!method_safe(req->method)) {
                sent = web_arg(req, WEB_CSRF_FIELD) ?: web_header(req, "X-CSRF-Token");
                if (!has_cookie || !web_token_equal(sent, req->csrf_token))
                        return web_error(resp, 403,
                                         "The form is out of date or did not come from this "
                                         "site (CSRF token missing or wrong); reload the page "
                                         "and send it again.");
        }
        if (streq(req->path, "/login"))
                return page_login(w, req, resp);
        if (streq(req->path, "/logout"))
                return page_logout(w, req, resp);
        if (streq(req->path, "/subscribe"))
                return web_subscribe(w, req, resp);
        if (strncmp(req->path, "/confirm/", 9) == 0)
                return web_confirm(w, req, resp);
        route = route_find(req->path);
        if (!route)
                return web_error(resp, 404, "No such page.");
        if (!method_safe(req->method) &&
            !(route->flags & WEB_ROUTE_POST && streq(req->method, "POST"))) {
                (void)web_response_header(resp, "Allow",
                                          route->flags & WEB_ROUTE_POST ? "GET, HEAD, POST"
                                                                        : "GET, HEAD");
                return web_error(resp, 405, "Method not allowed.");
        }
        if (route->flags & WEB_ROUTE_LOGIN && !req->user)
                return web_redirect(resp, 303, "/login");
        return route->func(req, resp);
}

static enum MHD_Result queue(TrackledWeb *w, struct MHD_Connection *c, WebResponse *resp,
                             bool private)
{
        struct MHD_Response *m;
        enum MHD_Result ret;
        bool has_cache = false;
        size_t len = 0;
        char *body;

        if (html_error(&resp->body) < 0) {
                response_done(resp);
                (void)web_error(resp, 500, "Out of memory.");
        }
        body = html_steal(&resp->body, &len);
        m = MHD_create_response_from_buffer(len, body ?: (char *)"",
                                            body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!m) {
                free(body);
                return MHD_NO;
        }
        (void)MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE,
                                      resp->content_type ?: CT_HTML);
        (void)MHD_add_response_header(m, MHD_HTTP_HEADER_SERVER, "trackled");
        (void)MHD_add_response_header(m, "Content-Security-Policy", WEB_CSP);
        (void)MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
        (void)MHD_add_response_header(m, "X-Frame-Options", "DENY");
        (void)MHD_add_response_header(m, "Referrer-Policy", "same-origin");
        if (resp->location)
                (void)MHD_add_response_header(m, MHD_HTTP_HEADER_LOCATION, resp->location);
        for (size_t i = 0; i < resp->n_headers; i++) {
                char *colon = strchr(resp->headers[i], ':');

                *colon = '\0';
                if (strcasecmp(resp->headers[i], "Cache-Control") == 0)
                        has_cache = true;
                (void)MHD_add_response_header(m, resp->headers[i], colon + 2);
                *colon = ':';
        }
        if (!has_cache)
                (void)MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL,
                                              private ? "no-store" : "no-cache");
        ret = MHD_queue_response(c, resp->status ?: 200, m);
        MHD_destroy_response(m);
        return ret;
}

static void client_text(struct MHD_Connection *c, char *buf, size_t size)
{
        struct sockaddr_storage ss;
        socklen_t len;

        snprintf(buf, size, "unknown");
        if (http_peer(c, &ss, &len) < 0)
                return;
        if (ss.ss_family == AF_INET)
                inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, size);
        else
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, size);
}

static enum MHD_Result on_request(void *userdata, const HttpRequest *hr)
{
        TrackledWeb *w = userdata;
        struct MHD_Connection *c = hr->connection;
        WebInternal in = {.web = w, .c = c};
        WebResponse resp = {};
        const char *session, *anon, *ctype;
        char client[INET6_ADDRSTRLEN], user[ACCOUNT_NAME_MAX + 1] = "";
        char csrf[WEB_TOKEN_HEX] = "", new_anon[WEB_TOKEN_HEX] = "";
        int64_t account = 0;
        enum MHD_Result ret;

        trackled_store_touch(w->store);
        int r;

        client_text(c, client, sizeof(client));
        session = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, WEB_SESSION_COOKIE);
        anon = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, WEB_ANON_COOKIE);
        if (session && !isempty(session) &&
            websession_get(w->store, session, &account, user, sizeof(user)) >= 0)
                web_csrf_of(session, csrf);
        else {
                session = NULL;
                account = 0;
                user[0] = '\0';
                if (anon && strlen(anon) == WEB_TOKEN_HEX - 1)
                        web_csrf_of(anon, csrf);
                else {
                        /* A visitor without a cookie gets one, so that the forms of the page
                         * carry a token bound to it. */
                        anon = NULL;
                        web_token_new(new_anon);
                        web_csrf_of(new_anon, csrf);
                }
        }
        ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!method_safe(hr->method) && ctype &&
            strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0) {
                r = web_form_parse(hr->body, hr->body_len, in.form, ELEMENTSOF(in.form),
                                   &in.n_form);
                if (r < 0) {
                        (void)web_error(&resp, 400,
                                        r == -E2BIG ? "Too many form fields."
                                                    : "Malformed form data.");
                        goto send;
                }
        }
        {
                WebRequest req = {
                        .method = hr->method,
                        .path = hr->url,
                        .body = hr->body,
                        .body_len = hr->body_len,
                        .content_type = ctype,
                        .client = client,
                        .user = user[0] ? user : NULL,
                        .account = account,
                        .admin = user[0] != '\0',
                        .tls = w->tls,
                        .csrf_token = csrf,
                        .store = w->store,
                        .config = w->config,
                        .internal = &in,
                };

                bool writes = !method_safe(hr->method);

                /* One transaction per state-changing request, committed before the answer
                 * (the store's own begin/commit become savepoints inside it; a batch of the
                 * control socket that is open goes with it). */
                if (writes)
                        (void)trackled_store_batch_begin(w->store);
                if (hr->url[0] != '/' || strlen(hr->url) != strcspn(hr->url, "\r\n"))
                        r = web_error(&resp, 400, "Bad path.");
                else
                        r = dispatch(w, &req, &resp, session || anon);
                if (writes) {
                        int k = trackled_store_batch_commit(w->store);

                        if (r >= 0 && k < 0)
                                r = k;
                }
                if (r < 0) {
                        log_error_errno(r, "Web request %s '%s' from %s failed: %m", hr->method,
                                        hr->url, client);
                        response_done(&resp);
                        (void)web_error(&resp, 500, "Internal error; see the journal.");
                }
        }
send:
        if (new_anon[0])
                cookie_header(w, &resp, WEB_ANON_COOKIE, new_anon, WEB_SESSION_LIFETIME_SEC);
        ret = queue(w, c, &resp, user[0] != '\0' || new_anon[0]);
        response_done(&resp);
        return ret;
}

int trackled_web_new(sd_event *event, const TrackledConfig *config, TrackledStore *store,
                     TrackledMail *mail, const int *fds, size_t n_fds, TrackledWeb **ret)
{
        static const char too_large[] = "{\"error\": \"request body too large\"}";
        _cleanup_free_ char *cert = NULL, *key = NULL;
        TrackledWeb *w;
        int r;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->config = config;
        w->store = store;
        w->mail = mail;
        randombytes_buf(w->rate_key, sizeof(w->rate_key));
        r = account_password_hash("trackle", &w->dummy_hash);
        if (r < 0) {
                trackled_web_free(w);
                return log_error_errno(r, "Cannot hash with yescrypt: %m");
        }
        if (config->tls_cert) {
                r = http_read_pem(config->tls_cert, &cert);
                if (r < 0) {
                        trackled_web_free(w);
                        return log_error_errno(r, "Cannot read TLSCertificate '%s': %m",
                                               config->tls_cert);
                }
                r = http_read_pem(config->tls_key ?: config->tls_cert, &key);
                if (r < 0) {
                        trackled_web_free(w);
                        return log_error_errno(r, "Cannot read TLSKey '%s': %m",
                                               config->tls_key ?: config->tls_cert);
                }
                w->tls = true;
        }
        r = http_server_new(
                &(HttpConfig){
                        .handler = on_request,
                        .userdata = w,
                        .event = event,
                        .server = "trackled",
                        .too_large_type = "application/json",
                        .too_large_body = too_large,
                        .limits =
                                {
                                        .connections_max = WEB_CONNECTIONS_MAX,
                                        .connections_per_client = WEB_CONNECTIONS_PER_CLIENT,
                                        .head_timeout_sec = WEB_HEAD_TIMEOUT_SEC,
                                        .keepalive_timeout_sec = WEB_KEEPALIVE_TIMEOUT_SEC,
                                        .body_timeout_sec = WEB_BODY_TIMEOUT_SEC,
                                        .body_max = WEB_BODY_MAX,
                                        .body_discard_max = 4 * WEB_BODY_MAX,
                                },
                },
                &w->http);
        if (r < 0) {
                trackled_web_free(w);
                return log_error_errno(r, "Cannot set up the web server: %m");
        }
        for (size_t i = 0; i < n_fds; i++) {
                r = http_server_add_listener(w->http, fds[i], cert, key, NULL);
                if (r < 0) {
                        for (size_t j = i + 1; j < n_fds; j++)
                                safe_close(fds[j]);
                        trackled_web_free(w);
                        return log_error_errno(r, "Cannot serve HTTP%s: %m", cert ? "S" : "");
                }
        }
        *ret = w;
        return 0;
}

TrackledWeb *trackled_web_free(TrackledWeb *w)
{
        if (!w)
                return NULL;
        http_server_free(w->http);
        free(w->dummy_hash);
        free(w);
        return NULL;
}
