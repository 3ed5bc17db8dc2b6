/* trackled-page-timeline.c - /timeline (every change, newest first), /roadmap and
 * /milestone/NAME. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "trackled-page.h"

#define TIMELINE_MAX 300

/* ?1 since, ?2 admin, ?3 limit. kind, time, key, who, text, extra. */
static const char sql_timeline[] =
        "SELECT * FROM ("
        " SELECT 'created' AS kind, t.created AS time, t.id AS key, t.reporter AS who, "
        "  t.summary AS text, '' AS extra FROM ticket t "
        "  WHERE t.created >= ?1 AND " PAGE_TICKET_VISIBLE(
                "t",
                "?2") " UNION ALL SELECT c.field, c.time, c.ticket, c.author, t.summary, "
                      "  CASE c.field WHEN 'status' THEN c.new ELSE coalesce(c.comment, '') END "
                      "  FROM ticket_change c JOIN ticket t ON t.id = c.ticket "
                      "  WHERE c.time >= ?1 AND c.field IN ('status', 'comment') "
                      "AND " PAGE_TICKET_VISIBLE(
                              "t",
                              "?2") " UNION ALL SELECT 'wiki', v.time, v.page, v.author, "
                                    "coalesce(v.comment, ''), v.version "
                                    "  FROM wiki_version v JOIN wiki_page p ON p.name = v.page "
                                    "  WHERE v.time >= ?1 AND " PAGE_WIKI_VISIBLE(
                                            "p",
                                            "?2") " UNION ALL SELECT 'session', s.started, s.id, "
                                                  "s.user || '@' || s.host, "
                                                  "  coalesce(s.ticket, ''), s.state FROM session "
                                                  "s WHERE ?2 AND s.started >= ?1"
                                                  " UNION ALL SELECT 'milestone', m.completed, "
                                                  "m.name, '', '', '' FROM milestone m "
                                                  "  WHERE m.completed IS NOT NULL AND m.completed "
                                                  ">= ?1"
                                                  ") ORDER BY time DESC LIMIT ?3";

int web_page_timeline(const WebRequest *req, WebResponse *resp)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int64_t days = 30, now = trackled_store_now(req->store);
        char last_day[16] = "";
        Html *h = &resp->body;
        bool open = false;
        int r;

        if (web_arg(req, "days") && (page_parse_id(web_arg(req, "days"), &days) < 0 || days > 3660))
                return page_error(req, resp, 400, "days is 1 to 3660.");
        r = page_prepare(req, sql_timeline, &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, now - days * 86400);
        sqlite3_bind_int(st, 2, req->admin);
        sqlite3_bind_int(st, 3, TIMELINE_MAX);
        page_begin(req, resp, "Timeline", "timeline");
        html_printf(h,
                    "<h1>Timeline</h1><form method=\"get\" action=\"/timeline\">"
                    "<label for=\"f-days\">Changes of the last</label> <input type=\"text\" "
                    "name=\"days\" id=\"f-days\" value=\"%" PRIi64 "\" size=\"4\"> days "
                    "<button type=\"submit\">Update</button></form><div class=\"timeline\">",
                    days);
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *kind = page_col(st, 0), *key = page_col(st, 2);
                int64_t t = sqlite3_column_int64(st, 1);
                time_t tt = (time_t)t;
                struct tm tm;
                char day[16];
                WikiLinkInfo info = {.exists = true, .visible = true};

                if (!gmtime_r(&tt, &tm))
                        memset(&tm, 0, sizeof(tm));
                strftime(day, sizeof(day), "%Y-%m-%d", &tm);
                if (!streq(day, last_day)) {
                        if (open)
                                html_raw(h, "</dl>");
                        html_printf(h, "<h2>%s</h2><dl>", day);
                        open = true;
                        snprintf(last_day, sizeof(last_day), "%s", day);
                }
                html_raw(h, "<dt>");
                page_time(h, t);
                html_raw(h, " ");
                if (streq(kind, "wiki")) {
                        html_raw(h, "Page ");
                        wiki_link_html(h, WIKI_LINK_WIKI, 0, key, key, &info);
                        html_printf(h, " edited (version %s) by ", page_col(st, 5));
                } else if (streq(kind, "session")) {
                        int64_t id = sqlite3_column_int64(st, 2);
                        html_printf(
                                h, "<a href=\"/session/%" PRIi64 "\">Session %" PRIi64 "</a> (%s) ",
                                id, id, page_col(st, 5));
                        if (*page_col(st, 4))
                                html_printf(h, "for <a href=\"/ticket/%s\">#%s</a> ",
                                            page_col(st, 4), page_col(st, 4));
                        html_raw(h, "by ");
                } else if (streq(kind, "milestone")) {
                        html_raw(h, "Milestone ");
                        wiki_link_html(h, WIKI_LINK_MILESTONE, 0, key, key, &info);
                        html_raw(h, " completed");
                } else {
                        html_printf(h, "Ticket <a href=\"/ticket/%s\">#%s</a> (%s) ", key, key,
                                    page_col(st, 4));
                        if (streq(kind, "created"))
                                html_raw(h, "created by ");
                        else if (streq(kind, "status"))
                                html_printf(h, "%s by ", page_col(st, 5));
                        else
                                html_raw(h, "commented by ");
                }
                if (!streq(kind, "milestone"))
                        page_person(req, h, page_col(st, 3));
                html_raw(h, "</dt>");
                if ((streq(kind, "comment") || streq(kind, "wiki")) &&
                    *page_col(st, streq(kind, "wiki") ? 4 : 5))
                        html_printf(h, "<dd>%.300s</dd>",
                                    page_col(st, streq(kind, "wiki") ? 4 : 5));
        }
        if (open)
                html_raw(h, "</dl>");
        else
                html_raw(h, "<p>Nothing changed in that time.</p>");
        html_raw(h, "</div>");
        page_end(req, resp);
        return 0;
}

/* ?1 milestone, ?2 admin: all tickets and the closed ones. */
static const char sql_progress[] =
        "SELECT COUNT(*), coalesce(SUM(status = 'closed'), 0) FROM ticket t "
        "WHERE milestone = ?1 AND " PAGE_TICKET_VISIBLE("t", "?2");

static void progress(const WebRequest *req, Html *h, const char *name)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int64_t total, closed;

        if (page_prepare(req, sql_progress, &st) < 0)
                return;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, req->admin);
        if (sqlite3_step(st) != SQLITE_ROW)
                return;
        total = sqlite3_column_int64(st, 0);
        closed = sqlite3_column_int64(st, 1);
        /* a <progress> element: an inline style would be refused by the CSP */
        html_printf(h,
                    "<p><progress max=\"%" PRIi64 "\" value=\"%" PRIi64 "\">%" PRIi64
                    "%%</progress> ",
                    total ? total : 1, closed, total ? closed * 100 / total : 0);
        html_printf(h, "<a href=\"/report?status=closed&amp;milestone=");
        html_url_arg(h, name);
        html_printf(h, "\">%" PRIi64 " closed</a>, <a href=\"/report?status=open&amp;milestone=",
                    closed);
        html_url_arg(h, name);
        html_printf(h, "\">%" PRIi64 " active</a></p>", total - closed);
}

static void milestone_dates(Html *h, sqlite3_stmt *st, int due, int completed)
{
        if (sqlite3_column_type(st, completed) != SQLITE_NULL) {
                html_raw(h, "<p class=\"date\">Completed ");
                page_time(h, sqlite3_column_int64(st, completed));
                html_raw(h, "</p>");
        } else if (sqlite3_column_type(st, due) != SQLITE_NULL) {
                html_raw(h, "<p class=\"date\">Due ");
                page_time(h, sqlite3_column_int64(st, due));
                html_raw(h, "</p>");
        } else
                html_raw(h, "<p class=\"date\">No date set</p>");
}

int web_page_roadmap(const WebRequest *req, WebResponse *resp)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        bool all = streq_ptr(web_arg(req, "show"), "all"), any = false;
        Html *h = &resp->body;
        int r;

        r = page_prepare(req,
                         "SELECT name, due, completed, description FROM milestone "
                         "WHERE ?1 OR completed IS NULL "
                         "ORDER BY completed IS NOT NULL, due IS NULL, due, name",
                         &st);
        if (r < 0)
                return r;
        sqlite3_bind_int(st, 1, all);
        page_begin(req, resp, "Roadmap", "roadmap");
        html_printf(h, "<h1>Roadmap</h1><p><a href=\"/roadmap%s\">%s</a></p>",
                    all ? "" : "?show=all",
                    all ? "Hide completed milestones" : "Show completed milestones");
        while (sqlite3_step(st) == SQLITE_ROW) {
                WikiLinkInfo info = {.exists = true,
                                     .visible = true,
                                     .closed = sqlite3_column_type(st, 2) != SQLITE_NULL};
                any = true;
                html_raw(h, "<div class=\"milestone\"><h2>Milestone: ");
                wiki_link_html(h, WIKI_LINK_MILESTONE, 0, page_col(st, 0), page_col(st, 0), &info);
                html_raw(h, "</h2>");
                milestone_dates(h, st, 1, 2);
                progress(req, h, page_col(st, 0));
                page_wiki(req, h, page_col(st, 3));
                html_raw(h, "</div>");
        }
        if (!any)
                html_raw(h, "<p>No milestones.</p>");
        page_end(req, resp);
        return 0;
}

int web_page_milestone(const WebRequest *req, WebResponse *resp)
{
        const char *name = req->path + strlen("/milestone/");
        _cleanup_stmt_ sqlite3_stmt *st = NULL, *t = NULL;
        Html *h = &resp->body;
        int r;

        if (!wiki_milestone_valid(name))
                return page_error(req, resp, 404, "No such milestone.");
        r = page_prepare(req,
                         "SELECT name, due, completed, description FROM milestone "
                         "WHERE name = ?1",
                         &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
                return page_error(req, resp, 404, "No such milestone.");
        page_begin(req, resp, name, "roadmap");
        html_printf(h, "<h1>Milestone %s</h1>", name);
        milestone_dates(h, st, 1, 2);
        progress(req, h, name);
        page_wiki(req, h, page_col(st, 3));
        r = page_prepare(req,
                         "SELECT id, summary, status, owner FROM ticket t WHERE milestone = ?1 "
                         "AND " PAGE_TICKET_VISIBLE("t", "?2") " ORDER BY status = 'closed', id",
                         &t);
        if (r >= 0) {
                sqlite3_bind_text(t, 1, name, -1, SQLITE_STATIC);
                sqlite3_bind_int(t, 2, req->admin);
                html_raw(h, "<h2>Tickets</h2><table class=\"listing\"><tr><th>Ticket</th>"
                            "<th>Summary</th><th>Status</th><th>Owner</th></tr>");
                while (sqlite3_step(t) == SQLITE_ROW) {
                        int64_t id = sqlite3_column_int64(t, 0);
                        html_printf(h,
                                    "<tr><td><a href=\"/ticket/%" PRIi64 "\">#%" PRIi64
                                    "</a></td><td>%s</td><td>%s</td><td>",
                                    id, id, page_col(t, 1), page_col(t, 2));
                        page_person(req, h, page_col(t, 3));
                        html_raw(h, "</td></tr>");
                }
                html_raw(h, "</table>");
        }
        page_backlinks(req, h, WIKI_LINK_MILESTONE, name);
        page_end(req, resp);
        return 0;
}
