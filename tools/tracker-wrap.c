/* tracker-wrap.c - place, remove, list and repair tracker wrappers. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "tracker-wrap-core.h"

#define EXIT_USAGE 2

static Wrap arg_wrap = {
        .shim = TRACKER_SHIM_PATH,
        .list_dir = TRACKED_LIST_DIR,
        .state = TRACKER_WRAP_STATE,
};
static bool arg_force, arg_all;

static void help(void)
{
        printf("Usage: tracker-wrap [OPTION]... COMMAND [PATH]...\n\n"
               "Places tracker wrappers: PATH becomes a symlink to the tracker shim and the real\n"
               "program moves to PATH.t%%. See tracker-wrap(8).\n\n"
               "Commands:\n"
               "  add PATH...          wrap PATH now and list it in %s/%s\n"
               "  remove PATH...       unwrap PATH and drop it from %s\n"
               "  remove --all         unwrap everything (lists are kept)\n"
               "  list                 show the wrapped programs and their state\n"
               "  sync                 make the wrappers match the lists in %s\n"
               "  rpm-unwrap           unwrap the paths read from standard input (RPM triggers)\n\n"
               "Options:\n"
               "  -h --help            show this help\n"
               "     --version         show the version\n"
               "  -f --force           wrap files of Essential packages too\n"
               "  -a --all             with remove: every wrapper\n"
               "  -q --quiet           only report problems\n"
               "     --shim=PATH       the shim (default %s)\n"
               "     --lists=DIR       the list directory (default %s)\n"
               "     --state=FILE      the wrapped list without dpkg (default %s)\n"
               "     --backend=dpkg|plain  how to move files (default: dpkg if present)\n",
               TRACKED_LIST_DIR, WRAP_LOCAL_LIST, WRAP_LOCAL_LIST, TRACKED_LIST_DIR,
               TRACKER_SHIM_PATH, TRACKED_LIST_DIR, TRACKER_WRAP_STATE);
}

static int parse_argv(int argc, char **argv)
{
        enum { ARG_VERSION = 0x100, ARG_SHIM, ARG_LISTS, ARG_STATE, ARG_BACKEND };
        static const struct option options[] = {{"help", no_argument, NULL, 'h'},
                                                {"version", no_argument, NULL, ARG_VERSION},
                                                {"force", no_argument, NULL, 'f'},
                                                {"all", no_argument, NULL, 'a'},
                                                {"quiet", no_argument, NULL, 'q'},
                                                {"shim", required_argument, NULL, ARG_SHIM},
                                                {"lists", required_argument, NULL, ARG_LISTS},
                                                {"state", required_argument, NULL, ARG_STATE},
                                                {"backend", required_argument, NULL, ARG_BACKEND},
                                                {}};
        int c;

        arg_wrap.backend = wrap_backend_detect();
        while ((c = getopt_long(argc, argv, "hfaq", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("tracker-wrap (tracksuite) %s\n", PROJECT_VERSION);
                        return 0;
                case 'f':
                        arg_force = true;
                        break;
                case 'a':
                        arg_all = true;
                        break;
                case 'q':
                        arg_wrap.quiet = true;
                        break;
                case ARG_SHIM:
                        if (optarg[0] != '/')
                                return log_error_errno(EINVAL, "--shim= needs an absolute path.");
                        arg_wrap.shim = optarg;
                        break;
                case ARG_LISTS:
                        arg_wrap.list_dir = optarg;
                        break;
                case ARG_STATE:
                        arg_wrap.state = optarg;
                        break;
                case ARG_BACKEND:
                        if (streq(optarg, "dpkg"))
                                arg_wrap.backend = WRAP_BACKEND_DPKG;
                        else if (streq(optarg, "plain"))
                                arg_wrap.backend = WRAP_BACKEND_PLAIN;
                        else
                                return log_error_errno(EINVAL, "Unknown backend '%s'.", optarg);
                        break;
                default:
                        return -EINVAL;
                }
        return 1;
}

/* One tracker-wrap at a time: package triggers and an administrator may overlap. */
static int take_lock(void)
{
        const char *dir = access("/run/lock", W_OK) >= 0 ? "/run/lock" : "/tmp";
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "%s/tracksuite-wrap.lock", dir);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open the lock '%s': %m", path);
        if (flock(fd, LOCK_EX) < 0)
                return log_error_errno(errno, "Cannot take the lock '%s': %m", path);
        return fd;
}

static int cmd_add(char **paths, int n)
{
        _cleanup_wrap_list_ WrapList list = {};
        int failed = 0;

        (void)wrap_list_load(arg_wrap.list_dir, false, &list);
        for (int i = 0; i < n; i++) {
                int r = wrap_add(&arg_wrap, paths[i], arg_force);
                if (r < 0) {
                        failed++;
                        continue;
                }
                if (r == 1 && !arg_wrap.quiet)
                        log_info("'%s' is already wrapped.", paths[i]);
                if (!wrap_list_find(&list, paths[i])) {
                        r = wrap_list_local_add(arg_wrap.list_dir, paths[i], arg_force);
                        if (r < 0) {
                                log_error_errno(r, "Cannot add '%s' to %s/%s: %m", paths[i],
                                                arg_wrap.list_dir, WRAP_LOCAL_LIST);
                                failed++;
                        }
                }
        }
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int cmd_remove(char **paths, int n)
{
        _cleanup_wrap_list_ WrapList list = {};
        int failed = 0;

        if (arg_all) {
                char **v = NULL;
                size_t m = 0;
                int r;

                if (n > 0) {
                        log_error("remove --all takes no paths.");
                        return EXIT_USAGE;
                }
                r = wrap_wrapped(&arg_wrap, &v, &m);
                if (r < 0) {
                        log_error_errno(r, "Cannot list the wrapped programs: %m");
                        return EXIT_FAILURE;
                }
                for (size_t i = 0; i < m; i++)
                        if (wrap_remove(&arg_wrap, v[i]) < 0)
                                failed++;
                wrap_strv_free(v, m);
                return failed ? EXIT_FAILURE : EXIT_SUCCESS;
        }

        (void)wrap_list_load(arg_wrap.list_dir, false, &list);
        for (int i = 0; i < n; i++) {
                const WrapEntry *e = wrap_list_find(&list, paths[i]);
                const char *base;
                int r;

                if (e) {
                        base = strrchr(e->file, '/');
                        base = base ? base + 1 : e->file;
                        if (!streq(base, WRAP_LOCAL_LIST)) {
                                log_error("'%s' is listed in %s:%u; remove it there, or the next "
                                          "sync wraps it again.",
                                          paths[i], e->file, e->line);
                                failed++;
                                continue;
                        }
                        r = wrap_list_local_remove(arg_wrap.list_dir, paths[i]);
                        if (r < 0) {
                                log_error_errno(r, "Cannot update %s: %m", e->file);
                                failed++;
                                continue;
                        }
                }
                r = wrap_remove(&arg_wrap, paths[i]);
                if (r < 0)
                        failed++;
                else if (r == 1 && !arg_wrap.quiet)
                        log_info("'%s' is not wrapped.", paths[i]);
        }
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int cmd_list(void)
{
        char **v = NULL;
        size_t n = 0;
        int r;

        r = wrap_wrapped(&arg_wrap, &v, &n);
        if (r < 0) {
                log_error_errno(r, "Cannot list the wrapped programs: %m");
                return EXIT_FAILURE;
        }
        for (size_t i = 0; i < n; i++)
                printf("%s\t%s\n", v[i], wrap_state_to_string(wrap_state(&arg_wrap, v[i])));
        wrap_strv_free(v, n);
        return EXIT_SUCCESS;
}

static int cmd_rpm_unwrap(void)
{
        char line[4096], **v = NULL;
        size_t n = 0;
        int failed = 0, r;

        r = wrap_wrapped(&arg_wrap, &v, &n);
        if (r < 0) {
                log_error_errno(r, "Cannot list the wrapped programs: %m");
                return EXIT_FAILURE;
        }
        while (fgets(line, sizeof(line), stdin)) {
                line[strcspn(line, "\n")] = '\0';
                for (size_t i = 0; i < n; i++)
                        if (streq(v[i], line) && wrap_remove(&arg_wrap, line) < 0)
                                failed++;
        }
        wrap_strv_free(v, n);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
        _cleanup_close_ int lock = -EBADF;
        const char *cmd;
        char **rest;
        int r, n;

        log_setup("tracker");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
        if (optind >= argc) {
                log_error("Missing command; see --help.");
                return EXIT_USAGE;
        }
        cmd = argv[optind];
        rest = argv + optind + 1;
        n = argc - optind - 1;

        if ((streq(cmd, "add") && n == 0) || (streq(cmd, "remove") && n == 0 && !arg_all) ||
            ((streq(cmd, "list") || streq(cmd, "sync") || streq(cmd, "rpm-unwrap")) && n > 0)) {
                log_error("Wrong arguments for '%s'; see --help.", cmd);
                return EXIT_USAGE;
        }
        if (!streq(cmd, "add") && !streq(cmd, "remove") && !streq(cmd, "list") &&
            !streq(cmd, "sync") && !streq(cmd, "rpm-unwrap")) {
                log_error("Unknown command '%s'; see --help.", cmd);
                return EXIT_USAGE;
        }

        lock = take_lock();
        if (lock < 0)
                return EXIT_FAILURE;
        if (streq(cmd, "add"))
                return cmd_add(rest, n);
        if (streq(cmd, "remove"))
                return cmd_remove(rest, n);
        if (streq(cmd, "list"))
                return cmd_list();
        if (streq(cmd, "rpm-unwrap"))
                return cmd_rpm_unwrap();
        r = wrap_sync(&arg_wrap);
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
