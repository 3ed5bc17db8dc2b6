/* trackerd-server.c - receive datagrams in batches and store each batch in one transaction. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "addr.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "trackerd-ids.h"
#include "trackerd-server.h"

#define RECV_VLEN 64                          /* datagrams per recvmmsg() */
#define RECV_BUF (TRACKER_DATAGRAM_MAX + 1)   /* one more byte to see oversized ones */
#define RETRY_USEC (1000ULL * 1000ULL)
#define EXPIRE_INTERVAL_USEC (3600ULL * 1000ULL * 1000ULL)

struct TrackerdServer {
        sd_event *event;
        TrackerdConfig config;
        TrackerdStore *store;

        int fds[TRACKERD_FDS_MAX];
        sd_event_source *io[TRACKERD_FDS_MAX];
        size_t n_fds;
        sd_event_source *idle_timer, *retry_timer, *expire_timer;

        TrackerdRecord *batch;
        size_t n_batch;
        uint64_t rejects[_TRACKER_BAD_MAX];
        bool paused; /* storage failed: stop receiving, let the socket queue */

        struct mmsghdr msgs[RECV_VLEN];
        struct iovec iovs[RECV_VLEN];
        SockaddrUnion addrs[RECV_VLEN];
        uint8_t bufs[RECV_VLEN][RECV_BUF];

        TrackerdCounters counters;
        RateLimit bad_log;
        RateLimit fail_log;
};

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static void server_log_use(const TrackerdRecord *rec)
{
        char uid[16];
        const LogField fields[] = {
                {"TRACKER_USER", rec->use.user},       {"TRACKER_UID", uid},
                {"TRACKER_PROGRAM", rec->use.program}, {"TRACKER_HOST", rec->use.host},
                {"TRACKER_SOURCE", rec->source},
        };

        snprintf(uid, sizeof(uid), "%u", (unsigned)rec->use.uid);
        log_fields(LOG_INFO, TRACKERD_MID_USE, fields, ELEMENTSOF(fields), "%s@%s %s",
                   rec->use.user, rec->use.host, rec->use.program);
}

static void server_set_paused(TrackerdServer *s, bool paused)
{
        s->paused = paused;
        for (size_t i = 0; i < s->n_fds; i++)
                (void)sd_event_source_set_enabled(s->io[i], paused ? SD_EVENT_OFF : SD_EVENT_ON);
        if (s->retry_timer)
                (void)sd_event_source_set_enabled(s->retry_timer,
                                                  paused ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
}

/* Commit what is batched. On failure the batch stays in memory and receiving pauses until a
 * retry succeeds: what the kernel queues meanwhile is not lost, and nothing is dropped here. */
static int server_flush(TrackerdServer *s)
{
        uint64_t rejected = 0;
        bool any = s->n_batch > 0;
        int r;

        for (int b = 0; b < _TRACKER_BAD_MAX; b++) {
                rejected += s->rejects[b];
                any = any || s->rejects[b] > 0;
        }
        if (!any)
                return 0;

        r = trackerd_store_commit(s->store, s->batch, s->n_batch, s->rejects, (int64_t)time(NULL));
        if (r < 0) {
                s->counters.store_failures++;
                if (ratelimit_below(&s->fail_log, now_usec(), NULL))
                        log_fields_internal(LOG_ERR, r, __FILE__, __LINE__, __func__,
                                            TRACKERD_MID_STORE_FAILED, NULL, 0,
                                            "Failed to store %zu uses, will retry: %m",
                                            s->n_batch);
                if (!s->paused)
                        server_set_paused(s, true);
                return r;
        }
        if (s->config.log_uses)
                for (size_t i = 0; i < s->n_batch; i++)
                        server_log_use(&s->batch[i]);
        s->counters.uses += s->n_batch;
        s->counters.rejected += rejected;
        s->n_batch = 0;
        memset(s->rejects, 0, sizeof(s->rejects));
        if (s->paused) {
                log_info("Storing uses works again, resuming.");
                server_set_paused(s, false);
        }
        (void)notify_status("%llu uses stored, %llu bad datagrams",
                            (unsigned long long)s->counters.uses,
                            (unsigned long long)s->counters.rejected);
        return 0;
}

static void server_reject(TrackerdServer *s, TrackerBad bad, const SockaddrUnion *from,
                          socklen_t fromlen, size_t len)
{
        unsigned long long suppressed = 0;
        char addr[ADDR_STRLEN] = "?";

        s->rejects[bad]++;
        if (!ratelimit_below(&s->bad_log, now_usec(), &suppressed))
                return;
        if (suppressed > 0)
                log_notice("Suppressed %llu messages about bad datagrams.", suppressed);
        (void)addr_format(&from->sa, fromlen, false, addr, sizeof(addr));
        {
                const LogField fields[] = {
                        {"TRACKER_SOURCE", addr},
                        {"TRACKER_REJECT", tracker_bad_to_string(bad)},
                };
                log_fields(LOG_WARNING, TRACKERD_MID_BAD_DATAGRAM, fields, ELEMENTSOF(fields),
                           "Ignoring bad datagram from %s: %s (%zu bytes).", addr,
                           tracker_bad_to_string(bad), len);
        }
}

static void server_take(TrackerdServer *s, size_t i, int64_t now)
{
        struct mmsghdr *m = &s->msgs[i];
        size_t len = m->msg_len;
        TrackerdRecord *rec = &s->batch[s->n_batch];
        TrackerBad bad;

        if (m->msg_hdr.msg_flags & MSG_TRUNC || len > TRACKER_DATAGRAM_MAX) {
                server_reject(s, TRACKER_BAD_OVERSIZED, &s->addrs[i], m->msg_hdr.msg_namelen, len);
                return;
        }
        if (tracker_use_decode(s->bufs[i], len, &rec->use, &bad) < 0) {
                server_reject(s, bad, &s->addrs[i], m->msg_hdr.msg_namelen, len);
                return;
        }
        rec->time = now;
        if (addr_format(&s->addrs[i].sa, m->msg_hdr.msg_namelen, false, rec->source,
                        sizeof(rec->source)) < 0)
                strcpy(rec->source, "unknown");
        s->n_batch++;
}

/* Receive up to one batch from fd. Returns > 0 if more may be queued. */
static int server_receive(TrackerdServer *s, int fd)
{
        size_t budget = s->config.batch_max;

        while (budget > 0) {
                size_t want = MIN((size_t)RECV_VLEN, s->config.batch_max - s->n_batch);
                int64_t now;
                int n;

                if (want == 0) {
                        if (server_flush(s) < 0)
                                return 0;
                        continue;
                }
                for (size_t i = 0; i < want; i++) {
                        s->msgs[i].msg_hdr.msg_namelen = sizeof(s->addrs[i]);
                        s->msgs[i].msg_hdr.msg_flags = 0;
                }
                n = recvmmsg(fd, s->msgs, (unsigned)want, MSG_DONTWAIT, NULL);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        /* ICMP errors and the like: nothing to take, try again later. */
                        log_debug_errno(errno, "recvmmsg() failed: %m");
                        return 0;
                }
                if (n == 0)
                        return 0;
                now = (int64_t)time(NULL);
                for (int i = 0; i < n; i++)
                        server_take(s, (size_t)i, now);
                budget = budget > (size_t)n ? budget - (size_t)n : 0;
        }
        return 1;
}

static void server_touch_idle(TrackerdServer *s)
{
        if (!s->idle_timer)
                return;
        (void)sd_event_source_set_time_relative(s->idle_timer, s->config.idle_exit_sec * 1000000ULL);
        (void)sd_event_source_set_enabled(s->idle_timer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        TrackerdServer *s = userdata;

        (void)server_receive(s, fd);
        (void)server_flush(s);
        server_touch_idle(s);
        return 0;
}

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata)
{
        TrackerdServer *s = userdata;

        if (server_flush(s) < 0) {
                (void)sd_event_source_set_time_relative(src, RETRY_USEC);
                (void)sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        }
        return 0;
}

static int on_idle(sd_event_source *src, uint64_t usec, void *userdata)
{
        TrackerdServer *s = userdata;

        log_info("No datagram for %llu s, exiting; the socket keeps what arrives meanwhile.",
                 (unsigned long long)s->config.idle_exit_sec);
        return sd_event_exit(s->event, 0);
}

static void server_expire(TrackerdServer *s)
{
        uint64_t deleted = 0;
        int r;

        if (s->config.retention_sec == 0)
                return;
        r = trackerd_store_expire(s->store, (int64_t)time(NULL) - (int64_t)s->config.retention_sec,
                                  &deleted);
        if (r < 0)
                log_warning_errno(r, "Failed to expire old uses, ignoring: %m");
        else if (deleted > 0)
                log_info("Expired %llu uses older than the retention period.",
                         (unsigned long long)deleted);
}

static int on_expire(sd_event_source *src, uint64_t usec, void *userdata)
{
        TrackerdServer *s = userdata;

        server_expire(s);
        (void)sd_event_source_set_time_relative(src, EXPIRE_INTERVAL_USEC);
        return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

int trackerd_server_drain(TrackerdServer *s)
{
        if (s->paused)
                return server_flush(s);
        for (size_t i = 0; i < s->n_fds; i++)
                while (server_receive(s, s->fds[i]) > 0)
                        if (server_flush(s) < 0)
                                return -EIO;
        return server_flush(s);
}

void trackerd_server_counters(const TrackerdServer *s, TrackerdCounters *ret)
{
        *ret = s->counters;
}

TrackerdServer *trackerd_server_free(TrackerdServer *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_fds; i++) {
                sd_event_source_disable_unref(s->io[i]);
                safe_close(s->fds[i]);
        }
        sd_event_source_disable_unref(s->idle_timer);
        sd_event_source_disable_unref(s->retry_timer);
        sd_event_source_disable_unref(s->expire_timer);
        trackerd_store_free(s->store);
        sd_event_unref(s->event);
        free(s->batch);
        free(s);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(TrackerdServer *, trackerd_server_free)

static void server_tune_socket(TrackerdServer *s, int fd)
{
        int size = (int)s->config.receive_buffer, cur = 0;
        socklen_t l = sizeof(cur);

        if (size <= 0)
                return;
        if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cur, &l) >= 0 && cur >= size)
                return;
        /* FORCE works with CAP_NET_ADMIN only; the plain one is capped by rmem_max. */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

int trackerd_server_new(sd_event *event, const TrackerdConfig *config, TrackerdStore *store,
                        const int *fds, size_t n_fds, TrackerdServer **ret)
{
        _cleanup_(trackerd_server_freep) TrackerdServer *s = NULL;
        int r;

        if (n_fds == 0 || n_fds > TRACKERD_FDS_MAX)
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->config = *config;
        s->store = store;
        s->bad_log = (RateLimit){.interval_usec = 10ULL * 1000000ULL, .burst = 10};
        s->fail_log = (RateLimit){.interval_usec = 60ULL * 1000000ULL, .burst = 3};
        for (size_t i = 0; i < n_fds; i++)
                s->fds[s->n_fds++] = fds[i];
        s->batch = calloc(config->batch_max, sizeof(*s->batch));
        if (!s->batch)
                return -ENOMEM;
        for (size_t i = 0; i < RECV_VLEN; i++) {
                s->iovs[i] = (struct iovec){s->bufs[i], RECV_BUF};
                s->msgs[i].msg_hdr = (struct msghdr){
                        .msg_name = &s->addrs[i],
                        .msg_namelen = sizeof(s->addrs[i]),
                        .msg_iov = &s->iovs[i],
                        .msg_iovlen = 1,
                };
        }
        for (size_t i = 0; i < s->n_fds; i++) {
                server_tune_socket(s, s->fds[i]);
                r = sd_event_add_io(event, &s->io[i], s->fds[i], EPOLLIN, on_io, s);
                if (r < 0)
                        return r;
        }
        r = sd_event_add_time_relative(event, &s->retry_timer, CLOCK_MONOTONIC, RETRY_USEC, 0,
                                       on_retry, s);
        if (r < 0)
                return r;
        (void)sd_event_source_set_enabled(s->retry_timer, SD_EVENT_OFF);
        if (config->idle_exit_sec > 0) {
                r = sd_event_add_time_relative(event, &s->idle_timer, CLOCK_MONOTONIC,
                                               config->idle_exit_sec * 1000000ULL, 0, on_idle, s);
                if (r < 0)
                        return r;
        }
        server_expire(s);
        r = sd_event_add_time_relative(event, &s->expire_timer, CLOCK_MONOTONIC,
                                       EXPIRE_INTERVAL_USEC, 0, on_expire, s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}
