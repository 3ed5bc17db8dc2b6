/* tracker.c - the per-program wrapper: one datagram to trackerd, then exec the real binary. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"
#include "tracker-guard.h"
#include "tracker-send.h"

#define REAL_SUFFIX ".t%"

static const char *base_name(const char *p)
{
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

static char *real_path_for(const char *path)
{
        char *r;

        if (asprintf(&r, "%s%s", path, REAL_SUFFIX) < 0)
                return NULL;
        return r;
}

static bool is_executable_file(const char *path)
{
        struct stat st;

        return stat(path, &st) >= 0 && S_ISREG(st.st_mode) && access(path, X_OK) >= 0;
}

/* Where the symlink at link points, as a path usable from here (a relative target is taken
 * relative to the link's directory). NULL if link is not a symlink. */
static char *follow_link(const char *link)
{
        char target[PATH_MAX];
        const char *slash;
        ssize_t n;
        char *r;

        n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
                return NULL;
        target[n] = '\0';
        slash = strrchr(link, '/');
        if (target[0] == '/' || !slash)
                return strdup(target);
        if (asprintf(&r, "%.*s/%s", (int)(slash - link), link, target) < 0)
                return NULL;
        return r;
}

/* The wrapper that path leads to: path itself if "path.t%" is there, else the first link
 * along path's chain of symlinks that has one ("python3" -> "python3.11" -> tracker, with
 * "python3.11.t%" next to it; "editor" -> /etc/alternatives/editor -> /bin/nano). */
static char *wrapper_from(const char *path)
{
        _cleanup_free_ char *cur = strdup(path);

        /* As many links as the kernel itself follows (MAXSYMLINKS). */
        for (unsigned i = 0; cur && i <= 40; i++) {
                _cleanup_free_ char *real = real_path_for(cur);
                char *next;

                if (!real)
                        return NULL;
                if (is_executable_file(real))
                        return TAKE_PTR(cur);
                next = follow_link(cur);
                free(cur);
                cur = next;
        }
        return NULL;
}

/* Find the wrapper (the symlink whose "PATH.t%" is the real program) for the path we were
 * started through. argv[0] is what the caller chose (a shebang line puts the interpreter
 * there); AT_EXECFN is the file given to execve(), which is right after a PATH search by a
 * shell. Then search $PATH like execvp() does; last, AT_EXECFN whatever argv[0] says (a login
 * shell's "-bash"). Each candidate is followed through its chain of symlinks. */
static char *find_wrapper(const char *argv0, const char *execfn)
{
        _cleanup_free_ char *c = NULL;
        const char *path, *p;
        bool have_execfn = execfn && strchr(execfn, '/');
        char *w;

        if (strchr(argv0, '/') && (w = wrapper_from(argv0)))
                return w;
        if (have_execfn && streq(base_name(execfn), base_name(argv0)) && (w = wrapper_from(execfn)))
                return w;
        path = getenv("PATH");
        if (!isempty(path) && !isempty(argv0) && !strchr(argv0, '/'))
                for (p = path; p;) {
                        const char *end = strchr(p, ':');
                        size_t len = end ? (size_t)(end - p) : strlen(p);

                        if (asprintf(&c, "%.*s/%s", len ? (int)len : 1, len ? p : ".", argv0) < 0)
                                return NULL;
                        if (access(c, X_OK) >= 0 && (w = wrapper_from(c)))
                                return w;
                        free(TAKE_PTR(c));
                        p = end ? end + 1 : NULL;
                }
        if (have_execfn)
                return wrapper_from(execfn);
        return NULL;
}

/* The path to hand to execve() for the real program of wrapper DIR/NAME. The kernel names the
 * process after the basename of that path, not after the file it resolves to, so DIR/.t%/NAME
 * (a symlink to ../NAME.t% placed by tracker-wrap) keeps the process name NAME for pgrep -x,
 * ps -C and killall. It is used only if it is the very same file as DIR/NAME.t%. */
static char *exec_path_for(const char *wrapper)
{
        _cleanup_free_ char *real = real_path_for(wrapper), *named = NULL;
        const char *base = base_name(wrapper);
        struct stat a, b;

        if (!real)
                return NULL;
        if (asprintf(&named, "%.*s%s/%s", (int)(base - wrapper), wrapper, REAL_SUFFIX, base) < 0)
                return TAKE_PTR(real);
        if (stat(named, &a) < 0 || stat(real, &b) < 0 || a.st_dev != b.st_dev ||
            a.st_ino != b.st_ino)
                return TAKE_PTR(real);
        return TAKE_PTR(named);
}

static const char *config_path(void)
{
        const char *e = getenv(TRACKER_CONFIG_ENV);
        return isempty(e) ? TRACKER_CONFIG_FILE : e;
}

static void help(void)
{
        printf("Usage: tracker [OPTION]...\n"
               "       PROGRAM [ARG]...   (through a symlink named after PROGRAM)\n\n"
               "Counts each run of a tracked program with one UDP datagram to trackerd, then\n"
               "executes PROGRAM%s with the same arguments and environment.\n\n"
               "  -h --help                 show this help\n"
               "     --version              show the version\n"
               "     --check-config [FILE]  check the configuration file (default %s)\n"
               "     --show-config          show the collector that would be used\n"
               "     --send PROGRAM         send one datagram for PROGRAM and report the result\n\n"
               "Environment: TRACKSUITE_TRACKER_SERVER=host[:port], "
               "TRACKSUITE_TRACKER_CONFIG=FILE,\n"
               "TRACKING=name:depth:time (recursion guard). See tracker(1).\n",
               REAL_SUFFIX, TRACKER_CONFIG_FILE);
}

/* Run as "tracker" itself: administration options only, never exec anything. */
static int tool_main(int argc, char **argv)
{
        enum { ARG_VERSION = 0x100, ARG_CHECK, ARG_SHOW, ARG_SEND };
        static const struct option options[] = {{"help", no_argument, NULL, 'h'},
                                                {"version", no_argument, NULL, ARG_VERSION},
                                                {"check-config", no_argument, NULL, ARG_CHECK},
                                                {"show-config", no_argument, NULL, ARG_SHOW},
                                                {"send", required_argument, NULL, ARG_SEND},
                                                {}};
        TrackerConfig cfg = {};
        ConfError err = {};
        const char *send = NULL, *path = config_path();
        int c, action = 0, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("tracker (tracksuite) %s\n", PROJECT_VERSION);
                        return 0;
                case ARG_CHECK:
                case ARG_SHOW:
                        action = c;
                        break;
                case ARG_SEND:
                        action = c;
                        send = optarg;
                        break;
                default:
                        return 2;
                }
        if (action == 0) {
                fprintf(stderr, "tracker: not meant to be run directly; it runs as a symlink "
                                "named after a tracked program. See --help.\n");
                return 2;
        }
        if (action == ARG_CHECK && optind < argc)
                path = argv[optind++];
        if (optind < argc) {
                fprintf(stderr, "tracker: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }

        r = tracker_config_load(path, &cfg, &err);
        if (r < 0) {
                if (err.line > 0)
                        fprintf(stderr, "%s:%u: %s\n", path, err.line, err.message);
                else
                        fprintf(stderr, "%s: %s\n", path,
                                err.message[0] ? err.message : strerror(-r));
                return 1;
        }
        if (action == ARG_CHECK) {
                printf("%s: OK\n", path);
        } else if (action == ARG_SHOW) {
                printf("Server=%s\nResolveTimeoutMSec=%llu\n", tracker_server_spec(&cfg),
                       (unsigned long long)cfg.resolve_timeout_ms);
        } else {
                TrackerUse u;
                char why[256];
                int gai = 0;

                r = tracker_use_fill(&u, send);
                if (r >= 0)
                        r = tracker_send(tracker_server_spec(&cfg), cfg.resolve_timeout_ms, &u,
                                         &gai);
                if (r < 0) {
                        fprintf(stderr, "tracker: sending to '%s' failed: %s\n",
                                tracker_server_spec(&cfg),
                                tracker_send_strerror(r, gai, cfg.resolve_timeout_ms, why,
                                                      sizeof(why)));
                        tracker_config_done(&cfg);
                        return 1;
                }
                printf("sent %s@%s %s to %s\n", u.user, u.host, u.program,
                       tracker_server_spec(&cfg));
        }
        tracker_config_done(&cfg);
        return 0;
}

static void count_use(const char *program)
{
        TrackerConfig cfg;
        TrackerUse u;

        /* A broken configuration sends nothing rather than guessing; tracker --check-config
         * tells the administrator why. */
        if (tracker_config_load(config_path(), &cfg, NULL) < 0)
                return;
        if (tracker_use_fill(&u, program) >= 0)
                (void)tracker_send(tracker_server_spec(&cfg), cfg.resolve_timeout_ms, &u, NULL);
        tracker_config_done(&cfg);
}

int main(int argc, char **argv)
{
        const char *execfn = (const char *)getauxval(AT_EXECFN);
        const char *argv0 = argc > 0 && argv[0] ? argv[0] : "";
        _cleanup_free_ char *wrapper = NULL, *exe = NULL;
        char tracking[TRACKER_PROGRAM_MAX + 64];
        const char *program;
        unsigned depth;
        time_t now;

        if (streq(base_name(argv0), "tracker") ||
            (isempty(argv0) && execfn && streq(base_name(execfn), "tracker")))
                return tool_main(argc, argv);

        wrapper = find_wrapper(argv0, execfn);
        if (!wrapper) {
                fprintf(stderr,
                        "tracker: cannot find the real program for '%s' (expected '%s%s')\n", argv0,
                        argv0, REAL_SUFFIX);
                return 127;
        }
        /* The program's name is the one of the wrapper, the link tracker-wrap placed. */
        program = base_name(wrapper);

        now = time(NULL);
        if (tracking_next_depth(getenv(TRACKING_ENV), program, now, &depth) < 0) {
                fprintf(stderr,
                        "tracker: '%s' started itself %d times within a second, aborting to "
                        "stop a loop (see TRACKING in tracker(1))\n",
                        program, TRACKING_DEPTH_MAX);
                return 126;
        }
        if (tracking_format(tracking, sizeof(tracking), program, depth, now) >= 0)
                (void)setenv(TRACKING_ENV, tracking, 1);

        if (strlen(program) <= TRACKER_PROGRAM_MAX)
                count_use(program);

        exe = exec_path_for(wrapper);
        if (!exe) {
                fprintf(stderr, "tracker: out of memory\n");
                return 126;
        }
        execv(exe, argv);
        fprintf(stderr, "tracker: cannot execute '%s': %m\n", exe);
        return errno == ENOENT ? 127 : 126;
}
