/* trackle-shell-prompt.c - trackle-shell-prompt(1): "Trackle" in bold green when this process
 * is in a tracked session (exit 0), nothing otherwise (exit 1). The same check as
 * libtrackle.so (lib/trackle-identity.c): kernel facts and root-owned markers; the
 * TRACKLE_SESSION variable is only a hint of which marker to look at. */
#include <getopt.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>
#include <term.h>

#include "config.h"
#include "macro.h"
#include "trackle-identity.h"

typedef enum Mode {
        MODE_PLAIN_LINE, /* "Trackle\n" */
        MODE_PS1,        /* for a bash/readline prompt: escapes between \001 and \002, a space */
        MODE_QUIET,      /* the exit status only */
        MODE_SESSION,    /* the session id */
} Mode;

static void help(void)
{
        printf("Usage: trackle-shell-prompt [OPTIONS]\n"
               "\n"
               "Print \"Trackle\" (bold green on a colour terminal) and exit 0 when run inside\n"
               "a tracked trackle session; print nothing and exit 1 outside one.\n"
               "\n"
               "  -p --ps1           For a prompt: colour codes between \\001 and \\002 (which\n"
               "                     readline does not count), a space after \"Trackle\", no\n"
               "                     newline. PS1='$(trackle-shell-prompt -p)'\"$PS1\"\n"
               "  -q --quiet         Print nothing; only the exit status\n"
               "  -s --session       Print the trackle session id instead\n"
               "     --color=WHEN    auto (default: when standard output or standard error is\n"
               "                     a terminal whose terminfo has colours), always, never\n"
               "  -h --help          Show this help\n"
               "     --version       Show the version\n"
               "\n"
               "See trackle-shell-prompt(1).\n");
}

/* A colour terminal: standard output or, under $(...), standard error is one, and its
 * terminfo entry knows at least 8 colours. */
static bool colour_terminal(void)
{
        int fd = isatty(STDOUT_FILENO) ? STDOUT_FILENO : isatty(STDERR_FILENO) ? STDERR_FILENO : -1;
        int err = 0, colours;

        if (fd < 0)
                return false;
        if (setupterm(NULL, fd, &err) != OK)
                return false;
        colours = tigetnum("colors");
        (void)del_curterm(cur_term);
        return colours >= 8;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"ps1", no_argument, NULL, 'p'},          {"quiet", no_argument, NULL, 'q'},
                {"session", no_argument, NULL, 's'},      {"color", required_argument, NULL, 'c'},
                {"colour", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},      {},
        };
        const char *hint_text = getenv("TRACKLE_SESSION");
        Mode mode = MODE_PLAIN_LINE;
        int color = -1, c;
        uint64_t hint = 0, id;
        bool colour;

        setlocale(LC_ALL, "");
        while ((c = getopt_long(argc, argv, "pqsh", options, NULL)) >= 0)
                switch (c) {
                case 'p':
                        mode = MODE_PS1;
                        break;
                case 'q':
                        mode = MODE_QUIET;
                        break;
                case 's':
                        mode = MODE_SESSION;
                        break;
                case 'c':
                        if (streq(optarg, "auto"))
                                color = -1;
                        else if (streq(optarg, "always"))
                                color = 1;
                        else if (streq(optarg, "never"))
                                color = 0;
                        else {
                                fprintf(stderr, "trackle-shell-prompt: --color is auto, always "
                                                "or never\n");
                                return 2;
                        }
                        break;
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("trackle-shell-prompt (tracksuite) %s\n", PROJECT_VERSION);
                        return 0;
                default:
                        fprintf(stderr, "Try 'trackle-shell-prompt --help'.\n");
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "trackle-shell-prompt: no arguments expected\n"
                                "Try 'trackle-shell-prompt --help'.\n");
                return 2;
        }
        if (hint_text && !trackle_parse_u64(hint_text, strlen(hint_text), &hint))
                hint = 0;
        if (!trackle_identity_check(hint, &id, NULL))
                return 1;

        colour = color >= 0 ? color == 1 : colour_terminal();
        switch (mode) {
        case MODE_QUIET:
                return 0;
        case MODE_SESSION:
                printf("%" PRIu64 "\n", id);
                break;
        case MODE_PS1:
                if (colour)
                        fputs("\001\033[1;32m\002Trackle\001\033[0m\002 ", stdout);
                else
                        fputs("Trackle ", stdout);
                break;
        case MODE_PLAIN_LINE:
                puts(colour ? "\033[1;32mTrackle\033[0m" : "Trackle");
                break;
        }
        return fflush(stdout) == 0 ? 0 : 1;
}
