/* tracker-wrap-list.h - the tracked program lists, /etc/tracksuite/tracked.d/ *.list. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

#define WRAP_LIST_SUFFIX ".list"
#define WRAP_LOCAL_LIST "local.list" /* what "tracker-wrap add" writes */

typedef struct WrapEntry {
        char *path; /* absolute, normalized */
        bool force; /* "PATH force": wrap even an Essential package's file */
        char *file; /* list file it came from */
        unsigned line;
} WrapEntry;

typedef struct WrapList {
        WrapEntry *entries;
        size_t n;
} WrapList;

void wrap_list_done(WrapList *l);
static inline void wrap_list_donep(WrapList *l)
{
        wrap_list_done(l);
}
#define _cleanup_wrap_list_ _cleanup_(wrap_list_donep)

/* True if path is absolute, has no "." or ".." components, no "//", no trailing '/', and only
 * printable UTF-8. */
bool wrap_path_is_valid(const char *path);

/* Read every *.list file of dir in name order. A bad line is skipped and, with report,
 * logged as file:line; returns the number of bad lines (>= 0) or -errno if the directory
 * cannot be read (a missing directory is an empty list). */
int wrap_list_load(const char *dir, bool report, WrapList *ret);

const WrapEntry *wrap_list_find(const WrapList *l, const char *path);

/* Add path to, or remove it from, dir/local.list (created as needed), atomically. */
int wrap_list_local_add(const char *dir, const char *path, bool force);
int wrap_list_local_remove(const char *dir, const char *path);
