/* trackle-admin.h - what trackle-admin's subcommand files share: the dispatcher's table entry,
 * talking to trackled, and messages.
 *
 * A subcommand is one file trackle-admin-NAME.c with one entry point
 *         int admin_NAME_main(int argc, char **argv);
 * (argv[0] is the subcommand's name, e.g. "user"; it parses the rest itself, answers --help,
 * and returns the exit status: 0 success, 1 failure, 2 bad usage). To add one: the file to
 * `trackle_admin_sources` in meson.build, its declaration below, one line in the table of
 * trackle-admin.c, a section in man/trackle-admin.8.scd. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "macro.h"

#define ADMIN_EXIT_OK 0
#define ADMIN_EXIT_FAILURE 1
#define ADMIN_EXIT_USAGE 2

typedef struct AdminCommand {
        const char *name;
        int (*main)(int argc, char **argv);
        const char *synopsis; /* one line for the overview of --help */
} AdminCommand;

/* The subcommands (one file each). */
int admin_enum_main(int argc, char **argv);      /* component|priority|severity|type */
int admin_milestone_main(int argc, char **argv); /* milestone */
int admin_wiki_main(int argc, char **argv);      /* wiki import|export|list */
int admin_check_main(int argc, char **argv);     /* check */
int admin_backup_main(int argc, char **argv);    /* backup FILE */
int admin_user_main(int argc, char **argv);      /* user add|passwd|del|list */

/* "trackle-admin: " + the message + "\n" on stderr; returns ADMIN_EXIT_FAILURE. */
int admin_fail(const char *fmt, ...) _printf_(1, 2);
/* The same with "Try 'trackle-admin CMD --help'."; returns ADMIN_EXIT_USAGE. */
int admin_usage(const char *cmd, const char *fmt, ...) _printf_(2, 3);
/* argv[1] is "--help" or "-h": print text to stdout. */
bool admin_wants_help(int argc, char **argv, const char *text);

/* Send req (taken) to trackled and return the reply, after printing the error on failure
 * (trackled's own message for {"ok": false}). key: the reply field returned in *ret_value
 * (NULL: the whole reply). *ret_reply owns *ret_value. */
int admin_call(json_object *req, const char *key, json_object **ret_reply, json_object **ret_value);
/* admin_call for requests whose reply carries nothing: 0 or -errno. */
int admin_call_simple(json_object *req);
/* {"op": op} plus string fields given as NULL-terminated key, value pairs (NULL values are
 * left out). */
json_object *admin_request(const char *op, ...) _sentinel_;
