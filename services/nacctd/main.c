/* main.c - nacctd: network traffic accounting with libpcap on every interface netlink reports,
 * or over a pcap file with -r. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "state.h"
#include "utf8.h"

#include "nacctd-config.h"
#include "nacctd-daemon.h"

#ifndef NACCTD_CONFIG_FILE
#define NACCTD_CONFIG_FILE "/etc/tracksuite/naccttab"
#endif
#ifndef NACCTD_LEGACY_CONFIG_FILE
#define NACCTD_LEGACY_CONFIG_FILE "/etc/naccttab"
#endif
#ifndef NACCTD_DB_DEFAULT
#define NACCTD_DB_DEFAULT "/var/lib/tracksuite/nacct/nacct.db"
#endif

static const char *arg_config;
static const char *arg_db;
static const char *arg_read;
static const char *arg_interface = "pcap";
static bool arg_check_config;
static bool arg_quiet;

static void help(void)
{
        printf("Usage: nacctd [OPTION]...\n\n"
               "Accounts network traffic per flow into the classic net-acct log and SQLite.\n"
               "See nacctd(8) and naccttab(5).\n\n"
               "  -h --help              show this help\n"
               "     --version           show the version\n"
               "  -c --config=FILE       naccttab (default %s, or %s if only that exists)\n"
               "     --check-config      check the configuration and exit\n"
               "  -r --read=FILE         account the packets of a pcap file, then exit\n"
               "  -i --interface=NAME    the interface name of the packets read with -r\n"
               "                         (default \"pcap\")\n"
               "  -q --quiet             with -r: log only warnings and errors\n"
               "     --db=PATH           database (default $STATE_DIRECTORY/nacct.db, else %s)\n"
               "  -d, -D                 accepted for compatibility: nacctd never detaches\n",
               NACCTD_CONFIG_FILE, NACCTD_LEGACY_CONFIG_FILE, NACCTD_DB_DEFAULT);
}

static int parse_argv(int argc, char **argv)
{
        enum { ARG_VERSION = 0x100, ARG_CHECK_CONFIG, ARG_DB };
        /* clang-format off */
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"config", required_argument, NULL, 'c'},
                {"check-config", no_argument, NULL, ARG_CHECK_CONFIG},
                {"read", required_argument, NULL, 'r'},
                {"interface", required_argument, NULL, 'i'},
                {"db", required_argument, NULL, ARG_DB},
                {"quiet", no_argument, NULL, 'q'},
                {}
        };
        /* clang-format on */
        int c;

        while ((c = getopt_long(argc, argv, "hc:r:i:qdD", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("nacctd (tracksuite) %s\n", PROJECT_VERSION);
                        return 0;
                case 'c':
                        arg_config = optarg;
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case 'r':
                        arg_read = optarg;
                        break;
                case 'i':
                        if (isempty(optarg) || strlen(optarg) > NACCT_IFNAME_MAX ||
                            strpbrk(optarg, " \t/:\\") ||
                            !utf8_is_visible_n(optarg, strlen(optarg))) {
                                char shown[4 * 64 + 1];

                                utf8_escape_invisible_buf(optarg, strnlen(optarg, 64), shown);
                                return log_error_errno(EINVAL, "Invalid interface name '%s'.",
                                                       shown);
                        }
                        arg_interface = optarg;
                        break;
                case ARG_DB:
                        arg_db = optarg;
                        break;
                case 'q':
                        arg_quiet = true;
                        break;
                case 'd':
                case 'D':
                        break;
                default:
                        return log_error_errno(EINVAL, "See --help.");
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'.", argv[optind]);
        if (arg_quiet && !arg_read)
                return log_error_errno(EINVAL, "--quiet is for -r; the daemon logs to the "
                                               "journal, filter it there.");
        return 1;
}

static const char *default_config(void)
{
        if (access(NACCTD_CONFIG_FILE, F_OK) < 0 && access(NACCTD_LEGACY_CONFIG_FILE, F_OK) == 0)
                return NACCTD_LEGACY_CONFIG_FILE;
        return NACCTD_CONFIG_FILE;
}

static int check_config(const char *path)
{
        _cleanup_(nacct_config_freep) NacctConfig *c = NULL;
        NacctConfigReport report;
        int r;

        r = nacct_config_load(path, &report, &c);
        for (size_t i = 0; i < report.n; i++) {
                const NacctConfigMessage *m = &report.messages[i];
                const char *sev = m->severity == NACCT_CONFIG_ERROR     ? ""
                                  : m->severity == NACCT_CONFIG_WARNING ? "warning: "
                                                                        : "notice: ";
                const char *suffix =
                        m->severity == NACCT_CONFIG_WARNING ? " (nacctd ignores this line)" : "";

                if (m->line > 0)
                        fprintf(stderr, "%s:%u: %s%s%s\n", path, m->line, sev, m->text, suffix);
                else
                        fprintf(stderr, "%s: %s%s%s\n", path, sev, m->text, suffix);
        }
        if (report.n_dropped > 0)
                fprintf(stderr, "%s: %zu more messages not shown\n", path, report.n_dropped);
        if (r < 0)
                return r;
        /* The daemon would run, without these lines: still a broken file. */
        if (report.n_warnings > 0) {
                fprintf(stderr, "%s: %zu lines with problems\n", path, report.n_warnings);
                return -EINVAL;
        }
        printf("%s: OK\n", path);
        return 0;
}

static int run(int argc, char **argv)
{
        _cleanup_(nacct_daemon_freep) NacctDaemon *d = NULL;
        _cleanup_free_ char *db = NULL;
        sigset_t mask;
        int r;

        log_setup("nacct");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;
        if (!arg_config)
                arg_config = default_config();
        if (arg_check_config)
                return check_config(arg_config);
        if (arg_quiet)
                log_set_max_level(LOG_WARNING);

        /* Every signal we handle is taken through signalfd (sd-event) or sigpending() (replay):
         * none may run a handler or stop us (SIGTSTP) behind our back. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGUSR1);
        sigaddset(&mask, SIGUSR2);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTSTP);
        sigaddset(&mask, SIGCONT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        db = state_path(arg_db, "nacct.db", NACCTD_DB_DEFAULT);
        if (!db)
                return log_error_errno(ENOMEM, "Out of memory.");
        r = nacct_daemon_new(arg_config, db, &d);
        if (r < 0)
                return r;
        if (arg_read)
                return nacct_daemon_replay(d, arg_read, arg_interface);
        return nacct_daemon_run(d);
}

int main(int argc, char **argv)
{
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : r;
}
