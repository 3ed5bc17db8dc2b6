/* test-change.c - net change of a path: classification and folding (renames, temp files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "trackled-change.h"

static TrackledSide file(const char *sha, unsigned mode)
{
        TrackledSide s = {.kind = TRACKLED_KIND_FILE, .have_hash = true, .have_meta = true,
                          .mode = mode, .size = 3};
        snprintf(s.sha256, sizeof(s.sha256), "%s", sha);
        return s;
}

static const TrackledSide absent = {.kind = TRACKLED_KIND_ABSENT};

static TrackledFileRow row(const char *path, const char *from, TrackledSide b, TrackledSide a)
{
        return (TrackledFileRow){.path = strdup(path), .renamed_from = from ? strdup(from) : NULL,
                                 .before = b, .after = a};
}

int main(void)
{
        TrackledSide a = file("aa", 0644), a2 = file("aa", 0600), b = file("bb", 0644);
        TrackledSide unknown = {.kind = TRACKLED_KIND_UNKNOWN};
        TrackledSide dir = {.kind = TRACKLED_KIND_DIRECTORY, .have_meta = true, .mode = 0755};

        ASSERT_TRUE(trackled_change_classify(&absent, &absent) == NULL);
        ASSERT_STREQ(trackled_change_classify(&absent, &a), "created");
        ASSERT_STREQ(trackled_change_classify(&a, &absent), "deleted");
        ASSERT_STREQ(trackled_change_classify(&a, &b), "modified");
        ASSERT_STREQ(trackled_change_classify(&a, &a2), "metadata");
        ASSERT_TRUE(trackled_change_classify(&a, &a) == NULL);
        ASSERT_STREQ(trackled_change_classify(&unknown, &a), "modified");
        ASSERT_STREQ(trackled_change_classify(&a, &dir), "modified");
        ASSERT_TRUE(trackled_change_classify(&dir, &dir) == NULL);

        /* sed -i: temp created and renamed over the target; vim: swap created and removed;
         * mv old new: one "renamed"; mv x tmp; mv tmp y: chain folds to x -> y */
        TrackledFileRow rows[] = {
                row("/etc/x", NULL, a, b),
                row("/etc/sedAbc", NULL, absent, absent),
                row("/etc/.x.swp", NULL, absent, absent),
                row("/etc/old", NULL, a, absent),
                row("/etc/new", "/etc/old", absent, a),
                row("/etc/p", NULL, b, absent),
                row("/etc/p.tmp", "/etc/p", absent, absent),
                row("/etc/q", "/etc/p.tmp", absent, b),
                row("/etc/created", "/etc/nowhere", absent, a),
        };
        size_t n = sizeof(rows) / sizeof(rows[0]);
        TrackledFileRow *heap = malloc(sizeof(rows));
        memcpy(heap, rows, sizeof(rows));
        ASSERT_EQ_INT(trackled_change_fold(heap, n), 0);
        ASSERT_STREQ(heap[0].change, "modified");
        ASSERT_TRUE(heap[1].change == NULL);
        ASSERT_TRUE(heap[2].change == NULL);
        ASSERT_TRUE(heap[3].change == NULL);
        ASSERT_STREQ(heap[4].change, "renamed");
        ASSERT_STREQ(heap[4].from, "/etc/old");
        ASSERT_TRUE(heap[5].change == NULL);
        ASSERT_STREQ(heap[7].change, "renamed");
        ASSERT_STREQ(heap[7].from, "/etc/p");
        ASSERT_STREQ(heap[8].change, "created");
        trackled_file_rows_free(heap, n);
        return test_result();
}
