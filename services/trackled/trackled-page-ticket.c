/* trackled-page-ticket.c - /newticket and /ticket/N: filing, details, history, comments,
 * assign/close/reopen, subscribing, the lock. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "trackled-page.h"
#include "trackled-store-admin.h"

#define TICKET_COLUMNS                                                                             \
        "id, summary, description, type, severity, priority, component, milestone, keywords, "     \
        "owner, reporter, status, resolution, created, changed, coalesce(reporter_email, '')"
enum {
        T_ID,
        T_SUMMARY,
        T_DESCRIPTION,
        T_TYPE,
        T_SEVERITY,
        T_PRIORITY,
        T_COMPONENT,
        T_MILESTONE,
        T_KEYWORDS,
        T_OWNER,
        T_REPORTER,
        T_STATUS,
        T_RESOLUTION,
        T_CREATED,
        T_CHANGED,
        T_REPORTER_EMAIL, /* an anonymous reporter's address: sysadmins only */
};

static const char *const resolutions[] = {"fixed", "invalid", "wontfix", "duplicate", "worksforme"};

/* The help texts of the filing form (trackle.conf [Web] may replace them). */
static const char *help_text(const WebRequest *req, const char *field)
{
        const TrackledConfig *c = req->config;
        const char *configured = !c                            ? NULL
                                 : streq(field, "email")       ? c->help_email
                                 : streq(field, "summary")     ? c->help_summary
                                 : streq(field, "type")        ? c->help_type
                                 : streq(field, "severity")    ? c->help_severity
                                 : streq(field, "description") ? c->help_description
                                                               : NULL;

        static const struct {
                const char *field, *text;
        } defaults[] = {
                {"email", "We mail you a link to confirm the ticket; nobody sees your address "
                          "but the staff."},
                {"summary", "One line: what is wrong, or what you need."},
                {"type", "A defect is something broken; a task is work to be done."},
                {"severity", "How badly it hurts you."},
                {"description", "What you did, what you expected and what happened instead. "
                                "Formatting: Markdown; #12 links a ticket, [[Page]] a wiki "
                                "page."},
        };
        if (configured)
                return *configured ? configured : NULL; /* empty: no help text */
        for (size_t i = 0; i < ELEMENTSOF(defaults); i++)
                if (streq(defaults[i].field, field))
                        return defaults[i].text;
        return NULL;
}

/* A <select> of an enumeration's values (or of the milestones), or a text field when it has
 * none. */
static void field_choice(const WebRequest *req, Html *h, const char *field, const char *value)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        bool milestone = streq(field, "milestone"), any = false, seen = isempty(value);
        int r;

        r = page_prepare(req,
                         milestone ? "SELECT name FROM milestone WHERE ?1 IS NOT NULL "
                                     "ORDER BY completed IS NOT NULL, due IS NULL, due, name"
                                   : "SELECT name FROM enum_value WHERE type = ?1 "
                                     "ORDER BY position, name",
                         &st);
        if (r >= 0) {
                sqlite3_bind_text(st, 1, field, -1, SQLITE_STATIC);
                while (sqlite3_step(st) == SQLITE_ROW) {
                        const char *v = page_col(st, 0);

                        if (!any)
                                html_printf(h,
                                            "<select name=\"%s\" id=\"f-%s\"><option value=\"\">"
                                            "</option>",
                                            field, field);
                        any = true;
                        seen = seen || streq(v, value);
                        html_printf(h, "<option%s>%s</option>",
                                    streq(v, strempty(value)) ? " selected" : "", v);
                }
        }
        if (any) {
                /* a value no longer in the list stays what it is until changed */
                if (!seen)
                        html_printf(h, "<option selected>%s</option>", value);
                html_raw(h, "</select>");
                return;
        }
        html_printf(h,
                    "<input type=\"text\" name=\"%s\" id=\"f-%s\" value=\"%s\" maxlength=\"100\">",
                    field, field, strempty(value));
}

static void form_field(const WebRequest *req, Html *h, const char *field, const char *label,
                       const char *value, bool help)
{
        const char *text = help ? help_text(req, field) : NULL;

        html_printf(h, "<div class=\"field\"><label for=\"f-%s\">%s</label>", field, label);
        if (streq(field, "description"))
                html_printf(h,
                            "<textarea name=\"description\" id=\"f-description\" rows=\"10\" "
                            "cols=\"80\">%s</textarea>",
                            strempty(value));
        else if (streq(field, "type") || streq(field, "severity") || streq(field, "priority") ||
                 streq(field, "component") || streq(field, "milestone"))
                field_choice(req, h, field, value);
        else
                html_printf(h,
                            "<input type=\"%s\" name=\"%s\" id=\"f-%s\" value=\"%s\" "
                            "class=\"wide\" maxlength=\"%d\"%s>",
                            streq(field, "email") ? "email" : "text", field, field, strempty(value),
                            streq(field, "summary") ? TRACKLED_SUMMARY_MAX : 254,
                            streq(field, "summary") || streq(field, "email") ? " required" : "");
        if (text)
                html_printf(h, "<div class=\"help\">%s</div>", text);
        html_raw(h, "</div>");
}

/* One line of text: no control characters, at most max bytes. */
static bool one_line(const char *s, size_t max)
{
        size_t n = strlen(strempty(s));

        if (n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

static bool anonymous_field(const WebRequest *req, const char *field)
{
        return !req->config || trackled_config_anonymous_field(req->config, field);
}

static void newticket_form(const WebRequest *req, WebResponse *resp, const char *error)
{
        static const struct {
                const char *field, *label;
                bool admin_only;
        } fields[] = {
                {"summary", "Summary:", false},
                {"type", "Type:", false},
                {"severity", "Severity:", false},
                {"priority", "Priority:", true},
                {"component", "Component:", true},
                {"milestone", "Milestone:", true},
                {"owner", "Owner:", true},
                {"keywords", "Keywords:", true},
                {"description", "Description:", false},
        };
        Html *h = &resp->body;

        page_begin(req, resp, "New Ticket", "newticket");
        html_raw(h, "<h1>Create New Ticket</h1>");
        if (error)
                html_printf(h, "<p class=\"error\" role=\"alert\">%s</p>", error);
        page_form_begin(req, h, "/newticket", "newticket");
        html_raw(h, "<fieldset><legend>Properties</legend>");
        if (!req->admin)
                form_field(req, h, "email", "Your e-mail:", web_arg(req, "email"), true);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (req->admin ||
                    (!fields[i].admin_only &&
                     (streq(fields[i].field, "summary") || anonymous_field(req, fields[i].field))))
                        form_field(req, h, fields[i].field, fields[i].label,
                                   web_arg(req, fields[i].field), !req->admin);
        html_raw(h, "</fieldset><button type=\"submit\" class=\"primary\">Create ticket</button>");
        page_form_end(h);
        page_end(req, resp);
}

int web_page_newticket(const WebRequest *req, WebResponse *resp)
{
        static const char *const admin_fields[] = {"type",      "severity", "priority", "component",
                                                   "milestone", "owner",    "keywords"};
        const char *summary = web_arg(req, "summary"), *description = web_arg(req, "description");
        TrackledFieldChange changes[ELEMENTSOF(admin_fields)];
        const char *bad = NULL;
        size_t n = 0;
        int64_t id;
        char loc[64];
        int r;

        if (!streq(req->method, "POST")) {
                newticket_form(req, resp, NULL);
                return 0;
        }
        if (isempty(summary) || !one_line(summary, TRACKLED_SUMMARY_MAX)) {
                resp->status = 400;
                newticket_form(req, resp, "The summary is one line of 1 to 200 characters.");
                return 0;
        }
        if (description && strlen(description) > PAGE_TEXT_MAX) {
                resp->status = 400;
                newticket_form(req, resp, "The description is too long.");
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(admin_fields); i++) {
                const char *v = web_arg(req, admin_fields[i]);
                if (!isempty(v) && !one_line(v, 100)) {
                        resp->status = 400;
                        newticket_form(req, resp, "A field has more than one line of text.");
                        return 0;
                }
        }
        if (!req->admin) {
                const char *email = web_arg(req, "email");

                /* only the fields the form has */
                r = web_ticket_new_anonymous(
                        req, resp, email, summary,
                        anonymous_field(req, "description") ? strempty(description) : "",
                        anonymous_field(req, "type") ? web_arg(req, "type") : NULL,
                        anonymous_field(req, "severity") ? web_arg(req, "severity") : NULL);
                if (r < 0)
                        return r;
                if (r > 0) /* refused: the reason is in resp */
                        return 0;
                page_begin(req, resp, "Ticket filed", "newticket");
                html_printf(&resp->body,
                            "<h1>Almost done</h1><p class=\"notice\">We mailed a link to "
                            "<b>%s</b>. The ticket is filed once you follow it.</p>",
                            strempty(email));
                page_end(req, resp);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(admin_fields); i++) {
                const char *v = web_arg(req, admin_fields[i]);
                if (!isempty(v))
                        changes[n++] = (TrackledFieldChange){admin_fields[i], v};
        }
        r = trackled_store_begin(req->store);
        if (r < 0)
                return r;
        r = trackled_store_ticket_new(req->store, req->user, summary, strempty(description), &id);
        if (r >= 0 && n > 0) {
                r = trackled_store_ticket_update(req->store, id, req->user, changes, n, NULL, 0,
                                                 &bad);
                /* the fields are part of the creation, not changes after it */
        }
        if (r < 0) {
                trackled_store_rollback(req->store);
                if (r == -EDOM) {
                        char msg[128];

                        resp->status = 400;
                        snprintf(msg, sizeof(msg), "That %s is not one of the known values.",
                                 strempty(bad));
                        newticket_form(req, resp, msg);
                        return 0;
                }
                return r;
        }
        r = trackled_store_commit(req->store);
        if (r < 0)
                return r;
        (void)web_ticket_changed(req, id, "new", NULL); /* the staff hears of it */
        snprintf(loc, sizeof(loc), "/ticket/%" PRIi64, id);
        return web_redirect(resp, 303, loc);
}

/* ---- /ticket/N */

static void property(Html *h, const char *label, const char *value)
{
        html_printf(h, "<th>%s</th><td>%s</td>", label, strempty(value));
}

static void lock_box(const WebRequest *req, Html *h, int64_t id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (page_prepare(req,
                         "SELECT l.session, l.since, coalesce(s.user, '') FROM ticket_lock l "
                         "JOIN session s ON s.id = l.session AND s.state = 'open' "
                         "WHERE l.ticket = ?1",
                         &st) < 0)
                return;
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) != SQLITE_ROW)
                return;
        html_raw(h, "<p class=\"lock\">🔒 Locked: ");
        if (req->admin)
                html_printf(h, "<a href=\"/session/%" PRIi64 "\">session %" PRIi64 "</a> of ",
                            (int64_t)sqlite3_column_int64(st, 0),
                            (int64_t)sqlite3_column_int64(st, 0));
        else
                html_raw(h, "a tracked session of ");
        html_printf(h, "<b>%s</b> is working on it since ", page_col(st, 2));
        page_time(h, sqlite3_column_int64(st, 1));
        html_raw(h, ".</p>");
}

static void history(const WebRequest *req, Html *h, int64_t id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int64_t last_time = -1;
        _cleanup_free_ char *last_author = NULL;
        bool open = false, list = false;
        unsigned n = 0;

        if (page_prepare(req,
                         "SELECT time, author, field, old, new, comment FROM ticket_change "
                         "WHERE ticket = ?1 AND field != 'created' ORDER BY time, id",
                         &st) < 0)
                return;
        sqlite3_bind_int64(st, 1, id);
        html_raw(h, "<section id=\"changelog\"><h2>Change History</h2>");
        while (sqlite3_step(st) == SQLITE_ROW) {
                int64_t t = sqlite3_column_int64(st, 0);
                const char *author = page_col(st, 1), *field = page_col(st, 2);

                if (!open || t != last_time || !streq_ptr(author, last_author)) {
                        if (list)
                                html_raw(h, "</ul>");
                        if (open)
                                html_raw(h, "</div>");
                        n++;
                        html_printf(h,
                                    "<div class=\"change\" id=\"comment:%u\"><h3>"
                                    "<a href=\"#comment:%u\">#%u</a> Changed ",
                                    n, n, n);
                        page_time(h, t);
                        html_raw(h, " by ");
                        page_person(req, h, author);
                        html_raw(h, "</h3>");
                        open = true;
                        list = false;
                        last_time = t;
                        free(last_author);
                        last_author = strdup(author);
                }
                if (streq(field, "comment")) {
                        if (list)
                                html_raw(h, "</ul>");
                        list = false;
                        html_raw(h, "<div class=\"comment\">");
                        page_wiki(req, h, page_col(st, 5));
                        html_raw(h, "</div>");
                        continue;
                }
                if (!list)
                        html_raw(h, "<ul>");
                list = true;
                if (streq(field, "lock")) {
                        html_printf(h, "<li>lock <em>%s</em></li>", page_col(st, 5));
                        continue;
                }
                if (streq(field, "description")) {
                        html_raw(h, "<li><strong>description</strong> modified</li>");
                        continue;
                }
                html_printf(h, "<li><strong>%s</strong> ", field);
                if (sqlite3_column_type(st, 3) == SQLITE_NULL || !*page_col(st, 3))
                        html_printf(h, "set to <em>%s</em>", page_col(st, 4));
                else if (!*page_col(st, 4))
                        html_printf(h, "<em>%s</em> deleted", page_col(st, 3));
                else
                        html_printf(h, "changed from <em>%s</em> to <em>%s</em>", page_col(st, 3),
                                    page_col(st, 4));
                html_raw(h, "</li>");
        }
        if (list)
                html_raw(h, "</ul>");
        if (open)
                html_raw(h, "</div>");
        if (n == 0)
                html_raw(h, "<p>No changes yet.</p>");
        html_raw(h, "</section>");
}

static void sessions(const WebRequest *req, Html *h, int64_t id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        bool any = false;

        if (!req->admin || page_prepare(req,
                                        "SELECT id, user, host, started, state, "
                                        "(SELECT COUNT(*) FROM command WHERE session = s.id), "
                                        "(SELECT COUNT(*) FROM file_change WHERE session = s.id "
                                        "AND change IS NOT NULL) "
                                        "FROM session s WHERE ticket = ?1 ORDER BY id",
                                        &st) < 0)
                return;
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW) {
                if (!any)
                        html_raw(h, "<section class=\"sessions\"><h2>Sessions</h2><table "
                                    "class=\"listing\"><tr><th>Session</th><th>Admin</th>"
                                    "<th>Started</th><th>State</th><th>Commands</th>"
                                    "<th>Files</th></tr>");
                any = true;
                html_printf(h,
                            "<tr><td><a href=\"/session/%" PRIi64 "\">session %" PRIi64
                            "</a></td><td>%s@%s</td><td>",
                            (int64_t)sqlite3_column_int64(st, 0),
                            (int64_t)sqlite3_column_int64(st, 0), page_col(st, 1), page_col(st, 2));
                page_time(h, sqlite3_column_int64(st, 3));
                html_printf(h, "</td><td>%s</td><td>%" PRIi64 "</td><td>%" PRIi64 "</td></tr>",
                            page_col(st, 4), (int64_t)sqlite3_column_int64(st, 5),
                            (int64_t)sqlite3_column_int64(st, 6));
        }
        if (any)
                html_raw(h, "</table></section>");
}

static void subscribers(const WebRequest *req, Html *h, int64_t id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        bool any = false;

        if (!req->admin || page_prepare(req,
                                        "SELECT address FROM ticket_subscriber WHERE ticket = ?1 "
                                        "ORDER BY address",
                                        &st) < 0)
                return;
        sqlite3_bind_int64(st, 1, id);
        html_raw(h, "<th>Subscribers:</th><td>");
        while (sqlite3_step(st) == SQLITE_ROW) {
                html_printf(h, "%s%s", any ? ", " : "", page_col(st, 0));
                any = true;
        }
        html_raw(h, "</td>");
}

static void change_form(const WebRequest *req, Html *h, sqlite3_stmt *t, int64_t id)
{
        static const struct {
                const char *field, *label;
                int col;
        } fields[] = {
                {"summary", "Summary:", T_SUMMARY},       {"type", "Type:", T_TYPE},
                {"severity", "Severity:", T_SEVERITY},    {"priority", "Priority:", T_PRIORITY},
                {"component", "Component:", T_COMPONENT}, {"milestone", "Milestone:", T_MILESTONE},
                {"keywords", "Keywords:", T_KEYWORDS},
        };
        const char *status = page_col(t, T_STATUS);
        char action[64];

        snprintf(action, sizeof(action), "/ticket/%" PRIi64, id);
        page_form_begin(req, h, action, "propertyform");
        html_printf(h, "<input type=\"hidden\" name=\"changed\" value=\"%" PRIi64 "\">",
                    (int64_t)sqlite3_column_int64(t, T_CHANGED));
        html_raw(h, "<fieldset id=\"comment\"><legend>Add a comment</legend>"
                    "<textarea name=\"comment\" id=\"f-comment\" rows=\"6\" cols=\"80\">"
                    "</textarea></fieldset><fieldset><legend>Modify Ticket</legend>");
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                form_field(req, h, fields[i].field, fields[i].label, page_col(t, fields[i].col),
                           false);
        html_raw(h, "<div class=\"field\"><label for=\"f-description\">Description:</label>"
                    "<textarea name=\"description\" id=\"f-description\" rows=\"6\" "
                    "cols=\"80\">");
        html_txt(h, page_col(t, T_DESCRIPTION));
        html_raw(h, "</textarea></div></fieldset><fieldset><legend>Action</legend>"
                    "<div class=\"field\"><input type=\"radio\" name=\"action\" value=\"leave\" "
                    "id=\"a-leave\" checked><label for=\"a-leave\">leave as ");
        html_txt(h, status);
        html_raw(h, "</label></div>");
        if (!streq(status, "closed")) {
                html_printf(h,
                            "<div class=\"field\"><input type=\"radio\" name=\"action\" "
                            "value=\"assign\" id=\"a-assign\"><label for=\"a-assign\">assign "
                            "to</label> <input type=\"text\" name=\"assign_to\" "
                            "id=\"f-assign_to\" value=\"%s\" maxlength=\"100\"></div>",
                            *page_col(t, T_OWNER) ? page_col(t, T_OWNER) : strempty(req->user));
                html_raw(h, "<div class=\"field\"><input type=\"radio\" name=\"action\" "
                            "value=\"close\" id=\"a-close\"><label for=\"a-close\">close as"
                            "</label> <select name=\"resolution\" id=\"f-resolution\">");
                for (size_t i = 0; i < ELEMENTSOF(resolutions); i++)
                        html_printf(h, "<option>%s</option>", resolutions[i]);
                html_raw(h, "</select></div>");
        } else
                html_raw(h, "<div class=\"field\"><input type=\"radio\" name=\"action\" "
                            "value=\"reopen\" id=\"a-reopen\"><label for=\"a-reopen\">reopen"
                            "</label></div>");
        html_raw(h, "</fieldset><button type=\"submit\" class=\"primary\" name=\"submit\">"
                    "Submit changes</button>");
        page_form_end(h);
}

static void subscribe_form(const WebRequest *req, Html *h, int64_t id)
{
        html_raw(h, "<section class=\"subscribe\"><h3>Follow this ticket</h3>");
        page_form_begin(req, h, "/subscribe", "inline");
        html_printf(h, "<input type=\"hidden\" name=\"ticket\" value=\"%" PRIi64 "\">", id);
        if (!req->admin)
                html_raw(h, "<label for=\"f-subscribe\">Your e-mail:</label> <input "
                            "type=\"email\" name=\"email\" id=\"f-subscribe\" required "
                            "maxlength=\"254\"> ");
        html_raw(h, "<button type=\"submit\">Subscribe</button>");
        page_form_end(h);
        if (!req->admin)
                html_raw(h, "<p class=\"help\">We mail you a link to confirm; then you hear "
                            "of every change of its status.</p>");
        html_raw(h, "</section>");
}

static int ticket_post(const WebRequest *req, WebResponse *resp, int64_t id)
{
        static const char *const fields[] = {"summary",   "type",      "severity", "priority",
                                             "component", "milestone", "keywords", "description"};
        TrackledFieldChange changes[ELEMENTSOF(fields) + 3];
        const char *action = strempty(web_arg(req, "action")), *comment = web_arg(req, "comment");
        const char *bad = NULL, *v;
        int64_t expect = 0;
        size_t n = 0;
        char loc[64];
        int r;

        if (!req->admin)
                return page_error(req, resp, 403, "Only sysadmins change tickets.");
        (void)page_parse_id(web_arg(req, "changed"), &expect);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                v = web_arg(req, fields[i]);
                if (!v)
                        continue;
                if (streq(fields[i], "description")
                            ? strlen(v) > PAGE_TEXT_MAX
                            : !one_line(v,
                                        streq(fields[i], "summary") ? TRACKLED_SUMMARY_MAX : 100))
                        return page_error(req, resp, 400,
                                          "A field is too long or has more "
                                          "than one line.");
                if (streq(fields[i], "summary") && isempty(v))
                        return page_error(req, resp, 400, "The summary cannot be empty.");
                changes[n++] = (TrackledFieldChange){fields[i], v};
        }
        if (comment && strlen(comment) > PAGE_TEXT_MAX)
                return page_error(req, resp, 400, "The comment is too long.");
        if (streq(action, "assign")) {
                v = web_arg(req, "assign_to");
                if (isempty(v) || !one_line(v, 100))
                        return page_error(req, resp, 400, "Assign to whom?");
                changes[n++] = (TrackledFieldChange){"owner", v};
                changes[n++] = (TrackledFieldChange){"status", "assigned"};
        } else if (streq(action, "close")) {
                v = web_arg(req, "resolution");
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(resolutions); i++)
                        known = known || streq_ptr(v, resolutions[i]);
                if (!known)
                        return page_error(req, resp, 400, "Unknown resolution.");
                changes[n++] = (TrackledFieldChange){"status", "closed"};
                changes[n++] = (TrackledFieldChange){"resolution", v};
        } else if (streq(action, "reopen")) {
                changes[n++] = (TrackledFieldChange){"status", "reopened"};
                changes[n++] = (TrackledFieldChange){"resolution", ""};
        } else if (!streq(action, "leave") && !isempty(action))
                return page_error(req, resp, 400, "Unknown action.");
        r = trackled_store_ticket_update(req->store, id, req->user, changes, n, comment, expect,
                                         &bad);
        if (r == -ESTALE)
                return page_error(req, resp, 409,
                                  "Someone changed the ticket while you were editing it: "
                                  "go back, reload it and make your change again.");
        if (r == -EDOM) {
                char msg[128];
                snprintf(msg, sizeof(msg), "That %s is not one of the known values.",
                         strempty(bad));
                return page_error(req, resp, 400, msg);
        }
        if (r < 0)
                return r;
        if (r > 0)
                (void)web_ticket_changed(req, id, streq(action, "leave") ? NULL : action, comment);
        snprintf(loc, sizeof(loc), "/ticket/%" PRIi64 "#changelog", id);
        return web_redirect(resp, 303, loc);
}

int web_page_ticket(const WebRequest *req, WebResponse *resp)
{
        _cleanup_stmt_ sqlite3_stmt *t = NULL;
        const char *rest = req->path + strlen("/ticket/");
        char title[64], key[24];
        Html *h = &resp->body;
        int64_t id;
        int r;

        if (page_parse_id(rest, &id) < 0)
                return page_error(req, resp, 404, "No such ticket.");
        r = page_prepare(req,
                         "SELECT " TICKET_COLUMNS
                         " FROM ticket t WHERE id = ?1 AND " PAGE_TICKET_VISIBLE("t", "?2"),
                         &t);
        if (r < 0)
                return r;
        sqlite3_bind_int64(t, 1, id);
        sqlite3_bind_int(t, 2, req->admin);
        if (sqlite3_step(t) != SQLITE_ROW)
                return page_error(req, resp, 404, "No such ticket.");
        if (streq(req->method, "POST")) {
                /* done with the row before the update writes to it */
                sqlite3_reset(t);
                return ticket_post(req, resp, id);
        }

        snprintf(title, sizeof(title), "#%" PRIi64, id);
        page_begin(req, resp, title, "report");
        html_printf(h, "<h1>Ticket #%" PRIi64 " <span class=\"status\">(%s", id,
                    page_col(t, T_STATUS));
        if (*page_col(t, T_TYPE))
                html_printf(h, " %s", page_col(t, T_TYPE));
        if (*page_col(t, T_RESOLUTION))
                html_printf(h, ": %s", page_col(t, T_RESOLUTION));
        html_raw(h, ")</span></h1>");
        lock_box(req, h, id);
        html_raw(h, "<div class=\"ticket\"><div class=\"date\">Opened ");
        page_time(h, sqlite3_column_int64(t, T_CREATED));
        html_raw(h, ", last modified ");
        page_time(h, sqlite3_column_int64(t, T_CHANGED));
        html_printf(h,
                    "</div><h2 class=\"summary\">%s</h2><table class=\"properties\"><tr>"
                    "<th>Reported by:</th><td>",
                    page_col(t, T_SUMMARY));
        page_person(req, h, page_col(t, T_REPORTER));
        if (req->admin && *page_col(t, T_REPORTER_EMAIL))
                html_printf(h, " &lt;<a href=\"mailto:%s\">%s</a>&gt;",
                            page_col(t, T_REPORTER_EMAIL), page_col(t, T_REPORTER_EMAIL));
        html_raw(h, "</td><th>Owned by:</th><td>");
        page_person(req, h, page_col(t, T_OWNER));
        html_raw(h, "</td></tr><tr>");
        property(h, "Priority:", page_col(t, T_PRIORITY));
        html_raw(h, "<th>Milestone:</th><td>");
        if (*page_col(t, T_MILESTONE)) {
                WikiLinkInfo info = {.exists = true, .visible = true};
                wiki_link_html(h, WIKI_LINK_MILESTONE, 0, page_col(t, T_MILESTONE),
                               page_col(t, T_MILESTONE), &info);
        }
        html_raw(h, "</td></tr><tr>");
        property(h, "Component:", page_col(t, T_COMPONENT));
        property(h, "Severity:", page_col(t, T_SEVERITY));
        html_raw(h, "</tr><tr>");
        property(h, "Keywords:", page_col(t, T_KEYWORDS));
        subscribers(req, h, id);
        html_raw(h, "</tr></table><h3>Description</h3>");
        page_wiki(req, h, page_col(t, T_DESCRIPTION));
        html_raw(h, "</div>");
        snprintf(key, sizeof(key), "%" PRIi64, id);
        page_backlinks(req, h, WIKI_LINK_TICKET, key);
        sessions(req, h, id);
        history(req, h, id);
        if (req->admin)
                change_form(req, h, t, id);
        subscribe_form(req, h, id);
        page_end(req, resp);
        return 0;
}
