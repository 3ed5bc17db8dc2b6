/* trackle-notify.c - trackle-notify(8): the periodic digest of the paper — every open ticket
 * with its details and the status changes since the previous digest — mailed to the staff.
 * Run by trackle-notify.timer; silent on success, a journal entry and exit 1 on failure. The
 * digest watermark (the newest history row mailed) is kept by trackled (setting
 * notify.digest) and moves only after the relay accepted the message. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "smtp.h"
#include "trackle-client.h"
#include "trackled-config.h"

#define DIGEST_SETTING "notify.digest"
#define RCPT_MAX 64
#define LINE_MAX_BYTES 900       /* SMTP allows 998; long lines are cut, marked "…" */
#define DESCRIPTION_LINES_MAX 40 /* per ticket */
#define CHANGES_PAGE 5000
#define DEFAULT_RELAY "smtp://localhost:25"
/* catalog/trackle.catalog */
#define TRACKLE_NOTIFY_MID_FAILED "46662352056b4bae9f2bf93f71058ea6"

static const char *arg_config = TRACKLE_CONFIG_FILE;
static bool arg_dry_run;

static void help(void)
{
        printf("Usage: trackle-notify [OPTIONS]\n"
               "\n"
               "Mail the digest of trackle's tickets to the staff ([Mail] Staff= of the\n"
               "configuration): every open ticket with its details, and the status changes\n"
               "since the previous digest. Prints nothing on success.\n"
               "\n"
               "  -c --config=FILE   configuration file (default %s)\n"
               "  -n --dry-run       print the message instead of sending it; the watermark\n"
               "                     of the previous digest stays where it is\n"
               "  -h --help          show this help\n"
               "     --version       show the version\n"
               "\n"
               "See trackle-notify(8).\n",
               TRACKLE_CONFIG_FILE);
}

typedef struct Buf {
        char *data;
        size_t len, cap;
        bool oom;
} Buf;

static void buf_add(Buf *b, const char *s, size_t n)
{
        if (b->oom)
                return;
        if (b->len + n + 1 > b->cap) {
                size_t cap = MAX(b->cap * 2, b->len + n + 4096);
                char *d = realloc(b->data, cap);

                if (!d) {
                        b->oom = true;
                        return;
                }
                b->data = d;
                b->cap = cap;
        }
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = 0;
}

static void buf_printf(Buf *b, const char *fmt, ...) _printf_(2, 3);
static void buf_printf(Buf *b, const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0) {
                b->oom = true;
                return;
        }
        buf_add(b, s, (size_t)n);
}

/* Text of one or more lines, each cut at LINE_MAX_BYTES (on a UTF-8 boundary), control
 * characters other than tab shown as '?', indented; at most max_lines lines. */
static void buf_text(Buf *b, const char *indent, const char *text, size_t max_lines)
{
        size_t lines = 0;

        for (const char *p = text; *p && lines < max_lines; lines++) {
                size_t n = strcspn(p, "\n"), take = MIN(n, (size_t)LINE_MAX_BYTES);

                while (take < n && take > 0 && ((unsigned char)p[take] & 0xC0) == 0x80)
                        take--;
                buf_add(b, indent, strlen(indent));
                for (size_t i = 0; i < take; i++) {
                        unsigned char c = (unsigned char)p[i];
                        char ch = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
                        buf_add(b, &ch, 1);
                }
                if (take < n)
                        buf_add(b, "…", strlen("…"));
                buf_add(b, "\n", 1);
                p += n;
                if (*p == '\n')
                        p++;
        }
        if (lines == max_lines && text[0])
                buf_printf(b, "%s(more in the ticket)\n", indent);
}

static const char *str(json_object *o, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return "";
        return json_object_get_string(v);
}

static int64_t num(json_object *o, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return 0;
        return json_object_get_int64(v);
}

static int call(TrackleClient *c, json_object *req, json_object **ret)
{
        char op[64];
        int r;

        if (!req)
                return log_error_errno(ENOMEM, "Out of memory");
        snprintf(op, sizeof(op), "%s", json_object_get_string(json_object_object_get(req, "op")));
        r = trackle_client_call(c, req, -1, ret);
        json_object_put(req);
        if (r == -EREMOTEIO)
                return log_error_errno(r, "trackled refused '%s': %s", op, strempty(c->error));
        if (r < 0)
                return log_error_errno(r, "Talking to trackled at %s failed: %m", TRACKLE_SOCKET);
        return 0;
}

static bool field_shown(const char *f)
{
        return streq(f, "status") || streq(f, "created") || streq(f, "resolution");
}

/* RFC 2047 for a Subject with non-ASCII text. */
static void buf_subject(Buf *b, const char *subject)
{
        static const char b64[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *s = (const unsigned char *)subject;
        size_t n = strlen(subject);
        bool ascii = true;

        for (size_t i = 0; i < n; i++)
                if (s[i] >= 0x80 || s[i] < 0x20)
                        ascii = false;
        if (ascii) {
                buf_printf(b, "Subject: %s\n", subject);
                return;
        }
        buf_add(b, "Subject: =?UTF-8?B?", strlen("Subject: =?UTF-8?B?"));
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
                             (i + 2 < n ? s[i + 2] : 0);
                char q[4] = {b64[v >> 18 & 63], b64[v >> 12 & 63],
                             i + 1 < n ? b64[v >> 6 & 63] : '=', i + 2 < n ? b64[v & 63] : '='};
                buf_add(b, q, 4);
        }
        buf_add(b, "?=\n", 3);
}

typedef struct Digest {
        json_object *tickets;  /* ticket.list */
        json_object **changes; /* pages of ticket.changes */
        size_t n_pages;
        int64_t since, last;
        bool more; /* changes after last are left for the next digest */
} Digest;

static int compose(const TrackledConfig *cfg, char *const *rcpt, size_t n_rcpt, const Digest *d,
                   Buf *b)
{
        size_t n_open = 0, n_changes = 0, nt = json_object_array_length(d->tickets), body_at;
        _cleanup_free_ char *qp = NULL;
        char date[64], host[256] = "localhost", subject[512];
        time_t now = time(NULL);
        struct tm tm;

        for (size_t i = 0; i < nt; i++)
                if (!streq(str(json_object_array_get_idx(d->tickets, i), "status"), "closed"))
                        n_open++;
        for (size_t p = 0; p < d->n_pages; p++)
                for (size_t i = 0; i < json_object_array_length(d->changes[p]); i++)
                        if (field_shown(str(json_object_array_get_idx(d->changes[p], i), "field")))
                                n_changes++;

        (void)gethostname(host, sizeof(host) - 1);
        for (char *h = host; *h; h++)
                if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
                      (*h >= '0' && *h <= '9') || *h == '.' || *h == '-'))
                        *h = '-';
        localtime_r(&now, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
        buf_printf(b, "From: %s\n", cfg->mail_from);
        buf_add(b, "To: ", 4);
        for (size_t i = 0; i < n_rcpt; i++)
                buf_printf(b, "%s%s", i ? ", " : "", rcpt[i]);
        buf_add(b, "\n", 1);
        snprintf(subject, sizeof(subject), "%s%s%strackle digest: %zu open ticket%s, %zu change%s",
                 isempty(cfg->site_name) ? "" : "[", strempty(cfg->site_name),
                 isempty(cfg->site_name) ? "" : "] ", n_open, n_open == 1 ? "" : "s", n_changes,
                 n_changes == 1 ? "" : "s");
        buf_subject(b, subject);
        buf_printf(b, "Date: %s\n", date);
        buf_printf(b, "Message-ID: <trackle-digest.%" PRId64 ".%" PRId64 ".%lld@%s>\n", d->since,
                   d->last, (long long)now, host);
        buf_add(b, SMTP_TEXT_MIME_HEADERS "Auto-Submitted: auto-generated\n\n",
                strlen(SMTP_TEXT_MIME_HEADERS "Auto-Submitted: auto-generated\n\n"));
        body_at = b->len;

        buf_printf(b, "Status changes since the previous digest: %zu\n\n", n_changes);
        for (size_t p = 0; p < d->n_pages; p++)
                for (size_t i = 0; i < json_object_array_length(d->changes[p]); i++) {
                        json_object *c = json_object_array_get_idx(d->changes[p], i);
                        const char *f = str(c, "field");
                        char line[1024];

                        if (!field_shown(f))
                                continue;
                        if (streq(f, "created"))
                                snprintf(line, sizeof(line), "%s #%" PRId64 " created by %s: %s",
                                         str(c, "time"), num(c, "ticket"), str(c, "author"),
                                         str(c, "summary"));
                        else
                                snprintf(line, sizeof(line),
                                         "%s #%" PRId64 " %s %s -> %s by %s: %s", str(c, "time"),
                                         num(c, "ticket"), f,
                                         isempty(str(c, "old")) ? "(none)" : str(c, "old"),
                                         isempty(str(c, "new")) ? "(none)" : str(c, "new"),
                                         str(c, "author"), str(c, "summary"));
                        buf_text(b, "  ", line, 1);
                }
        if (d->more)
                buf_printf(b, "  (more changes than fit in one digest: the next one goes on)\n");
        buf_printf(b, "\nOpen tickets: %zu\n", n_open);
        for (size_t i = 0; i < nt; i++) {
                json_object *t = json_object_array_get_idx(d->tickets, i), *lock;
                static const char *const fields[] = {
                        "status",    "owner",     "reporter", "type",    "priority", "severity",
                        "component", "milestone", "keywords", "created", "changed"};
                char head[1024];

                if (streq(str(t, "status"), "closed"))
                        continue;
                snprintf(head, sizeof(head), "#%" PRId64 " %s", num(t, "id"), str(t, "summary"));
                buf_add(b, "\n", 1);
                buf_text(b, "", head, 1);
                for (size_t k = 0; k < ELEMENTSOF(fields); k++)
                        if (!isempty(str(t, fields[k])))
                                buf_printf(b, "  %-10s %s\n", fields[k], str(t, fields[k]));
                if (json_object_object_get_ex(t, "lock", &lock) && lock)
                        buf_printf(b, "  %-10s by %s (session %" PRId64 ") since %s\n", "locked",
                                   str(lock, "user"), num(lock, "session"), str(lock, "since"));
                if (!isempty(str(t, "description"))) {
                        buf_add(b, "\n", 1);
                        buf_text(b, "    ", str(t, "description"), DESCRIPTION_LINES_MAX);
                }
        }
        /* the body in quoted-printable: a long line is refused by relays (RFC 5321: 998) */
        if (b->oom)
                return -ENOMEM;
        qp = smtp_body_encode(b->data + body_at);
        if (!qp)
                return -ENOMEM;
        b->len = body_at;
        buf_add(b, qp, strlen(qp));
        return b->oom ? -ENOMEM : 0;
}

/* Staff= as a list: addresses separated by commas and/or white space. */
static int split_rcpt(char *staff, char **rcpt, size_t *ret_n)
{
        size_t n = 0;

        for (char *tok = strtok(staff, ", \t"); tok; tok = strtok(NULL, ", \t")) {
                if (n >= RCPT_MAX)
                        return -E2BIG;
                if (!smtp_address_valid(tok))
                        return log_error_errno(EINVAL,
                                               "%s: [Mail] Staff=: '%s' is not a mail "
                                               "address",
                                               arg_config, tok);
                rcpt[n++] = tok;
        }
        *ret_n = n;
        return 0;
}

static int run(void)
{
        _cleanup_(trackle_client_freep) TrackleClient *c = NULL;
        _cleanup_free_ char *staff = NULL, *smtp_error = NULL;
        TrackledConfig cfg = {};
        ConfError err = {};
        json_object *r_setting = NULL, *r_tickets = NULL, *req, *v;
        json_object *pages_replies[64] = {};
        json_object *pages[64];
        char *rcpt[RCPT_MAX];
        size_t n_rcpt = 0;
        char mark[32], prev[32] = "";
        Digest d = {.changes = pages};
        Buf b = {};
        int r;

        r = trackled_config_defaults(&cfg);
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        r = trackled_config_load(arg_config, &cfg, NULL, NULL, &err);
        if (r < 0) {
                if (err.line > 0)
                        log_error("%s:%u: %s", err.file, err.line, err.message);
                else
                        log_error_errno(r, "Cannot read %s: %s", arg_config,
                                        err.message[0] ? err.message : strerror(-r));
                goto out;
        }
        if (isempty(cfg.mail_from) || !smtp_address_valid(cfg.mail_from)) {
                r = log_error_errno(EINVAL, "%s: [Mail] From= must be a mail address (is '%s')",
                                    arg_config, strempty(cfg.mail_from));
                goto out;
        }
        staff = strdup(strempty(cfg.staff_address));
        if (!staff) {
                r = log_error_errno(ENOMEM, "Out of memory");
                goto out;
        }
        r = split_rcpt(staff, rcpt, &n_rcpt);
        if (r < 0)
                goto out;
        if (n_rcpt == 0) {
                r = log_error_errno(EINVAL,
                                    "%s: [Mail] Staff= names nobody to send the "
                                    "digest to",
                                    arg_config);
                goto out;
        }

        r = trackle_client_connect(TRACKLE_SOCKET, &c);
        if (r < 0) {
                log_error_errno(r, "Cannot reach trackled at %s: %m", TRACKLE_SOCKET);
                goto out;
        }
        req = trackle_request_new("setting.get");
        if (req)
                json_object_object_add(req, "name", json_object_new_string(DIGEST_SETTING));
        r = call(c, req, &r_setting);
        if (r < 0)
                goto out;
        if (json_object_object_get_ex(r_setting, "setting", &v) && v) {
                const char *w = str(v, "value");
                uint64_t u;

                if (parse_uint64(w, &u) < 0 || u > INT64_MAX) {
                        r = log_error_errno(EBADMSG,
                                            "The digest watermark '%s' in trackled is "
                                            "not a number",
                                            w);
                        goto out;
                }
                d.since = (int64_t)u;
                snprintf(prev, sizeof(prev), "%s", w);
        }
        r = call(c, trackle_request_new("ticket.list"), &r_tickets);
        if (r < 0)
                goto out;
        if (!json_object_object_get_ex(r_tickets, "tickets", &d.tickets) ||
            !json_object_is_type(d.tickets, json_type_array)) {
                r = log_error_errno(EBADMSG, "trackled's ticket list is malformed");
                goto out;
        }
        /* The changes since the watermark, page by page: after downtime there may be many. */
        for (int64_t from = d.since;;) {
                json_object *a, *last;
                size_t n;

                if (d.n_pages == ELEMENTSOF(pages)) {
                        /* After a very long outage: this digest ends at the last change it
                         * holds, the next one goes on from there. */
                        d.last = from;
                        d.more = true;
                        break;
                }
                req = trackle_request_new("ticket.changes");
                if (req) {
                        json_object_object_add(req, "since", json_object_new_int64(from));
                        json_object_object_add(req, "limit", json_object_new_int(CHANGES_PAGE));
                }
                r = call(c, req, &pages_replies[d.n_pages]);
                if (r < 0)
                        goto out;
                if (!json_object_object_get_ex(pages_replies[d.n_pages], "changes", &a) ||
                    !json_object_is_type(a, json_type_array) ||
                    !json_object_object_get_ex(pages_replies[d.n_pages], "last", &last)) {
                        r = log_error_errno(EBADMSG, "trackled's ticket changes are malformed");
                        goto out;
                }
                pages[d.n_pages++] = a;
                d.last = json_object_get_int64(last);
                n = json_object_array_length(a);
                if (n == 0)
                        break;
                from = num(json_object_array_get_idx(a, n - 1), "id");
                if (n < CHANGES_PAGE || from >= d.last)
                        break;
        }
        if (d.last < d.since)
                d.last = d.since; /* a restored older database: keep the mark, send what is */

        r = compose(&cfg, rcpt, n_rcpt, &d, &b);
        if (r < 0) {
                log_error_errno(r, "Out of memory");
                goto out;
        }
        if (arg_dry_run) {
                fputs(b.data, stdout);
                r = fflush(stdout) == 0 ? 0 : log_error_errno(EIO, "Cannot write: %m");
                goto out;
        }
        r = smtp_send(isempty(cfg.mail_relay) ? DEFAULT_RELAY : cfg.mail_relay, cfg.mail_from,
                      (const char *const *)rcpt, n_rcpt, b.data, &smtp_error);
        if (r < 0) {
                log_error_errno(r, "Sending the digest failed, it will be sent again: %s",
                                smtp_error ? smtp_error : strerror(-r));
                goto out;
        }
        /* Sent: move the watermark, only from where this run found it. */
        snprintf(mark, sizeof(mark), "%" PRId64, d.last);
        req = trackle_request_new("setting.set");
        if (req) {
                json_object_object_add(req, "name", json_object_new_string(DIGEST_SETTING));
                json_object_object_add(req, "value", json_object_new_string(mark));
                json_object_object_add(req, "expect", json_object_new_string(prev));
        }
        {
                json_object *ignored = NULL;

                r = call(c, req, &ignored);
                json_object_put(ignored);
        }
        if (r < 0)
                log_error("The digest was sent, but its watermark could not be stored: the next "
                          "digest repeats these changes");
out:
        for (size_t i = 0; i < ELEMENTSOF(pages_replies); i++)
                json_object_put(pages_replies[i]);
        json_object_put(r_setting);
        json_object_put(r_tickets);
        free(b.data);
        trackled_config_done(&cfg);
        return r;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"config", required_argument, NULL, 'c'},
                {"dry-run", no_argument, NULL, 'n'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {},
        };
        int c;

        setlocale(LC_ALL, "");
        log_setup("trackle-notify");
        while ((c = getopt_long(argc, argv, "c:nh", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        break;
                case 'n':
                        arg_dry_run = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("trackle-notify (tracksuite) %s\n", PROJECT_VERSION);
                        return 0;
                default:
                        fprintf(stderr, "Try 'trackle-notify --help'.\n");
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "trackle-notify: no arguments expected\n"
                                "Try 'trackle-notify --help'.\n");
                return 2;
        }
        if (run() < 0) {
                log_fields(LOG_ERR, TRACKLE_NOTIFY_MID_FAILED, NULL, 0,
                           "The trackle digest was not sent; the next run sends every change "
                           "since the last digest that was.");
                return 1;
        }
        return 0;
}
