/* trackle-args.c - parse trackle's command line: global options, group, verb, its options. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "macro.h"
#include "parse.h"

#include "trackle-args.h"

static const char *const verb_names[_TRACKLE_VERB_MAX] = {
        [TRACKLE_VERB_NONE] = "",
        [TRACKLE_VERB_TICKET_NEW] = "ticket new",
        [TRACKLE_VERB_TICKET_LIST] = "ticket list",
        [TRACKLE_VERB_TICKET_SHOW] = "ticket show",
        [TRACKLE_VERB_SHELL] = "shell",
        [TRACKLE_VERB_SESSION_LIST] = "session list",
        [TRACKLE_VERB_SESSION_SHOW] = "session show",
        [TRACKLE_VERB_SESSION_DIFF] = "session diff",
        [TRACKLE_VERB_SESSION_FILES] = "session files",
};

const char *trackle_verb_to_string(TrackleVerb v)
{
        return v >= 0 && v < _TRACKLE_VERB_MAX ? verb_names[v] : NULL;
}

static const char help_overview[] =
        "Usage: trackle [--help] [--version] COMMAND [ARG]...\n"
        "       trackle                   (on a terminal: the screen)\n\n"
        "Tickets and tracked shell sessions of trackled(8). See trackle(1).\n"
        "Without arguments on a terminal: the full-screen ticket overview and detail, with\n"
        "editing and tracked shells (keys on its last line).\n\n"
        "Commands:\n"
        "  ticket new --summary TEXT [--description TEXT]\n"
        "                              open a ticket; prints its number\n"
        "  ticket list [--json]        list the tickets\n"
        "  ticket show N [--json]      show a ticket, its history and sessions\n"
        "  shell [TICKET] [-c COMMAND] [--preload PATH] [--steal] [--no-select]\n"
        "                              a tracked shell (or one command) for a ticket\n"
        "  session list [--ticket N] [--json]\n"
        "                              list the recorded sessions, newest last\n"
        "  session show ID [--json]    commands and changed files of a session\n"
        "  session diff ID [PATH] [--color=WHEN]\n"
        "                              the changes of a session as unified diffs\n"
        "  session files ID --show PATH | --hide PATH\n"
        "                              show or hide a changed file by default\n\n"
        "Options:\n"
        "  -h --help                   show this help (after a command: its help)\n"
        "     --version                show the version\n";

static const char help_ticket[] = "Usage: trackle ticket new --summary TEXT [--description TEXT]\n"
                                  "       trackle ticket list [--json]\n"
                                  "       trackle ticket show N [--json]\n";

static const char help_ticket_new[] =
        "Usage: trackle ticket new --summary TEXT [--description TEXT]\n\n"
        "Open a ticket and print its number (alone on a line).\n\n"
        "  -s --summary=TEXT           one line, 1 to 200 characters (required)\n"
        "  -d --description=TEXT       the long description\n"
        "  -h --help                   show this help\n";

static const char help_ticket_list[] =
        "Usage: trackle ticket list [--json]\n\n"
        "List the tickets by number.\n\n"
        "     --json                   print trackled's array of ticket objects\n"
        "  -h --help                   show this help\n";

static const char help_ticket_show[] =
        "Usage: trackle ticket show N [--json]\n\n"
        "Show ticket N with its history, sessions and lock.\n\n"
        "     --json                   print trackled's ticket object\n"
        "  -h --help                   show this help\n";

static const char help_shell[] =
        "Usage: trackle shell [TICKET] [-c COMMAND] [--preload PATH] [--steal] [--no-select]\n\n"
        "Run a tracked shell for TICKET (taking its lock) or, with -c, one command string\n"
        "in the same tracked environment. At the end the changed files are listed on\n"
        "stderr and the last line on stdout is \"trackle-session: ID\".\n\n"
        "  -c --command=COMMAND        run COMMAND with bash -c instead of a shell\n"
        "     --preload=PATH           use this interposition library "
        "(default: " TRACKLE_PRELOAD_NAME ")\n"
        "     --steal                  take the ticket's lock from another session\n"
        "     --no-select              do not ask which files to hide (trackle's screen asks)\n"
        "  -h --help                   show this help\n";

static const char help_session[] =
        "Usage: trackle session list [--ticket N] [--json]\n"
        "       trackle session show ID [--json]\n"
        "       trackle session diff ID [PATH] [--color=auto|always|never]\n"
        "       trackle session files ID --show PATH | --hide PATH\n";

static const char help_session_list[] =
        "Usage: trackle session list [--ticket N] [--json]\n\n"
        "List the sessions, newest last.\n\n"
        "  -t --ticket=N               only the sessions of ticket N\n"
        "     --json                   print trackled's array of session objects\n"
        "  -h --help                   show this help\n";

static const char help_session_show[] =
        "Usage: trackle session show ID [--json]\n\n"
        "Show a session: who, when, its commands and its changed files.\n\n"
        "     --json                   print trackled's session object (see trackle(1))\n"
        "  -h --help                   show this help\n";

static const char help_session_diff[] =
        "Usage: trackle session diff ID [PATH] [--color=auto|always|never]\n\n"
        "Print the changes of a session (or of PATH only) as unified diffs.\n\n"
        "     --color=WHEN             colour the diff: auto (on a terminal), always, never\n"
        "  -h --help                   show this help\n";

static const char help_session_files[] =
        "Usage: trackle session files ID --show PATH | --hide PATH\n\n"
        "Choose whether a changed file of the session is shown by default.\n\n"
        "     --show=PATH              show PATH by default\n"
        "     --hide=PATH              hide PATH by default\n"
        "  -h --help                   show this help\n";

const char *trackle_help_text(TrackleVerb v, const char *group)
{
        switch (v) {
        case TRACKLE_VERB_TICKET_NEW:
                return help_ticket_new;
        case TRACKLE_VERB_TICKET_LIST:
                return help_ticket_list;
        case TRACKLE_VERB_TICKET_SHOW:
                return help_ticket_show;
        case TRACKLE_VERB_SHELL:
                return help_shell;
        case TRACKLE_VERB_SESSION_LIST:
                return help_session_list;
        case TRACKLE_VERB_SESSION_SHOW:
                return help_session_show;
        case TRACKLE_VERB_SESSION_DIFF:
                return help_session_diff;
        case TRACKLE_VERB_SESSION_FILES:
                return help_session_files;
        default:
                if (streq_ptr(group, "ticket"))
                        return help_ticket;
                if (streq_ptr(group, "session"))
                        return help_session;
                return help_overview;
        }
}

int trackle_parse_id(const char *s, uint64_t *ret)
{
        uint64_t v;

        if (isempty(s) || s[0] < '1' || s[0] > '9')
                return -EINVAL;
        if (parse_uint64(s, &v) < 0 || v > INT64_MAX)
                return -EINVAL;
        *ret = v;
        return 0;
}

_printf_(2, 3) static int usage_error(TrackleVerb v, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "trackle%s%s: ", v == TRACKLE_VERB_NONE ? "" : " ",
                trackle_verb_to_string(v));
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(" See --help.\n", stderr);
        return -EINVAL;
}

enum {
        ARG_JSON = 0x100,
        ARG_STEAL,
        ARG_NO_SELECT,
        ARG_KEYED,
        ARG_PRELOAD,
        ARG_COLOR,
        ARG_SHOW,
        ARG_HIDE,
};

/* Options of one verb, parsed from argv[0] = the verb's name on. */
static int parse_verb(TrackleVerb v, int argc, char **argv, TrackleArgs *a)
{
        /* clang-format off */
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"json", no_argument, NULL, ARG_JSON},
                {"summary", required_argument, NULL, 's'},
                {"description", required_argument, NULL, 'd'},
                {"command", required_argument, NULL, 'c'},
                {"preload", required_argument, NULL, ARG_PRELOAD},
                {"steal", no_argument, NULL, ARG_STEAL},
                {"no-select", no_argument, NULL, ARG_NO_SELECT},
                {"keyed", optional_argument, NULL, ARG_KEYED},
                {"ticket", required_argument, NULL, 't'},
                {"color", required_argument, NULL, ARG_COLOR},
                {"colour", required_argument, NULL, ARG_COLOR},
                {"show", required_argument, NULL, ARG_SHOW},
                {"hide", required_argument, NULL, ARG_HIDE},
                {}
        };
        /* clang-format on */
        const char *files_show = NULL, *files_hide = NULL;
        int c, n_pos;
        char **pos;

        opterr = 0;
        optind = 0; /* re-initialise getopt for this argument vector */
        while ((c = getopt_long(argc, argv, "hs:d:c:t:", options, NULL)) >= 0) {
                bool ok;

                switch (c) {
                case 'h':
                        a->action = TRACKLE_ACTION_HELP;
                        return 0;
                case ARG_JSON:
                        ok = v == TRACKLE_VERB_TICKET_LIST || v == TRACKLE_VERB_TICKET_SHOW ||
                             v == TRACKLE_VERB_SESSION_LIST || v == TRACKLE_VERB_SESSION_SHOW;
                        a->json = true;
                        break;
                case 's':
                        ok = v == TRACKLE_VERB_TICKET_NEW;
                        a->summary = optarg;
                        break;
                case 'd':
                        ok = v == TRACKLE_VERB_TICKET_NEW;
                        a->description = optarg;
                        break;
                case 'c':
                        ok = v == TRACKLE_VERB_SHELL;
                        a->command = optarg;
                        break;
                case ARG_PRELOAD:
                        /* A bare name is searched by ld.so; a relative path is made
                         * absolute by the shell module. */
                        ok = v == TRACKLE_VERB_SHELL;
                        if (ok && isempty(optarg))
                                return usage_error(v, "%s", "--preload needs a path.");
                        a->preload = optarg;
                        break;
                case ARG_STEAL:
                        ok = v == TRACKLE_VERB_SHELL;
                        a->steal = true;
                        break;
                case ARG_NO_SELECT:
                        ok = v == TRACKLE_VERB_SHELL;
                        a->no_select = true;
                        break;
                case ARG_KEYED:
                        ok = v == TRACKLE_VERB_SHELL;
                        a->keyed = true;
                        if (ok && optarg) {
                                uint32_t fd;

                                if (parse_uint32(optarg, &fd) < 0 || fd < 3 || fd > INT32_MAX)
                                        return usage_error(v, "Invalid --keyed '%s'.", optarg);
                                a->keyed_fd = (int)fd;
                        }
                        break;
                case 't':
                        ok = v == TRACKLE_VERB_SESSION_LIST;
                        if (ok && trackle_parse_id(optarg, &a->ticket) < 0)
                                return usage_error(v, "Invalid ticket number '%s'.", optarg);
                        a->has_ticket = true;
                        break;
                case ARG_COLOR:
                        ok = v == TRACKLE_VERB_SESSION_DIFF;
                        if (!ok)
                                break;
                        if (streq(optarg, "auto"))
                                a->color = TRACKLE_COLOR_AUTO;
                        else if (streq(optarg, "always"))
                                a->color = TRACKLE_COLOR_ALWAYS;
                        else if (streq(optarg, "never"))
                                a->color = TRACKLE_COLOR_NEVER;
                        else
                                return usage_error(
                                        v, "Invalid --color '%s': expected auto, always or never.",
                                        optarg);
                        break;
                case ARG_SHOW:
                        ok = v == TRACKLE_VERB_SESSION_FILES;
                        files_show = optarg;
                        break;
                case ARG_HIDE:
                        ok = v == TRACKLE_VERB_SESSION_FILES;
                        files_hide = optarg;
                        break;
                default:
                        return usage_error(v, "Unknown option or missing argument '%s'.",
                                           argv[optind - 1]);
                }
                if (!ok)
                        return usage_error(v, "Option '%s' does not apply here.", argv[optind - 1]);
        }

        pos = argv + optind;
        n_pos = argc - optind;
        switch (v) {
        case TRACKLE_VERB_TICKET_NEW:
                if (!a->summary)
                        return usage_error(v, "%s", "--summary is required.");
                if (n_pos > 0)
                        return usage_error(v, "Unexpected argument '%s'.", pos[0]);
                break;
        case TRACKLE_VERB_TICKET_LIST:
        case TRACKLE_VERB_SESSION_LIST:
                if (n_pos > 0)
                        return usage_error(v, "Unexpected argument '%s'.", pos[0]);
                break;
        case TRACKLE_VERB_SHELL:
                if (n_pos > 1)
                        return usage_error(v, "Unexpected argument '%s'.", pos[1]);
                if (n_pos == 1) {
                        if (trackle_parse_id(pos[0], &a->ticket) < 0)
                                return usage_error(v, "Invalid ticket number '%s'.", pos[0]);
                        a->has_ticket = true;
                }
                break;
        case TRACKLE_VERB_TICKET_SHOW:
        case TRACKLE_VERB_SESSION_SHOW:
        case TRACKLE_VERB_SESSION_DIFF:
        case TRACKLE_VERB_SESSION_FILES:
                if (n_pos < 1)
                        return usage_error(v, "%s",
                                           v == TRACKLE_VERB_TICKET_SHOW
                                                   ? "Which ticket? A number is required."
                                                   : "Which session? An ID is required.");
                if (trackle_parse_id(pos[0], &a->id) < 0)
                        return usage_error(v, "Invalid number '%s'.", pos[0]);
                if (v == TRACKLE_VERB_SESSION_DIFF && n_pos == 2)
                        a->path = pos[1];
                else if (n_pos > 1)
                        return usage_error(v, "Unexpected argument '%s'.", pos[1]);
                if (v == TRACKLE_VERB_SESSION_FILES) {
                        if (!!files_show == !!files_hide)
                                return usage_error(
                                        v, "%s",
                                        "Exactly one of --show PATH and --hide PATH is required.");
                        a->path = files_show ?: files_hide;
                        a->shown = !!files_show;
                }
                break;
        default:
                return -EINVAL;
        }
        return 0;
}

static TrackleVerb verb_from_words(const char *group, const char *verb)
{
        for (TrackleVerb v = TRACKLE_VERB_TICKET_NEW; v < _TRACKLE_VERB_MAX; v++) {
                const char *n = verb_names[v], *sp = strchr(n, ' ');

                if (!sp)
                        continue;
                if (strncmp(n, group, (size_t)(sp - n)) == 0 && group[sp - n] == 0 &&
                    streq(sp + 1, verb))
                        return v;
        }
        return TRACKLE_VERB_NONE;
}

int trackle_args_parse(int argc, char **argv, TrackleArgs *ret)
{
        TrackleArgs a = {.action = TRACKLE_ACTION_RUN, .keyed_fd = -1};
        const char *word;
        int i = 1, r;

        /* Global options come before the command; getopt is not used here because every
         * later option belongs to the subcommand. */
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
                        a.action = TRACKLE_ACTION_HELP;
                        *ret = a;
                        return 0;
                }
                if (streq(argv[i], "--version")) {
                        a.action = TRACKLE_ACTION_VERSION;
                        *ret = a;
                        return 0;
                }
                if (streq(argv[i], "--")) {
                        i++;
                        break;
                }
                return usage_error(TRACKLE_VERB_NONE, "Unknown option '%s'.", argv[i]);
        }
        if (i >= argc)
                return usage_error(TRACKLE_VERB_NONE, "%s", "A command is required.");

        word = argv[i];
        if (streq(word, "shell")) {
                a.verb = TRACKLE_VERB_SHELL;
                r = parse_verb(a.verb, argc - i, argv + i, &a);
        } else if (streq(word, "ticket") || streq(word, "session")) {
                a.group = word;
                if (i + 1 >= argc)
                        return usage_error(TRACKLE_VERB_NONE, "'%s' needs a command.", word);
                if (streq(argv[i + 1], "-h") || streq(argv[i + 1], "--help")) {
                        a.action = TRACKLE_ACTION_HELP;
                        *ret = a;
                        return 0;
                }
                a.verb = verb_from_words(word, argv[i + 1]);
                if (a.verb == TRACKLE_VERB_NONE) {
                        fprintf(stderr, "trackle: Unknown command '%s %s'. See --help.\n", word,
                                argv[i + 1]);
                        return -EINVAL;
                }
                r = parse_verb(a.verb, argc - i - 1, argv + i + 1, &a);
        } else
                return usage_error(TRACKLE_VERB_NONE, "Unknown command '%s'.", word);
        if (r < 0)
                return r;
        *ret = a;
        return 0;
}
