/* nacctd-output.h - the classic log: TAB-separated lines (spec 1.3) with `disable`d fields left
 * out, grouped as the original's aggregation key would have grouped them, appended all or
 * nothing; the dump file with what is not yet in the log. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nacctd-config.h"
#include "nacctd-flow.h"
#include "nacctd-names.h"

#define NACCT_LINE_MAX 1024 /* with device (64) and user (128) escaped, 4 bytes each */

typedef struct NacctBuffer {
        char *data; /* NUL-terminated once anything was appended */
        size_t len;
        size_t allocated;
} NacctBuffer;

void nacct_buffer_done(NacctBuffer *b);
int nacct_buffer_append(NacctBuffer *b, const char *data, size_t len);
#define _cleanup_buffer_ _cleanup_(nacct_buffer_done)

/* One line, with its '\n'. user NULL means "unknown". Returns the length (< NACCT_LINE_MAX). */
size_t nacct_line_format(char *buf, const bool disabled[_NACCT_FIELD_MAX], int64_t time,
                         const NacctKey *k, uint64_t count, uint64_t bytes, const char *dev,
                         const char *user);

typedef struct NacctCollect {
        NacctBuffer due;     /* lines to append to the log now */
        NacctBuffer pending; /* lines of what is not due yet: the dump */
        size_t n_due_lines;
        size_t n_pending_lines;
        size_t n_due_records;
        uint8_t *due_records; /* per record of the table: 1 if its line is in `due` */
} NacctCollect;

void nacct_collect_done(NacctCollect *c);

/* Group the records that have something not yet written by the original's key (proto, src,
 * sport, dst, dport without the disabled ones; the interface always) and the user, and write
 * one line per group: into due if the group is due at now (every member idle for more than
 * fdelay, or one member's oldest unwritten packet at least activetimeout old, or force), else
 * into pending. */
int nacct_collect(const NacctFlowTable *t, const NacctConfig *c, const NacctNames *devices,
                  const NacctNames *users, int64_t now, bool force, NacctCollect *ret);

/* The first line of every dump file nacctd writes: only a file that starts with it is ever
 * replaced, removed or read back. */
#define NACCT_DUMP_MAGIC                                                                           \
        "# nacctd dump: lines not yet in the log, appended to it at the next start\n"

/* Append data to the log at path in one go; if that fails halfway, cut the file back to its
 * old length, so a retry never duplicates or splits a line. A path that is not a regular file
 * is refused (-EISDIR, -NACCT_ENOTREG) without blocking. */
int nacct_log_append(const char *path, const char *data, size_t len);

/* 1 if path is a dump file nacctd wrote, 0 if it is some other regular file, else -errno. */
int nacct_dump_is_ours(const char *path);

/* Replace path by the marker and data atomically (path.new renamed over it), or remove it when
 * len is 0. -EEXIST if path (or path.new) exists and is not a dump of ours: left alone. */
int nacct_dump_write(const char *path, const char *data, size_t len);

/* At start: a dump file left by a run that did not stop cleanly holds lines that never reached
 * the log; append them to it and remove the dump (returns 1). If the log cannot be written,
 * the dump stays and its lines are handed over in *ret_backlog (the caller writes them later).
 * -EEXIST if the file is not a dump of ours. *ret_lines is the number of lines found. */
int nacct_dump_recover(const char *dumpfile, const char *logfile, NacctBuffer *ret_backlog,
                       size_t *ret_lines);
