/* trackled-store.h - trackle.db: tickets, locks, sessions, commands, file changes, blobs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "trackled-change.h"
#include "trackled-content.h"

typedef struct TrackledStore TrackledStore;

extern const char *const trackled_store_migrations[];
extern const size_t trackled_store_n_migrations;

#define TRACKLED_SUMMARY_MAX 200

typedef struct TrackledSessionRow {
        int64_t id;
        int64_t ticket; /* 0: none */
        uint32_t uid;
        char user[64];
        char identity[16]; /* "audit" or "ancestry" */
        int64_t audit_id;  /* -1 in ancestry mode */
        pid_t leader_pid;
        uint64_t leader_start;
        char state[16]; /* "open", "ended", "abandoned" */
        bool this_boot; /* opened since the machine last booted (true when unknown) */
} TrackledSessionRow;

typedef struct TrackledSessionNew {
        int64_t ticket; /* 0: none */
        uint32_t uid;
        const char *user, *host, *tty, *shell, *cwd;
        const char *environment; /* JSON text */
        const char *identity;
        int64_t audit_id;
        pid_t leader_pid;
        uint64_t leader_start;
        bool keyed;
} TrackledSessionNew;

int trackled_store_open(const char *path, TrackledStore **ret);
TrackledStore *trackled_store_free(TrackledStore *s);
void trackled_store_set_now(TrackledStore *s, int64_t now); /* tests: fixed clock; 0: real */

/* A transaction; inside an open batch a savepoint, so that one frame's failure undoes only
 * that frame. */
int trackled_store_begin(TrackledStore *s);
int trackled_store_commit(TrackledStore *s);
int trackled_store_end(TrackledStore *s, int r);
void trackled_store_rollback(TrackledStore *s);
/* A batch: one transaction around many asynchronous frames (events, execs), committed once
 * per turn of the event loop instead of once per frame. batch_begin returns 1 if it opened
 * one, 0 if one was open already. */
int trackled_store_batch_begin(TrackledStore *s);
bool trackled_store_batch_open(TrackledStore *s);
int trackled_store_batch_commit(TrackledStore *s);
/* Copy the WAL back into the database (passive: never waits); for idle moments. */
int trackled_store_checkpoint(TrackledStore *s);
/* Requests that are not library frames (the web's) say they used the store, so that the WAL
 * checkpoint (with its fsync: a stall of 100-250 ms on a large database here) waits for a
 * quiet moment of those too. */
void trackled_store_touch(TrackledStore *s);
bool trackled_store_idle(TrackledStore *s, uint64_t usec);

/* Tickets */
int trackled_store_ticket_new(TrackledStore *s, const char *author, const char *summary,
                              const char *description, int64_t *ret_id);
/* -ENOENT if there is no such ticket. */
int trackled_store_ticket_json(TrackledStore *s, int64_t id, bool details, json_object **ret);
int trackled_store_ticket_list(TrackledStore *s, const char *status, json_object **ret);
int trackled_store_ticket_history(TrackledStore *s, int64_t ticket, const char *author,
                                  const char *field, const char *old, const char *new_,
                                  const char *comment);

/* Locks. lock_get: 0 and the holder, or -ENOENT when the ticket is not locked. */
int trackled_store_lock_get(TrackledStore *s, int64_t ticket, int64_t *ret_session,
                            uint32_t *ret_uid, int64_t *ret_since);
int trackled_store_lock_set(TrackledStore *s, int64_t ticket, int64_t session, uint32_t uid);
/* Releases the session's locks (with a history row each); returns how many. */
int trackled_store_lock_release_session(TrackledStore *s, int64_t session, const char *author);

/* Sessions */
int trackled_store_session_new(TrackledStore *s, const TrackledSessionNew *n, int64_t *ret_id);
int trackled_store_session_get(TrackledStore *s, int64_t id, TrackledSessionRow *ret);
/* Ids of sessions in state "open", ascending. */
int trackled_store_session_open_ids(TrackledStore *s, int64_t **ret, size_t *ret_n);
int trackled_store_session_set_state(TrackledStore *s, int64_t id, const char *state, bool ended,
                                     const int *exit_status);
/* Was this audit session id used by a session of this boot (ids start again at each boot)? */
int trackled_store_audit_id_used(TrackledStore *s, int64_t audit_id);
/* This boot's /proc/sys/kernel/random/boot_id, or "" when unknown. */
const char *trackled_store_boot_id(TrackledStore *s);
/* Delete sessions that ended before older_than (Unix seconds), with their commands, file
 * changes, events and notes, and the content nothing refers to any more. */
int trackled_store_expire(TrackledStore *s, int64_t older_than, int64_t *ret_n);
int trackled_store_note(TrackledStore *s, int64_t session, const char *text);
int trackled_store_session_json(TrackledStore *s, int64_t id, json_object **ret);
int trackled_store_session_list(TrackledStore *s, int64_t ticket, json_object **ret);

/* Commands: argv_json is a JSON array text or NULL; time in unix seconds. */
int trackled_store_command(TrackledStore *s, int64_t session, int64_t time, int64_t pid,
                           const char *cwd, int64_t uid, int64_t euid, const char *line,
                           const char *argv_json, const int *exit_status, const char *source);

/* Files */
int trackled_store_file_event(TrackledStore *s, int64_t session, pid_t pid, const char *op,
                              const char *path, const char *path2);
/* 1 if the session has a row for path whose before state is known (first touch wins). */
int trackled_store_file_has_before(TrackledStore *s, int64_t session, const char *path);
/* Record the before state (and its blob) unless one is already there. */
int trackled_store_file_before(TrackledStore *s, int64_t session, const char *path,
                               const TrackledSnapshot *snap);
/* Record the after state (and its blob), replacing an earlier one. */
int trackled_store_file_after(TrackledStore *s, int64_t session, const char *path,
                              const TrackledSnapshot *snap);
int trackled_store_file_renamed_from(TrackledStore *s, int64_t session, const char *path,
                                     const char *from);
/* -ENOENT when the session has no such path. */
int trackled_store_file_shown(TrackledStore *s, int64_t session, const char *path, bool shown);
/* Every touched path of the session (for the after states at session end). */
int trackled_store_file_paths(TrackledStore *s, int64_t session, char ***ret, size_t *ret_n);
/* Compute and store the net change of every path (see trackled-change.h). */
int trackled_store_session_fold(TrackledStore *s, int64_t session);

/* ISO 8601 UTC with Z. */
void trackled_format_time(int64_t t, char buf[32]);
void trackled_strv_free(char **v, size_t n);

/* For the modules that keep their own tables (trackled-store-admin.c, trackled-account.c,
 * trackled-mail.c): a statement prepared once per store, found by the address of its SQL
 * string (reset it after use); the handle; the store's clock (Unix seconds). */
sqlite3_stmt *trackled_store_stmt(TrackledStore *s, const char *sql);
sqlite3 *trackled_store_sqlite(TrackledStore *s);
int64_t trackled_store_now(TrackledStore *s);
