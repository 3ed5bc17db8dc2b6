/* trackled-store-admin.h - trackle.db beyond sessions: ticket edits with history, comments,
 * enumerations, milestones, wiki pages, settings, the integrity check and online backups. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "trackled-store.h"

/* The enumerations: "type", "severity", "priority", "component" (enum_value) and "milestone"
 * (the milestone table). */
bool trackled_enum_type_valid(const char *type);
/* The ticket fields ticket.update may set. */
bool trackled_ticket_field_valid(const char *field);

typedef struct TrackledFieldChange {
        const char *field; /* trackled_ticket_field_valid() */
        const char *value;
} TrackledFieldChange;

/* Set fields (a history row each, only for values that differ) and add a comment (a history
 * row with field "comment"), in one transaction. expect_changed: the ticket's "changed" the
 * caller saw (0: don't check; otherwise -ESTALE when it differs). A value of an enumeration
 * that has values must be one of them, a milestone an existing one (-EDOM, *ret_field says
 * which). Returns the number of history rows written. */
int trackled_store_ticket_update(TrackledStore *s, int64_t id, const char *author,
                                 const TrackledFieldChange *changes, size_t n_changes,
                                 const char *comment, int64_t expect_changed,
                                 const char **ret_field);

/* History rows with id > since (all tickets), oldest first, at most max; *ret_last is the
 * highest change id in the database (whether or not it is in the list). */
int trackled_store_ticket_changes(TrackledStore *s, int64_t since, size_t max, json_object **ret,
                                  int64_t *ret_last);

/* Enumerations: list (names by position; for "milestone", by due date then name), add
 * (-EEXIST), rename (-ENOENT, -EEXIST; tickets with the old value get the new one, with a
 * history row each), remove (-ENOENT; tickets keep their value). *ret_n: tickets touched or
 * still using the removed value. */
int trackled_store_enum_list(TrackledStore *s, const char *type, json_object **ret);
int trackled_store_enum_add(TrackledStore *s, const char *type, const char *name);
int trackled_store_enum_rename(TrackledStore *s, const char *type, const char *name,
                               const char *new_name, const char *author, int64_t *ret_n);
int trackled_store_enum_remove(TrackledStore *s, const char *type, const char *name,
                               int64_t *ret_n);

/* Milestones with their details: [{name, due, completed, description}]. due and completed
 * are Unix seconds, 0: unset; has_* say which to change. */
int trackled_store_milestone_list(TrackledStore *s, json_object **ret);
int trackled_store_milestone_set(TrackledStore *s, const char *name, bool has_due, int64_t due,
                                 bool has_completed, int64_t completed, const char *description);

/* Wiki: list [{name, version, changed}]; get (version 0: the newest; -ENOENT); put: a new
 * version unless the text is the newest one's already (then *ret_version is that one and the
 * return value 0, else 1). expect_version >= 0: -ESTALE unless the newest version is that (0:
 * the page must not exist yet). */
int trackled_store_wiki_list(TrackledStore *s, json_object **ret);
int trackled_store_wiki_get(TrackledStore *s, const char *name, int64_t version, json_object **ret);
int trackled_store_wiki_put(TrackledStore *s, const char *name, const char *text,
                            const char *author, const char *comment, int64_t expect_version,
                            int64_t *ret_version);

/* Settings: small named values (trackle-protocol(7) lists the names in use). get: -ENOENT.
 * set with expect (NULL: unconditional): -ESTALE unless the current value is expect ("" for
 * none). */
int trackled_store_setting_get(TrackledStore *s, const char *name, json_object **ret);
int trackled_store_setting_set(TrackledStore *s, const char *name, const char *value,
                               const char *expect);

/* Integrity: SQLite's integrity and foreign key checks and trackle's own (content that file
 * changes refer to, locks of sessions that are not open). *ret: an array of problems in words,
 * empty when all is well. */
int trackled_store_check(TrackledStore *s, json_object **ret);

/* A consistent copy of the whole database written to fd (a regular file opened for writing,
 * empty): SQLite's backup API into a file of trackled's own next to the database, copied to
 * fd, fsync'ed, the temporary file removed. *ret_size: bytes written. */
int trackled_store_backup(TrackledStore *s, int fd, uint64_t *ret_size);

/* session.select: shown for each of n paths of the session, all or none (-ENOENT with
 * *ret_missing the first path the session did not change). */
int trackled_store_files_select(TrackledStore *s, int64_t session, const char *const *paths,
                                const bool *shown, size_t n, const char **ret_missing);
