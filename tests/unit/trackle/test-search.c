/* test-search.c - full-text search over every kind of object, filtered by viewer, and
 * back-links kept up to date by triggers whoever writes the text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "test.h"
#include "trackled-search.h"
#include "trackled-store.h"

static void exec(TrackledStore *s, const char *sql)
{
        char *err = NULL;
        if (sqlite3_exec(trackled_store_sqlite(s), sql, NULL, NULL, &err) != SQLITE_OK)
                TEST_FAIL("%s: %s", sql, err);
        sqlite3_free(err);
}

/* "kind:key kind:key ..." of a search */
static void hits(TrackledStore *s, const char *q, bool admin, char *out, size_t size)
{
        json_object *a = NULL;
        size_t o = 0;

        out[0] = 0;
        if (trackled_search(s, q, admin, 10, &a) < 0) {
                snprintf(out, size, "error");
                return;
        }
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *h = json_object_array_get_idx(a, i), *k;
                const char *kind = json_object_get_string(json_object_object_get(h, "kind"));

                if (!json_object_object_get_ex(h, "ticket", &k) &&
                    !json_object_object_get_ex(h, "session", &k) &&
                    !json_object_object_get_ex(h, "name", &k))
                        json_object_object_get_ex(h, "path", &k);
                o += snprintf(out + o, size - o, "%s%s:%s", o ? " " : "", kind,
                              json_object_get_string(k));
        }
        json_object_put(a);
}

#define CHECK_HITS(q, admin, expected)                                                             \
        do {                                                                                       \
                char _hits[1024];                                                                  \
                hits(s, q, admin, _hits, sizeof(_hits));                                           \
                ASSERT_STREQ(_hits, expected);                                                     \
        } while (0)

static void back(TrackledStore *s, WikiLinkKind kind, const char *key, bool admin, char *out,
                 size_t size)
{
        json_object *a = NULL;
        size_t o = 0;

        out[0] = 0;
        if (trackled_links_back(s, kind, key, admin, &a) < 0) {
                snprintf(out, size, "error");
                return;
        }
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *h = json_object_array_get_idx(a, i);
                o += snprintf(out + o, size - o, "%s%s:%s", o ? " " : "",
                              json_object_get_string(json_object_object_get(h, "kind")),
                              json_object_get_string(json_object_object_get(h, "key")));
        }
        json_object_put(a);
}

#define CHECK_BACK(kind, key, admin, expected)                                                     \
        do {                                                                                       \
                char _back[1024];                                                                  \
                back(s, kind, key, admin, _back, sizeof(_back));                                   \
                ASSERT_STREQ(_back, expected);                                                     \
        } while (0)

int main(void)
{
        char dir[] = "/tmp/test-trackle-search-XXXXXX", db[256];
        TrackledStore *s;
        int64_t t1, t2, sid;
        char *q;

        /* the query: every word a phrase, quotes doubled, nothing else is syntax */
        ASSERT_EQ_INT(trackled_search_query("main.cf  OR \"x NEAR(", &q), 0);
        ASSERT_STREQ(q, "\"main.cf\" \"OR\" \"\"\"x\" \"NEAR(\"");
        free(q);
        ASSERT_EQ_INT(trackled_search_query("  ", &q), -EINVAL);
        ASSERT_EQ_INT(trackled_search_query("a b c d e f g h i j k l m n o p q", &q), -EINVAL);

        if (!mkdtemp(dir))
                TEST_SKIP("no temporary directory");
        snprintf(db, sizeof(db), "%s/trackle.db", dir);
        ASSERT_EQ_INT(trackled_store_open(db, &s), 0);

        ASSERT_EQ_INT(trackled_store_ticket_new(s, "alice@example.org", "Mailman bounces",
                                                "Postfix rejects mail, see wiki:MailmanSetup", &t1),
                      0);
        ASSERT_EQ_INT(trackled_store_ticket_new(s, "mallory@example.org", "Spam mailman",
                                                "unconfirmed, links #1", &t2),
                      0);
        exec(s, "UPDATE ticket SET status = 'unconfirmed' WHERE id = 2");
        ASSERT_EQ_INT(trackled_store_ticket_history(s, t1, "melvin", "comment", NULL, NULL,
                                                    "Changed smtpd_recipient_restrictions, "
                                                    "see session:1"),
                      0);
        TrackledSessionNew n = {.ticket = t1,
                                .uid = 0,
                                .user = "melvin",
                                .host = "mail1",
                                .identity = "ancestry",
                                .audit_id = -1,
                                .leader_pid = 1,
                                .leader_start = 1};
        ASSERT_EQ_INT(trackled_store_session_new(s, &n, &sid), 0);
        ASSERT_EQ_INT(trackled_store_command(s, sid, 1796424872, 7, "/etc/postfix", 0, 0,
                                             "postconf -e smtpd_recipient_restrictions=x",
                                             "[\"postconf\",\"-e\"]", NULL, "exec"),
                      0);
        TrackledSnapshot snap = {.kind = TRACKLED_KIND_FILE, .have_meta = true, .mode = 0644};
        ASSERT_EQ_INT(trackled_store_file_after(s, sid, "/etc/postfix/main.cf", &snap), 0);
        /* file paths are indexed when the session ends (its fold), not row by row */
        ASSERT_EQ_INT(trackled_store_begin(s), 0);
        ASSERT_EQ_INT(trackled_store_session_fold(s, sid), 0);
        ASSERT_EQ_INT(trackled_store_commit(s), 0);
        exec(s, "UPDATE session SET annotation = 'Wendy: the restrictions for #1' WHERE id = 1");
        exec(s, "INSERT INTO wiki_page (name, version, changed) VALUES ('MailmanSetup', 1, 0);"
                "INSERT INTO wiki_version VALUES ('MailmanSetup', 1, 0, 'wendy', "
                "'How mailman works: session:1 and ticket:1, file:/etc/postfix/main.cf', '');"
                "INSERT INTO wiki_page (name, version, changed, private) VALUES "
                "('Secrets', 1, 0, 1);"
                "INSERT INTO wiki_version VALUES ('Secrets', 1, 0, 'wendy', "
                "'mailman admin password is in the safe, #1', '');");

        CHECK_HITS("mailman", false, "ticket:1 wiki:MailmanSetup");
        CHECK_HITS("mailman", true, "ticket:2 ticket:1 wiki:Secrets wiki:MailmanSetup");
        CHECK_HITS("smtpd_recipient_restrictions", false, "comment:1");
        CHECK_HITS("smtpd_recipient_restrictions", true, "comment:1 command:1");
        CHECK_HITS("main.cf", false, "wiki:MailmanSetup");
        CHECK_HITS("main.cf", true, "wiki:MailmanSetup file:/etc/postfix/main.cf");
        CHECK_HITS("restrictions wendy", true, "annotation:1");

        /* a session that has not ended: its paths are not in the index yet, and deleting its
         * rows (Retention=, a failed session) hands FTS5 nothing it never indexed */
        int64_t sid2 = 0;
        ASSERT_EQ_INT(trackled_store_session_new(s, &n, &sid2), 0);
        ASSERT_EQ_INT(trackled_store_file_after(s, sid2, "/etc/aliases.db", &snap), 0);
        CHECK_HITS("aliases", true, "");
        exec(s, "DELETE FROM file_change WHERE session = 2;"
                "INSERT INTO file_fts(file_fts) VALUES ('integrity-check');");
        ASSERT_EQ_INT(trackled_store_session_new(s, &n, &sid2), 0);
        ASSERT_EQ_INT(trackled_store_file_after(s, sid2, "/etc/aliases.db", &snap), 0);
        ASSERT_EQ_INT(trackled_store_begin(s), 0);
        ASSERT_EQ_INT(trackled_store_session_fold(s, sid2), 0);
        ASSERT_EQ_INT(trackled_store_commit(s), 0);
        CHECK_HITS("aliases", true, "file:/etc/aliases.db");
        exec(s, "DELETE FROM file_change WHERE session = 3;"
                "INSERT INTO file_fts(file_fts) VALUES ('integrity-check');");
        CHECK_HITS("aliases", true, "");
        CHECK_HITS("\"unbalanced NEAR(", true, "");

        /* a wiki edit replaces the page's text in the index */
        exec(s, "INSERT INTO wiki_version VALUES ('MailmanSetup', 2, 1, 'wendy', "
                "'Replaced text about exim', '');"
                "UPDATE wiki_page SET version = 2 WHERE name = 'MailmanSetup'");
        CHECK_HITS("exim", false, "wiki:MailmanSetup");
        CHECK_HITS("postfix", false, "ticket:1");

        /* back-links: tickets, sessions and pages that mention an object */
        CHECK_BACK(WIKI_LINK_TICKET, "1", true, "session:1 ticket:2 wiki:Secrets");
        CHECK_BACK(WIKI_LINK_TICKET, "1", false, "");
        CHECK_BACK(WIKI_LINK_SESSION, "1", true, "ticket:1");
        CHECK_BACK(WIKI_LINK_WIKI, "MailmanSetup", false, "ticket:1");
        exec(s, "UPDATE ticket SET description = 'nothing' WHERE id = 1");
        CHECK_BACK(WIKI_LINK_WIKI, "MailmanSetup", false, "");
        exec(s, "UPDATE wiki_page SET private = 0 WHERE name = 'Secrets'");
        CHECK_BACK(WIKI_LINK_TICKET, "1", false, "wiki:Secrets");

        trackled_store_free(s);
        unlink(db);
        {
                char p[300];
                snprintf(p, sizeof(p), "%s-wal", db);
                unlink(p);
                snprintf(p, sizeof(p), "%s-shm", db);
                unlink(p);
        }
        rmdir(dir);
        return test_result();
}
