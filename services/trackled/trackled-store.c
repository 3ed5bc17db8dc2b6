/* trackled-store.c - trackle.db (schema version 1) and the JSON views of its rows. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "state.h"
#include "trackled-diff.h"
#include "trackled-store.h"

const char *const trackled_store_migrations[] = {
        /* 0 -> 1 */
        "CREATE TABLE ticket ("
        "  id INTEGER PRIMARY KEY,"
        "  summary TEXT NOT NULL,"
        "  description TEXT NOT NULL DEFAULT '',"
        "  type TEXT NOT NULL DEFAULT '',"
        "  severity TEXT NOT NULL DEFAULT '',"
        "  priority TEXT NOT NULL DEFAULT '',"
        "  component TEXT NOT NULL DEFAULT '',"
        "  milestone TEXT NOT NULL DEFAULT '',"
        "  keywords TEXT NOT NULL DEFAULT '',"
        "  owner TEXT NOT NULL DEFAULT '',"
        "  reporter TEXT NOT NULL,"
        "  status TEXT NOT NULL DEFAULT 'new',"
        "  resolution TEXT NOT NULL DEFAULT '',"
        "  created INTEGER NOT NULL,"
        "  changed INTEGER NOT NULL);"
        "CREATE INDEX ticket_status ON ticket(status);"
        "CREATE INDEX ticket_changed ON ticket(changed);"
        "CREATE TABLE ticket_change ("
        "  id INTEGER PRIMARY KEY,"
        "  ticket INTEGER NOT NULL REFERENCES ticket(id),"
        "  time INTEGER NOT NULL,"
        "  author TEXT NOT NULL,"
        "  field TEXT NOT NULL,"
        "  old TEXT,"
        "  new TEXT,"
        "  comment TEXT);"
        "CREATE INDEX ticket_change_ticket ON ticket_change(ticket, time);"
        "CREATE TABLE ticket_lock ("
        "  ticket INTEGER PRIMARY KEY REFERENCES ticket(id),"
        "  session INTEGER NOT NULL,"
        "  uid INTEGER NOT NULL,"
        "  since INTEGER NOT NULL);"
        "CREATE INDEX ticket_lock_session ON ticket_lock(session);"
        "CREATE TABLE ticket_subscriber ("
        "  ticket INTEGER NOT NULL REFERENCES ticket(id),"
        "  address TEXT NOT NULL,"
        "  PRIMARY KEY (ticket, address)) WITHOUT ROWID;"
        "CREATE TABLE session ("
        "  id INTEGER PRIMARY KEY,"
        "  ticket INTEGER REFERENCES ticket(id),"
        "  uid INTEGER NOT NULL,"
        "  user TEXT NOT NULL,"
        "  host TEXT NOT NULL,"
        "  tty TEXT,"
        "  shell TEXT,"
        "  cwd TEXT,"
        "  environment TEXT NOT NULL DEFAULT '{}',"
        "  identity TEXT NOT NULL,"
        "  audit_id INTEGER,"
        "  leader_pid INTEGER NOT NULL,"
        "  leader_start INTEGER NOT NULL,"
        "  keyed INTEGER NOT NULL DEFAULT 0,"
        "  state TEXT NOT NULL,"
        "  started INTEGER NOT NULL,"
        "  ended INTEGER,"
        "  exit INTEGER,"
        "  annotation TEXT NOT NULL DEFAULT '');"
        "CREATE INDEX session_ticket ON session(ticket);"
        "CREATE INDEX session_state ON session(state);"
        "CREATE UNIQUE INDEX session_audit ON session(audit_id) WHERE audit_id IS NOT NULL;"
        "CREATE TABLE command ("
        "  id INTEGER PRIMARY KEY,"
        "  session INTEGER NOT NULL REFERENCES session(id),"
        "  time INTEGER NOT NULL,"
        "  pid INTEGER,"
        "  cwd TEXT,"
        "  uid INTEGER,"
        "  euid INTEGER,"
        "  line TEXT,"
        "  argv TEXT,"
        "  exit INTEGER,"
        "  source TEXT NOT NULL);"
        "CREATE INDEX command_session ON command(session, time);"
        "CREATE TABLE blob ("
        "  sha256 TEXT PRIMARY KEY,"
        "  size INTEGER NOT NULL,"
        "  content BLOB) WITHOUT ROWID;"
        "CREATE TABLE file_change ("
        "  id INTEGER PRIMARY KEY,"
        "  session INTEGER NOT NULL REFERENCES session(id),"
        "  path TEXT NOT NULL,"
        "  first INTEGER NOT NULL,"
        "  before_kind TEXT,"
        "  before_sha256 TEXT, before_size INTEGER, before_mode INTEGER,"
        "  before_uid INTEGER, before_gid INTEGER,"
        "  after_kind TEXT,"
        "  after_sha256 TEXT, after_size INTEGER, after_mode INTEGER,"
        "  after_uid INTEGER, after_gid INTEGER,"
        "  redacted INTEGER NOT NULL DEFAULT 0,"
        "  binary INTEGER NOT NULL DEFAULT 0,"
        "  over_cap INTEGER NOT NULL DEFAULT 0,"
        "  shown INTEGER NOT NULL DEFAULT 1,"
        "  renamed_from TEXT,"
        "  change TEXT,"
        "  change_from TEXT,"
        "  UNIQUE (session, path));"
        "CREATE INDEX file_change_path ON file_change(path);"
        "CREATE TABLE file_event ("
        "  id INTEGER PRIMARY KEY,"
        "  session INTEGER NOT NULL REFERENCES session(id),"
        "  time INTEGER NOT NULL,"
        "  pid INTEGER,"
        "  op TEXT NOT NULL,"
        "  path TEXT NOT NULL,"
        "  path2 TEXT);"
        "CREATE INDEX file_event_session ON file_event(session, path);"
        "CREATE TABLE session_note ("
        "  id INTEGER PRIMARY KEY,"
        "  session INTEGER NOT NULL REFERENCES session(id),"
        "  time INTEGER NOT NULL,"
        "  text TEXT NOT NULL);"
        "CREATE INDEX session_note_session ON session_note(session);"
        /* issue 10/8 (web, wiki, mail): created empty now so that the design holds */
        "CREATE TABLE account ("
        "  id INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  email TEXT,"
        "  uid INTEGER,"
        "  password_hash TEXT,"
        "  created INTEGER NOT NULL,"
        "  confirmed INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE wiki_page ("
        "  name TEXT PRIMARY KEY,"
        "  version INTEGER NOT NULL,"
        "  changed INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE wiki_version ("
        "  page TEXT NOT NULL REFERENCES wiki_page(name),"
        "  version INTEGER NOT NULL,"
        "  time INTEGER NOT NULL,"
        "  author TEXT NOT NULL,"
        "  text TEXT NOT NULL,"
        "  comment TEXT,"
        "  PRIMARY KEY (page, version)) WITHOUT ROWID;"
        "CREATE TABLE milestone ("
        "  name TEXT PRIMARY KEY,"
        "  due INTEGER,"
        "  completed INTEGER,"
        "  description TEXT NOT NULL DEFAULT '') WITHOUT ROWID;"
        "CREATE TABLE enum_value ("
        "  type TEXT NOT NULL," /* type, severity, priority, component */
        "  name TEXT NOT NULL,"
        "  position INTEGER NOT NULL DEFAULT 0,"
        "  PRIMARY KEY (type, name)) WITHOUT ROWID;"
        "CREATE TABLE mail_queue ("
        "  id INTEGER PRIMARY KEY,"
        "  created INTEGER NOT NULL,"
        "  recipient TEXT NOT NULL,"
        "  message BLOB NOT NULL,"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  next_attempt INTEGER NOT NULL,"
        "  last_error TEXT);"
        "CREATE INDEX mail_queue_next ON mail_queue(next_attempt);"
        "CREATE TABLE confirm_token ("
        "  token TEXT PRIMARY KEY,"
        "  account INTEGER REFERENCES account(id),"
        "  purpose TEXT NOT NULL,"
        "  expires INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE web_session ("
        "  token TEXT PRIMARY KEY,"
        "  account INTEGER NOT NULL REFERENCES account(id),"
        "  created INTEGER NOT NULL,"
        "  expires INTEGER NOT NULL) WITHOUT ROWID;",
        /* 1 -> 2: audit session ids start again at every boot: a session's id is unique per
         * boot (/proc/sys/kernel/random/boot_id), and so is its leader's pid + start time. */
        "ALTER TABLE session ADD COLUMN boot_id TEXT;"
        "DROP INDEX session_audit;"
        "CREATE UNIQUE INDEX session_audit ON session(boot_id, audit_id) "
        "WHERE audit_id IS NOT NULL;"
        "CREATE INDEX session_ended ON session(ended) WHERE state != 'open';",
        /* 2 -> 3: the web. Private wiki pages; links between objects for back-links (texts
         * that changed are queued in link_dirty by triggers, whoever wrote them, and parsed by
         * trackled-search.c); full-text search (FTS5) kept in sync by triggers. */
        "ALTER TABLE wiki_page ADD COLUMN private INTEGER NOT NULL DEFAULT 0;"
        "CREATE TABLE object_link ("
        "  src_kind TEXT NOT NULL, src TEXT NOT NULL,"
        "  dst_kind TEXT NOT NULL, dst TEXT NOT NULL,"
        "  PRIMARY KEY (dst_kind, dst, src_kind, src)) WITHOUT ROWID;"
        "CREATE INDEX object_link_src ON object_link(src_kind, src);"
        "CREATE TABLE link_dirty ("
        "  kind TEXT NOT NULL, id TEXT NOT NULL,"
        "  PRIMARY KEY (kind, id)) WITHOUT ROWID;"
        "CREATE TRIGGER ticket_links_ins AFTER INSERT ON ticket BEGIN"
        "  INSERT OR IGNORE INTO link_dirty VALUES ('ticket', new.id); END;"
        "CREATE TRIGGER ticket_links_upd AFTER UPDATE OF description ON ticket BEGIN"
        "  INSERT OR IGNORE INTO link_dirty VALUES ('ticket', new.id); END;"
        "CREATE TRIGGER comment_links AFTER INSERT ON ticket_change"
        "  WHEN new.comment IS NOT NULL AND new.comment != '' BEGIN"
        "  INSERT OR IGNORE INTO link_dirty VALUES ('ticket', new.ticket); END;"
        "CREATE TRIGGER session_links AFTER UPDATE OF annotation ON session BEGIN"
        "  INSERT OR IGNORE INTO link_dirty VALUES ('session', new.id); END;"
        "CREATE TRIGGER wiki_links AFTER INSERT ON wiki_version BEGIN"
        "  INSERT OR IGNORE INTO link_dirty VALUES ('wiki', new.page); END;"
        "CREATE TRIGGER milestone_links_ins AFTER INSERT ON milestone BEGIN"
        "  INSERT OR IGNORE INTO link_dirty VALUES ('milestone', new.name); END;"
        "CREATE TRIGGER milestone_links_upd AFTER UPDATE OF description ON milestone BEGIN"
        "  INSERT OR IGNORE INTO link_dirty VALUES ('milestone', new.name); END;"
        "INSERT OR IGNORE INTO link_dirty SELECT 'ticket', id FROM ticket;"
        "INSERT OR IGNORE INTO link_dirty SELECT 'session', id FROM session WHERE annotation != '';"
        "INSERT OR IGNORE INTO link_dirty SELECT 'wiki', name FROM wiki_page;"
        "INSERT OR IGNORE INTO link_dirty SELECT 'milestone', name FROM milestone;"
        /* search: external-content tables over the rows themselves */
        "CREATE VIRTUAL TABLE ticket_fts USING fts5(summary, description, keywords,"
        "  content='ticket', content_rowid='id');"
        "CREATE TRIGGER ticket_fts_ins AFTER INSERT ON ticket BEGIN"
        "  INSERT INTO ticket_fts(rowid, summary, description, keywords)"
        "  VALUES (new.id, new.summary, new.description, new.keywords); END;"
        "CREATE TRIGGER ticket_fts_del AFTER DELETE ON ticket BEGIN"
        "  INSERT INTO ticket_fts(ticket_fts, rowid, summary, description, keywords)"
        "  VALUES ('delete', old.id, old.summary, old.description, old.keywords); END;"
        "CREATE TRIGGER ticket_fts_upd AFTER UPDATE OF summary, description, keywords ON ticket"
        "  BEGIN"
        "  INSERT INTO ticket_fts(ticket_fts, rowid, summary, description, keywords)"
        "  VALUES ('delete', old.id, old.summary, old.description, old.keywords);"
        "  INSERT INTO ticket_fts(rowid, summary, description, keywords)"
        "  VALUES (new.id, new.summary, new.description, new.keywords); END;"
        "CREATE VIRTUAL TABLE comment_fts USING fts5(comment,"
        "  content='ticket_change', content_rowid='id');"
        "CREATE TRIGGER comment_fts_ins AFTER INSERT ON ticket_change BEGIN"
        "  INSERT INTO comment_fts(rowid, comment) VALUES (new.id, new.comment); END;"
        "CREATE TRIGGER comment_fts_del AFTER DELETE ON ticket_change BEGIN"
        "  INSERT INTO comment_fts(comment_fts, rowid, comment)"
        "  VALUES ('delete', old.id, old.comment); END;"
        "CREATE TRIGGER comment_fts_upd AFTER UPDATE OF comment ON ticket_change BEGIN"
        "  INSERT INTO comment_fts(comment_fts, rowid, comment)"
        "  VALUES ('delete', old.id, old.comment);"
        "  INSERT INTO comment_fts(rowid, comment) VALUES (new.id, new.comment); END;"
        "CREATE VIRTUAL TABLE command_fts USING fts5(line, argv,"
        "  content='command', content_rowid='id');"
        "CREATE TRIGGER command_fts_ins AFTER INSERT ON command BEGIN"
        "  INSERT INTO command_fts(rowid, line, argv) VALUES (new.id, new.line, new.argv); END;"
        "CREATE TRIGGER command_fts_del AFTER DELETE ON command BEGIN"
        "  INSERT INTO command_fts(command_fts, rowid, line, argv)"
        "  VALUES ('delete', old.id, old.line, old.argv); END;"
        "CREATE TRIGGER command_fts_upd AFTER UPDATE OF line, argv ON command BEGIN"
        "  INSERT INTO command_fts(command_fts, rowid, line, argv)"
        "  VALUES ('delete', old.id, old.line, old.argv);"
        "  INSERT INTO command_fts(rowid, line, argv) VALUES (new.id, new.line, new.argv); END;"
        "CREATE VIRTUAL TABLE file_fts USING fts5(path,"
        "  content='file_change', content_rowid='id');"
        "CREATE TRIGGER file_fts_ins AFTER INSERT ON file_change BEGIN"
        "  INSERT INTO file_fts(rowid, path) VALUES (new.id, new.path); END;"
        "CREATE TRIGGER file_fts_del AFTER DELETE ON file_change BEGIN"
        "  INSERT INTO file_fts(file_fts, rowid, path) VALUES ('delete', old.id, old.path); END;"
        "CREATE TRIGGER file_fts_upd AFTER UPDATE OF path ON file_change BEGIN"
        "  INSERT INTO file_fts(file_fts, rowid, path) VALUES ('delete', old.id, old.path);"
        "  INSERT INTO file_fts(rowid, path) VALUES (new.id, new.path); END;"
        "CREATE VIRTUAL TABLE annotation_fts USING fts5(annotation,"
        "  content='session', content_rowid='id');"
        "CREATE TRIGGER annotation_fts_ins AFTER INSERT ON session BEGIN"
        "  INSERT INTO annotation_fts(rowid, annotation) VALUES (new.id, new.annotation); END;"
        "CREATE TRIGGER annotation_fts_del AFTER DELETE ON session BEGIN"
        "  INSERT INTO annotation_fts(annotation_fts, rowid, annotation)"
        "  VALUES ('delete', old.id, old.annotation); END;"
        "CREATE TRIGGER annotation_fts_upd AFTER UPDATE OF annotation ON session BEGIN"
        "  INSERT INTO annotation_fts(annotation_fts, rowid, annotation)"
        "  VALUES ('delete', old.id, old.annotation);"
        "  INSERT INTO annotation_fts(rowid, annotation) VALUES (new.id, new.annotation); END;"
        /* wiki_page has no rowid: the newest text of each page, stored in the index */
        "CREATE VIRTUAL TABLE wiki_fts USING fts5(name, text);"
        "CREATE TRIGGER wiki_fts_ins AFTER INSERT ON wiki_version BEGIN"
        "  DELETE FROM wiki_fts WHERE name = new.page;"
        "  INSERT INTO wiki_fts(name, text) VALUES (new.page, new.text); END;"
        "CREATE TRIGGER wiki_fts_del AFTER DELETE ON wiki_page BEGIN"
        "  DELETE FROM wiki_fts WHERE name = old.name; END;"
        "INSERT INTO ticket_fts(ticket_fts) VALUES ('rebuild');"
        "INSERT INTO comment_fts(comment_fts) VALUES ('rebuild');"
        "INSERT INTO command_fts(command_fts) VALUES ('rebuild');"
        "INSERT INTO file_fts(file_fts) VALUES ('rebuild');"
        "INSERT INTO annotation_fts(annotation_fts) VALUES ('rebuild');"
        "INSERT INTO wiki_fts(name, text) SELECT p.name, v.text FROM wiki_page p"
        "  JOIN wiki_version v ON v.page = p.name AND v.version = p.version;",
        /* 3 -> 4: small named values of trackle's tools (trackle-notify's digest watermark) */
        "CREATE TABLE setting ("
        "  name TEXT PRIMARY KEY,"
        "  value TEXT NOT NULL,"
        "  changed INTEGER NOT NULL) WITHOUT ROWID;",
        /* 4 -> 5: the web's mail (issue 10): a ticket filed anonymously (status
         * 'unconfirmed' until then) keeps its reporter's address apart from the name shown;
         * subscriptions wait for their confirmation too; confirmation tokens name what they
         * confirm and are used once. */
        "ALTER TABLE ticket ADD COLUMN reporter_email TEXT;"
        "ALTER TABLE ticket_subscriber ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 1;"
        "ALTER TABLE confirm_token ADD COLUMN ticket INTEGER;"
        "ALTER TABLE confirm_token ADD COLUMN address TEXT;"
        "ALTER TABLE confirm_token ADD COLUMN used INTEGER;",
        /* 5 -> 6: file paths are indexed for search when their session ends, in one
         * transaction, not by a trigger per inserted row: that trigger made every synchronous
         * BEFORE commit write the FTS5 pages too (bench/trackle run F). fts marks the rows
         * the index holds, so that a delete never hands FTS5 a row it never indexed. */
        "ALTER TABLE file_change ADD COLUMN fts INTEGER NOT NULL DEFAULT 0;"
        "UPDATE file_change SET fts = 1;"
        "DROP TRIGGER file_fts_ins;"
        "DROP TRIGGER file_fts_del;"
        "DROP TRIGGER file_fts_upd;"
        "CREATE TRIGGER file_fts_del AFTER DELETE ON file_change WHEN old.fts BEGIN"
        "  INSERT INTO file_fts(file_fts, rowid, path) VALUES ('delete', old.id, old.path); END;"
        "CREATE TRIGGER file_fts_upd AFTER UPDATE OF path ON file_change WHEN old.fts BEGIN"
        "  INSERT INTO file_fts(file_fts, rowid, path) VALUES ('delete', old.id, old.path);"
        "  INSERT INTO file_fts(rowid, path) VALUES (new.id, new.path); END;"
        "CREATE INDEX file_change_unindexed ON file_change(session) WHERE fts = 0;",
};
const size_t trackled_store_n_migrations = ELEMENTSOF(trackled_store_migrations);

#define STMT_CACHE_MAX 96

struct TrackledStore {
        sqlite3 *db;
        bool batch;       /* a batch transaction is open: begin/commit are savepoints inside it */
        int64_t now;      /* 0: real time */
        char boot_id[40]; /* this boot's id, "" if unknown */
        uint64_t last_use_usec; /* CLOCK_MONOTONIC of the last request that used the store */
        struct {
                const char *sql; /* identity of a static string */
                sqlite3_stmt *st;
        } cache[STMT_CACHE_MAX];
        size_t n_cache;
};

static int64_t now(TrackledStore *s)
{
        return s->now ? s->now : (int64_t)time(NULL);
}

void trackled_store_set_now(TrackledStore *s, int64_t t)
{
        s->now = t;
}

/* A statement prepared once per store, found by the address of its SQL string. The caller
 * resets it with _cleanup_reset_. */
static sqlite3_stmt *stmt(TrackledStore *s, const char *sql)
{
        sqlite3_stmt *st;

        for (size_t i = 0; i < s->n_cache; i++)
                if (s->cache[i].sql == sql)
                        return s->cache[i].st;
        if (s->n_cache >= STMT_CACHE_MAX)
                return NULL;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
                log_debug("Failed to prepare '%s': %s", sql, sqlite3_errmsg(s->db));
                return NULL;
        }
        s->cache[s->n_cache].sql = sql;
        s->cache[s->n_cache].st = st;
        s->n_cache++;
        return st;
}

static void stmt_resetp(sqlite3_stmt **st)
{
        if (*st) {
                sqlite3_reset(*st);
                sqlite3_clear_bindings(*st);
        }
}
#define _cleanup_reset_ _cleanup_(stmt_resetp)

static int rc_errno(TrackledStore *s, int rc)
{
        if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
                log_debug("SQLite: %s", sqlite3_errmsg(s->db));
        return state_errno(rc);
}

static int step_done(TrackledStore *s, sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);
        return rc == SQLITE_DONE ? 0 : rc_errno(s, rc);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
        if (v)
                sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? (const char *)t : NULL;
}

static json_object *json_text_or_null(sqlite3_stmt *st, int i)
{
        const char *t = col_text(st, i);
        return t ? json_object_new_string(t) : NULL;
}

static json_object *json_int_or_null(sqlite3_stmt *st, int i)
{
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
                return NULL;
        return json_object_new_int64(sqlite3_column_int64(st, i));
}

void trackled_format_time(int64_t t, char buf[32])
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm))
                memset(&tm, 0, sizeof(tm));
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_object *json_time(int64_t t)
{
        char buf[32];

        trackled_format_time(t, buf);
        return json_object_new_string(buf);
}

static json_object *json_time_or_null(sqlite3_stmt *st, int i)
{
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
                return NULL;
        return json_time(sqlite3_column_int64(st, i));
}

/* trackled.service passes this boot's id as the credential boot_id (LoadCredential=), so
 * that the service can run with ProcSubset=pid; elsewhere it comes from /proc. */
static int open_boot_id(void)
{
        const char *creds = getenv("CREDENTIALS_DIRECTORY");
        _cleanup_free_ char *path = NULL;
        int fd;

        if (creds && creds[0] == '/' && asprintf(&path, "%s/boot_id", creds) >= 0) {
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd >= 0)
                        return fd;
        }
        return open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
}

static void read_boot_id(char *buf, size_t size)
{
        _cleanup_close_ int fd = open_boot_id();
        ssize_t n;

        buf[0] = 0;
        if (fd < 0)
                return;
        n = read(fd, buf, size - 1);
        if (n <= 0) {
                buf[0] = 0;
                return;
        }
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        /* 36 characters of hex digits and dashes, nothing else */
        if (strlen(buf) != 36 || strspn(buf, "0123456789abcdef-") != 36)
                buf[0] = 0;
}

const char *trackled_store_boot_id(TrackledStore *s)
{
        return s->boot_id;
}

int trackled_store_open(const char *path, TrackledStore **ret)
{
        TrackledStore *s;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        r = state_open(path, false, trackled_store_migrations, trackled_store_n_migrations, &s->db);
        if (r < 0) {
                free(s);
                return r;
        }
        read_boot_id(s->boot_id, sizeof(s->boot_id));
        /* A BEFORE is answered only after its commit, and the admin's program waits for the
         * answer: keep that commit to appending pages to the WAL. Pages stay in memory (a 32 MiB
         * cache, reads through mmap), and the WAL is copied back into the database in idle
         * moments (trackled_store_checkpoint) rather than in the middle of a commit. Each
         * frame of a batch is a savepoint: its statement journal stays in memory
         * (temp_store), not in a temporary file written page by page (~12 pwrite()s per
         * stored before state, in the middle of the admin's dpkg run). */
        r = state_exec(s->db, "PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456; "
                              "PRAGMA wal_autocheckpoint = 16384; PRAGMA temp_store = MEMORY");
        if (r < 0) {
                sqlite3_close_v2(s->db);
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

TrackledStore *trackled_store_free(TrackledStore *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_cache; i++)
                sqlite3_finalize(s->cache[i].st);
        sqlite3_close_v2(s->db);
        free(s);
        return NULL;
}

static uint64_t monotonic_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

void trackled_store_touch(TrackledStore *s)
{
        s->last_use_usec = monotonic_usec();
}

bool trackled_store_idle(TrackledStore *s, uint64_t usec)
{
        return monotonic_usec() - s->last_use_usec > usec;
}

int trackled_store_checkpoint(TrackledStore *s)
{
        int rc;

        if (s->batch || sqlite3_get_autocommit(s->db) == 0)
                return 0;
        rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return rc == SQLITE_OK ? 0 : state_errno(rc);
}

static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";
static const char sql_savepoint[] = "SAVEPOINT frame";
static const char sql_release[] = "RELEASE frame";
static const char sql_rollback_to[] = "ROLLBACK TO frame";

static int exec_cached(TrackledStore *s, const char *sql)
{
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);
        return st ? step_done(s, st) : -EIO;
}

int trackled_store_begin(TrackledStore *s)
{
        return exec_cached(s, s->batch ? sql_savepoint : sql_begin);
}

int trackled_store_commit(TrackledStore *s)
{
        return exec_cached(s, s->batch ? sql_release : sql_commit);
}

/* The end of a transaction begun with trackled_store_begin(): committed if r >= 0, else
 * rolled back; returns r, or the commit's failure. */
int trackled_store_end(TrackledStore *s, int r)
{
        if (r < 0) {
                trackled_store_rollback(s);
                return r;
        }
        return trackled_store_commit(s);
}

void trackled_store_rollback(TrackledStore *s)
{
        if (sqlite3_get_autocommit(s->db) != 0)
                return;
        if (s->batch) {
                /* Undo this frame only; what the batch holds from earlier frames stays. */
                if (exec_cached(s, sql_rollback_to) >= 0 && exec_cached(s, sql_release) >= 0)
                        return;
                s->batch = false;
        }
        (void)exec_cached(s, sql_rollback);
}

int trackled_store_batch_begin(TrackledStore *s)
{
        int r;

        if (s->batch)
                return 0;
        r = exec_cached(s, sql_begin);
        if (r < 0)
                return r;
        s->batch = true;
        return 1;
}

bool trackled_store_batch_open(TrackledStore *s)
{
        return s->batch;
}

int trackled_store_batch_commit(TrackledStore *s)
{
        int r;

        if (!s->batch)
                return 0;
        s->batch = false;
        r = exec_cached(s, sql_commit);
        if (r < 0 && sqlite3_get_autocommit(s->db) == 0)
                (void)exec_cached(s, sql_rollback);
        return r;
}

/* ---- tickets */

static const char sql_ticket_insert[] =
        "INSERT INTO ticket (summary, description, reporter, status, created, changed) "
        "VALUES (?, ?, ?, 'new', ?, ?)";

int trackled_store_ticket_history(TrackledStore *s, int64_t ticket, const char *author,
                                  const char *field, const char *old, const char *new_,
                                  const char *comment)
{
        static const char sql[] = "INSERT INTO ticket_change (ticket, time, author, field, old, "
                                  "new, comment) VALUES (?, ?, ?, ?, ?, ?, ?)";
        static const char sql_changed[] = "UPDATE ticket SET changed = ? WHERE id = ?";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);
        _cleanup_reset_ sqlite3_stmt *up = stmt(s, sql_changed);
        int r;

        if (!st || !up)
                return -EIO;
        sqlite3_bind_int64(st, 1, ticket);
        sqlite3_bind_int64(st, 2, now(s));
        bind_text(st, 3, author);
        bind_text(st, 4, field);
        bind_text(st, 5, old);
        bind_text(st, 6, new_);
        bind_text(st, 7, comment);
        r = step_done(s, st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(up, 1, now(s));
        sqlite3_bind_int64(up, 2, ticket);
        return step_done(s, up);
}

int trackled_store_ticket_new(TrackledStore *s, const char *author, const char *summary,
                              const char *description, int64_t *ret_id)
{
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql_ticket_insert);
        int64_t id;
        int r;

        if (!st)
                return -EIO;
        r = trackled_store_begin(s);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, summary, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, strempty(description), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, author, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, now(s));
        sqlite3_bind_int64(st, 5, now(s));
        r = step_done(s, st);
        if (r < 0)
                goto fail;
        id = sqlite3_last_insert_rowid(s->db);
        r = trackled_store_ticket_history(s, id, author, "created", NULL, "new", NULL);
        if (r < 0)
                goto fail;
        r = trackled_store_commit(s);
        if (r < 0)
                goto fail;
        *ret_id = id;
        return 0;
fail:
        trackled_store_rollback(s);
        return r;
}

static const char sql_lock_get[] = "SELECT l.session, l.uid, l.since, s.user FROM ticket_lock l "
                                   "LEFT JOIN session s ON s.id = l.session WHERE l.ticket = ?";

static json_object *lock_json(TrackledStore *s, int64_t ticket)
{
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql_lock_get);
        json_object *o;

        if (!st)
                return NULL;
        sqlite3_bind_int64(st, 1, ticket);
        if (sqlite3_step(st) != SQLITE_ROW)
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "session", json_object_new_int64(sqlite3_column_int64(st, 0)));
        json_object_object_add(o, "user", json_text_or_null(st, 3));
        json_object_object_add(o, "since", json_time(sqlite3_column_int64(st, 2)));
        return o;
}

static const char sql_ticket_get[] =
        "SELECT id, summary, description, type, severity, priority, component, milestone, "
        "keywords, owner, reporter, status, resolution, created, changed FROM ticket WHERE id = ?";
static const char sql_ticket_all[] =
        "SELECT id, summary, description, type, severity, priority, component, milestone, "
        "keywords, owner, reporter, status, resolution, created, changed FROM ticket "
        "WHERE ?1 IS NULL OR status = ?1 ORDER BY id";

static json_object *ticket_row_json(TrackledStore *s, sqlite3_stmt *st)
{
        static const char *const text_fields[] = {
                "summary",   "description", "type",  "severity", "priority", "component",
                "milestone", "keywords",    "owner", "reporter", "status",   "resolution",
        };
        json_object *o = json_object_new_object();
        int64_t id = sqlite3_column_int64(st, 0);

        json_object_object_add(o, "id", json_object_new_int64(id));
        for (size_t i = 0; i < ELEMENTSOF(text_fields); i++)
                json_object_object_add(o, text_fields[i],
                                       json_object_new_string(strempty(col_text(st, (int)i + 1))));
        json_object_object_add(o, "created", json_time(sqlite3_column_int64(st, 13)));
        json_object_object_add(o, "changed", json_time(sqlite3_column_int64(st, 14)));
        json_object_object_add(o, "lock", lock_json(s, id));
        return o;
}

int trackled_store_ticket_json(TrackledStore *s, int64_t id, bool details, json_object **ret)
{
        static const char sql_hist[] = "SELECT time, author, field, old, new, comment FROM "
                                       "ticket_change WHERE ticket = ? ORDER BY time, id";
        static const char sql_sessions[] = "SELECT id FROM session WHERE ticket = ? ORDER BY id";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql_ticket_get);
        json_object *o, *a;
        int rc;

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return rc_errno(s, rc);
        o = ticket_row_json(s, st);
        if (details) {
                _cleanup_reset_ sqlite3_stmt *h = stmt(s, sql_hist);
                _cleanup_reset_ sqlite3_stmt *ss = stmt(s, sql_sessions);

                if (!h || !ss) {
                        json_object_put(o);
                        return -EIO;
                }
                a = json_object_new_array();
                sqlite3_bind_int64(h, 1, id);
                while (sqlite3_step(h) == SQLITE_ROW) {
                        json_object *e = json_object_new_object();
                        json_object_object_add(e, "time", json_time(sqlite3_column_int64(h, 0)));
                        json_object_object_add(e, "author", json_text_or_null(h, 1));
                        json_object_object_add(e, "field", json_text_or_null(h, 2));
                        json_object_object_add(e, "old", json_text_or_null(h, 3));
                        json_object_object_add(e, "new", json_text_or_null(h, 4));
                        json_object_object_add(e, "comment", json_text_or_null(h, 5));
                        json_object_array_add(a, e);
                }
                json_object_object_add(o, "history", a);
                a = json_object_new_array();
                sqlite3_bind_int64(ss, 1, id);
                while (sqlite3_step(ss) == SQLITE_ROW)
                        json_object_array_add(a,
                                              json_object_new_int64(sqlite3_column_int64(ss, 0)));
                json_object_object_add(o, "sessions", a);
        }
        *ret = o;
        return 0;
}

int trackled_store_ticket_list(TrackledStore *s, const char *status, json_object **ret)
{
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql_ticket_all);
        json_object *a;
        int rc;

        if (!st)
                return -EIO;
        bind_text(st, 1, status);
        a = json_object_new_array();
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                json_object_array_add(a, ticket_row_json(s, st));
        if (rc != SQLITE_DONE) {
                json_object_put(a);
                return rc_errno(s, rc);
        }
        *ret = a;
        return 0;
}

/* ---- locks */

int trackled_store_lock_get(TrackledStore *s, int64_t ticket, int64_t *ret_session,
                            uint32_t *ret_uid, int64_t *ret_since)
{
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql_lock_get);
        int rc;

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, ticket);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return rc_errno(s, rc);
        if (ret_session)
                *ret_session = sqlite3_column_int64(st, 0);
        if (ret_uid)
                *ret_uid = (uint32_t)sqlite3_column_int64(st, 1);
        if (ret_since)
                *ret_since = sqlite3_column_int64(st, 2);
        return 0;
}

int trackled_store_lock_set(TrackledStore *s, int64_t ticket, int64_t session, uint32_t uid)
{
        static const char sql[] =
                "INSERT OR REPLACE INTO ticket_lock (ticket, session, uid, since) "
                "VALUES (?, ?, ?, ?)";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, ticket);
        sqlite3_bind_int64(st, 2, session);
        sqlite3_bind_int64(st, 3, uid);
        sqlite3_bind_int64(st, 4, now(s));
        return step_done(s, st);
}

int trackled_store_lock_release_session(TrackledStore *s, int64_t session, const char *author)
{
        static const char sql_list[] = "SELECT ticket FROM ticket_lock WHERE session = ?";
        static const char sql_del[] = "DELETE FROM ticket_lock WHERE session = ?";
        _cleanup_reset_ sqlite3_stmt *l = stmt(s, sql_list);
        _cleanup_reset_ sqlite3_stmt *d = stmt(s, sql_del);
        int64_t tickets[16];
        size_t n = 0;
        char sid[32];
        int r;

        if (!l || !d)
                return -EIO;
        sqlite3_bind_int64(l, 1, session);
        while (sqlite3_step(l) == SQLITE_ROW && n < ELEMENTSOF(tickets))
                tickets[n++] = sqlite3_column_int64(l, 0);
        sqlite3_reset(l);
        sqlite3_bind_int64(d, 1, session);
        r = step_done(s, d);
        if (r < 0)
                return r;
        snprintf(sid, sizeof(sid), "session %" PRId64, session);
        for (size_t i = 0; i < n; i++) {
                r = trackled_store_ticket_history(s, tickets[i], author, "lock", sid, NULL,
                                                  "released");
                if (r < 0)
                        return r;
        }
        return (int)n;
}

/* ---- sessions */

int trackled_store_session_new(TrackledStore *s, const TrackledSessionNew *n, int64_t *ret_id)
{
        static const char sql[] =
                "INSERT INTO session (ticket, uid, user, host, tty, shell, cwd, environment, "
                "identity, audit_id, leader_pid, leader_start, keyed, state, started, boot_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);
        int r;

        if (!st)
                return -EIO;
        if (n->ticket > 0)
                sqlite3_bind_int64(st, 1, n->ticket);
        sqlite3_bind_int64(st, 2, n->uid);
        bind_text(st, 3, n->user);
        bind_text(st, 4, n->host);
        bind_text(st, 5, n->tty);
        bind_text(st, 6, n->shell);
        bind_text(st, 7, n->cwd);
        bind_text(st, 8, n->environment ? n->environment : "{}");
        bind_text(st, 9, n->identity);
        if (n->audit_id >= 0)
                sqlite3_bind_int64(st, 10, n->audit_id);
        sqlite3_bind_int64(st, 11, n->leader_pid);
        sqlite3_bind_int64(st, 12, (int64_t)n->leader_start);
        sqlite3_bind_int(st, 13, n->keyed);
        sqlite3_bind_int64(st, 14, now(s));
        if (s->boot_id[0])
                bind_text(st, 15, s->boot_id);
        r = step_done(s, st);
        if (r < 0)
                return r;
        *ret_id = sqlite3_last_insert_rowid(s->db);
        return 0;
}

int trackled_store_session_get(TrackledStore *s, int64_t id, TrackledSessionRow *ret)
{
        static const char sql[] = "SELECT id, ticket, uid, user, identity, audit_id, leader_pid, "
                                  "leader_start, state, boot_id FROM session WHERE id = ?";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);
        TrackledSessionRow row = {};
        int rc;

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return rc_errno(s, rc);
        row.id = sqlite3_column_int64(st, 0);
        row.ticket = sqlite3_column_int64(st, 1);
        row.uid = (uint32_t)sqlite3_column_int64(st, 2);
        snprintf(row.user, sizeof(row.user), "%s", strempty(col_text(st, 3)));
        snprintf(row.identity, sizeof(row.identity), "%s", strempty(col_text(st, 4)));
        row.audit_id = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
        row.leader_pid = (pid_t)sqlite3_column_int64(st, 6);
        row.leader_start = (uint64_t)sqlite3_column_int64(st, 7);
        snprintf(row.state, sizeof(row.state), "%s", strempty(col_text(st, 8)));
        /* Unknown on either side (a row from schema 1): only the leader check decides. */
        row.this_boot = !col_text(st, 9) || !s->boot_id[0] || streq(col_text(st, 9), s->boot_id);
        *ret = row;
        return 0;
}

int trackled_store_session_open_ids(TrackledStore *s, int64_t **ret, size_t *ret_n)
{
        static const char sql[] = "SELECT id FROM session WHERE state = 'open' ORDER BY id";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);
        _cleanup_free_ int64_t *ids = NULL;
        size_t n = 0, cap = 0;

        if (!st)
                return -EIO;
        while (sqlite3_step(st) == SQLITE_ROW) {
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 16;
                        int64_t *ni = realloc(ids, nc * sizeof(*ids));
                        if (!ni)
                                return -ENOMEM;
                        ids = ni;
                        cap = nc;
                }
                ids[n++] = sqlite3_column_int64(st, 0);
        }
        *ret = TAKE_PTR(ids);
        *ret_n = n;
        return 0;
}

int trackled_store_session_set_state(TrackledStore *s, int64_t id, const char *state, bool ended,
                                     const int *exit_status)
{
        static const char sql[] = "UPDATE session SET state = ?, ended = CASE WHEN ? THEN ? "
                                  "ELSE ended END, exit = ? WHERE id = ?";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);

        if (!st)
                return -EIO;
        bind_text(st, 1, state);
        sqlite3_bind_int(st, 2, ended);
        sqlite3_bind_int64(st, 3, now(s));
        if (exit_status)
                sqlite3_bind_int(st, 4, *exit_status);
        sqlite3_bind_int64(st, 5, id);
        return step_done(s, st);
}

int trackled_store_audit_id_used(TrackledStore *s, int64_t audit_id)
{
        /* Unknown boot: every id ever used counts (the safe side). */
        static const char sql[] = "SELECT 1 FROM session WHERE audit_id = ?1 AND "
                                  "(?2 IS NULL OR boot_id IS NULL OR boot_id = ?2)";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);
        int rc;

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, audit_id);
        if (s->boot_id[0])
                bind_text(st, 2, s->boot_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return 1;
        return rc == SQLITE_DONE ? 0 : rc_errno(s, rc);
}

int trackled_store_expire(TrackledStore *s, int64_t older_than, int64_t *ret_n)
{
        static const char *const sql[] = {
                "CREATE TEMP TABLE IF NOT EXISTS expire_ids (id INTEGER PRIMARY KEY)",
                "DELETE FROM temp.expire_ids",
                "INSERT INTO temp.expire_ids SELECT id FROM session WHERE state != 'open' AND "
                "ended IS NOT NULL AND ended < ?1",
                "DELETE FROM command WHERE session IN (SELECT id FROM temp.expire_ids)",
                "DELETE FROM file_event WHERE session IN (SELECT id FROM temp.expire_ids)",
                "DELETE FROM file_change WHERE session IN (SELECT id FROM temp.expire_ids)",
                "DELETE FROM session_note WHERE session IN (SELECT id FROM temp.expire_ids)",
                "DELETE FROM session WHERE id IN (SELECT id FROM temp.expire_ids)",
                /* content no file change refers to any more */
                "DELETE FROM blob WHERE sha256 NOT IN (SELECT before_sha256 FROM file_change "
                "WHERE before_sha256 IS NOT NULL UNION SELECT after_sha256 FROM file_change "
                "WHERE after_sha256 IS NOT NULL)",
        };
        int64_t n = 0;
        int r;

        r = trackled_store_begin(s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(sql); i++) {
                sqlite3_stmt *st = NULL;
                int rc = sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL);

                if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) > 0)
                        sqlite3_bind_int64(st, 1, older_than);
                if (rc == SQLITE_OK)
                        rc = sqlite3_step(st);
                if (i == 7)
                        n = sqlite3_changes(s->db);
                sqlite3_finalize(st);
                if (rc != SQLITE_DONE && rc != SQLITE_OK) {
                        r = rc_errno(s, rc);
                        trackled_store_rollback(s);
                        return r;
                }
        }
        r = trackled_store_commit(s);
        if (r < 0) {
                trackled_store_rollback(s);
                return r;
        }
        if (ret_n)
                *ret_n = n;
        return 0;
}

int trackled_store_note(TrackledStore *s, int64_t session, const char *text)
{
        static const char sql[] = "INSERT INTO session_note (session, time, text) VALUES (?, ?, ?)";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, session);
        sqlite3_bind_int64(st, 2, now(s));
        bind_text(st, 3, text);
        return step_done(s, st);
}

int trackled_store_command(TrackledStore *s, int64_t session, int64_t time, int64_t pid,
                           const char *cwd, int64_t uid, int64_t euid, const char *line,
                           const char *argv_json, const int *exit_status, const char *source)
{
        static const char sql[] = "INSERT INTO command (session, time, pid, cwd, uid, euid, line, "
                                  "argv, exit, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, session);
        sqlite3_bind_int64(st, 2, time > 0 ? time : now(s));
        if (pid > 0)
                sqlite3_bind_int64(st, 3, pid);
        bind_text(st, 4, cwd);
        if (uid >= 0)
                sqlite3_bind_int64(st, 5, uid);
        if (euid >= 0)
                sqlite3_bind_int64(st, 6, euid);
        bind_text(st, 7, line);
        bind_text(st, 8, argv_json);
        if (exit_status)
                sqlite3_bind_int(st, 9, *exit_status);
        bind_text(st, 10, source);
        return step_done(s, st);
}

/* ---- files */

int trackled_store_file_event(TrackledStore *s, int64_t session, pid_t pid, const char *op,
                              const char *path, const char *path2)
{
        static const char sql[] = "INSERT INTO file_event (session, time, pid, op, path, path2) "
                                  "VALUES (?, ?, ?, ?, ?, ?)";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, session);
        sqlite3_bind_int64(st, 2, now(s));
        if (pid > 0)
                sqlite3_bind_int64(st, 3, pid);
        bind_text(st, 4, op);
        bind_text(st, 5, path);
        bind_text(st, 6, isempty(path2) ? NULL : path2);
        return step_done(s, st);
}

int trackled_store_file_has_before(TrackledStore *s, int64_t session, const char *path)
{
        static const char sql[] = "SELECT before_kind FROM file_change WHERE session = ? AND "
                                  "path = ? AND before_kind IS NOT NULL";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);
        int rc;

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, session);
        bind_text(st, 2, path);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return 1;
        return rc == SQLITE_DONE ? 0 : rc_errno(s, rc);
}

static int blob_put(TrackledStore *s, const TrackledSnapshot *snap)
{
        static const char sql[] = "INSERT INTO blob (sha256, size, content) VALUES (?1, ?2, ?3) "
                                  "ON CONFLICT (sha256) DO UPDATE SET content = ?3 "
                                  "WHERE content IS NULL AND ?3 IS NOT NULL";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);

        if (!snap->have_hash)
                return 0;
        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, snap->sha256, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (int64_t)snap->size);
        if (snap->content)
                sqlite3_bind_blob64(st, 3, snap->content, snap->content_len, SQLITE_STATIC);
        return step_done(s, st);
}

static void bind_side(sqlite3_stmt *st, int i, const TrackledSnapshot *snap)
{
        bind_text(st, i, trackled_kind_to_string(snap->kind));
        if (snap->have_hash)
                sqlite3_bind_text(st, i + 1, snap->sha256, -1, SQLITE_TRANSIENT);
        if (snap->have_meta) {
                sqlite3_bind_int64(st, i + 2, (int64_t)snap->size);
                sqlite3_bind_int64(st, i + 3, snap->mode);
                sqlite3_bind_int64(st, i + 4, snap->uid);
                sqlite3_bind_int64(st, i + 5, snap->gid);
        }
}

/* Store one side (before or after) of a path: the blob, then the row, with sql binding
 * ?1 session, ?2 path, ?3 time, ?4.. the side, ?10 redacted, ?11 binary, ?12 over cap. */
static int file_side(TrackledStore *s, const char *sql, int64_t session, const char *path,
                     const TrackledSnapshot *snap)
{
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);
        int r;

        if (!st)
                return -EIO;
        r = blob_put(s, snap);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, session);
        bind_text(st, 2, path);
        sqlite3_bind_int64(st, 3, now(s));
        bind_side(st, 4, snap);
        sqlite3_bind_int(st, 10, snap->redacted);
        sqlite3_bind_int(st, 11, snap->binary);
        sqlite3_bind_int(st, 12, snap->over_cap);
        return step_done(s, st);
}

int trackled_store_file_before(TrackledStore *s, int64_t session, const char *path,
                               const TrackledSnapshot *snap)
{
        static const char sql[] =
                "INSERT INTO file_change (session, path, first, before_kind, before_sha256, "
                "before_size, before_mode, before_uid, before_gid, redacted, binary, over_cap) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
                "ON CONFLICT (session, path) DO UPDATE SET before_kind = ?4, before_sha256 = ?5, "
                "before_size = ?6, before_mode = ?7, before_uid = ?8, before_gid = ?9, "
                "redacted = redacted OR ?10, binary = binary OR ?11, over_cap = over_cap OR ?12 "
                "WHERE before_kind IS NULL";

        return file_side(s, sql, session, path, snap);
}

int trackled_store_file_after(TrackledStore *s, int64_t session, const char *path,
                              const TrackledSnapshot *snap)
{
        /* A path seen only now (no before recorded) gets before "unknown". */
        static const char sql[] =
                "INSERT INTO file_change (session, path, first, before_kind, after_kind, "
                "after_sha256, after_size, after_mode, after_uid, after_gid, redacted, binary, "
                "over_cap) VALUES (?1, ?2, ?3, 'unknown', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
                "ON CONFLICT (session, path) DO UPDATE SET after_kind = ?4, after_sha256 = ?5, "
                "after_size = ?6, after_mode = ?7, after_uid = ?8, after_gid = ?9, "
                "redacted = redacted OR ?10, binary = binary OR ?11, over_cap = over_cap OR ?12";

        return file_side(s, sql, session, path, snap);
}

int trackled_store_file_renamed_from(TrackledStore *s, int64_t session, const char *path,
                                     const char *from)
{
        static const char sql[] = "UPDATE file_change SET renamed_from = ? WHERE session = ? AND "
                                  "path = ?";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);

        if (!st)
                return -EIO;
        bind_text(st, 1, from);
        sqlite3_bind_int64(st, 2, session);
        bind_text(st, 3, path);
        return step_done(s, st);
}

int trackled_store_file_shown(TrackledStore *s, int64_t session, const char *path, bool shown)
{
        static const char sql[] = "UPDATE file_change SET shown = ? WHERE session = ? AND path = ?";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);
        int r;

        if (!st)
                return -EIO;
        sqlite3_bind_int(st, 1, shown);
        sqlite3_bind_int64(st, 2, session);
        bind_text(st, 3, path);
        r = step_done(s, st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

void trackled_strv_free(char **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

int trackled_store_file_paths(TrackledStore *s, int64_t session, char ***ret, size_t *ret_n)
{
        static const char sql[] = "SELECT path FROM file_change WHERE session = ? ORDER BY path";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);
        char **v = NULL;
        size_t n = 0, cap = 0;

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, session);
        while (sqlite3_step(st) == SQLITE_ROW) {
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 16;
                        char **nv = realloc(v, nc * sizeof(*v));
                        if (!nv)
                                goto oom;
                        v = nv;
                        cap = nc;
                }
                v[n] = strdup(strempty(col_text(st, 0)));
                if (!v[n])
                        goto oom;
                n++;
        }
        *ret = v;
        *ret_n = n;
        return 0;
oom:
        trackled_strv_free(v, n);
        return -ENOMEM;
}

static void side_from_row(sqlite3_stmt *st, int i, TrackledSide *side)
{
        const char *k = col_text(st, i);

        *side = (TrackledSide){.kind = k ? trackled_kind_from_string(k) : TRACKLED_KIND_UNKNOWN};
        if (col_text(st, i + 1)) {
                side->have_hash = true;
                snprintf(side->sha256, sizeof(side->sha256), "%s", col_text(st, i + 1));
        }
        if (sqlite3_column_type(st, i + 3) != SQLITE_NULL) {
                side->have_meta = true;
                side->size = (uint64_t)sqlite3_column_int64(st, i + 2);
                side->mode = (uint32_t)sqlite3_column_int64(st, i + 3);
                side->uid = (uint32_t)sqlite3_column_int64(st, i + 4);
                side->gid = (uint32_t)sqlite3_column_int64(st, i + 5);
        }
}

/* The session's file paths into the search index (file_fts), once. */
static int index_files(TrackledStore *s, int64_t session)
{
        static const char sql_index[] = "INSERT INTO file_fts(rowid, path) SELECT id, path "
                                        "FROM file_change WHERE session = ? AND fts = 0";
        static const char sql_mark[] =
                "UPDATE file_change SET fts = 1 WHERE session = ? AND fts = 0";
        const char *const sql[] = {sql_index, sql_mark};

        for (size_t i = 0; i < ELEMENTSOF(sql); i++) {
                _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql[i]);
                int r;

                if (!st)
                        return -EIO;
                sqlite3_bind_int64(st, 1, session);
                r = step_done(s, st);
                if (r < 0)
                        return r;
        }
        return 0;
}

int trackled_store_session_fold(TrackledStore *s, int64_t session)
{
        static const char sql_rows[] =
                "SELECT id, path, renamed_from, before_kind, before_sha256, before_size, "
                "before_mode, before_uid, before_gid, after_kind, after_sha256, after_size, "
                "after_mode, after_uid, after_gid FROM file_change WHERE session = ? ORDER BY id";
        static const char sql_set[] = "UPDATE file_change SET change = ?, change_from = ?, "
                                      "shown = 1 WHERE id = ?";
        /* a rename's before is the state of its origin */
        static const char sql_rename_before[] =
                "UPDATE file_change SET (before_kind, before_sha256, before_size, before_mode, "
                "before_uid, before_gid) = (SELECT o.before_kind, o.before_sha256, "
                "o.before_size, o.before_mode, o.before_uid, o.before_gid FROM file_change o "
                "WHERE o.session = file_change.session AND o.path = file_change.change_from) "
                "WHERE session = ? AND change = 'renamed'";
        _cleanup_reset_ sqlite3_stmt *rb = stmt(s, sql_rename_before);
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql_rows);
        _cleanup_reset_ sqlite3_stmt *up = stmt(s, sql_set);
        TrackledFileRow *rows = NULL;
        size_t n = 0, cap = 0;
        int r = 0;

        if (!st || !up || !rb)
                return -EIO;
        sqlite3_bind_int64(st, 1, session);
        while (sqlite3_step(st) == SQLITE_ROW) {
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 16;
                        TrackledFileRow *nr = realloc(rows, nc * sizeof(*rows));
                        if (!nr) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        rows = nr;
                        cap = nc;
                }
                rows[n] = (TrackledFileRow){.id = sqlite3_column_int64(st, 0)};
                rows[n].path = strdup(strempty(col_text(st, 1)));
                rows[n].renamed_from = col_text(st, 2) ? strdup(col_text(st, 2)) : NULL;
                n++;
                if (!rows[n - 1].path || (col_text(st, 2) && !rows[n - 1].renamed_from)) {
                        r = -ENOMEM;
                        goto finish;
                }
                side_from_row(st, 3, &rows[n - 1].before);
                side_from_row(st, 9, &rows[n - 1].after);
                /* never read afterwards (session ended early): same as before */
                if (!col_text(st, 9))
                        rows[n - 1].after = rows[n - 1].before;
        }
        r = trackled_change_fold(rows, n);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < n; i++) {
                bind_text(up, 1, rows[i].change ? rows[i].change : "none");
                bind_text(up, 2, rows[i].from);
                sqlite3_bind_int64(up, 3, rows[i].id);
                r = step_done(s, up);
                sqlite3_reset(up);
                sqlite3_clear_bindings(up);
                if (r < 0)
                        goto finish;
        }
        sqlite3_bind_int64(rb, 1, session);
        r = step_done(s, rb);
        if (r >= 0)
                r = index_files(s, session);
finish:
        trackled_file_rows_free(rows, n);
        return r;
}

/* ---- JSON views */

static json_object *side_json(sqlite3_stmt *st, int i)
{
        const char *k = col_text(st, i);
        TrackledKind kind = k ? trackled_kind_from_string(k) : TRACKLED_KIND_UNKNOWN;
        json_object *o;
        char mode[16];

        if (kind == TRACKLED_KIND_ABSENT || kind == TRACKLED_KIND_UNKNOWN)
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "sha256", json_text_or_null(st, i + 1));
        json_object_object_add(o, "size", json_int_or_null(st, i + 2));
        if (sqlite3_column_type(st, i + 3) != SQLITE_NULL) {
                snprintf(mode, sizeof(mode), "%04o",
                         (unsigned)sqlite3_column_int64(st, i + 3) & 07777);
                json_object_object_add(o, "mode", json_object_new_string(mode));
        } else
                json_object_object_add(o, "mode", NULL);
        json_object_object_add(o, "uid", json_int_or_null(st, i + 4));
        json_object_object_add(o, "gid", json_int_or_null(st, i + 5));
        return o;
}

static const char *type_name(const char *kind)
{
        TrackledKind k = trackled_kind_from_string(kind);

        switch (k) {
        case TRACKLED_KIND_FILE:
                return "file";
        case TRACKLED_KIND_DIRECTORY:
                return "directory";
        case TRACKLED_KIND_SYMLINK:
                return "symlink";
        default:
                return "other";
        }
}

static const char sql_blob[] = "SELECT content FROM blob WHERE sha256 = ?";

/* Content of a blob, or NULL (not kept). *ret_ok says whether the side can be diffed. */
static uint8_t *blob_get(TrackledStore *s, const char *sha, size_t *ret_len, bool *ret_ok)
{
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql_blob);
        const void *p;
        uint8_t *c;
        int n;

        *ret_ok = false;
        if (!st || !sha)
                return NULL;
        sqlite3_bind_text(st, 1, sha, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL)
                return NULL;
        p = sqlite3_column_blob(st, 0);
        n = sqlite3_column_bytes(st, 0);
        c = malloc((size_t)n + 1);
        if (!c)
                return NULL;
        if (n > 0)
                memcpy(c, p, (size_t)n);
        *ret_len = (size_t)n;
        *ret_ok = true;
        return c;
}

static json_object *diff_json(TrackledStore *s, sqlite3_stmt *st, const char *path)
{
        _cleanup_free_ uint8_t *a = NULL, *b = NULL;
        _cleanup_free_ char *d = NULL;
        const char *bk = col_text(st, 4), *ak = col_text(st, 10);
        size_t al = 0, bl = 0;
        bool a_ok = true, b_ok = true;

        /* redacted, binary, over_cap */
        if (sqlite3_column_int(st, 16) || sqlite3_column_int(st, 17) || sqlite3_column_int(st, 18))
                return NULL;
        if (!streq_ptr(bk, "file") && !streq_ptr(bk, "absent"))
                return NULL;
        if (!streq_ptr(ak, "file") && !streq_ptr(ak, "absent"))
                return NULL;
        if (streq_ptr(bk, "file"))
                a = blob_get(s, col_text(st, 5), &al, &a_ok);
        if (streq_ptr(ak, "file"))
                b = blob_get(s, col_text(st, 11), &bl, &b_ok);
        if (!a_ok || !b_ok)
                return NULL;
        if (trackled_diff(path, a, al, b, bl, &d) < 0)
                return NULL;
        return json_object_new_string(d);
}

static const char sql_files[] =
        "SELECT path, change, change_from, shown, before_kind, before_sha256, before_size, "
        "before_mode, before_uid, before_gid, after_kind, after_sha256, after_size, after_mode, "
        "after_uid, after_gid, redacted, binary, over_cap FROM file_change "
        "WHERE session = ? AND change IS NOT NULL AND change != 'none' ORDER BY path";

static json_object *files_json(TrackledStore *s, int64_t session)
{
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql_files);
        json_object *a = json_object_new_array();

        if (!st)
                return a;
        sqlite3_bind_int64(st, 1, session);
        while (sqlite3_step(st) == SQLITE_ROW) {
                json_object *o = json_object_new_object();
                const char *path = strempty(col_text(st, 0));
                const char *ak = col_text(st, 10);

                json_object_object_add(o, "path", json_object_new_string(path));
                json_object_object_add(o, "change", json_text_or_null(st, 1));
                if (col_text(st, 2))
                        json_object_object_add(o, "from", json_text_or_null(st, 2));
                json_object_object_add(
                        o, "type",
                        json_object_new_string(
                                type_name(streq_ptr(ak, "absent") || !ak ? col_text(st, 4) : ak)));
                json_object_object_add(o, "shown",
                                       json_object_new_boolean(sqlite3_column_int(st, 3)));
                json_object_object_add(o, "redacted",
                                       json_object_new_boolean(sqlite3_column_int(st, 16)));
                json_object_object_add(o, "binary",
                                       json_object_new_boolean(sqlite3_column_int(st, 17)));
                json_object_object_add(o, "before", side_json(st, 4));
                json_object_object_add(o, "after", side_json(st, 10));
                json_object_object_add(o, "diff", diff_json(s, st, path));
                json_object_array_add(a, o);
        }
        return a;
}

static json_object *commands_json(TrackledStore *s, int64_t session)
{
        /* Typed lines arrive at the session's end with their second only: within one second a
         * typed line comes before the programs it ran. */
        static const char sql[] = "SELECT time, pid, cwd, uid, euid, line, argv, exit, source "
                                  "FROM command WHERE session = ? "
                                  "ORDER BY time, source = 'exec', id";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);
        json_object *a = json_object_new_array();

        if (!st)
                return a;
        sqlite3_bind_int64(st, 1, session);
        while (sqlite3_step(st) == SQLITE_ROW) {
                json_object *o = json_object_new_object();
                const char *argv = col_text(st, 6);

                json_object_object_add(o, "time", json_time(sqlite3_column_int64(st, 0)));
                json_object_object_add(o, "pid", json_int_or_null(st, 1));
                json_object_object_add(o, "cwd", json_text_or_null(st, 2));
                json_object_object_add(o, "uid", json_int_or_null(st, 3));
                json_object_object_add(o, "euid", json_int_or_null(st, 4));
                json_object_object_add(o, "line", json_text_or_null(st, 5));
                json_object_object_add(o, "argv", argv ? json_tokener_parse(argv) : NULL);
                json_object_object_add(o, "exit", json_int_or_null(st, 7));
                json_object_object_add(o, "source", json_text_or_null(st, 8));
                json_object_array_add(a, o);
        }
        return a;
}

static json_object *notes_json(TrackledStore *s, int64_t session)
{
        static const char sql[] = "SELECT text FROM session_note WHERE session = ? ORDER BY id";
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql);
        json_object *a = json_object_new_array();

        if (!st)
                return a;
        sqlite3_bind_int64(st, 1, session);
        while (sqlite3_step(st) == SQLITE_ROW)
                json_object_array_add(a, json_text_or_null(st, 0));
        return a;
}

static const char sql_session_row[] =
        "SELECT id, ticket, user, uid, host, tty, started, ended, exit, identity, state, "
        "environment, annotation FROM session WHERE (?1 IS NULL AND id = ?2) OR "
        "(?1 IS NOT NULL AND (?1 = 0 OR ticket = ?1)) ORDER BY id";

static json_object *session_head_json(sqlite3_stmt *st)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "id", json_object_new_int64(sqlite3_column_int64(st, 0)));
        json_object_object_add(o, "ticket", json_int_or_null(st, 1));
        json_object_object_add(o, "user", json_text_or_null(st, 2));
        json_object_object_add(o, "uid", json_int_or_null(st, 3));
        json_object_object_add(o, "host", json_text_or_null(st, 4));
        json_object_object_add(o, "tty", json_text_or_null(st, 5));
        json_object_object_add(o, "started", json_time_or_null(st, 6));
        json_object_object_add(o, "ended", json_time_or_null(st, 7));
        json_object_object_add(o, "exit", json_int_or_null(st, 8));
        json_object_object_add(o, "identity", json_text_or_null(st, 9));
        json_object_object_add(o, "state", json_text_or_null(st, 10));
        return o;
}

int trackled_store_session_json(TrackledStore *s, int64_t id, json_object **ret)
{
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql_session_row);
        json_object *o, *env;
        int rc;

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 2, id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return rc_errno(s, rc);
        o = session_head_json(st);
        env = col_text(st, 11) ? json_tokener_parse(col_text(st, 11)) : NULL;
        json_object_object_add(o, "environment", env ? env : json_object_new_object());
        json_object_object_add(o, "annotation", json_object_new_string(strempty(col_text(st, 12))));
        json_object_object_add(o, "missing", notes_json(s, id));
        json_object_object_add(o, "commands", commands_json(s, id));
        json_object_object_add(o, "files", files_json(s, id));
        *ret = o;
        return 0;
}

int trackled_store_session_list(TrackledStore *s, int64_t ticket, json_object **ret)
{
        _cleanup_reset_ sqlite3_stmt *st = stmt(s, sql_session_row);
        json_object *a;
        int rc;

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, ticket > 0 ? ticket : 0);
        a = json_object_new_array();
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                json_object_array_add(a, session_head_json(st));
        if (rc != SQLITE_DONE) {
                json_object_put(a);
                return rc_errno(s, rc);
        }
        *ret = a;
        return 0;
}

sqlite3_stmt *trackled_store_stmt(TrackledStore *s, const char *sql)
{
        return stmt(s, sql);
}

/* ---- for trackled-store-admin.c */

sqlite3 *trackled_store_sqlite(TrackledStore *s)
{
        return s->db;
}

int64_t trackled_store_now(TrackledStore *s)
{
        return now(s);
}
