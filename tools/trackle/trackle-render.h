/* trackle-render.h - trackle's output: pretty JSON, readable tickets and sessions, diffs. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

/* Pretty-printed json-c text and a newline. */
int trackle_render_json(FILE *f, json_object *o);

int trackle_render_ticket_list(FILE *f, json_object *tickets);
int trackle_render_ticket(FILE *f, json_object *ticket);
int trackle_render_session_list(FILE *f, json_object *sessions);
int trackle_render_session(FILE *f, json_object *session);

/* The changed files of a session, one per line: "  N  change  path" (numbered) or
 * "  change  path"; hidden files are marked. Returns the number of files. */
int trackle_render_files(FILE *f, json_object *session, bool numbered);

/* One unified diff text, coloured (red -, green +, cyan @@, bold headers) or plain. Control
 * characters other than tab are written as \xNN so a diff cannot drive the terminal. */
void trackle_render_diff(FILE *f, const char *diff, bool color);
/* The diffs of every file of the session, or of path only (-ENOENT when the session did not
 * change path). A file without a diff gets a one-line note saying why. */
int trackle_render_session_diff(FILE *f, json_object *session, const char *path, bool color);

/* Write s with control characters escaped (\n, \t kept only when allowed). */
void trackle_put_safe(FILE *f, const char *s, bool keep_tab);

/* Small accessors: NULL / false when the key is missing or of another type. */
const char *trackle_json_str(json_object *o, const char *key);
bool trackle_json_int(json_object *o, const char *key, int64_t *ret);
json_object *trackle_json_array(json_object *o, const char *key);
