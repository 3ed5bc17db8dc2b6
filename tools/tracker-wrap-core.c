/* tracker-wrap-core.c - wrappers through dpkg diversions or plain renames. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "tracker-wrap-core.h"

#define CAPTURE_MAX (16 * 1024 * 1024)

extern char **environ;

static const char *const state_names[] = {
        [WRAP_OK] = "ok", [WRAP_DANGLING] = "dangling", [WRAP_REPLACED] = "replaced"};

const char *wrap_state_to_string(WrapState s)
{
        return s <= WRAP_REPLACED ? state_names[s] : "?";
}

void wrap_strv_free(char **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

static int strv_push(char ***v, size_t *n, const char *s)
{
        char **nv = realloc(*v, (*n + 1) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = strdup(s);
        if (!nv[*n])
                return -ENOMEM;
        (*n)++;
        return 0;
}

/* Run argv (searched in PATH), capture stdout if ret_out; stderr passes through unless
 * quiet (queries whose failure is an answer). Returns the exit status (>= 0) or -errno. */
static int run_full(char *const argv[], char **ret_out, bool quiet)
{
        _cleanup_free_ char *out = NULL;
        posix_spawn_file_actions_t fa;
        size_t len = 0, cap = 0;
        int p[2] = {-1, -1}, status, r;
        pid_t pid;

        if (ret_out && pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        posix_spawn_file_actions_init(&fa);
        if (ret_out)
                posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
        else
                posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        if (quiet)
                posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (ret_out)
                safe_close(p[1]);
        if (r != 0) {
                safe_close(p[0]);
                return -r;
        }
        while (ret_out) {
                ssize_t n;

                if (len + 4096 + 1 > cap) {
                        char *nb;
                        if (cap >= CAPTURE_MAX)
                                break;
                        cap = cap ? cap * 2 : 16384;
                        nb = realloc(out, cap);
                        if (!nb)
                                break;
                        out = nb;
                }
                n = read(p[0], out + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        if (ret_out)
                safe_close(p[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        if (!WIFEXITED(status))
                return -ECHILD;
        if (ret_out) {
                if (!out && !(out = strdup("")))
                        return -ENOMEM;
                out[len] = '\0';
                *ret_out = TAKE_PTR(out);
        }
        return WEXITSTATUS(status);
}

static int run(char *const argv[], char **ret_out)
{
        return run_full(argv, ret_out, false);
}

static int query(char *const argv[], char **ret_out)
{
        return run_full(argv, ret_out, true);
}

WrapBackend wrap_backend_detect(void)
{
        const char *e = getenv("TRACKSUITE_WRAP_BACKEND");

        if (e && streq(e, "plain"))
                return WRAP_BACKEND_PLAIN;
        if (e && streq(e, "dpkg"))
                return WRAP_BACKEND_DPKG;
        if (access("/var/lib/dpkg/status", F_OK) >= 0 && access("/usr/bin/dpkg-divert", X_OK) >= 0)
                return WRAP_BACKEND_DPKG;
        return WRAP_BACKEND_PLAIN;
}

static char *real_path(const char *path)
{
        char *r;
        if (asprintf(&r, "%s%s", path, WRAP_REAL_SUFFIX) < 0)
                return NULL;
        return r;
}

/* Is path a symlink to our shim? */
static bool is_our_link(Wrap *w, const char *path)
{
        char buf[PATH_MAX];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);

        if (n < 0)
                return false;
        buf[n] = '\0';
        return streq(buf, w->shim);
}

WrapState wrap_state(Wrap *w, const char *path)
{
        _cleanup_free_ char *real = real_path(path);

        if (!is_our_link(w, path))
                return WRAP_REPLACED;
        if (!real || access(real, F_OK) < 0)
                return WRAP_DANGLING;
        return WRAP_OK;
}

/* Is /bin (top) a symlink to usr/bin (usr), as on a merged-/usr system? */
static bool dir_is_alias(const char *top, const char *usr)
{
        char link[64];
        ssize_t n = readlink(top, link, sizeof(link) - 1);

        if (n < 0)
                return false;
        link[n] = '\0';
        return streq(link, usr) || (link[0] == '/' && streq(link + 1, usr));
}

static bool strip_prefix(const char *s, const char *prefix, const char **ret_rest)
{
        size_t n = strlen(prefix);

        if (strncmp(s, prefix, n) != 0)
                return false;
        *ret_rest = s + n;
        return true;
}

/* The usrmerge alias: /bin/x <-> /usr/bin/x when /bin is a symlink to usr/bin. */
static char *usrmerge_alias(const char *path)
{
        static const char *const dirs[] = {"bin", "sbin", "lib"};

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char top[16], usr[16], top_prefix[16], usr_prefix[16];
                const char *rest;
                char *r = NULL;

                snprintf(top, sizeof(top), "/%s", dirs[i]);
                snprintf(usr, sizeof(usr), "usr/%s", dirs[i]);
                snprintf(top_prefix, sizeof(top_prefix), "/%s/", dirs[i]);
                snprintf(usr_prefix, sizeof(usr_prefix), "/usr/%s/", dirs[i]);
                if (!dir_is_alias(top, usr))
                        continue;
                if (strip_prefix(path, usr_prefix, &rest) &&
                    asprintf(&r, "%s%s", top_prefix, rest) < 0)
                        return NULL;
                if (!r && strip_prefix(path, top_prefix, &rest) &&
                    asprintf(&r, "%s%s", usr_prefix, rest) < 0)
                        return NULL;
                if (r)
                        return r;
        }
        return NULL;
}

/* The package that ships exactly path, from dpkg-query -S; NULL if none. */
static char *dpkg_owner(const char *path)
{
        _cleanup_free_ char *out = NULL;
        char *argv[] = {(char *)"dpkg-query", (char *)"-S", (char *)path, NULL};

        if (strpbrk(path, "*?[]\\"))
                return NULL; /* dpkg-query -S takes a pattern */
        if (query(argv, &out) != 0)
                return NULL;
        for (char *line = out, *next; line && *line; line = next) {
                char *sep;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (strncmp(line, "diversion by ", 13) == 0 ||
                    strncmp(line, "local diversion", 15) == 0)
                        continue;
                sep = strstr(line, ": ");
                if (!sep || !streq(sep + 2, path))
                        continue;
                *sep = '\0';
                if (strchr(line, ','))
                        *strchr(line, ',') = '\0'; /* shared by several: the first will do */
                return strdup(line);
        }
        return NULL;
}

static bool dpkg_is_essential(const char *pkg)
{
        _cleanup_free_ char *out = NULL;
        char *argv[] = {(char *)"dpkg-query", (char *)"-W", (char *)"-f=${Essential}", (char *)pkg,
                        NULL};

        return query(argv, &out) == 0 && strncmp(out, "yes", 3) == 0;
}

int wrap_canonical(Wrap *w, const char *path, char **ret)
{
        _cleanup_free_ char *alias = NULL, *owner = NULL;

        if (w->backend == WRAP_BACKEND_DPKG) {
                owner = dpkg_owner(path);
                if (!owner) {
                        alias = usrmerge_alias(path);
                        if (alias && (owner = dpkg_owner(alias))) {
                                *ret = TAKE_PTR(alias);
                                return 0;
                        }
                }
        }
        *ret = strdup(path);
        return *ret ? 0 : -ENOMEM;
}

/* ---- the plain backend's state file */

static int state_load(Wrap *w, char ***ret, size_t *ret_n)
{
        char **v = NULL, line[4096];
        size_t n = 0;
        FILE *f;
        int r = 0;

        f = fopen(w->state, "re");
        if (!f) {
                if (errno != ENOENT)
                        return negative_errno();
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                if (!wrap_path_is_valid(line))
                        continue;
                r = strv_push(&v, &n, line);
                if (r < 0)
                        break;
        }
        fclose(f);
        if (r < 0) {
                wrap_strv_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Create the directory of path (one level) if it is missing. */
static int mkdir_parent(const char *path)
{
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

static int state_update(Wrap *w, const char *path, bool add)
{
        _cleanup_free_ char *tmp = NULL;
        char **v = NULL;
        size_t n = 0;
        bool found = false;
        FILE *f;
        int r;

        r = state_load(w, &v, &n);
        if (r < 0)
                return r;
        r = mkdir_parent(w->state);
        if (r < 0) {
                wrap_strv_free(v, n);
                return r;
        }
        if (asprintf(&tmp, "%s.tmp", w->state) < 0) {
                wrap_strv_free(v, n);
                return -ENOMEM;
        }
        f = fopen(tmp, "we");
        if (!f) {
                r = negative_errno();
                wrap_strv_free(v, n);
                return r;
        }
        for (size_t i = 0; i < n; i++) {
                if (streq(v[i], path)) {
                        found = true;
                        if (!add)
                                continue;
                }
                fprintf(f, "%s\n", v[i]);
        }
        if (add && !found)
                fprintf(f, "%s\n", path);
        wrap_strv_free(v, n);
        if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
                r = negative_errno();
                fclose(f);
                unlink(tmp);
                return r;
        }
        fclose(f);
        if (rename(tmp, w->state) < 0) {
                r = negative_errno();
                unlink(tmp);
                return r;
        }
        return 0;
}

/* ---- the dpkg backend's diversions */

static int divert(const char *path, bool add)
{
        _cleanup_free_ char *real = real_path(path);
        char *argv[] = {(char *)"dpkg-divert",
                        (char *)"--quiet",
                        (char *)"--package",
                        (char *)WRAP_DPKG_PACKAGE,
                        (char *)"--no-rename",
                        (char *)"--divert",
                        real,
                        (char *)(add ? "--add" : "--remove"),
                        (char *)path,
                        NULL};
        int r;

        if (!real)
                return -ENOMEM;
        r = run(argv, NULL);
        if (r < 0)
                return r;
        return r == 0 ? 0 : -EPROTO;
}

static int diverted_by_other(const char *path)
{
        _cleanup_free_ char *out = NULL;
        char *argv[] = {(char *)"dpkg-divert", (char *)"--listpackage", (char *)path, NULL};

        if (query(argv, &out) != 0)
                return 0;
        out[strcspn(out, "\n")] = '\0';
        return !isempty(out) && !streq(out, WRAP_DPKG_PACKAGE);
}

static int dpkg_wrapped(char ***ret, size_t *ret_n)
{
        _cleanup_free_ char *out = NULL;
        char *argv[] = {(char *)"dpkg-divert", (char *)"--list", NULL};
        const char *suffix = " by " WRAP_DPKG_PACKAGE;
        char **v = NULL;
        size_t n = 0;
        int r;

        r = run(argv, &out);
        if (r != 0)
                return r < 0 ? r : -EPROTO;
        for (char *line = out, *next; line && *line; line = next) {
                char *to;
                size_t len;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                len = strlen(line);
                if (strncmp(line, "diversion of ", 13) != 0 || len < strlen(suffix) ||
                    !streq(line + len - strlen(suffix), suffix))
                        continue;
                line[len - strlen(suffix)] = '\0';
                to = strstr(line + 13, " to ");
                if (!to)
                        continue;
                *to = '\0';
                r = strv_push(&v, &n, line + 13);
                if (r < 0) {
                        wrap_strv_free(v, n);
                        return r;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int wrap_wrapped(Wrap *w, char ***ret, size_t *ret_n)
{
        if (w->backend == WRAP_BACKEND_DPKG)
                return dpkg_wrapped(ret, ret_n);
        return state_load(w, ret, ret_n);
}

static bool is_wrapped_key(Wrap *w, const char *key)
{
        char **v = NULL;
        size_t n = 0;
        bool found = false;

        if (wrap_wrapped(w, &v, &n) < 0)
                return false;
        for (size_t i = 0; i < n && !found; i++)
                found = streq(v[i], key);
        wrap_strv_free(v, n);
        return found;
}

/* Place a symlink to target at path atomically (the old entry is replaced in one step). */
static int symlink_atomic(const char *target, const char *path)
{
        _cleanup_free_ char *tmp = NULL;

        if (asprintf(&tmp, "%s.tracksuite-new", path) < 0)
                return -ENOMEM;
        (void)unlink(tmp);
        if (symlink(target, tmp) < 0)
                return negative_errno();
        if (rename(tmp, path) < 0) {
                int r = negative_errno();
                unlink(tmp);
                return r;
        }
        return 0;
}

static int place_link(Wrap *w, const char *path)
{
        return symlink_atomic(w->shim, path);
}

/* DIR/.t%/NAME, a symlink to ../NAME.t%: the shim executes the real program through it, so
 * that the kernel names the process NAME (after the path given to execve()), not NAME.t%. */
static char *name_link_path(const char *path, char **ret_dir)
{
        const char *base = strrchr(path, '/') + 1;
        char *link;

        if (asprintf(ret_dir, "%.*s%s", (int)(base - path - 1), path, WRAP_NAME_DIR) < 0) {
                *ret_dir = NULL;
                return NULL;
        }
        if (asprintf(&link, "%s/%s", *ret_dir, base) < 0) {
                free(*ret_dir);
                *ret_dir = NULL;
                return NULL;
        }
        return link;
}

static bool name_link_ok(const char *path)
{
        _cleanup_free_ char *dir = NULL, *link = name_link_path(path, &dir),
                            *real = real_path(path);
        struct stat a, b;

        return link && real && stat(link, &a) >= 0 && stat(real, &b) >= 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

static int name_link_place(const char *path)
{
        _cleanup_free_ char *dir = NULL, *link = name_link_path(path, &dir), *target = NULL;

        if (!link || asprintf(&target, "../%s%s", strrchr(path, '/') + 1, WRAP_REAL_SUFFIX) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        return symlink_atomic(target, link);
}

static void name_link_remove(const char *path)
{
        _cleanup_free_ char *dir = NULL, *link = name_link_path(path, &dir);
        struct stat st;

        /* Only our symlink; the directory goes when nothing else is left in it. */
        if (!link || lstat(link, &st) < 0 || !S_ISLNK(st.st_mode))
                return;
        (void)unlink(link);
        (void)rmdir(dir);
}

static void name_link_ensure(Wrap *w, const char *path)
{
        int r;

        if (name_link_ok(path))
                return;
        r = name_link_place(path);
        if (r < 0)
                log_warning_errno(r,
                                  "Cannot place '%s%s' next to '%s' (the program will run as "
                                  "'%s%s'), ignoring: %m",
                                  WRAP_NAME_DIR, strrchr(path, '/'), path, strrchr(path, '/') + 1,
                                  WRAP_REAL_SUFFIX);
}

int wrap_add(Wrap *w, const char *path, bool force)
{
        _cleanup_free_ char *key = NULL, *real = NULL, *owner = NULL, *shim_real = NULL,
                            *target = NULL;
        struct stat st;
        const char *base;
        int r;

        if (!wrap_path_is_valid(path))
                return log_error_errno(EINVAL, "'%s' is not an absolute, normalized path.", path);
        base = strrchr(path, '/') + 1;
        if (streq(base, "tracker"))
                return log_error_errno(EINVAL,
                                       "Refusing to wrap '%s': a program named 'tracker' "
                                       "cannot be wrapped (the shim answers to that name).",
                                       path);
        if (strlen(base) + strlen(WRAP_REAL_SUFFIX) > NAME_MAX)
                return log_error_errno(ENAMETOOLONG, "'%s': the name is too long to add '%s'.",
                                       path, WRAP_REAL_SUFFIX);
        r = wrap_canonical(w, path, &key);
        if (r < 0)
                return log_error_errno(r, "Out of memory.");

        if (is_our_link(w, key) && is_wrapped_key(w, key)) {
                name_link_ensure(w, key);
                return 1;
        }
        if (lstat(key, &st) < 0)
                return log_error_errno(errno, "Cannot wrap '%s': %m", path);
        if (S_ISLNK(st.st_mode)) {
                target = realpath(key, NULL);
                return log_error_errno(EINVAL,
                                       "Refusing to wrap '%s': it is a symlink (to '%s'); "
                                       "wrap the program it points to instead.",
                                       path, target ? target : "nowhere");
        }
        if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
                return log_error_errno(EINVAL,
                                       "Refusing to wrap '%s': not a regular executable "
                                       "file.",
                                       path);
        shim_real = realpath(w->shim, NULL);
        target = realpath(key, NULL);
        if (shim_real && target && streq(shim_real, target))
                return log_error_errno(EINVAL, "Refusing to wrap '%s': it is the tracker shim.",
                                       path);
        real = real_path(key);
        if (!real)
                return log_error_errno(ENOMEM, "Out of memory.");
        if (access(real, F_OK) >= 0)
                return log_error_errno(EEXIST, "Refusing to wrap '%s': '%s' already exists.", path,
                                       real);

        if (w->backend == WRAP_BACKEND_DPKG) {
                owner = dpkg_owner(key);
                if (owner && !force && dpkg_is_essential(owner))
                        return log_error_errno(EPERM,
                                               "Refusing to wrap '%s' of Essential package "
                                               "'%s' without --force.",
                                               path, owner);
                if (diverted_by_other(key))
                        return log_error_errno(EBUSY,
                                               "Refusing to wrap '%s': it is already "
                                               "diverted by another package.",
                                               path);
        }

        /* A hard link first, so the program is never missing: PATH and PATH.t% are the same
         * file until the symlink replaces PATH in one rename(). */
        if (link(key, real) < 0)
                return log_error_errno(errno, "Cannot link '%s' to '%s': %m", key, real);
        if (w->backend == WRAP_BACKEND_DPKG)
                r = divert(key, true);
        else
                r = state_update(w, key, true);
        if (r < 0) {
                (void)unlink(real);
                return log_error_errno(r, "Cannot record the wrapper for '%s': %m", key);
        }
        name_link_ensure(w, key);
        r = place_link(w, key);
        if (r < 0) {
                name_link_remove(key);
                (void)unlink(real);
                if (w->backend == WRAP_BACKEND_DPKG)
                        (void)divert(key, false);
                else
                        (void)state_update(w, key, false);
                return log_error_errno(r, "Cannot place the wrapper at '%s': %m", key);
        }
        if (!w->quiet)
                log_info("Wrapped '%s' (the real program is now '%s').", key, real);
        return 0;
}

int wrap_remove(Wrap *w, const char *path)
{
        _cleanup_free_ char *key = NULL, *real = NULL;
        bool ours;
        int r;

        r = wrap_canonical(w, path, &key);
        if (r < 0)
                return log_error_errno(r, "Out of memory.");
        if (!is_wrapped_key(w, key)) {
                /* Maybe recorded under the other spelling. */
                _cleanup_free_ char *alias = usrmerge_alias(key);
                if (!alias || !is_wrapped_key(w, alias))
                        return 1;
                free(key);
                key = TAKE_PTR(alias);
        }
        real = real_path(key);
        if (!real)
                return log_error_errno(ENOMEM, "Out of memory.");

        ours = is_our_link(w, key);
        name_link_remove(key);
        if (access(real, F_OK) >= 0) {
                if (ours || access(key, F_OK) < 0) {
                        /* The real program replaces the symlink in one step. */
                        if (rename(real, key) < 0)
                                return log_error_errno(errno, "Cannot move '%s' back to '%s': %m",
                                                       real, key);
                } else
                        log_warning("'%s' is not our wrapper any more; leaving it and '%s' alone.",
                                    key, real);
        } else if (ours && unlink(key) < 0)
                return log_error_errno(errno, "Cannot remove the wrapper '%s': %m", key);

        if (w->backend == WRAP_BACKEND_DPKG)
                r = divert(key, false);
        else
                r = state_update(w, key, false);
        if (r < 0)
                return log_error_errno(r, "Cannot forget the wrapper for '%s': %m", key);
        if (!w->quiet)
                log_info("Unwrapped '%s'.", key);
        return 0;
}

int wrap_sync(Wrap *w)
{
        _cleanup_wrap_list_ WrapList list = {};
        char **wrapped = NULL;
        size_t n = 0;
        int problems, r;

        problems = wrap_list_load(w->list_dir, true, &list);
        if (problems < 0)
                return log_error_errno(problems, "Cannot read '%s': %m", w->list_dir);
        r = wrap_wrapped(w, &wrapped, &n);
        if (r < 0)
                return log_error_errno(r, "Cannot list the wrapped programs: %m");

        /* First repair or drop what is wrapped. */
        for (size_t i = 0; i < n; i++) {
                const char *key = wrapped[i];
                _cleanup_free_ char *alias = usrmerge_alias(key);
                bool listed = wrap_list_find(&list, key) || (alias && wrap_list_find(&list, alias));
                WrapState s = wrap_state(w, key);

                if (s == WRAP_OK && listed) {
                        _cleanup_free_ char *now = NULL;
                        /* Still under the spelling the package database records? */
                        if (wrap_canonical(w, key, &now) >= 0 && streq(now, key)) {
                                /* Wrappers placed before the name links existed get one. */
                                name_link_ensure(w, key);
                                continue;
                        }
                }
                if (s == WRAP_DANGLING && !w->quiet)
                        log_info("'%s%s' is gone (package removed or program moved); removing "
                                 "its wrapper.",
                                 key, WRAP_REAL_SUFFIX);
                if (wrap_remove(w, key) < 0)
                        problems++;
        }
        wrap_strv_free(wrapped, n);

        /* Then wrap what is listed and installed. */
        for (size_t i = 0; i < list.n; i++) {
                const WrapEntry *e = &list.entries[i];
                _cleanup_free_ char *key = NULL;
                struct stat st;

                if (wrap_canonical(w, e->path, &key) < 0)
                        return log_error_errno(ENOMEM, "Out of memory.");
                if (lstat(key, &st) < 0)
                        continue; /* not installed (now) */
                if (is_our_link(w, key) && is_wrapped_key(w, key))
                        continue;
                if (wrap_add(w, key, e->force) < 0) {
                        log_error("%s:%u: could not wrap '%s'.", e->file, e->line, e->path);
                        problems++;
                }
        }
        return problems;
}
