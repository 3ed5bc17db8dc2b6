/* trackled-change.h - the net change of a path over a session: classification of before/after
 * states and folding of renames and temporary files. Pure functions, no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trackled-content.h"

typedef struct TrackledSide {
        TrackledKind kind;
        bool have_hash;
        char sha256[65];
        bool have_meta;
        uint32_t mode, uid, gid;
        uint64_t size;
} TrackledSide;

typedef struct TrackledFileRow {
        int64_t id;
        char *path;
        char *renamed_from; /* last path renamed onto this one, or NULL */
        TrackledSide before, after;
        const char *change; /* static string or NULL (no net change: folded away) */
        char *from;         /* for "renamed": the original path */
} TrackledFileRow;

/* "created", "deleted", "modified", "metadata", or NULL for no net change. */
const char *trackled_change_classify(const TrackledSide *before, const TrackledSide *after);

/* Classify every row, then turn "created" targets of a rename chain whose origin was
 * "deleted" into one "renamed" row (from = origin) and fold the origin away. */
int trackled_change_fold(TrackledFileRow *rows, size_t n);

void trackled_file_rows_free(TrackledFileRow *rows, size_t n);

void trackled_side_from_snapshot(TrackledSide *side, const TrackledSnapshot *s);
