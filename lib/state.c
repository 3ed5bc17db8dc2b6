/* state.c - SQLite opening and migrations; the only place that speaks SQLite result codes
 * into -errno. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "log.h"
#include "state.h"

char *state_path(const char *explicit_path, const char *file, const char *fallback)
{
        const char *sd = getenv("STATE_DIRECTORY");
        char *p;

        if (explicit_path)
                return strdup(explicit_path);
        if (isempty(sd))
                return strdup(fallback);
        if (asprintf(&p, "%.*s/%s", (int)strcspn(sd, ":"), sd, file) < 0)
                return NULL;
        return p;
}

int state_errno(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EUCLEAN;
        case SQLITE_CONSTRAINT:
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
                return -EINVAL;
        case SQLITE_TOOBIG:
                return -E2BIG;
        case SQLITE_INTERRUPT:
                return -EINTR;
        default:
                return -EIO;
        }
}

/* As state_errno(), but when SQLite failed because a system call did, that call's errno:
 * "cannot open" on a read-only file system is EROFS, not ENOENT; permission denied is EACCES. */
static int state_db_errno(sqlite3 *db, int rc)
{
        int e;

        switch (rc & 0xff) {
        case SQLITE_CANTOPEN:
        case SQLITE_IOERR:
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_FULL:
                e = db ? sqlite3_system_errno(db) : 0;
                if (e > 0)
                        return -e;
                break;
        }
        return state_errno(rc);
}

int state_exec(sqlite3 *db, const char *sql)
{
        int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                log_debug("SQLite: %s: %s", sqlite3_errmsg(db), sql);
                return state_db_errno(db, rc);
        }
        return 0;
}

int state_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
        int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);

        if (rc != SQLITE_OK) {
                log_debug("Failed to prepare '%s': %s", sql, sqlite3_errmsg(db));
                return state_errno(rc);
        }
        return 0;
}

int state_step_reset(sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc == SQLITE_DONE ? 0 : state_errno(rc) ?: -EIO;
}

int state_user_version(sqlite3 *db, int *ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc;

        rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return state_errno(rc);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return state_errno(rc) ?: -EIO;
        *ret = sqlite3_column_int(st, 0);
        return 0;
}

static int state_migrate(sqlite3 *db, const char *const *migrations, size_t n)
{
        int version, r;

        r = state_user_version(db, &version);
        if (r < 0)
                return r;
        if (version < 0 || (size_t)version > n)
                return -EPROTONOSUPPORT;
        for (size_t v = (size_t)version; v < n; v++) {
                char bump[64];

                r = state_exec(db, "BEGIN IMMEDIATE");
                if (r < 0)
                        return r;
                /* Re-check under the write lock: another process may have migrated. */
                r = state_user_version(db, &version);
                if (r >= 0 && (size_t)version > v) {
                        (void)state_exec(db, "ROLLBACK");
                        v = (size_t)version - 1;
                        continue;
                }
                snprintf(bump, sizeof(bump), "PRAGMA user_version = %zu", v + 1);
                if (r < 0 || (r = state_exec(db, migrations[v])) < 0 ||
                    (r = state_exec(db, bump)) < 0 || (r = state_exec(db, "COMMIT")) < 0) {
                        (void)state_exec(db, "ROLLBACK");
                        return r;
                }
        }
        return 0;
}

/* SQLite says "cannot open" or "read-only" for many causes, and its last system errno is
 * often that of a fallback attempt (a read-only open of a file that does not exist). Ask the
 * file system what writing path needs: the file, else its directory. */
static int state_write_errno(const char *path, int r)
{
        _cleanup_free_ char *dir = NULL;
        char *slash;

        if (access(path, W_OK) >= 0)
                return r;
        if (errno != ENOENT)
                return -errno;
        dir = strdup(path);
        if (!dir)
                return r;
        slash = strrchr(dir, '/');
        if (slash == dir)
                slash[1] = '\0';
        else if (slash)
                *slash = '\0';
        else
                strcpy(dir, ".");
        if (access(dir, W_OK) < 0)
                return -errno;
        return r;
}

static int state_open_db(const char *path, bool readonly, const char *const *migrations,
                         size_t n_migrations, sqlite3 **ret)
{
        _cleanup_db_ sqlite3 *db = NULL;
        int flags, rc, r, version;

        flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK)
                return state_db_errno(db, rc);
        (void)sqlite3_extended_result_codes(db, 1);
        rc = sqlite3_busy_timeout(db, STATE_BUSY_TIMEOUT_MS);
        if (rc != SQLITE_OK)
                return state_errno(rc);

        if (!readonly) {
                r = state_exec(db, "PRAGMA journal_mode = WAL");
                if (r < 0)
                        return r;
                r = state_exec(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
                if (r < 0)
                        return r;
                r = state_migrate(db, migrations, n_migrations);
                if (r < 0)
                        return r;
        } else {
                r = state_user_version(db, &version);
                if (r < 0)
                        return r;
                if ((size_t)version > n_migrations)
                        return -EPROTONOSUPPORT;
                if ((size_t)version < n_migrations)
                        return -EPROTO;
                r = state_exec(db, "PRAGMA query_only = ON");
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(db);
        return 0;
}

const char *state_path_not_regular(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0 || S_ISREG(st.st_mode))
                return NULL;
        return S_ISDIR(st.st_mode)                          ? "a directory"
               : S_ISFIFO(st.st_mode)                       ? "a FIFO"
               : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                            : "a socket";
}

int state_open(const char *path, bool readonly, const char *const *migrations, size_t n_migrations,
               sqlite3 **ret)
{
        int r;

        if (state_path_not_regular(path))
                return -EINVAL;
        r = state_open_db(path, readonly, migrations, n_migrations, ret);

        if (r < 0 && !readonly && (r == -ENOENT || r == -EACCES || r == -EPERM || r == -EIO))
                r = state_write_errno(path, r);
        return r;
}
