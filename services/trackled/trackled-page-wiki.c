/* trackled-page-wiki.c - /wiki (the index) and /wiki/Name: view, edit, history, diff. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "trackled-diff.h"
#include "trackled-page.h"
#include "trackled-store-admin.h"

static void wiki_index(const WebRequest *req, WebResponse *resp)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        Html *h = &resp->body;

        page_begin(req, resp, "Index", "wiki");
        html_raw(h, "<h1>Index of wiki pages</h1>");
        if (page_prepare(req,
                         "SELECT name, changed, private FROM wiki_page p WHERE " PAGE_WIKI_VISIBLE(
                                 "p", "?1") " ORDER BY name",
                         &st) >= 0) {
                sqlite3_bind_int(st, 1, req->admin);
                html_raw(h, "<table class=\"listing\"><tr><th>Page</th><th>Last changed</th>"
                            "</tr>");
                while (sqlite3_step(st) == SQLITE_ROW) {
                        html_raw(h, "<tr><td><a href=\"");
                        wiki_link_href(h, WIKI_LINK_WIKI, 0, page_col(st, 0));
                        html_printf(h, "\">%s</a>%s</td><td>", page_col(st, 0),
                                    sqlite3_column_int(st, 2) ? " <em>(private)</em>" : "");
                        page_time(h, sqlite3_column_int64(st, 1));
                        html_raw(h, "</td></tr>");
                }
                html_raw(h, "</table>");
        }
        if (req->admin)
                html_raw(h, "<form method=\"get\" action=\"/wiki\" class=\"inline\"><label "
                            "for=\"f-new\">New page:</label> <input type=\"text\" name=\"name\" "
                            "id=\"f-new\" maxlength=\"100\"> <button type=\"submit\">Create"
                            "</button></form>");
        page_end(req, resp);
}

/* 1 and the page's flags when it exists and the viewer may see it, 0 when it does not exist,
 * -EACCES when it is private. */
static int page_state(const WebRequest *req, const char *name, int64_t *ret_version,
                      bool *ret_private)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = page_prepare(req,
                         "SELECT version, private, " PAGE_WIKI_VISIBLE(
                                 "p", "0") " FROM wiki_page p WHERE name = ?1",
                         &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
                *ret_version = 0;
                *ret_private = false;
                return 0;
        }
        *ret_version = sqlite3_column_int64(st, 0);
        *ret_private = sqlite3_column_int(st, 2) == 0;
        if (*ret_private && !req->admin)
                return -EACCES;
        return 1;
}

static void wiki_tabs(Html *h, const char *name, const char *active, bool admin)
{
        static const struct {
                const char *action, *label;
                bool admin;
        } tabs[] = {{"", "View", false}, {"history", "History", false}, {"edit", "Edit", true}};

        html_raw(h, "<nav class=\"pages\">");
        for (size_t i = 0; i < ELEMENTSOF(tabs); i++) {
                if (tabs[i].admin && !admin)
                        continue;
                html_raw(h, "<a href=\"");
                wiki_link_href(h, WIKI_LINK_WIKI, 0, name);
                if (*tabs[i].action)
                        html_printf(h, "?action=%s", tabs[i].action);
                html_printf(h, "\"%s>%s</a>",
                            streq(active, tabs[i].action) ? " class=\"active\"" : "",
                            tabs[i].label);
        }
        html_raw(h, "</nav>");
}

static int wiki_view(const WebRequest *req, WebResponse *resp, const char *name, bool exists,
                     bool private)
{
        json_object *v = NULL;
        int64_t version = 0;
        Html *h = &resp->body;
        int r;

        if (!exists) {
                if (!req->admin)
                        return page_error(req, resp, 404, "No such wiki page.");
                page_begin(req, resp, name, "wiki");
                html_printf(h, "<h1>%s</h1><p>This page does not exist yet. <a href=\"", name);
                wiki_link_href(h, WIKI_LINK_WIKI, 0, name);
                html_raw(h, "?action=edit\">Create it</a>.</p>");
                page_backlinks(req, h, WIKI_LINK_WIKI, name);
                page_end(req, resp);
                return 0;
        }
        (void)page_parse_id(web_arg(req, "version"), &version);
        r = trackled_store_wiki_get(req->store, name, version, &v);
        if (r == -ENOENT)
                return page_error(req, resp, 404, "No such version of this page.");
        if (r < 0)
                return r;
        page_begin(req, resp, name, "wiki");
        wiki_tabs(h, name, "", req->admin);
        if (version > 0)
                html_printf(h, "<p class=\"notice\">Version %" PRIi64 " of this page, by %s.</p>",
                            page_json_int(v, "version", 0), page_json_str(v, "author"));
        if (private)
                html_raw(h, "<p class=\"notice\">Private page: only sysadmins see it.</p>");
        page_wiki(req, h, page_json_str(v, "text"));
        html_raw(h, "<p class=\"help\">Last modified ");
        page_time_iso(h, page_json_str(v, "time"));
        html_raw(h, " by ");
        page_person(req, h, page_json_str(v, "author"));
        html_raw(h, "</p>");
        page_backlinks(req, h, WIKI_LINK_WIKI, name);
        page_end(req, resp);
        json_object_put(v);
        return 0;
}

static void edit_form(const WebRequest *req, WebResponse *resp, const char *name, const char *text,
                      int64_t version, bool private, const char *error)
{
        Html *h = &resp->body;
        Html action = HTML_INIT;

        page_begin(req, resp, name, "wiki");
        wiki_tabs(h, name, "edit", true);
        html_printf(h, "<h1>Editing %s</h1>", name);
        if (error)
                html_printf(h, "<p class=\"error\" role=\"alert\">%s</p>", error);
        wiki_link_href(&action, WIKI_LINK_WIKI, 0, name);
        page_form_begin(req, h, html_str(&action), "wikiedit");
        html_done(&action);
        html_printf(h,
                    "<input type=\"hidden\" name=\"version\" value=\"%" PRIi64 "\">"
                    "<textarea name=\"text\" id=\"f-text\" rows=\"20\" cols=\"80\">%s"
                    "</textarea><div class=\"field\"><label for=\"f-comment\">Comment about "
                    "this change:</label> <input type=\"text\" name=\"comment\" "
                    "id=\"f-comment\" class=\"wide\" maxlength=\"200\"></div>"
                    "<div class=\"field\"><input type=\"checkbox\" name=\"private\" "
                    "id=\"f-private\" value=\"1\"%s><label for=\"f-private\">Private: only "
                    "sysadmins see this page</label></div>"
                    "<button type=\"submit\" class=\"primary\">Save changes</button>",
                    version, strempty(text), private ? " checked" : "");
        page_form_end(h);
        html_raw(h, "<p class=\"help\">Formatting: Markdown (CommonMark, with tables). Links: "
                    "#12 or ticket:12, session:5, wiki:PageName, [[Page Name]], CamelCase, "
                    "milestone:1.0, file:/etc/hosts; write !CamelCase for the plain word.</p>");
        page_end(req, resp);
}

static int wiki_save(const WebRequest *req, WebResponse *resp, const char *name)
{
        const char *text = web_arg(req, "text"), *comment = web_arg(req, "comment");
        bool private = streq_ptr(web_arg(req, "private"), "1");
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int64_t expect = 0, version;
        Html loc = HTML_INIT;
        int r;

        if (!req->admin)
                return page_error(req, resp, 403, "Only sysadmins edit the wiki.");
        if (!text || strlen(text) > PAGE_TEXT_MAX ||
            (comment && (strlen(comment) > 200 || strpbrk(comment, "\r\n"))))
                return page_error(req, resp, 400, "The text or the comment is too long.");
        if (page_parse_id(web_arg(req, "version"), &expect) < 0)
                expect = 0;
        r = trackled_store_begin(req->store);
        if (r < 0)
                return r;
        r = trackled_store_wiki_put(req->store, name, text, req->user, comment, expect, &version);
        if (r >= 0)
                r = page_prepare(req, "UPDATE wiki_page SET private = ?2 WHERE name = ?1", &st);
        if (r >= 0) {
                sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 2, private);
                r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
        }
        if (r < 0) {
                trackled_store_rollback(req->store);
                if (r == -ESTALE) {
                        resp->status = 409;
                        edit_form(req, resp, name, text, expect, private,
                                  "Someone saved this page while you were editing it. Your "
                                  "text is below: compare it with the page's history, then "
                                  "save again.");
                        return 0;
                }
                return r;
        }
        r = trackled_store_commit(req->store);
        if (r < 0)
                return r;
        wiki_link_href(&loc, WIKI_LINK_WIKI, 0, name);
        r = html_error(&loc) < 0 ? -ENOMEM : web_redirect(resp, 303, html_str(&loc));
        html_done(&loc);
        return r;
}

static int wiki_history(const WebRequest *req, WebResponse *resp, const char *name)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        Html *h = &resp->body;
        int r, n = 0;

        r = page_prepare(req,
                         "SELECT version, time, author, comment FROM wiki_version "
                         "WHERE page = ?1 ORDER BY version DESC",
                         &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        page_begin(req, resp, name, "wiki");
        wiki_tabs(h, name, "history", req->admin);
        html_printf(h, "<h1>Change History of %s</h1><form method=\"get\" action=\"", name);
        wiki_link_href(h, WIKI_LINK_WIKI, 0, name);
        html_raw(h, "\"><input type=\"hidden\" name=\"action\" value=\"diff\"><table "
                    "class=\"listing\"><tr><th>Old</th><th>New</th><th>Version</th><th>Date</th>"
                    "<th>Author</th><th>Comment</th></tr>");
        while (sqlite3_step(st) == SQLITE_ROW) {
                int64_t v = sqlite3_column_int64(st, 0);

                html_printf(h,
                            "<tr><td><input type=\"radio\" name=\"old\" value=\"%" PRIi64 "\"%s "
                            "aria-label=\"old %" PRIi64 "\"></td><td><input type=\"radio\" "
                            "name=\"new\" value=\"%" PRIi64 "\"%s aria-label=\"new %" PRIi64
                            "\"></td><td><a href=\"",
                            v, n == 1 ? " checked" : "", v, v, n == 0 ? " checked" : "", v);
                wiki_link_href(h, WIKI_LINK_WIKI, 0, name);
                html_printf(h, "?version=%" PRIi64 "\">%" PRIi64 "</a></td><td>", v, v);
                page_time(h, sqlite3_column_int64(st, 1));
                html_raw(h, "</td><td>");
                page_person(req, h, page_col(st, 2));
                html_printf(h, "</td><td>%s</td></tr>", page_col(st, 3));
                n++;
        }
        html_raw(h, "</table><button type=\"submit\">View changes</button></form>");
        page_end(req, resp);
        return 0;
}

/* A unified diff, deletions red and additions green. */
void page_diff(Html *h, const char *diff)
{
        const char *p = diff;

        html_raw(h, "<pre>");
        while (p && *p) {
                size_t n = strcspn(p, "\n");
                const char *cls = "ctx";

                if (n >= 3 && (strncmp(p, "---", 3) == 0 || strncmp(p, "+++", 3) == 0))
                        cls = "hdr";
                else if (*p == '+')
                        cls = "add";
                else if (*p == '-')
                        cls = "del";
                else if (n >= 2 && strncmp(p, "@@", 2) == 0)
                        cls = "hunk";
                else if (*p == '\\')
                        cls = "hdr";
                html_printf(h, "<span class=\"%s\">", cls);
                html_txtn(h, p, n);
                html_raw(h, "</span>");
                p += n;
                if (*p == '\n')
                        p++;
        }
        html_raw(h, "</pre>");
}

static int wiki_diff(const WebRequest *req, WebResponse *resp, const char *name)
{
        json_object *a = NULL, *b = NULL;
        _cleanup_free_ char *diff = NULL;
        int64_t old = 0, new = 0;
        Html *h = &resp->body;
        const char *ta, *tb;
        int r;

        if (page_parse_id(web_arg(req, "old"), &old) < 0 ||
            page_parse_id(web_arg(req, "new"), &new) < 0)
                return page_error(req, resp, 400, "Choose two versions.");
        r = trackled_store_wiki_get(req->store, name, old, &a);
        if (r >= 0)
                r = trackled_store_wiki_get(req->store, name, new, &b);
        if (r == -ENOENT) {
                json_object_put(a);
                return page_error(req, resp, 404, "No such version of this page.");
        }
        if (r < 0) {
                json_object_put(a);
                return r;
        }
        ta = page_json_str(a, "text");
        tb = page_json_str(b, "text");
        r = trackled_diff(name, (const uint8_t *)ta, strlen(ta), (const uint8_t *)tb, strlen(tb),
                          &diff);
        if (r >= 0) {
                page_begin(req, resp, name, "wiki");
                wiki_tabs(h, name, "history", req->admin);
                html_printf(h,
                            "<h1>Changes of %s from version %" PRIi64 " to %" PRIi64 "</h1>"
                            "<div class=\"diff\"><h4>%s</h4>",
                            name, old, new, name);
                if (isempty(diff))
                        html_raw(h, "<p class=\"meta\">No differences.</p>");
                else
                        page_diff(h, diff);
                html_raw(h, "</div>");
                page_end(req, resp);
        }
        json_object_put(a);
        json_object_put(b);
        return r < 0 ? r : 0;
}

int web_page_wiki(const WebRequest *req, WebResponse *resp)
{
        const char *name, *action = strempty(web_arg(req, "action"));
        bool private = false;
        int64_t version = 0;
        int r;

        if (streq(req->path, "/wiki") || streq(req->path, "/wiki/")) {
                const char *n = web_arg(req, "name");
                Html loc = HTML_INIT;

                if (isempty(n) || !req->admin) {
                        wiki_index(req, resp);
                        return 0;
                }
                if (!wiki_name_valid(n, strlen(n)))
                        return page_error(req, resp, 400,
                                          "A page name is made of letters, "
                                          "digits, '_', '.', '-' and '/'.");
                wiki_link_href(&loc, WIKI_LINK_WIKI, 0, n);
                html_raw(&loc, "?action=edit");
                r = web_redirect(resp, 303, html_str(&loc));
                html_done(&loc);
                return r;
        }
        name = req->path + strlen("/wiki/");
        if (!wiki_name_valid(name, strlen(name)))
                return page_error(req, resp, 404, "No such wiki page.");
        r = page_state(req, name, &version, &private);
        if (r == -EACCES)
                return page_error(req, resp, 404, "No such wiki page.");
        if (r < 0)
                return r;
        if (streq(req->method, "POST"))
                return wiki_save(req, resp, name);
        if (streq(action, "edit")) {
                json_object *v = NULL;

                if (!req->admin)
                        return page_error(req, resp, 403, "Only sysadmins edit the wiki.");
                if (r > 0 && trackled_store_wiki_get(req->store, name, 0, &v) < 0)
                        v = NULL;
                edit_form(req, resp, name, v ? page_json_str(v, "text") : "", version, private,
                          NULL);
                json_object_put(v);
                return 0;
        }
        if (r == 0)
                return wiki_view(req, resp, name, false, false);
        if (streq(action, "history"))
                return wiki_history(req, resp, name);
        if (streq(action, "diff"))
                return wiki_diff(req, resp, name);
        return wiki_view(req, resp, name, true, private);
}
