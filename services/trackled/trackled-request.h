/* trackled-request.h - validation of JSON requests from console tools (trackle-protocol(7)).
 * Pure: no I/O, so that the fuzz target can feed it anything. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define TRACKLED_JSON_DEPTH_MAX 8
#define TRACKLED_SUMMARY_CHARS 200
#define TRACKLED_ENV_MAX 1024
#define TRACKLED_COMMANDS_MAX 4096
#define TRACKLED_STRING_MAX 65536
#define TRACKLED_DESCRIPTION_MAX (256 * 1024)

typedef enum TrackledOp {
        TRACKLED_OP_TICKET_NEW,
        TRACKLED_OP_TICKET_LIST,
        TRACKLED_OP_TICKET_SHOW,
        TRACKLED_OP_SESSION_OPEN,
        TRACKLED_OP_SESSION_RESUME,
        TRACKLED_OP_SESSION_COMMANDS,
        TRACKLED_OP_SESSION_END,
        TRACKLED_OP_SESSION_LIST,
        TRACKLED_OP_SESSION_SHOW,
        TRACKLED_OP_SESSION_FILES,
        TRACKLED_OP_ADMIN, /* trackled-request-admin.c: validated and answered there */
        _TRACKLED_OP_MAX,
} TrackledOp;

typedef struct TrackledCommand {
        int64_t time; /* unix seconds, 0 if not given */
        const char *cwd, *line;
        bool has_exit;
        int exit;
} TrackledCommand;

typedef struct TrackledRequest {
        json_object *root; /* owns every string below */
        TrackledOp op;
        int64_t id;     /* ticket.show, session.*: the id */
        int64_t ticket; /* session.open, session.list: 0 = none */
        const char *summary, *description, *status, *tty, *shell, *cwd, *path;
        bool steal, keyed, shown;
        bool has_exit;
        int exit;
        json_object *environment; /* object of strings, or NULL */
        json_object *commands;    /* array, validated */
} TrackledRequest;

const char *trackled_op_to_string(TrackledOp op);

/* 0, or -EINVAL/-EMSGSIZE/-ENOMEM with *ret_error a static human text. */
int trackled_request_parse(const char *text, size_t len, TrackledRequest *ret,
                           const char **ret_error);
void trackled_request_done(TrackledRequest *r);

size_t trackled_request_n_commands(const TrackledRequest *r);
void trackled_request_command(const TrackledRequest *r, size_t i, TrackledCommand *ret);

/* "2026-12-04T22:54:32Z" -> unix seconds. */
int trackled_parse_time(const char *s, int64_t *ret);
