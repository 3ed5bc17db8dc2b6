/* state.h - the one SQLite opener: WAL, busy timeout, schema migrations by user_version. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3 *, sqlite3_close_v2)
DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_finalize)
#define _cleanup_db_ _cleanup_(sqlite3_close_v2p)
#define _cleanup_stmt_ _cleanup_(sqlite3_finalizep)

#define STATE_BUSY_TIMEOUT_MS 5000

/* Open (and create if writable) the database at path. migrations[i] is the SQL that takes the
 * schema from version i to i+1; each runs in its own transaction together with the bump of
 * PRAGMA user_version. A database newer than n_migrations is refused (-EPROTONOSUPPORT);
 * read-only opens never migrate and refuse an older schema (-EPROTO). */
int state_open(const char *path, bool readonly, const char *const *migrations, size_t n_migrations,
               sqlite3 **ret);

/* What is wrong with path as a database file, without opening it: NULL if it is a regular
 * file or does not exist, else "a directory", "a FIFO", "a device" or "a socket". state_open()
 * refuses such a path with -EINVAL before SQLite could wait on a FIFO. */
const char *state_path_not_regular(const char *path);

/* The database path a component uses: explicit if given, else file in the first directory of
 * $STATE_DIRECTORY (systemd may list several, separated by ':'), else fallback. Returns a
 * malloc'd string or NULL on OOM. */
char *state_path(const char *explicit_path, const char *file, const char *fallback);

/* Map an SQLite result code to -errno. */
int state_errno(int rc);

/* Prepare a statement kept for the life of the connection; -errno on failure. */
int state_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret);

/* Step a statement that returns no rows, then reset it and clear its bindings. */
int state_step_reset(sqlite3_stmt *st);

/* Run SQL without results; -errno on failure. */
int state_exec(sqlite3 *db, const char *sql);

int state_user_version(sqlite3 *db, int *ret);
