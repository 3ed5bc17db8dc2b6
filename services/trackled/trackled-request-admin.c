/* trackled-request-admin.c - ticket edits, enumerations, milestones, wiki pages, settings,
 * the integrity check and backups: strict validation of each request, then the store. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "trackled-request-admin.h"
#include "trackled-request.h"
#include "trackled-store-admin.h"
#include "utf8.h"

#define NAME_CHARS 100
#define AUTHOR_MAX 64
#define FIELD_CHARS 1000
#define SETTING_MAX 4096

typedef struct Ctx {
        TrackledStore *store;
        json_object *q;
        const char *user;
        int fd;
        char *err;
        size_t err_size;
} Ctx;

static int fail(Ctx *c, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(Ctx *c, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(c->err, c->err_size, fmt, ap);
        va_end(ap);
        return r;
}

static size_t chars(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char)*s & 0xC0) != 0x80)
                        n++;
        return n;
}

/* A string field: NULL when absent or null; -EINVAL when not a NUL-free UTF-8 string of at
 * most max bytes. */
static int str(Ctx *c, const char *key, size_t max, const char **ret)
{
        json_object *o;
        const char *s;
        int n;

        *ret = NULL;
        if (!json_object_object_get_ex(c->q, key, &o) || json_object_is_type(o, json_type_null))
                return 0;
        if (!json_object_is_type(o, json_type_string))
                return fail(c, -EINVAL, "field '%s' must be a string", key);
        s = json_object_get_string(o);
        n = json_object_get_string_len(o);
        if (n < 0 || (size_t)n > max || strlen(s) != (size_t)n || !utf8_is_valid_n(s, (size_t)n))
                return fail(c, -EINVAL, "field '%s' must be UTF-8 text of at most %zu bytes", key,
                            max);
        *ret = s;
        return 0;
}

/* One line of printable text, 1..max_chars characters, no space at either end. */
static bool good_name(const char *s, size_t max_chars)
{
        size_t n;

        if (isempty(s) || !utf8_is_printable_n(s, strlen(s)))
                return false;
        n = chars(s);
        return n >= 1 && n <= max_chars && s[0] != ' ' && s[strlen(s) - 1] != ' ';
}

static int name(Ctx *c, const char *key, const char **ret)
{
        int r = str(c, key, 4 * NAME_CHARS, ret);

        if (r < 0)
                return r;
        if (!good_name(*ret, NAME_CHARS))
                return fail(c, -EINVAL,
                            "field '%s' (1..%d characters of one line, no space at either end) "
                            "is required",
                            key, NAME_CHARS);
        return 0;
}

static int int_field(Ctx *c, const char *key, int64_t min, int64_t dflt, int64_t *ret)
{
        json_object *o;
        int64_t v;

        if (!json_object_object_get_ex(c->q, key, &o) || json_object_is_type(o, json_type_null)) {
                *ret = dflt;
                return 0;
        }
        if (!json_object_is_type(o, json_type_int))
                return fail(c, -EINVAL, "field '%s' must be an integer", key);
        errno = 0;
        v = json_object_get_int64(o);
        if (errno != 0 || v < min)
                return fail(c, -EINVAL, "field '%s' must be an integer >= %" PRId64, key, min);
        *ret = v;
        return 0;
}

/* A time field: absent (has = false), null or "" (has, 0), "YYYY-MM-DD" or ISO with Z. */
static int time_field(Ctx *c, const char *key, bool *ret_has, int64_t *ret)
{
        json_object *o;
        const char *s;
        struct tm tm = {};
        const char *e;

        *ret_has = false;
        *ret = 0;
        if (!json_object_object_get_ex(c->q, key, &o))
                return 0;
        *ret_has = true;
        if (json_object_is_type(o, json_type_null))
                return 0;
        if (str(c, key, 64, &s) < 0)
                return -EINVAL;
        if (isempty(s))
                return 0;
        if (trackled_parse_time(s, ret) >= 0)
                return 0;
        e = strptime(s, "%Y-%m-%d", &tm);
        if (e && *e == '\0') {
                *ret = (int64_t)timegm(&tm);
                return 0;
        }
        return fail(c, -EINVAL, "field '%s' must be a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)",
                    key);
}

static int author(Ctx *c, const char **ret)
{
        int r = str(c, "author", 4 * AUTHOR_MAX, ret);

        if (r < 0)
                return r;
        if (!*ret) {
                *ret = c->user;
                return 0;
        }
        if (!good_name(*ret, AUTHOR_MAX))
                return fail(c, -EINVAL, "field 'author' must be a name of one line");
        return 0;
}

static json_object *ok(const char *key, json_object *v)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "ok", json_object_new_boolean(true));
        if (key)
                json_object_object_add(o, key, v);
        return o;
}

static int store_fail(Ctx *c, int r, const char *what)
{
        return fail(c, r, "cannot %s: %s", what, strerror(-r));
}

/* ---- tickets */

static int check_field_value(Ctx *c, const char *field, const char *value)
{
        if (streq(field, "description"))
                return strlen(value) <= TRACKLED_DESCRIPTION_MAX
                               ? 0
                               : fail(c, -EINVAL, "the description is too long");
        if (streq(field, "summary")) {
                if (!utf8_is_printable_n(value, strlen(value)) || chars(value) < 1 ||
                    chars(value) > TRACKLED_SUMMARY_CHARS)
                        return fail(c, -EINVAL,
                                    "field 'summary' must be 1..200 characters of one line");
                return 0;
        }
        if (streq(field, "status") && !good_name(value, 32))
                return fail(c, -EINVAL, "field 'status' must be a word of one line");
        if (!utf8_is_printable_n(value, strlen(value)) || chars(value) > FIELD_CHARS)
                return fail(c, -EINVAL, "field '%s' must be one line of at most %d characters",
                            field, FIELD_CHARS);
        return 0;
}

static int reply_ticket(Ctx *c, int64_t id, json_object **ret)
{
        json_object *t;
        int r;

        r = trackled_store_ticket_json(c->store, id, true, &t);
        if (r < 0)
                return store_fail(c, r, "read the ticket");
        *ret = ok("ticket", t);
        return 0;
}

static int op_ticket_update(Ctx *c, bool comment_only, json_object **ret)
{
        TrackledFieldChange changes[32];
        const char *comment, *who, *field = NULL, *since;
        size_t n = 0;
        int64_t id, expect = 0;
        json_object *fields = NULL;
        int r;

        if (int_field(c, "id", 1, 0, &id) < 0 || id == 0)
                return fail(c, -EINVAL, "field 'id' (a positive integer) is required");
        if (str(c, "comment", TRACKLED_STRING_MAX, &comment) < 0 || author(c, &who) < 0 ||
            str(c, "changed", 64, &since) < 0)
                return -EINVAL;
        if (since && trackled_parse_time(since, &expect) < 0)
                return fail(c, -EINVAL, "field 'changed' must be a time YYYY-MM-DDTHH:MM:SSZ");
        if (comment_only && isempty(comment))
                return fail(c, -EINVAL, "field 'comment' (text) is required");
        if (!comment_only && json_object_object_get_ex(c->q, "fields", &fields) &&
            !json_object_is_type(fields, json_type_null)) {
                if (!json_object_is_type(fields, json_type_object))
                        return fail(c, -EINVAL, "field 'fields' must be an object of strings");
                json_object_object_foreach(fields, k, v)
                {
                        const char *s;

                        if (!trackled_ticket_field_valid(k) || streq(k, "reporter"))
                                return fail(c, -EINVAL, "ticket field '%s' cannot be set", k);
                        if (!json_object_is_type(v, json_type_string))
                                return fail(c, -EINVAL, "ticket field '%s' must be a string", k);
                        s = json_object_get_string(v);
                        if (strlen(s) != (size_t)json_object_get_string_len(v) ||
                            !utf8_is_valid_n(s, strlen(s)))
                                return fail(c, -EINVAL, "ticket field '%s' must be UTF-8 text", k);
                        r = check_field_value(c, k, s);
                        if (r < 0)
                                return r;
                        if (n >= ELEMENTSOF(changes))
                                return fail(c, -EINVAL, "too many fields");
                        changes[n++] = (TrackledFieldChange){.field = k, .value = s};
                }
        }
        r = trackled_store_ticket_update(c->store, id, who, changes, n, comment, expect, &field);
        if (r == -ENOENT)
                return fail(c, r, "no such ticket %" PRId64, id);
        if (r == -ESTALE)
                return fail(c, r, "ticket %" PRId64 " was changed by someone else meanwhile", id);
        if (r == -EDOM)
                return fail(c, r, "'%s' is not a value of %s (trackle-admin %s list)",
                            json_object_get_string(json_object_object_get(fields, field)), field,
                            field);
        if (r < 0)
                return store_fail(c, r, "store the change");
        return reply_ticket(c, id, ret);
}

static int op_ticket_changes(Ctx *c, json_object **ret)
{
        json_object *a, *o;
        int64_t since, limit, last;
        int r;

        if (int_field(c, "since", 0, 0, &since) < 0 ||
            int_field(c, "limit", 1, TRACKLED_CHANGES_MAX, &limit) < 0)
                return -EINVAL;
        r = trackled_store_ticket_changes(c->store, since, (size_t)MIN(limit, TRACKLED_CHANGES_MAX),
                                          &a, &last);
        if (r < 0)
                return store_fail(c, r, "read the ticket history");
        o = ok("changes", a);
        json_object_object_add(o, "last", json_object_new_int64(last));
        *ret = o;
        return 0;
}

/* ---- enumerations and milestones */

static const char *const enum_types[] = {"type", "severity", "priority", "component", "milestone"};

static int enum_type(Ctx *c, bool required, const char **ret)
{
        if (str(c, "type", 64, ret) < 0)
                return -EINVAL;
        if ((!*ret && required) || (*ret && !trackled_enum_type_valid(*ret)))
                return fail(c, -EINVAL,
                            "field 'type' must be one of type, severity, priority, component, "
                            "milestone");
        return 0;
}

static int op_enum_list(Ctx *c, json_object **ret)
{
        const char *type;
        json_object *a, *all;
        int r;

        if (enum_type(c, false, &type) < 0)
                return -EINVAL;
        if (type) {
                r = trackled_store_enum_list(c->store, type, &a);
                if (r < 0)
                        return store_fail(c, r, "list the values");
                *ret = ok("values", a);
                return 0;
        }
        all = json_object_new_object();
        for (size_t i = 0; i < ELEMENTSOF(enum_types); i++) {
                r = trackled_store_enum_list(c->store, enum_types[i], &a);
                if (r < 0) {
                        json_object_put(all);
                        return store_fail(c, r, "list the values");
                }
                json_object_object_add(all, enum_types[i], a);
        }
        *ret = ok("enums", all);
        return 0;
}

static int op_enum_change(Ctx *c, const char *op, json_object **ret)
{
        const char *type, *n, *new_name = NULL, *who;
        int64_t count = 0;
        json_object *o;
        int r;

        if (enum_type(c, true, &type) < 0 || name(c, "name", &n) < 0 || author(c, &who) < 0)
                return -EINVAL;
        if (streq(op, "enum.rename") && name(c, "new_name", &new_name) < 0)
                return -EINVAL;
        if (streq(op, "enum.add"))
                r = trackled_store_enum_add(c->store, type, n);
        else if (streq(op, "enum.rename"))
                r = trackled_store_enum_rename(c->store, type, n, new_name, who, &count);
        else
                r = trackled_store_enum_remove(c->store, type, n, &count);
        if (r == -EEXIST)
                return fail(c, r, "%s '%s' exists already", type, new_name ? new_name : n);
        if (r == -ENOENT)
                return fail(c, r, "no %s '%s'", type, n);
        if (r < 0)
                return store_fail(c, r, "change the values");
        o = ok(NULL, NULL);
        if (!streq(op, "enum.add"))
                json_object_object_add(o, "tickets", json_object_new_int64(count));
        *ret = o;
        return 0;
}

static int op_milestone(Ctx *c, bool add, json_object **ret)
{
        const char *n, *description;
        bool has_due, has_completed;
        int64_t due, completed;
        json_object *a;
        int r;

        if (name(c, "name", &n) < 0 || time_field(c, "due", &has_due, &due) < 0 ||
            time_field(c, "completed", &has_completed, &completed) < 0 ||
            str(c, "description", TRACKLED_STRING_MAX, &description) < 0)
                return -EINVAL;
        if (add) {
                r = trackled_store_enum_add(c->store, "milestone", n);
                if (r == -EEXIST)
                        return fail(c, r, "milestone '%s' exists already", n);
                if (r < 0)
                        return store_fail(c, r, "add the milestone");
        }
        r = trackled_store_milestone_set(c->store, n, has_due, due, has_completed, completed,
                                         description);
        if (r == -ENOENT)
                return fail(c, r, "no milestone '%s'", n);
        if (r < 0)
                return store_fail(c, r, "change the milestone");
        r = trackled_store_milestone_list(c->store, &a);
        if (r < 0)
                return store_fail(c, r, "list the milestones");
        *ret = ok("milestones", a);
        return 0;
}

/* ---- wiki */

static int page_name(Ctx *c, const char **ret)
{
        int r = str(c, "name", 4 * 200, ret);

        if (r < 0)
                return r;
        if (isempty(*ret) || !utf8_is_printable_n(*ret, strlen(*ret)) || chars(*ret) > 200)
                return fail(c, -EINVAL,
                            "field 'name' (a page name: 1..200 characters of one line) is "
                            "required");
        return 0;
}

static int op_wiki(Ctx *c, const char *op, json_object **ret)
{
        const char *n, *text, *comment, *who;
        int64_t version, expect;
        json_object *o;
        int r;

        if (streq(op, "wiki.list")) {
                r = trackled_store_wiki_list(c->store, &o);
                if (r < 0)
                        return store_fail(c, r, "list the wiki");
                *ret = ok("pages", o);
                return 0;
        }
        if (page_name(c, &n) < 0)
                return -EINVAL;
        if (streq(op, "wiki.get")) {
                if (int_field(c, "version", 0, 0, &version) < 0)
                        return -EINVAL;
                r = trackled_store_wiki_get(c->store, n, version, &o);
                if (r == -ENOENT)
                        return fail(c, r, "no wiki page '%s'%s", n,
                                    version > 0 ? " in that version" : "");
                if (r < 0)
                        return store_fail(c, r, "read the page");
                *ret = ok("page", o);
                return 0;
        }
        if (str(c, "text", TRACKLED_WIKI_TEXT_MAX, &text) < 0 ||
            str(c, "comment", TRACKLED_STRING_MAX, &comment) < 0 || author(c, &who) < 0 ||
            int_field(c, "version", 0, -1, &expect) < 0)
                return -EINVAL;
        if (!text)
                return fail(c, -EINVAL, "field 'text' (the page's text) is required");
        r = trackled_store_wiki_put(c->store, n, text, who, comment, expect, &version);
        if (r == -ESTALE)
                return fail(c, r, "wiki page '%s' was changed by someone else meanwhile", n);
        if (r < 0)
                return store_fail(c, r, "store the page");
        o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(n));
        json_object_object_add(o, "version", json_object_new_int64(version));
        json_object_object_add(o, "changed", json_object_new_boolean(r > 0));
        *ret = ok("page", o);
        return 0;
}

/* ---- settings, check, backup */

static int op_setting(Ctx *c, bool set, json_object **ret)
{
        const char *n, *value, *expect;
        json_object *o = NULL;
        int r;

        if (name(c, "name", &n) < 0)
                return -EINVAL;
        if (!set) {
                r = trackled_store_setting_get(c->store, n, &o);
                if (r < 0 && r != -ENOENT)
                        return store_fail(c, r, "read the setting");
                *ret = ok("setting", o);
                return 0;
        }
        if (str(c, "value", SETTING_MAX, &value) < 0 || str(c, "expect", SETTING_MAX, &expect) < 0)
                return -EINVAL;
        if (!value)
                return fail(c, -EINVAL, "field 'value' (a string) is required");
        r = trackled_store_setting_set(c->store, n, value, expect);
        if (r == -ESTALE)
                return fail(c, r, "setting '%s' was changed by someone else meanwhile", n);
        if (r < 0)
                return store_fail(c, r, "store the setting");
        *ret = ok(NULL, NULL);
        return 0;
}

static int op_db_check(Ctx *c, json_object **ret)
{
        json_object *a;
        int r;

        r = trackled_store_check(c->store, &a);
        if (r < 0)
                return store_fail(c, r, "check the database");
        *ret = ok("problems", a);
        return 0;
}

static int op_db_backup(Ctx *c, json_object **ret)
{
        uint64_t size = 0;
        json_object *o;
        int r;

        if (c->fd < 0)
                return fail(c, -EBADF,
                            "db.backup needs the backup file's descriptor "
                            "(SCM_RIGHTS), opened for writing");
        r = trackled_store_backup(c->store, c->fd, &size);
        if (r == -EBADFD)
                return fail(c, r, "the backup file must be a regular file opened for writing");
        if (r == -ENOTEMPTY)
                return fail(c, r, "the backup file must be empty");
        if (r < 0)
                return store_fail(c, r, "write the backup");
        o = ok(NULL, NULL);
        json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
        *ret = o;
        return 0;
}

#define SELECT_MAX 4096

static int op_session_select(Ctx *c, json_object **ret)
{
        const char *paths[SELECT_MAX], *missing = NULL;
        bool shown[SELECT_MAX];
        json_object *files;
        int64_t id;
        size_t n;
        int r;

        if (int_field(c, "id", 1, 0, &id) < 0 || id == 0)
                return fail(c, -EINVAL, "field 'id' (a positive integer) is required");
        if (!json_object_object_get_ex(c->q, "files", &files) ||
            !json_object_is_type(files, json_type_array) ||
            json_object_array_length(files) > SELECT_MAX)
                return fail(c, -EINVAL, "field 'files' must be an array of {path, shown}");
        n = json_object_array_length(files);
        for (size_t i = 0; i < n; i++) {
                json_object *f = json_object_array_get_idx(files, i), *p, *sh;

                if (!json_object_is_type(f, json_type_object) ||
                    !json_object_object_get_ex(f, "path", &p) ||
                    !json_object_is_type(p, json_type_string) ||
                    json_object_get_string(p)[0] != '/' ||
                    strlen(json_object_get_string(p)) != (size_t)json_object_get_string_len(p) ||
                    !json_object_object_get_ex(f, "shown", &sh) ||
                    !json_object_is_type(sh, json_type_boolean))
                        return fail(c, -EINVAL,
                                    "field 'files' must be an array of {path (absolute), shown "
                                    "(boolean)}");
                paths[i] = json_object_get_string(p);
                shown[i] = json_object_get_boolean(sh);
        }
        r = trackled_store_files_select(c->store, id, paths, shown, n, &missing);
        if (r == -ENOENT)
                return fail(c, r, "session %" PRId64 " has no file '%s'", id, strempty(missing));
        if (r < 0)
                return store_fail(c, r, "store the selection");
        *ret = ok(NULL, NULL);
        return 0;
}

static const char *const ops[] = {
        "ticket.update", "ticket.comment", "ticket.changes", "enum.list",     "enum.add",
        "enum.rename",   "enum.remove",    "milestone.list", "milestone.add", "milestone.set",
        "wiki.list",     "wiki.get",       "wiki.put",       "setting.get",   "setting.set",
        "db.check",      "db.backup",      "session.select",
};

bool trackled_admin_op_known(const char *op)
{
        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                if (streq(op, ops[i]))
                        return true;
        return false;
}

int trackled_admin_request(TrackledStore *store, json_object *request, const char *user, int fd,
                           json_object **ret, char *err, size_t err_size)
{
        Ctx c = {.store = store,
                 .q = request,
                 .user = user,
                 .fd = fd,
                 .err = err,
                 .err_size = err_size};
        json_object *o = NULL;
        const char *op;
        int r;

        err[0] = '\0';
        if (str(&c, "op", 64, &op) < 0 || !op || !trackled_admin_op_known(op))
                return fail(&c, -EINVAL, "unknown op");
        if (streq(op, "ticket.update") || streq(op, "ticket.comment"))
                r = op_ticket_update(&c, streq(op, "ticket.comment"), &o);
        else if (streq(op, "ticket.changes"))
                r = op_ticket_changes(&c, &o);
        else if (streq(op, "enum.list"))
                r = op_enum_list(&c, &o);
        else if (strncmp(op, "enum.", 5) == 0)
                r = op_enum_change(&c, op, &o);
        else if (streq(op, "milestone.list")) {
                json_object *a;

                r = trackled_store_milestone_list(store, &a);
                r = r < 0 ? store_fail(&c, r, "list the milestones") : 0;
                if (r >= 0)
                        o = ok("milestones", a);
        } else if (streq(op, "milestone.add") || streq(op, "milestone.set"))
                r = op_milestone(&c, streq(op, "milestone.add"), &o);
        else if (strncmp(op, "wiki.", 5) == 0)
                r = op_wiki(&c, op, &o);
        else if (streq(op, "setting.get") || streq(op, "setting.set"))
                r = op_setting(&c, streq(op, "setting.set"), &o);
        else if (streq(op, "session.select"))
                r = op_session_select(&c, &o);
        else if (streq(op, "db.check"))
                r = op_db_check(&c, &o);
        else
                r = op_db_backup(&c, &o);
        if (r < 0) {
                if (!err[0])
                        snprintf(err, err_size, "%s", strerror(-r));
                return r;
        }
        *ret = o;
        return 0;
}
