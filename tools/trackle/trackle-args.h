/* trackle-args.h - the command line of trackle(1): subcommands and their options. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum TrackleVerb {
        TRACKLE_VERB_NONE,
        TRACKLE_VERB_TICKET_NEW,
        TRACKLE_VERB_TICKET_LIST,
        TRACKLE_VERB_TICKET_SHOW,
        TRACKLE_VERB_SHELL,
        TRACKLE_VERB_SESSION_LIST,
        TRACKLE_VERB_SESSION_SHOW,
        TRACKLE_VERB_SESSION_DIFF,
        TRACKLE_VERB_SESSION_FILES,
        _TRACKLE_VERB_MAX,
} TrackleVerb;

typedef enum TrackleColor {
        TRACKLE_COLOR_AUTO,
        TRACKLE_COLOR_ALWAYS,
        TRACKLE_COLOR_NEVER,
} TrackleColor;

typedef enum TrackleAction {
        TRACKLE_ACTION_RUN,
        TRACKLE_ACTION_HELP, /* help for args.verb (NONE: the overview); or for a group */
        TRACKLE_ACTION_VERSION,
} TrackleAction;

typedef struct TrackleArgs {
        TrackleAction action;
        TrackleVerb verb;
        const char *group; /* "ticket", "session" or NULL: --help of a group */
        bool json;
        const char *summary; /* ticket new */
        const char *description;
        uint64_t id;     /* ticket show N, session show|diff|files ID */
        bool has_ticket; /* shell TICKET, session list --ticket N */
        uint64_t ticket;
        const char *command; /* shell -c */
        const char *preload; /* shell --preload */
        bool steal, keyed;
        bool no_select;   /* shell: do not ask which files to hide at the end */
        int keyed_fd;     /* shell --keyed=FD: tell the waiting parent we started */
        const char *path; /* session diff [PATH], session files --show|--hide PATH */
        bool shown;       /* session files: --show (true) or --hide */
        TrackleColor color;
} TrackleArgs;

/* Returns 0 with *ret filled, or -EINVAL after printing what is wrong to stderr. The strings
 * in *ret point into argv. getopt_long may permute argv. */
int trackle_args_parse(int argc, char **argv, TrackleArgs *ret);

/* "ticket new", "session diff", ...: for messages and help. */
const char *trackle_verb_to_string(TrackleVerb v);
/* The help text of a subcommand (TRACKLE_VERB_NONE: the overview), or of a group. */
const char *trackle_help_text(TrackleVerb v, const char *group);
/* Parse a positive decimal id (ticket or session): no sign, no leading zero, no "#". */
int trackle_parse_id(const char *s, uint64_t *ret);
