/* trackled-proc.c - reading /proc for session identity (trackle-protocol(7), "Session
 * identity"). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "parse.h"
#include "trackled-proc.h"

static int read_small(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, size - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        return (int)n;
}

int trackled_proc_stat(pid_t pid, pid_t *ret_ppid, uint64_t *ret_start)
{
        char path[64], buf[1024], *p, *save = NULL;
        uint64_t ppid = 0, start = 0;
        int r, field = 2;

        if (pid <= 0)
                return -ESRCH;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        r = read_small(path, buf, sizeof(buf));
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        /* comm may contain spaces and parentheses: the fields start after the last ')'. */
        p = strrchr(buf, ')');
        if (!p)
                return -EBADMSG;
        for (char *w = strtok_r(p + 1, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
                field++;
                if (field == 4 && parse_uint64(w, &ppid) < 0)
                        return -EBADMSG;
                if (field == 22) {
                        if (parse_uint64(w, &start) < 0)
                                return -EBADMSG;
                        break;
                }
        }
        if (field != 22)
                return -EBADMSG;
        if (ret_ppid)
                *ret_ppid = (pid_t)ppid;
        if (ret_start)
                *ret_start = start;
        return 0;
}

static int read_u32_file(pid_t pid, const char *name, uint32_t *ret)
{
        char path[64], buf[32];
        uint32_t v;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
        r = read_small(path, buf, sizeof(buf));
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = '\0';
        if (parse_uint32(buf, &v) < 0)
                return -EBADMSG;
        if (v == UINT32_MAX)
                return -ENODATA;
        *ret = v;
        return 0;
}

int trackled_proc_sessionid(pid_t pid, uint32_t *ret)
{
        return read_u32_file(pid, "sessionid", ret);
}

int trackled_proc_loginuid(pid_t pid, uint32_t *ret)
{
        return read_u32_file(pid, "loginuid", ret);
}

int trackled_proc_alive(pid_t pid, uint64_t start)
{
        uint64_t s;

        if (trackled_proc_stat(pid, NULL, &s) < 0)
                return 0;
        return s == start;
}

int trackled_proc_descends(pid_t pid, pid_t leader, uint64_t leader_start)
{
        for (unsigned i = 0; i < TRACKLED_ANCESTRY_MAX && pid > 1; i++) {
                pid_t ppid;
                uint64_t start;
                int r;

                r = trackled_proc_stat(pid, &ppid, &start);
                if (r < 0)
                        return r == -ESRCH ? 0 : r;
                if (pid == leader)
                        return start == leader_start;
                pid = ppid;
        }
        return 0;
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

int trackled_proc_session_exclusive(uint32_t sessionid, pid_t leader, uint64_t leader_start)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        d = opendir("/proc");
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                uint64_t v;
                uint32_t sid;

                if (parse_uint64(de->d_name, &v) < 0 || v == 0 || v > INT32_MAX)
                        continue;
                if (trackled_proc_sessionid((pid_t)v, &sid) < 0 || sid != sessionid)
                        continue;
                if (trackled_proc_descends((pid_t)v, leader, leader_start) <= 0)
                        return 0;
        }
        return 1;
}
