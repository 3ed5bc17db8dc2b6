/* trackled-store-admin.c - ticket edits, enumerations, milestones, wiki, settings, check and
 * backup in trackle.db. Rare requests: statements are prepared per call. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "state.h"
#include "trackled-store-admin.h"

static void finalizep(sqlite3_stmt **st)
{
        sqlite3_finalize(*st);
}
#define _cleanup_finalize_ _cleanup_(finalizep)

static int prep(TrackledStore *s, const char *sql, sqlite3_stmt **ret)
{
        int rc = sqlite3_prepare_v2(trackled_store_sqlite(s), sql, -1, ret, NULL);
        return rc == SQLITE_OK ? 0 : state_errno(rc);
}

static void bind(sqlite3_stmt *st, int i, const char *v)
{
        if (v)
                sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, i);
}

static int done(sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);
        return rc == SQLITE_DONE ? 0 : state_errno(rc);
}

static const char *text(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? (const char *)t : NULL;
}

static json_object *json_time(int64_t t)
{
        char buf[32];

        trackled_format_time(t, buf);
        return json_object_new_string(buf);
}

static json_object *json_col_time(sqlite3_stmt *st, int i)
{
        if (sqlite3_column_type(st, i) == SQLITE_NULL || sqlite3_column_int64(st, i) == 0)
                return NULL;
        return json_time(sqlite3_column_int64(st, i));
}

static json_object *json_col_text(sqlite3_stmt *st, int i)
{
        const char *t = text(st, i);
        return t ? json_object_new_string(t) : NULL;
}

/* Prepare sql, bind ?1 (key_text, or key_int when it is NULL), step once: 0 with the row in
 * *ret (the caller finalizes it), -ENOENT when there is none. */
static int query_one(TrackledStore *s, const char *sql, const char *key_text, int64_t key_int,
                     sqlite3_stmt **ret)
{
        sqlite3_stmt *st = NULL;
        int r, rc;

        r = prep(s, sql, &st);
        if (r < 0)
                return r;
        if (key_text)
                bind(st, 1, key_text);
        else
                sqlite3_bind_int64(st, 1, key_int);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
                sqlite3_finalize(st);
                return rc == SQLITE_DONE ? -ENOENT : state_errno(rc);
        }
        *ret = st;
        return 0;
}

/* An array of row(st) for every row of sql (?1 bound to key when not NULL). */
static int query_list(TrackledStore *s, const char *sql, const char *key,
                      json_object *(*row)(sqlite3_stmt *st), json_object **ret)
{
        _cleanup_finalize_ sqlite3_stmt *st = NULL;
        json_object *a;
        int r, rc;

        r = prep(s, sql, &st);
        if (r < 0)
                return r;
        if (key)
                bind(st, 1, key);
        a = json_object_new_array();
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                json_object_array_add(a, row(st));
        if (rc != SQLITE_DONE) {
                json_object_put(a);
                return state_errno(rc);
        }
        *ret = a;
        return 0;
}

/* ---- tickets */

/* Column names are constants of this table, never request data. */
static const struct {
        const char *field, *get, *set, *uses;
} ticket_fields[] = {
#define F(f)                                                                                       \
        {                                                                                          \
                f, "SELECT " f " FROM ticket WHERE id = ?",                                        \
                        "UPDATE ticket SET " f " = ? WHERE id = ?",                                \
                        "SELECT id FROM ticket WHERE " f " = ?"                                    \
        }
        F("summary"),   F("description"), F("type"),  F("severity"), F("priority"), F("component"),
        F("milestone"), F("keywords"),    F("owner"), F("reporter"), F("status"),   F("resolution"),
#undef F
};

static int field_index(const char *field)
{
        for (size_t i = 0; i < ELEMENTSOF(ticket_fields); i++)
                if (streq(field, ticket_fields[i].field))
                        return (int)i;
        return -1;
}

bool trackled_ticket_field_valid(const char *field)
{
        return field && field_index(field) >= 0;
}

static bool is_enum_table(const char *type)
{
        return streq(type, "type") || streq(type, "severity") || streq(type, "priority") ||
               streq(type, "component");
}

bool trackled_enum_type_valid(const char *type)
{
        return type && (is_enum_table(type) || streq(type, "milestone"));
}

/* 1: name is a value of type, 0: not, and no values at all (anything goes) when *ret_any. */
static int enum_has(TrackledStore *s, const char *type, const char *name, bool *ret_any)
{
        _cleanup_finalize_ sqlite3_stmt *st = NULL;
        int r, rc;

        if (streq(type, "milestone"))
                r = prep(s,
                         "SELECT (SELECT COUNT(*) FROM milestone), "
                         "EXISTS (SELECT 1 FROM milestone WHERE name = ?2)",
                         &st);
        else
                r = prep(s,
                         "SELECT (SELECT COUNT(*) FROM enum_value WHERE type = ?1), "
                         "EXISTS (SELECT 1 FROM enum_value WHERE type = ?1 AND name = ?2)",
                         &st);
        if (r < 0)
                return r;
        if (!streq(type, "milestone"))
                bind(st, 1, type);
        bind(st, 2, name);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return state_errno(rc);
        *ret_any = sqlite3_column_int64(st, 0) == 0 && !streq(type, "milestone");
        return sqlite3_column_int(st, 1) != 0;
}

static int ticket_get(TrackledStore *s, int64_t id, int field, char **ret)
{
        _cleanup_finalize_ sqlite3_stmt *st = NULL;
        int r;

        r = query_one(s, ticket_fields[field].get, NULL, id, &st);
        if (r < 0)
                return r;
        *ret = strdup(strempty(text(st, 0)));
        return *ret ? 0 : -ENOMEM;
}

static int ticket_set(TrackledStore *s, int64_t id, int field, const char *value)
{
        _cleanup_finalize_ sqlite3_stmt *st = NULL;
        int r;

        r = prep(s, ticket_fields[field].set, &st);
        if (r < 0)
                return r;
        bind(st, 1, value);
        sqlite3_bind_int64(st, 2, id);
        return done(st);
}

static int ticket_changed(TrackledStore *s, int64_t id, int64_t *ret)
{
        _cleanup_finalize_ sqlite3_stmt *st = NULL;
        int r;

        r = query_one(s, "SELECT changed FROM ticket WHERE id = ?", NULL, id, &st);
        if (r < 0)
                return r;
        *ret = sqlite3_column_int64(st, 0);
        return 0;
}

int trackled_store_ticket_update(TrackledStore *s, int64_t id, const char *author,
                                 const TrackledFieldChange *changes, size_t n_changes,
                                 const char *comment, int64_t expect_changed,
                                 const char **ret_field)
{
        int64_t changed;
        int n = 0, r;

        r = trackled_store_begin(s);
        if (r < 0)
                return r;
        r = ticket_changed(s, id, &changed);
        if (r < 0)
                goto fail;
        if (expect_changed > 0 && changed != expect_changed) {
                r = -ESTALE;
                goto fail;
        }
        for (size_t i = 0; i < n_changes; i++) {
                _cleanup_free_ char *old = NULL;
                int f = field_index(changes[i].field);
                bool any = false;

                assert(f >= 0);
                r = ticket_get(s, id, f, &old);
                if (r < 0)
                        goto fail;
                if (streq(old, changes[i].value))
                        continue;
                if (trackled_enum_type_valid(changes[i].field) && !isempty(changes[i].value)) {
                        r = enum_has(s, changes[i].field, changes[i].value, &any);
                        if (r < 0)
                                goto fail;
                        if (r == 0 && !any) {
                                *ret_field = changes[i].field;
                                r = -EDOM;
                                goto fail;
                        }
                }
                r = ticket_set(s, id, f, changes[i].value);
                if (r < 0)
                        goto fail;
                r = trackled_store_ticket_history(s, id, author, changes[i].field, old,
                                                  changes[i].value, NULL);
                if (r < 0)
                        goto fail;
                n++;
        }
        if (!isempty(comment)) {
                r = trackled_store_ticket_history(s, id, author, "comment", NULL, NULL, comment);
                if (r < 0)
                        goto fail;
                n++;
        }
        r = trackled_store_commit(s);
        if (r < 0)
                goto fail;
        return n;
fail:
        trackled_store_rollback(s);
        return r;
}

int trackled_store_ticket_changes(TrackledStore *s, int64_t since, size_t max, json_object **ret,
                                  int64_t *ret_last)
{
        _cleanup_finalize_ sqlite3_stmt *st = NULL, *last = NULL;
        json_object *a;
        int r, rc;

        r = prep(s, "SELECT COALESCE(MAX(id), 0) FROM ticket_change", &last);
        if (r < 0)
                return r;
        if (sqlite3_step(last) != SQLITE_ROW)
                return -EIO;
        r = prep(s,
                 "SELECT c.id, c.ticket, c.time, c.author, c.field, c.old, c.new, c.comment, "
                 "t.summary FROM ticket_change c JOIN ticket t ON t.id = c.ticket "
                 "WHERE c.id > ? ORDER BY c.id LIMIT ?",
                 &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, since);
        sqlite3_bind_int64(st, 2, (int64_t)max);
        a = json_object_new_array();
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                json_object *e = json_object_new_object();

                json_object_object_add(e, "id", json_object_new_int64(sqlite3_column_int64(st, 0)));
                json_object_object_add(e, "ticket",
                                       json_object_new_int64(sqlite3_column_int64(st, 1)));
                json_object_object_add(e, "time", json_time(sqlite3_column_int64(st, 2)));
                json_object_object_add(e, "author", json_col_text(st, 3));
                json_object_object_add(e, "field", json_col_text(st, 4));
                json_object_object_add(e, "old", json_col_text(st, 5));
                json_object_object_add(e, "new", json_col_text(st, 6));
                json_object_object_add(e, "comment", json_col_text(st, 7));
                json_object_object_add(e, "summary", json_col_text(st, 8));
                json_object_array_add(a, e);
        }
        if (rc != SQLITE_DONE) {
                json_object_put(a);
                return state_errno(rc);
        }
        *ret_last = sqlite3_column_int64(last, 0);
        *ret = a;
        return 0;
}

/* ---- enumerations and milestones */

static json_object *row_name(sqlite3_stmt *st)
{
        return json_col_text(st, 0);
}

int trackled_store_enum_list(TrackledStore *s, const char *type, json_object **ret)
{
        if (streq(type, "milestone"))
                return query_list(s,
                                  "SELECT name FROM milestone "
                                  "ORDER BY due IS NULL OR due = 0, due, name",
                                  NULL, row_name, ret);
        return query_list(s, "SELECT name FROM enum_value WHERE type = ? ORDER BY position, name",
                          type, row_name, ret);
}

/* Run the milestone or the enum_value statement: ?1 type (enum_value only), ?2 name,
 * ?3 new_name. */
static int enum_exec(TrackledStore *s, const char *type, const char *sql_milestone,
                     const char *sql_enum, const char *name, const char *new_name)
{
        _cleanup_finalize_ sqlite3_stmt *st = NULL;
        bool milestone = streq(type, "milestone");
        int r;

        r = prep(s, milestone ? sql_milestone : sql_enum, &st);
        if (r < 0)
                return r;
        if (!milestone)
                bind(st, 1, type);
        bind(st, 2, name);
        if (new_name)
                bind(st, 3, new_name);
        return done(st);
}

int trackled_store_enum_add(TrackledStore *s, const char *type, const char *name)
{
        bool any;
        int r;

        r = enum_has(s, type, name, &any);
        if (r < 0)
                return r;
        if (r > 0)
                return -EEXIST;
        return enum_exec(s, type, "INSERT INTO milestone (name) VALUES (?2)",
                         "INSERT INTO enum_value (type, name, position) VALUES (?1, ?2, "
                         "(SELECT COALESCE(MAX(position), 0) + 1 FROM enum_value "
                         "WHERE type = ?1))",
                         name, NULL);
}

/* Ids of the tickets whose field (an enumeration) has the value name. */
static int tickets_using(TrackledStore *s, const char *type, const char *name, int64_t **ret,
                         size_t *ret_n)
{
        _cleanup_finalize_ sqlite3_stmt *st = NULL;
        _cleanup_free_ int64_t *ids = NULL;
        size_t n = 0, cap = 0;
        int r, rc;

        r = prep(s, ticket_fields[field_index(type)].uses, &st);
        if (r < 0)
                return r;
        bind(st, 1, name);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n == cap) {
                        int64_t *m = reallocarray(ids, cap = 2 * cap + 16, sizeof(*ids));
                        if (!m)
                                return -ENOMEM;
                        ids = m;
                }
                ids[n++] = sqlite3_column_int64(st, 0);
        }
        if (rc != SQLITE_DONE)
                return state_errno(rc);
        *ret = TAKE_PTR(ids);
        *ret_n = n;
        return 0;
}

int trackled_store_enum_rename(TrackledStore *s, const char *type, const char *name,
                               const char *new_name, const char *author, int64_t *ret_n)
{
        _cleanup_free_ int64_t *ids = NULL;
        size_t n = 0;
        bool any;
        int r;

        r = trackled_store_begin(s);
        if (r < 0)
                return r;
        r = enum_has(s, type, name, &any);
        if (r == 0)
                r = -ENOENT;
        if (r < 0)
                goto fail;
        r = enum_has(s, type, new_name, &any);
        if (r > 0)
                r = -EEXIST;
        if (r < 0)
                goto fail;
        r = enum_exec(s, type, "UPDATE milestone SET name = ?3 WHERE name = ?2",
                      "UPDATE enum_value SET name = ?3 WHERE type = ?1 AND name = ?2", name,
                      new_name);
        if (r < 0)
                goto fail;
        r = tickets_using(s, type, name, &ids, &n);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < n; i++) {
                r = ticket_set(s, ids[i], field_index(type), new_name);
                if (r < 0)
                        goto fail;
                r = trackled_store_ticket_history(s, ids[i], author, type, name, new_name,
                                                  "renamed by trackle-admin");
                if (r < 0)
                        goto fail;
        }
        r = trackled_store_commit(s);
        if (r < 0)
                goto fail;
        *ret_n = (int64_t)n;
        return 0;
fail:
        trackled_store_rollback(s);
        return r;
}

int trackled_store_enum_remove(TrackledStore *s, const char *type, const char *name, int64_t *ret_n)
{
        _cleanup_free_ int64_t *ids = NULL;
        size_t n = 0;
        bool any;
        int r;

        r = enum_has(s, type, name, &any);
        if (r == 0)
                return -ENOENT;
        if (r < 0)
                return r;
        r = tickets_using(s, type, name, &ids, &n);
        if (r < 0)
                return r;
        r = enum_exec(s, type, "DELETE FROM milestone WHERE name = ?2",
                      "DELETE FROM enum_value WHERE type = ?1 AND name = ?2", name, NULL);
        if (r < 0)
                return r;
        *ret_n = (int64_t)n;
        return 0;
}

static json_object *row_milestone(sqlite3_stmt *st)
{
        json_object *m = json_object_new_object();

        json_object_object_add(m, "name", json_col_text(st, 0));
        json_object_object_add(m, "due", json_col_time(st, 1));
        json_object_object_add(m, "completed", json_col_time(st, 2));
        json_object_object_add(m, "description", json_object_new_string(strempty(text(st, 3))));
        return m;
}

int trackled_store_milestone_list(TrackledStore *s, json_object **ret)
{
        return query_list(s,
                          "SELECT name, due, completed, description FROM milestone "
                          "ORDER BY due IS NULL OR due = 0, due, name",
                          NULL, row_milestone, ret);
}

int trackled_store_milestone_set(TrackledStore *s, const char *name, bool has_due, int64_t due,
                                 bool has_completed, int64_t completed, const char *description)
{
        _cleanup_finalize_ sqlite3_stmt *st = NULL;
        int r;

        r = prep(s,
                 "UPDATE milestone SET "
                 "due = CASE WHEN ?2 THEN NULLIF(?3, 0) ELSE due END, "
                 "completed = CASE WHEN ?4 THEN NULLIF(?5, 0) ELSE completed END, "
                 "description = COALESCE(?6, description) WHERE name = ?1",
                 &st);
        if (r < 0)
                return r;
        bind(st, 1, name);
        sqlite3_bind_int(st, 2, has_due);
        sqlite3_bind_int64(st, 3, due);
        sqlite3_bind_int(st, 4, has_completed);
        sqlite3_bind_int64(st, 5, completed);
        bind(st, 6, description);
        r = done(st);
        if (r < 0)
                return r;
        return sqlite3_changes(trackled_store_sqlite(s)) > 0 ? 0 : -ENOENT;
}

/* ---- wiki */

static json_object *row_page(sqlite3_stmt *st)
{
        json_object *p = json_object_new_object();

        json_object_object_add(p, "name", json_col_text(st, 0));
        json_object_object_add(p, "version", json_object_new_int64(sqlite3_column_int64(st, 1)));
        json_object_object_add(p, "changed", json_time(sqlite3_column_int64(st, 2)));
        return p;
}

int trackled_store_wiki_list(TrackledStore *s, json_object **ret)
{
        return query_list(s, "SELECT name, version, changed FROM wiki_page ORDER BY name", NULL,
                          row_page, ret);
}

int trackled_store_wiki_get(TrackledStore *s, const char *name, int64_t version, json_object **ret)
{
        _cleanup_finalize_ sqlite3_stmt *st = NULL;
        json_object *p;
        int r, rc;

        r = prep(s,
                 "SELECT v.page, v.version, v.time, v.author, v.text, v.comment "
                 "FROM wiki_version v JOIN wiki_page p ON p.name = v.page "
                 "WHERE v.page = ?1 AND v.version = CASE WHEN ?2 > 0 THEN ?2 ELSE p.version END",
                 &st);
        if (r < 0)
                return r;
        bind(st, 1, name);
        sqlite3_bind_int64(st, 2, version);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return state_errno(rc);
        p = json_object_new_object();
        json_object_object_add(p, "name", json_col_text(st, 0));
        json_object_object_add(p, "version", json_object_new_int64(sqlite3_column_int64(st, 1)));
        json_object_object_add(p, "time", json_time(sqlite3_column_int64(st, 2)));
        json_object_object_add(p, "author", json_col_text(st, 3));
        /* The text byte for byte: its length, not strlen (it is NUL-free, checked on the way
         * in, but the length is what SQLite stored). */
        json_object_object_add(
                p, "text",
                json_object_new_string_len(strempty(text(st, 4)), sqlite3_column_bytes(st, 4)));
        json_object_object_add(p, "comment", json_col_text(st, 5));
        *ret = p;
        return 0;
}

int trackled_store_wiki_put(TrackledStore *s, const char *name, const char *text_,
                            const char *author, const char *comment, int64_t expect_version,
                            int64_t *ret_version)
{
        _cleanup_finalize_ sqlite3_stmt *cur = NULL, *ins = NULL, *page = NULL;
        int64_t version = 0;
        bool same = false;
        int r, rc;

        r = trackled_store_begin(s);
        if (r < 0)
                return r;
        r = prep(s,
                 "SELECT p.version, v.text = ?2 FROM wiki_page p LEFT JOIN wiki_version v "
                 "ON v.page = p.name AND v.version = p.version WHERE p.name = ?1",
                 &cur);
        if (r < 0)
                goto fail;
        bind(cur, 1, name);
        bind(cur, 2, text_);
        rc = sqlite3_step(cur);
        if (rc == SQLITE_ROW) {
                version = sqlite3_column_int64(cur, 0);
                same = sqlite3_column_int(cur, 1) == 1;
        } else if (rc != SQLITE_DONE) {
                r = state_errno(rc);
                goto fail;
        }
        if (expect_version >= 0 && version != expect_version) {
                r = -ESTALE;
                goto fail;
        }
        if (same) {
                trackled_store_rollback(s);
                *ret_version = version;
                return 0;
        }
        version++;
        r = prep(s,
                 "INSERT INTO wiki_page (name, version, changed) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT (name) DO UPDATE SET version = ?2, changed = ?3",
                 &page);
        if (r < 0)
                goto fail;
        bind(page, 1, name);
        sqlite3_bind_int64(page, 2, version);
        sqlite3_bind_int64(page, 3, trackled_store_now(s));
        r = done(page);
        if (r < 0)
                goto fail;
        r = prep(s,
                 "INSERT INTO wiki_version (page, version, time, author, text, comment) "
                 "VALUES (?, ?, ?, ?, ?, ?)",
                 &ins);
        if (r < 0)
                goto fail;
        bind(ins, 1, name);
        sqlite3_bind_int64(ins, 2, version);
        sqlite3_bind_int64(ins, 3, trackled_store_now(s));
        bind(ins, 4, author);
        bind(ins, 5, text_);
        bind(ins, 6, comment);
        r = done(ins);
        if (r < 0)
                goto fail;
        r = trackled_store_commit(s);
        if (r < 0)
                goto fail;
        *ret_version = version;
        return 1;
fail:
        trackled_store_rollback(s);
        return r;
}

/* ---- settings */

int trackled_store_setting_get(TrackledStore *s, const char *name, json_object **ret)
{
        _cleanup_finalize_ sqlite3_stmt *st = NULL;
        json_object *o;
        int r;

        r = query_one(s, "SELECT value, changed FROM setting WHERE name = ?", name, 0, &st);
        if (r < 0)
                return r;
        o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "value", json_col_text(st, 0));
        json_object_object_add(o, "changed", json_time(sqlite3_column_int64(st, 1)));
        *ret = o;
        return 0;
}

int trackled_store_setting_set(TrackledStore *s, const char *name, const char *value,
                               const char *expect)
{
        _cleanup_finalize_ sqlite3_stmt *cur = NULL, *st = NULL;
        int r, rc;

        r = trackled_store_begin(s);
        if (r < 0)
                return r;
        if (expect) {
                r = prep(s, "SELECT COALESCE((SELECT value FROM setting WHERE name = ?), '')",
                         &cur);
                if (r < 0)
                        goto fail;
                bind(cur, 1, name);
                rc = sqlite3_step(cur);
                if (rc != SQLITE_ROW) {
                        r = state_errno(rc);
                        goto fail;
                }
                if (!streq(strempty(text(cur, 0)), expect)) {
                        r = -ESTALE;
                        goto fail;
                }
        }
        r = prep(s,
                 "INSERT INTO setting (name, value, changed) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT (name) DO UPDATE SET value = ?2, changed = ?3",
                 &st);
        if (r < 0)
                goto fail;
        bind(st, 1, name);
        bind(st, 2, value);
        sqlite3_bind_int64(st, 3, trackled_store_now(s));
        r = done(st);
        if (r < 0)
                goto fail;
        return trackled_store_commit(s);
fail:
        trackled_store_rollback(s);
        return r;
}

/* ---- integrity and backup */

static int check_query(TrackledStore *s, const char *sql, const char *fmt, json_object *a)
{
        _cleanup_finalize_ sqlite3_stmt *st = NULL;
        size_t n = 0;
        int r, rc;

        r = prep(s, sql, &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                char buf[1024];

                if (!fmt && streq_ptr(text(st, 0), "ok"))
                        continue;
                if (++n > 100) { /* enough to see what is wrong */
                        json_object_array_add(a, json_object_new_string("(more problems)"));
                        break;
                }
                if (fmt) {
/* fmt is one of the constant formats of trackled_store_check(), each with three %s. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                        snprintf(buf, sizeof(buf), fmt, strempty(text(st, 0)),
                                 strempty(text(st, 1)), strempty(text(st, 2)));
#pragma GCC diagnostic pop
                } else
                        snprintf(buf, sizeof(buf), "%s", strempty(text(st, 0)));
                json_object_array_add(a, json_object_new_string(buf));
        }
        return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : state_errno(rc);
}

int trackled_store_check(TrackledStore *s, json_object **ret)
{
        static const struct {
                const char *sql, *fmt;
        } checks[] = {
                {"PRAGMA integrity_check", NULL},
                {"PRAGMA foreign_key_check", "table %s, row %s: refers to a missing row of %s"},
                {"SELECT f.session, f.path, f.before_sha256 FROM file_change f "
                 "WHERE f.before_sha256 IS NOT NULL AND NOT EXISTS "
                 "(SELECT 1 FROM blob b WHERE b.sha256 = f.before_sha256)",
                 "session %s, file '%s': the content before (%s) is missing"},
                {"SELECT f.session, f.path, f.after_sha256 FROM file_change f "
                 "WHERE f.after_sha256 IS NOT NULL AND NOT EXISTS "
                 "(SELECT 1 FROM blob b WHERE b.sha256 = f.after_sha256)",
                 "session %s, file '%s': the content after (%s) is missing"},
                {"SELECT l.ticket, l.session, '' FROM ticket_lock l WHERE NOT EXISTS "
                 "(SELECT 1 FROM session s WHERE s.id = l.session AND s.state = 'open')",
                 "ticket %s: locked by session %s, which is not open"},
                {"SELECT b.sha256, b.size, length(b.content) FROM blob b "
                 "WHERE b.content IS NOT NULL AND length(b.content) != b.size",
                 "content %s: %s bytes recorded, %s stored"},
                {"SELECT p.name, p.version, '' FROM wiki_page p WHERE NOT EXISTS "
                 "(SELECT 1 FROM wiki_version v WHERE v.page = p.name AND v.version = p.version)",
                 "wiki page '%s': its version %s is missing"},
        };
        json_object *a = json_object_new_array();
        int r;

        for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
                r = check_query(s, checks[i].sql, checks[i].fmt, a);
                if (r < 0) {
                        json_object_put(a);
                        return r;
                }
        }
        *ret = a;
        return 0;
}

static int copy_fd(int from, int to, uint64_t *ret_size)
{
        uint64_t total = 0;
        char buf[65536];

        for (;;) {
                ssize_t n = read(from, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(to, buf + off, (size_t)(n - off));

                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return -errno;
                        off += w;
                }
                total += (uint64_t)n;
        }
        *ret_size = total;
        return 0;
}

int trackled_store_backup(TrackledStore *s, int fd, uint64_t *ret_size)
{
        sqlite3 *dst = NULL;
        sqlite3_backup *b;
        const char *db_path;
        char tmp[PATH_MAX], dir[PATH_MAX];
        _cleanup_close_ int tfd = -EBADF;
        struct stat st;
        int flags, r, rc;

        if (fstat(fd, &st) < 0)
                return -errno;
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        /* Written through the caller's own descriptor, never reopened: it may only be a file
         * the caller could open for writing, and an empty one (nothing of it is overwritten). */
        if (!S_ISREG(st.st_mode) || (flags & O_ACCMODE) == O_RDONLY || (flags & O_APPEND))
                return -EBADFD;
        if (st.st_size != 0)
                return -ENOTEMPTY;
        db_path = sqlite3_db_filename(trackled_store_sqlite(s), "main");
        if (isempty(db_path) || strlen(db_path) >= sizeof(dir))
                return -EINVAL;
        strcpy(dir, db_path);
        if (snprintf(tmp, sizeof(tmp), "%s/.trackle-backup-XXXXXX", dirname(dir)) >=
            (int)sizeof(tmp))
                return -ENAMETOOLONG;
        tfd = mkostemp(tmp, O_CLOEXEC);
        if (tfd < 0)
                return -errno;
        (void)fchmod(tfd, 0600);
        rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
        if (rc == SQLITE_OK) {
                b = sqlite3_backup_init(dst, "main", trackled_store_sqlite(s), "main");
                if (b) {
                        rc = sqlite3_backup_step(b, -1);
                        (void)sqlite3_backup_finish(b);
                        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
                } else
                        rc = sqlite3_errcode(dst);
        }
        /* The copy is a self-contained file in rollback-journal mode, like any .db a user
         * opens with sqlite3. */
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
        sqlite3_close_v2(dst);
        r = rc == SQLITE_OK ? 0 : state_errno(rc);
        if (r >= 0 && lseek(tfd, 0, SEEK_SET) < 0)
                r = -errno;
        if (r >= 0)
                r = copy_fd(tfd, fd, ret_size);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        /* Ours alone (created above with a name nobody else uses): removed whatever happened. */
        (void)unlink(tmp);
        {
                char j[PATH_MAX + 16];

                snprintf(j, sizeof(j), "%s-journal", tmp);
                (void)unlink(j);
                snprintf(j, sizeof(j), "%s-wal", tmp);
                (void)unlink(j);
                snprintf(j, sizeof(j), "%s-shm", tmp);
                (void)unlink(j);
        }
        return r;
}

int trackled_store_files_select(TrackledStore *s, int64_t session, const char *const *paths,
                                const bool *shown, size_t n, const char **ret_missing)
{
        int r;

        r = trackled_store_begin(s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = trackled_store_file_shown(s, session, paths[i], shown[i]);
                if (r == -ENOENT)
                        *ret_missing = paths[i];
                if (r < 0) {
                        trackled_store_rollback(s);
                        return r;
                }
        }
        r = trackled_store_commit(s);
        if (r < 0)
                trackled_store_rollback(s);
        return r;
}
