/* tracker-wrap-core.h - placing and removing tracker wrappers, through dpkg diversions on
 * Debian or plain renames (with a state file) elsewhere. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "tracker-wrap-list.h"

#define WRAP_REAL_SUFFIX ".t%"
#define WRAP_NAME_DIR "/.t%" /* DIR/.t%/NAME -> ../NAME.t%, see name_link_place() */
#define WRAP_DPKG_PACKAGE "tracksuite-tracker"

typedef enum WrapBackend {
        WRAP_BACKEND_DPKG,  /* dpkg-divert --rename: package upgrades land in PATH.t% */
        WRAP_BACKEND_PLAIN, /* rename + state file; RPM file triggers unwrap around upgrades */
} WrapBackend;

typedef struct Wrap {
        WrapBackend backend;
        const char *shim;     /* the tracker shim every wrapper links to */
        const char *list_dir; /* tracked.d */
        const char *state;    /* the plain backend's list of wrapped paths */
        bool quiet;
} Wrap;

typedef enum WrapState {
        WRAP_OK,       /* PATH -> shim, PATH.t% is the real program */
        WRAP_DANGLING, /* PATH.t% is gone (its package was removed or moved it) */
        WRAP_REPLACED, /* PATH is no longer our symlink */
} WrapState;

const char *wrap_state_to_string(WrapState s);

/* Detect the backend: dpkg if its database and dpkg-divert exist. */
WrapBackend wrap_backend_detect(void);

/* Wrap one program. 0 if wrapped now, 1 if it already was, -errno with a logged reason. */
int wrap_add(Wrap *w, const char *path, bool force);
/* Unwrap one program: the real file goes back to PATH. 0 done, 1 if it was not wrapped. */
int wrap_remove(Wrap *w, const char *path);

/* The wrapped paths (diversion keys / state file entries), malloc'd strv and count. */
int wrap_wrapped(Wrap *w, char ***ret, size_t *ret_n);
void wrap_strv_free(char **v, size_t n);
WrapState wrap_state(Wrap *w, const char *path);

/* The path under which the packaging system knows path (usrmerge: /bin/x vs /usr/bin/x). */
int wrap_canonical(Wrap *w, const char *path, char **ret);

/* Make the wrappers match the lists: wrap what is listed and installed, unwrap what is no
 * longer listed, repair what package operations changed. Returns the number of problems. */
int wrap_sync(Wrap *w);
