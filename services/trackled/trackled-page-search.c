/* trackled-page-search.c - /search?q= across every kind of object, and /file?path= (the
 * history of one file across sessions). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "trackled-page.h"
#include "trackled-search.h"

#define SEARCH_PER_KIND 50

/* The snippet with its matches (between \x02 and \x03) marked; always balanced. */
static void snippet(Html *h, const char *s)
{
        bool open = false;

        while (*s) {
                size_t n = strcspn(s, "\x02\x03");

                html_txtn(h, s, n);
                s += n;
                if (*s == '\x02' && !open) {
                        html_raw(h, "<mark>");
                        open = true;
                } else if (*s == '\x03' && open) {
                        html_raw(h, "</mark>");
                        open = false;
                }
                if (*s)
                        s++;
        }
        if (open)
                html_raw(h, "</mark>");
}

static void hit(const WebRequest *req, Html *h, json_object *o)
{
        const char *kind = page_json_str(o, "kind");
        WikiLinkInfo info = {.exists = true, .visible = true};
        char label[96];

        html_raw(h, "<dt>");
        if (streq(kind, "ticket") || streq(kind, "comment")) {
                int64_t id = page_json_int(o, "ticket", 0);
                snprintf(label, sizeof(label), "#%" PRIi64, id);
                wiki_link_html(h, WIKI_LINK_TICKET, id, NULL, label, &info);
                html_printf(h, ": %s%s", page_json_str(o, "title"),
                            streq(kind, "comment") ? " (comment)" : "");
        } else if (streq(kind, "wiki")) {
                wiki_link_html(h, WIKI_LINK_WIKI, 0, page_json_str(o, "name"),
                               page_json_str(o, "name"), &info);
        } else if (streq(kind, "file")) {
                wiki_link_html(h, WIKI_LINK_FILE, 0, page_json_str(o, "path"),
                               page_json_str(o, "path"), &info);
                html_printf(h, " (%s)", page_json_str(o, "title"));
        } else {
                int64_t id = page_json_int(o, "session", 0);
                snprintf(label, sizeof(label), "session %" PRIi64, id);
                wiki_link_html(h, WIKI_LINK_SESSION, id, NULL, label, &info);
                html_printf(h, " (%s)", streq(kind, "command") ? "command" : "annotation");
        }
        html_raw(h, "</dt><dd>");
        snippet(h, page_json_str(o, "snippet"));
        html_raw(h, " <small>");
        page_time_iso(h, page_json_str(o, "time"));
        html_raw(h, "</small></dd>");
}

int web_page_search(const WebRequest *req, WebResponse *resp)
{
        const char *q = web_arg(req, "q");
        json_object *a = NULL;
        Html *h = &resp->body;
        int r = 0;

        if (!isempty(q)) {
                r = trackled_search(req->store, q, req->admin, SEARCH_PER_KIND, &a);
                if (r < 0 && r != -EINVAL)
                        return r;
        }
        page_begin(req, resp, "Search", "search");
        html_printf(h,
                    "<h1>Search</h1><form method=\"get\" action=\"/search\" "
                    "class=\"search\"><input type=\"search\" name=\"q\" id=\"f-q\" "
                    "value=\"%s\" size=\"40\" maxlength=\"%d\" aria-label=\"Search for\"> "
                    "<button type=\"submit\" class=\"primary\">Search</button></form>",
                    strempty(q), TRACKLED_SEARCH_QUERY_MAX);
        if (r == -EINVAL)
                html_printf(h, "<p class=\"error\">Up to %d words, %d characters.</p>",
                            TRACKLED_SEARCH_TERMS_MAX, TRACKLED_SEARCH_QUERY_MAX);
        else if (a) {
                size_t n = json_object_array_length(a);

                html_printf(h, "<p>%zu result%s for <b>%s</b>.</p><dl class=\"results\">", n,
                            n == 1 ? "" : "s", q);
                for (size_t i = 0; i < n; i++)
                        hit(req, h, json_object_array_get_idx(a, i));
                html_raw(h, "</dl>");
        }
        if (!req->admin)
                html_raw(h, "<p class=\"help\">Sysadmins also find session commands, "
                            "annotations and changed files.</p>");
        page_end(req, resp);
        json_object_put(a);
        return 0;
}

int web_page_file(const WebRequest *req, WebResponse *resp)
{
        const char *path = web_arg(req, "path");
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        Html *h = &resp->body;
        bool any = false;
        int r;

        if (!req->admin)
                return page_error(req, resp, 404, "No such page.");
        if (isempty(path) || path[0] != '/' || strlen(path) > WIKI_PATH_MAX)
                return page_error(req, resp, 400, "Which file? /file?path=/etc/...");
        r = page_prepare(req,
                         "SELECT f.session, s.user, s.host, s.started, s.ticket, "
                         "coalesce(f.change, 'touched'), f.before_sha256, f.after_sha256, "
                         "f.before_size, f.after_size, f.shown "
                         "FROM file_change f JOIN session s ON s.id = f.session "
                         "WHERE f.path = ?1 ORDER BY s.started DESC, f.session DESC",
                         &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        page_begin(req, resp, path, NULL);
        html_printf(h, "<h1>History of <code>%s</code></h1>", path);
        while (sqlite3_step(st) == SQLITE_ROW) {
                int64_t sid = sqlite3_column_int64(st, 0);

                if (!any)
                        html_raw(h, "<table class=\"listing\"><tr><th>Session</th><th>When</th>"
                                    "<th>Who</th><th>Ticket</th><th>Change</th><th>Before</th>"
                                    "<th>After</th></tr>");
                any = true;
                html_printf(h,
                            "<tr><td><a href=\"/session/%" PRIi64 "#files\">session %" PRIi64
                            "</a></td><td>",
                            sid, sid);
                page_time(h, sqlite3_column_int64(st, 3));
                html_printf(h, "</td><td>%s@%s</td><td>", page_col(st, 1), page_col(st, 2));
                if (sqlite3_column_type(st, 4) != SQLITE_NULL)
                        html_printf(h, "<a href=\"/ticket/%" PRIi64 "\">#%" PRIi64 "</a>",
                                    (int64_t)sqlite3_column_int64(st, 4),
                                    (int64_t)sqlite3_column_int64(st, 4));
                html_printf(h,
                            "</td><td>%s</td><td><code title=\"%s\">%.12s</code></td>"
                            "<td><code title=\"%s\">%.12s</code></td></tr>",
                            page_col(st, 5), page_col(st, 6), page_col(st, 6), page_col(st, 7),
                            page_col(st, 7));
        }
        if (any)
                html_raw(h, "</table>");
        else
                html_raw(h, "<p>No tracked session changed this file.</p>");
        page_backlinks(req, h, WIKI_LINK_FILE, path);
        page_end(req, resp);
        return 0;
}
