/* main.c - trackerd: socket-activated collector of tracker datagrams. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "listen.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "state.h"
#include "trackerd-config.h"
#include "trackerd-ids.h"
#include "trackerd-server.h"
#include "trackerd-store.h"

static const int stop_signals[] = {SIGTERM, SIGINT};
static const char *arg_config = TRACKERD_CONFIG_FILE;
static const char *arg_db;
static const char *arg_listen[TRACKERD_FDS_MAX];
static size_t arg_n_listen;
static bool arg_check_config;

static void help(void)
{
        printf("Usage: trackerd [OPTION]...\n\n"
               "Collects tracker datagrams (UDP port %d) and counts each use in SQLite.\n"
               "Normally started by tracker.socket; SIGHUP reloads the configuration. See "
               "trackerd(8).\n\n"
               "  -h --help            show this help\n"
               "     --version         show the version\n"
               "  -c --config=FILE     configuration file (default %s)\n"
               "     --check-config    report every problem in the configuration; exit 1 if any\n"
               "  -d --db=PATH         database (default $STATE_DIRECTORY/tracker.db, else %s)\n"
               "  -l --listen=ADDR     bind ADDR (e.g. [::]:1738) when not socket-activated\n",
               TRACKER_DEFAULT_PORT, TRACKERD_CONFIG_FILE, TRACKER_DB_DEFAULT);
}

static int parse_argv(int argc, char **argv)
{
        enum { ARG_VERSION = 0x100, ARG_CHECK_CONFIG };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"config", required_argument, NULL, 'c'},
                {"check-config", no_argument, NULL, ARG_CHECK_CONFIG},
                {"db", required_argument, NULL, 'd'},
                {"listen", required_argument, NULL, 'l'},
                {}};
        int c;

        while ((c = getopt_long(argc, argv, "hc:d:l:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("trackerd (tracksuite) %s\n", PROJECT_VERSION);
                        return 0;
                case 'c':
                        arg_config = optarg;
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case 'd':
                        arg_db = optarg;
                        break;
                case 'l':
                        if (arg_n_listen >= TRACKERD_FDS_MAX)
                                return log_error_errno(E2BIG, "Too many --listen addresses.");
                        arg_listen[arg_n_listen++] = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'.", argv[optind]);
        return 1;
}

static int collect_sockets(int *fds, size_t *ret_n)
{
        size_t n = 0;
        int r;

        r = listen_fds_by_name("tracker", SOCK_DGRAM, fds, TRACKERD_FDS_MAX);
        if (r < 0)
                return log_error_errno(r, "Passed sockets are not usable (must be datagram "
                                          "sockets named 'tracker'): %m");
        n = (size_t)r;
        for (size_t i = 0; i < arg_n_listen; i++) {
                if (n >= TRACKERD_FDS_MAX)
                        return log_error_errno(E2BIG, "Too many sockets.");
                r = listen_open(arg_listen[i], SOCK_DGRAM, TRACKER_DEFAULT_PORT);
                if (r < 0)
                        return log_error_errno(r, "Failed to listen on '%s': %m", arg_listen[i]);
                fds[n++] = r;
        }
        if (n == 0)
                return log_error_errno(EINVAL, "No socket passed by the service manager and no "
                                               "--listen= given.");
        *ret_n = n;
        return 0;
}

static void config_warn(const char *file, unsigned line, const char *message, void *userdata)
{
        log_warning("%s:%u: %s", file, line, message);
}

static int config_error(int r, const ConfError *err)
{
        if (r == -ENOMEM)
                return log_error_errno(r, "Out of memory.");
        if (err->line > 0)
                return log_error_errno(r, "%s:%u: %s", arg_config, err->line, err->message);
        return log_error_errno(r, "%s: %s", arg_config,
                               err->message[0] ? err->message : strerror(-r));
}

/* SIGHUP (systemctl reload): read the file again from the defaults and apply it at once. A
 * problem on a line is warned about and ignored as at start; a file that cannot be used at
 * all keeps the running configuration, and says so in STATUS=. */
static int on_reload(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
        TrackerdServer *server = userdata;
        _cleanup_free_ TrackerdConfig *c = malloc(sizeof(*c));
        ConfError err = {};
        int r;

        (void)notify_reloading();
        r = c ? trackerd_config_load(arg_config, c, config_warn, NULL, &err) : -ENOMEM;
        if (r < 0) {
                (void)config_error(r, &err);
                log_error("Reloading failed, keeping the running configuration.");
                (void)notify_ready("Reloading failed, running with the previous configuration "
                                   "(see the journal)");
                return 0;
        }
        trackerd_server_reload(server, c);
        if (r > 0)
                log_warning("Reloaded '%s' with %d problem(s) ignored (see above).", arg_config, r);
        else
                log_info("Reloaded '%s'.", arg_config);
        (void)notify_ready(r > 0 ? "Collecting uses (configuration problems ignored, see the "
                                   "journal)"
                                 : "Collecting uses");
        return 0;
}

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
        TrackerdServer *server = userdata;
        int r;

        (void)notify_stopping();
        r = trackerd_server_drain(server);
        if (r < 0)
                log_error_errno(r, "Some uses could not be stored before exiting: %m");
        return sd_event_exit(sd_event_source_get_event(src), r < 0 ? 1 : 0);
}

static int run(int argc, char **argv)
{
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        TrackerdServer *server = NULL;
        TrackerdStore *store = NULL;
        _cleanup_free_ char *db = NULL;
        TrackerdConfig config;
        TrackerdCounters counters;
        ConfError err = {};
        int fds[TRACKERD_FDS_MAX], n_problems;
        size_t n_fds = 0;
        sigset_t mask;
        int r;

        log_setup("tracker");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        /* Problems on a line are warned about and ignored, so that one typo never stops
         * collection; --check-config reports them all and fails. */
        r = trackerd_config_load(arg_config, &config, config_warn, NULL, &err);
        if (r < 0)
                return config_error(r, &err);
        if (arg_check_config) {
                if (r > 0) {
                        log_error("%s: %d problem(s).", arg_config, r);
                        return 1;
                }
                printf("%s: OK\n", arg_config);
                return 0;
        }
        n_problems = r;

        db = state_path(arg_db, "tracker.db", TRACKER_DB_DEFAULT);
        if (!db)
                return log_error_errno(ENOMEM, "Out of memory.");
        if (state_path_not_regular(db))
                return log_error_errno(EINVAL, "Database '%s' is %s, not a database file.", db,
                                       state_path_not_regular(db));
        r = trackerd_store_open(db, &store);
        if (r < 0)
                return log_error_errno(r, "Failed to open database '%s': %m", db);

        r = collect_sockets(fds, &n_fds);
        if (r < 0) {
                trackerd_store_free(store);
                return r;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");
        r = trackerd_server_new(event, &config, store, fds, n_fds, &server);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the collector: %m");
        for (size_t i = 0; i < ELEMENTSOF(stop_signals); i++) {
                sd_event_source *src;

                r = sd_event_add_signal(event, &src, stop_signals[i], on_signal, server);
                if (r < 0)
                        goto finish;
                /* Before any I/O: on_signal() itself reads what is queued. */
                (void)sd_event_source_set_priority(src, SD_EVENT_PRIORITY_IMPORTANT);
                (void)sd_event_source_set_floating(src, true);
                sd_event_source_unref(src);
        }
        r = sd_event_add_signal(event, NULL, SIGHUP, on_reload, server);
        if (r < 0)
                goto finish;
        (void)sd_event_set_watchdog(event, true);

        log_fields(LOG_INFO, TRACKERD_MID_STARTED, NULL, 0,
                   "trackerd %s collecting on %zu socket(s) into '%s'.", PROJECT_VERSION, n_fds,
                   db);
        (void)notify_ready(n_problems > 0 ? "Collecting uses (configuration problems ignored, "
                                            "see the journal)"
                                          : "Collecting uses");
        r = sd_event_loop(event);

        trackerd_server_counters(server, &counters);
        log_fields(LOG_INFO, TRACKERD_MID_STOPPED, NULL, 0,
                   "trackerd stopping: %llu uses stored, %llu bad datagrams.",
                   (unsigned long long)counters.uses, (unsigned long long)counters.rejected);
finish:
        trackerd_server_free(server);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}

int main(int argc, char **argv)
{
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : r;
}
