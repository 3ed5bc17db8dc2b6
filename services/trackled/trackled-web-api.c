/* trackled-web-api.c - the JSON API of the web (trackle-api(7)) and the mail side of it:
 * anonymous tickets and subscriptions confirmed by a mailed link, notifications to the staff
 * and to subscribers. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "log.h"
#include "macro.h"
#include "parse.h"
#include "utf8.h"
#include "trackled-account.h"
#include "trackled-mail.h"
#include "trackled-page.h"
#include "trackled-search.h"
#include "trackled-store-admin.h"
#include "trackled-web-internal.h"

#define CT_JSON "application/json; charset=utf-8"
#define API_JSON_DEPTH 8
#define TEXT_MAX (256 * 1024)

static void resetp(sqlite3_stmt **st)
{
        if (*st) {
                sqlite3_reset(*st);
                sqlite3_clear_bindings(*st);
        }
}
#define _cleanup_reset_ _cleanup_(resetp)

static void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

static int reply(WebResponse *resp, unsigned status, json_object *o)
{
        const char *text = json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

        html_done(&resp->body);
        resp->status = status;
        resp->content_type = CT_JSON;
        html_raw(&resp->body, text ?: "{}");
        html_raw(&resp->body, "\n");
        json_object_put(o);
        return 0;
}

static int reply_error(WebResponse *resp, unsigned status, const char *message)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "error", json_object_new_string(message));
        return reply(resp, status, o);
}

static int parse_body(const WebRequest *req, WebResponse *resp, json_object **ret)
{
        json_tokener *tok;
        json_object *o;

        if (!req->content_type || strncasecmp(req->content_type, "application/json", 16) != 0) {
                reply_error(resp, 415, "the body must be application/json");
                return -EINVAL;
        }
        tok = json_tokener_new_ex(API_JSON_DEPTH);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
        if (!o || json_tokener_get_error(tok) != json_tokener_success ||
            tok->char_offset != (int)req->body_len || !json_object_is_type(o, json_type_object)) {
                json_tokener_free(tok);
                json_object_put(o);
                reply_error(resp, 400, "the body must be one JSON object");
                return -EINVAL;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;
}

/* A string field: NULL when absent; -EINVAL (answered) when not a string or not valid text. */
static int get_text(json_object *o, const char *key, bool one_line, size_t max, WebResponse *resp,
                    const char **ret)
{
        json_object *v;
        const char *s;
        char msg[128];

        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return 0;
        s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
        if (!s || strlen(s) > max || (size_t)json_object_get_string_len(v) != strlen(s) ||
            !utf8_is_valid_n(s, strlen(s)) || (one_line && strpbrk(s, "\r\n"))) {
                snprintf(msg, sizeof(msg), "'%s' must be %stext of at most %zu bytes", key,
                         one_line ? "one line of " : "", max);
                reply_error(resp, 400, msg);
                return -EINVAL;
        }
        *ret = s;
        return 0;
}

static bool logged_in_api(TrackledWeb *w, const WebRequest *req, WebResponse *resp)
{
        if (!req->user) {
                reply_error(resp, 401, "login required (POST /api/login)");
                return false;
        }
        return true;
}

/* ---- tickets ---- */

static const char sql_visible[] = "SELECT status != 'unconfirmed', reporter_email FROM ticket "
                                  "WHERE id = ?";

/* 0 visible, -ENOENT not there or not for this visitor (the same answer for both). */
static int ticket_visible(const WebRequest *req, int64_t id, char **ret_email)
{
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(req->store, sql_visible);
        const char *e;
        int rc;

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return rc == SQLITE_DONE ? -ENOENT : -EIO;
        if (!req->admin && sqlite3_column_int(st, 0) == 0)
                return -ENOENT;
        e = (const char *)sqlite3_column_text(st, 1);
        if (ret_email)
                *ret_email = e ? strdup(e) : NULL;
        return 0;
}

static int ticket_object(const WebRequest *req, int64_t id, bool details, json_object **ret)
{
        _cleanup_free_ char *email = NULL;
        json_object *o;
        int r;

        r = ticket_visible(req, id, &email);
        if (r < 0)
                return r;
        r = trackled_store_ticket_json(req->store, id, details, &o);
        if (r < 0)
                return r;
        if (req->admin) {
                json_object_object_add(o, "reporter_email",
                                       email ? json_object_new_string(email) : NULL);
        } else
                /* Session logs are for sysadmins only. */
                json_object_object_del(o, "sessions");
        *ret = o;
        return 0;
}

static const char sql_list_all[] =
        "SELECT id FROM ticket WHERE (status != 'unconfirmed' OR ?1) AND "
        "(?2 IS NULL OR status = ?2) ORDER BY id LIMIT 1000";

static int api_ticket_list(const WebRequest *req, WebResponse *resp)
{
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(req->store, sql_list_all);
        json_object *a, *o;
        int rc, r;

        if (!st)
                return -EIO;
        sqlite3_bind_int(st, 1, req->admin);
        if (web_arg(req, "status"))
                sqlite3_bind_text(st, 2, web_arg(req, "status"), -1, SQLITE_TRANSIENT);
        a = json_object_new_array();
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = ticket_object(req, sqlite3_column_int64(st, 0), false, &o);
                if (r >= 0)
                        json_object_array_add(a, o);
        }
        o = json_object_new_object();
        json_object_object_add(o, "tickets", a);
        return reply(resp, 200, o);
}

/* [Mail] Staff= may name several addresses, separated by commas or white space; one that is
 * not an address is skipped (trackled --check-config and trackle-notify say so). */
static int queue_to_list(TrackledWeb *w, const char *list, const char *subject, const char *body)
{
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;
        int r;

        if (!copy)
                return -ENOMEM;
        for (char *a = strtok_r(copy, ", \t", &save); a; a = strtok_r(NULL, ", \t", &save)) {
                r = trackled_mail_queue(web_mail(w), a, subject, body);
                if (r == -EINVAL)
                        log_warning("[Mail] Staff=: '%s' is not a mail address, ignoring.", a);
                else if (r < 0)
                        return r;
        }
        return 0;
}

static const char *jstr(json_object *o, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !v)
                return "";
        return json_object_get_string(v);
}

/* An indented block of text (every line, the last one ended). */
static void put_indented(FILE *f, const char *text)
{
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n");

                fprintf(f, "    %.*s\n", (int)n, p);
                p += n + (p[n] == '\n');
        }
}

/* The full change for the staff: the fields, the description, and the history rows of the
 * latest change (with its comment). */
static int notify_staff(TrackledWeb *w, const WebRequest *req, int64_t id, const char *what)
{
        static const char *const fields[] = {"status",    "resolution", "type",
                                             "severity",  "priority",   "component",
                                             "milestone", "owner",      "keywords"};
        _cleanup_json_ json_object *t = NULL;
        _cleanup_free_ char *email = NULL, *body = NULL, *subject = NULL;
        const char *staff = req->config->staff_address, *last;
        json_object *history;
        size_t len = 0, n;
        FILE *f;

        if (isempty(staff))
                return 0;
        if (trackled_store_ticket_json(req->store, id, true, &t) < 0)
                return -EIO;
        {
                WebRequest admin = *req;

                admin.admin = true;
                (void)ticket_visible(&admin, id, &email);
        }
        if (asprintf(&subject, "[%s #%" PRId64 "] %s: %s", req->config->site_name, id, what,
                     jstr(t, "summary")) < 0)
                return -ENOMEM;
        f = open_memstream(&body, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s by %s\n%s/ticket/%" PRId64 "\n\n", what, req->user ?: "anonymous",
                req->config->base_url, id);
        fprintf(f, "#%" PRId64 ": %s\n\n", id, jstr(t, "summary"));
        fprintf(f, "  %-11s %s%s%s%s\n", "reporter:", jstr(t, "reporter"), email ? " <" : "",
                email ?: "", email ? ">" : "");
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (!isempty(jstr(t, fields[i])))
                        fprintf(f, "  %-11s %s\n", fields[i], jstr(t, fields[i]));
        fputs("\nDescription:\n", f);
        put_indented(f, jstr(t, "description"));
        if (json_object_object_get_ex(t, "history", &history) &&
            (n = json_object_array_length(history)) > 0) {
                last = jstr(json_object_array_get_idx(history, n - 1), "time");
                fprintf(f, "\nChanges of %s:\n", last);
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(history, i);

                        if (!streq(jstr(e, "time"), last))
                                continue;
                        if (!isempty(jstr(e, "comment")) && streq(jstr(e, "field"), "comment")) {
                                fprintf(f, "  comment by %s:\n", jstr(e, "author"));
                                put_indented(f, jstr(e, "comment"));
                        } else
                                fprintf(f, "  %s: '%s' -> '%s' (%s)\n", jstr(e, "field"),
                                        jstr(e, "old"), jstr(e, "new"), jstr(e, "author"));
                }
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        return queue_to_list(w, staff, subject, body);
}

static const char sql_subscribers[] =
        "SELECT address FROM ticket_subscriber WHERE ticket = ? AND confirmed";

/* Abbreviated: what changed and a link; nothing a subscriber has no right to see. */
/* Abbreviated: the new status and the comment made with it, and a link; nothing a subscriber
 * could not read on the ticket's page. */
static int notify_subscribers(TrackledWeb *w, const WebRequest *req, int64_t id,
                              const char *summary, const char *status, const char *comment)
{
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(req->store, sql_subscribers);
        _cleanup_free_ char *subject = NULL, *body = NULL;
        size_t len = 0;
        FILE *f;
        int rc;

        if (!st)
                return -EIO;
        if (asprintf(&subject, "[%s #%" PRId64 "] now %s: %s", req->config->site_name, id, status,
                     summary) < 0)
                return -ENOMEM;
        f = open_memstream(&body, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "Ticket #%" PRId64 " (%s) is now %s.\n", id, summary, status);
        if (!isempty(comment)) {
                fputs("\n", f);
                put_indented(f, comment);
        }
        fprintf(f,
                "\n%s/ticket/%" PRId64 "\n\nYou get this mail because you subscribed to the "
                "ticket.\n",
                req->config->base_url, id);
        if (fclose(f) != 0)
                return -ENOMEM;
        sqlite3_bind_int64(st, 1, id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                (void)trackled_mail_queue(web_mail(w), (const char *)sqlite3_column_text(st, 0),
                                          subject, body);
        return 0;
}

static int send_confirmation(TrackledWeb *w, const WebRequest *req, const char *purpose, int64_t id,
                             const char *email, const char *summary)
{
        _cleanup_free_ char *subject = NULL, *body = NULL;
        char token[WEB_TOKEN_HEX];
        int r;

        r = confirm_token_new(req->store, purpose, id, email, WEB_CONFIRM_LIFETIME_SEC, token);
        if (r < 0)
                return r;
        if (asprintf(&subject, "[%s] Please confirm %s", req->config->site_name,
                     streq(purpose, "ticket") ? "your ticket" : "your subscription") < 0 ||
            asprintf(&body,
                     "Somebody, probably you, %s at %s:\n\n  %s\n\n"
                     "To confirm, open this link within 48 hours:\n\n  %s/confirm/%s\n\n"
                     "If it was not you, ignore this mail: nothing happens without the "
                     "confirmation.\n",
                     streq(purpose, "ticket") ? "filed a ticket" : "subscribed to a ticket",
                     req->config->site_name, summary, req->config->base_url, token) < 0)
                return -ENOMEM;
        return trackled_mail_queue(web_mail(w), email, subject, body);
}

static bool anon_allowed(TrackledWeb *w, const WebRequest *req, const char *email)
{
        return web_rate_check(w, RATE_ANON_CLIENT, req->client, WEB_TICKETS_PER_CLIENT,
                              WEB_ANON_WINDOW_SEC, false) &&
               web_rate_check(w, RATE_MAIL_ADDRESS, email, WEB_MAILS_PER_ADDRESS,
                              WEB_ANON_WINDOW_SEC, false);
}

static void anon_count(TrackledWeb *w, const WebRequest *req, const char *email)
{
        (void)web_rate_check(w, RATE_ANON_CLIENT, req->client, WEB_TICKETS_PER_CLIENT,
                             WEB_ANON_WINDOW_SEC, true);
        (void)web_rate_check(w, RATE_MAIL_ADDRESS, email, WEB_MAILS_PER_ADDRESS,
                             WEB_ANON_WINDOW_SEC, true);
}

static const char sql_anon_ticket[] = "UPDATE ticket SET status = CASE WHEN ?1 THEN status ELSE "
                                      "'unconfirmed' END, reporter_email = ?2, "
                                      "type = coalesce(?, type), severity = coalesce(?, severity) "
                                      "WHERE id = ?";

/* An anonymous ticket: rate limits, the ticket ('unconfirmed'), the confirmation mail. 0 filed,
 * > 0 refused (*ret_status, *ret_message say why), -errno. */
static int ticket_new_anonymous(TrackledWeb *w, const WebRequest *req, const char *email,
                                const char *summary, const char *description, const char *type,
                                const char *severity, unsigned *ret_status,
                                const char **ret_message)
{
        int64_t id;
        int r;

        if (!email || !account_email_valid(email)) {
                *ret_status = 400;
                *ret_message = "'email' must be a mail address: the ticket is filed once you "
                               "confirm it";
                return 1;
        }
        if (!anon_allowed(w, req, email)) {
                *ret_status = 429;
                *ret_message = "too many tickets from here or to this address; try again later";
                return 1;
        }
        r = trackled_store_begin(req->store);
        if (r < 0)
                return r;
        r = trackled_store_ticket_new(req->store, "anonymous", summary, description ?: "", &id);
        if (r >= 0) {
                _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(req->store, sql_anon_ticket);

                if (!st)
                        r = -EIO;
                else {
                        sqlite3_bind_int(st, 1, 0);
                        sqlite3_bind_text(st, 2, email, -1, SQLITE_TRANSIENT);
                        if (!isempty(type))
                                sqlite3_bind_text(st, 3, type, -1, SQLITE_TRANSIENT);
                        if (!isempty(severity))
                                sqlite3_bind_text(st, 4, severity, -1, SQLITE_TRANSIENT);
                        sqlite3_bind_int64(st, 5, id);
                        r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
                }
        }
        if (r >= 0)
                r = send_confirmation(w, req, "ticket", id, email, summary);
        r = trackled_store_end(req->store, r);
        if (r < 0)
                return r;
        anon_count(w, req, email);
        return 0;
}

int web_ticket_new_anonymous(const WebRequest *req, WebResponse *resp, const char *email,
                             const char *summary, const char *description, const char *type,
                             const char *severity)
{
        const char *message = NULL;
        unsigned status = 400;
        int r;

        r = ticket_new_anonymous(web_of(req), req, email, summary, description, type, severity,
                                 &status, &message);
        if (r > 0)
                (void)web_error(resp, status, message);
        return r;
}

int web_ticket_changed(const WebRequest *req, int64_t id, const char *action, const char *comment)
{
        _cleanup_json_ json_object *t = NULL;
        TrackledWeb *w = web_of(req);
        int r;

        if (streq_ptr(action, "new"))
                return notify_staff(w, req, id, "new ticket");
        r = notify_staff(w, req, id, action ? "status changed" : comment ? "comment" : "changed");
        if (r < 0 || !action)
                return r;
        r = trackled_store_ticket_json(req->store, id, false, &t);
        if (r < 0)
                return r;
        return notify_subscribers(w, req, id, jstr(t, "summary"), jstr(t, "status"), comment);
}

static int api_ticket_new(TrackledWeb *w, const WebRequest *req, WebResponse *resp)
{
        _cleanup_json_ json_object *in = NULL;
        const char *email, *summary, *description, *type, *severity;
        json_object *o;
        int64_t id;
        int r;

        if (parse_body(req, resp, &in) < 0)
                return 0;
        if (get_text(in, "email", true, 254, resp, &email) < 0 ||
            get_text(in, "summary", true, TRACKLED_SUMMARY_MAX, resp, &summary) < 0 ||
            get_text(in, "description", false, TEXT_MAX, resp, &description) < 0 ||
            get_text(in, "type", true, 64, resp, &type) < 0 ||
            get_text(in, "severity", true, 64, resp, &severity) < 0)
                return 0;
        if (isempty(summary))
                return reply_error(resp, 400, "'summary' is required");
        if (!req->user) {
                const char *message = NULL;
                unsigned status = 400;

                r = ticket_new_anonymous(w, req, email, summary, description, type, severity,
                                         &status, &message);
                if (r < 0)
                        return r;
                if (r > 0)
                        return reply_error(resp, status, message);
                o = json_object_new_object();
                json_object_object_add(o, "status", json_object_new_string("pending"));
                json_object_object_add(o, "message",
                                       json_object_new_string("a confirmation link was mailed "
                                                              "to the address given"));
                return reply(resp, 202, o);
        }
        r = trackled_store_begin(req->store);
        if (r < 0)
                return r;
        r = trackled_store_ticket_new(req->store, req->user, summary, description ?: "", &id);
        if (r >= 0 && (type || severity)) {
                TrackledFieldChange ch[2];
                size_t n = 0;

                if (type)
                        ch[n++] = (TrackledFieldChange){"type", type};
                if (severity)
                        ch[n++] = (TrackledFieldChange){"severity", severity};
                r = trackled_store_ticket_update(req->store, id, req->user, ch, n, NULL, 0, NULL);
                if (r == -EDOM) {
                        trackled_store_rollback(req->store);
                        return reply_error(resp, 400,
                                           "'type' or 'severity' is not one of the "
                                           "values configured for it");
                }
        }
        if (r >= 0)
                r = notify_staff(w, req, id, "new ticket");
        r = trackled_store_end(req->store, r);
        if (r < 0)
                return r;
        r = ticket_object(req, id, true, &o);
        if (r < 0)
                return r;
        {
                char loc[64];

                snprintf(loc, sizeof(loc), "/api/tickets/%" PRId64, id);
                (void)web_response_header(resp, "Location", loc);
        }
        return reply(resp, 201, o);
}

static int api_ticket_get(const WebRequest *req, WebResponse *resp, int64_t id)
{
        json_object *o;
        int r;

        r = ticket_object(req, id, true, &o);
        if (r == -ENOENT)
                return reply_error(resp, 404, "no such ticket");
        if (r < 0)
                return r;
        return reply(resp, 200, o);
}

static int api_comment(TrackledWeb *w, const WebRequest *req, WebResponse *resp, int64_t id)
{
        _cleanup_json_ json_object *in = NULL;
        const char *comment;
        json_object *o;
        int r;

        if (!logged_in_api(w, req, resp))
                return 0;
        if (ticket_visible(req, id, NULL) < 0)
                return reply_error(resp, 404, "no such ticket");
        if (parse_body(req, resp, &in) < 0 ||
            get_text(in, "comment", false, TEXT_MAX, resp, &comment) < 0)
                return 0;
        if (isempty(comment))
                return reply_error(resp, 400, "'comment' is required");
        r = trackled_store_begin(req->store);
        if (r < 0)
                return r;
        r = trackled_store_ticket_update(req->store, id, req->user, NULL, 0, comment, 0, NULL);
        if (r >= 0)
                r = notify_staff(w, req, id, "comment");
        r = trackled_store_end(req->store, r);
        if (r < 0)
                return r;
        r = ticket_object(req, id, true, &o);
        return r < 0 ? r : reply(resp, 201, o);
}

static const char *const statuses[] = {"new", "assigned", "accepted", "reopened", "closed"};

static int api_patch(TrackledWeb *w, const WebRequest *req, WebResponse *resp, int64_t id)
{
        _cleanup_json_ json_object *in = NULL, *before = NULL, *after = NULL;
        TrackledFieldChange changes[32];
        const char *comment, *bad = NULL;
        size_t n = 0;
        json_object *o, *v;
        int r;

        if (!logged_in_api(w, req, resp))
                return 0;
        if (ticket_visible(req, id, NULL) < 0)
                return reply_error(resp, 404, "no such ticket");
        if (parse_body(req, resp, &in) < 0 ||
            get_text(in, "comment", false, TEXT_MAX, resp, &comment) < 0)
                return 0;
        json_object_object_foreach(in, key, val)
        {
                const char *value;
                char msg[160];

                if (streq(key, "comment"))
                        continue;
                if (!trackled_ticket_field_valid(key) || streq(key, "reporter") ||
                    n >= ELEMENTSOF(changes)) {
                        snprintf(msg, sizeof(msg), "'%.64s' is not a field PATCH can change", key);
                        return reply_error(resp, 400, msg);
                }
                (void)val;
                if (get_text(in, key, !streq(key, "description"),
                             streq(key, "summary") ? TRACKLED_SUMMARY_MAX : TEXT_MAX, resp,
                             &value) < 0)
                        return 0;
                if (!value) {
                        snprintf(msg, sizeof(msg), "'%.64s' must be a string", key);
                        return reply_error(resp, 400, msg);
                }
                if (streq(key, "summary") && !value[0])
                        return reply_error(resp, 400, "'summary' must not be empty");
                if (streq(key, "status")) {
                        bool ok = false;

                        for (size_t j = 0; j < ELEMENTSOF(statuses); j++)
                                ok = ok || streq(value, statuses[j]);
                        if (!ok)
                                return reply_error(resp, 400,
                                                   "'status' must be new, assigned, "
                                                   "accepted, reopened or closed");
                }
                changes[n++] = (TrackledFieldChange){.field = key, .value = value};
        }
        r = trackled_store_ticket_json(req->store, id, false, &before);
        if (r < 0)
                return r;
        r = trackled_store_begin(req->store);
        if (r < 0)
                return r;
        r = trackled_store_ticket_update(req->store, id, req->user, changes, n, comment, 0, &bad);
        if (r == -EDOM) {
                char msg[160];

                trackled_store_rollback(req->store);
                snprintf(msg, sizeof(msg), "'%.64s' is not one of the values configured for it",
                         bad ?: "a field");
                return reply_error(resp, 400, msg);
        }
        if (r > 0)
                r = trackled_store_ticket_json(req->store, id, false, &after);
        if (r > 0 || (r >= 0 && after)) {
                const char *s0 = json_object_object_get_ex(before, "status", &v)
                                         ? json_object_get_string(v)
                                         : "";
                const char *s1 = json_object_object_get_ex(after, "status", &v)
                                         ? json_object_get_string(v)
                                         : "";
                const char *summary = json_object_object_get_ex(after, "summary", &v)
                                              ? json_object_get_string(v)
                                              : "";
                bool status_changed = !streq_ptr(s0, s1);

                r = notify_staff(w, req, id, status_changed ? "status changed" : "changed");
                if (r >= 0 && status_changed)
                        r = notify_subscribers(w, req, id, summary, s1, comment);
        }
        r = trackled_store_end(req->store, r);
        if (r < 0)
                return r;
        r = ticket_object(req, id, true, &o);
        return r < 0 ? r : reply(resp, 200, o);
}

/* ---- wiki ---- */

static const char sql_wiki_private[] = "SELECT private FROM wiki_page WHERE name = ?";
static const char sql_wiki_set_private[] = "UPDATE wiki_page SET private = ? WHERE name = ?";

/* Private pages (spec §5): sysadmins only; to anyone else they do not exist. */
static bool wiki_private(TrackledStore *s, const char *name)
{
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(s, sql_wiki_private);

        if (!st)
                return true;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        return sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
}

static int api_wiki(TrackledWeb *w, const WebRequest *req, WebResponse *resp, const char *name)
{
        json_object *o;
        int r;

        if (!wiki_name_valid(name, strlen(name)))
                return reply_error(resp, 400, "bad page name");
        if (!req->user && wiki_private(req->store, name))
                return reply_error(resp, 404, "no such page");
        if (streq(req->method, "PUT")) {
                _cleanup_json_ json_object *in = NULL;
                json_object *priv = NULL;
                const char *text, *comment;
                int64_t version;

                if (!logged_in_api(w, req, resp))
                        return 0;
                if (parse_body(req, resp, &in) < 0 ||
                    get_text(in, "text", false, TEXT_MAX, resp, &text) < 0 ||
                    get_text(in, "comment", true, 1000, resp, &comment) < 0)
                        return 0;
                if (!text)
                        return reply_error(resp, 400, "'text' is required");
                if (json_object_object_get_ex(in, "private", &priv) &&
                    !json_object_is_type(priv, json_type_boolean))
                        return reply_error(resp, 400, "'private' must be true or false");
                r = trackled_store_wiki_put(req->store, name, text, req->user, comment, -1,
                                            &version);
                if (r < 0)
                        return r;
                if (priv) {
                        _cleanup_reset_ sqlite3_stmt *st =
                                trackled_store_stmt(req->store, sql_wiki_set_private);

                        if (!st)
                                return -EIO;
                        sqlite3_bind_int(st, 1, json_object_get_boolean(priv));
                        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
                        if (sqlite3_step(st) != SQLITE_DONE)
                                return -EIO;
                }
        } else if (!streq(req->method, "GET") && !streq(req->method, "HEAD"))
                return reply_error(resp, 405, "GET or PUT");
        r = trackled_store_wiki_get(req->store, name, 0, &o);
        if (r == -ENOENT)
                return reply_error(resp, 404, "no such page");
        if (r < 0)
                return r;
        json_object_object_add(o, "private",
                               json_object_new_boolean(wiki_private(req->store, name)));
        return reply(resp, 200, o);
}

/* ---- search: the full-text index of the pages (trackled-search.c) ---- */

static int api_search(const WebRequest *req, WebResponse *resp)
{
        const char *q = web_arg(req, "q");
        json_object *o, *a;
        int r;

        if (isempty(q) || strlen(q) > TRACKLED_SEARCH_QUERY_MAX)
                return reply_error(resp, 400, "'q' must be 1 to 512 bytes");
        r = trackled_search(req->store, q, req->admin, 50, &a);
        if (r == -EINVAL)
                return reply_error(resp, 400, "'q' needs 1 to 16 words");
        if (r < 0)
                return r;
        o = json_object_new_object();
        json_object_object_add(o, "query", json_object_new_string(q));
        json_object_object_add(o, "results", a);
        return reply(resp, 200, o);
}

/* ---- login ---- */

static int api_login(TrackledWeb *w, const WebRequest *req, WebResponse *resp)
{
        _cleanup_json_ json_object *in = NULL;
        const char *user, *password;
        char csrf[WEB_TOKEN_HEX];
        json_object *o;
        int r;

        if (parse_body(req, resp, &in) < 0 ||
            get_text(in, "user", true, ACCOUNT_NAME_MAX, resp, &user) < 0 ||
            get_text(in, "password", false, ACCOUNT_PASSWORD_MAX, resp, &password) < 0)
                return 0;
        if (!user || !password)
                return reply_error(resp, 400, "'user' and 'password' are required");
        r = web_login_start(w, req, resp, user, password, csrf);
        if (r == -EBUSY)
                return reply_error(resp, 429, "too many failed logins; try again later");
        if (r == -EACCES)
                return reply_error(resp, 403, "wrong user or password");
        if (r < 0)
                return r;
        o = json_object_new_object();
        json_object_object_add(o, "user", json_object_new_string(user));
        json_object_object_add(o, "csrf_token", json_object_new_string(csrf));
        return reply(resp, 200, o);
}

static int parse_id(const char *s, int64_t *ret, const char **ret_rest)
{
        char buf[24];
        size_t n = strspn(s, "0123456789");
        uint64_t v;

        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (parse_uint64(buf, &v) < 0 || v == 0 || v > INT64_MAX)
                return -EINVAL;
        *ret = (int64_t)v;
        *ret_rest = s + n;
        return 0;
}

int web_api(TrackledWeb *w, const WebRequest *req, WebResponse *resp)
{
        const char *p = req->path + 4, *rest, *m = req->method;
        bool get = streq(m, "GET") || streq(m, "HEAD");
        int64_t id;

        /* A call that carries the login cookie changes state only with the session's token:
         * a page of another site cannot send the header. */
        if (!get && req->user && !web_token_equal(web_header(req, "X-CSRF-Token"), req->csrf_token))
                return reply_error(resp, 403,
                                   "X-CSRF-Token missing or wrong (POST /api/login "
                                   "returns it)");
        if (streq(p, "/login"))
                return streq(m, "POST") ? api_login(w, req, resp)
                                        : reply_error(resp, 405, "POST only");
        if (streq(p, "/tickets"))
                return get                ? api_ticket_list(req, resp)
                       : streq(m, "POST") ? api_ticket_new(w, req, resp)
                                          : reply_error(resp, 405, "GET or POST");
        if (strncmp(p, "/tickets/", 9) == 0 && parse_id(p + 9, &id, &rest) >= 0) {
                if (streq(rest, ""))
                        return get                 ? api_ticket_get(req, resp, id)
                               : streq(m, "PATCH") ? api_patch(w, req, resp, id)
                                                   : reply_error(resp, 405, "GET or PATCH");
                if (streq(rest, "/comments"))
                        return streq(m, "POST") ? api_comment(w, req, resp, id)
                                                : reply_error(resp, 405, "POST only");
        }
        if (strncmp(p, "/wiki/", 6) == 0)
                return api_wiki(w, req, resp, p + 6);
        if (streq(p, "/search"))
                return get ? api_search(req, resp) : reply_error(resp, 405, "GET only");
        return reply_error(resp, 404, "no such API path (see trackle-api(7))");
}

/* ---- the mail side of the pages: subscribe and confirm (forms, CSRF checked) ---- */

static const char sql_subscribe[] = "INSERT INTO ticket_subscriber (ticket, address, confirmed) "
                                    "VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET "
                                    "confirmed = max(confirmed, excluded.confirmed)";
static const char sql_confirm_ticket[] = "UPDATE ticket SET status = 'new' WHERE id = ? AND "
                                         "status = 'unconfirmed'";

static int simple_page(const WebRequest *req, WebResponse *resp, unsigned status, const char *title,
                       const char *text)
{
        Html *h = &resp->body;

        resp->status = status;
        page_begin(req, resp, title, NULL);
        html_printf(h, "<h1>%s</h1><p>%s</p>", title, text);
        page_end(req, resp);
        return 0;
}

int web_subscribe(TrackledWeb *w, const WebRequest *req, WebResponse *resp)
{
        const char *email = web_arg(req, "email"), *ticket = web_arg(req, "ticket"), *rest;
        _cleanup_json_ json_object *t = NULL;
        json_object *s;
        int64_t id;
        int r;

        if (!streq(req->method, "POST"))
                return simple_page(req, resp, 405, "Subscribe",
                                   "Use the form of the ticket's page.");
        if (!ticket || parse_id(ticket, &id, &rest) < 0 || *rest ||
            ticket_visible(req, id, NULL) < 0)
                return simple_page(req, resp, 404, "Subscribe", "No such ticket.");
        if (!email || !account_email_valid(email))
                return simple_page(req, resp, 400, "Subscribe", "That is not a mail address.");
        if (!req->user && !anon_allowed(w, req, email))
                return simple_page(req, resp, 429, "Subscribe",
                                   "Too many requests from here or to this address; try again "
                                   "later.");
        r = trackled_store_ticket_json(req->store, id, false, &t);
        if (r < 0)
                return r;
        r = trackled_store_begin(req->store);
        if (r < 0)
                return r;
        {
                _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(req->store, sql_subscribe);

                if (!st)
                        r = -EIO;
                else {
                        sqlite3_bind_int64(st, 1, id);
                        sqlite3_bind_text(st, 2, email, -1, SQLITE_TRANSIENT);
                        /* A sysadmin subscribes others at once; anyone else confirms first. */
                        sqlite3_bind_int(st, 3, req->user ? 1 : 0);
                        r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
                }
        }
        if (r >= 0 && !req->user)
                r = send_confirmation(w, req, "subscribe", id, email,
                                      json_object_object_get_ex(t, "summary", &s)
                                              ? json_object_get_string(s)
                                              : "");
        r = trackled_store_end(req->store, r);
        if (r < 0)
                return r;
        if (req->user)
                return simple_page(req, resp, 200, "Subscribed", "The address is subscribed.");
        anon_count(w, req, email);
        return simple_page(req, resp, 202, "Almost subscribed",
                           "A confirmation link was mailed to the address; the subscription "
                           "starts once you open it.");
}

int web_confirm(TrackledWeb *w, const WebRequest *req, WebResponse *resp)
{
        const char *token = req->path + strlen("/confirm/");
        _cleanup_free_ char *address = NULL;
        char purpose[32];
        int64_t id;
        int r;

        if (streq(req->method, "GET") || streq(req->method, "HEAD")) {
                Html *h = &resp->body;

                /* The link only shows a button: a mail scanner that follows links confirms
                 * nothing. */
                _cleanup_free_ char *action = NULL;

                if (strlen(token) != WEB_TOKEN_HEX - 1 ||
                    strspn(token, "0123456789abcdef") != WEB_TOKEN_HEX - 1)
                        return simple_page(req, resp, 404, "Not confirmed",
                                           "This link is not one of ours.");
                if (asprintf(&action, "/confirm/%s", token) < 0)
                        return -ENOMEM;
                page_begin(req, resp, "Confirm", NULL);
                html_raw(h, "<h1>Confirm</h1><p>Press the button to confirm.</p>");
                page_form_begin(req, h, action, NULL);
                html_raw(h, "<button type=\"submit\">Confirm</button>");
                page_form_end(h);
                page_end(req, resp);
                return 0;
        }
        r = trackled_store_begin(req->store);
        if (r < 0)
                return r;
        r = confirm_token_use(req->store, token, purpose, sizeof(purpose), &id, &address);
        if (r == -ENOENT || r == -ESTALE) {
                trackled_store_rollback(req->store);
                return simple_page(req, resp, 404, "Not confirmed",
                                   "This link is unknown, was used already or has expired.");
        }
        if (r >= 0 && streq(purpose, "ticket")) {
                _cleanup_reset_ sqlite3_stmt *st =
                        trackled_store_stmt(req->store, sql_confirm_ticket);

                r = st && sqlite3_bind_int64(st, 1, id) == SQLITE_OK &&
                                    sqlite3_step(st) == SQLITE_DONE
                            ? 0
                            : -EIO;
                if (r >= 0)
                        r = trackled_store_ticket_history(req->store, id, "anonymous", "confirmed",
                                                          NULL, NULL, NULL);
                if (r >= 0)
                        r = notify_staff(w, req, id, "new ticket");
        } else if (r >= 0) {
                _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(req->store, sql_subscribe);

                if (!st)
                        r = -EIO;
                else {
                        sqlite3_bind_int64(st, 1, id);
                        sqlite3_bind_text(st, 2, address, -1, SQLITE_TRANSIENT);
                        sqlite3_bind_int(st, 3, 1);
                        r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
                }
        }
        r = trackled_store_end(req->store, r);
        if (r < 0)
                return r;
        {
                char text[128];

                snprintf(text, sizeof(text), "%s #%" PRId64 " is confirmed. Thank you.",
                         streq(purpose, "ticket") ? "Ticket" : "Your subscription to ticket", id);
                return simple_page(req, resp, 200, "Confirmed", text);
        }
}
