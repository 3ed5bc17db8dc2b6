/* test-store-admin.c - trackled-store-admin.c: ticket updates with history (enumeration
 * checks, stale edits, one time for all rows), enumerations and renames carried into tickets,
 * milestones, wiki versions byte for byte, settings with expect, the check and a backup. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "trackled-store-admin.h"

static const char *str(json_object *o, const char *key)
{
        return json_object_get_string(json_object_object_get(o, key));
}

int main(void)
{
        char dir[] = "/tmp/test-trackle-store-admin-XXXXXX", db[256], bk[256];
        TrackledStore *s;
        json_object *o, *a;
        const char *field = NULL, *missing = NULL;
        int64_t id, n, v, last;
        uint64_t size;
        int fd;

        if (!mkdtemp(dir))
                TEST_SKIP("no temporary directory");
        snprintf(db, sizeof(db), "%s/trackle.db", dir);
        snprintf(bk, sizeof(bk), "%s/backup.db", dir);
        ASSERT_EQ_INT(trackled_store_open(db, &s), 0);
        trackled_store_set_now(s, 1796424872);
        ASSERT_EQ_INT(trackled_store_ticket_new(s, "alice", "mail bounces", "", &id), 0);

        /* enumerations: anything goes while empty, then only their values */
        TrackledFieldChange c1[] = {{"component", "anything"}, {"owner", "bob"}};
        ASSERT_EQ_INT(trackled_store_ticket_update(s, id, "alice", c1, 2, "first", 0, &field), 3);
        ASSERT_EQ_INT(trackled_store_enum_add(s, "component", "mail"), 0);
        ASSERT_EQ_INT(trackled_store_enum_add(s, "component", "mail"), -EEXIST);
        ASSERT_EQ_INT(trackled_store_enum_add(s, "component", "web"), 0);
        TrackledFieldChange c2[] = {{"component", "nonsense"}};
        ASSERT_EQ_INT(trackled_store_ticket_update(s, id, "alice", c2, 1, NULL, 0, &field), -EDOM);
        ASSERT_STREQ(field, "component");
        TrackledFieldChange c3[] = {{"component", "mail"}, {"owner", "bob"}};
        ASSERT_EQ_INT(trackled_store_ticket_update(s, id, "alice", c3, 2, NULL, 0, &field), 1);
        /* a stale edit changes nothing */
        ASSERT_EQ_INT(trackled_store_ticket_update(s, id, "alice", c1, 1, NULL, 42, &field),
                      -ESTALE);
        ASSERT_EQ_INT(trackled_store_ticket_update(s, 999, "alice", c1, 1, NULL, 0, &field),
                      -ENOENT);
        /* renaming a value carries the ticket along, with a history row */
        ASSERT_EQ_INT(trackled_store_enum_rename(s, "component", "mail", "e-mail", "root", &n), 0);
        ASSERT_EQ_INT(n, 1);
        ASSERT_EQ_INT(trackled_store_enum_rename(s, "component", "web", "e-mail", "root", &n),
                      -EEXIST);
        ASSERT_EQ_INT(trackled_store_ticket_json(s, id, true, &o), 0);
        ASSERT_STREQ(str(o, "component"), "e-mail");
        a = json_object_object_get(o, "history");
        /* created, component, owner, comment, component, component (rename) */
        ASSERT_EQ_INT((int)json_object_array_length(a), 6);
        ASSERT_STREQ(str(json_object_array_get_idx(a, 3), "comment"), "first");
        ASSERT_STREQ(str(json_object_array_get_idx(a, 5), "old"), "mail");
        json_object_put(o);
        ASSERT_EQ_INT(trackled_store_enum_remove(s, "component", "e-mail", &n), 0);
        ASSERT_EQ_INT(n, 1); /* the ticket keeps it */
        ASSERT_EQ_INT(trackled_store_enum_remove(s, "component", "e-mail", &n), -ENOENT);
        ASSERT_EQ_INT(trackled_store_enum_list(s, "component", &a), 0);
        ASSERT_EQ_INT((int)json_object_array_length(a), 1);
        json_object_put(a);

        /* history since a row id */
        ASSERT_EQ_INT(trackled_store_ticket_changes(s, 2, 100, &a, &last), 0);
        ASSERT_EQ_INT((int)json_object_array_length(a), 4);
        ASSERT_EQ_INT(last, 6);
        json_object_put(a);

        /* milestones */
        ASSERT_EQ_INT(trackled_store_enum_add(s, "milestone", "1.0"), 0);
        ASSERT_EQ_INT(trackled_store_milestone_set(s, "1.0", true, 1800000000, false, 0, "d"), 0);
        ASSERT_EQ_INT(trackled_store_milestone_set(s, "2.0", true, 1, false, 0, NULL), -ENOENT);
        ASSERT_EQ_INT(trackled_store_milestone_list(s, &a), 0);
        ASSERT_STREQ(str(json_object_array_get_idx(a, 0), "due"), "2027-01-15T08:00:00Z");
        json_object_put(a);
        TrackledFieldChange c4[] = {{"milestone", "0.9"}};
        ASSERT_EQ_INT(trackled_store_ticket_update(s, id, "alice", c4, 1, NULL, 0, &field), -EDOM);

        /* wiki: versions, the same text twice is one version, byte for byte */
        ASSERT_EQ_INT(trackled_store_wiki_put(s, "A/B", "x\r\n", "alice", NULL, 0, &v), 1);
        ASSERT_EQ_INT(v, 1);
        ASSERT_EQ_INT(trackled_store_wiki_put(s, "A/B", "x\r\n", "alice", NULL, -1, &v), 0);
        ASSERT_EQ_INT(v, 1);
        ASSERT_EQ_INT(trackled_store_wiki_put(s, "A/B", "y", "bob", NULL, 0, &v), -ESTALE);
        ASSERT_EQ_INT(trackled_store_wiki_put(s, "A/B", "y", "bob", NULL, 1, &v), 1);
        ASSERT_EQ_INT(trackled_store_wiki_get(s, "A/B", 1, &o), 0);
        ASSERT_STREQ(str(o, "text"), "x\r\n");
        json_object_put(o);
        ASSERT_EQ_INT(trackled_store_wiki_get(s, "A/B", 0, &o), 0);
        ASSERT_STREQ(str(o, "author"), "bob");
        json_object_put(o);
        ASSERT_EQ_INT(trackled_store_wiki_get(s, "nope", 0, &o), -ENOENT);

        /* settings */
        ASSERT_EQ_INT(trackled_store_setting_get(s, "notify.digest", &o), -ENOENT);
        ASSERT_EQ_INT(trackled_store_setting_set(s, "notify.digest", "5", ""), 0);
        ASSERT_EQ_INT(trackled_store_setting_set(s, "notify.digest", "9", "4"), -ESTALE);
        ASSERT_EQ_INT(trackled_store_setting_set(s, "notify.digest", "9", "5"), 0);
        ASSERT_EQ_INT(trackled_store_setting_get(s, "notify.digest", &o), 0);
        ASSERT_STREQ(str(o, "value"), "9");
        json_object_put(o);

        /* session.select of a session without that file: nothing */
        {
                const char *paths[] = {"/etc/x"};
                bool shown[] = {false};

                ASSERT_EQ_INT(trackled_store_files_select(s, 1, paths, shown, 1, &missing),
                              -ENOENT);
                ASSERT_STREQ(missing, "/etc/x");
        }

        /* check and backup */
        ASSERT_EQ_INT(trackled_store_check(s, &a), 0);
        ASSERT_EQ_INT((int)json_object_array_length(a), 0);
        json_object_put(a);
        fd = open(bk, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ_INT(trackled_store_backup(s, fd, &size), 0);
        ASSERT_TRUE(size > 0);
        ASSERT_EQ_INT(trackled_store_backup(s, fd, &size), -ENOTEMPTY);
        close(fd);
        fd = open(bk, O_RDONLY | O_CLOEXEC);
        ASSERT_EQ_INT(trackled_store_backup(s, fd, &size), -EBADFD);
        close(fd);
        trackled_store_free(s);
        ASSERT_EQ_INT(trackled_store_open(bk, &s), 0);
        ASSERT_EQ_INT(trackled_store_wiki_get(s, "A/B", 0, &o), 0);
        ASSERT_STREQ(str(o, "text"), "y");
        json_object_put(o);
        trackled_store_free(s);

        {
                static const char *const files[] = {"trackle.db",     "trackle.db-wal",
                                                    "trackle.db-shm", "backup.db",
                                                    "backup.db-wal",  "backup.db-shm"};
                char p[300];

                for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
                        (void)unlink(p);
                }
        }
        ASSERT_EQ_INT(rmdir(dir), 0); /* nothing else left: the backup's temporary file went */
        return test_result();
}
