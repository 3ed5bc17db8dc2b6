/* trackled-page.c - the frame and helpers every HTML page shares, and the stylesheet. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "state.h"
#include "trackled-page.h"
#include "trackled-search.h"

int page_prepare(const WebRequest *req, const char *sql, sqlite3_stmt **ret)
{
        sqlite3 *db = trackled_store_sqlite(req->store);
        int rc = sqlite3_prepare_v2(db, sql, -1, ret, NULL);

        return rc == SQLITE_OK ? 0 : state_errno(rc);
}

const char *page_col(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? (const char *)t : "";
}

const char *page_json_str(json_object *o, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !v)
                return "";
        return json_object_get_string(v);
}

int64_t page_json_int(json_object *o, const char *key, int64_t def)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !v)
                return def;
        return json_object_get_int64(v);
}

int page_parse_id(const char *s, int64_t *ret)
{
        int64_t v = 0;

        if (isempty(s) || strlen(s) > 16)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (*p - '0');
        }
        if (v <= 0 || v > ((int64_t)1 << 53))
                return -EINVAL;
        *ret = v;
        return 0;
}

static const struct {
        const char *id, *path, *label;
} nav_items[] = {
        {"wiki", "/wiki", "Wiki"},
        {"timeline", "/timeline", "Timeline"},
        {"roadmap", "/roadmap", "Roadmap"},
        {"report", "/report", "View Tickets"},
        {"newticket", "/newticket", "New Ticket"},
        {"search", "/search", "Search"},
};

void page_begin(const WebRequest *req, WebResponse *resp, const char *title, const char *nav)
{
        const char *site =
                req->config && req->config->site_name ? req->config->site_name : "trackle";
        Html *h = &resp->body;

        html_raw(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html_printf(h, "<title>%s – %s</title>", title, site);
        html_raw(h, "<link rel=\"stylesheet\" href=\"/style.css\"></head>\n<body>"
                    "<header id=\"banner\"><a class=\"site\" href=\"/\">");
        html_txt(h, site);
        html_raw(h, "</a><form class=\"quicksearch\" action=\"/search\" method=\"get\">"
                    "<input type=\"search\" name=\"q\" aria-label=\"Search\" "
                    "placeholder=\"Search\"><button type=\"submit\">Search</button></form>"
                    "<div class=\"meta\">");
        if (req->user) {
                html_printf(h, "logged in as <b>%s</b> ", req->user);
                page_form_begin(req, h, "/logout", "inline");
                html_raw(h, "<button type=\"submit\" class=\"link\">Logout</button>");
                page_form_end(h);
        } else
                html_raw(h, "<a href=\"/login\">Login</a>");
        html_raw(h, "</div></header>\n<nav id=\"mainnav\">");
        for (size_t i = 0; i < ELEMENTSOF(nav_items); i++)
                html_printf(h, "<a href=\"%s\"%s>%s</a>", nav_items[i].path,
                            streq_ptr(nav, nav_items[i].id) ? " class=\"active\"" : "",
                            nav_items[i].label);
        html_raw(h, "</nav>\n<main id=\"content\">");
}

void page_end(const WebRequest *req, WebResponse *resp)
{
        html_raw(&resp->body, "</main>\n<footer>Powered by <a href=\"/wiki/WikiStart\">trackle"
                              "</a>: tickets, wiki and tracked admin sessions.</footer>"
                              "</body></html>\n");
}

int page_error(const WebRequest *req, WebResponse *resp, unsigned status, const char *message)
{
        html_done(&resp->body);
        resp->status = status;
        page_begin(req, resp, status == 404 ? "Not found" : "Error", NULL);
        html_printf(&resp->body, "<h1>%s</h1><p class=\"error\">%s</p>",
                    status == 404   ? "Not found"
                    : status == 403 ? "Forbidden"
                                    : "Error",
                    message);
        page_end(req, resp);
        return 0;
}

void page_form_begin(const WebRequest *req, Html *h, const char *action, const char *cls)
{
        html_raw(h, "<form method=\"post\" action=\"");
        html_attr(h, action);
        html_raw(h, "\"");
        if (cls)
                html_attribute(h, "class", cls);
        html_printf(h, "><input type=\"hidden\" name=\"%s\" value=\"%s\">", WEB_CSRF_FIELD,
                    strempty(req->csrf_token));
}

void page_form_end(Html *h)
{
        html_raw(h, "</form>");
}

void page_person(const WebRequest *req, Html *h, const char *who)
{
        const char *at = who ? strchr(who, '@') : NULL;

        if (isempty(who)) {
                html_raw(h, "<span class=\"nobody\">nobody</span>");
                return;
        }
        if (!at || req->admin) {
                html_printf(h, "<span class=\"person\">%s</span>", who);
                return;
        }
        html_printf(h, "<span class=\"person\">%.*s@…</span>", (int)(at - who), who);
}

void page_time(Html *h, int64_t t)
{
        time_t tt = (time_t)t;
        char iso[32], shown[32];
        struct tm tm;

        if (!gmtime_r(&tt, &tm))
                memset(&tm, 0, sizeof(tm));
        strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
        strftime(shown, sizeof(shown), "%Y-%m-%d %H:%M", &tm);
        html_printf(h, "<time datetime=\"%s\">%s</time>", iso, shown);
}

void page_time_iso(Html *h, const char *iso)
{
        if (isempty(iso)) {
                html_raw(h, "–");
                return;
        }
        /* "2026-12-04T22:54:32Z" shown as "2026-12-04 22:54" */
        html_printf(h, "<time datetime=\"%s\">%.10s %.5s</time>", iso, iso,
                    strlen(iso) > 11 ? iso + 11 : "");
}

/* ---- wiki text with links resolved for the viewer */

static void resolve(void *userdata, WikiLinkKind kind, int64_t id, const char *target,
                    WikiLinkInfo *ret)
{
        static const char *const sql[_WIKI_LINK_MAX] = {
                [WIKI_LINK_TICKET] = "SELECT summary, status, " PAGE_TICKET_VISIBLE(
                        "t", "?2") " FROM ticket t WHERE id = ?1",
                [WIKI_LINK_SESSION] = "SELECT user || '@' || host, state, 1 FROM session "
                                      "WHERE id = ?1",
                [WIKI_LINK_WIKI] = "SELECT name, '', " PAGE_WIKI_VISIBLE(
                        "p", "?2") " FROM wiki_page p WHERE name = ?3",
                [WIKI_LINK_MILESTONE] = "SELECT name, CASE WHEN completed THEN 'closed' "
                                        "ELSE '' END, 1 FROM milestone WHERE name = ?3",
        };
        const WebRequest *req = userdata;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        /* session logs and the history of files are for sysadmins */
        if ((kind == WIKI_LINK_SESSION || kind == WIKI_LINK_FILE) && !req->admin) {
                ret->visible = false;
                return;
        }
        if (!sql[kind] || page_prepare(req, sql[kind], &st) < 0)
                return;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, req->admin);
        sqlite3_bind_text(st, 3, target, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
                ret->exists = false;
                /* a missing ticket is just text; a missing page is offered for creation */
                ret->visible = kind == WIKI_LINK_WIKI;
                return;
        }
        if (sqlite3_column_int(st, 2) == 0) {
                ret->visible = false;
                return;
        }
        ret->closed = streq(page_col(st, 1), "closed");
        if (kind == WIKI_LINK_TICKET)
                snprintf(ret->title, sizeof(ret->title), "%s (%s)", page_col(st, 0),
                         page_col(st, 1));
        else if (kind == WIKI_LINK_SESSION)
                snprintf(ret->title, sizeof(ret->title), "session of %s", page_col(st, 0));
}

void page_wiki(const WebRequest *req, Html *h, const char *text)
{
        int r;

        html_raw(h, "<div class=\"wikitext\">");
        r = wiki_render(text, resolve, (void *)req, h);
        if (r == -EFBIG)
                html_raw(h, "<p class=\"error\">This text is too large to be shown.</p>");
        else if (r < 0)
                html_raw(h, "<p class=\"error\">This text could not be shown.</p>");
        html_raw(h, "</div>");
}

void page_backlinks(const WebRequest *req, Html *h, WikiLinkKind kind, const char *key)
{
        json_object *a = NULL;
        size_t n;

        if (trackled_links_back(req->store, kind, key, req->admin, &a) < 0)
                return;
        n = json_object_array_length(a);
        if (n > 0) {
                html_raw(h, "<section class=\"backlinks\"><h3>Referenced by</h3><ul>");
                for (size_t i = 0; i < n; i++) {
                        json_object *o = json_object_array_get_idx(a, i);
                        const char *k = page_json_str(o, "kind"), *src = page_json_str(o, "key");
                        int kk = wiki_link_kind_from_string(k);
                        WikiLinkInfo info = {.exists = true, .visible = true};
                        char label[160];
                        int64_t id = 0;

                        if (kk < 0)
                                continue;
                        if (kk == WIKI_LINK_TICKET || kk == WIKI_LINK_SESSION) {
                                (void)page_parse_id(src, &id);
                                snprintf(label, sizeof(label), "%s %s", k, src);
                        } else
                                snprintf(label, sizeof(label), "%s", src);
                        html_raw(h, "<li>");
                        wiki_link_html(h, kk, id, src, label, &info);
                        if (kk == WIKI_LINK_TICKET || kk == WIKI_LINK_SESSION)
                                html_printf(h, ": %s", page_json_str(o, "title"));
                        html_raw(h, "</li>");
                }
                html_raw(h, "</ul></section>");
        }
        json_object_put(a);
}

/* The start page: the wiki's WikiStart when there is one, else a short welcome. */
int web_page_index(const WebRequest *req, WebResponse *resp)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        Html *h = &resp->body;

        page_begin(req, resp, "Welcome", "wiki");
        if (page_prepare(
                    req,
                    "SELECT v.text FROM wiki_page p JOIN wiki_version v ON v.page = p.name "
                    "AND v.version = p.version WHERE p.name = 'WikiStart' AND " PAGE_WIKI_VISIBLE(
                            "p", "?1"),
                    &st) >= 0) {
                sqlite3_bind_int(st, 1, req->admin);
                if (sqlite3_step(st) == SQLITE_ROW) {
                        page_wiki(req, h, page_col(st, 0));
                        page_end(req, resp);
                        return 0;
                }
        }
        html_raw(h, "<h1>Welcome</h1><p>This is where our sysadmins keep track of their work: "
                    "<a href=\"/newticket\">file a ticket</a> when something is wrong or you need "
                    "something, follow it in <a href=\"/report\">the ticket list</a>, or "
                    "<a href=\"/search\">search</a> what was done before.</p>");
        if (req->admin)
                html_raw(h, "<p class=\"help\">Write this page: <a "
                            "href=\"/wiki/WikiStart?action=edit\">WikiStart</a>.</p>");
        page_end(req, resp);
        return 0;
}

/* ---- the stylesheet: a small, quiet Trac */

static const char style[] =
        "*{box-sizing:border-box}"
        "body{margin:0;font:14px/1.45 -apple-system,'Segoe UI',Verdana,Arial,sans-serif;"
        "color:#222;background:#fff}"
        "a{color:#b00;text-decoration:none;border-bottom:1px dotted #bbb}"
        "a:hover{background:#eed;color:#555}"
        "#banner{display:flex;align-items:center;gap:1em;padding:.6em 1.2em;"
        "border-bottom:1px solid #d7d7d7}"
        "#banner .site{font-size:1.6em;font-weight:bold;color:#333;border:0;letter-spacing:-.02em}"
        "#banner .quicksearch{margin-left:auto}"
        "#banner .meta{font-size:.9em;color:#666}"
        "form.inline{display:inline}"
        "button.link{border:0;background:none;color:#b00;padding:0;cursor:pointer;font:inherit}"
        "#mainnav{display:flex;justify-content:flex-end;padding:0 1.2em;background:#f7f7f7;"
        "border-bottom:1px solid #d7d7d7}"
        "#mainnav a{padding:.35em .9em;border:0;border-left:1px solid #e4e4e4;color:#000;"
        "font-size:.92em}"
        "#mainnav a.active{background:#000;color:#fff;font-weight:bold}"
        "#content{padding:1em 1.6em;max-width:72em}"
        "footer{border-top:1px solid #d7d7d7;color:#888;font-size:.85em;padding:.6em 1.6em;"
        "margin-top:2em}"
        "h1{font-size:1.6em;margin:.3em 0 .6em}h2{font-size:1.3em}h3{font-size:1.1em}"
        "h1 .status{font-size:.7em;color:#666;font-weight:normal}"
        "div.ticket{background:#ffd;border:1px solid #d7d7d7;border-radius:4px;padding:.8em 1.2em;"
        "margin-bottom:1.2em;box-shadow:.1em .1em .4em #ddd}"
        ".ticket h2{margin:.2em 0 .6em}"
        "table.properties{width:100%;border-top:1px solid #dd9;border-collapse:collapse;"
        "margin:.6em 0}"
        "table.properties th{text-align:right;width:14%;color:#555;font-weight:normal;"
        "padding:.25em .6em;vertical-align:top}"
        "table.properties td{width:36%;padding:.25em .6em;vertical-align:top}"
        ".lock{background:#fee;border:1px solid #d99;padding:.3em .6em;border-radius:3px}"
        "table.listing{border-collapse:collapse;width:100%;margin:.6em 0}"
        "table.listing th{background:#f7f7f0;text-align:left;border-bottom:1px solid #d7d7d7;"
        "padding:.3em .6em;font-size:.92em}"
        "table.listing td{padding:.25em .6em;border-bottom:1px solid #eee;vertical-align:top}"
        "table.listing tr:nth-child(even) td{background:#fbfbfb}"
        ".wikitext pre,pre.log{background:#f7f7f7;border:1px solid #d7d7d7;padding:.5em;"
        "overflow:auto}"
        ".wikitext code{background:#f4f4f4;padding:0 .2em}"
        ".wikitext table{border-collapse:collapse}"
        ".wikitext td,.wikitext th{border:1px solid #ccc;padding:.2em .5em}"
        "a.missing{color:#999;border-bottom:1px dashed #ccc}"
        "a.closed{text-decoration:line-through}"
        ".change{border-top:1px solid #eee;padding:.4em 0}"
        ".change h3{font-size:.95em;font-weight:normal;color:#555;margin:.2em 0}"
        ".change ul{margin:.2em 0 .4em 1.2em;padding:0}"
        ".comment{margin-left:1.2em}"
        "fieldset{border:1px solid #d7d7d7;border-radius:4px;margin:1em 0;padding:.6em 1em}"
        "legend{color:#555;font-weight:bold;padding:0 .3em}"
        "label{display:inline-block;min-width:8em;color:#333}"
        ".field{margin:.35em 0}"
        ".help{color:#777;font-size:.88em;margin-left:8.4em}"
        "input[type=text],input[type=email],input[type=search],input[type=password],select{"
        "padding:.25em .35em;border:1px solid #bbb;border-radius:3px;font:inherit}"
        "input.wide,textarea{width:100%;max-width:48em}"
        "textarea{font:13px/1.4 monospace;padding:.35em;border:1px solid #bbb;border-radius:3px}"
        "button{font:inherit;padding:.25em .9em;border:1px solid #aaa;border-radius:3px;"
        "background:#f3f3f3;cursor:pointer}"
        "button.primary{background:#333;color:#fff;border-color:#222}"
        ".notice{background:#efe;border:1px solid #9c9;padding:.5em .8em;border-radius:3px}"
        ".error{color:#b00}"
        ".diff{border:1px solid #d7d7d7;margin:.6em 0 1.2em;font:12px/1.35 monospace;"
        "overflow:auto}"
        ".diff h4{margin:0;padding:.3em .6em;background:#f0f0f0;font:bold 13px sans-serif;"
        "border-bottom:1px solid #d7d7d7}"
        ".diff .meta{color:#666;padding:.2em .6em;font:12px sans-serif}"
        ".diff pre{margin:0;padding:0}"
        ".diff span{display:block;padding:0 .6em;white-space:pre}"
        ".diff .add{background:#dfd;color:#050}"
        ".diff .del{background:#fdd;color:#700}"
        ".diff .hunk{background:#eef;color:#446}"
        ".diff .hdr{color:#777}"
        "table.commands td.line{font-family:monospace;white-space:pre-wrap;word-break:break-all}"
        "td.exit-bad{color:#b00;font-weight:bold}"
        "table.env td{font-family:monospace;font-size:.9em;word-break:break-all}"
        "mark{background:#ff9}"
        ".timeline dt{margin-top:.5em}.timeline dd{margin-left:2em;color:#555}"
        ".timeline h2{font-size:1.05em;border-bottom:1px solid #eee}"
        ".milestone{border-bottom:1px solid #eee;padding:.4em 0 .8em}"
        "progress{width:20em;height:1em;vertical-align:middle}"
        ".backlinks{margin-top:1em;font-size:.92em}"
        "nav.pages a{margin-right:.6em}"
        "@media (max-width:700px){#banner{flex-wrap:wrap}#content{padding:.6em}"
        "table.properties th{width:auto}}\n";

int web_page_style(const WebRequest *req, WebResponse *resp)
{
        resp->content_type = "text/css; charset=utf-8";
        html_rawn(&resp->body, style, sizeof(style) - 1);
        (void)web_response_header(resp, "Cache-Control", "max-age=3600");
        return 0;
}
