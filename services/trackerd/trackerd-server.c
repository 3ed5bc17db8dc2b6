/* trackerd-server.c - receive datagrams in batches; a writer thread stores each batch in one
 * transaction while the event loop goes on receiving into the next one. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <time.h>

#include "addr.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "trackerd-ids.h"
#include "trackerd-server.h"

#define RECV_VLEN 64                        /* datagrams per recvmmsg() */
#define RECV_BUF (TRACKER_DATAGRAM_MAX + 1) /* one more byte to see oversized ones */
#define RETRY_USEC (1000ULL * 1000ULL)
#define STATUS_USEC (1000ULL * 1000ULL)
#define COMMIT_DELAY_USEC (20ULL * 1000ULL) /* gather a trickle into one transaction */
#define EXPIRE_INTERVAL_USEC (3600ULL * 1000ULL * 1000ULL)

typedef struct Batch {
        TrackerdRecord *records;
        size_t n, capacity;
        uint64_t rejects[_TRACKER_BAD_MAX];
} Batch;

struct TrackerdServer {
        sd_event *event;
        TrackerdConfig config;
        TrackerdStore *store;

        int fds[TRACKERD_FDS_MAX];
        sd_event_source *io[TRACKERD_FDS_MAX];
        size_t n_fds;
        sd_event_source *idle_timer, *retry_timer, *expire_timer, *commit_timer, *done_source;

        /* Two batches: the loop fills one while the writer commits the other. */
        Batch batches[2];
        Batch *filling;
        Batch *committing; /* NULL while the writer is idle; owned by the writer otherwise */
        bool paused;       /* not receiving: filling is full, or storing failed */
        bool failed;       /* the last commit failed; committing waits for a retry */

        pthread_t writer;
        bool writer_started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool work, stop; /* guarded by lock */
        int result;      /* of the last commit, guarded by lock */
        int done_fd;     /* eventfd: the writer finished a commit */

        /* Last source address formatted, so a stream from one sender formats it once. */
        SockaddrUnion last_from;
        socklen_t last_from_len;
        char last_source[ADDR_STRLEN];

        struct mmsghdr msgs[RECV_VLEN];
        struct iovec iovs[RECV_VLEN];
        SockaddrUnion addrs[RECV_VLEN];
        uint8_t bufs[RECV_VLEN][RECV_BUF];

        TrackerdCounters counters;
        uint64_t last_status_usec;
        RateLimit bad_log;
        RateLimit fail_log;
};

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* Room for n records (batches only grow: BatchMax= may go up on reload). */
static int batch_reserve(Batch *b, size_t n)
{
        TrackerdRecord *r;

        if (b->capacity >= n)
                return 0;
        r = reallocarray(b->records, n, sizeof(TrackerdRecord));
        if (!r)
                return -ENOMEM;
        b->records = r;
        b->capacity = n;
        return 0;
}

static bool batch_empty(const Batch *b)
{
        if (b->n > 0)
                return false;
        for (int i = 0; i < _TRACKER_BAD_MAX; i++)
                if (b->rejects[i] > 0)
                        return false;
        return true;
}

static void *writer_main(void *userdata)
{
        TrackerdServer *s = userdata;
        uint64_t one = 1;

        pthread_mutex_lock(&s->lock);
        for (;;) {
                Batch *b;
                int r;

                while (!s->work && !s->stop)
                        pthread_cond_wait(&s->cond, &s->lock);
                if (!s->work)
                        break;
                b = s->committing;
                pthread_mutex_unlock(&s->lock);

                r = trackerd_store_commit(s->store, b->records, b->n, b->rejects,
                                          (int64_t)time(NULL));

                pthread_mutex_lock(&s->lock);
                s->result = r;
                s->work = false;
                pthread_cond_broadcast(&s->cond);
                (void)!write(s->done_fd, &one, sizeof(one));
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

/* Hand the filled batch to the writer (which must be idle) and start filling the other. */
static void server_submit(TrackerdServer *s)
{
        assert(!s->committing);
        if (batch_empty(s->filling))
                return;
        s->committing = s->filling;
        s->filling = s->filling == &s->batches[0] ? &s->batches[1] : &s->batches[0];
        pthread_mutex_lock(&s->lock);
        s->work = true;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

/* Wait until the writer is idle (shutdown and maintenance only). */
static int server_wait_writer(TrackerdServer *s)
{
        int r;

        pthread_mutex_lock(&s->lock);
        while (s->work)
                pthread_cond_wait(&s->cond, &s->lock);
        r = s->result;
        pthread_mutex_unlock(&s->lock);
        return r;
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

static void server_set_receiving(TrackerdServer *s, bool on)
{
        s->paused = !on;
        for (size_t i = 0; i < s->n_fds; i++)
                (void)sd_event_source_set_enabled(s->io[i], on ? SD_EVENT_ON : SD_EVENT_OFF);
}

static void server_status(TrackerdServer *s, bool force)
{
        uint64_t now = now_usec();

        /* Every STATUS= is a message to PID 1: at most one a second. */
        if (!force && now < s->last_status_usec + STATUS_USEC)
                return;
        s->last_status_usec = now;
        (void)notify_status("%llu uses stored, %llu bad datagrams",
                            (unsigned long long)s->counters.uses,
                            (unsigned long long)s->counters.rejected);
}

/* The writer finished the committing batch: account for it, or keep it for a retry. */
static void server_committed(TrackerdServer *s, int r)
{
        Batch *b = s->committing;

        if (r < 0) {
                s->counters.store_failures++;
                if (ratelimit_below(&s->fail_log, now_usec(), NULL))
                        log_fields_internal(LOG_ERR, r, __FILE__, __LINE__, __func__,
                                            TRACKERD_MID_STORE_FAILED, NULL, 0,
                                            "Failed to store %zu uses, will retry: %m", b->n);
                /* Nothing is dropped: the batch stays, receiving pauses (the kernel queues
                 * what arrives) and a timer retries. */
                s->failed = true;
                server_set_receiving(s, false);
                (void)sd_event_source_set_time_relative(s->retry_timer, RETRY_USEC);
                (void)sd_event_source_set_enabled(s->retry_timer, SD_EVENT_ONESHOT);
                return;
        }
        if (s->config.log_uses)
                for (size_t i = 0; i < b->n; i++)
                        server_log_use(&b->records[i]);
        s->counters.uses += b->n;
        for (int i = 0; i < _TRACKER_BAD_MAX; i++)
                s->counters.rejected += b->rejects[i];
        b->n = 0;
        memset(b->rejects, 0, sizeof(b->rejects));
        (void)batch_reserve(b, s->config.batch_max); /* after a reload; else stays smaller */
        s->committing = NULL;
        if (s->failed) {
                s->failed = false;
                log_info("Storing uses works again, resuming.");
        }
        server_status(s, false);
}

static int on_done(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        TrackerdServer *s = userdata;
        uint64_t v;
        int r;

        (void)!read(fd, &v, sizeof(v));
        pthread_mutex_lock(&s->lock);
        if (s->work) { /* a spurious wake-up: the commit is still running */
                pthread_mutex_unlock(&s->lock);
                return 0;
        }
        r = s->result;
        pthread_mutex_unlock(&s->lock);
        if (!s->committing)
                return 0;
        server_committed(s, r);
        if (s->failed)
                return 0;
        /* What arrived meanwhile goes next; then receive again. */
        server_submit(s);
        if (s->paused)
                server_set_receiving(s, true);
        return 0;
}

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata)
{
        TrackerdServer *s = userdata;

        if (!s->committing)
                return 0;
        pthread_mutex_lock(&s->lock);
        s->work = true;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

static void server_reject(TrackerdServer *s, TrackerBad bad, const SockaddrUnion *from,
                          socklen_t fromlen, size_t len)
{
        unsigned long long suppressed = 0;
        char addr[ADDR_STRLEN] = "?";

        s->filling->rejects[bad]++;
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

static void server_source(TrackerdServer *s, const SockaddrUnion *from, socklen_t len, char *out,
                          size_t size)
{
        if (len != s->last_from_len || memcmp(from, &s->last_from, len) != 0) {
                if (addr_format(&from->sa, len, false, s->last_source, sizeof(s->last_source)) < 0)
                        strcpy(s->last_source, "unknown");
                memcpy(&s->last_from, from, len);
                s->last_from_len = len;
        }
        snprintf(out, size, "%s", s->last_source);
}

static void server_take(TrackerdServer *s, size_t i, int64_t now)
{
        struct mmsghdr *m = &s->msgs[i];
        size_t len = m->msg_len;
        TrackerdRecord *rec = &s->filling->records[s->filling->n];
        TrackerBad bad;

        if (!trackerd_allow_contains(&s->config.allow, &s->addrs[i].sa, m->msg_hdr.msg_namelen)) {
                server_reject(s, TRACKER_BAD_SOURCE, &s->addrs[i], m->msg_hdr.msg_namelen, len);
                return;
        }
        if (m->msg_hdr.msg_flags & MSG_TRUNC || len > TRACKER_DATAGRAM_MAX) {
                server_reject(s, TRACKER_BAD_OVERSIZED, &s->addrs[i], m->msg_hdr.msg_namelen, len);
                return;
        }
        if (tracker_use_decode(s->bufs[i], len, &rec->use, &bad) < 0) {
                server_reject(s, bad, &s->addrs[i], m->msg_hdr.msg_namelen, len);
                return;
        }
        rec->time = now;
        server_source(s, &s->addrs[i], m->msg_hdr.msg_namelen, rec->source, sizeof(rec->source));
        s->filling->n++;
}

/* Receive from fd into the filling batch until the socket is empty, the batch is full or
 * *budget datagrams were taken (budget NULL: no limit). Returns > 0 if the batch is full
 * (more may be queued), 0 otherwise; an empty socket sets *budget to 0. */
static int server_receive_limited(TrackerdServer *s, int fd, size_t *budget)
{
        for (;;) {
                size_t limit = MIN(s->config.batch_max, s->filling->capacity);
                size_t want =
                        s->filling->n < limit ? MIN((size_t)RECV_VLEN, limit - s->filling->n) : 0;
                int64_t now;
                int n;

                if (want == 0)
                        return 1;
                if (budget) {
                        want = MIN(want, *budget);
                        if (want == 0)
                                return 0;
                }
                for (size_t i = 0; i < want; i++) {
                        s->msgs[i].msg_hdr.msg_namelen = sizeof(s->addrs[i]);
                        s->msgs[i].msg_hdr.msg_flags = 0;
                }
                n = recvmmsg(fd, s->msgs, (unsigned)want, MSG_DONTWAIT, NULL);
                if (n < 0 && errno != EAGAIN && errno != EINTR)
                        /* ICMP errors and the like: nothing to take now. */
                        log_debug_errno(errno, "recvmmsg() failed: %m");
                if (n <= 0) {
                        if (budget)
                                *budget = 0;
                        return 0;
                }
                now = (int64_t)time(NULL);
                for (int i = 0; i < n; i++)
                        server_take(s, (size_t)i, now);
                if (budget)
                        *budget -= (size_t)n;
        }
}

static int server_receive(TrackerdServer *s, int fd)
{
        return server_receive_limited(s, fd, NULL);
}

/* At most how many datagrams fd holds right now: its receive queue in bytes (skb truesize,
 * at least 256 bytes per datagram) over 256. A bound, not a count: draining up to it at
 * shutdown takes everything that was queued while a flood cannot hold the exit. */
static size_t server_queued_bound(int fd)
{
        uint32_t mem[SK_MEMINFO_VARS] = {};
        socklen_t l = sizeof(mem);
        int size = 0;

        if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &l) >= 0 &&
            l > SK_MEMINFO_RMEM_ALLOC * sizeof(uint32_t))
                return mem[SK_MEMINFO_RMEM_ALLOC] / 256 + 1;
        l = sizeof(size);
        if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &l) >= 0 && size > 0)
                return (size_t)size / 256 + 1;
        return 65536;
}

static void server_touch_idle(TrackerdServer *s)
{
        if (!s->idle_timer)
                return;
        (void)sd_event_source_set_time_relative(s->idle_timer,
                                                s->config.idle_exit_sec * 1000000ULL);
        (void)sd_event_source_set_enabled(s->idle_timer, SD_EVENT_ONESHOT);
}

static int on_commit_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        TrackerdServer *s = userdata;

        if (!s->committing)
                server_submit(s);
        return 0;
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        TrackerdServer *s = userdata;
        bool full = server_receive(s, fd) > 0;
        int armed = 0;

        server_touch_idle(s);
        if (s->committing) {
                if (full)
                        /* Both batches are busy: let the kernel queue until the writer is done. */
                        server_set_receiving(s, false);
                return 0;
        }
        /* A quarter batch is worth a transaction now; a trickle waits a moment for more. */
        if (s->filling->n >= s->config.batch_max / 4 || full) {
                (void)sd_event_source_set_enabled(s->commit_timer, SD_EVENT_OFF);
                server_submit(s);
        } else if (sd_event_source_get_enabled(s->commit_timer, &armed) >= 0 && !armed) {
                (void)sd_event_source_set_time_relative(s->commit_timer, COMMIT_DELAY_USEC);
                (void)sd_event_source_set_enabled(s->commit_timer, SD_EVENT_ONESHOT);
        }
        return 0;
}

static int on_idle(sd_event_source *src, uint64_t usec, void *userdata)
{
        TrackerdServer *s = userdata;

        if (s->committing || !batch_empty(s->filling)) {
                server_touch_idle(s);
                return 0;
        }
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
        uint64_t next = EXPIRE_INTERVAL_USEC;

        /* The store belongs to the writer while it commits. */
        if (s->committing)
                next = RETRY_USEC;
        else
                server_expire(s);
        (void)sd_event_source_set_time_relative(src, next);
        return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

int trackerd_server_drain(TrackerdServer *s)
{
        size_t left[TRACKERD_FDS_MAX];
        int r = 0;

        /* Take what is queued now, a batch at a time, each committed by the writer while the
         * next is received; a failed commit is retried once here. Only what is queued now: a
         * flood that goes on must not hold the exit (what arrives later stays in the socket,
         * which the service manager keeps). */
        for (size_t i = 0; i < s->n_fds; i++)
                left[i] = server_queued_bound(s->fds[i]);
        for (;;) {
                for (size_t i = 0; i < s->n_fds; i++)
                        if (server_receive_limited(s, s->fds[i], &left[i]) > 0)
                                break;
                if (s->committing) {
                        if (s->failed)
                                (void)on_retry(NULL, 0, s);
                        r = server_wait_writer(s);
                        server_committed(s, r);
                        if (r < 0)
                                return r;
                }
                if (batch_empty(s->filling))
                        break;
                server_submit(s);
        }
        server_status(s, true);
        return 0;
}

void trackerd_server_counters(const TrackerdServer *s, TrackerdCounters *ret)
{
        *ret = s->counters;
}

TrackerdServer *trackerd_server_free(TrackerdServer *s)
{
        if (!s)
                return NULL;
        if (s->writer_started) {
                (void)server_wait_writer(s);
                pthread_mutex_lock(&s->lock);
                s->stop = true;
                pthread_cond_signal(&s->cond);
                pthread_mutex_unlock(&s->lock);
                pthread_join(s->writer, NULL);
        }
        for (size_t i = 0; i < s->n_fds; i++) {
                sd_event_source_disable_unref(s->io[i]);
                safe_close(s->fds[i]);
        }
        sd_event_source_disable_unref(s->idle_timer);
        sd_event_source_disable_unref(s->retry_timer);
        sd_event_source_disable_unref(s->expire_timer);
        sd_event_source_disable_unref(s->commit_timer);
        sd_event_source_disable_unref(s->done_source);
        safe_close(s->done_fd);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        trackerd_store_free(s->store);
        sd_event_unref(s->event);
        free(s->batches[0].records);
        free(s->batches[1].records);
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

void trackerd_server_reload(TrackerdServer *s, const TrackerdConfig *config)
{
        uint64_t old_retention = s->config.retention_sec;
        int r;

        s->config = *config;
        /* The filling batch is ours to grow now; the committing one grows when it is back. */
        r = batch_reserve(s->filling, config->batch_max);
        if (r < 0)
                log_warning_errno(r, "Cannot grow the batch to BatchMax=%llu, using %zu: %m",
                                  (unsigned long long)config->batch_max, s->filling->capacity);
        for (size_t i = 0; i < s->n_fds; i++)
                server_tune_socket(s, s->fds[i]);

        if (config->idle_exit_sec == 0)
                s->idle_timer = sd_event_source_disable_unref(s->idle_timer);
        else if (!s->idle_timer) {
                r = sd_event_add_time_relative(s->event, &s->idle_timer, CLOCK_MONOTONIC,
                                               config->idle_exit_sec * 1000000ULL, 0, on_idle, s);
                if (r < 0)
                        log_warning_errno(r, "Cannot set up IdleExitSec=, ignoring: %m");
        } else
                server_touch_idle(s);

        /* A shorter retention takes effect now, not at the next hourly run. */
        if (config->retention_sec != old_retention && !s->committing)
                server_expire(s);
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
        s->done_fd = -EBADF;
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        s->bad_log = (RateLimit){.interval_usec = 10ULL * 1000000ULL, .burst = 10};
        s->fail_log = (RateLimit){.interval_usec = 60ULL * 1000000ULL, .burst = 3};
        for (size_t i = 0; i < n_fds; i++)
                s->fds[s->n_fds++] = fds[i];
        for (size_t i = 0; i < 2; i++) {
                r = batch_reserve(&s->batches[i], config->batch_max);
                if (r < 0)
                        return r;
        }
        s->filling = &s->batches[0];
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
        s->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->done_fd < 0)
                return negative_errno();
        r = sd_event_add_io(event, &s->done_source, s->done_fd, EPOLLIN, on_done, s);
        if (r < 0)
                return r;
        /* Finished commits before new datagrams: that frees a batch to receive into. */
        (void)sd_event_source_set_priority(s->done_source, SD_EVENT_PRIORITY_NORMAL - 1);
        r = sd_event_add_time_relative(event, &s->retry_timer, CLOCK_MONOTONIC, RETRY_USEC, 0,
                                       on_retry, s);
        if (r < 0)
                return r;
        (void)sd_event_source_set_enabled(s->retry_timer, SD_EVENT_OFF);
        r = sd_event_add_time_relative(event, &s->commit_timer, CLOCK_MONOTONIC, COMMIT_DELAY_USEC,
                                       0, on_commit_timer, s);
        if (r < 0)
                return r;
        (void)sd_event_source_set_enabled(s->commit_timer, SD_EVENT_OFF);
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
        r = -pthread_create(&s->writer, NULL, writer_main, s);
        if (r < 0)
                return r;
        s->writer_started = true;
        *ret = TAKE_PTR(s);
        return 0;
}
