/* main.c - trackalert: the login-report daemon (server) and its console client. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "listen.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "state.h"
#include "trackalert-console.h"
#include "trackalert-geoip.h"
#include "trackalert-history.h"
#include "trackalert-http.h"
#include "trackalert-ids.h"
#include "trackalert-lua.h"
#include "trackalert-runtime.h"
#include "trackalert-sched.h"
#include "trackalert-uap.h"
#include "trackalert-webhook.h"

#define TRACKALERT_CONFIG_FILE PKGSYSCONFDIR "/trackalert.conf"
#define TRACKALERT_LEGACY_CONFIG_FILE "/etc/wforce/trackalert.conf"
#define TRACKALERT_DB_DEFAULT STATEDIR "/trackalert/trackalert.db"
#define STATS_LOG_USEC (300ULL * 1000000ULL)

static inline void *mfree(void *p)
{
        free(p);
        return NULL;
}

static const char *arg_config;
static const char *arg_config_name;
static const char *arg_reload_config;
static bool arg_client;
static const char *arg_execute;
static const char *arg_regexes;
static bool arg_check_config;
static bool arg_verbose;

static void help(void)
{
        printf("Usage: trackalert [OPTION]...\n\n"
               "Login-report daemon: an HTTP/JSON API scripted in Lua, with long-term history.\n"
               "Normally started by trackalert.socket; see trackalert(8).\n\n"
               "  -C --config FILE      configuration (default %s)\n"
               "  -c --client [FILE]    console client: connect to controlSocket() of FILE\n"
               "  -e --execute CMD      console client: run CMD and exit\n"
               "  -s --systemd          run in the foreground under a supervisor (the default)\n"
               "  -d --daemon           accepted for compatibility; stays in the foreground\n"
               "  -D --docker           foreground, log to the console\n"
               "  -R --regexes FILE     parse device_id with uap-core's regexes.yaml\n"
               "                        (e.g. %s)\n"
               "  -f --facility NAME    accepted for compatibility (logs go to the journal)\n"
               "  -l --loglevel 0-7     maximum log level (default 6)\n"
               "  -v --verbose          debugLog()/vinfoLog() and a line per report\n"
               "     --config-name FILE name the configuration FILE in messages (the file the\n"
               "                        administrator edits, when -C is a copy of it)\n"
               "     --reload-config FILE  on SIGHUP read FILE if it exists, else -C again\n"
               "     --check-config     check the configuration and exit\n"
               "     --version          show the version\n"
               "  -h --help             show this help\n",
               TRACKALERT_CONFIG_FILE, TA_UAP_DEFAULT);
}

static int parse_argv(int argc, char **argv)
{
        enum { ARG_VERSION = 0x100, ARG_CHECK_CONFIG, ARG_CONFIG_NAME, ARG_RELOAD_CONFIG };
        static const struct option options[] = {
                {"config", required_argument, NULL, 'C'},
                {"client", optional_argument, NULL, 'c'},
                {"execute", required_argument, NULL, 'e'},
                {"systemd", no_argument, NULL, 's'},
                {"daemon", no_argument, NULL, 'd'},
                {"docker", no_argument, NULL, 'D'},
                {"regexes", required_argument, NULL, 'R'},
                {"facility", required_argument, NULL, 'f'},
                {"loglevel", required_argument, NULL, 'l'},
                {"verbose", no_argument, NULL, 'v'},
                {"check-config", no_argument, NULL, ARG_CHECK_CONFIG},
                {"config-name", required_argument, NULL, ARG_CONFIG_NAME},
                {"reload-config", required_argument, NULL, ARG_RELOAD_CONFIG},
                {"version", no_argument, NULL, ARG_VERSION},
                {"help", no_argument, NULL, 'h'},
                {}};
        int c;

        /* "-c" takes an optional file like the original's ':' handling: "-c FILE" or "-c". */
        while ((c = getopt_long(argc, argv, "C:c::e:sdDR:f:l:vh", options, NULL)) >= 0)
                switch (c) {
                case 'C':
                        arg_config = optarg;
                        break;
                case 'c':
                        arg_client = true;
                        if (optarg)
                                arg_config = optarg;
                        else if (optind < argc && argv[optind][0] != '-')
                                arg_config = argv[optind++];
                        break;
                case 'e':
                        arg_client = true;
                        arg_execute = optarg;
                        break;
                case 's':
                case 'd':
                        break;
                case 'D':
                        log_set_target(LOG_TARGET_CONSOLE);
                        break;
                case 'R':
                        arg_regexes = optarg;
                        break;
                case 'f':
                        log_debug("-f '%s': logs go to the journal, the facility is not used.",
                                  optarg);
                        break;
                case 'l': {
                        char *end;
                        long l = strtol(optarg, &end, 10);
                        if (*end || l < 0 || l > 7)
                                return log_error_errno(EINVAL, "-l wants a level 0-7, not '%s'.",
                                                       optarg);
                        log_set_max_level((int)l);
                        break;
                }
                case 'v':
                        arg_verbose = true;
                        log_set_max_level(LOG_DEBUG);
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case ARG_CONFIG_NAME:
                        arg_config_name = optarg;
                        break;
                case ARG_RELOAD_CONFIG:
                        arg_reload_config = optarg;
                        break;
                case ARG_VERSION:
                        printf("trackalert (tracksuite) %s\n", PROJECT_VERSION);
                        return 0;
                case 'h':
                        help();
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'.", argv[optind]);
        if (!arg_config)
                arg_config = access(TRACKALERT_CONFIG_FILE, F_OK) < 0 &&
                                             access(TRACKALERT_LEGACY_CONFIG_FILE, F_OK) >= 0
                                     ? TRACKALERT_LEGACY_CONFIG_FILE
                                     : TRACKALERT_CONFIG_FILE;
        return 1;
}

/* The original chdir()s to the configuration's directory, so relative paths in it (certificates,
 * GeoIP databases) are relative to the file. */
static int enter_config_dir(const char *path)
{
        _cleanup_free_ char *copy = strdup(path);

        if (!copy)
                return -ENOMEM;
        if (chdir(dirname(copy)) < 0)
                return negative_errno();
        return 0;
}

static int load_config(TaRuntime *rt, const char *path)
{
        _cleanup_free_ char *absolute = NULL, *err = NULL;
        int r;

        rt->config_name = strdup(arg_config_name ?: path);
        if (!rt->config_name)
                return log_error_errno(ENOMEM, "Out of memory.");
        absolute = realpath(path, NULL);
        if (!absolute)
                return log_error_errno(errno, "%s: cannot open: %m", rt->config_name);
        r = enter_config_dir(absolute);
        if (r < 0)
                return log_error_errno(r, "%s: cannot change to its directory: %m",
                                       rt->config_name);
        r = ta_state_new(rt, true, 0, &rt->global);
        if (r < 0)
                return log_error_errno(r, "Cannot create a Lua state: %m");
        r = ta_state_load_config(rt->global, absolute, &err);
        if (r < 0) {
                /* Messages name the file as the user did. */
                const char *m = err ?: "cannot load";
                if (strncmp(m, absolute, strlen(absolute)) == 0)
                        log_error("%s%s", path, m + strlen(absolute));
                else
                        log_error("%s", m);
                return -EINVAL;
        }
        rt->config_path = TAKE_PTR(absolute);
        return 0;
}

static bool is_make_key(const char *cmd)
{
        cmd += strspn(cmd, " \t");
        if (strncmp(cmd, "makeKey()", 9) != 0)
                return false;
        cmd += 9;
        return cmd[strspn(cmd, " \t\n;")] == '\0';
}

static int run_client(TaRuntime *rt)
{
        const char *addr = rt->config.control_addr ?: TA_DEFAULT_CLIENT_TARGET;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_UNBLOCK, &mask, NULL);

        if (!rt->config.key_set && arg_execute && is_make_key(arg_execute)) {
                /* makeKey() needs no server and no key: it is how one gets a key. */
                _cleanup_free_ char *out = NULL;

                r = ta_lua_console(rt, arg_execute, strlen(arg_execute), &out);
                if (r < 0)
                        return log_error_errno(r, "makeKey() failed: %m");
                fputs(out, stdout);
                return 0;
        }
        if (!rt->config.key_set)
                return log_error_errno(ENOKEY,
                                       "%s: no valid setKey(): the console needs the key "
                                       "(trackalert -e 'makeKey()' makes one).",
                                       rt->config_name);
        return ta_console_client(addr, rt->config.key, arg_execute);
}

static void log_uap(TaUap *u, const char *path, const char *what)
{
        size_t ua, os, dev;
        bool jit;

        ta_uap_info(u, &ua, &os, &dev, &jit);
        log_info("%s device rules from '%s': %zu user agent, %zu OS, %zu device regexes%s.", what,
                 path, ua, os, dev,
                 jit ? " (PCRE2 JIT)" : " (PCRE2 interpreter: no executable memory for the JIT)");
}

/* -R at start: a file that cannot be used is fatal, as a configuration error is. */
static int load_regexes(TaRuntime *rt, const char *path)
{
        _cleanup_free_ char *err = NULL;
        TaUap *u = NULL;
        int r;

        r = ta_uap_load(path, &u, &err);
        if (r < 0)
                return log_error_errno(r, "%s: %s", path, err ?: strerror(-r));
        rt->uap_path = strdup(path);
        if (!rt->uap_path) {
                ta_uap_free(u);
                return log_error_errno(ENOMEM, "Out of memory.");
        }
        rt->uap = u;
        return 0;
}

/* On reload a bad file keeps the rules in use. */
static void reload_regexes(TaRuntime *rt)
{
        _cleanup_free_ char *err = NULL;
        TaUap *u = NULL, *old;
        int r;

        if (!rt->uap_path)
                return;
        r = ta_uap_load(rt->uap_path, &u, &err);
        if (r < 0) {
                log_error_errno(r, "%s: %s; keeping the device rules in use.", rt->uap_path,
                                err ?: strerror(-r));
                return;
        }
        pthread_rwlock_wrlock(&rt->uap_lock);
        old = rt->uap;
        rt->uap = u;
        pthread_rwlock_unlock(&rt->uap_lock);
        ta_uap_free(old);
        log_uap(u, rt->uap_path, "Reloaded");
}

typedef struct Server {
        TaRuntime *rt;
        sd_event *event;
        int shutdown_fd;
} Server;

static void on_lua_shutdown(void *userdata)
{
        Server *s = userdata;
        uint64_t one = 1;

        (void)!write(s->shutdown_fd, &one, sizeof(one));
}

static int on_shutdown_fd(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Server *s = userdata;

        return sd_event_exit(s->event, 0);
}

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
        return sd_event_exit(sd_event_source_get_event(src), 0);
}

/* SIGHUP: the configuration is run again in new Lua states (the file of --reload-config if it
 * exists, else the -C file); only when it loads do they replace the states in use, with the
 * ACL, the password, the Lua limits and GeoIP2 databases, and new custom endpoints and stats.
 * A file that does not load keeps everything as it was. */
static int reload_config(TaRuntime *rt, unsigned *ret_problems, char **ret_error)
{
        _cleanup_free_ char *absolute = NULL;
        const char *path = arg_reload_config && access(arg_reload_config, R_OK) >= 0
                                   ? arg_reload_config
                                   : rt->config_path;
        TaRuntime *next = NULL;
        int r;

        absolute = realpath(path, NULL);
        if (!absolute) {
                r = negative_errno();
                (void)asprintf(ret_error, "%s: cannot open: %s", rt->config_name, strerror(-r));
                return r;
        }
        r = ta_runtime_new(false, &next);
        if (r < 0)
                return r;
        next->verbose = rt->verbose;
        next->history = rt->history; /* borrowed for the history functions, not freed here */
        next->config_name = strdup(rt->config_name);
        if (!next->config_name || (r = ta_webhooks_new(&next->webhooks)) < 0 ||
            (r = ta_sched_new(next, &next->sched)) < 0 || (r = ta_geoip_new(&next->geoip)) < 0 ||
            (r = ta_state_new(next, true, 0, &next->global)) < 0)
                goto finish;
        r = ta_state_load_config(next->global, absolute, ret_error);
        if (r >= 0)
                r = ta_pool_new(next, next->config.num_lua_states, absolute, ret_error,
                                &next->pool);
        if (r < 0)
                goto finish;

        /* Endpoints and stats are only ever added: a request may be looking at them. */
        for (size_t i = 0; i < ta_counter_set_size(next->endpoints); i++)
                if ((r = ta_counter_set_add(rt->endpoints, next->endpoints->items[i].name)) < 0 ||
                    (r = ta_counter_set_add(&rt->stats->commands, next->endpoints->items[i].name)) <
                            0)
                        goto finish;
        for (size_t i = 0; i < ta_counter_set_size(&next->stats->custom); i++)
                if ((r = ta_counter_set_add(&rt->stats->custom,
                                            next->stats->custom.items[i].name)) < 0)
                        goto finish;
        if (rt->n_retired_geoip >= ELEMENTSOF(rt->retired_geoip)) {
                r = -E2BIG;
                (void)asprintf(ret_error, "too many reloads with GeoIP2 databases, restart");
                goto finish;
        }
        (void)ta_lua_swap(rt, next);
        /* GeoIP objects of the new states point into next's databases; the old ones may still
         * be in a request's hands: they are kept until exit. */
        rt->retired_geoip[rt->n_retired_geoip++] =
                __atomic_exchange_n(&rt->geoip, next->geoip, __ATOMIC_ACQ_REL);
        next->geoip = NULL;
        pthread_rwlock_wrlock(&rt->acl_lock);
        {
                TaNetmaskGroup acl = rt->acl;
                char *password = rt->password;

                rt->acl = next->acl;
                rt->password = next->password;
                next->acl = acl;
                next->password = password;
        }
        pthread_rwlock_unlock(&rt->acl_lock);
        r = ta_runtime_acl_imply_private(rt);
        if (next->config.control_addr &&
            (!rt->config.control_addr ||
             !streq(next->config.control_addr, rt->config.control_addr)))
                log_warning("%s: a changed controlSocket() takes effect at the next restart.",
                            rt->config_name);
finish:
        *ret_problems = next->config_problems;
        next->history = NULL;
        ta_pool_free(next->pool);
        ta_state_free(next->global);
        ta_sched_free(next->sched);
        ta_webhooks_free(next->webhooks);
        ta_geoip_free(next->geoip);
        ta_runtime_free(next);
        return r;
}

static int on_reload(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
        Server *s = userdata;
        _cleanup_free_ char *err = NULL, *status = NULL;
        unsigned problems = 0;
        int r;

        (void)sd_notify(false, "RELOADING=1\nSTATUS=Reloading the configuration");
        reload_regexes(s->rt);
        r = reload_config(s->rt, &problems, &err);
        if (r < 0) {
                log_error("%s; keeping the configuration in use.", err ?: strerror(-r));
                if (asprintf(&status, "Serving reports; the last reload failed: %s",
                             err ?: strerror(-r)) < 0)
                        status = NULL;
                (void)notify_ready(status ?: "Serving reports; the last reload failed");
                return 0;
        }
        if (problems > 0)
                log_warning("Reloaded the configuration from %s with %u problem%s (see above).",
                            s->rt->config_name, problems, problems == 1 ? "" : "s");
        else
                log_info("Reloaded the configuration from %s.", s->rt->config_name);
        (void)notify_ready("Serving reports");
        return 0;
}

static int on_stats_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        Server *s = userdata;
        TaBuf b = {};

        ta_stats_perf_text(s->rt->stats, &b);
        ta_stats_commands_text(s->rt->stats, &b);
        ta_stats_custom_text(s->rt->stats, &b);
        for (char *p = b.data; p && *p; p++)
                if (*p == '\n')
                        *p = ' ';
        log_info("stats: %llu reports, %s",
                 (unsigned long long)__atomic_load_n(&s->rt->stats->reports, __ATOMIC_RELAXED),
                 strempty(b.data));
        ta_buf_done(&b);
        (void)notify_status("%llu reports", (unsigned long long)__atomic_load_n(
                                                    &s->rt->stats->reports, __ATOMIC_RELAXED));
        (void)sd_event_source_set_time_relative(src, STATS_LOG_USEC);
        return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

static int run_server(TaRuntime *rt)
{
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_free_ char *db = NULL, *err = NULL;
        _cleanup_close_ int shutdown_fd = -EBADF;
        TaHttp *http = NULL;
        Server server = {.rt = rt};
        int fds[TA_HTTP_FDS_MAX];
        int n_fds, r;

        if (rt->config.history_enabled) {
                db = state_path(rt->config.history_path, "trackalert.db", TRACKALERT_DB_DEFAULT);
                if (!db)
                        return log_error_errno(ENOMEM, "Out of memory.");
                r = ta_history_open(db, rt->config.history_retention_sec,
                                    rt->config.history_queue_size, &rt->history);
                if (r < 0)
                        return log_error_errno(r, "Failed to open the history database '%s': %m",
                                               db);
        }
        r = ta_pool_new(rt, rt->config.num_lua_states, rt->config_path, &err, &rt->pool);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the Lua states: %s",
                                       err ?: strerror(-r));
        r = ta_webhooks_start(rt->webhooks, &rt->config);
        if (r < 0)
                return log_error_errno(r, "Failed to start the webhook threads: %m");

        n_fds = listen_fds_by_name("http", SOCK_STREAM, fds, ELEMENTSOF(fds));
        if (n_fds < 0)
                return log_error_errno(n_fds, "Passed sockets are not usable (must be stream "
                                              "sockets named 'http'): %m");
        r = ta_http_new(rt, fds, (size_t)n_fds, &http);
        if (r < 0)
                return r;
        rt->started = true;
        if (rt->config.control_addr) {
                r = ta_console_server_start(rt, rt->config.control_addr);
                if (r < 0)
                        goto finish;
        }
        r = ta_sched_start(rt->sched, rt->config.num_sched_threads);
        if (r < 0) {
                log_error_errno(r, "Failed to start the scheduler: %m");
                goto finish;
        }

        r = sd_event_default(&event);
        if (r < 0)
                goto finish;
        server.event = event;
        shutdown_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (shutdown_fd < 0) {
                r = negative_errno();
                goto finish;
        }
        server.shutdown_fd = shutdown_fd;
        rt->on_shutdown = on_lua_shutdown;
        rt->shutdown_userdata = &server;
        if ((r = sd_event_add_signal(event, NULL, SIGTERM, on_signal, NULL)) < 0 ||
            (r = sd_event_add_signal(event, NULL, SIGINT, on_signal, NULL)) < 0 ||
            (r = sd_event_add_signal(event, NULL, SIGHUP, on_reload, &server)) < 0 ||
            (r = sd_event_add_io(event, NULL, shutdown_fd, EPOLLIN, on_shutdown_fd, &server)) < 0 ||
            (r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, STATS_LOG_USEC, 0,
                                            on_stats_timer, &server)) < 0)
                goto finish;
        (void)sd_event_set_watchdog(event, true);

        log_fields(LOG_INFO, TRACKALERT_MID_STARTED, NULL, 0,
                   "trackalert %s serving on %zu socket%s%s, %zu Lua states, history %s.",
                   PROJECT_VERSION, ta_http_n_listeners(http),
                   ta_http_n_listeners(http) == 1 ? "" : "s",
                   n_fds > 0 ? " (socket-activated)" : "", ta_pool_size(rt->pool), db ? db : "off");
        (void)notify_ready("Serving reports");
        r = sd_event_loop(event);
        (void)notify_stopping();
        log_fields(LOG_INFO, TRACKALERT_MID_STOPPED, NULL, 0,
                   "trackalert stopping after %llu reports.",
                   (unsigned long long)__atomic_load_n(&rt->stats->reports, __ATOMIC_RELAXED));
finish:
        /* Every thread that can run Lua or touch shared state is stopped and joined here,
         * before run() frees the Lua states: the HTTP threads, the console sessions, the
         * scheduler, the webhook senders, then the history writer (which commits the queue). */
        ta_runtime_set_stopping(rt);
        rt->on_shutdown = NULL;
        ta_http_free(http);
        ta_console_server_stop();
        rt->sched = ta_sched_free(rt->sched);
        rt->webhooks = ta_webhooks_free(rt->webhooks);
        rt->history = ta_history_free(rt->history); /* commits what is queued */
        if (r < 0)
                return log_error_errno(r, "trackalert failed: %m");
        return 0;
}

static int run(int argc, char **argv)
{
        TaRuntime *rt = NULL;
        sigset_t mask;
        int r;

        /* Before any thread exists, so that every thread inherits the mask and the stop
         * signals reach the event loop only. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        (void)signal(SIGPIPE, SIG_IGN);
        log_setup("trackalert");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;
        if (sodium_init() < 0)
                return log_error_errno(EIO, "libsodium failed to initialise.");
        r = ta_runtime_new(arg_client, &rt);
        if (r < 0)
                return log_error_errno(r, "Out of memory.");
        rt->verbose = arg_verbose;
        if ((r = ta_webhooks_new(&rt->webhooks)) < 0 || (r = ta_sched_new(rt, &rt->sched)) < 0 ||
            (r = ta_geoip_new(&rt->geoip)) < 0) {
                log_error_errno(r, "Out of memory.");
                goto finish;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                r = log_error_errno(EIO, "libcurl failed to initialise.");
                goto finish;
        }
        r = load_config(rt, arg_config);
        if (r < 0)
                goto finish;
        if (arg_regexes && !arg_client) {
                r = load_regexes(rt, arg_regexes);
                if (r < 0)
                        goto finish;
                if (!arg_check_config)
                        log_uap(rt->uap, arg_regexes, "Loaded");
        }
        if (arg_check_config) {
                if (rt->config.control_addr && !rt->config.key_set) {
                        log_error("%s: controlSocket() without a valid setKey(): the console "
                                  "would refuse to start.",
                                  rt->config_name);
                        rt->config_problems++;
                }
                if (rt->config_problems > 0) {
                        r = log_error_errno(EINVAL, "%s: %u problem%s.", rt->config_name,
                                            rt->config_problems,
                                            rt->config_problems == 1 ? "" : "s");
                        goto finish;
                }
                printf("%s: OK\n", rt->config_name);
                goto finish;
        }
        if (!arg_client) {
                r = ta_runtime_acl_imply_private(rt);
                if (r < 0) {
                        log_error_errno(r, "Out of memory.");
                        goto finish;
                }
        }
        r = arg_client ? run_client(rt) : run_server(rt);
finish:
        ta_pool_free(rt->pool);
        ta_state_free(rt->global);
        ta_sched_free(rt->sched);
        ta_webhooks_free(rt->webhooks);
        ta_history_free(rt->history);
        ta_geoip_free(rt->geoip);
        for (size_t i = 0; i < rt->n_retired_geoip; i++)
                ta_geoip_free(rt->retired_geoip[i]);
        ta_runtime_free(rt);
        curl_global_cleanup();
        return r;
}

int main(int argc, char **argv)
{
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : r;
}
