/* test-store.c - trackle.db: migration from empty, tickets, locks, blob dedup, before/after
 * states with folding, redaction and cap in session.show. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "state.h"
#include "test.h"
#include "trackled-store.h"

static TrackledSnapshot text(const char *s, bool redacted)
{
        TrackledSnapshot x = {.kind = TRACKLED_KIND_FILE,
                              .have_meta = true,
                              .mode = 0644,
                              .size = strlen(s),
                              .have_hash = true,
                              .redacted = redacted};
        trackled_sha256_hex((const uint8_t *)s, strlen(s), x.sha256);
        if (!redacted) {
                x.content = (uint8_t *)strdup(s);
                x.content_len = strlen(s);
        }
        return x;
}

static long long count(const char *db, const char *sql)
{
        sqlite3 *h;
        sqlite3_stmt *st;
        long long v = -1;

        if (sqlite3_open(db, &h) != SQLITE_OK)
                return -2;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
                if (sqlite3_step(st) == SQLITE_ROW)
                        v = sqlite3_column_int64(st, 0);
                sqlite3_finalize(st);
        }
        sqlite3_close(h);
        return v;
}

static json_object *file_of(json_object *session, const char *path)
{
        json_object *files = json_object_object_get(session, "files");
        for (size_t i = 0; i < json_object_array_length(files); i++) {
                json_object *f = json_object_array_get_idx(files, i);
                if (strcmp(json_object_get_string(json_object_object_get(f, "path")), path) == 0)
                        return f;
        }
        return NULL;
}

int main(void)
{
        char dir[] = "/tmp/test-trackle-store-XXXXXX", db[256];
        TrackledStore *s;
        TrackledSessionRow row;
        json_object *o, *f;
        int64_t t1, t2, sid, holder, since;
        uint32_t uid;

        if (!mkdtemp(dir))
                TEST_SKIP("no temporary directory");
        if (sodium_init() < 0)
                TEST_SKIP("libsodium");
        snprintf(db, sizeof(db), "%s/trackle.db", dir);
        ASSERT_EQ_INT(trackled_store_open(db, &s), 0);
        trackled_store_set_now(s, 1796424872);

        /* tickets and history */
        ASSERT_EQ_INT(trackled_store_ticket_new(s, "alice", "Fix nginx", NULL, &t1), 0);
        ASSERT_EQ_INT(trackled_store_ticket_new(s, "bob", "Rotate keys", "all of them", &t2), 0);
        ASSERT_EQ_INT(trackled_store_ticket_json(s, t1, true, &o), 0);
        ASSERT_STREQ(json_object_get_string(json_object_object_get(o, "status")), "new");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(o, "created")),
                     "2026-12-04T22:54:32Z");
        ASSERT_EQ_INT(json_object_array_length(json_object_object_get(o, "history")), 1);
        ASSERT_TRUE(json_object_object_get(o, "lock") == NULL);
        json_object_put(o);
        ASSERT_EQ_INT(trackled_store_ticket_json(s, 99, false, &o), -ENOENT);

        /* a session and its lock */
        TrackledSessionNew n = {.ticket = t1,
                                .uid = 1000,
                                .user = "alice",
                                .host = "web1",
                                .identity = "ancestry",
                                .audit_id = -1,
                                .leader_pid = 4242,
                                .leader_start = 77};
        ASSERT_EQ_INT(trackled_store_session_new(s, &n, &sid), 0);
        ASSERT_EQ_INT(trackled_store_lock_get(s, t1, &holder, &uid, &since), -ENOENT);
        ASSERT_EQ_INT(trackled_store_lock_set(s, t1, sid, 1000), 0);
        ASSERT_EQ_INT(trackled_store_lock_get(s, t1, &holder, &uid, &since), 0);
        ASSERT_EQ_INT(holder, sid);
        ASSERT_EQ_INT(uid, 1000);
        ASSERT_EQ_INT(trackled_store_session_get(s, sid, &row), 0);
        ASSERT_STREQ(row.state, "open");
        ASSERT_EQ_INT(row.leader_start, 77);

        /* files: a modified one, a redacted one, a temp file, one created, a rename */
        TrackledSnapshot a = text("one\ntwo\n", false), a2 = text("one\n2\n", false);
        TrackledSnapshot k = text("secret\n", true), k2 = text("secret2\n", true);
        TrackledSnapshot dup = text("one\ntwo\n", false);
        TrackledSnapshot none = {.kind = TRACKLED_KIND_ABSENT};
        ASSERT_EQ_INT(trackled_store_file_before(s, sid, "/etc/a", &a), 0);
        ASSERT_EQ_INT(trackled_store_file_has_before(s, sid, "/etc/a"), 1);
        /* first before wins */
        ASSERT_EQ_INT(trackled_store_file_before(s, sid, "/etc/a", &a2), 0);
        ASSERT_EQ_INT(trackled_store_file_before(s, sid, "/etc/a.bak", &dup), 0);
        ASSERT_EQ_INT(trackled_store_file_before(s, sid, "/etc/k.key", &k), 0);
        ASSERT_EQ_INT(trackled_store_file_before(s, sid, "/etc/4913", &none), 0);
        ASSERT_EQ_INT(trackled_store_file_before(s, sid, "/etc/new", &none), 0);
        ASSERT_EQ_INT(trackled_store_file_after(s, sid, "/etc/a", &a2), 0);
        ASSERT_EQ_INT(trackled_store_file_after(s, sid, "/etc/a.bak", &none), 0);
        ASSERT_EQ_INT(trackled_store_file_after(s, sid, "/etc/k.key", &k2), 0);
        ASSERT_EQ_INT(trackled_store_file_after(s, sid, "/etc/4913", &none), 0);
        ASSERT_EQ_INT(trackled_store_file_after(s, sid, "/etc/new", &dup), 0);
        ASSERT_EQ_INT(trackled_store_file_renamed_from(s, sid, "/etc/new", "/etc/a.bak"), 0);
        /* blob dedup: "one\ntwo\n" stored once */
        ASSERT_EQ_INT(count(db, "SELECT COUNT(*) FROM blob"), 4);
        ASSERT_EQ_INT(count(db, "SELECT COUNT(*) FROM blob WHERE content IS NULL"), 2);

        ASSERT_EQ_INT(trackled_store_session_fold(s, sid), 0);
        ASSERT_EQ_INT(trackled_store_session_set_state(s, sid, "ended", true, &(int){0}), 0);
        ASSERT_EQ_INT(trackled_store_lock_release_session(s, sid, "alice"), 1);
        ASSERT_EQ_INT(trackled_store_lock_get(s, t1, NULL, NULL, NULL), -ENOENT);
        ASSERT_EQ_INT(trackled_store_session_json(s, sid, &o), 0);
        ASSERT_EQ_INT(json_object_array_length(json_object_object_get(o, "files")), 3);
        f = file_of(o, "/etc/a");
        ASSERT_TRUE(f != NULL);
        ASSERT_STREQ(json_object_get_string(json_object_object_get(f, "change")), "modified");
        ASSERT_TRUE(strstr(json_object_get_string(json_object_object_get(f, "diff")),
                           "--- a/etc/a\n+++ b/etc/a\n") != NULL);
        f = file_of(o, "/etc/k.key");
        ASSERT_TRUE(f && json_object_get_boolean(json_object_object_get(f, "redacted")));
        ASSERT_TRUE(f && json_object_object_get(f, "diff") == NULL);
        f = file_of(o, "/etc/new");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(f, "change")), "renamed");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(f, "from")), "/etc/a.bak");
        ASSERT_TRUE(file_of(o, "/etc/4913") == NULL);
        ASSERT_STREQ(json_object_get_string(json_object_object_get(o, "state")), "ended");
        json_object_put(o);
        ASSERT_EQ_INT(trackled_store_file_shown(s, sid, "/etc/a", false), 0);
        ASSERT_EQ_INT(trackled_store_file_shown(s, sid, "/etc/zzz", false), -ENOENT);

        trackled_snapshot_done(&a);
        trackled_snapshot_done(&a2);
        trackled_snapshot_done(&dup);
        trackled_store_free(s);

        /* reopening migrates nothing and keeps everything */
        ASSERT_EQ_INT(trackled_store_open(db, &s), 0);
        ASSERT_EQ_INT(trackled_store_ticket_list(s, "new", &o), 0);
        ASSERT_EQ_INT(json_object_array_length(o), 2);
        json_object_put(o);

        /* audit session ids are unique per boot: the session of this boot holds 555 */
        TrackledSessionNew na = {.uid = 1000,
                                 .user = "alice",
                                 .host = "web1",
                                 .identity = "audit",
                                 .audit_id = 555,
                                 .leader_pid = 4343,
                                 .leader_start = 78};
        int64_t sid2, sid3, expired = -1;
        ASSERT_EQ_INT(trackled_store_audit_id_used(s, 555), 0);
        ASSERT_EQ_INT(trackled_store_session_new(s, &na, &sid2), 0);
        ASSERT_EQ_INT(trackled_store_audit_id_used(s, 555), 1);
        ASSERT_EQ_INT(trackled_store_session_get(s, sid2, &row), 0);
        ASSERT_TRUE(row.this_boot);
        if (trackled_store_boot_id(s)[0]) {
                /* both sessions carry this boot's id; the same audit id from an earlier boot
                 * does not count */
                ASSERT_EQ_INT(count(db, "SELECT COUNT(*) FROM session WHERE boot_id IS NOT NULL"),
                              2);
                ASSERT_EQ_INT(count(db, "UPDATE session SET boot_id = 'earlier' WHERE audit_id = "
                                        "555 RETURNING 1"),
                              1);
                ASSERT_EQ_INT(trackled_store_audit_id_used(s, 555), 0);
                ASSERT_EQ_INT(count(db, "UPDATE session SET boot_id = (SELECT boot_id FROM "
                                        "session WHERE id = 1) WHERE audit_id = 555 RETURNING 1"),
                              1);
        }

        /* Retention=: only sessions that ended before the limit go, with their content */
        trackled_store_set_now(s, 1796424872 + 1000);
        ASSERT_EQ_INT(trackled_store_session_new(s, &na, &sid3) < 0, 1); /* 555 is taken */
        na.audit_id = 556;
        ASSERT_EQ_INT(trackled_store_session_new(s, &na, &sid3), 0);
        ASSERT_EQ_INT(trackled_store_session_set_state(s, sid3, "ended", true, &(int){0}), 0);
        ASSERT_EQ_INT(trackled_store_expire(s, 1796424872 + 500, &expired), 0);
        ASSERT_EQ_INT(expired, 1); /* sid (ended at +0); sid2 is open, sid3 ended at +1000 */
        ASSERT_EQ_INT(trackled_store_session_get(s, sid, &row), -ENOENT);
        ASSERT_EQ_INT(trackled_store_session_get(s, sid2, &row), 0);
        ASSERT_EQ_INT(trackled_store_session_get(s, sid3, &row), 0);
        ASSERT_EQ_INT(count(db, "SELECT COUNT(*) FROM file_change"), 0);
        ASSERT_EQ_INT(count(db, "SELECT COUNT(*) FROM blob"), 0);
        trackled_store_free(s);
        ASSERT_EQ_INT(count(db, "PRAGMA user_version"), (int)trackled_store_n_migrations);
        ASSERT_EQ_INT(count(db,
                            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('account', "
                            "'wiki_page', 'wiki_version', 'milestone', 'enum_value', "
                            "'mail_queue', 'confirm_token', 'web_session', 'ticket_subscriber')"),
                      9);

        /* The database and its WAL files, then the directory. */
        static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
                char name[300];
                snprintf(name, sizeof(name), "%s%s", db, suffixes[i]);
                (void)unlink(name);
        }
        (void)rmdir(dir);
        return test_result();
}
