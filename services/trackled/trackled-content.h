/* trackled-content.h - the state of one path at one moment: kind, metadata, SHA-256 and (when
 * allowed) content, read through a client's root directory or an fd it passed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "trackled-config.h"

typedef enum TrackledKind {
        TRACKLED_KIND_ABSENT = 0,
        TRACKLED_KIND_FILE,
        TRACKLED_KIND_DIRECTORY,
        TRACKLED_KIND_SYMLINK,
        TRACKLED_KIND_OTHER,
        TRACKLED_KIND_UNKNOWN, /* could not be read: see error */
        _TRACKLED_KIND_MAX,
} TrackledKind;

typedef struct TrackledSnapshot {
        TrackledKind kind;
        bool have_meta; /* mode/uid/gid/size are set */
        uint32_t mode;  /* permission bits only (07777) */
        uint32_t uid, gid;
        uint64_t size;
        bool have_hash;
        char sha256[65];  /* lowercase hex */
        uint8_t *content; /* NULL unless kept: under the cap and not redacted */
        size_t content_len;
        bool redacted, over_cap, binary;
        int error; /* -errno that made it UNKNOWN */
} TrackledSnapshot;

const char *trackled_kind_to_string(TrackledKind k);
TrackledKind trackled_kind_from_string(const char *s);

void trackled_snapshot_done(TrackledSnapshot *s);

/* True if the bytes contain a NUL or are not valid UTF-8. */
bool trackled_content_is_binary(const uint8_t *p, size_t n);

/* SHA-256 of a buffer as 64 hex digits + NUL. */
void trackled_sha256_hex(const uint8_t *p, size_t n, char ret[65]);

/* The state of an empty regular file at path (no content to read: the library saw it empty,
 * see TRACKLE_OP_OPENED_EMPTY), redacted as configured; the caller sets the metadata. */
int trackled_snapshot_empty(const char *path, const TrackledConfig *c, TrackledSnapshot *ret);

/* The state of path (absolute) as seen from rootfd (an O_PATH directory fd; paths resolve
 * inside it with RESOLVE_IN_ROOT, no magic links, no following of the last component). A path
 * that does not exist is ABSENT; a reading problem gives UNKNOWN with error set. Never fails
 * except for -ENOMEM. */
int trackled_snapshot_path(int rootfd, const char *path, const TrackledConfig *c,
                           TrackledSnapshot *ret);

/* An O_RDONLY fd of the regular file at path, resolved like trackled_snapshot_path(); -EBADFD
 * for anything but a regular file. */
int trackled_open_regular(int rootfd, const char *path);
/* The same for an fd a client opened and passed (BEFORE with TRACKLE_BEFORE_FD). */
int trackled_snapshot_fd(int fd, const char *path, const TrackledConfig *c, TrackledSnapshot *ret);
