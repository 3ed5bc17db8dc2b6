/* tracker-send.c - configuration, user lookup, bounded name resolution and the send. */
#include <errno.h>
#include <netdb.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>

#include "config.h"
#include "addr.h"
#include "macro.h"
#include "tracker-send.h"

static int parse_server(const char *value, void *data, const char **ret_msg)
{
        char host[256];
        uint16_t port;

        if (addr_split_host_port(value, TRACKER_DEFAULT_PORT, host, sizeof(host), &port) < 0) {
                *ret_msg = "expected host, host:port, an IPv4 address or [IPv6]:port";
                return -EINVAL;
        }
        return conf_parse_string(value, data, ret_msg);
}

static const ConfItem tracker_conf_items[] = {
        {"Tracker", "Server", parse_server, offsetof(TrackerConfig, server)},
        {"Tracker", "ResolveTimeoutMSec", conf_parse_timespan_msec,
         offsetof(TrackerConfig, resolve_timeout_ms)},
};

void tracker_config_done(TrackerConfig *c)
{
        free(c->server);
        c->server = NULL;
}

int tracker_config_load(const char *path, TrackerConfig *c, ConfError *err)
{
        int r;

        c->server = NULL;
        c->resolve_timeout_ms = TRACKER_RESOLVE_TIMEOUT_MS_DEFAULT;
        r = conf_parse_file(path, tracker_conf_items, ELEMENTSOF(tracker_conf_items), c, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                tracker_config_done(c);
        return r;
}

const char *tracker_server_spec(const TrackerConfig *c)
{
        const char *e = getenv(TRACKER_SERVER_ENV);

        if (!isempty(e))
                return e;
        if (c && c->server)
                return c->server;
        return TRACKER_DEFAULT_SERVER;
}

/* The user's name, or the decimal UID when there is none, it is longer than the protocol
 * allows (truncating it could name someone else) or not a valid user field (a space, an
 * invisible character: trackerd would reject the datagram). */
static void user_name(uint32_t uid, char *out, size_t size)
{
        const struct passwd *pw = NULL;
        FILE *f;

        /* /etc/passwd first: a local user is found without NSS's start-up cost (nsswitch.conf,
         * nscd probes), which would be paid on every run of every tracked program. */
        f = fopen("/etc/passwd", "re");
        if (f) {
                while ((pw = fgetpwent(f)))
                        if (pw->pw_uid == uid)
                                break;
                fclose(f);
        }
        if (!pw)
                pw = getpwuid(uid);
        if (pw && pw->pw_name && strlen(pw->pw_name) > 0 && strlen(pw->pw_name) < size &&
            strlen(pw->pw_name) <= TRACKER_USER_MAX &&
            tracker_field_is_valid(TRACKER_FIELD_USER, pw->pw_name, strlen(pw->pw_name)))
                strcpy(out, pw->pw_name);
        else
                snprintf(out, size, "%u", (unsigned)uid);
}

int tracker_use_fill(TrackerUse *u, const char *program)
{
        struct utsname un;
        size_t n;

        n = strlen(program);
        if (n == 0 || n > TRACKER_PROGRAM_MAX)
                return -EINVAL;
        memcpy(u->program, program, n + 1);

        u->uid = (uint32_t)getuid();
        user_name(u->uid, u->user, sizeof(u->user));

        if (uname(&un) < 0 || isempty(un.nodename))
                strcpy(u->host, "localhost");
        else
                snprintf(u->host, sizeof(u->host), "%s", un.nodename);
        return 0;
}

static int send_to(int fd, const struct sockaddr *sa, socklen_t len, const uint8_t *buf,
                   size_t size)
{
        if (sendto(fd, buf, size, MSG_DONTWAIT | MSG_NOSIGNAL, sa, len) < 0)
                return negative_errno();
        return 0;
}

static int send_addrinfo(const struct addrinfo *ai, const uint8_t *buf, size_t size)
{
        int r = -EHOSTUNREACH;

        /* Try each address once; the first one the kernel accepts wins. */
        for (; ai; ai = ai->ai_next) {
                _cleanup_close_ int fd = -EBADF;

                if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
                        continue;
                fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (fd < 0) {
                        r = negative_errno();
                        continue;
                }
                r = send_to(fd, ai->ai_addr, ai->ai_addrlen, buf, size);
                if (r >= 0 || r == -EAGAIN)
                        return r;
        }
        return r;
}

/* Resolve host through NSS without letting a dead resolver hold the program: the lookup runs
 * asynchronously and is abandoned at the deadline (exec() then ends the lookup thread). */
static int resolve_bounded(const char *host, uint16_t port, uint64_t timeout_ms,
                           struct addrinfo **ret, int *ret_gai)
{
        static struct addrinfo hints = {
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_DGRAM,
                .ai_flags = AI_NUMERICSERV,
        };
        static char service[8];
        static struct gaicb req;
        struct gaicb *list[1] = {&req};
        struct timespec deadline, now, left;
        int r;

        snprintf(service, sizeof(service), "%u", port);
        req = (struct gaicb){.ar_name = host, .ar_service = service, .ar_request = &hints};
        r = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
        if (r != 0) {
                *ret_gai = r;
                return -EADDRNOTAVAIL;
        }

        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += (time_t)(timeout_ms / 1000);
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        for (;;) {
                r = gai_error(&req);
                if (r != EAI_INPROGRESS)
                        break;
                clock_gettime(CLOCK_MONOTONIC, &now);
                left.tv_sec = deadline.tv_sec - now.tv_sec;
                left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
                if (left.tv_nsec < 0) {
                        left.tv_sec--;
                        left.tv_nsec += 1000000000L;
                }
                if (left.tv_sec < 0)
                        return -ETIMEDOUT; /* the request stays behind; exec() ends it */
                (void)gai_suspend((const struct gaicb *const *)list, 1, &left);
        }
        if (r != 0 || !req.ar_result) {
                /* Not "no route to host": the name did not resolve, and the caller says so. */
                *ret_gai = r != 0 ? r : EAI_NODATA;
                return -EADDRNOTAVAIL;
        }
        *ret = req.ar_result;
        return 0;
}

int tracker_send(const char *spec, uint64_t timeout_ms, const TrackerUse *u, int *ret_gai)
{
        /* static: an abandoned lookup thread may still read the name after we return */
        static char host[256];
        uint8_t buf[TRACKER_DATAGRAM_MAX];
        SockaddrUnion sa;
        socklen_t salen;
        struct addrinfo *ai = NULL;
        uint16_t port;
        size_t len;
        int r;

        r = tracker_use_encode(u, buf, sizeof(buf), &len);
        if (r < 0)
                return r;
        r = addr_split_host_port(spec, TRACKER_DEFAULT_PORT, host, sizeof(host), &port);
        if (r < 0)
                return r;

        if (addr_parse_ip(host, port, &sa, &salen) >= 0) {
                _cleanup_close_ int fd = -EBADF;

                /* The fast path: a literal address needs no resolver at all. */
                fd = socket(sa.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (fd < 0)
                        return negative_errno();
                return send_to(fd, &sa.sa, salen, buf, len);
        }

        r = resolve_bounded(host, port, timeout_ms, &ai, ret_gai ?: &(int){0});
        if (r < 0)
                return r;
        r = send_addrinfo(ai, buf, len);
        freeaddrinfo(ai);
        return r;
}

const char *tracker_send_strerror(int r, int gai, uint64_t timeout_ms, char *buf, size_t size)
{
        if (r == -EADDRNOTAVAIL && gai != 0)
                snprintf(buf, size, "name resolution failed: %s",
                         gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
        else if (r == -ETIMEDOUT)
                snprintf(buf, size,
                         "name resolution did not finish within ResolveTimeoutMSec=%llu ms",
                         (unsigned long long)timeout_ms);
        else
                snprintf(buf, size, "%s", strerror(-r));
        return buf;
}
