/* main.c - trackled: the daemon of trackle (tracked admin sessions). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <sodium.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "listen.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "state.h"
#include "trackled-config.h"
#include "trackled-ids.h"
#include "trackled-mail.h"
#include "trackled-web-internal.h"
#include "trackled-server.h"
#include "trackled-store.h"

static const char *arg_config = TRACKLE_CONFIG_FILE;
static const char *arg_db;
static const char *arg_listen;
static const char *arg_listen_http;
static bool arg_check_config;

static void help(void)
{
        printf("Usage: trackled [OPTION]...\n\n"
               "Records tracked admin sessions of trackle: commands, file changes, tickets.\n"
               "Normally started by trackled.socket; see trackled(8).\n\n"
               "  -h --help            show this help\n"
               "     --version         show the version\n"
               "  -c --config=FILE     configuration file (default %s)\n"
               "     --check-config    check the configuration and exit\n"
               "  -d --db=PATH         database (default $STATE_DIRECTORY/trackle.db, else %s)\n"
               "     --listen=PATH     bind a unix socket at PATH when not socket-activated\n"
               "     --listen-http=ADDR:PORT\n"
               "                       serve the web on ADDR:PORT when no socket named 'http'\n"
               "                       is passed (default: no web)\n",
               TRACKLE_CONFIG_FILE, TRACKLE_DB_DEFAULT);
}

static int parse_argv(int argc, char **argv)
{
        enum { ARG_VERSION = 0x100, ARG_CHECK_CONFIG, ARG_LISTEN, ARG_LISTEN_HTTP };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"config", required_argument, NULL, 'c'},
                {"check-config", no_argument, NULL, ARG_CHECK_CONFIG},
                {"db", required_argument, NULL, 'd'},
                {"listen", required_argument, NULL, ARG_LISTEN},
                {"listen-http", required_argument, NULL, ARG_LISTEN_HTTP},
                {}};
        int c;

        while ((c = getopt_long(argc, argv, "hc:d:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("trackled (tracksuite) %s\n", PROJECT_VERSION);
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
                case ARG_LISTEN:
                        arg_listen = optarg;
                        break;
                case ARG_LISTEN_HTTP:
                        arg_listen_http = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'.", argv[optind]);
        return 1;
}

static int listen_unix(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        /* A stale socket of an earlier run is replaced, anything else is left alone. */
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
                (void)unlink(path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return negative_errno();
        if (chmod(path, 0666) < 0)
                return negative_errno();
        if (listen(fd, SOMAXCONN) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

static int collect_sockets(int *fds, size_t *ret_n)
{
        size_t n;
        int r;

        r = listen_fds_by_name("control", SOCK_STREAM, fds, TRACKLED_FDS_MAX);
        if (r < 0)
                return log_error_errno(r, "Passed sockets are not usable (must be stream sockets "
                                          "named 'control'): %m");
        n = (size_t)r;
        if (arg_listen) {
                if (n >= TRACKLED_FDS_MAX)
                        return log_error_errno(E2BIG, "Too many sockets.");
                r = listen_unix(arg_listen);
                if (r < 0)
                        return log_error_errno(r, "Failed to listen on '%s': %m", arg_listen);
                fds[n++] = r;
        }
        if (n == 0)
                return log_error_errno(EINVAL, "No socket passed by the service manager and no "
                                               "--listen= given.");
        *ret_n = n;
        return 0;
}

static int collect_http_sockets(int *fds, size_t *ret_n)
{
        size_t n;
        int r;

        r = listen_fds_by_name("http", SOCK_STREAM, fds, TRACKLED_FDS_MAX);
        if (r < 0)
                return log_error_errno(r, "Passed sockets named 'http' are not usable (must be "
                                          "stream sockets): %m");
        n = (size_t)r;
        if (n == 0 && arg_listen_http) {
                r = listen_open(arg_listen_http, SOCK_STREAM, 8087);
                if (r < 0)
                        return log_error_errno(r, "Failed to listen on '%s': %m", arg_listen_http);
                fds[n++] = r;
        }
        *ret_n = n;
        return 0;
}

static void config_warn(const char *file, unsigned line, const char *message, void *userdata)
{
        log_warning("%s:%u: %s", file, line, message);
}

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
        (void)notify_stopping();
        return sd_event_exit(sd_event_source_get_event(src), 0);
}

static int run(int argc, char **argv)
{
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        TrackledServer *server = NULL;
        TrackledMail *mail = NULL;
        TrackledWeb *web = NULL;
        int http_fds[TRACKLED_FDS_MAX];
        size_t n_http = 0;
        TrackledStore *store = NULL;
        _cleanup_free_ char *db = NULL;
        TrackledConfig config;
        ConfError err = {};
        int fds[TRACKLED_FDS_MAX];
        size_t n_fds = 0;
        sigset_t mask;
        int r;

        log_setup("trackle");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        r = trackled_config_defaults(&config);
        if (r < 0)
                return log_error_errno(r, "Out of memory.");
        r = trackled_config_load(arg_config, &config, config_warn, NULL, &err);
        if (r < 0) {
                if (err.line > 0)
                        log_error("%s:%u: %s", arg_config, err.line, err.message);
                else
                        log_error_errno(r, "%s: %s", arg_config,
                                        err.message[0] ? err.message : strerror(-r));
                trackled_config_done(&config);
                return r;
        }
        if (arg_check_config) {
                printf("%s: OK\n", arg_config);
                trackled_config_done(&config);
                return 0;
        }
        if (sodium_init() < 0) {
                trackled_config_done(&config);
                return log_error_errno(EIO, "Failed to initialize libsodium.");
        }

        db = state_path(arg_db, "trackle.db", TRACKLE_DB_DEFAULT);
        if (!db)
                return log_error_errno(ENOMEM, "Out of memory.");
        r = trackled_store_open(db, &store);
        if (r < 0) {
                trackled_config_done(&config);
                return log_error_errno(r, "Failed to open database '%s': %m", db);
        }
        r = collect_sockets(fds, &n_fds);
        if (r < 0)
                goto finish;
        r = collect_http_sockets(http_fds, &n_http);
        if (r < 0)
                goto finish;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&event);
        if (r < 0) {
                log_error_errno(r, "Failed to allocate event loop: %m");
                goto finish;
        }
        r = trackled_server_new(event, &config, store, fds, n_fds, &server);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the control socket: %m");
                goto finish;
        }
        r = trackled_mail_new(event, &config, store, &mail);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the mail queue: %m");
                goto finish;
        }
        if (n_http > 0) {
                r = trackled_web_new(event, &config, store, mail, http_fds, n_http, &web);
                n_http = 0; /* taken, even on failure */
                if (r < 0)
                        goto finish;
        }
        r = trackled_server_recover(server);
        if (r == -EADDRINUSE) {
                log_error("Another trackled is running (%s is locked).", TRACKLE_RUN_LOCK);
                goto finish;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to recover sessions left open: %m");
                goto finish;
        }
        r = sd_event_add_signal(event, NULL, SIGTERM, on_signal, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, on_signal, NULL);
        if (r < 0) {
                log_error_errno(r, "Failed to handle signals: %m");
                goto finish;
        }
        (void)sd_event_set_watchdog(event, true);

        log_fields(LOG_INFO, TRACKLED_MID_STARTED, NULL, 0,
                   "trackled %s listening on %zu socket(s), database '%s', %zu open session(s).",
                   PROJECT_VERSION, n_fds, db, trackled_server_n_open(server));
        (void)notify_ready("Recording sessions");
        r = sd_event_loop(event);
        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");
        log_fields(LOG_INFO, TRACKLED_MID_STOPPED, NULL, 0,
                   "trackled stopping with %zu open session(s).", trackled_server_n_open(server));
finish:
        trackled_web_free(web);
        trackled_mail_free(mail);
        for (size_t i = 0; i < n_http; i++)
                safe_close(http_fds[i]);
        trackled_server_free(server);
        trackled_store_free(store);
        trackled_config_done(&config);
        if (arg_listen && n_fds > 0)
                (void)unlink(arg_listen);
        return r;
}

int main(int argc, char **argv)
{
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : r;
}
