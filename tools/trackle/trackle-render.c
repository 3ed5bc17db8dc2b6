/* trackle-render.c - format what trackled returns for people (and --json for scripts). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "macro.h"

#include "trackle-render.h"

#define ANSI_BOLD "\033[1m"
#define ANSI_RED "\033[31m"
#define ANSI_GREEN "\033[32m"
#define ANSI_CYAN "\033[36m"
#define ANSI_RESET "\033[0m"

const char *trackle_json_str(json_object *o, const char *key)
{
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

bool trackle_json_int(json_object *o, const char *key, int64_t *ret)
{
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return false;
        *ret = json_object_get_int64(v);
        return true;
}

json_object *trackle_json_array(json_object *o, const char *key)
{
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_array))
                return NULL;
        return v;
}

static bool get_bool(json_object *o, const char *key, bool def)
{
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_boolean))
                return def;
        return json_object_get_boolean(v);
}

void trackle_put_safe(FILE *f, const char *s, bool keep_tab)
{
        for (const unsigned char *p = (const unsigned char *)strempty(s); *p; p++)
                if ((*p < 0x20 && !(keep_tab && *p == '\t')) || *p == 0x7f)
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
}

/* A scalar field as text: strings escaped, numbers, booleans, "-" for null or missing. */
static void put_field(FILE *f, json_object *o, const char *key)
{
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !v) {
                fputc('-', f);
                return;
        }
        switch (json_object_get_type(v)) {
        case json_type_string:
                trackle_put_safe(f, json_object_get_string(v), false);
                break;
        case json_type_int:
                fprintf(f, "%" PRId64, json_object_get_int64(v));
                break;
        case json_type_boolean:
                fputs(json_object_get_boolean(v) ? "yes" : "no", f);
                break;
        case json_type_double:
                fprintf(f, "%g", json_object_get_double(v));
                break;
        default:
                trackle_put_safe(f, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                                 false);
        }
}

int trackle_render_json(FILE *f, json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                                  JSON_C_TO_STRING_SPACED |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);

        if (!s)
                return -ENOMEM;
        fputs(s, f);
        fputc('\n', f);
        return 0;
}

int trackle_render_ticket_list(FILE *f, json_object *tickets)
{
        size_t n;

        if (!json_object_is_type(tickets, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(tickets);
        fprintf(f, "%6s  %-10s  %-12s  %s\n", "ID", "STATUS", "OWNER", "SUMMARY");
        for (size_t i = 0; i < n; i++) {
                json_object *t = json_object_array_get_idx(tickets, i);
                int64_t id = 0;

                (void)trackle_json_int(t, "id", &id);
                fprintf(f, "%6" PRId64 "  ", id);
                fprintf(f, "%-10s  ", trackle_json_str(t, "status") ?: "-");
                fprintf(f, "%-12s  ", trackle_json_str(t, "owner") ?: "-");
                put_field(f, t, "summary");
                fputc('\n', f);
        }
        return 0;
}

int trackle_render_ticket(FILE *f, json_object *ticket)
{
        json_object *a, *lock;
        const char *desc;
        int64_t id = 0;

        if (!json_object_is_type(ticket, json_type_object))
                return -EBADMSG;
        (void)trackle_json_int(ticket, "id", &id);
        fprintf(f, "Ticket #%" PRId64 ": ", id);
        put_field(f, ticket, "summary");
        fputc('\n', f);
        json_object_object_foreach(ticket, key, val)
        {
                json_type t = json_object_get_type(val);

                if (streq(key, "id") || streq(key, "summary") || streq(key, "description"))
                        continue;
                if (t == json_type_object || t == json_type_array)
                        continue;
                fprintf(f, "  %-12s ", key);
                put_field(f, ticket, key);
                fputc('\n', f);
        }
        if (json_object_object_get_ex(ticket, "lock", &lock) &&
            json_object_is_type(lock, json_type_object)) {
                fputs("  lock         session ", f);
                put_field(f, lock, "session");
                fputs(" (uid ", f);
                put_field(f, lock, "uid");
                fputs(") since ", f);
                put_field(f, lock, "since");
                fputc('\n', f);
        }
        a = trackle_json_array(ticket, "sessions");
        if (a) {
                fputs("  sessions    ", f);
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *s = json_object_array_get_idx(a, i);

                        fputc(' ', f);
                        if (json_object_is_type(s, json_type_object))
                                put_field(f, s, "id");
                        else
                                trackle_put_safe(f, json_object_get_string(s), false);
                }
                fputc('\n', f);
        }
        desc = trackle_json_str(ticket, "description");
        if (!isempty(desc)) {
                fputs("\n", f);
                for (const char *p = desc; *p;) {
                        size_t l = strcspn(p, "\n");
                        _cleanup_free_ char *line = strndup(p, l);

                        if (!line)
                                return -ENOMEM;
                        fputs("    ", f);
                        trackle_put_safe(f, line, true);
                        fputc('\n', f);
                        p += l;
                        if (*p)
                                p++;
                }
        }
        a = trackle_json_array(ticket, "history");
        if (a && json_object_array_length(a) > 0) {
                fputs("\nHistory:\n", f);
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *h = json_object_array_get_idx(a, i);

                        fputs("  ", f);
                        put_field(f, h, "when");
                        fputs("  ", f);
                        put_field(f, h, "who");
                        fputs("  ", f);
                        put_field(f, h, "field");
                        if (trackle_json_str(h, "old") || trackle_json_str(h, "new")) {
                                fputs(": ", f);
                                put_field(f, h, "old");
                                fputs(" -> ", f);
                                put_field(f, h, "new");
                        }
                        if (!isempty(trackle_json_str(h, "comment"))) {
                                fputs("  ", f);
                                put_field(f, h, "comment");
                        }
                        fputc('\n', f);
                }
        }
        return 0;
}

int trackle_render_session_list(FILE *f, json_object *sessions)
{
        if (!json_object_is_type(sessions, json_type_array))
                return -EBADMSG;
        fprintf(f, "%6s  %6s  %-12s  %-20s  %-9s  %s\n", "ID", "TICKET", "USER", "STARTED", "STATE",
                "IDENTITY");
        for (size_t i = 0; i < json_object_array_length(sessions); i++) {
                json_object *s = json_object_array_get_idx(sessions, i);
                int64_t id = 0, ticket;

                (void)trackle_json_int(s, "id", &id);
                fprintf(f, "%6" PRId64 "  ", id);
                if (trackle_json_int(s, "ticket", &ticket))
                        fprintf(f, "%6" PRId64 "  ", ticket);
                else
                        fprintf(f, "%6s  ", "-");
                fprintf(f, "%-12s  ", trackle_json_str(s, "user") ?: "-");
                fprintf(f, "%-20s  ", trackle_json_str(s, "started") ?: "-");
                fprintf(f, "%-9s  ", trackle_json_str(s, "state") ?: "-");
                fprintf(f, "%s\n", trackle_json_str(s, "identity") ?: "-");
        }
        return 0;
}

int trackle_render_files(FILE *f, json_object *session, bool numbered)
{
        json_object *files = trackle_json_array(session, "files");
        size_t n = files ? json_object_array_length(files) : 0;

        for (size_t i = 0; i < n; i++) {
                json_object *file = json_object_array_get_idx(files, i);
                const char *from = trackle_json_str(file, "from");

                if (numbered)
                        fprintf(f, "  %3zu  ", i + 1);
                else
                        fputs("  ", f);
                fprintf(f, "%-9s ", trackle_json_str(file, "change") ?: "?");
                put_field(f, file, "path");
                if (from) {
                        fputs(" (from ", f);
                        trackle_put_safe(f, from, false);
                        fputc(')', f);
                }
                if (!get_bool(file, "shown", true))
                        fputs("  [hidden]", f);
                if (get_bool(file, "redacted", false))
                        fputs("  [redacted]", f);
                else if (get_bool(file, "binary", false))
                        fputs("  [binary]", f);
                fputc('\n', f);
        }
        return (int)MIN(n, (size_t)INT32_MAX);
}

int trackle_render_session(FILE *f, json_object *session)
{
        json_object *a;
        int64_t id = 0, v;

        if (!json_object_is_type(session, json_type_object))
                return -EBADMSG;
        (void)trackle_json_int(session, "id", &id);
        fprintf(f, "Session %" PRId64, id);
        if (trackle_json_int(session, "ticket", &v))
                fprintf(f, " (ticket #%" PRId64 ")", v);
        fputc('\n', f);
        fputs("  user:     ", f);
        put_field(f, session, "user");
        fputs(" (uid ", f);
        put_field(f, session, "uid");
        fputs(") on ", f);
        put_field(f, session, "host");
        fputs(", tty ", f);
        put_field(f, session, "tty");
        fputs("\n  started:  ", f);
        put_field(f, session, "started");
        fputs("\n  ended:    ", f);
        put_field(f, session, "ended");
        fputs("\n  exit:     ", f);
        put_field(f, session, "exit");
        fputs("\n  state:    ", f);
        put_field(f, session, "state");
        fputs("\n  identity: ", f);
        put_field(f, session, "identity");
        fputc('\n', f);
        if (!isempty(trackle_json_str(session, "annotation"))) {
                fputs("  note:     ", f);
                put_field(f, session, "annotation");
                fputc('\n', f);
        }
        a = trackle_json_array(session, "missing");
        for (size_t i = 0; a && i < json_object_array_length(a); i++) {
                fputs("  missing:  ", f);
                trackle_put_safe(f, json_object_get_string(json_object_array_get_idx(a, i)), false);
                fputc('\n', f);
        }

        a = trackle_json_array(session, "commands");
        fprintf(f, "\nCommands (%zu):\n", a ? json_object_array_length(a) : (size_t)0);
        for (size_t i = 0; a && i < json_object_array_length(a); i++) {
                json_object *c = json_object_array_get_idx(a, i), *argv;
                bool shell = streq_ptr(trackle_json_str(c, "source"), "shell");

                fputs(shell ? "  " : "      ", f);
                put_field(f, c, "time");
                fputs("  ", f);
                put_field(f, c, "cwd");
                if (shell) {
                        fputs("  $ ", f);
                        put_field(f, c, "line");
                        if (trackle_json_int(c, "exit", &v) && v != 0)
                                fprintf(f, "  [exit %" PRId64 "]", v);
                } else {
                        int64_t uid = -1, euid = -1;

                        (void)trackle_json_int(c, "uid", &uid);
                        (void)trackle_json_int(c, "euid", &euid);
                        fprintf(f, "  exec (uid %" PRId64 "/%" PRId64 "):", uid, euid);
                        argv = trackle_json_array(c, "argv");
                        for (size_t j = 0; argv && j < json_object_array_length(argv); j++) {
                                fputc(' ', f);
                                trackle_put_safe(
                                        f,
                                        json_object_get_string(json_object_array_get_idx(argv, j)),
                                        false);
                        }
                }
                fputc('\n', f);
        }

        a = trackle_json_array(session, "files");
        fprintf(f, "\nFiles (%zu):\n", a ? json_object_array_length(a) : (size_t)0);
        (void)trackle_render_files(f, session, false);
        return 0;
}

/* "@@ -a[,b] +c[,d] @@": the line counts b and d (1 when left out). */
static bool parse_hunk_header(const char *p, size_t l, uint64_t *ret_old, uint64_t *ret_new)
{
        uint64_t n[2] = {1, 1};
        const char *e = p + l;

        if (l < 2 || strncmp(p, "@@", 2) != 0)
                return false;
        p += 2;
        for (int k = 0; k < 2; k++) {
                while (p < e && *p == ' ')
                        p++;
                if (p >= e || *p != (k == 0 ? '-' : '+'))
                        return false;
                p++;
                while (p < e && *p >= '0' && *p <= '9')
                        p++;
                if (p < e && *p == ',') {
                        n[k] = 0;
                        for (p++; p < e && *p >= '0' && *p <= '9'; p++) {
                                if (n[k] > UINT64_MAX / 10 - 10)
                                        return false;
                                n[k] = n[k] * 10 + (uint64_t)(*p - '0');
                        }
                }
        }
        *ret_old = n[0];
        *ret_new = n[1];
        return true;
}

void trackle_render_diff(FILE *f, const char *diff, bool color)
{
        uint64_t old_left = 0, new_left = 0; /* lines left in the current hunk */

        for (const char *p = strempty(diff); *p;) {
                size_t l = strcspn(p, "\n");
                const char *on = NULL;

                if (old_left > 0 || new_left > 0) {
                        if (l >= 1 && p[0] == '-') {
                                on = ANSI_RED;
                                old_left -= old_left > 0;
                        } else if (l >= 1 && p[0] == '+') {
                                on = ANSI_GREEN;
                                new_left -= new_left > 0;
                        } else if (l >= 1 && p[0] == '\\') {
                                /* "\ No newline at end of file" */
                        } else {
                                old_left -= old_left > 0;
                                new_left -= new_left > 0;
                        }
                } else if (parse_hunk_header(p, l, &old_left, &new_left))
                        on = ANSI_CYAN;
                else if (l > 0 && p[0] != '\\')
                        on = ANSI_BOLD; /* ---, +++, diff, index, ... */
                if (color && on)
                        fputs(on, f);
                for (size_t i = 0; i < l; i++) {
                        unsigned char ch = (unsigned char)p[i];

                        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                                fprintf(f, "\\x%02x", ch);
                        else
                                fputc(ch, f);
                }
                if (color && on)
                        fputs(ANSI_RESET, f);
                fputc('\n', f);
                p += l;
                if (*p)
                        p++;
        }
}

int trackle_render_session_diff(FILE *f, json_object *session, const char *path, bool color)
{
        json_object *files = trackle_json_array(session, "files");
        bool found = false;

        for (size_t i = 0; files && i < json_object_array_length(files); i++) {
                json_object *file = json_object_array_get_idx(files, i);
                const char *p = trackle_json_str(file, "path"), *diff, *why;

                if (!p || (path && !streq(p, path)))
                        continue;
                found = true;
                diff = trackle_json_str(file, "diff");
                if (diff) {
                        trackle_render_diff(f, diff, color);
                        continue;
                }
                why = get_bool(file, "redacted", false)                         ? "redacted"
                      : get_bool(file, "binary", false)                         ? "binary"
                      : streq_ptr(trackle_json_str(file, "change"), "metadata") ? "metadata only"
                                                                                : "no text diff";
                if (color)
                        fputs(ANSI_BOLD, f);
                fputs("# ", f);
                trackle_put_safe(f, p, false);
                fprintf(f, ": %s (%s)", trackle_json_str(file, "change") ?: "changed", why);
                if (color)
                        fputs(ANSI_RESET, f);
                fputc('\n', f);
        }
        if (path && !found)
                return -ENOENT;
        return 0;
}
