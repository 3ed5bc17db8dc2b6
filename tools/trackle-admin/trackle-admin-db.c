/* trackle-admin-db.c - trackle-admin check and backup: the database's integrity and an online
 * copy of it, both done by trackled (the only process that opens the database). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#include "trackle-client.h"

#include "trackle-admin.h"

static const char check_help[] =
        "Usage: trackle-admin check\n"
        "\n"
        "Check the database: SQLite's integrity and foreign key checks and trackle's own\n"
        "(stored content that recorded file changes refer to, locks of sessions that are not\n"
        "open, wiki versions). Prints each problem found and exits 1; prints nothing and\n"
        "exits 0 when all is well.\n";

static const char backup_help[] =
        "Usage: trackle-admin backup FILE\n"
        "\n"
        "Write a consistent copy of the whole database, taken while trackled runs, to FILE\n"
        "(an SQLite database, mode 0600). FILE must not exist; it appears only once the copy\n"
        "is complete and synced to disk.\n";

int admin_check_main(int argc, char **argv)
{
        json_object *reply, *problems;
        size_t n;

        if (admin_wants_help(argc, argv, check_help))
                return ADMIN_EXIT_OK;
        if (argc != 1)
                return admin_usage("check", "check takes no arguments");
        if (admin_call(trackle_request_new("db.check"), "problems", &reply, &problems) < 0)
                return ADMIN_EXIT_FAILURE;
        n = json_object_is_type(problems, json_type_array) ? json_object_array_length(problems) : 0;
        for (size_t i = 0; i < n; i++)
                printf("%s\n", json_object_get_string(json_object_array_get_idx(problems, i)));
        json_object_put(reply);
        if (fflush(stdout) != 0)
                return admin_fail("cannot write: %m");
        if (n > 0)
                return admin_fail("the database has %zu problem%s", n, n == 1 ? "" : "s");
        return ADMIN_EXIT_OK;
}

static int backup_call(int fd)
{
        _cleanup_(trackle_client_freep) TrackleClient *c = NULL;
        json_object *reply = NULL, *req;
        int r;

        r = trackle_client_connect(TRACKLE_SOCKET, &c);
        if (r < 0)
                return admin_fail("cannot reach trackled at %s: %s", TRACKLE_SOCKET, strerror(-r)),
                       r;
        (void)trackle_client_set_timeout(c, TRACKLE_CLIENT_END_TIMEOUT_SEC);
        req = trackle_request_new("db.backup");
        if (!req)
                return admin_fail("out of memory"), -ENOMEM;
        r = trackle_client_call(c, req, fd, &reply);
        json_object_put(req);
        if (r == -EREMOTEIO)
                return admin_fail("%s", c->error ? c->error : "trackled refused the backup"), r;
        if (r < 0)
                return admin_fail("talking to trackled at %s: %s", TRACKLE_SOCKET, strerror(-r)), r;
        json_object_put(reply);
        return 0;
}

int admin_backup_main(int argc, char **argv)
{
        char dirbuf[PATH_MAX], proc[64];
        _cleanup_close_ int fd = -EBADF, dirfd = -EBADF;
        const char *file, *dir;
        bool tmpfile = true;

        if (admin_wants_help(argc, argv, backup_help))
                return ADMIN_EXIT_OK;
        if (argc != 2 || isempty(argv[1]))
                return admin_usage("backup", "backup takes one FILE");
        file = argv[1];
        if (strlen(file) >= sizeof(dirbuf))
                return admin_fail("'%s': name too long", file);
        strcpy(dirbuf, file);
        dir = dirname(dirbuf);
        if (faccessat(AT_FDCWD, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return admin_fail("'%s' exists already; choose a new name", file);
        /* An unnamed file that gets its name only when the copy is complete: a failed or
         * interrupted backup leaves nothing that looks like one. */
        fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
                tmpfile = false;
                fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        }
        if (fd < 0)
                return admin_fail("cannot create '%s': %m", file);
        if (backup_call(fd) < 0) {
                if (!tmpfile)
                        (void)unlink(file);
                return ADMIN_EXIT_FAILURE;
        }
        if (fsync(fd) < 0) {
                if (!tmpfile)
                        (void)unlink(file);
                return admin_fail("cannot write '%s': %m", file);
        }
        if (tmpfile) {
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                if (linkat(AT_FDCWD, proc, AT_FDCWD, file, AT_SYMLINK_FOLLOW) < 0)
                        return admin_fail("cannot create '%s': %m", file);
        }
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd >= 0)
                (void)fsync(dirfd);
        return ADMIN_EXIT_OK;
}
