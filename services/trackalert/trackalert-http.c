/* trackalert-http.c - HTTP server: one MHD daemon (with a thread pool) per listening socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "http.h"
#include "listen.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "trackalert-geoip.h"
#include "trackalert-history.h"
#include "trackalert-http.h"
#include "trackalert-ids.h"
#include "trackalert-lua.h"
#include "trackalert-uap.h"
#include "trackalert-webhook.h"

#define CT_JSON "application/json; charset=utf-8"
#define CT_HTML "text/html; charset=utf-8"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

static const char body_ok[] = "{\"status\":\"ok\"}";
static const char body_not_found[] = "{\"status\":\"failure\", \"reason\":\"Not found\"}";
static const char body_not_allowed[] =
        "{\"status\":\"failure\", \"reason\":\"Method not allowed\"}";
static const char body_unauthorized[] = "{\"status\":\"failure\", \"reason\":\"Unauthorized\"}";
static const char body_too_large[] =
        "{\"status\":\"failure\", \"reason\":\"Request body too large\"}";

/* The fixed answers, built once and queued again and again (MHD counts the references). */
typedef enum Canned {
        CANNED_OK,
        CANNED_NOT_FOUND,
        CANNED_UNAUTHORIZED,
        CANNED_READYZ,
        CANNED_LIVEZ,
        CANNED_NOT_ALLOWED_GET,  /* 405, Allow: GET */
        CANNED_NOT_ALLOWED_POST, /* 405, Allow: POST */
        _CANNED_MAX,
} Canned;

struct TaHttp {
        TaRuntime *rt;
        struct MHD_Response *canned[_CANNED_MAX];
        HttpServer *server;
        RateLimit auth_log;
        pthread_mutex_t auth_log_lock;
        uint64_t bad_remote; /* atomic: reports whose remote is not an address */
};

static struct MHD_Response *response_new(const char *ctype, const char *body, size_t len, bool copy,
                                         bool close, bool auth)
{
        struct MHD_Response *resp;

        resp = MHD_create_response_from_buffer(
                len, (void *)body, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
        if (!resp)
                return NULL;
        if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES ||
            MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "trackalert") != MHD_YES ||
            (close &&
             MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES) ||
            (auth && MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                             "basic realm=\"wforce\"") != MHD_YES)) {
                MHD_destroy_response(resp);
                return NULL;
        }
        return resp;
}

static const struct {
        unsigned status;
        const char *ctype, *body;
        bool close, auth;
} canned_table[_CANNED_MAX] = {
        [CANNED_OK] = {MHD_HTTP_OK, CT_JSON, body_ok},
        [CANNED_NOT_FOUND] = {MHD_HTTP_NOT_FOUND, CT_HTML, body_not_found},
        [CANNED_UNAUTHORIZED] = {MHD_HTTP_UNAUTHORIZED, CT_HTML, body_unauthorized, false, true},
        [CANNED_READYZ] = {MHD_HTTP_OK, CT_JSON, ""},
        [CANNED_LIVEZ] = {MHD_HTTP_OK, CT_HTML, ""},
        [CANNED_NOT_ALLOWED_GET] = {MHD_HTTP_METHOD_NOT_ALLOWED, CT_HTML, body_not_allowed},
        [CANNED_NOT_ALLOWED_POST] = {MHD_HTTP_METHOD_NOT_ALLOWED, CT_HTML, body_not_allowed},
};

static enum MHD_Result respond_canned(TaHttp *h, struct MHD_Connection *c, Canned which)
{
        return MHD_queue_response(c, canned_table[which].status, h->canned[which]);
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *ctype,
                               const char *body, size_t len, bool copy, bool close)
{
        struct MHD_Response *resp = response_new(ctype, body, len, copy, close,
                                                 status == MHD_HTTP_UNAUTHORIZED && !close);
        enum MHD_Result ret;

        if (!resp)
                return MHD_NO;
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result respond_buf(struct MHD_Connection *c, unsigned status, const char *ctype,
                                   TaBuf *b)
{
        enum MHD_Result r;

        if (b->oom) {
                static const char oom[] = "{\"status\":\"failure\", \"reason\":\"Out of memory\"}";
                r = respond(c, 500, CT_JSON, oom, strlen(oom), false, false);
        } else
                r = respond(c, status, ctype, b->data ?: "", b->len, true, false);
        ta_buf_done(b);
        return r;
}

static enum MHD_Result respond_failure(struct MHD_Connection *c, unsigned status, const char *key,
                                       const char *reason)
{
        TaBuf b = {};

        ta_buf_printf(&b, "{\"%s\":%s, \"reason\":", key,
                      streq(key, "status") ? "\"failure\"" : "false");
        ta_buf_json_string(&b, reason, strlen(reason));
        ta_buf_puts(&b, "}");
        return respond_buf(c, status, CT_JSON, &b);
}

static int peer_of(struct MHD_Connection *c, TaAddr *ret)
{
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa;

        if (!ci || !ci->client_addr)
                return -ENOTCONN;
        sa = ci->client_addr;
        return ta_addr_from_sockaddr(sa,
                                     sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                               : sizeof(struct sockaddr_in),
                                     ret);
}

/* ACL first, then (if wanted) Basic auth. Returns true if the request may go on; else the
 * response is queued and *ret holds the MHD result. */
static bool check_access(TaHttp *h, struct MHD_Connection *c, const char *url, bool auth,
                         enum MHD_Result *ret)
{
        char peer[TA_ADDR_STRLEN];
        TaAddr a;

        if (peer_of(c, &a) < 0) {
                *ret = MHD_NO;
                return false;
        }
        ta_addr_unmap(&a);
        if (!ta_runtime_acl_allows(h->rt, &a)) {
                TaBuf b = {};

                ta_buf_puts(&b, "{\"status\":\"failure\", \"reason\":\"Source IP Address not in "
                                "ACL\", \"ip\":\"");
                ta_buf_puts(&b, ta_addr_to_string(&a, peer));
                ta_buf_puts(&b, "\"}");
                *ret = b.oom ? MHD_NO
                             : respond(c, MHD_HTTP_UNAUTHORIZED, CT_HTML, b.data, b.len, true,
                                       true);
                ta_buf_done(&b);
                return false;
        }
        if (auth && !ta_runtime_password_ok(
                            h->rt, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                               MHD_HTTP_HEADER_AUTHORIZATION))) {
                bool show;

                pthread_mutex_lock(&h->auth_log_lock);
                show = ratelimit_below(&h->auth_log, ta_now_usec(), NULL);
                pthread_mutex_unlock(&h->auth_log_lock);
                if (show) {
                        _cleanup_free_ char *path = ta_log_text(url, true);
                        const LogField fields[] = {{"TRACKALERT_PEER", peer},
                                                   {"TRACKALERT_PATH", strempty(path)}};
                        ta_addr_to_string_port(&a, peer);
                        log_fields(LOG_WARNING, TRACKALERT_MID_AUTH_FAILED, fields,
                                   ELEMENTSOF(fields),
                                   "HTTP request \"%s\" from %s: Web Authentication failed",
                                   strempty(path), peer);
                }
                *ret = respond_canned(h, c, CANNED_UNAUTHORIZED);
                return false;
        }
        return true;
}

static RateLimit history_log = {.interval_usec = 60ULL * 1000000ULL, .burst = 1};
static RateLimit bad_remote_log = {.interval_usec = 60ULL * 1000000ULL, .burst = 5};
static pthread_mutex_t http_log_lock = PTHREAD_MUTEX_INITIALIZER;

static bool log_allowed(RateLimit *rl, unsigned long long *ret_suppressed)
{
        bool show;

        pthread_mutex_lock(&http_log_lock);
        show = ratelimit_below(rl, ta_now_usec(), ret_suppressed);
        pthread_mutex_unlock(&http_log_lock);
        return show;
}

/* Before the report is processed: false when the history cannot take it, and then the report
 * is neither run nor acknowledged (503), so that a 200 always means "stored". */
static bool history_room(TaRuntime *rt)
{
        if (!rt->history || ta_history_wait_room(rt->history) >= 0)
                return true;
        if (log_allowed(&history_log, NULL))
                log_fields(LOG_WARNING, TRACKALERT_MID_HISTORY_DROPPED, NULL, 0,
                           "The history queue is full (the database is not keeping up or cannot "
                           "be written), refusing reports with 503 "
                           "(trackalert_history_reports_total{status=\"refused\"}).");
        return false;
}

static int history_add(TaRuntime *rt, const TaTuple *t)
{
        if (!rt->history)
                return 0;
        return ta_history_add(rt->history, t, (double)ta_now_realtime_usec() / 1e6);
}

/* -v: one line per report. Login, protocol and device_id come from the network: escaped (see
 * ta_log_text()), so that they can neither split nor forge the line or a field. */
static void log_report(const TaTuple *t)
{
        _cleanup_free_ char *login = ta_log_text(t->login, true),
                            *protocol = ta_log_text(t->protocol, true),
                            *device = ta_log_text(t->device_id, false),
                            *login_field = ta_log_text(t->login, false),
                            *protocol_field = ta_log_text(t->protocol, false);
        char remote[TA_ADDR_STRLEN];

        if (!login || !protocol || !device || !login_field || !protocol_field)
                return;
        const LogField fields[] = {
                {"TRACKALERT_LOGIN", login_field},
                {"TRACKALERT_REMOTE", remote},
                {"TRACKALERT_SUCCESS", t->success ? "true" : "false"},
                {"TRACKALERT_PROTOCOL", protocol_field},
                {"TRACKALERT_DEVICE_ID", device},
        };

        ta_addr_to_string(&t->remote, remote);
        log_fields(LOG_INFO, TRACKALERT_MID_REPORT, fields, ELEMENTSOF(fields),
                   "report: login=\"%s\" remote=\"%s\" success=%s protocol=\"%s\"", login, remote,
                   t->success ? "true" : "false", protocol);
}

static enum MHD_Result cmd_report(TaHttp *h, struct MHD_Connection *c, const HttpRequest *req)
{
        TaArena *arena = req->conn_data;
        TaRuntime *rt = h->rt;
        const char *err = NULL;
        TaTuple t;
        int r;

        r = ta_tuple_parse(req->body, req->body_len, arena, &t, &err);
        if (r == -EADDRNOTAVAIL) {
                /* As the original: 200 ok, report() is not run and nothing is counted as a
                 * report or stored; we log it (rate-limited) and count it. */
                unsigned long long suppressed = 0;

                __atomic_add_fetch(&h->bad_remote, 1, __ATOMIC_RELAXED);
                if (log_allowed(&bad_remote_log, &suppressed)) {
                        if (suppressed > 0)
                                log_warning("Suppressed %llu messages about reports with a bad "
                                            "remote.",
                                            suppressed);
                        log_warning("Report ignored: %s (trackalert_reports_ignored_total).", err);
                }
                return respond_canned(h, c, CANNED_OK);
        }
        if (r < 0)
                return respond_failure(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "status",
                                       err ?: "cannot parse the report");
        /* Like wforce: device_attrs sent by the client win over parsing device_id. */
        if (rt->uap_path && !t.device_attrs_given && !isempty(t.device_id))
                ta_runtime_parse_device(rt, t.protocol, t.device_id, arena, &t.device_attrs);
        if (rt->geoip && rt->config.history_geoip_db) {
                TaGeoDB *db = ta_geoip_get(rt->geoip, rt->config.history_geoip_db);
                char cc[16] = "";

                if (db && ta_geodb_country(db, &t.remote, cc, sizeof(cc)) >= 0 && cc[0])
                        t.country = ta_arena_strdup(arena, cc);
        }
        if (!history_room(rt))
                return respond_failure(c, MHD_HTTP_SERVICE_UNAVAILABLE, "status",
                                       "the history queue is full");
        ta_stats_report(rt->stats);
        if (rt->verbose)
                log_report(&t);
        (void)ta_lua_report(rt, &t); /* a Lua error is logged and still answered with ok */
        if (history_add(rt, &t) < 0)
                return respond_failure(c, MHD_HTTP_SERVICE_UNAVAILABLE, "status",
                                       "out of memory for the history queue");
        return respond_canned(h, c, CANNED_OK);
}

static enum MHD_Result cmd_stats(TaHttp *h, struct MHD_Connection *c)
{
        TaBuf b = {};

        ta_stats_json(h->rt->stats, &b);
        return respond_buf(c, MHD_HTTP_OK, CT_JSON, &b);
}

static enum MHD_Result cmd_metrics(TaHttp *h, struct MHD_Connection *c)
{
        TaRuntime *rt = h->rt;
        TaGauges g = {.active_connections = ta_http_active_connections(h)};
        TaBuf b = {};

        if (rt->webhooks)
                g.webhook_queue_size = ta_webhooks_queue_size(rt->webhooks);
        ta_stats_prometheus(rt->stats, &g, &b);
        if (rt->webhooks)
                ta_webhooks_prometheus(rt->webhooks, &b);
        if (rt->history) {
                TaHistoryCounters hc;

                ta_history_counters(rt->history, &hc);
                ta_buf_printf(&b,
                              "# HELP trackalert_history_reports_total Reports handed to the "
                              "history database\n"
                              "# TYPE trackalert_history_reports_total counter\n"
                              "trackalert_history_reports_total{status=\"written\"} %llu\n"
                              "trackalert_history_reports_total{status=\"refused\"} %llu\n"
                              "trackalert_history_reports_total{status=\"failed\"} %llu\n"
                              "# HELP trackalert_history_write_errors_total Commits of the "
                              "history that failed and were retried\n"
                              "# TYPE trackalert_history_write_errors_total counter\n"
                              "trackalert_history_write_errors_total %llu\n"
                              "# HELP trackalert_history_queue_size Reports waiting to be "
                              "written\n"
                              "# TYPE trackalert_history_queue_size gauge\n"
                              "trackalert_history_queue_size %llu\n",
                              (unsigned long long)hc.written, (unsigned long long)hc.refused,
                              (unsigned long long)hc.failed, (unsigned long long)hc.write_errors,
                              (unsigned long long)hc.queued);
        }
        {
                ta_buf_printf(
                        &b,
                        "# HELP trackalert_reports_ignored_total Reports answered ok "
                        "without running report(), as the original does\n"
                        "# TYPE trackalert_reports_ignored_total counter\n"
                        "trackalert_reports_ignored_total{reason=\"bad_remote\"} %llu\n",
                        (unsigned long long)__atomic_load_n(&h->bad_remote, __ATOMIC_RELAXED));
        }
        return respond_buf(c, MHD_HTTP_OK, CT_METRICS, &b);
}

static void kv_json(TaBuf *b, const TaKvList *l)
{
        ta_buf_puts(b, "{");
        for (size_t i = 0; i < l->n; i++) {
                if (i > 0)
                        ta_buf_puts(b, ", ");
                ta_buf_json_string(b, l->items[i].key, strlen(l->items[i].key));
                ta_buf_puts(b, ": ");
                ta_buf_json_string(b, l->items[i].value, strlen(l->items[i].value));
        }
        ta_buf_puts(b, "}");
}

static enum MHD_Result cmd_custom(TaHttp *h, struct MHD_Connection *c, const char *name,
                                  const HttpRequest *req)
{
        TaArena *arena = req->conn_data;
        TaKvList in = {}, in_mv = {}, out = {};
        _cleanup_free_ char *lua_err = NULL;
        const char *err = NULL;
        bool found = false, success = false;
        TaBuf b = {};
        int r;

        r = ta_custom_args_parse(req->body, req->body_len, arena, &in, &in_mv, &err);
        if (r < 0)
                return respond_failure(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "success",
                                       err ?: "cannot parse the request");
        r = ta_lua_custom(h->rt, name, &in, &in_mv, &found, &success, &out, &lua_err);
        if (r < 0) {
                ta_kv_list_done(&out);
                return respond_failure(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "success",
                                       lua_err ?: "out of memory");
        }
        ta_buf_puts(&b, "{\"r_attrs\": ");
        kv_json(&b, &out);
        ta_buf_printf(&b, ", \"success\": %s}", found && success ? "true" : "false");
        ta_kv_list_done(&out);
        return respond_buf(c, MHD_HTTP_OK, CT_JSON, &b);
}

typedef enum Route {
        ROUTE_NONE,
        ROUTE_REPORT,
        ROUTE_STATS,
        ROUTE_READYZ,
        ROUTE_LIVEZ,
        ROUTE_METRICS,
        ROUTE_CUSTOM,
        ROUTE_UNKNOWN_COMMAND, /* 401 without credentials, as the original; else 404 */
        ROUTE_ONLY_GET,        /* a known path, another method: 405 */
        ROUTE_ONLY_POST,
} Route;

static Route route_of(TaHttp *h, struct MHD_Connection *c, const char *url, const char *method,
                      const char **ret_cmd, bool *ret_legacy)
{
        bool get = streq(method, MHD_HTTP_METHOD_GET), post = streq(method, MHD_HTTP_METHOD_POST);
        const char *cmd;

        *ret_legacy = false;
        if (streq(url, "/metrics"))
                return get ? ROUTE_METRICS : ROUTE_ONLY_GET;
        if (streq(url, "/")) {
                cmd = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "command");
                if (!cmd)
                        return ROUTE_NONE;
                *ret_legacy = true;
        } else if (strncmp(url, "/command/", 9) == 0)
                cmd = url + 9;
        else
                return ROUTE_NONE;
        *ret_cmd = cmd;
        if (streq(cmd, "report"))
                return post ? ROUTE_REPORT : ROUTE_ONLY_POST;
        if (streq(cmd, "stats"))
                return get ? ROUTE_STATS : ROUTE_ONLY_GET;
        if (streq(cmd, "readyz"))
                return get ? ROUTE_READYZ : ROUTE_ONLY_GET;
        if (streq(cmd, "livez") && !*ret_legacy)
                return get ? ROUTE_LIVEZ : ROUTE_ONLY_GET;
        if (ta_counter_set_find(h->rt->endpoints, cmd))
                return post ? ROUTE_CUSTOM : ROUTE_ONLY_POST;
        return ROUTE_UNKNOWN_COMMAND;
}

static enum MHD_Result on_request(void *userdata, const HttpRequest *req)
{
        TaHttp *h = userdata;
        struct MHD_Connection *c = req->connection;
        const char *url = req->url, *method = req->method;
        uint64_t start = ta_now_usec();
        const char *cmd = NULL;
        bool legacy, auth;
        enum MHD_Result ret;
        Route route;

        route = route_of(h, c, url, method, &cmd, &legacy);
        if (route == ROUTE_NONE)
                return respond_canned(h, c, CANNED_NOT_FOUND);
        if (route == ROUTE_ONLY_GET || route == ROUTE_ONLY_POST)
                return respond_canned(h, c,
                                      route == ROUTE_ONLY_GET ? CANNED_NOT_ALLOWED_GET
                                                              : CANNED_NOT_ALLOWED_POST);
        if (route == ROUTE_UNKNOWN_COMMAND)
                return check_access(h, c, url, true, &ret) ? respond_canned(h, c, CANNED_NOT_FOUND)
                                                           : ret;
        auth = route == ROUTE_LIVEZ     ? false
               : route == ROUTE_READYZ  ? legacy
               : route == ROUTE_METRICS ? !h->rt->config.metrics_no_password
                                        : true;
        if (!check_access(h, c, url, auth, &ret))
                return ret;
        switch (route) {
        case ROUTE_REPORT:
                ret = cmd_report(h, c, req);
                break;
        case ROUTE_STATS:
                ret = cmd_stats(h, c);
                break;
        case ROUTE_READYZ:
                ret = respond_canned(h, c, CANNED_READYZ);
                break;
        case ROUTE_LIVEZ:
                ret = respond_canned(h, c, CANNED_LIVEZ);
                break;
        case ROUTE_METRICS:
                return cmd_metrics(h, c); /* not a command, not counted */
        case ROUTE_CUSTOM:
                ret = cmd_custom(h, c, cmd, req);
                break;
        default:
                ret = MHD_NO;
        }
        ta_stats_command(h->rt->stats, cmd, ta_now_usec() - start);
        return ret;
}

static void *conn_new(void *userdata)
{
        return calloc(1, sizeof(TaArena));
}

static void conn_free(void *userdata, void *data)
{
        ta_arena_done(data);
        free(data);
}

static void request_done(void *userdata, void *data)
{
        ta_arena_reset(data);
}

/* Outside the ACL a client is closed at accept, before it can hold a connection. */
static bool accept_policy(void *userdata, const struct sockaddr *sa, socklen_t len)
{
        TaHttp *h = userdata;
        TaAddr a;

        if (ta_addr_from_sockaddr(sa, len, &a) < 0)
                return false;
        ta_addr_unmap(&a);
        return ta_runtime_acl_allows(h->rt, &a);
}

static int start_listener(TaHttp *h, int fd, const TaListenerConf *lc)
{
        _cleanup_free_ char *cert = NULL, *key = NULL;
        int r;

        if (lc && lc->tls) {
                if ((r = http_read_pem(lc->cert, &cert)) < 0) {
                        safe_close(fd);
                        return log_error_errno(r, "%s:%u: cannot read certificate '%s': %m",
                                               lc->file, lc->line, lc->cert);
                }
                if ((r = http_read_pem(lc->key, &key)) < 0) {
                        safe_close(fd);
                        return log_error_errno(r, "%s:%u: cannot read key '%s': %m", lc->file,
                                               lc->line, lc->key);
                }
        }
        r = http_server_add_listener(h->server, fd, cert, key, lc ? lc->priorities : NULL);
        if (r == -EOPNOTSUPP)
                return log_error_errno(r, "%s:%u: libmicrohttpd was built without TLS.", lc->file,
                                       lc->line);
        if (r < 0) {
                if (lc)
                        return log_error_errno(r,
                                               "%s:%u: cannot start the HTTP%s server on "
                                               "'%s'.",
                                               lc->file, lc->line, lc->tls ? "S" : "", lc->addr);
                return log_error_errno(r, "Cannot start the HTTP server.");
        }
        return 0;
}

int ta_http_new(TaRuntime *rt, const int *fds, size_t n_fds, TaHttp **ret)
{
        const TaConfig *cf = &rt->config;
        HttpConfig hc = {
                .handler = on_request,
                .conn_new = conn_new,
                .conn_free = conn_free,
                .request_done = request_done,
                .accept_policy = accept_policy,
                .threads = MAX(cf->num_worker_threads, 1u),
                .server = "trackalert",
                .too_large_type = CT_JSON,
                .too_large_body = body_too_large,
                .limits =
                        {
                                .connections_max = (unsigned)cf->max_conns,
                                .connections_per_client = ta_http_per_client(cf->max_conns),
                                .head_timeout_sec = TA_HTTP_HEAD_TIMEOUT_SEC,
                                .keepalive_timeout_sec = TA_HTTP_TIMEOUT_SEC,
                                .body_timeout_sec = TA_HTTP_BODY_TIMEOUT_SEC,
                                .body_max = TA_BODY_MAX,
                                .body_discard_max = TA_BODY_DISCARD_MAX,
                                .connection_memory = TA_HTTP_CONN_MEMORY,
                        },
        };
        TaHttp *h;
        int r = 0;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->rt = rt;
        hc.userdata = h;
        pthread_mutex_init(&h->auth_log_lock, NULL);
        for (size_t i = 0; i < _CANNED_MAX; i++) {
                h->canned[i] = response_new(canned_table[i].ctype, canned_table[i].body,
                                            strlen(canned_table[i].body), false,
                                            canned_table[i].close, canned_table[i].auth);
                if (h->canned[i] && (i == CANNED_NOT_ALLOWED_GET || i == CANNED_NOT_ALLOWED_POST) &&
                    MHD_add_response_header(h->canned[i], MHD_HTTP_HEADER_ALLOW,
                                            i == CANNED_NOT_ALLOWED_GET ? "GET" : "POST") !=
                            MHD_YES) {
                        MHD_destroy_response(h->canned[i]);
                        h->canned[i] = NULL;
                }
                if (!h->canned[i]) {
                        ta_http_free(h);
                        return -ENOMEM;
                }
        }
        h->auth_log = (RateLimit){.interval_usec = 10ULL * 1000000ULL, .burst = 10};
        r = http_server_new(&hc, &h->server);
        if (r < 0) {
                ta_http_free(h);
                return log_error_errno(r, "Cannot set up the HTTP server: %m");
        }
        if (n_fds > 0) {
                if (rt->config.n_listeners > 0)
                        log_info("Socket-activated: addListener() entries are not used.");
                for (size_t i = 0; i < n_fds && r >= 0; i++)
                        r = start_listener(h, fds[i], NULL);
        } else if (rt->config.n_listeners > 0) {
                for (size_t i = 0; i < rt->config.n_listeners && r >= 0; i++) {
                        const TaListenerConf *lc = &rt->config.listeners[i];
                        int fd = listen_open(lc->addr, SOCK_STREAM, 8085);

                        if (fd < 0) {
                                r = log_error_errno(fd, "%s:%u: cannot listen on '%s': %m",
                                                    lc->file, lc->line, lc->addr);
                                break;
                        }
                        r = start_listener(h, fd, lc);
                }
        } else {
                int fd = listen_open(TA_DEFAULT_HTTP, SOCK_STREAM, 8085);

                if (fd < 0)
                        r = log_error_errno(fd, "Cannot listen on %s: %m", TA_DEFAULT_HTTP);
                else
                        r = start_listener(h, fd, NULL);
        }
        if (r < 0) {
                ta_http_free(h);
                return r;
        }
        *ret = h;
        return 0;
}

TaHttp *ta_http_free(TaHttp *h)
{
        if (!h)
                return NULL;
        http_server_free(h->server);
        for (size_t i = 0; i < _CANNED_MAX; i++)
                if (h->canned[i])
                        MHD_destroy_response(h->canned[i]);
        pthread_mutex_destroy(&h->auth_log_lock);
        free(h);
        return NULL;
}

uint64_t ta_http_active_connections(TaHttp *h)
{
        HttpCounters c;

        http_server_counters(h->server, &c);
        return c.active;
}

size_t ta_http_n_listeners(TaHttp *h)
{
        return http_server_n_listeners(h->server);
}

unsigned ta_http_per_client(unsigned max_conns)
{
        return MAX(max_conns / 10, 16u);
}
