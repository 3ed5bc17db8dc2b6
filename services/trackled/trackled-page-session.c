/* trackled-page-session.c - /session/N: a tracked session's log (annotation, commands,
 * environment, the shown files as coloured diffs) and its edit page. Sysadmins only. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "trackled-page.h"

static void meta_row(Html *h, const char *label, const char *value)
{
        html_printf(h, "<th>%s</th><td>%s</td>", label, value);
}

static void state_text(Html *h, json_object *st)
{
        if (!st) {
                html_raw(h, "–");
                return;
        }
        html_printf(h, "%s, %" PRIi64 " bytes, mode %s, owner %" PRIi64 ":%" PRIi64,
                    page_json_str(st, "sha256")[0] ? "file" : "", page_json_int(st, "size", 0),
                    page_json_str(st, "mode"), page_json_int(st, "uid", -1),
                    page_json_int(st, "gid", -1));
}

static void file_box(const WebRequest *req, Html *h, json_object *f)
{
        const char *path = page_json_str(f, "path"), *change = page_json_str(f, "change");
        json_object *before = json_object_object_get(f, "before");
        json_object *after = json_object_object_get(f, "after");
        WikiLinkInfo info = {.exists = true, .visible = true};

        html_raw(h, "<div class=\"diff\"><h4>");
        wiki_link_html(h, WIKI_LINK_FILE, 0, path, path, &info);
        html_printf(h, " <small>(%s", change);
        if (streq(change, "renamed"))
                html_printf(h, " from %s", page_json_str(f, "from"));
        html_raw(h, ")</small></h4>");
        if (before && after) {
                if (!streq(page_json_str(before, "mode"), page_json_str(after, "mode")))
                        html_printf(h, "<div class=\"meta\">mode %s → %s</div>",
                                    page_json_str(before, "mode"), page_json_str(after, "mode"));
                if (page_json_int(before, "uid", -1) != page_json_int(after, "uid", -1) ||
                    page_json_int(before, "gid", -1) != page_json_int(after, "gid", -1))
                        html_printf(
                                h,
                                "<div class=\"meta\">owner %" PRIi64 ":%" PRIi64 " → %" PRIi64
                                ":%" PRIi64 "</div>",
                                page_json_int(before, "uid", -1), page_json_int(before, "gid", -1),
                                page_json_int(after, "uid", -1), page_json_int(after, "gid", -1));
        }
        if (json_object_get_boolean(json_object_object_get(f, "redacted")))
                html_raw(h,
                         "<div class=\"meta\">Content not stored (redacted); hashes only.</div>");
        if (json_object_get_boolean(json_object_object_get(f, "binary")) ||
            json_object_get_boolean(json_object_object_get(f, "redacted")) ||
            !json_object_object_get(f, "diff")) {
                html_raw(h, "<div class=\"meta\">before: ");
                html_txt(h, before ? page_json_str(before, "sha256") : "–");
                html_raw(h, "<br>after: ");
                html_txt(h, after ? page_json_str(after, "sha256") : "–");
                html_raw(h, "</div>");
        } else if (*page_json_str(f, "diff"))
                page_diff(h, page_json_str(f, "diff"));
        else if (!before || !after) {
                html_raw(h, "<div class=\"meta\">");
                state_text(h, before ? before : after);
                html_raw(h, "</div>");
        }
        html_raw(h, "</div>");
}

static void commands(Html *h, json_object *a)
{
        size_t n = json_object_array_length(a);

        html_printf(h, "<section id=\"commands\"><h2>Commands (%zu)</h2>", n);
        if (n == 0) {
                html_raw(h, "<p>No commands.</p></section>");
                return;
        }
        html_raw(h, "<table class=\"listing commands\"><tr><th>Time</th><th>Directory</th>"
                    "<th>User</th><th>Command</th><th>Exit</th></tr>");
        for (size_t i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(a, i), *argv, *ex;
                const char *line = page_json_str(c, "line");
                int64_t uid = page_json_int(c, "uid", -1), euid = page_json_int(c, "euid", -1);

                html_raw(h, "<tr><td>");
                page_time_iso(h, page_json_str(c, "time"));
                html_printf(h, "</td><td>%s</td><td>%" PRIi64, page_json_str(c, "cwd"), uid);
                if (euid >= 0 && euid != uid)
                        html_printf(h, " (e%" PRIi64 ")", euid);
                html_printf(h, "</td><td class=\"line %s\">", page_json_str(c, "source"));
                if (*line)
                        html_txt(h, line);
                else if (json_object_object_get_ex(c, "argv", &argv) && argv)
                        for (size_t j = 0; j < json_object_array_length(argv); j++)
                                html_printf(
                                        h, "%s%s", j ? " " : "",
                                        json_object_get_string(json_object_array_get_idx(argv, j)));
                ex = json_object_object_get(c, "exit");
                if (ex)
                        html_printf(h, "</td><td class=\"%s\">%d</td></tr>",
                                    json_object_get_int(ex) ? "exit-bad" : "exit-ok",
                                    json_object_get_int(ex));
                else
                        html_raw(h, "</td><td></td></tr>");
        }
        html_raw(h, "</table></section>");
}

static void environment(Html *h, json_object *env)
{
        html_raw(h, "<section id=\"environment\"><details><summary><b>Environment</b></summary>"
                    "<table class=\"listing env\">");
        json_object_object_foreach(env, k, v)
                html_printf(h, "<tr><td>%s</td><td>%s</td></tr>", k, json_object_get_string(v));
        html_raw(h, "</table></details></section>");
}

static int session_edit(const WebRequest *req, WebResponse *resp, int64_t id, json_object *s)
{
        json_object *files = json_object_object_get(s, "files");
        char action[64], title[64];
        Html *h = &resp->body;

        snprintf(title, sizeof(title), "Session %" PRIi64, id);
        snprintf(action, sizeof(action), "/session/%" PRIi64, id);
        page_begin(req, resp, title, NULL);
        html_printf(h, "<h1>Edit session %" PRIi64 "</h1>", id);
        page_form_begin(req, h, action, "sessionedit");
        html_printf(h,
                    "<fieldset><legend>Annotation</legend><textarea name=\"annotation\" "
                    "id=\"f-annotation\" rows=\"12\" cols=\"80\">%s</textarea></fieldset>",
                    page_json_str(s, "annotation"));
        html_raw(h, "<fieldset><legend>Files shown by default</legend>");
        for (size_t i = 0; i < json_object_array_length(files); i++) {
                json_object *f = json_object_array_get_idx(files, i);
                bool shown = json_object_get_boolean(json_object_object_get(f, "shown"));

                html_printf(h,
                            "<div class=\"field\"><input type=\"checkbox\" name=\"shown\" "
                            "id=\"f-shown-%zu\" value=\"%s\"%s><label for=\"f-shown-%zu\">%s "
                            "<small>(%s)</small></label></div>",
                            i, page_json_str(f, "path"), shown ? " checked" : "", i,
                            page_json_str(f, "path"), page_json_str(f, "change"));
        }
        if (json_object_array_length(files) == 0)
                html_raw(h, "<p>No files changed.</p>");
        html_raw(h, "</fieldset><button type=\"submit\" class=\"primary\">Save</button>");
        page_form_end(h);
        page_end(req, resp);
        return 0;
}

static int session_save(const WebRequest *req, WebResponse *resp, int64_t id, json_object *s)
{
        const char *annotation = web_arg(req, "annotation");
        json_object *files = json_object_object_get(s, "files");
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const char *const *shown;
        size_t n_shown = 0;
        char loc[64];
        int r;

        if (annotation && strlen(annotation) > PAGE_TEXT_MAX)
                return page_error(req, resp, 400, "The annotation is too long.");
        shown = web_args(req, "shown", &n_shown);
        r = trackled_store_begin(req->store);
        if (r < 0)
                return r;
        if (annotation) {
                r = page_prepare(req, "UPDATE session SET annotation = ?2 WHERE id = ?1", &st);
                if (r >= 0) {
                        sqlite3_bind_int64(st, 1, id);
                        sqlite3_bind_text(st, 2, annotation, -1, SQLITE_STATIC);
                        r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
                }
        }
        for (size_t i = 0; r >= 0 && i < json_object_array_length(files); i++) {
                const char *path = page_json_str(json_object_array_get_idx(files, i), "path");
                bool on = false;

                for (size_t j = 0; j < n_shown && !on; j++)
                        on = streq(shown[j], path);
                r = trackled_store_file_shown(req->store, id, path, on);
        }
        r = trackled_store_end(req->store, r);
        if (r < 0)
                return r;
        snprintf(loc, sizeof(loc), "/session/%" PRIi64, id);
        return web_redirect(resp, 303, loc);
}

int web_page_session(const WebRequest *req, WebResponse *resp)
{
        json_object *s = NULL, *a, *ex;
        char title[64], key[24];
        Html *h = &resp->body;
        size_t n_hidden = 0;
        int64_t id, ticket;
        int r;

        if (!req->admin)
                return page_error(req, resp, 404, "No such session.");
        if (page_parse_id(req->path + strlen("/session/"), &id) < 0)
                return page_error(req, resp, 404, "No such session.");
        r = trackled_store_session_json(req->store, id, &s);
        if (r == -ENOENT)
                return page_error(req, resp, 404, "No such session.");
        if (r < 0)
                return r;
        if (streq(req->method, "POST"))
                r = session_save(req, resp, id, s);
        else if (streq_ptr(web_arg(req, "action"), "edit"))
                r = session_edit(req, resp, id, s);
        else {
                snprintf(title, sizeof(title), "Session %" PRIi64, id);
                page_begin(req, resp, title, NULL);
                html_printf(h,
                            "<h1>Session %" PRIi64 " <span class=\"status\">(%s)</span></h1>"
                            "<div class=\"ticket\"><table class=\"properties\"><tr>",
                            id, page_json_str(s, "state"));
                ticket = page_json_int(s, "ticket", 0);
                html_raw(h, "<th>Ticket:</th><td>");
                if (ticket > 0)
                        html_printf(h, "<a href=\"/ticket/%" PRIi64 "\">#%" PRIi64 "</a>", ticket,
                                    ticket);
                html_printf(h,
                            "</td><th>Admin:</th><td>%s (uid %" PRIi64 ") on %s</td></tr><tr>"
                            "<th>Started:</th><td>",
                            page_json_str(s, "user"), page_json_int(s, "uid", -1),
                            page_json_str(s, "host"));
                page_time_iso(h, page_json_str(s, "started"));
                html_raw(h, "</td><th>Ended:</th><td>");
                page_time_iso(h, page_json_str(s, "ended"));
                html_raw(h, "</td></tr><tr>");
                meta_row(h, "Terminal:", page_json_str(s, "tty"));
                ex = json_object_object_get(s, "exit");
                html_printf(h, "<th>Exit:</th><td>%s</td></tr><tr>",
                            ex ? json_object_get_string(ex) : "–");
                meta_row(h, "Identity:", page_json_str(s, "identity"));
                html_printf(h,
                            "<th></th><td><a href=\"/session/%" PRIi64 "?action=edit\">Edit "
                            "annotation and files</a></td></tr></table></div>",
                            id);
                a = json_object_object_get(s, "missing");
                for (size_t i = 0; i < json_object_array_length(a); i++)
                        html_printf(h, "<p class=\"lock\">%s</p>",
                                    json_object_get_string(json_object_array_get_idx(a, i)));
                html_raw(h, "<section id=\"annotation\"><h2>Annotation</h2>");
                if (*page_json_str(s, "annotation"))
                        page_wiki(req, h, page_json_str(s, "annotation"));
                else
                        html_raw(h, "<p class=\"help\">No annotation yet.</p>");
                html_raw(h, "</section>");
                snprintf(key, sizeof(key), "%" PRIi64, id);
                page_backlinks(req, h, WIKI_LINK_SESSION, key);
                commands(h, json_object_object_get(s, "commands"));
                a = json_object_object_get(s, "files");
                html_printf(h, "<section id=\"files\"><h2>Files (%zu)</h2>",
                            json_object_array_length(a));
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *f = json_object_array_get_idx(a, i);
                        if (json_object_get_boolean(json_object_object_get(f, "shown")))
                                file_box(req, h, f);
                        else
                                n_hidden++;
                }
                if (n_hidden > 0) {
                        html_printf(h,
                                    "<details><summary>%zu more not shown by default"
                                    "</summary>",
                                    n_hidden);
                        for (size_t i = 0; i < json_object_array_length(a); i++) {
                                json_object *f = json_object_array_get_idx(a, i);
                                if (!json_object_get_boolean(json_object_object_get(f, "shown")))
                                        file_box(req, h, f);
                        }
                        html_raw(h, "</details>");
                }
                html_raw(h, "</section>");
                environment(h, json_object_object_get(s, "environment"));
                page_end(req, resp);
                r = 0;
        }
        json_object_put(s);
        return r;
}
