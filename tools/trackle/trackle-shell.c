/* trackle-shell.c - trackle shell: key the session, open it, run the tracked shell, save. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"
#include "parse.h"

#include "trackle-client.h"
#include "trackle-render.h"
#include "trackle-shell.h"
#include "trackle-spool.h"

#define SPOOL_FILE_MAX (64u * 1024 * 1024)
#define LOGINUID_UNSET 4294967295u
#define RECONNECT_MSEC 1000

extern char **environ;

/* Read /proc/self/loginuid and write the same value back (the real uid when unset): each
 * valid write gives this process a fresh audit session id. Needs CAP_AUDIT_CONTROL. */
static int rekey_loginuid(void)
{
        _cleanup_close_ int fd = -EBADF;
        char buf[32];
        uint32_t v;
        ssize_t k;
        int n;

        fd = open("/proc/self/loginuid", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        k = read(fd, buf, sizeof(buf) - 1);
        if (k < 0)
                return negative_errno();
        buf[k] = 0;
        buf[strcspn(buf, "\n")] = 0;
        if (parse_uint32(buf, &v) < 0)
                return -EBADMSG;
        if (v == LOGINUID_UNSET)
                v = (uint32_t)getuid();
        n = snprintf(buf, sizeof(buf), "%" PRIu32, v);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return negative_errno();
        k = write(fd, buf, (size_t)n);
        if (k < 0)
                return negative_errno();
        if (k != n)
                return -EIO;
        return 0;
}

static int exit_status_of(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 1;
}

static pid_t forward_pid;

static void forward_signal(int sig)
{
        if (forward_pid > 0)
                (void)kill(forward_pid, sig);
}

/* The argument vector of the keyed trackle: "EXE shell --keyed=FD [options] [TICKET]". */
static int keyed_argv(const TrackleArgs *args, const char *exe, int fd, char ***ret)
{
        char **v = calloc(12, sizeof(char *));
        size_t n = 0;

        if (!v)
                return -ENOMEM;
        v[n++] = strdup(TRACKLE_LOGINUID_HELPER);
        v[n++] = strdup(exe);
        v[n++] = strdup("shell");
        if (asprintf(&v[n++], "--keyed=%d", fd) < 0)
                v[n - 1] = NULL;
        if (args->steal)
                v[n++] = strdup("--steal");
        if (args->no_select)
                v[n++] = strdup("--no-select");
        if (args->preload && asprintf(&v[n++], "--preload=%s", args->preload) < 0)
                v[n - 1] = NULL;
        if (args->command && asprintf(&v[n++], "--command=%s", args->command) < 0)
                v[n - 1] = NULL;
        if (args->has_ticket && asprintf(&v[n++], "%" PRIu64, args->ticket) < 0)
                v[n - 1] = NULL;
        for (size_t i = 0; i < n; i++)
                if (!v[i]) {
                        for (size_t j = 0; j < n; j++)
                                free(v[j]);
                        free(v);
                        return -ENOMEM;
                }
        *ret = v;
        return 0;
}

/* As a non-root user: run "helper EXE shell --keyed=FD ..." and wait for it. Returns 1 when
 * the keyed trackle ran (its exit status in *ret_exit), 0 when the helper is not usable or
 * failed before starting it (go on unkeyed), -errno on a local failure. */
static int run_keyed_helper(const TrackleArgs *args, int *ret_exit)
{
        _cleanup_free_ char *exe = NULL;
        struct sigaction sa = {.sa_handler = forward_signal}, ign = {.sa_handler = SIG_IGN};
        struct stat st;
        char **argv = NULL, c;
        int p[2], wfd, status, r;
        ssize_t k;
        pid_t pid;

        if (stat(TRACKLE_LOGINUID_HELPER, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
            !(st.st_mode & S_ISUID) || access(TRACKLE_LOGINUID_HELPER, X_OK) < 0)
                return 0;
        exe = realpath("/proc/self/exe", NULL);
        if (!exe)
                return negative_errno();
        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        /* The write end crosses both execs (helper, keyed trackle): not close-on-exec. */
        wfd = fcntl(p[1], F_DUPFD, 3);
        safe_close(p[1]);
        if (wfd < 0) {
                r = negative_errno();
                safe_close(p[0]);
                return r;
        }
        r = keyed_argv(args, exe, wfd, &argv);
        if (r < 0) {
                safe_close(p[0]);
                safe_close(wfd);
                return r;
        }
        pid = fork();
        if (pid < 0) {
                r = negative_errno();
                safe_close(p[0]);
                safe_close(wfd);
                return r;
        }
        if (pid == 0) {
                execv(argv[0], argv);
                fprintf(stderr, "trackle: cannot run '%s': %m\n", argv[0]);
                _exit(2);
        }
        for (size_t i = 0; argv[i]; i++)
                free(argv[i]);
        free(argv);
        safe_close(wfd);

        forward_pid = pid;
        (void)sigaction(SIGHUP, &sa, NULL);
        (void)sigaction(SIGTERM, &sa, NULL);
        (void)sigaction(SIGINT, &ign, NULL);
        (void)sigaction(SIGQUIT, &ign, NULL);
        do
                k = read(p[0], &c, 1);
        while (k < 0 && errno == EINTR);
        safe_close(p[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        forward_pid = 0;
        if (k == 1 && c == 'k') {
                *ret_exit = exit_status_of(status);
                return 1;
        }
        /* The helper said why on stderr (exit status 2). */
        fprintf(stderr, "trackle: no fresh audit session (trackle-loginuid failed), going on "
                        "in ancestry mode.\n");
        (void)signal(SIGHUP, SIG_DFL);
        (void)signal(SIGTERM, SIG_DFL);
        return 0;
}

static const char *pick_shell(bool want_bash, bool *ret_bash)
{
        struct passwd *pw = getpwuid(getuid());
        const char *sh = pw && pw->pw_shell && pw->pw_shell[0] == '/' ? pw->pw_shell : NULL;
        const char *base;

        if (want_bash || !sh || access(sh, X_OK) < 0)
                sh = access("/bin/bash", X_OK) == 0 || !sh ? "/bin/bash" : sh;
        base = strrchr(sh, '/') ? strrchr(sh, '/') + 1 : sh;
        *ret_bash = streq(base, "bash");
        return sh;
}

static json_object *environment_object(void)
{
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        for (char **e = environ; e && *e; e++) {
                const char *eq = strchr(*e, '=');
                _cleanup_free_ char *k = NULL;

                if (!eq || eq == *e)
                        continue;
                k = strndup(*e, (size_t)(eq - *e));
                if (!k)
                        continue;
                json_object_object_add(o, k, json_object_new_string(eq + 1));
        }
        return o;
}

/* trackle-shell-prompt next to this trackle (the installed pair, or both in a build tree),
 * else the installed one; NULL when there is none. */
static const char *shell_prompt_bin(void)
{
        static char path[PATH_MAX];
        char exe[PATH_MAX], *slash;
        ssize_t n;

        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = 0;
                slash = strrchr(exe, '/');
                if (slash &&
                    (size_t)(slash - exe) + sizeof("/trackle-shell-prompt") <= sizeof(path)) {
                        memcpy(path, exe, (size_t)(slash - exe));
                        strcpy(path + (slash - exe), "/trackle-shell-prompt");
                        if (access(path, X_OK) == 0)
                                return path;
                }
        }
        return access(TRACKLE_SHELL_PROMPT_BIN, X_OK) == 0 ? TRACKLE_SHELL_PROMPT_BIN : NULL;
}

static int write_file(const char *dir, const char *name, const char *text)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(text);

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return negative_errno();
        while (n > 0) {
                ssize_t k = write(fd, text, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                text += k;
                n -= (size_t)k;
        }
        return 0;
}

static void client_error(TrackleClient *c, int r, const char *what)
{
        if (r == -EREMOTEIO)
                fprintf(stderr, "trackle: %s\n", c->error);
        else
                fprintf(stderr, "trackle: %s: %s\n", what, strerror(-r));
}

/* session.resume on a new connection, after trackled went away. */
static int try_resume(uint64_t id, TrackleClient **ret)
{
        _cleanup_(trackle_client_freep) TrackleClient *c = NULL;
        json_object *req, *reply = NULL;
        int r;

        r = trackle_client_connect(TRACKLE_SOCKET, &c);
        if (r < 0)
                return r;
        req = trackle_request_new("session.resume");
        if (!req)
                return -ENOMEM;
        json_object_object_add(req, "id", json_object_new_int64((int64_t)id));
        r = trackle_client_call(c, req, -1, &reply);
        json_object_put(req);
        if (r < 0)
                return r;
        json_object_put(reply);
        *ret = TAKE_PTR(c);
        return 0;
}

/* Run the shell and wait for it, keeping the control connection (and resuming it when
 * trackled restarts). Returns the shell's exit status. */
static int run_and_wait(char **argv, const char *preload, uint64_t id, TrackleClient **client)
{
        struct sigaction ign = {.sa_handler = SIG_IGN}, dfl = {.sa_handler = SIG_DFL};
        _cleanup_close_ int sfd = -EBADF;
        sigset_t mask, old;
        bool foreground, gone = false;
        char idbuf[32];
        int status = 0;
        pid_t pid;

        foreground = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
                return 1;
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0) {
                fprintf(stderr, "trackle: signalfd: %m\n");
                return 1;
        }
        (void)sigaction(SIGINT, &ign, NULL);
        (void)sigaction(SIGQUIT, &ign, NULL);
        (void)snprintf(idbuf, sizeof(idbuf), "%" PRIu64, id);

        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                fprintf(stderr, "trackle: fork: %m\n");
                return 1;
        }
        if (pid == 0) {
                (void)sigaction(SIGINT, &dfl, NULL);
                (void)sigaction(SIGQUIT, &dfl, NULL);
                (void)sigprocmask(SIG_SETMASK, &old, NULL);
                if (setenv("LD_PRELOAD", preload, 1) < 0 || setenv("TRACKLE_SESSION", idbuf, 1) < 0)
                        _exit(127);
                execv(argv[0], argv);
                fprintf(stderr, "trackle: cannot run '%s': %m\n", argv[0]);
                _exit(127);
        }

        for (;;) {
                struct pollfd pfd[2] = {
                        {.fd = sfd, .events = POLLIN},
                        {.fd = *client ? (*client)->fd : -1, .events = POLLIN},
                };
                struct signalfd_siginfo si;
                int k;

                k = poll(pfd, 2, gone ? RECONNECT_MSEC : -1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (k == 0 && gone) {
                        if (try_resume(id, client) >= 0) {
                                fprintf(stderr,
                                        "trackle: trackled is back, session %" PRIu64 " resumed.\n",
                                        id);
                                gone = false;
                        }
                        continue;
                }
                if (pfd[1].revents) {
                        /* trackled sends nothing unasked: readable means closed (or a
                         * protocol error); either way this connection is done. */
                        *client = trackle_client_free(*client);
                        gone = true;
                        fprintf(stderr,
                                "trackle: lost the connection to trackled; the shell "
                                "goes on, trying to resume session %" PRIu64 ".\n",
                                id);
                }
                if (pfd[0].revents & POLLIN) {
                        if (read(sfd, &si, sizeof(si)) != sizeof(si))
                                continue;
                        if (si.ssi_signo == SIGHUP || si.ssi_signo == SIGTERM) {
                                (void)kill(pid, (int)si.ssi_signo);
                                continue;
                        }
                        if (waitpid(pid, &status, WNOHANG) == pid)
                                break;
                }
        }
        if (foreground && tcgetpgrp(STDIN_FILENO) != getpgrp()) {
                /* The shell ran with job control in its own process group: take the terminal
                 * back for the questions below. */
                (void)sigaction(SIGTTOU, &ign, NULL);
                (void)tcsetpgrp(STDIN_FILENO, getpgrp());
                (void)sigaction(SIGTTOU, &dfl, NULL);
        }
        (void)sigprocmask(SIG_SETMASK, &old, NULL);
        return exit_status_of(status);
}

int trackle_parse_selection(const char *s, bool *hide, size_t n)
{
        const char *p = s;

        while (*p) {
                uint64_t a, b;
                char *e;

                if (strchr(" \t,\n", *p)) {
                        p++;
                        continue;
                }
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                errno = 0;
                a = strtoull(p, &e, 10);
                if (errno != 0)
                        return -EINVAL;
                b = a;
                if (*e == '-') {
                        p = e + 1;
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        b = strtoull(p, &e, 10);
                        if (errno != 0)
                                return -EINVAL;
                }
                if (a < 1 || b < a || b > n)
                        return -ERANGE;
                for (uint64_t i = a; i <= b; i++)
                        hide[i - 1] = true;
                p = e;
                if (*p && !strchr(" \t,\n", *p))
                        return -EINVAL;
        }
        return 0;
}

/* Ask which files to hide by default; send session.files for those. */
static void choose_files(TrackleClient *c, uint64_t id, json_object *session)
{
        json_object *files = trackle_json_array(session, "files");
        size_t n = files ? json_object_array_length(files) : 0;
        _cleanup_free_ bool *hide = NULL;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        if (n == 0 || !c)
                return;
        hide = calloc(n, sizeof(bool));
        if (!hide)
                return;
        for (;;) {
                ssize_t k;
                int r;

                fprintf(stderr, "Hide files by default? Numbers (e.g. 2 4-5), Enter keeps all "
                                "shown: ");
                fflush(stderr);
                k = getline(&line, &size, stdin);
                if (k < 0)
                        return;
                memset(hide, 0, n * sizeof(bool));
                r = trackle_parse_selection(line, hide, n);
                if (r >= 0)
                        break;
                fprintf(stderr, "trackle: give numbers from 1 to %zu.\n", n);
        }
        for (size_t i = 0; i < n; i++) {
                json_object *req, *reply = NULL;
                const char *path;
                int r;

                if (!hide[i])
                        continue;
                path = trackle_json_str(json_object_array_get_idx(files, i), "path");
                if (!path)
                        continue;
                req = trackle_request_new("session.files");
                if (!req)
                        return;
                json_object_object_add(req, "id", json_object_new_int64((int64_t)id));
                json_object_object_add(req, "path", json_object_new_string(path));
                json_object_object_add(req, "shown", json_object_new_boolean(false));
                r = trackle_client_call(c, req, -1, &reply);
                json_object_put(req);
                if (r < 0)
                        client_error(c, r, "session.files");
                else
                        fprintf(stderr, "trackle: hidden: %s\n", path);
                json_object_put(reply);
        }
}

/* The typed lines from the spool (interactive bash) or the -c command. */
static json_object *collect_commands(const TrackleArgs *args, bool bash, const char *spool,
                                     const char *cwd, int64_t started, int exit)
{
        _cleanup_free_ char *hist_path = NULL, *status_path = NULL, *ht = NULL, *st = NULL;
        TrackleHistoryEntry *h = NULL;
        TrackleStatusLine *s = NULL;
        size_t hl = 0, sl = 0, n_h = 0, n_s = 0;
        json_object *a = NULL;

        if (args->command) {
                (void)trackle_spool_command_one(args->command, started, cwd, exit, &a);
                return a;
        }
        if (!bash || !spool)
                return json_object_new_array();
        if (asprintf(&hist_path, "%s/history", spool) < 0 ||
            asprintf(&status_path, "%s/status", spool) < 0)
                return NULL;
        if (trackle_read_file(hist_path, SPOOL_FILE_MAX, &ht, &hl) < 0 ||
            trackle_history_parse(ht, hl, &h, &n_h) < 0) {
                fprintf(stderr,
                        "trackle: cannot read the shell history '%s', no typed lines "
                        "saved.\n",
                        hist_path);
                return json_object_new_array();
        }
        if (trackle_read_file(status_path, SPOOL_FILE_MAX, &st, &sl) < 0 ||
            trackle_status_parse(st, sl, &s, &n_s) < 0) {
                s = NULL;
                n_s = 0;
        }
        (void)trackle_spool_commands(h, n_h, s, n_s, cwd, exit, &a);
        trackle_history_free(h, n_h);
        trackle_status_free(s, n_s);
        return a;
}

int trackle_shell_main(const TrackleArgs *args)
{
        _cleanup_(trackle_client_freep) TrackleClient *c = NULL;
        _cleanup_free_ char *cwd = NULL, *preload = NULL, *rc = NULL, *spool = NULL;
        _cleanup_close_ int rootfd = -EBADF;
        json_object *req, *reply = NULL, *session, *commands, *v;
        const char *shell, *tty, *identity;
        char *argv[6];
        bool keyed = args->keyed, bash, interactive = !args->command;
        int64_t id = 0, started;
        int r, exit, n_files;

        if (args->keyed_fd >= 0) {
                struct stat st;

                /* Tell the non-root parent that the helper ran us. */
                if (fstat(args->keyed_fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
                    write(args->keyed_fd, "k", 1) != 1)
                        fprintf(stderr, "trackle: cannot tell the parent that the helper ran: "
                                        "%m\n");
                safe_close(args->keyed_fd);
        }
        if (!keyed) {
                if (getuid() == 0 && geteuid() == 0) {
                        r = rekey_loginuid();
                        if (r < 0)
                                fprintf(stderr,
                                        "trackle: cannot write /proc/self/loginuid (%s), "
                                        "going on in ancestry mode.\n",
                                        strerror(-r));
                        else
                                keyed = true;
                } else {
                        r = run_keyed_helper(args, &exit);
                        if (r > 0)
                                return exit;
                        if (r < 0)
                                fprintf(stderr,
                                        "trackle: cannot run %s (%s), going on in "
                                        "ancestry mode.\n",
                                        TRACKLE_LOGINUID_HELPER, strerror(-r));
                }
        }

        if (args->preload && strchr(args->preload, '/')) {
                preload = realpath(args->preload, NULL);
                if (!preload) {
                        fprintf(stderr, "trackle: --preload '%s': %m\n", args->preload);
                        return 1;
                }
        } else
                preload = strdup(args->preload ?: TRACKLE_PRELOAD_NAME);
        cwd = getcwd(NULL, 0);
        if (!preload || !cwd) {
                fprintf(stderr, "trackle: %m\n");
                return 1;
        }
        shell = pick_shell(!!args->command, &bash);
        tty = ttyname(STDIN_FILENO);

        r = trackle_client_connect(TRACKLE_SOCKET, &c);
        if (r < 0) {
                fprintf(stderr, "trackle: cannot reach trackled at %s: %s\n", TRACKLE_SOCKET,
                        strerror(-r));
                return 1;
        }
        rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                fprintf(stderr, "trackle: cannot open '/': %m\n");
                return 1;
        }
        req = trackle_request_new("session.open");
        if (!req)
                return 1;
        json_object_object_add(req, "ticket",
                               args->has_ticket ? json_object_new_int64((int64_t)args->ticket)
                                                : NULL);
        json_object_object_add(req, "steal", json_object_new_boolean(args->steal));
        json_object_object_add(req, "keyed", json_object_new_boolean(keyed));
        json_object_object_add(req, "tty", tty ? json_object_new_string(tty) : NULL);
        json_object_object_add(req, "shell", json_object_new_string(shell));
        json_object_object_add(req, "cwd", json_object_new_string(cwd));
        json_object_object_add(req, "environment", environment_object());
        r = trackle_client_call(c, req, rootfd, &reply);
        json_object_put(req);
        rootfd = safe_close(rootfd);
        if (r < 0) {
                client_error(c, r, "session.open");
                return 1;
        }
        if (!json_object_object_get_ex(reply, "session", &session) ||
            !trackle_json_int(session, "id", &id) || id <= 0) {
                fprintf(stderr, "trackle: trackled's reply to session.open has no session id.\n");
                json_object_put(reply);
                return 1;
        }
        if (trackle_json_str(session, "spool"))
                spool = strdup(trackle_json_str(session, "spool"));
        identity = trackle_json_str(session, "identity");
        if (interactive && args->has_ticket)
                fprintf(stderr,
                        "trackle: session %" PRId64 " for ticket #%" PRIu64 " (%s identity); "
                        "leave the shell to save it.\n",
                        id, args->ticket, identity ?: "unknown");
        else if (interactive)
                fprintf(stderr,
                        "trackle: session %" PRId64 " (%s identity); leave the shell to "
                        "save it.\n",
                        id, identity ?: "unknown");
        json_object_put(reply);
        reply = NULL;

        if (args->command) {
                argv[0] = (char *)shell;
                argv[1] = (char *)"-c";
                argv[2] = (char *)args->command;
                argv[3] = NULL;
        } else if (bash && spool && trackle_spool_bashrc(spool, shell_prompt_bin(), &rc) >= 0 &&
                   write_file(spool, "bashrc", rc) >= 0 && write_file(spool, "history", "") >= 0 &&
                   write_file(spool, "status", "") >= 0) {
                free(rc);
                if (asprintf(&rc, "%s/bashrc", spool) < 0)
                        return 1;
                argv[0] = (char *)shell;
                argv[1] = (char *)"--rcfile";
                argv[2] = rc;
                argv[3] = (char *)"-i";
                argv[4] = NULL;
        } else {
                if (bash)
                        fprintf(stderr,
                                "trackle: cannot prepare the spool '%s', typed lines are "
                                "not saved.\n",
                                strempty(spool));
                bash = false;
                argv[0] = (char *)shell;
                argv[1] = (char *)"-i";
                argv[2] = NULL;
        }

        started = (int64_t)time(NULL);
        exit = run_and_wait(argv, preload, (uint64_t)id, &c);

        if (!c && try_resume((uint64_t)id, &c) < 0) {
                fprintf(stderr,
                        "trackle: trackled is gone; it ends session %" PRId64 " itself "
                        "(typed lines and exit status are lost).\n",
                        id);
                printf("trackle-session: %" PRId64 "\n", id);
                return exit;
        }

        commands = collect_commands(args, bash, spool, cwd, started, exit);
        if (spool)
                /* Read: the spool holds nothing else of ours; trackled removes the empty
                 * directory at session end. */
                for (const char *const *f =
                             (const char *const[]){"bashrc", "history", "status", NULL};
                     *f; f++) {
                        _cleanup_free_ char *p = NULL;
                        if (asprintf(&p, "%s/%s", spool, *f) >= 0)
                                (void)unlink(p);
                }
        if (commands) {
                req = trackle_request_new("session.commands");
                if (req) {
                        json_object_object_add(req, "id", json_object_new_int64(id));
                        json_object_object_add(req, "commands", commands);
                        r = trackle_client_call(c, req, -1, &reply);
                        if (r < 0)
                                client_error(c, r, "session.commands");
                        json_object_put(req);
                        json_object_put(reply);
                        reply = NULL;
                } else
                        json_object_put(commands);
        }

        req = trackle_request_new("session.end");
        if (!req)
                return exit;
        json_object_object_add(req, "id", json_object_new_int64(id));
        json_object_object_add(req, "exit", json_object_new_int(exit));
        (void)trackle_client_set_timeout(c, TRACKLE_CLIENT_END_TIMEOUT_SEC);
        r = trackle_client_call(c, req, -1, &reply);
        json_object_put(req);
        if (r < 0) {
                client_error(c, r, "session.end");
                printf("trackle-session: %" PRId64 "\n", id);
                return exit;
        }
        if (!json_object_object_get_ex(reply, "session", &session))
                session = NULL;
        v = trackle_json_array(session, "files");
        n_files = v ? (int)json_object_array_length(v) : 0;
        fprintf(stderr, "trackle: session %" PRId64 " saved (%d file%s changed)\n", id, n_files,
                n_files == 1 ? "" : "s");
        (void)trackle_render_files(stderr, session, interactive);
        if (interactive && !args->no_select && n_files > 0 && isatty(STDIN_FILENO) &&
            isatty(STDERR_FILENO))
                choose_files(c, (uint64_t)id, session);
        json_object_put(reply);
        fflush(stderr);
        printf("trackle-session: %" PRId64 "\n", id);
        return exit;
}
