/* trackled-page-report.c - /report: ticket lists and queries (filters, text, sort). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "trackled-page.h"
#include "trackled-search.h"

#define REPORT_MAX_DEFAULT 100
#define REPORT_MAX_LIMIT 1000

static const struct {
        const char *key, *label;
} columns[] = {
        {"id", "Ticket"},           {"summary", "Summary"},  {"status", "Status"},
        {"owner", "Owner"},         {"type", "Type"},        {"priority", "Priority"},
        {"milestone", "Milestone"}, {"changed", "Modified"},
};

/* ?1 status ('open': anything but closed), ?2 owner, ?3 milestone, ?4 component, ?5 the FTS
 * query, ?8 admin. */
#define REPORT_WHERE                                                                               \
        "WHERE " PAGE_TICKET_VISIBLE(                                                              \
                "t",                                                                               \
                "?8") " AND (?1 IS NULL OR (?1 = 'open' AND status != 'closed') OR status = ?1) "  \
                      "AND (?2 IS NULL OR owner = ?2) AND (?3 IS NULL OR milestone = ?3) "         \
                      "AND (?4 IS NULL OR component = ?4) "                                        \
                      "AND (?5 IS NULL OR id IN (SELECT rowid FROM ticket_fts WHERE ticket_fts "   \
                      "MATCH ?5)) "
#define REPORT_COLUMNS "SELECT id, summary, status, owner, type, priority, milestone, changed "

/* ?6 sort key, ?7 descending, ?9 limit, ?10 offset. The sort key is bound, not written into
 * the SQL. */
static const char sql_report[] = REPORT_COLUMNS
        "FROM ticket t " REPORT_WHERE "ORDER BY "
        "CASE WHEN ?7 = 0 THEN CASE ?6 WHEN 'summary' THEN summary WHEN 'status' THEN status "
        "  WHEN 'owner' THEN owner WHEN 'type' THEN type WHEN 'priority' THEN priority "
        "  WHEN 'milestone' THEN milestone WHEN 'changed' THEN changed ELSE id END END ASC, "
        "CASE WHEN ?7 = 1 THEN CASE ?6 WHEN 'summary' THEN summary WHEN 'status' THEN status "
        "  WHEN 'owner' THEN owner WHEN 'type' THEN type WHEN 'priority' THEN priority "
        "  WHEN 'milestone' THEN milestone WHEN 'changed' THEN changed ELSE id END END DESC, "
        "id LIMIT ?9 OFFSET ?10";
/* The usual order, by id: walks the primary key and stops at the limit. */
static const char sql_report_by_id[] =
        REPORT_COLUMNS "FROM ticket t " REPORT_WHERE "ORDER BY id LIMIT ?9 OFFSET ?10";
static const char sql_report_count[] = "SELECT COUNT(*) FROM ticket t " REPORT_WHERE;

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
        if (!isempty(v))
                sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void bind_filters(const WebRequest *req, sqlite3_stmt *st, const char *status,
                         const char *fts)
{
        bind_opt(st, 1, status);
        bind_opt(st, 2, web_arg(req, "owner"));
        bind_opt(st, 3, web_arg(req, "milestone"));
        bind_opt(st, 4, web_arg(req, "component"));
        bind_opt(st, 5, fts);
        sqlite3_bind_int(st, 8, req->admin);
}

/* The report's URL with one argument replaced (for sort links and pages). */
static void report_href(const WebRequest *req, Html *h, const char *sort, bool desc, int64_t offset)
{
        static const char *const keep[] = {"status", "owner", "milestone", "component", "q", "max"};
        html_raw(h, "/report?");
        for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
                const char *v = web_arg(req, keep[i]);
                if (!v)
                        continue;
                html_printf(h, "%s=", keep[i]);
                html_url_arg(h, v);
                html_raw(h, "&amp;");
        }
        html_raw(h, "sort=");
        html_url_arg(h, sort);
        if (desc)
                html_raw(h, "&amp;desc=1");
        if (offset > 0)
                html_printf(h, "&amp;offset=%" PRIi64, offset);
}

static void filter_input(Html *h, const char *name, const char *label, const char *value)
{
        html_printf(h,
                    "<label for=\"f-%s\">%s</label> <input type=\"text\" name=\"%s\" "
                    "id=\"f-%s\" value=\"%s\" maxlength=\"100\"> ",
                    name, label, name, name, strempty(value));
}

int web_page_report(const WebRequest *req, WebResponse *resp)
{
        static const char *const statuses[] = {"open", "new", "assigned", "reopened", "closed"};
        const char *status = web_arg(req, "status"), *sort = web_arg(req, "sort");
        const char *q = web_arg(req, "q");
        _cleanup_free_ char *fts = NULL;
        _cleanup_stmt_ sqlite3_stmt *st = NULL, *count = NULL;
        bool desc = streq_ptr(web_arg(req, "desc"), "1");
        int64_t max = REPORT_MAX_DEFAULT, offset = 0, total = 0, n = 0;
        Html *h = &resp->body;
        int r;

        if (!status)
                status = "open";
        if (streq(status, "any"))
                status = NULL;
        if (!sort)
                sort = "id";
        if (web_arg(req, "max") &&
            (page_parse_id(web_arg(req, "max"), &max) < 0 || max > REPORT_MAX_LIMIT))
                return page_error(req, resp, 400, "max is 1 to 1000.");
        if (web_arg(req, "offset") && page_parse_id(web_arg(req, "offset"), &offset) < 0)
                offset = 0;
        if (!isempty(q) && trackled_search_query(q, &fts) < 0)
                return page_error(req, resp, 400, "The text to look for is too long.");
        r = page_prepare(req, sql_report_count, &count);
        if (r < 0)
                return r;
        bind_filters(req, count, status, fts);
        if (sqlite3_step(count) == SQLITE_ROW)
                total = sqlite3_column_int64(count, 0);
        r = page_prepare(req, streq(sort, "id") && !desc ? sql_report_by_id : sql_report, &st);
        if (r < 0)
                return r;
        bind_filters(req, st, status, fts);
        if (sqlite3_bind_parameter_index(st, "?6") > 0) {
                sqlite3_bind_text(st, 6, sort, -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 7, desc);
        }
        sqlite3_bind_int64(st, 9, max);
        sqlite3_bind_int64(st, 10, offset);

        page_begin(req, resp, "Tickets", "report");
        html_raw(h, "<h1>Tickets</h1><form method=\"get\" action=\"/report\" class=\"query\">"
                    "<fieldset><legend>Filters</legend><label for=\"f-status\">Status</label> "
                    "<select name=\"status\" id=\"f-status\">");
        html_printf(h, "<option value=\"any\"%s>any</option>", status ? "" : " selected");
        for (size_t i = 0; i < ELEMENTSOF(statuses); i++)
                html_printf(h, "<option%s>%s</option>",
                            streq_ptr(status, statuses[i]) ? " selected" : "", statuses[i]);
        html_raw(h, "</select> ");
        filter_input(h, "owner", "Owner", web_arg(req, "owner"));
        filter_input(h, "milestone", "Milestone", web_arg(req, "milestone"));
        filter_input(h, "component", "Component", web_arg(req, "component"));
        html_raw(h, "<div class=\"field\">");
        filter_input(h, "q", "Text", q);
        html_raw(h, "<button type=\"submit\">Update</button></div></fieldset></form>");

        html_raw(h, "<table class=\"listing tickets\"><tr>");
        for (size_t i = 0; i < ELEMENTSOF(columns); i++) {
                bool active = streq(sort, columns[i].key);
                html_raw(h, "<th><a href=\"");
                report_href(req, h, columns[i].key, active && !desc, 0);
                html_printf(h, "\">%s%s</a></th>", columns[i].label,
                            active ? (desc ? " ▾" : " ▴") : "");
        }
        html_raw(h, "</tr>");
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                int64_t id = sqlite3_column_int64(st, 0);

                n++;
                html_printf(h,
                            "<tr class=\"%s\"><td><a href=\"/ticket/%" PRIi64 "\">#%" PRIi64
                            "</a></td><td><a href=\"/ticket/%" PRIi64 "\">%s</a></td>"
                            "<td>%s</td><td>",
                            page_col(st, 2), id, id, id, page_col(st, 1), page_col(st, 2));
                page_person(req, h, page_col(st, 3));
                html_printf(h, "</td><td>%s</td><td>%s</td><td>%s</td><td>", page_col(st, 4),
                            page_col(st, 5), page_col(st, 6));
                page_time(h, sqlite3_column_int64(st, 7));
                html_raw(h, "</td></tr>");
        }
        html_raw(h, "</table>");
        if (r != SQLITE_DONE)
                html_raw(h, "<p class=\"error\">The query failed.</p>");
        html_printf(h, "<p>%" PRIi64 " ticket%s", total, total == 1 ? "" : "s");
        if (total > n)
                html_printf(h, ", %" PRIi64 " to %" PRIi64 " shown", n ? offset + 1 : 0,
                            offset + n);
        html_raw(h, ".</p><nav class=\"pages\">");
        if (offset > 0) {
                html_raw(h, "<a href=\"");
                report_href(req, h, sort, desc, offset > max ? offset - max : 0);
                html_raw(h, "\">← Previous</a>");
        }
        if (offset + n < total) {
                html_raw(h, "<a href=\"");
                report_href(req, h, sort, desc, offset + max);
                html_raw(h, "\">Next →</a>");
        }
        html_raw(h, "</nav>");
        page_end(req, resp);
        return 0;
}
