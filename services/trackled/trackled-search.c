/* trackled-search.c - full-text search and back-links for the web (see the header). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "log.h"
#include "macro.h"
#include "state.h"
#include "trackled-search.h"

static int prepare(TrackledStore *s, const char *sql, sqlite3_stmt **ret)
{
        sqlite3 *db = trackled_store_sqlite(s);
        int rc = sqlite3_prepare_v2(db, sql, -1, ret, NULL);

        if (rc != SQLITE_OK) {
                log_debug("Failed to prepare '%s': %s", sql, sqlite3_errmsg(db));
                return state_errno(rc);
        }
        return 0;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? (const char *)t : "";
}

int trackled_search_query(const char *q, char **ret)
{
        Html h = HTML_INIT;
        unsigned terms = 0;
        const char *p = q;

        if (!q || strlen(q) > TRACKLED_SEARCH_QUERY_MAX)
                return -EINVAL;
        for (;;) {
                size_t n;

                p += strspn(p, " \t\r\n\f\v");
                n = strcspn(p, " \t\r\n\f\v");
                if (n == 0)
                        break;
                if (++terms > TRACKLED_SEARCH_TERMS_MAX) {
                        html_done(&h);
                        return -EINVAL;
                }
                if (terms > 1)
                        html_raw(&h, " ");
                html_raw(&h, "\"");
                for (size_t i = 0; i < n; i++) {
                        /* a quote inside a phrase is written twice; control characters never
                         * make a word */
                        if (p[i] == '"')
                                html_raw(&h, "\"\"");
                        else if ((unsigned char)p[i] >= 0x20)
                                html_rawn(&h, p + i, 1);
                }
                html_raw(&h, "\"");
                p += n;
        }
        if (terms == 0 || html_error(&h) < 0) {
                html_done(&h);
                return terms == 0 ? -EINVAL : -ENOMEM;
        }
        *ret = html_steal(&h, NULL);
        return *ret ? 0 : -ENOMEM;
}

/* Newest first in every kind (the wiki: the page edited last): FTS5 walks its index in rowid
 * order and stops at the limit, where ranking would score every match first (hundreds of
 * milliseconds for a common word in 200,000 commands). */
typedef struct SearchKind {
        const char *kind;
        bool admin_only;
        const char *sql; /* ?1 the query, ?2 admin, ?3 the limit; columns: key, title, snippet,
                            time */
        const char *key_name;
        bool key_is_int;
} SearchKind;

static const SearchKind kinds[] = {
        {"ticket", false,
         "SELECT t.id, t.summary, snippet(ticket_fts, -1, char(2), char(3), '…', 16), t.changed "
         "FROM ticket_fts JOIN ticket t ON t.id = ticket_fts.rowid "
         "WHERE ticket_fts MATCH ?1 AND (?2 OR t.status != 'unconfirmed') "
         "ORDER BY ticket_fts.rowid DESC LIMIT ?3",
         "ticket", true},
        {"comment", false,
         "SELECT c.ticket, t.summary, snippet(comment_fts, 0, char(2), char(3), '…', 16), "
         "c.time FROM comment_fts JOIN ticket_change c ON c.id = comment_fts.rowid "
         "JOIN ticket t ON t.id = c.ticket "
         "WHERE comment_fts MATCH ?1 AND (?2 OR t.status != 'unconfirmed') "
         "ORDER BY comment_fts.rowid DESC LIMIT ?3",
         "ticket", true},
        {"wiki", false,
         "SELECT w.name, w.name, snippet(wiki_fts, 1, char(2), char(3), '…', 16), p.changed "
         "FROM wiki_fts w JOIN wiki_page p ON p.name = w.name "
         "WHERE wiki_fts MATCH ?1 AND (?2 OR p.private = 0) ORDER BY w.rowid DESC LIMIT ?3",
         "name", false},
        {"annotation", true,
         "SELECT s.id, s.user || '@' || s.host, "
         "snippet(annotation_fts, 0, char(2), char(3), '…', 16), s.started "
         "FROM annotation_fts JOIN session s ON s.id = annotation_fts.rowid "
         "WHERE annotation_fts MATCH ?1 AND ?2 ORDER BY annotation_fts.rowid DESC LIMIT ?3",
         "session", true},
        {"command", true,
         "SELECT c.session, coalesce(c.line, c.argv, ''), "
         "snippet(command_fts, -1, char(2), char(3), '…', 16), c.time "
         "FROM command_fts JOIN command c ON c.id = command_fts.rowid "
         "WHERE command_fts MATCH ?1 AND ?2 ORDER BY command_fts.rowid DESC LIMIT ?3",
         "session", true},
        {"file", true,
         "SELECT f.path, coalesce(f.change, ''), "
         "snippet(file_fts, 0, char(2), char(3), '…', 16), s.started "
         "FROM file_fts JOIN file_change f ON f.id = file_fts.rowid "
         "JOIN session s ON s.id = f.session "
         "WHERE file_fts MATCH ?1 AND ?2 ORDER BY file_fts.rowid DESC LIMIT ?3",
         "path", false},
};

int trackled_search(TrackledStore *s, const char *q, bool admin, size_t limit, json_object **ret)
{
        _cleanup_free_ char *fts = NULL;
        json_object *a;
        int r;

        r = trackled_search_query(q, &fts);
        if (r < 0)
                return r;
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                int rc;

                if (kinds[k].admin_only && !admin)
                        continue;
                r = prepare(s, kinds[k].sql, &st);
                if (r < 0)
                        goto fail;
                sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 2, admin);
                sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
                while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                        json_object *o = json_object_new_object();
                        char t[32];

                        json_object_object_add(o, "kind", json_object_new_string(kinds[k].kind));
                        json_object_object_add(
                                o, kinds[k].key_name,
                                kinds[k].key_is_int
                                        ? json_object_new_int64(sqlite3_column_int64(st, 0))
                                        : json_object_new_string(col_text(st, 0)));
                        json_object_object_add(o, "title", json_object_new_string(col_text(st, 1)));
                        json_object_object_add(o, "snippet",
                                               json_object_new_string(col_text(st, 2)));
                        trackled_format_time(sqlite3_column_int64(st, 3), t);
                        json_object_object_add(o, "time", json_object_new_string(t));
                        json_object_array_add(a, o);
                }
                if (rc != SQLITE_DONE) {
                        r = state_errno(rc);
                        goto fail;
                }
        }
        *ret = a;
        return 0;
fail:
        json_object_put(a);
        return r;
}

/* ---- links */

typedef struct LinkSink {
        sqlite3_stmt *insert;
        int r;
} LinkSink;

static int link_add(void *userdata, WikiLinkKind kind, const char *key)
{
        LinkSink *sink = userdata;
        int rc;

        sqlite3_bind_text(sink->insert, 3, wiki_link_kind_to_string(kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(sink->insert, 4, key, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(sink->insert);
        sqlite3_reset(sink->insert);
        return rc == SQLITE_DONE ? 0 : state_errno(rc);
}

/* The texts of one object: a ticket's description and comments, a session's annotation, a
 * wiki page's newest version, a milestone's description. */
static const char *const texts_sql[_WIKI_LINK_MAX] = {
        [WIKI_LINK_TICKET] = "SELECT description FROM ticket WHERE id = ?1 UNION ALL "
                             "SELECT comment FROM ticket_change WHERE ticket = ?1 AND "
                             "comment IS NOT NULL AND comment != ''",
        [WIKI_LINK_SESSION] = "SELECT annotation FROM session WHERE id = ?1",
        [WIKI_LINK_WIKI] = "SELECT v.text FROM wiki_page p JOIN wiki_version v "
                           "ON v.page = p.name AND v.version = p.version WHERE p.name = ?1",
        [WIKI_LINK_MILESTONE] = "SELECT description FROM milestone WHERE name = ?1",
};

static int links_of(TrackledStore *s, const char *kind_name, const char *key)
{
        _cleanup_stmt_ sqlite3_stmt *del = NULL, *ins = NULL, *texts = NULL;
        int kind = wiki_link_kind_from_string(kind_name);
        LinkSink sink;
        int r, rc;

        r = prepare(s, "DELETE FROM object_link WHERE src_kind = ?1 AND src = ?2", &del);
        if (r < 0)
                return r;
        sqlite3_bind_text(del, 1, kind_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(del, 2, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(del);
        if (rc != SQLITE_DONE)
                return state_errno(rc);
        if (kind < 0 || !texts_sql[kind])
                return 0;
        r = prepare(s, texts_sql[kind], &texts);
        if (r < 0)
                return r;
        r = prepare(s,
                    "INSERT OR IGNORE INTO object_link (src_kind, src, dst_kind, dst) "
                    "VALUES (?1, ?2, ?3, ?4)",
                    &ins);
        if (r < 0)
                return r;
        sqlite3_bind_text(ins, 1, kind_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, key, -1, SQLITE_STATIC);
        sink = (LinkSink){.insert = ins};
        sqlite3_bind_text(texts, 1, key, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(texts)) == SQLITE_ROW) {
                r = wiki_links_foreach(col_text(texts, 0), link_add, &sink);
                /* a text too large to render links nothing; the others still count */
                if (r < 0 && r != -EFBIG)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : state_errno(rc);
}

int trackled_links_refresh(TrackledStore *s)
{
        _cleanup_stmt_ sqlite3_stmt *next = NULL, *done = NULL;
        int r, rc = SQLITE_DONE;

        r = prepare(s, "SELECT kind, id FROM link_dirty LIMIT 1", &next);
        if (r < 0)
                return r;
        r = prepare(s, "DELETE FROM link_dirty WHERE kind = ?1 AND id = ?2", &done);
        if (r < 0)
                return r;
        r = trackled_store_begin(s);
        if (r < 0)
                return r;
        /* a bounded piece of the queue per call: after an import or the migration of a large
         * database the back-links catch up over several requests instead of one slow one */
        for (unsigned n = 0;
             n < TRACKLED_LINKS_REFRESH_MAX && (rc = sqlite3_step(next)) == SQLITE_ROW; n++) {
                _cleanup_free_ char *kind = strdup(col_text(next, 0));
                _cleanup_free_ char *key = strdup(col_text(next, 1));

                sqlite3_reset(next);
                if (!kind || !key) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = links_of(s, kind, key);
                if (r < 0)
                        goto fail;
                sqlite3_bind_text(done, 1, kind, -1, SQLITE_STATIC);
                sqlite3_bind_text(done, 2, key, -1, SQLITE_STATIC);
                rc = sqlite3_step(done);
                sqlite3_reset(done);
                if (rc != SQLITE_DONE) {
                        r = state_errno(rc);
                        goto fail;
                }
        }
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
                r = state_errno(rc);
                goto fail;
        }
        sqlite3_reset(next);
        return trackled_store_commit(s);
fail:
        sqlite3_reset(next);
        trackled_store_rollback(s);
        return r;
}

int trackled_links_back(TrackledStore *s, WikiLinkKind kind, const char *key, bool admin,
                        json_object **ret)
{
        /* the title of each source, and whether the viewer may see it */
        static const char sql[] =
                "SELECT l.src_kind, l.src, CASE l.src_kind "
                "  WHEN 'ticket' THEN (SELECT summary FROM ticket WHERE id = l.src) "
                "  WHEN 'session' THEN (SELECT user || '@' || host FROM session WHERE id = l.src) "
                "  ELSE l.src END, "
                "CASE l.src_kind "
                "  WHEN 'ticket' THEN (SELECT status != 'unconfirmed' FROM ticket "
                "                      WHERE id = l.src) "
                "  WHEN 'session' THEN 0 "
                "  WHEN 'wiki' THEN (SELECT private = 0 FROM wiki_page WHERE name = l.src) "
                "  ELSE 1 END "
                "FROM object_link l WHERE l.dst_kind = ?1 AND l.dst = ?2 "
                "ORDER BY l.src_kind, CAST(l.src AS INTEGER), l.src";
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        json_object *a;
        int r, rc;

        r = trackled_links_refresh(s);
        if (r < 0)
                return r;
        r = prepare(s, sql, &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, wiki_link_kind_to_string(kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                json_object *o;

                if (!admin && sqlite3_column_int(st, 3) == 0)
                        continue;
                o = json_object_new_object();
                json_object_object_add(o, "kind", json_object_new_string(col_text(st, 0)));
                json_object_object_add(o, "key", json_object_new_string(col_text(st, 1)));
                json_object_object_add(o, "title", json_object_new_string(col_text(st, 2)));
                json_object_array_add(a, o);
        }
        if (rc != SQLITE_DONE) {
                json_object_put(a);
                return state_errno(rc);
        }
        *ret = a;
        return 0;
}
