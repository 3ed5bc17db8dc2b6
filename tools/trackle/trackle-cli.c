/* trackle-cli.c - trackle's screen: the ticket overview, the ticket detail with editing, a
 * tracked shell for the ticket and the choice of the files the web shows. Everything is a
 * request to trackled; nothing is stored before the admin saves, so a killed screen leaves
 * no lock and nothing half-saved behind (a running shell session is trackled's to end). */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curses.h>

#include "config.h"
#include "macro.h"

#include "trackle-cli-ui.h"
#include "trackle-cli.h"
#include "trackle-client.h"
#include "trackle-render.h"

/* ---- columns of the overview */

typedef struct Column {
        const char *key, *title;
        int width; /* 0: takes what is left (summary) */
} Column;

static const Column columns[] = {
        {"id", "#", 5},
        {"summary", "Summary", 0},
        {"status", "Status", 10},
        {"owner", "Owner", 10},
        {"type", "Type", 10},
        {"priority", "Priority", 9},
        {"severity", "Severity", 9},
        {"component", "Component", 12},
        {"milestone", "Milestone", 10},
        {"reporter", "Reporter", 10},
        {"changed", "Last change", 16},
        {"lock", "Locked by", 10},
};
#define N_COLUMNS ELEMENTSOF(columns)
#define DEFAULT_COLUMNS "id,summary,owner,changed"

/* Ticket fields on the detail screen, in order; editable ones first. */
typedef enum FieldKind {
        FIELD_TEXT,
        FIELD_ENUM,   /* pick-list of the enumeration, text when it has no values */
        FIELD_STATUS, /* pick-list of the usual states */
        FIELD_READONLY,
} FieldKind;

static const struct {
        const char *key, *label;
        FieldKind kind;
} fields[] = {
        {"summary", "Summary", FIELD_TEXT},       {"status", "Status", FIELD_STATUS},
        {"owner", "Owner", FIELD_TEXT},           {"type", "Type", FIELD_ENUM},
        {"priority", "Priority", FIELD_ENUM},     {"severity", "Severity", FIELD_ENUM},
        {"component", "Component", FIELD_ENUM},   {"milestone", "Milestone", FIELD_ENUM},
        {"keywords", "Keywords", FIELD_TEXT},     {"resolution", "Resolution", FIELD_TEXT},
        {"reporter", "Reporter", FIELD_READONLY}, {"created", "Created", FIELD_READONLY},
        {"changed", "Changed", FIELD_READONLY},
};

static const char *const statuses[] = {"new", "assigned", "accepted", "reopened", "closed"};

typedef struct Cli {
        const char *exe;
        TrackleClient *client;
        char me[64];
        json_object *list_reply, *tickets; /* ticket.list */
        size_t *view, n_view;              /* indices into tickets: filtered, sorted */
        size_t sel, top;
        char *filter;
        bool all; /* closed tickets too */
        bool col_on[N_COLUMNS];
        size_t sort_col;
        bool sort_desc;
        json_object *enums_reply, *enums;
        char msg[512];
        bool msg_error;
        bool quit;
} Cli;

static void say(Cli *c, bool error, const char *fmt, ...) _printf_(3, 4);
static void say(Cli *c, bool error, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
        va_end(ap);
        c->msg_error = error;
}

static const char *jstr(json_object *o, const char *key)
{
        const char *s = trackle_json_str(o, key);
        return s ? s : "";
}

/* ---- talking to trackled */

static int connect_client(Cli *c)
{
        int r;

        if (c->client)
                return 0;
        r = trackle_client_connect(TRACKLE_SOCKET, &c->client);
        if (r < 0)
                say(c, true, "cannot reach trackled at %s: %s", TRACKLE_SOCKET, strerror(-r));
        return r;
}

/* One request (taken); the reply, or -errno with the reason in the message line. A broken
 * connection is made again once (trackled may have restarted). */
static int call(Cli *c, json_object *req, json_object **ret)
{
        int r = -ENOMEM;

        if (!req) {
                say(c, true, "out of memory");
                return -ENOMEM;
        }
        for (int attempt = 0; attempt < 2; attempt++) {
                r = connect_client(c);
                if (r < 0)
                        break;
                r = trackle_client_call(c->client, req, -1, ret);
                if (r == -EREMOTEIO) {
                        say(c, true, "%s", c->client->error ? c->client->error : "refused");
                        break;
                }
                if (r >= 0)
                        break;
                say(c, true, "talking to trackled: %s", strerror(-r));
                c->client = trackle_client_free(c->client);
        }
        json_object_put(req);
        return r;
}

/* call() and the reply's field key (owned by *ret_reply). */
static int call_get(Cli *c, json_object *req, const char *key, json_object **ret_reply,
                    json_object **ret_value)
{
        json_object *reply = NULL, *v;
        int r;

        r = call(c, req, &reply);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(reply, key, &v) || !v) {
                json_object_put(reply);
                say(c, true, "trackled's reply has no '%s'", key);
                return -EBADMSG;
        }
        *ret_reply = reply;
        *ret_value = v;
        return 0;
}

static json_object *request_id(const char *op, int64_t id)
{
        json_object *q = trackle_request_new(op);

        if (q)
                json_object_object_add(q, "id", json_object_new_int64(id));
        return q;
}

/* ---- overview */

static bool ticket_open(json_object *t)
{
        return !streq(jstr(t, "status"), "closed");
}

static bool matches(json_object *t, const char *filter)
{
        static const char *const keys[] = {"summary",   "owner",   "status",   "component",
                                           "milestone", "type",    "keywords", "priority",
                                           "severity",  "reporter"};
        int64_t id;
        char num[32];

        if (isempty(filter))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (strcasestr(jstr(t, keys[i]), filter))
                        return true;
        if (trackle_json_int(t, "id", &id)) {
                snprintf(num, sizeof(num), "#%" PRId64, id);
                if (strstr(num, filter) == num || streq(num + 1, filter))
                        return true;
        }
        return false;
}

static int compare(const void *a, const void *b, void *userdata)
{
        const Cli *sort_cli = userdata;
        json_object *x = json_object_array_get_idx(sort_cli->tickets, *(const size_t *)a);
        json_object *y = json_object_array_get_idx(sort_cli->tickets, *(const size_t *)b);
        const char *key = columns[sort_cli->sort_col].key;
        int64_t ix = 0, iy = 0;
        int r;

        if (streq(key, "id")) {
                (void)trackle_json_int(x, "id", &ix);
                (void)trackle_json_int(y, "id", &iy);
                r = ix < iy ? -1 : ix > iy;
        } else
                r = strcasecmp(jstr(x, key), jstr(y, key));
        if (r == 0) {
                (void)trackle_json_int(x, "id", &ix);
                (void)trackle_json_int(y, "id", &iy);
                r = ix < iy ? -1 : ix > iy;
        }
        return sort_cli->sort_desc ? -r : r;
}

static void build_view(Cli *c)
{
        size_t n = c->tickets ? json_object_array_length(c->tickets) : 0;
        size_t *v = reallocarray(c->view, n + 1, sizeof(size_t));

        if (!v)
                return;
        c->view = v;
        c->n_view = 0;
        for (size_t i = 0; i < n; i++) {
                json_object *t = json_object_array_get_idx(c->tickets, i);

                if ((c->all || ticket_open(t)) && matches(t, c->filter))
                        c->view[c->n_view++] = i;
        }
        qsort_r(c->view, c->n_view, sizeof(size_t), compare, c);
        if (c->sel >= c->n_view)
                c->sel = c->n_view ? c->n_view - 1 : 0;
}

static int load_tickets(Cli *c)
{
        json_object *reply = NULL, *a;
        int r;

        r = call_get(c, trackle_request_new("ticket.list"), "tickets", &reply, &a);
        if (r < 0)
                return r;
        if (!json_object_is_type(a, json_type_array)) {
                json_object_put(reply);
                say(c, true, "trackled's ticket list is malformed");
                return -EBADMSG;
        }
        json_object_put(c->list_reply);
        c->list_reply = reply;
        c->tickets = a;
        build_view(c);
        return 0;
}

static int load_enums(Cli *c)
{
        json_object *reply = NULL, *e;
        int r;

        r = call_get(c, trackle_request_new("enum.list"), "enums", &reply, &e);
        if (r < 0)
                return r;
        json_object_put(c->enums_reply);
        c->enums_reply = reply;
        c->enums = e;
        return 0;
}

/* "2026-12-04T22:54:32Z" -> "2026-12-04 22:54" */
static void short_time(const char *iso, char *buf, size_t size)
{
        snprintf(buf, size, "%.16s", iso);
        if (strlen(buf) > 10 && buf[10] == 'T')
                buf[10] = ' ';
}

static void cell_text(json_object *t, const char *key, char *buf, size_t size)
{
        int64_t id;

        json_object *lock;

        if (streq(key, "id") && trackle_json_int(t, "id", &id))
                snprintf(buf, size, "%" PRId64, id);
        else if (streq(key, "lock"))
                snprintf(buf, size, "%s",
                         json_object_object_get_ex(t, "lock", &lock) && lock ? jstr(lock, "user")
                                                                             : "");
        else if (streq(key, "changed") || streq(key, "created"))
                short_time(jstr(t, key), buf, size);
        else
                snprintf(buf, size, "%s", jstr(t, key));
}

/* Widths of the shown columns; the summary takes what is left (at least 10). */
static void layout(Cli *c, int *widths)
{
        int used = 0, flex = -1;

        for (size_t i = 0; i < N_COLUMNS; i++) {
                widths[i] = 0;
                if (!c->col_on[i])
                        continue;
                if (columns[i].width == 0)
                        flex = (int)i;
                else {
                        widths[i] = columns[i].width;
                        used += widths[i] + 1;
                }
        }
        if (flex >= 0)
                widths[flex] = MAX(10, COLS - used);
}

static void draw_overview(Cli *c)
{
        int widths[N_COLUMNS], rows = LINES - 4, x = 0;
        char title[256];

        erase();
        snprintf(title, sizeof(title), " trackle — %zu %s ticket%s%s%s%s  (%s)", c->n_view,
                 c->all ? "" : "open", c->n_view == 1 ? "" : "s", c->filter ? " matching '" : "",
                 c->filter ? c->filter : "", c->filter ? "'" : "", c->me);
        cli_title(title);
        layout(c, widths);
        for (size_t i = 0; i < N_COLUMNS; i++) {
                char head[64];

                if (!c->col_on[i])
                        continue;
                snprintf(head, sizeof(head), "%s%s", columns[i].title,
                         i == c->sort_col ? (c->sort_desc ? " ▼" : " ▲") : "");
                cli_put(1, x, widths[i], head, A_BOLD | A_UNDERLINE);
                x += widths[i] + 1;
                if (x >= COLS)
                        break;
        }
        if (c->sel < c->top)
                c->top = c->sel;
        if (c->sel >= c->top + (size_t)rows)
                c->top = c->sel - (size_t)rows + 1;
        for (int row = 0; row < rows && c->top + (size_t)row < c->n_view; row++) {
                size_t vi = c->top + (size_t)row;
                json_object *t = json_object_array_get_idx(c->tickets, c->view[vi]), *lock;
                int attr = vi == c->sel ? A_REVERSE : 0;

                x = 0;
                if (json_object_object_get_ex(t, "lock", &lock) && lock && has_colors() &&
                    vi != c->sel)
                        attr |= COLOR_PAIR(CLI_PAIR_LOCK);
                for (size_t i = 0; i < N_COLUMNS && x < COLS; i++) {
                        char cell[1024];

                        if (!c->col_on[i])
                                continue;
                        cell_text(t, columns[i].key, cell, sizeof(cell));
                        cli_put(2 + row, x, MIN(widths[i] + 1, COLS - x), cell, attr);
                        x += widths[i] + 1;
                }
        }
        if (c->n_view == 0)
                cli_put(3, 2, COLS - 4,
                        c->filter || !c->all ? "No tickets here (a: all tickets, /: filter)."
                                             : "No tickets yet (n: new ticket).",
                        0);
        cli_message(c->msg, c->msg_error);
        cli_help_bar(" ↑↓ move ⏎ open n new / filter a all s sort S reverse c columns r reload "
                     "q quit");
        refresh();
}

static void choose_columns(Cli *c)
{
        size_t sel = 0;

        for (;;) {
                int h = (int)N_COLUMNS + 2, w = 40, y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
                wint_t ch;
                int k;

                cli_put(y0, x0, w, " Columns (space: on/off)", A_REVERSE | A_BOLD);
                for (size_t i = 0; i < N_COLUMNS; i++) {
                        char line[64];

                        snprintf(line, sizeof(line), " [%c] %s", c->col_on[i] ? 'x' : ' ',
                                 columns[i].title);
                        cli_put(y0 + 1 + (int)i, x0, w, line, i == sel ? A_REVERSE : 0);
                }
                cli_put(y0 + h - 1, x0, w, " ␣ toggle  ⏎/Esc done", A_REVERSE);
                refresh();
                k = get_wch(&ch);
                if (k == ERR || cli_move(&sel, N_COLUMNS, N_COLUMNS, k, ch))
                        continue;
                if (k == KEY_CODE_YES) {
                        if (ch == KEY_ENTER)
                                break;
                        continue;
                }
                if (ch == L' ')
                        c->col_on[sel] = !c->col_on[sel];
                else if (ch == L'\r' || ch == L'\n' || ch == 27 || ch == L'q')
                        break;
        }
        if (!c->col_on[c->sort_col])
                for (size_t i = 0; i < N_COLUMNS; i++)
                        if (c->col_on[i]) {
                                c->sort_col = i;
                                break;
                        }
}

/* ---- the detail screen */

typedef struct Detail {
        int64_t id;
        json_object *reply, *ticket; /* ticket.show */
        json_object *pending;        /* field -> new value (not saved yet) */
        size_t sel;
        int desc_top;
} Detail;

static int load_ticket(Cli *c, Detail *d)
{
        json_object *reply = NULL, *t;
        int r;

        r = call_get(c, request_id("ticket.show", d->id), "ticket", &reply, &t);
        if (r < 0)
                return r;
        json_object_put(d->reply);
        d->reply = reply;
        d->ticket = t;
        return 0;
}

static const char *value_of(const Detail *d, const char *key)
{
        json_object *v;

        if (d->pending && json_object_object_get_ex(d->pending, key, &v))
                return json_object_get_string(v);
        return jstr(d->ticket, key);
}

/* Someone else's lock: "locked by alice (session 7) since ..." in buf, true. */
static bool locked_by_other(Cli *c, const Detail *d, char *buf, size_t size)
{
        json_object *lock;
        int64_t session = 0;

        if (!json_object_object_get_ex(d->ticket, "lock", &lock) || !lock)
                return false;
        (void)trackle_json_int(lock, "session", &session);
        snprintf(buf, size, "Ticket #%" PRId64 " is locked by %s (session %" PRId64 ") since %s",
                 d->id, jstr(lock, "user"), session, jstr(lock, "since"));
        return !streq(jstr(lock, "user"), c->me);
}

static size_t n_pending(const Detail *d)
{
        return d->pending ? (size_t)json_object_object_length(d->pending) : 0;
}

static void draw_detail(Cli *c, Detail *d)
{
        char line[2048], lockmsg[512];
        const char *desc = value_of(d, "description");
        int y = 2, rows;
        bool other;

        erase();
        snprintf(line, sizeof(line), " Ticket #%" PRId64 ": %s%s", d->id, value_of(d, "summary"),
                 n_pending(d) ? "   [changed, not saved: s saves]" : "");
        cli_title(line);
        lockmsg[0] = 0;
        other = locked_by_other(c, d, lockmsg, sizeof(lockmsg));
        if (lockmsg[0])
                cli_put(1, 0, COLS, lockmsg,
                        other ? (has_colors() ? COLOR_PAIR(CLI_PAIR_LOCK) | A_BOLD : A_BOLD) : 0);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++, y++) {
                const char *key = fields[i].key;
                bool changed = d->pending && json_object_object_get_ex(d->pending, key, NULL);
                int attr = i == d->sel ? A_REVERSE : 0;
                char val[1024];

                if (changed && has_colors() && i != d->sel)
                        attr |= COLOR_PAIR(CLI_PAIR_CHANGED);
                if (streq(key, "created") || streq(key, "changed"))
                        short_time(jstr(d->ticket, key), val, sizeof(val));
                else
                        snprintf(val, sizeof(val), "%s", value_of(d, key));
                snprintf(line, sizeof(line), "%c%-11s %s", changed ? '*' : ' ', fields[i].label,
                         val);
                cli_put(y, 0, COLS, line, attr);
        }
        snprintf(line, sizeof(line), "── Description%s (d edits) ",
                 d->pending && json_object_object_get_ex(d->pending, "description", NULL)
                         ? " *changed*"
                         : "");
        {
                char rule[2048];
                size_t n = (size_t)snprintf(rule, sizeof(rule), "%s", line);

                while (n + 4 < sizeof(rule) && cli_width(rule) < COLS)
                        n += (size_t)snprintf(rule + n, sizeof(rule) - n, "─");
                cli_put(y++, 0, COLS, rule, A_BOLD);
        }
        rows = LINES - 2 - y;
        {
                const char *p = desc;
                int skip = d->desc_top, row = 0;

                for (; *p && row < rows;) {
                        size_t n = strcspn(p, "\n");
                        char text[2048];

                        if (skip > 0)
                                skip--;
                        else {
                                snprintf(text, sizeof(text), " %.*s", (int)MIN(n, sizeof(text) - 2),
                                         p);
                                for (char *t = text; *t; t++)
                                        if (*t == '\t')
                                                *t = ' ';
                                cli_put(y + row++, 0, COLS, text, 0);
                        }
                        p += n;
                        if (*p == '\n')
                                p++;
                }
                if (!*desc)
                        cli_put(y, 0, COLS, " (no description)", A_DIM);
        }
        cli_message(c->msg, c->msg_error);
        cli_help_bar(" ↑↓ field ⏎ edit d description t shell T steal+shell s save PgUp/PgDn "
                     "q back");
        refresh();
}

static void set_pending(Detail *d, const char *key, const char *value)
{
        if (!d->pending)
                d->pending = json_object_new_object();
        if (streq(value, jstr(d->ticket, key)))
                json_object_object_del(d->pending, key);
        else
                json_object_object_add(d->pending, key, json_object_new_string(value));
}

static void edit_field(Cli *c, Detail *d)
{
        const char *key = fields[d->sel].key, *cur = value_of(d, key);
        char lockmsg[512];
        _cleanup_free_ char *text = NULL;
        int r;

        if (fields[d->sel].kind == FIELD_READONLY) {
                say(c, true, "%s is set by trackled.", fields[d->sel].label);
                return;
        }
        if (locked_by_other(c, d, lockmsg, sizeof(lockmsg))) {
                say(c, true, "Locked by someone else (see above): it cannot be edited now.");
                return;
        }
        if (fields[d->sel].kind == FIELD_STATUS || fields[d->sel].kind == FIELD_ENUM) {
                const char *vals[256];
                size_t n = 0, initial = 0;
                json_object *a = NULL;
                bool has_cur = false;

                if (fields[d->sel].kind == FIELD_STATUS)
                        for (size_t i = 0; i < ELEMENTSOF(statuses); i++)
                                vals[n++] = statuses[i];
                else {
                        vals[n++] = NULL; /* (none) */
                        if (c->enums && json_object_object_get_ex(c->enums, key, &a))
                                for (size_t i = 0;
                                     i < json_object_array_length(a) && n < ELEMENTSOF(vals) - 1;
                                     i++)
                                        vals[n++] = json_object_get_string(
                                                json_object_array_get_idx(a, i));
                }
                if (fields[d->sel].kind == FIELD_ENUM && n == 1)
                        goto text; /* the enumeration has no values: any text */
                for (size_t i = 0; i < n; i++)
                        if (streq(vals[i] ? vals[i] : "", cur)) {
                                initial = i;
                                has_cur = true;
                        }
                if (!has_cur && !isempty(cur) && n < ELEMENTSOF(vals)) {
                        initial = n;
                        vals[n++] = cur;
                }
                {
                        char title[128];
                        int k;

                        snprintf(title, sizeof(title), " %s", fields[d->sel].label);
                        k = cli_pick(title, vals, n, initial);
                        if (k >= 0)
                                set_pending(d, key, vals[k] ? vals[k] : "");
                }
                return;
        }
text : {
        char prompt[64];

        snprintf(prompt, sizeof(prompt), "%s: ", fields[d->sel].label);
        r = cli_read_line(prompt, cur, &text);
}
        if (r < 0) {
                say(c, true, "%s", strerror(-r));
                return;
        }
        if (r == 0)
                return;
        if (streq(key, "summary") && isempty(text)) {
                say(c, true, "The summary cannot be empty.");
                return;
        }
        set_pending(d, key, text);
}

static void edit_description(Cli *c, Detail *d)
{
        _cleanup_free_ char *text = NULL;
        char lockmsg[512];
        int r;

        if (locked_by_other(c, d, lockmsg, sizeof(lockmsg))) {
                say(c, true, "Locked by someone else (see above): it cannot be edited now.");
                return;
        }
        r = cli_edit_text(value_of(d, "description"), &text);
        if (r < 0)
                say(c, true, "Cannot run the editor: %s", strerror(-r));
        else if (r == 0)
                say(c, true, "The editor failed: the description is unchanged.");
        else {
                set_pending(d, "description", text);
                say(c, false, "Description changed (not saved yet: s saves).");
        }
}

/* The changelog message: the editor's text without '#' lines, trailing blank space cut. */
static char *clean_message(const char *text)
{
        size_t len = 0;
        char *out = malloc(strlen(text) + 1);

        if (!out)
                return NULL;
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n");

                if (p[0] != '#') {
                        memcpy(out + len, p, n);
                        len += n;
                        out[len++] = '\n';
                }
                p += n;
                if (*p == '\n')
                        p++;
        }
        while (len > 0 && strchr(" \t\n", out[len - 1]))
                len--;
        out[len] = 0;
        return out;
}

static void save(Cli *c, Detail *d)
{
        _cleanup_free_ char *text = NULL, *message = NULL, *tmpl = NULL;
        json_object *req, *reply = NULL;
        char lockmsg[512];
        int r;

        if (n_pending(d) == 0) {
                say(c, false, "Nothing to save.");
                return;
        }
        if (locked_by_other(c, d, lockmsg, sizeof(lockmsg))) {
                say(c, true, "Locked by someone else (see above): nothing saved.");
                return;
        }
        {
                char changed[512] = "";
                size_t n = 0;

                json_object_object_foreach(d->pending, k, v)
                {
                        (void)v;
                        n += (size_t)snprintf(changed + n,
                                              sizeof(changed) - MIN(n, sizeof(changed)), "%s%s",
                                              n ? ", " : "", k);
                        if (n >= sizeof(changed))
                                break;
                }
                if (asprintf(&tmpl,
                             "\n# The changelog message for ticket #%" PRId64 " (changed: %s).\n"
                             "# Lines starting with '#' are left out; an empty message is fine.\n",
                             d->id, changed) < 0)
                        return;
        }
        r = cli_edit_text(tmpl, &text);
        if (r <= 0) {
                say(c, true, "%s: nothing saved.", r < 0 ? strerror(-r) : "The editor failed");
                return;
        }
        message = clean_message(text);
        req = request_id("ticket.update", d->id);
        if (!req || !message) {
                json_object_put(req);
                say(c, true, "out of memory");
                return;
        }
        json_object_object_add(req, "fields", json_object_get(d->pending));
        if (*message)
                json_object_object_add(req, "comment", json_object_new_string(message));
        json_object_object_add(req, "changed", json_object_new_string(jstr(d->ticket, "changed")));
        r = call(c, req, &reply);
        if (r < 0) {
                if (c->client && c->client->error_errno == ESTALE)
                        say(c, true,
                            "Ticket #%" PRId64 " was changed by someone else meanwhile: "
                            "nothing saved (r reloads and drops your changes).",
                            d->id);
                return;
        }
        json_object_put(reply);
        json_object_put(d->pending);
        d->pending = NULL;
        (void)load_ticket(c, d);
        say(c, false, "Ticket #%" PRId64 " saved.", d->id);
}

/* ---- the tracked shell and the files it changed */

static int session_ids(Cli *c, int64_t ticket, int64_t **ret, size_t *ret_n)
{
        json_object *req = trackle_request_new("session.list"), *reply = NULL, *a;
        int64_t *ids;
        size_t n;
        int r;

        if (req)
                json_object_object_add(req, "ticket", json_object_new_int64(ticket));
        r = call(c, req, &reply);
        if (r < 0)
                return r;
        a = trackle_json_array(reply, "sessions");
        n = a ? json_object_array_length(a) : 0;
        ids = calloc(n + 1, sizeof(int64_t));
        if (!ids) {
                json_object_put(reply);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                (void)trackle_json_int(json_object_array_get_idx(a, i), "id", &ids[i]);
        json_object_put(reply);
        *ret = ids;
        *ret_n = n;
        return 0;
}

static void wait_enter(void)
{
        int ch;

        fputs("\n[trackle] Press Enter to go back to the ticket.", stderr);
        fflush(stderr);
        while ((ch = getchar()) != EOF && ch != '\n')
                ;
}

/* The files screen: which changed files the web shows by default. */
static void choose_files(Cli *c, int64_t sid)
{
        json_object *reply = NULL, *session, *files;
        _cleanup_free_ bool *shown = NULL;
        size_t n, sel = 0, top = 0;
        int r;

        r = call(c, request_id("session.show", sid), &reply);
        if (r < 0)
                return;
        if (!json_object_object_get_ex(reply, "session", &session) ||
            !(files = trackle_json_array(session, "files")) ||
            (n = json_object_array_length(files)) == 0) {
                json_object_put(reply);
                say(c, false, "Session %" PRId64 " saved; it changed no files.", sid);
                return;
        }
        shown = calloc(n, sizeof(bool));
        if (!shown) {
                json_object_put(reply);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                json_object *v;

                shown[i] = !json_object_object_get_ex(json_object_array_get_idx(files, i), "shown",
                                                      &v) ||
                           json_object_get_boolean(v);
        }
        for (;;) {
                int rows = LINES - 5;
                char title[128];
                wint_t ch;
                int k;

                erase();
                snprintf(title, sizeof(title), " Session %" PRId64 ": %zu changed file%s", sid, n,
                         n == 1 ? "" : "s");
                cli_title(title);
                cli_put(1, 0, COLS, " Which files does the web show by default? (All are stored.)",
                        0);
                if (sel < top)
                        top = sel;
                if (sel >= top + (size_t)rows)
                        top = sel - (size_t)rows + 1;
                for (int row = 0; row < rows && top + (size_t)row < n; row++) {
                        size_t i = top + (size_t)row;
                        json_object *f = json_object_array_get_idx(files, i);
                        char line[4200];

                        snprintf(line, sizeof(line), " [%c] %-9s %s%s%s", shown[i] ? 'x' : ' ',
                                 jstr(f, "change"), jstr(f, "path"), *jstr(f, "from") ? " ← " : "",
                                 jstr(f, "from"));
                        cli_put(2 + row, 0, COLS, line, i == sel ? A_REVERSE : 0);
                }
                cli_message(c->msg, c->msg_error);
                cli_help_bar(" ↑↓ move ␣ show/hide a all n none s/⏎ save Esc keep as recorded");
                refresh();
                k = get_wch(&ch);
                if (k == ERR || cli_move(&sel, n, (size_t)rows, k, ch))
                        continue;
                if (k == KEY_CODE_YES) {
                        if (ch != KEY_ENTER)
                                continue;
                        ch = L's';
                }
                if (ch == L' ')
                        shown[sel] = !shown[sel];
                else if (ch == L'a' || ch == L'n')
                        for (size_t i = 0; i < n; i++)
                                shown[i] = ch == L'a';
                else if (ch == 27) {
                        say(c, false, "Session %" PRId64 " saved, files shown as recorded.", sid);
                        break;
                } else if (ch == L's' || ch == L'\r' || ch == L'\n') {
                        json_object *req = request_id("session.select", sid), *a, *rr = NULL;

                        a = json_object_new_array();
                        for (size_t i = 0; i < n; i++) {
                                json_object *e = json_object_new_object();

                                json_object_object_add(
                                        e, "path",
                                        json_object_new_string(
                                                jstr(json_object_array_get_idx(files, i), "path")));
                                json_object_object_add(e, "shown",
                                                       json_object_new_boolean(shown[i]));
                                json_object_array_add(a, e);
                        }
                        if (req)
                                json_object_object_add(req, "files", a);
                        else
                                json_object_put(a);
                        if (call(c, req, &rr) >= 0) {
                                size_t on = 0;

                                for (size_t i = 0; i < n; i++)
                                        on += shown[i];
                                say(c, false,
                                    "Session %" PRId64 " saved: the web shows %zu of %zu files.",
                                    sid, on, n);
                        }
                        json_object_put(rr);
                        break;
                }
        }
        json_object_put(reply);
}

static void tracked_shell(Cli *c, Detail *d, bool steal)
{
        _cleanup_free_ int64_t *before = NULL, *after = NULL;
        size_t n_before = 0, n_after = 0;
        char lockmsg[512], ticket[32];
        int64_t sid = 0;
        int status = 0;
        pid_t pid;

        if (!steal && locked_by_other(c, d, lockmsg, sizeof(lockmsg))) {
                say(c, true, "Locked by someone else (see above): T takes the lock over.");
                return;
        }
        if (session_ids(c, d->id, &before, &n_before) < 0)
                return;
        snprintf(ticket, sizeof(ticket), "%" PRId64, d->id);
        cli_ui_suspend();
        fprintf(stderr,
                "[trackle] Tracked shell for ticket #%" PRId64 ": %s\n"
                "[trackle] Leave it with 'exit' to come back here.\n",
                d->id, value_of(d, "summary"));
        pid = fork();
        if (pid == 0) {
                execl(c->exe, "trackle", "shell", "--no-select", steal ? "--steal" : ticket,
                      steal ? ticket : (char *)NULL, (char *)NULL);
                fprintf(stderr, "trackle: cannot run %s: %m\n", c->exe);
                _exit(127);
        }
        if (pid > 0) {
                struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit, old_tstp;

                sigaction(SIGINT, &ign, &old_int);
                sigaction(SIGQUIT, &ign, &old_quit);
                sigaction(SIGTSTP, &ign, &old_tstp);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                sigaction(SIGINT, &old_int, NULL);
                sigaction(SIGQUIT, &old_quit, NULL);
                sigaction(SIGTSTP, &old_tstp, NULL);
        }
        if (session_ids(c, d->id, &after, &n_after) >= 0)
                for (size_t i = 0; i < n_after; i++) {
                        bool old = false;

                        for (size_t j = 0; j < n_before; j++)
                                old = old || before[j] == after[i];
                        if (!old && after[i] > sid)
                                sid = after[i];
                }
        if (pid < 0 || sid == 0)
                wait_enter(); /* the reason is on the terminal, above */
        cli_ui_resume();
        if (pid < 0)
                say(c, true, "Cannot start the shell: %s", strerror(errno));
        else if (sid == 0)
                say(c, true, "No session was recorded for ticket #%" PRId64 ".", d->id);
        else
                choose_files(c, sid);
        (void)load_ticket(c, d);
}

static void detail_screen(Cli *c, int64_t id)
{
        Detail d = {.id = id};
        bool done = false;

        if (load_ticket(c, &d) < 0)
                return;
        c->msg[0] = 0;
        while (!done) {
                wint_t ch;
                int k;

                if (!cli_size_ok()) {
                        k = get_wch(&ch);
                        if (k != KEY_CODE_YES && (ch == L'q' || ch == 3))
                                break;
                        continue;
                }
                draw_detail(c, &d);
                k = get_wch(&ch);
                if (k == ERR)
                        continue;
                c->msg[0] = 0;
                if (!(k == KEY_CODE_YES && (ch == KEY_NPAGE || ch == KEY_PPAGE)) &&
                    cli_move(&d.sel, ELEMENTSOF(fields), ELEMENTSOF(fields), k, ch))
                        continue;
                if (k == KEY_CODE_YES) {
                        switch (ch) {
                        case KEY_NPAGE:
                                d.desc_top += 10;
                                break;
                        case KEY_PPAGE:
                                d.desc_top = MAX(0, d.desc_top - 10);
                                break;
                        case KEY_ENTER:
                                edit_field(c, &d);
                                break;
                        default:
                                break;
                        }
                        continue;
                }
                switch (ch) {
                case L'\r':
                case L'\n':
                case L'e':
                        edit_field(c, &d);
                        break;
                case L'd':
                        edit_description(c, &d);
                        break;
                case L's':
                        save(c, &d);
                        break;
                case L't':
                        tracked_shell(c, &d, false);
                        break;
                case L'T':
                        tracked_shell(c, &d, true);
                        break;
                case L'r':
                        if (n_pending(&d) && !cli_confirm("Drop your unsaved changes? (y/n)"))
                                break;
                        json_object_put(d.pending);
                        d.pending = NULL;
                        (void)load_ticket(c, &d);
                        break;
                case 27:
                case L'q':
                case 3:
                        if (n_pending(&d) &&
                            !cli_confirm("Leave without saving your changes? (y/n)"))
                                break;
                        done = true;
                        break;
                default:
                        break;
                }
        }
        json_object_put(d.pending);
        json_object_put(d.reply);
}

static void new_ticket(Cli *c)
{
        _cleanup_free_ char *summary = NULL, *desc = NULL;
        json_object *req, *reply = NULL, *t;
        int64_t id;
        int r;

        r = cli_read_line("New ticket, summary: ", "", &summary);
        if (r <= 0 || isempty(summary))
                return;
        r = cli_edit_text("", &desc);
        if (r < 0)
                say(c, true, "Cannot run the editor (%s): the ticket has no description.",
                    strerror(-r));
        req = trackle_request_new("ticket.new");
        if (!req)
                return;
        json_object_object_add(req, "summary", json_object_new_string(summary));
        if (r > 0 && desc)
                json_object_object_add(req, "description", json_object_new_string(desc));
        if (call(c, req, &reply) < 0)
                return;
        if (!json_object_object_get_ex(reply, "ticket", &t) || !trackle_json_int(t, "id", &id)) {
                json_object_put(reply);
                return;
        }
        json_object_put(reply);
        (void)load_tickets(c);
        detail_screen(c, id);
}

static void overview_key(Cli *c, int k, wint_t ch)
{
        int rows = LINES - 4;

        if (cli_move(&c->sel, c->n_view, (size_t)rows, k, ch))
                return;
        if (k == KEY_CODE_YES) {
                if (ch != KEY_ENTER)
                        return;
                ch = L'\n';
        }
        switch (ch) {
        case L'\r':
        case L'\n':
                if (c->n_view > 0) {
                        int64_t id;

                        if (trackle_json_int(json_object_array_get_idx(c->tickets, c->view[c->sel]),
                                             "id", &id))
                                detail_screen(c, id);
                        (void)load_tickets(c);
                }
                break;
        case L'n':
                new_ticket(c);
                break;
        case L'/': {
                _cleanup_free_ char *f = NULL;

                if (cli_read_line("Filter (empty: none): ", c->filter, &f) > 0) {
                        free(c->filter);
                        c->filter = isempty(f) ? NULL : TAKE_PTR(f);
                        c->sel = 0;
                        build_view(c);
                }
                break;
        }
        case L'a':
                c->all = !c->all;
                build_view(c);
                break;
        case L's':
                do
                        c->sort_col = (c->sort_col + 1) % N_COLUMNS;
                while (!c->col_on[c->sort_col]);
                build_view(c);
                break;
        case L'S':
                c->sort_desc = !c->sort_desc;
                build_view(c);
                break;
        case L'c':
                choose_columns(c);
                build_view(c);
                break;
        case L'r':
                c->msg[0] = 0;
                (void)load_enums(c);
                (void)load_tickets(c);
                break;
        case L'q':
        case 3:
                c->quit = true;
                break;
        default:
                break;
        }
}

static void set_columns(Cli *c, const char *spec)
{
        _cleanup_free_ char *s = strdup(spec);
        bool any = false;

        memset(c->col_on, 0, sizeof(c->col_on));
        for (char *tok = s ? strtok(s, ", ") : NULL; tok; tok = strtok(NULL, ", "))
                for (size_t i = 0; i < N_COLUMNS; i++)
                        if (streq(tok, columns[i].key))
                                any = c->col_on[i] = true;
        if (!any && !streq(spec, DEFAULT_COLUMNS))
                set_columns(c, DEFAULT_COLUMNS);
}

int trackle_cli_main(const char *exe)
{
        Cli c = {.exe = exe};
        struct passwd *pw = getpwuid(getuid());
        const char *cols = getenv("TRACKLE_COLUMNS");

        snprintf(c.me, sizeof(c.me), "%s", pw ? pw->pw_name : "?");
        set_columns(&c, isempty(cols) ? DEFAULT_COLUMNS : cols);
        c.sort_col = 0;
        if (connect_client(&c) < 0 || load_tickets(&c) < 0) {
                fprintf(stderr, "trackle: %s\n", c.msg);
                c.client = trackle_client_free(c.client);
                return 1;
        }
        (void)load_enums(&c);
        cli_ui_start();
        while (!c.quit) {
                wint_t ch;
                int k;

                if (!cli_size_ok()) {
                        k = get_wch(&ch);
                        if (k != KEY_CODE_YES && (ch == L'q' || ch == 3))
                                break;
                        continue;
                }
                draw_overview(&c);
                k = get_wch(&ch);
                if (k == ERR)
                        continue;
                if (!(k == KEY_CODE_YES && ch == KEY_RESIZE))
                        c.msg[0] = 0;
                overview_key(&c, k, ch);
        }
        cli_ui_stop();
        json_object_put(c.list_reply);
        json_object_put(c.enums_reply);
        free(c.view);
        free(c.filter);
        trackle_client_free(c.client);
        return 0;
}
