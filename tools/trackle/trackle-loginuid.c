/* trackle-loginuid.c - set-uid root helper of trackle(1): give the caller a fresh audit
 * session id (rewrite /proc/self/loginuid), drop every privilege for good, exec PROGRAM.
 * Minimal on purpose: libc only, nothing read from the environment, no allocation. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOGINUID_UNSET 4294967295ul
#define EXIT_HELPER 2

static int fail(const char *what, int error)
{
        if (error)
                fprintf(stderr, "trackle-loginuid: %s: %s\n", what, strerror(error));
        else
                fprintf(stderr, "trackle-loginuid: %s\n", what);
        return EXIT_HELPER;
}

/* 0, 1 and 2 must be open, or a file opened below could become someone's stdout. */
static int sane_std_fds(void)
{
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0) {
                        int n = open("/dev/null", O_RDWR | O_NOCTTY);

                        if (n != fd)
                                return -1;
                }
        return 0;
}

/* Write the current loginuid back (the real uid when unset): the kernel allocates a new
 * session id and the audit user stays the same. One read, one write. */
static int rekey(uid_t ruid)
{
        char buf[32];
        unsigned long v;
        ssize_t k;
        char *end;
        int fd, n, e;

        fd = open("/proc/self/loginuid", O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        k = read(fd, buf, sizeof(buf) - 1);
        if (k <= 0) {
                e = k < 0 ? errno : EIO;
                close(fd);
                return -e;
        }
        buf[k] = 0;
        if (buf[k - 1] == '\n')
                buf[k - 1] = 0;
        errno = 0;
        v = strtoul(buf, &end, 10);
        if (errno != 0 || end == buf || *end != 0 || buf[0] < '0' || buf[0] > '9' ||
            v > LOGINUID_UNSET) {
                close(fd);
                return -EBADMSG;
        }
        if (v == LOGINUID_UNSET)
                v = (unsigned long)ruid;
        n = snprintf(buf, sizeof(buf), "%lu", v);
        if (lseek(fd, 0, SEEK_SET) < 0) {
                e = errno;
                close(fd);
                return -e;
        }
        k = write(fd, buf, (size_t)n);
        e = k < 0 ? errno : k != n ? EIO : 0;
        if (close(fd) < 0 && e == 0)
                e = errno;
        return -e;
}

int main(int argc, char **argv)
{
        uid_t ruid = getuid(), euid, suid;
        gid_t rgid = getgid(), egid, sgid;
        int r;

        if (sane_std_fds() < 0)
                return EXIT_HELPER;
        if (argc == 2 && strcmp(argv[1], "--help") == 0) {
                printf("Usage: trackle-loginuid PROGRAM [ARG]...\n\n"
                       "Give the caller a fresh audit session id (its loginuid is written back\n"
                       "to /proc/self/loginuid), drop every privilege, then run PROGRAM (an\n"
                       "absolute path). Used by trackle(1) for tracked shells; see\n"
                       "trackle-loginuid(8).\n");
                return 0;
        }
        if (argc < 2 || !argv[1] || argv[1][0] != '/')
                return fail("usage: trackle-loginuid PROGRAM [ARG]... (PROGRAM an absolute path)",
                            0);

        r = rekey(ruid);
        /* Drop privileges whatever happened: the supplementary groups are the caller's
         * (set-uid does not change them); real, effective and saved ids all become the
         * caller's. Group first, while we still may. */
        if (setresgid(rgid, rgid, rgid) < 0)
                return fail("setresgid", errno);
        if (setresuid(ruid, ruid, ruid) < 0)
                return fail("setresuid", errno);
        if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
                return fail("getresuid", errno);
        if (euid != ruid || suid != ruid || egid != rgid || sgid != rgid)
                return fail("privileges were not dropped", 0);
        if (ruid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
                return fail("root could be regained after dropping it", 0);
        if (r < 0)
                /* No CAP_AUDIT_CONTROL (a container) or loginuid_immutable: trackle sees
                 * this status before its keyed copy started and goes on in ancestry mode. */
                return fail("cannot write /proc/self/loginuid", -r);

        execv(argv[1], argv + 1);
        return fail(argv[1], errno);
}
