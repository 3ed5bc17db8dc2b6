/* trackled-change.c - net change per path (see trackle-protocol(7), "Changes"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "trackled-change.h"

#define RENAME_CHAIN_MAX 64

static bool present(TrackledKind k)
{
        return k != TRACKLED_KIND_ABSENT;
}

static bool meta_differs(const TrackledSide *a, const TrackledSide *b)
{
        if (!a->have_meta || !b->have_meta)
                return false;
        return a->mode != b->mode || a->uid != b->uid || a->gid != b->gid;
}

const char *trackled_change_classify(const TrackledSide *before, const TrackledSide *after)
{
        if (!present(before->kind) && !present(after->kind))
                return NULL;
        if (!present(before->kind))
                return "created";
        if (!present(after->kind))
                return "deleted";
        if (before->kind == TRACKLED_KIND_UNKNOWN || after->kind == TRACKLED_KIND_UNKNOWN)
                return "modified"; /* cannot tell: say so rather than hide it */
        if (before->kind != after->kind)
                return "modified";
        if (before->kind == TRACKLED_KIND_FILE || before->kind == TRACKLED_KIND_SYMLINK) {
                if (before->have_hash && after->have_hash) {
                        if (!streq(before->sha256, after->sha256))
                                return "modified";
                } else if (before->have_meta && after->have_meta && before->size != after->size)
                        return "modified";
                else if (!before->have_hash && !before->have_meta)
                        return "modified";
        }
        return meta_differs(before, after) ? "metadata" : NULL;
}

static TrackledFileRow *find_row(TrackledFileRow *rows, size_t n, const char *path)
{
        for (size_t i = 0; i < n; i++)
                if (streq(rows[i].path, path))
                        return &rows[i];
        return NULL;
}

int trackled_change_fold(TrackledFileRow *rows, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                rows[i].change = trackled_change_classify(&rows[i].before, &rows[i].after);
                free(rows[i].from);
                rows[i].from = NULL;
        }
        for (size_t i = 0; i < n; i++) {
                TrackledFileRow *t = &rows[i], *o = NULL;
                const char *p = t->renamed_from;

                if (!p || !streq_ptr(t->change, "created"))
                        continue;
                for (unsigned step = 0; p && step < RENAME_CHAIN_MAX; step++) {
                        o = find_row(rows, n, p);
                        if (!o || o == t)
                                break;
                        if (streq_ptr(o->change, "deleted"))
                                break;
                        /* an intermediate name (created and renamed away again): go on */
                        p = o->change ? NULL : o->renamed_from;
                        o = NULL;
                }
                if (!o || o == t || !streq_ptr(o->change, "deleted"))
                        continue;
                t->from = strdup(o->path);
                if (!t->from)
                        return -ENOMEM;
                t->change = "renamed";
                o->change = NULL;
        }
        return 0;
}

void trackled_file_rows_free(TrackledFileRow *rows, size_t n)
{
        for (size_t i = 0; rows && i < n; i++) {
                free(rows[i].path);
                free(rows[i].renamed_from);
                free(rows[i].from);
        }
        free(rows);
}

void trackled_side_from_snapshot(TrackledSide *side, const TrackledSnapshot *s)
{
        *side = (TrackledSide){
                .kind = s->kind,
                .have_hash = s->have_hash,
                .have_meta = s->have_meta,
                .mode = s->mode,
                .uid = s->uid,
                .gid = s->gid,
                .size = s->size,
        };
        if (s->have_hash)
                memcpy(side->sha256, s->sha256, sizeof(side->sha256));
}
