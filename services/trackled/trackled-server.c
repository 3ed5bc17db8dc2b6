/* trackled-server.c - trackle's control socket (trackle-protocol(7)): binary frames from
 * libtrackle.so and JSON from the console tools, session identity, markers, locks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "trackle-wire.h"
#include "trackled-account.h"
#include "trackled-content.h"
#include "trackled-ids.h"
#include "trackled-proc.h"
#include "trackled-request-admin.h"
#include "trackled-request.h"
#include "trackled-server.h"

#define CHECK_INTERVAL_USEC (5ULL * 1000000ULL)

typedef enum ConnKind {
        CONN_NEW,
        CONN_LIBRARY,
        CONN_CONSOLE,
} ConnKind;

typedef struct Session Session;
typedef struct Conn Conn;

struct Session {
        int64_t id;
        uint32_t uid, gid;
        char user[64];
        bool audit;
        uint32_t audit_id;
        pid_t leader;
        uint64_t leader_start;
        int rootfd; /* the client's "/" (O_PATH), for the after states at session end */
        Conn *leader_conn;
        Session *next;
};

struct Conn {
        TrackledServer *server;
        int fd;
        sd_event_source *src;
        ConnKind kind;
        struct ucred cred;
        bool admin, closing;
        uint8_t hdr[TRACKLE_WIRE_HEADER_SIZE];
        size_t hdr_got;
        TrackleHeader h;
        uint8_t *payload;
        size_t payload_got;
        int fds[TRACKLED_FRAME_FDS_MAX];
        size_t n_fds;
        uint8_t *out;
        size_t out_len, out_off;
        /* library connections */
        int64_t session;
        int rootfd;
        char **touched;
        size_t n_touched, cap_touched;
        uint32_t *touched_ix;   /* open addressing over touched[]: index + 1, 0: empty */
        size_t touched_ix_size; /* a power of two, more than twice n_touched */
        bool *freed;            /* set by conn_free() while conn_drain() runs */
        bool drained;
        uint64_t missed; /* summed MISSED counts, noted once (conn_note_missed()) */
        /* the process's event ring (TRACKLE_FRAME_RING), mapped shared; its content is as
         * hostile as the socket's: every frame is copied out before it is parsed */
        uint8_t *ring;
        size_t ring_map_len;
        uint32_t ring_size;
        uint64_t ring_tail;
        uint64_t ring_frames; /* socket frames dispatched since the ring came */
        bool in_ring_drain;
        /* ring_mentions(): the unread ring up to ring_scanned has been looked through; the
         * path hashes of its events (0: empty slot), and whether it holds other frames */
        uint64_t ring_scanned;
        uint64_t *scan_set;
        size_t scan_size, n_scan;
        bool scan_other;
        /* EXEC frames of forked children (on this connection, see TRACKLE_EXEC_FORKED), held
         * until the ring is worked off up to where its head was when they came, oldest first */
        struct HeldExec *held_execs, **held_execs_tail;
        size_t n_held_execs;
        Conn *prev, *next;
};

/* A forked child's EXEC frame, stored after the events its parent put into the ring before it
 * (everything up to pos): commands and file events keep their order without the ring being
 * worked off while the program runs (dpkg forks and execs rm when it has 600 events in it). */
typedef struct HeldExec {
        struct HeldExec *next;
        uint64_t pos;
        size_t len;
        uint8_t payload[];
} HeldExec;

/* At most this many held per connection; then the ring is worked off at once. */
#define HELD_EXECS_MAX 64

typedef enum RingUntil {
        RING_READ, /* what came before the next socket frame not read yet */
        RING_ALL,  /* everything: the connection is gone, or its session ends */
} RingUntil;

static int ring_drain(Conn *c, RingUntil until);
static void ring_unmap(Conn *c);
static void held_execs_free(Conn *c);

struct TrackledServer {
        sd_event *event;
        const TrackledConfig *config;
        TrackledStore *store;
        sd_event_source *listen_src[TRACKLED_FDS_MAX];
        int listen_fds[TRACKLED_FDS_MAX];
        size_t n_listen;
        sd_event_source *timer;
        sd_event_source *flush;    /* post source: commits the batch of asynchronous frames */
        uint64_t last_frame_usec;  /* CLOCK_MONOTONIC of the last frame read */
        uint64_t last_expire_usec; /* CLOCK_MONOTONIC of the last Retention= pass, 0: none */
        /* Before states already answered (the old inode is held open) but not yet read and
         * stored, oldest first (see PENDING_MAX), and the timer that bounds their wait. */
        struct Pending *pending, **pending_tail;
        size_t n_pending;
        sd_event_source *pending_src;
        Conn *conns;
        size_t n_conns;
        Session *sessions;
        int own_root; /* O_PATH "/" of trackled */
        int run_lock; /* TRACKLE_RUN_LOCK, write-locked while we run */
        char host[256];
        RateLimit reject_rl;
        bool catching_up; /* session_catch_up() runs */
        /* While a BEFORE of before_path is handled, the descriptor it passed (-EBADF if
         * none): the inode that was at that path when the process sent it. Events of the
         * session drained meanwhile (they came first) take that path's content from it, not
         * from the path, which an asynchronous BEFORE's rename may already have replaced. */
        const char *before_path;
        int before_fd;
};

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- sessions in memory */

static Session *session_find(TrackledServer *s, int64_t id)
{
        for (Session *x = s->sessions; x; x = x->next)
                if (x->id == id)
                        return x;
        return NULL;
}

static void session_unlink(TrackledServer *s, Session *x)
{
        for (Session **p = &s->sessions; *p; p = &(*p)->next)
                if (*p == x) {
                        *p = x->next;
                        break;
                }
        if (x->leader_conn)
                x->leader_conn->session = 0;
        safe_close(x->rootfd);
        free(x);
}

/* The open session a process belongs to, by the session's mode (kernel facts only). */
static Session *session_for_pid(TrackledServer *s, pid_t pid)
{
        uint32_t sid;

        if (trackled_proc_sessionid(pid, &sid) >= 0)
                for (Session *x = s->sessions; x; x = x->next)
                        if (x->audit && x->audit_id == sid)
                                return x;
        for (Session *x = s->sessions; x; x = x->next)
                if (!x->audit && trackled_proc_descends(pid, x->leader, x->leader_start) > 0)
                        return x;
        return NULL;
}

static void marker_name(const Session *x, char *buf, size_t size)
{
        if (x->audit)
                snprintf(buf, size, "a%" PRIu32, x->audit_id);
        else
                snprintf(buf, size, "p%" PRId64, x->id);
}

/* Every process of a session reads the markers below these directories: 0755 whatever the
 * umask (trackled.service runs with UMask=0077). */
static int mkdir_root(const char *path)
{
        if (mkdir(path, 0755) < 0)
                return errno == EEXIST ? 0 : negative_errno();
        if (chmod(path, 0755) < 0)
                return negative_errno();
        return 0;
}

static int ensure_runtime_dirs(void)
{
        int r;

        r = mkdir_root("/run/tracksuite");
        if (r < 0)
                return r;
        r = mkdir_root(TRACKLE_RUN_DIR);
        if (r < 0)
                return r;
        r = mkdir_root(TRACKLE_ACTIVE_DIR);
        if (r < 0)
                return r;
        return mkdir_root(TRACKLE_SPOOL_DIR);
}

/* Written to a temporary file in the same directory (ours, root-owned), then renamed. */
static int marker_write(const Session *x)
{
        char name[64], tmp[80], line[256];
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        size_t n;

        dfd = open(TRACKLE_ACTIVE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return negative_errno();
        marker_name(x, name, sizeof(name));
        snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
        n = (size_t)snprintf(
                line, sizeof(line),
                "session=%" PRId64 " mode=%s leader=%d start=%" PRIu64 " uid=%" PRIu32 "\n", x->id,
                x->audit ? "audit" : "ancestry", (int)x->leader, x->leader_start, x->uid);
        (void)unlinkat(dfd, tmp, 0);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        if (fchmod(fd, 0644) < 0 || write(fd, line, n) != (ssize_t)n || fsync(fd) < 0) {
                int r = negative_errno();
                (void)unlinkat(dfd, tmp, 0);
                return r;
        }
        if (renameat(dfd, tmp, dfd, name) < 0) {
                int r = negative_errno();
                (void)unlinkat(dfd, tmp, 0);
                return r;
        }
        return 0;
}

static void marker_remove(const Session *x)
{
        char name[64], path[PATH_MAX];

        marker_name(x, name, sizeof(name));
        snprintf(path, sizeof(path), "%s/%s", TRACKLE_ACTIVE_DIR, name);
        if (unlink(path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove marker '%s', ignoring: %m", path);
}

/* The spool directory is ours, its files are the admin's: remove it only when trackle has
 * emptied it (rmdir fails otherwise, and what is left stays). */
static void spool_remove(const Session *x)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%" PRId64, TRACKLE_SPOOL_DIR, x->id);
        if (rmdir(path) < 0 && errno != ENOENT && errno != ENOTEMPTY)
                log_debug_errno(errno, "Failed to remove '%s', ignoring: %m", path);
}

/* The POSIX ACL "u::rwx u:UID:rwx g::--- m::rwx o::---" in the kernel's xattr format
 * (system.posix_acl_access, version 2, entries sorted by tag). */
static int spool_grant(int dirfd, uid_t uid)
{
        enum {
                ACL_USER_OBJ = 0x01,
                ACL_USER = 0x02,
                ACL_GROUP_OBJ = 0x04,
                ACL_MASK = 0x10,
                ACL_OTHER = 0x20
        };
        struct {
                uint16_t tag, perm;
                uint32_t id;
        } entries[] = {
                {ACL_USER_OBJ, 7, UINT32_MAX},  {ACL_USER, 7, (uint32_t)uid},
                {ACL_GROUP_OBJ, 0, UINT32_MAX}, {ACL_MASK, 7, UINT32_MAX},
                {ACL_OTHER, 0, UINT32_MAX},
        };
        uint8_t buf[4 + sizeof(entries)];
        const uint32_t version = 2;

        memcpy(buf, &version, sizeof(version));
        memcpy(buf + 4, entries, sizeof(entries));
        if (fsetxattr(dirfd, "system.posix_acl_access", buf, sizeof(buf), 0) < 0)
                return negative_errno();
        return 0;
}

/* The spool directory is trackled's (root, 0700) and the admin may write in it through an
 * ACL entry, so trackled needs no CAP_CHOWN (trackled(8), SECURITY). Where the file system
 * has no ACLs, the directory is given to the admin instead, if trackled may. */
static int spool_create(const Session *x, char *ret, size_t size)
{
        char name[32];
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        struct stat st;
        int r;

        snprintf(name, sizeof(name), "%" PRId64, x->id);
        snprintf(ret, size, "%s/%s", TRACKLE_SPOOL_DIR, name);
        dfd = open(TRACKLE_SPOOL_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return negative_errno();
        if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_uid == x->uid || geteuid() != 0)
                return 0;
        if (st.st_uid != 0)
                return -EPERM;
        r = spool_grant(fd, x->uid);
        if (r != -EOPNOTSUPP)
                return r;
        if (fchown(fd, x->uid, x->gid) < 0)
                return negative_errno();
        return 0;
}

static void log_session(int level, const char *mid, const Session *x, int64_t ticket,
                        const char *fmt_msg)
{
        char sid[32], tid[32], uid[32];
        LogField f[] = {
                {"TRACKLE_SESSION", sid},
                {"TRACKLE_USER", x->user},
                {"TRACKLE_UID", uid},
                {"TRACKLE_TICKET", tid},
        };

        snprintf(sid, sizeof(sid), "%" PRId64, x->id);
        snprintf(uid, sizeof(uid), "%" PRIu32, x->uid);
        snprintf(tid, sizeof(tid), "%" PRId64, ticket);
        log_fields(level, mid, f, ticket > 0 ? 4 : 3, "Session %" PRId64 " of %s %s.", x->id,
                   x->user, fmt_msg);
}

static void log_store_failure(int r, const char *what)
{
        LogField f[] = {{"TRACKLE_WHAT", what}};

        (void)log_fields_internal(LOG_ERR, r, __FILE__, __LINE__, __func__,
                                  TRACKLED_MID_STORE_FAILED, f, 1, "Failed to store %s: %s", what,
                                  strerror(-r));
}

/* Asynchronous frames (events, execs) share one transaction per turn of the event loop: a
 * tar that creates 5,000 files must not cost 5,000 commits. The batch is committed after the
 * turn (post source), and before anything that answers a client (BEFORE, console ops), so
 * that nothing is acknowledged before it is committed. */
static void batch_start(TrackledServer *s)
{
        if (trackled_store_batch_begin(s->store) > 0)
                (void)sd_event_source_set_enabled(s->flush, SD_EVENT_ONESHOT);
}

static void batch_flush(TrackledServer *s)
{
        int r = trackled_store_batch_commit(s->store);

        if (r < 0)
                log_store_failure(r, "a batch of file events and commands");
}

static int on_flush(sd_event_source *src, void *userdata)
{
        batch_flush(userdata);
        return 0;
}

static int on_conn(sd_event_source *src, int fd, uint32_t revents, void *userdata);
static void pending_flush(TrackledServer *s);
static void pending_flush_path(TrackledServer *s, const char *path);
static void session_catch_up(Conn *c, const char *path);

/* Process what a library connection has already sent (frames, or its end) before a session is
 * closed: the events of processes that ran last must not be lost to the event loop's order. */
static void conn_drain(Conn *c)
{
        bool freed = false;

        c->freed = &freed;
        for (unsigned i = 0; i < 4096; i++) {
                char b;
                ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN && !c->out)
                        break;
                (void)on_conn(c->src, c->fd, EPOLLIN, c);
                if (freed)
                        return;
                if (n < 0 && errno != EAGAIN)
                        break;
        }
        c->freed = NULL;
}

/* One note for what a process could not deliver, however many MISSED frames said so (a
 * process whose threads kept finding the library busy reports at each next call). */
static void conn_note_missed(Conn *c)
{
        TrackledServer *s = c->server;
        char msg[128];

        if (c->missed == 0 || c->session <= 0)
                return;
        batch_start(s);
        snprintf(msg, sizeof(msg), "%" PRIu64 " event(s) of process %d could not be delivered",
                 c->missed, (int)c->cred.pid);
        (void)trackled_store_note(s->store, c->session, msg);
        c->missed = 0;
}

static void session_drain(TrackledServer *s, int64_t id)
{
        for (;;) {
                Conn *c = s->conns;

                /* Restart from the head after each drain: a drain may free connections. */
                while (c && !(c->kind == CONN_LIBRARY && c->session == id && !c->drained))
                        c = c->next;
                if (!c)
                        break;
                c->drained = true;
                conn_drain(c);
        }
        for (Conn *c = s->conns; c; c = c->next)
                if (c->session == id) {
                        c->drained = false;
                        if (c->kind == CONN_LIBRARY) {
                                (void)ring_drain(c, RING_ALL);
                                conn_note_missed(c);
                        }
                }
}

/* Take the after state of every path the session touched, classify, close it in the
 * database, release its locks, remove its marker. */
static int session_end(TrackledServer *s, Session *x, const int *exit_status, const char *state,
                       const char *note)
{
        TrackledSessionRow row = {};
        char **paths = NULL;
        size_t n = 0;
        bool abandoned = streq(state, "abandoned");
        int r;

        session_drain(s, x->id);
        pending_flush(s);
        batch_flush(s); /* what the drain stored, and so that the end is one real commit */
        r = trackled_store_file_paths(s->store, x->id, &paths, &n);
        if (r < 0)
                goto fail;
        r = trackled_store_begin(s->store);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < n; i++) {
                TrackledSnapshot snap = {};

                r = trackled_snapshot_path(x->rootfd >= 0 ? x->rootfd : s->own_root, paths[i],
                                           s->config, &snap);
                if (r < 0)
                        goto rollback;
                if (snap.kind == TRACKLED_KIND_UNKNOWN) {
                        char msg[PATH_MAX + 128];
                        snprintf(msg, sizeof(msg), "could not read the after state of '%s': %s",
                                 paths[i], strerror(-snap.error));
                        (void)trackled_store_note(s->store, x->id, msg);
                }
                r = trackled_store_file_after(s->store, x->id, paths[i], &snap);
                trackled_snapshot_done(&snap);
                if (r < 0)
                        goto rollback;
        }
        if (note) {
                r = trackled_store_note(s->store, x->id, note);
                if (r < 0)
                        goto rollback;
        }
        r = trackled_store_session_fold(s->store, x->id);
        if (r < 0)
                goto rollback;
        r = trackled_store_session_set_state(s->store, x->id, state, true, exit_status);
        if (r < 0)
                goto rollback;
        r = trackled_store_lock_release_session(s->store, x->id, x->user);
        if (r < 0)
                goto rollback;
        r = trackled_store_commit(s->store);
        if (r < 0)
                goto rollback;
        (void)trackled_store_session_get(s->store, x->id, &row);
        log_session(LOG_INFO,
                    abandoned ? TRACKLED_MID_SESSION_ABANDONED : TRACKLED_MID_SESSION_ENDED, x,
                    row.ticket, abandoned ? "was abandoned" : "ended");
        marker_remove(x);
        spool_remove(x);
        trackled_strv_free(paths, n);
        session_unlink(s, x);
        (void)notify_status("%zu open session(s)", trackled_server_n_open(s));
        return 0;
rollback:
        trackled_store_rollback(s->store);
fail:
        trackled_strv_free(paths, n);
        log_store_failure(r, "the end of a session");
        return r;
}

size_t trackled_server_n_open(TrackledServer *s)
{
        size_t n = 0;

        for (Session *x = s->sessions; x; x = x->next)
                n++;
        return n;
}

/* ---- connections */

static void conn_reset_frame(Conn *c)
{
        free(c->payload);
        c->payload = NULL;
        c->payload_got = 0;
        c->hdr_got = 0;
        for (size_t i = 0; i < c->n_fds; i++)
                safe_close(c->fds[i]);
        c->n_fds = 0;
}

static int take_fd(Conn *c)
{
        if (c->n_fds == 0)
                return -EBADF;
        int fd = c->fds[0];
        memmove(c->fds, c->fds + 1, (c->n_fds - 1) * sizeof(int));
        c->n_fds--;
        return fd;
}

static void library_after_states(TrackledServer *s, Conn *c)
{
        int r;

        if (c->n_touched == 0 || !session_find(s, c->session))
                return;
        /* held before states of these paths first: an after state stored without one would
         * make it "unknown" */
        for (size_t i = 0; i < c->n_touched && s->pending; i++)
                pending_flush_path(s, c->touched[i]);
        r = trackled_store_begin(s->store);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < c->n_touched; i++) {
                TrackledSnapshot snap = {};

                r = trackled_snapshot_path(c->rootfd, c->touched[i], s->config, &snap);
                if (r < 0)
                        goto rollback;
                r = trackled_store_file_after(s->store, c->session, c->touched[i], &snap);
                trackled_snapshot_done(&snap);
                if (r < 0)
                        goto rollback;
        }
        r = trackled_store_commit(s->store);
        if (r >= 0)
                return;
rollback:
        trackled_store_rollback(s->store);
fail:
        log_store_failure(r, "after states");
}

static void conn_free(Conn *c)
{
        TrackledServer *s;

        if (!c)
                return;
        s = c->server;
        if (c->kind == CONN_LIBRARY) {
                (void)ring_drain(c, RING_ALL); /* all its socket frames were read */
                conn_note_missed(c);
        }
        if (c->kind == CONN_LIBRARY)
                library_after_states(s, c); /* its held before states first */
        if (c->kind == CONN_CONSOLE && c->session > 0) {
                Session *x = session_find(s, c->session);
                if (x && x->leader_conn == c) {
                        x->leader_conn = NULL;
                        /* A leader that is still there may only have lost this connection
                         * (a resume that timed out on its side, say): it comes back with
                         * session.resume. One that is gone ends the session now; on_timer()
                         * would too, a little later. */
                        if (!trackled_proc_alive(x->leader, x->leader_start))
                                (void)session_end(s, x, NULL, "ended",
                                                  "the session leader disconnected without "
                                                  "session.end");
                }
        }
        if (c->freed)
                *c->freed = true;
        sd_event_source_disable_unref(c->src);
        safe_close(c->fd);
        safe_close(c->rootfd);
        ring_unmap(c);
        conn_reset_frame(c);
        free(c->out);
        trackled_strv_free(c->touched, c->n_touched);
        free(c->touched_ix);
        free(c->scan_set);
        held_execs_free(c);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_conns--;
        free(c);
}

static void conn_reject(Conn *c, const char *why)
{
        TrackledServer *s = c->server;
        unsigned long long suppressed = 0;
        char pid[32], uid[32];
        LogField f[] = {{"TRACKLE_PID", pid}, {"TRACKLE_UID", uid}, {"TRACKLE_REJECT", why}};

        if (ratelimit_below(&s->reject_rl, now_usec(), &suppressed)) {
                snprintf(pid, sizeof(pid), "%d", (int)c->cred.pid);
                snprintf(uid, sizeof(uid), "%u", (unsigned)c->cred.uid);
                log_fields(LOG_NOTICE, TRACKLED_MID_CLIENT_REJECTED, f, ELEMENTSOF(f),
                           "Dropped a client connection (pid %d, uid %u): %s.%s", (int)c->cred.pid,
                           (unsigned)c->cred.uid, why,
                           suppressed ? " (some similar messages were suppressed)" : "");
        }
        conn_free(c);
}

static int conn_queue(Conn *c, const uint8_t *hdr, size_t hdr_len, const char *body,
                      size_t body_len)
{
        uint8_t *out;

        /* One reply at a time: the next frame is read only when this one is sent. */
        out = malloc(hdr_len + body_len);
        if (!out)
                return -ENOMEM;
        memcpy(out, hdr, hdr_len);
        if (body_len > 0)
                memcpy(out + hdr_len, body, body_len);
        free(c->out);
        c->out = out;
        c->out_len = hdr_len + body_len;
        c->out_off = 0;
        return 0;
}

static int conn_flush(Conn *c)
{
        while (c->out && c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return negative_errno();
                }
                c->out_off += (size_t)n;
        }
        free(c->out);
        c->out = NULL;
        c->out_len = c->out_off = 0;
        return 1;
}

static int send_ack(Conn *c, int status)
{
        uint8_t buf[32];
        int n = trackle_wire_ack(buf, sizeof(buf), status);

        if (n < 0)
                return n;
        return conn_queue(c, buf, (size_t)n, NULL, 0);
}

static int send_json(Conn *c, json_object *o)
{
        uint8_t hdr[TRACKLE_WIRE_HEADER_SIZE];
        size_t len;
        const char *text;
        int n;

        text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        if (!text)
                return -ENOMEM;
        if (len > TRACKLE_WIRE_JSON_REPLY_MAX)
                return -EMSGSIZE;
        n = trackle_wire_json_header(hdr, sizeof(hdr), len);
        if (n < 0)
                return n;
        return conn_queue(c, hdr, (size_t)n, text, len);
}

static int reply_error(Conn *c, int error, const char *fmt, ...) _printf_(3, 4);
static int reply_error(Conn *c, int error, const char *fmt, ...)
{
        json_object *o = json_object_new_object();
        char msg[1024];
        va_list ap;
        int r;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_object_object_add(o, "ok", json_object_new_boolean(false));
        json_object_object_add(o, "error", json_object_new_string(msg));
        json_object_object_add(o, "errno", json_object_new_int(abs(error)));
        r = send_json(c, o);
        json_object_put(o);
        return r;
}

/* Takes o (may be NULL). */
static int reply_ok(Conn *c, const char *key, json_object *v)
{
        json_object *o = json_object_new_object();
        int r;

        json_object_object_add(o, "ok", json_object_new_boolean(true));
        if (key)
                json_object_object_add(o, key, v);
        r = send_json(c, o);
        json_object_put(o);
        if (r == -EMSGSIZE)
                return reply_error(c, EMSGSIZE, "reply too large");
        return r;
}

/* ---- library frames */

static uint64_t path_hash_n(const char *p, size_t n)
{
        uint64_t h = 1469598103934665603ULL;

        for (size_t i = 0; i < n; i++)
                h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
        return h ? h : 1;
}

static uint64_t path_hash(const char *p)
{
        return path_hash_n(p, strlen(p));
}

static int touched_reindex(Conn *c, size_t size)
{
        uint32_t *ix = calloc(size, sizeof(uint32_t));

        if (!ix)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_touched; i++) {
                size_t j = path_hash(c->touched[i]) & (size - 1);

                while (ix[j])
                        j = (j + 1) & (size - 1);
                ix[j] = (uint32_t)(i + 1);
        }
        free(c->touched_ix);
        c->touched_ix = ix;
        c->touched_ix_size = size;
        return 0;
}

/* Remember path as touched by c's process (its after state is taken when the connection
 * ends). A hash index over the list: a tar x of 65,536 files must not cost 2^31 string
 * comparisons in trackled's event loop. */
static int touched_add(Conn *c, const char *path)
{
        size_t j;
        int r;

        if (c->touched_ix_size < 2 * (c->n_touched + 1)) {
                r = touched_reindex(c, c->touched_ix_size ? c->touched_ix_size * 2 : 64);
                if (r < 0)
                        return r;
        }
        for (j = path_hash(path) & (c->touched_ix_size - 1); c->touched_ix[j];
             j = (j + 1) & (c->touched_ix_size - 1))
                if (streq(c->touched[c->touched_ix[j] - 1], path))
                        return 0;
        if (c->n_touched >= TRACKLED_TOUCHED_MAX)
                return 0; /* still reconciled at session end */
        if (c->n_touched == c->cap_touched) {
                size_t nc = c->cap_touched ? c->cap_touched * 2 : 16;
                char **nv = realloc(c->touched, nc * sizeof(char *));
                if (!nv)
                        return -ENOMEM;
                c->touched = nv;
                c->cap_touched = nc;
        }
        c->touched[c->n_touched] = strdup(path);
        if (!c->touched[c->n_touched])
                return -ENOMEM;
        c->n_touched++;
        c->touched_ix[j] = (uint32_t)c->n_touched;
        return 0;
}

static char *wire_string(const TrackleString *w)
{
        char *p = malloc((size_t)w->len + 1);

        if (!p)
                return NULL;
        memcpy(p, w->data, w->len);
        p[w->len] = '\0';
        return p;
}

static int handle_hello(Conn *c)
{
        TrackledServer *s = c->server;
        TrackleHello h;
        Session *x;
        struct stat st;
        int fd;

        if (trackle_wire_parse_hello(c->payload, c->h.length, &h) < 0 ||
            h.version != TRACKLE_WIRE_VERSION)
                return -EBADMSG;
        x = session_for_pid(s, c->cred.pid);
        if (!x)
                return -EPERM;
        c->kind = CONN_LIBRARY;
        c->session = x->id;
        if (h.flags & TRACKLE_HELLO_ROOTFD) {
                fd = take_fd(c);
                if (fd < 0 || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        safe_close(fd);
                        return -EBADMSG;
                }
                c->rootfd = fd;
        } else {
                c->rootfd = fcntl(s->own_root, F_DUPFD_CLOEXEC, 3);
                if (c->rootfd < 0)
                        return negative_errno();
        }
        /* The library waits for this before anything else: while it waits, its pid is alive
         * and was just checked, so what it sends next belongs to the session even if the
         * process is gone by the time the frames are read. */
        return send_ack(c, 0);
}

static void note_unknown(TrackledServer *s, int64_t session, const char *what, const char *path,
                         const char *why)
{
        char msg[PATH_MAX + 128];

        snprintf(msg, sizeof(msg), "could not read the %s state of '%s': %s", what, path, why);
        (void)trackled_store_note(s->store, session, msg);
}

/* Before states held (the old inode open) but not read yet. Reading and storing them while
 * the admin's program still runs takes from it what it needs most (on a 2-CPU machine, dpkg
 * -i ran 1.3x instead of 1.2x of untracked with them read at once), so they wait: for the end
 * of that program's connection, for a frame or an after state that needs the same path, for
 * a console request or the session's end, and never longer than PENDING_DEFER_USEC. At
 * PENDING_MAX held, the oldest go at once (each holds a descriptor). */
#define PENDING_MAX 512
#define PENDING_DEFER_USEC (2ULL * 1000000ULL)

typedef struct Pending {
        int64_t session;
        pid_t pid;
        uint32_t op;
        int fd;
        char *path;
        uint64_t hash; /* of path: pending_has() compares these first */
        uint64_t added_usec;
        struct stat st;     /* of the held inode when it came: was it written since? */
        char *renamed_from; /* a rename onto path came meanwhile: stored after the state */
        struct Pending *next;
} Pending;

static Pending *pending_find(TrackledServer *s, int64_t session, const char *path)
{
        uint64_t h;

        if (!s->pending)
                return NULL;
        h = path_hash(path);
        for (Pending *p = s->pending; p; p = p->next)
                if (p->hash == h && p->session == session && streq(p->path, path))
                        return p;
        return NULL;
}

/* A before state of path is held for session: it is the first one, to be stored. */
static bool pending_has(TrackledServer *s, int64_t session, const char *path)
{
        return pending_find(s, session, path) != NULL;
}

static void pending_arm(TrackledServer *s);

static void before_store(TrackledServer *s, int64_t session, pid_t pid, uint32_t op,
                         const char *path, int fd, int rootfd, int *ret_status);

static int before_put(TrackledServer *s, int64_t session, pid_t pid, uint32_t op, const char *path,
                      const TrackledSnapshot *snap, const char *why);

/* The held inode was written after its BEFORE came (through another link, or a descriptor
 * its process kept open): its content is no longer the state before. Its metadata as it
 * was then is kept, the content is unknown, and the session says so. */
static void before_changed(TrackledServer *s, const Pending *p)
{
        TrackledSnapshot snap = {
                .kind = TRACKLED_KIND_UNKNOWN,
                .have_meta = true,
                .mode = p->st.st_mode & 07777,
                .uid = p->st.st_uid,
                .gid = p->st.st_gid,
                .size = (uint64_t)p->st.st_size,
        };

        (void)before_put(s, p->session, p->pid, p->op, p->path, &snap,
                         "it was written again before trackled read it");
}

/* Read and store one answered-but-pending before state, in the batch transaction (its own
 * savepoint): dpkg's 150 replaced files are one commit, not 150. Nothing waits for these
 * commits: the clients already have their answers, and the content was safe from the moment
 * we held the old inode open. */
static void pending_store(TrackledServer *s, Pending *p)
{
        struct stat now;
        bool known;

        batch_start(s);
        /* Held without asking the database whether the path already had a state before (an
         * asynchronous BEFORE is answered by no one, and dpkg's 150 would be 150 queries
         * while it runs): asked now. The first state wins. */
        known = trackled_store_file_has_before(s->store, p->session, p->path) > 0;
        if (!known && S_ISREG(p->st.st_mode) &&
            (fstat(p->fd, &now) < 0 || now.st_size != p->st.st_size ||
             now.st_mtim.tv_sec != p->st.st_mtim.tv_sec ||
             now.st_mtim.tv_nsec != p->st.st_mtim.tv_nsec))
                before_changed(s, p);
        else if (!known)
                before_store(s, p->session, p->pid, p->op, p->path, p->fd, -EBADF, NULL);
        if (p->renamed_from) {
                int r = trackled_store_file_renamed_from(s->store, p->session, p->path,
                                                         p->renamed_from);
                if (r < 0)
                        log_store_failure(r, "a rename");
                free(p->renamed_from);
        }
        safe_close(p->fd);
        free(p->path);
        free(p);
}

/* Store up to max pending before states (all: SIZE_MAX), oldest first. */
static size_t pending_flush_some(TrackledServer *s, size_t max)
{
        size_t n = 0;

        while (s->pending && n < max) {
                Pending *p = s->pending;

                s->pending = p->next;
                if (!s->pending)
                        s->pending_tail = &s->pending;
                s->n_pending--;
                pending_store(s, p);
                n++;
        }
        if (n > 0)
                pending_arm(s);
        return n;
}

/* All of them: before after states, a session's end, a console request, a stop. */
static void pending_flush(TrackledServer *s)
{
        (void)pending_flush_some(s, SIZE_MAX);
}

/* Only those of one path, in order: what a frame about that path must find stored. Frames
 * about other paths need not wait for the rest (a synchronous BEFORE of dpkg's status file
 * used to wait for all of the 150 replaced files' contents being read and hashed). */
static void pending_flush_path(TrackledServer *s, const char *path)
{
        Pending **pp = &s->pending, *last = NULL;
        bool stored = false;
        uint64_t h;

        if (!path || !path[0] || !s->pending)
                return;
        h = path_hash(path);
        while (*pp) {
                Pending *p = *pp;

                if (p->hash != h || !streq(p->path, path)) {
                        last = p;
                        pp = &p->next;
                        continue;
                }
                *pp = p->next;
                s->n_pending--;
                pending_store(s, p);
                stored = true;
        }
        s->pending_tail = last ? &last->next : &s->pending;
        if (stored)
                pending_arm(s);
}

/* At PENDING_MAX, this many of the oldest at a time. */
#define PENDING_SLICE 8

static void pending_arm(TrackledServer *s)
{
        if (!s->pending) {
                (void)sd_event_source_set_enabled(s->pending_src, SD_EVENT_OFF);
                return;
        }
        (void)sd_event_source_set_time(s->pending_src, s->pending->added_usec + PENDING_DEFER_USEC);
        (void)sd_event_source_set_enabled(s->pending_src, SD_EVENT_ONESHOT);
}

/* Those held for PENDING_DEFER_USEC (the oldest are first in the queue). */
static int on_pending(sd_event_source *src, uint64_t usec, void *userdata)
{
        TrackledServer *s = userdata;

        while (s->pending && s->pending->added_usec + PENDING_DEFER_USEC <= usec)
                (void)pending_flush_some(s, 1);
        pending_arm(s);
        return 0;
}

static int pending_add(TrackledServer *s, int64_t session, pid_t pid, uint32_t op, const char *path,
                       int fd, const struct stat *st)
{
        Pending *p;

        if (s->n_pending >= PENDING_MAX)
                (void)pending_flush_some(s, PENDING_SLICE);
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->path = strdup(path);
        if (!p->path) {
                free(p);
                return -ENOMEM;
        }
        p->session = session;
        p->pid = pid;
        p->op = op;
        p->fd = fd;
        p->hash = path_hash(path);
        p->added_usec = now_usec();
        p->st = *st;
        *s->pending_tail = p;
        s->pending_tail = &p->next;
        s->n_pending++;
        if (s->n_pending == 1)
                pending_arm(s);
        return 0;
}

/* Store snap as the before state of path (the first one wins), with the BEFORE as a file
 * event; why: the note for a state that could not be read (UNKNOWN). */
static int before_put(TrackledServer *s, int64_t session, pid_t pid, uint32_t op, const char *path,
                      const TrackledSnapshot *snap, const char *why)
{
        int r = trackled_store_begin(s->store);

        if (r >= 0) {
                if (snap->kind == TRACKLED_KIND_UNKNOWN)
                        note_unknown(s, session, "before", path, why);
                r = trackled_store_file_event(s->store, session, pid, trackle_op_to_string(op),
                                              path, NULL);
                if (r >= 0)
                        r = trackled_store_file_before(s->store, session, path, snap);
                r = trackled_store_end(s->store, r);
        }
        if (r < 0)
                log_store_failure(r, "a before state");
        return r;
}

/* Read the state of path (from fd if >= 0, else through rootfd) and store it as the before
 * state of the session (the first one wins). *ret_status: what to answer. */
static void before_store(TrackledServer *s, int64_t session, pid_t pid, uint32_t op,
                         const char *path, int fd, int rootfd, int *ret_status)
{
        TrackledSnapshot snap = {};
        int r;

        if (fd >= 0)
                r = trackled_snapshot_fd(fd, path, s->config, &snap);
        else
                r = trackled_snapshot_path(rootfd, path, s->config, &snap);
        if (r >= 0) {
                r = before_put(s, session, pid, op, path, &snap, strerror(-snap.error));
                trackled_snapshot_done(&snap);
        }
        if (ret_status)
                *ret_status = r < 0 ? r : 0;
}

static int handle_before(Conn *c)
{
        TrackledServer *s = c->server;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        TrackleBefore b;
        int r, status;

        if (trackle_wire_parse_before(c->payload, c->h.length, &b) < 0)
                return -EBADMSG;
        if (b.flags & TRACKLE_BEFORE_FD) {
                fd = take_fd(c);
                if (fd < 0)
                        return -EBADMSG;
        }
        path = wire_string(&b.path);
        if (!path)
                return -ENOMEM;
        r = touched_add(c, path);
        if (r < 0)
                return r;
        /* The client holds no answer for this one (TRACKLE_BEFORE_ASYNC): the fd it passed
         * keeps the old inode, whose content the coming unlink/rename/link leaves alone. */
        if (b.flags & TRACKLE_BEFORE_ASYNC) {
                struct stat st;

                if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
                        return 0; /* nothing to keep; after states will tell */
                session_catch_up(c, path);
                if (pending_has(s, c->session, path))
                        return 0;
                /* Renamed away, the inode stays linked under its new name, where anyone may
                 * write it at once: read it now. */
                if (b.op == TRACKLE_OP_RENAME_SRC) {
                        if (trackled_store_file_has_before(s->store, c->session, path) > 0)
                                return 0;
                        batch_start(s);
                        before_store(s, c->session, c->cred.pid, b.op, path, fd, -EBADF, NULL);
                        return 0;
                }
                r = pending_add(s, c->session, c->cred.pid, b.op, path, fd, &st);
                if (r >= 0)
                        TAKE_FD(fd);
                return 0;
        }
        /* unlink, rename and link leave the old inode's content alone: once we hold it open,
         * that content is safe, and the admin's program may go on at once; it is read and
         * stored later (held: see PENDING_MAX), counting as the path's first state meanwhile.
         * An in-place write or truncation waits until it is stored. */
        if (trackle_op_keeps_inode(b.op)) {
                struct stat st;

                session_catch_up(c, path);
                /* Already known (true is always right, pending or not): nothing to read. */
                if (pending_has(s, c->session, path) ||
                    trackled_store_file_has_before(s->store, c->session, path) > 0)
                        return send_ack(c, 0);
                if (fd < 0)
                        fd = trackled_open_regular(c->rootfd, path);
                /* renamed away: read now, below (see the asynchronous case) */
                if (fd >= 0 && b.op != TRACKLE_OP_RENAME_SRC && fstat(fd, &st) >= 0) {
                        r = pending_add(s, c->session, c->cred.pid, b.op, path, fd, &st);
                        if (r >= 0) {
                                TAKE_FD(fd);
                                return send_ack(c, 0);
                        }
                }
        }
        session_catch_up(c, path);
        pending_flush_path(s, path);
        batch_flush(s);
        r = trackled_store_file_has_before(s->store, c->session, path);
        if (r > 0)
                return send_ack(c, 0);
        before_store(s, c->session, c->cred.pid, b.op, path, fd, c->rootfd, &status);
        return send_ack(c, status);
}

/* A path first seen through an event: what was it before the session? */
static int event_first_touch(Conn *c, const char *path, const TrackleEvent *e, bool absent)
{
        TrackledServer *s = c->server;
        TrackledSnapshot snap = {};
        int r;

        for (unsigned pass = 0;; pass++) {
                if (pending_has(s, c->session, path))
                        return 0;
                r = trackled_store_file_has_before(s->store, c->session, path);
                if (r != 0)
                        return r < 0 ? r : 0;
                if (pass > 0 || s->catching_up)
                        break;
                session_catch_up(c, path); /* then look again */
        }
        if (absent)
                snap.kind = TRACKLED_KIND_ABSENT;
        else if (e->op == TRACKLE_OP_OPENED_EMPTY && e->before.valid && S_ISREG(e->before.mode) &&
                 e->before.size == 0) {
                /* nothing to read: it was empty (the process's word, as all metadata before
                 * in events is) */
                r = trackled_snapshot_empty(path, s->config, &snap);
                if (r < 0)
                        return r;
        } else if (e->op == TRACKLE_OP_RMDIR && e->before.valid) {
                snap.kind = TRACKLED_KIND_DIRECTORY;
        } else if (e->op >= TRACKLE_OP_CHMOD && e->op <= TRACKLE_OP_UTIME) {
                /* metadata changes leave the content alone: read it now, from the inode of
                 * the BEFORE being handled if it is the same path (see before_fd) */
                if (s->before_fd >= 0 && streq_ptr(s->before_path, path))
                        r = trackled_snapshot_fd(s->before_fd, path, s->config, &snap);
                else
                        r = trackled_snapshot_path(c->rootfd, path, s->config, &snap);
                if (r < 0)
                        return r;
        } else
                snap.kind = TRACKLED_KIND_UNKNOWN;
        if (e->before.valid && snap.kind != TRACKLED_KIND_ABSENT) {
                snap.have_meta = true;
                snap.mode = e->before.mode & 07777;
                snap.uid = e->before.uid;
                snap.gid = e->before.gid;
                if (snap.kind == TRACKLED_KIND_UNKNOWN)
                        snap.kind = S_ISDIR(e->before.mode)   ? TRACKLED_KIND_DIRECTORY
                                    : S_ISREG(e->before.mode) ? TRACKLED_KIND_FILE
                                    : S_ISLNK(e->before.mode) ? TRACKLED_KIND_SYMLINK
                                                              : TRACKLED_KIND_OTHER;
                if (!snap.have_hash && snap.kind != TRACKLED_KIND_FILE)
                        snap.size = e->before.size;
        }
        r = trackled_store_file_before(s->store, c->session, path, &snap);
        trackled_snapshot_done(&snap);
        return r;
}

/* path came from from: recorded on path's change, or on its held before state until that is
 * stored (the change has no row before then). */
static int renamed_from(TrackledServer *s, int64_t session, const char *path, const char *from)
{
        Pending *p = pending_find(s, session, path);
        char *f;

        if (!p)
                return trackled_store_file_renamed_from(s->store, session, path, from);
        f = strdup(from);
        if (!f)
                return -ENOMEM;
        free(p->renamed_from);
        p->renamed_from = f;
        return 0;
}

static int handle_event(Conn *c, const uint8_t *payload, size_t len)
{
        TrackledServer *s = c->server;
        _cleanup_free_ char *path = NULL, *path2 = NULL;
        TrackleEvent e;
        int r;

        if (trackle_wire_parse_event(payload, len, &e) < 0)
                return -EBADMSG;
        batch_start(s);
        path = wire_string(&e.path);
        path2 = wire_string(&e.path2);
        if (!path || !path2)
                return -ENOMEM;
        /* A before state still held for these paths is the first one (pending_has()): it is
         * not read for this. */
        r = touched_add(c, path);
        if (r >= 0 && (e.op == TRACKLE_OP_RENAMED || e.op == TRACKLE_OP_EXCHANGED) &&
            path2[0] == '/')
                r = touched_add(c, path2);
        if (r < 0)
                return r;

        r = trackled_store_begin(s->store);
        if (r < 0)
                goto fail;
        r = trackled_store_file_event(s->store, c->session, c->cred.pid, trackle_op_to_string(e.op),
                                      path, path2);
        if (r < 0)
                goto rollback;
        switch (e.op) {
        case TRACKLE_OP_CREATED:
        case TRACKLE_OP_MKDIR:
        case TRACKLE_OP_SYMLINK:
        case TRACKLE_OP_LINK:
        case TRACKLE_OP_MKNOD:
                r = event_first_touch(c, path, &e, true);
                break;
        case TRACKLE_OP_RENAMED:
                r = event_first_touch(c, path, &e, false);
                if (r >= 0 && path2[0] == '/')
                        r = event_first_touch(c, path2, &e, true);
                if (r >= 0 && path2[0] == '/')
                        r = renamed_from(s, c->session, path2, path);
                break;
        case TRACKLE_OP_EXCHANGED:
                r = event_first_touch(c, path, &e, false);
                if (r >= 0 && path2[0] == '/')
                        r = event_first_touch(c, path2, &e, false);
                break;
        default:
                r = event_first_touch(c, path, &e, false);
                break;
        }
        if (r < 0)
                goto rollback;
        r = trackled_store_commit(s->store);
        if (r >= 0)
                return 0;
rollback:
        trackled_store_rollback(s->store);
fail:
        log_store_failure(r, "a file event");
        return 0; /* the client did nothing wrong */
}

/* An EXEC frame that a forked child wrote on its parent's connection (TRACKLE_EXEC_FORKED):
 * it is not among the socket frames the parent counts for its ring's MARKs. */
static bool exec_forked(const Conn *c)
{
        uint32_t flags;

        if (c->h.type != TRACKLE_FRAME_EXEC || c->h.length < 16)
                return false;
        memcpy(&flags, c->payload + 12, sizeof(flags));
        return flags & TRACKLE_EXEC_FORKED;
}

static int handle_exec(Conn *c, const uint8_t *payload, size_t len)
{
        TrackledServer *s = c->server;
        _cleanup_free_ char *cwd = NULL;
        json_object *argv;
        TrackleExec e;
        TrackleString a;
        size_t off = 0;
        pid_t pid;
        int r;

        if (trackle_wire_parse_exec(payload, len, &e) < 0)
                return -EBADMSG;
        batch_start(s);
        cwd = wire_string(&e.cwd);
        if (!cwd)
                return -ENOMEM;
        argv = json_object_new_array();
        while (trackle_wire_exec_next(&e, &off, &a) > 0)
                json_object_array_add(argv, json_object_new_string_len(a.data, a.len));
        if (e.argc == 0)
                json_object_array_add(argv, json_object_new_string_len(e.file.data, e.file.len));
        /* FORKED: a child of this connection's process, on its parent's connection, names
         * itself; the parent's word, as everything on the connection is. */
        if ((e.flags & TRACKLE_EXEC_FORKED) && (e.pid == 0 || e.pid > INT32_MAX))
                return -EBADMSG;
        pid = (e.flags & TRACKLE_EXEC_FORKED) ? (pid_t)e.pid : c->cred.pid;
        r = trackled_store_command(s->store, c->session, 0, pid, cwd, e.uid, e.euid, NULL,
                                   json_object_to_json_string_ext(argv, JSON_C_TO_STRING_PLAIN),
                                   NULL, "exec");
        json_object_put(argv);
        if (r < 0)
                log_store_failure(r, "a command");
        if (r >= 0 && (e.flags & TRACKLE_EXEC_TRUNCATED))
                (void)trackled_store_note(
                        s->store, c->session,
                        "the argv of a command was cut (an EXEC frame holds at most 32 KiB)");
        return 0;
}

static void held_execs_free(Conn *c)
{
        while (c->held_execs) {
                HeldExec *x = c->held_execs;

                c->held_execs = x->next;
                free(x);
        }
        c->held_execs_tail = &c->held_execs;
        c->n_held_execs = 0;
}

/* Store the held EXEC frames whose place in the ring has been reached (all of them if all). */
static void held_execs_release(Conn *c, bool all)
{
        while (c->held_execs && (all || c->held_execs->pos <= c->ring_tail)) {
                HeldExec *x = c->held_execs;

                c->held_execs = x->next;
                if (!c->held_execs)
                        c->held_execs_tail = &c->held_execs;
                c->n_held_execs--;
                (void)handle_exec(c, x->payload, x->len); /* checked when it came */
                free(x);
        }
}

/* Hold c's current frame, a forked child's EXEC, behind what is in the ring now; false if it
 * is to be handled at once (nothing unread in the ring, no ring, too many held, no memory). */
static bool held_exec_add(Conn *c)
{
        TrackleExec e;
        HeldExec *x;
        uint64_t head;

        if (!c->ring || c->n_held_execs >= HELD_EXECS_MAX ||
            trackle_wire_parse_exec(c->payload, c->h.length, &e) < 0)
                return false;
        head = __atomic_load_n((uint64_t *)(void *)(c->ring + TRACKLE_RING_OFF_HEAD),
                               __ATOMIC_ACQUIRE);
        if (head <= c->ring_tail && !c->held_execs) /* a shell whose ring is read */
                return false;
        x = malloc(sizeof(HeldExec) + c->h.length);
        if (!x)
                return false;
        x->next = NULL;
        x->pos = head;
        x->len = c->h.length;
        memcpy(x->payload, c->payload, c->h.length);
        if (!c->held_execs)
                c->held_execs_tail = &c->held_execs;
        *c->held_execs_tail = x;
        c->held_execs_tail = &x->next;
        c->n_held_execs++;
        return true;
}

static int handle_missed(Conn *c, const uint8_t *payload, size_t len)
{
        uint32_t n;

        if (trackle_wire_parse_missed(payload, len, &n) < 0)
                return -EBADMSG;
        c->missed += n; /* 64 bits: 2^32 frames of the largest count before it wraps */
        return 0;
}

/* ---- the event ring (trackle-protocol(7) "EVENT RING") */

static void ring_unmap(Conn *c)
{
        if (c->ring)
                (void)munmap(c->ring, c->ring_map_len);
        c->ring = NULL;
        c->ring_map_len = 0;
}

static int handle_ring(Conn *c)
{
        _cleanup_close_ int fd = -EBADF;
        uint32_t size;
        struct stat st;
        size_t total;
        void *p;
        int seals;

        if (trackle_wire_parse_ring(c->payload, c->h.length, &size) < 0 || c->ring)
                return -EBADMSG;
        fd = take_fd(c);
        if (fd < 0)
                return -EBADMSG;
        total = TRACKLE_RING_HEADER + (size_t)size;
        /* Sealed against shrinking, or the process could cut the pages from under us (SIGBUS
         * in trackled); and exactly the size it says. */
        seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0 || !(seals & F_SEAL_SHRINK) ||
            (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) || fstat(fd, &st) < 0 ||
            !S_ISREG(st.st_mode) || st.st_size != (off_t)total)
                return -EBADMSG;
        p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
                return -EBADMSG;
        c->ring = p;
        c->ring_map_len = total;
        c->ring_size = size;
        c->ring_tail = 0;
        c->ring_frames = 0;
        __atomic_store_n((uint64_t *)(void *)(c->ring + TRACKLE_RING_OFF_TAIL), 0,
                         __ATOMIC_RELEASE);
        return 0;
}

static void ring_copy(const Conn *c, uint64_t pos, void *out, size_t len)
{
        const uint8_t *data = c->ring + TRACKLE_RING_HEADER;
        size_t off = (size_t)(pos & (c->ring_size - 1)), first = c->ring_size - off;

        if (first > len)
                first = len;
        memcpy(out, data + off, first);
        memcpy((uint8_t *)out + first, data, len - first);
}

/* Work off the frames in c's ring. A ring that breaks the rules is dropped with a note; the
 * connection itself stays (its socket frames are still good). */
static int ring_drain_now(Conn *c, RingUntil until)
{
        TrackledServer *s = c->server;
        _cleanup_free_ uint8_t *payload = NULL;
        uint64_t head;
        bool bad = false;
        int r = 0;

        if (!c->ring)
                return 0;
        if (!session_find(s, c->session))
                return 0; /* ended: this process is no longer tracked */
        head = __atomic_load_n((uint64_t *)(void *)(c->ring + TRACKLE_RING_OFF_HEAD),
                               __ATOMIC_ACQUIRE);
        if (head < c->ring_tail || head - c->ring_tail > c->ring_size) {
                bad = true;
                goto done;
        }
        while (c->ring_tail < head) {
                uint8_t hdr[TRACKLE_WIRE_HEADER_SIZE];
                TrackleHeader h;

                held_execs_release(c, false);
                if (head - c->ring_tail < TRACKLE_WIRE_HEADER_SIZE) {
                        bad = true;
                        break;
                }
                ring_copy(c, c->ring_tail, hdr, sizeof(hdr));
                if (trackle_wire_parse_header(hdr, sizeof(hdr), &h) < 0 ||
                    head - c->ring_tail - TRACKLE_WIRE_HEADER_SIZE < h.length) {
                        bad = true;
                        break;
                }
                if (h.type == TRACKLE_FRAME_MARK) {
                        uint8_t m[8];
                        uint64_t sent;

                        ring_copy(c, c->ring_tail + TRACKLE_WIRE_HEADER_SIZE, m,
                                  h.length <= sizeof(m) ? h.length : sizeof(m));
                        if (trackle_wire_parse_mark(m, h.length, &sent) < 0) {
                                bad = true;
                                break;
                        }
                        /* what follows was written after socket frame number `sent` */
                        if (until != RING_ALL && sent > c->ring_frames)
                                break;
                        c->ring_tail += TRACKLE_WIRE_HEADER_SIZE + h.length;
                        continue;
                }
                if (h.type != TRACKLE_FRAME_EVENT && h.type != TRACKLE_FRAME_EXEC &&
                    h.type != TRACKLE_FRAME_MISSED) {
                        bad = true;
                        break;
                }
                if (!payload) {
                        payload = malloc(TRACKLE_WIRE_LIB_FRAME_MAX + 1);
                        if (!payload)
                                return -ENOMEM;
                }
                ring_copy(c, c->ring_tail + TRACKLE_WIRE_HEADER_SIZE, payload, h.length);
                c->ring_tail += TRACKLE_WIRE_HEADER_SIZE + h.length;
                /* Copied out: its room is the process's again now, not after the whole drain
                 * (a process that filled the ring would otherwise wait on the socket while
                 * trackled stores thousands of events). */
                __atomic_store_n((uint64_t *)(void *)(c->ring + TRACKLE_RING_OFF_TAIL),
                                 c->ring_tail, __ATOMIC_RELEASE);
                s->last_frame_usec = now_usec();
                r = h.type == TRACKLE_FRAME_EVENT  ? handle_event(c, payload, h.length)
                    : h.type == TRACKLE_FRAME_EXEC ? handle_exec(c, payload, h.length)
                                                   : handle_missed(c, payload, h.length);
                if (r == -EBADMSG) {
                        bad = true;
                        break;
                }
                if (r < 0)
                        break;
        }
done:
        if (bad) {
                char msg[128];

                snprintf(msg, sizeof(msg),
                         "the event ring of process %d was malformed; its events from then on "
                         "are missing",
                         (int)c->cred.pid);
                log_warning("Library connection of PID %d: malformed event ring, dropped.",
                            (int)c->cred.pid);
                if (session_find(s, c->session))
                        (void)trackled_store_note(s->store, c->session, msg);
                held_execs_release(c, true);
                ring_unmap(c);
                return 0;
        }
        if (c->ring)
                __atomic_store_n((uint64_t *)(void *)(c->ring + TRACKLE_RING_OFF_TAIL),
                                 c->ring_tail, __ATOMIC_RELEASE);
        held_execs_release(c, until == RING_ALL && r >= 0);
        return r < 0 ? r : 0;
}

static int scan_add(Conn *c, uint64_t h)
{
        size_t j;

        if (2 * (c->n_scan + 1) > c->scan_size) {
                size_t size = c->scan_size ? 2 * c->scan_size : 256;
                uint64_t *set = calloc(size, sizeof(uint64_t));

                if (!set)
                        return -ENOMEM;
                for (size_t i = 0; i < c->scan_size; i++)
                        if (c->scan_set[i]) {
                                for (j = c->scan_set[i] & (size - 1); set[j];
                                     j = (j + 1) & (size - 1))
                                        ;
                                set[j] = c->scan_set[i];
                        }
                free(c->scan_set);
                c->scan_set = set;
                c->scan_size = size;
        }
        for (j = h & (c->scan_size - 1); c->scan_set[j]; j = (j + 1) & (c->scan_size - 1))
                if (c->scan_set[j] == h)
                        return 0;
        c->scan_set[j] = h;
        c->n_scan++;
        return 0;
}

static bool scan_has(const Conn *c, uint64_t h)
{
        if (c->n_scan == 0)
                return false;
        for (size_t j = h & (c->scan_size - 1); c->scan_set[j]; j = (j + 1) & (c->scan_size - 1))
                if (c->scan_set[j] == h)
                        return true;
        return false;
}

/* Does the part of c's ring that a drain before the next socket frame would work off hold
 * anything about path (an event that changes it, or a frame other than an event: an EXEC or
 * MISSED frame, or something malformed)? When it does not, a BEFORE of path may be handled
 * before those events: they concern other paths, and are stored when the ring is next drained
 * (at a frame that needs them, at the connection's end, by session_catch_up() or the timer).
 * What was looked through once is remembered as a set of path hashes until a drain works it
 * off (dpkg sends 150 BEFOREs behind 600 events: each looks at what is new). A hash that
 * collides only makes a drain that was not needed. Each event is copied out before it is
 * parsed, as in ring_drain_now(). */
static bool ring_mentions(Conn *c, const TrackleString *path)
{
        _cleanup_free_ uint8_t *buf = NULL;
        uint64_t head, pos;

        if (!c->ring)
                return false;
        if (c->ring_scanned <= c->ring_tail) { /* all of it worked off since */
                if (c->n_scan > 0)
                        memset(c->scan_set, 0, c->scan_size * sizeof(uint64_t));
                c->n_scan = 0;
                c->scan_other = false;
                c->ring_scanned = c->ring_tail;
        }
        head = __atomic_load_n((uint64_t *)(void *)(c->ring + TRACKLE_RING_OFF_HEAD),
                               __ATOMIC_ACQUIRE);
        if (head < c->ring_scanned || head - c->ring_tail > c->ring_size)
                return true;
        for (pos = c->ring_scanned; pos < head && !c->scan_other;) {
                uint8_t hdr[TRACKLE_WIRE_HEADER_SIZE];
                TrackleHeader h;
                TrackleEvent e;

                if (head - pos < TRACKLE_WIRE_HEADER_SIZE)
                        return true;
                ring_copy(c, pos, hdr, sizeof(hdr));
                if (trackle_wire_parse_header(hdr, sizeof(hdr), &h) < 0 ||
                    head - pos - TRACKLE_WIRE_HEADER_SIZE < h.length ||
                    h.length > TRACKLE_WIRE_LIB_FRAME_MAX)
                        return true;
                if (!buf) {
                        buf = malloc(TRACKLE_WIRE_LIB_FRAME_MAX);
                        if (!buf)
                                return true;
                }
                ring_copy(c, pos + TRACKLE_WIRE_HEADER_SIZE, buf, h.length);
                if (h.type == TRACKLE_FRAME_MARK) {
                        uint64_t sent;

                        if (trackle_wire_parse_mark(buf, h.length, &sent) < 0)
                                return true;
                        if (sent > c->ring_frames)
                                break; /* written after the frame being handled */
                } else if (h.type != TRACKLE_FRAME_EVENT ||
                           trackle_wire_parse_event(buf, h.length, &e) < 0)
                        c->scan_other = true;
                else if (scan_add(c, path_hash_n(e.path.data, e.path.len)) < 0 ||
                         /* the second path of a rename or an exchange changes too; a link's
                          * (its source) and a symlink's (its target) do not */
                         ((e.op == TRACKLE_OP_RENAMED || e.op == TRACKLE_OP_EXCHANGED) &&
                          scan_add(c, path_hash_n(e.path2.data, e.path2.len)) < 0))
                        return true;
                pos += TRACKLE_WIRE_HEADER_SIZE + h.length;
        }
        c->ring_scanned = pos;
        return c->scan_other || scan_has(c, path_hash_n(path->data, path->len));
}

static int ring_drain(Conn *c, RingUntil until)
{
        int r;

        if (c->in_ring_drain) /* session_catch_up() from one of its own events */
                return 0;
        c->in_ring_drain = true;
        r = ring_drain_now(c, until);
        c->in_ring_drain = false;
        return r;
}

/* Work off what the other processes of c's session have put into their rings (up to their
 * next socket frames) about path before deciding what path was before the session: a process
 * that created a file and let another one edit it has not necessarily sent a socket frame
 * since, and without this the second one's BEFORE would find the first one's content. A ring
 * that holds nothing about path (ring_mentions()) is left for later: rm's first unlink in a
 * session must not wait for the 600 events of the dpkg that runs it. */
static void session_catch_up(Conn *c, const char *path)
{
        TrackledServer *s = c->server;
        TrackleString p = {.data = path, .len = (uint16_t)strnlen(path, UINT16_MAX)};

        if (s->catching_up)
                return;
        s->catching_up = true;
        for (Conn *o = s->conns; o; o = o->next)
                if (o != c && o->kind == CONN_LIBRARY && o->session == c->session && o->ring &&
                    !o->in_ring_drain && ring_mentions(o, &p))
                        (void)ring_drain(o, RING_READ);
        s->catching_up = false;
}

static int handle_library_frame(Conn *c)
{
        /* The session may have ended since: then this process is no longer tracked. */
        if (!session_find(c->server, c->session))
                return -ESTALE;
        switch (c->h.type) {
        case TRACKLE_FRAME_BEFORE:
                return handle_before(c);
        case TRACKLE_FRAME_EVENT:
                return handle_event(c, c->payload, c->h.length);
        case TRACKLE_FRAME_EXEC:
                return handle_exec(c, c->payload, c->h.length);
        case TRACKLE_FRAME_MISSED:
                return handle_missed(c, c->payload, c->h.length);
        case TRACKLE_FRAME_RING:
                return handle_ring(c);
        default:
                return -EBADMSG;
        }
}

/* ---- console requests */

static bool conn_peer_in_group(Conn *c)
{
        TrackledServer *s = c->server;
        gid_t groups[1024];
        socklen_t len = sizeof(groups);
        struct group gr, *g = NULL;
        struct passwd pw, *p = NULL;
        char buf[16384], pbuf[4096];

        if (c->cred.uid == 0)
                return true;
        if (getgrnam_r(s->config->admin_group, &gr, buf, sizeof(buf), &g) != 0 || !g)
                return false;
        if (c->cred.gid == g->gr_gid)
                return true;
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
                for (size_t i = 0; i < len / sizeof(gid_t); i++)
                        if (groups[i] == g->gr_gid)
                                return true;
                return false;
        }
        /* no SO_PEERGROUPS: the group database */
        if (getpwuid_r(c->cred.uid, &pw, pbuf, sizeof(pbuf), &p) != 0 || !p)
                return false;
        for (char **m = g->gr_mem; m && *m; m++)
                if (streq(*m, p->pw_name))
                        return true;
        return false;
}

static int user_of(uid_t uid, char *name, size_t size, gid_t *ret_gid)
{
        struct passwd pw, *p = NULL;
        char buf[4096];

        if (getpwuid_r(uid, &pw, buf, sizeof(buf), &p) == 0 && p) {
                snprintf(name, size, "%s", p->pw_name);
                *ret_gid = p->pw_gid;
                return 0;
        }
        snprintf(name, size, "%u", (unsigned)uid);
        *ret_gid = (gid_t)uid;
        return 0;
}

static json_object *session_brief(const Session *x)
{
        json_object *o = json_object_new_object();
        char spool[PATH_MAX];

        snprintf(spool, sizeof(spool), "%s/%" PRId64, TRACKLE_SPOOL_DIR, x->id);
        json_object_object_add(o, "id", json_object_new_int64(x->id));
        json_object_object_add(o, "identity",
                               json_object_new_string(x->audit ? "audit" : "ancestry"));
        json_object_object_add(o, "spool", json_object_new_string(spool));
        return o;
}

static int op_ticket_new(Conn *c, const TrackledRequest *q, const char *user)
{
        json_object *t;
        int64_t id;
        int r;

        r = trackled_store_ticket_new(c->server->store, user, q->summary, q->description, &id);
        if (r < 0) {
                log_store_failure(r, "a new ticket");
                return reply_error(c, r, "cannot store the ticket: %s", strerror(-r));
        }
        r = trackled_store_ticket_json(c->server->store, id, false, &t);
        if (r < 0)
                return reply_error(c, r, "cannot read ticket %" PRId64 ": %s", id, strerror(-r));
        return reply_ok(c, "ticket", t);
}

static bool session_still_open(TrackledServer *s, int64_t id)
{
        return session_find(s, id) != NULL;
}

static int op_session_open(Conn *c, const TrackledRequest *q, const char *user, gid_t gid)
{
        TrackledServer *s = c->server;
        _cleanup_close_ int rootfd = -EBADF;
        _cleanup_free_ char *env = NULL;
        Session *x;
        uint64_t start;
        uint32_t sid = 0, luid;
        bool audit = false;
        char spool[PATH_MAX];
        int64_t id, holder = 0, since = 0;
        int r;

        if (c->session > 0)
                return reply_error(c, EBUSY, "this connection already leads session %" PRId64,
                                   c->session);
        if (trackled_proc_stat(c->cred.pid, NULL, &start) < 0)
                return reply_error(c, ESRCH, "cannot read the requesting process");
        for (x = s->sessions; x; x = x->next)
                if (x->leader == c->cred.pid && x->leader_start == start)
                        return reply_error(c, EBUSY, "process %d already leads session %" PRId64,
                                           (int)c->cred.pid, x->id);
        r = ensure_runtime_dirs();
        if (r < 0)
                return reply_error(c, r, "cannot create %s: %s", TRACKLE_RUN_DIR, strerror(-r));

        if (q->keyed && trackled_proc_sessionid(c->cred.pid, &sid) >= 0 &&
            trackled_proc_loginuid(c->cred.pid, &luid) >= 0 &&
            trackled_store_audit_id_used(s->store, sid) == 0 &&
            trackled_proc_session_exclusive(sid, c->cred.pid, start) > 0)
                audit = true;
        if (c->n_fds > 0) {
                struct stat st;
                rootfd = take_fd(c);
                if (fstat(rootfd, &st) < 0 || !S_ISDIR(st.st_mode))
                        return reply_error(c, EINVAL, "the descriptor passed is not a directory");
        } else {
                rootfd = fcntl(s->own_root, F_DUPFD_CLOEXEC, 3);
                if (rootfd < 0)
                        return reply_error(c, errno, "cannot duplicate a descriptor: %m");
        }
        if (q->environment) {
                env = strdup(
                        json_object_to_json_string_ext(q->environment, JSON_C_TO_STRING_PLAIN));
                if (!env)
                        return -ENOMEM;
        }

        r = trackled_store_begin(s->store);
        if (r < 0)
                goto store_fail;
        if (q->ticket > 0) {
                json_object *t = NULL;
                r = trackled_store_ticket_json(s->store, q->ticket, false, &t);
                json_object_put(t);
                if (r == -ENOENT) {
                        trackled_store_rollback(s->store);
                        return reply_error(c, ENOENT, "no such ticket %" PRId64, q->ticket);
                }
                if (r < 0)
                        goto rollback;
                r = trackled_store_lock_get(s->store, q->ticket, &holder, NULL, &since);
                if (r < 0 && r != -ENOENT)
                        goto rollback;
                if (r >= 0 && session_still_open(s, holder) && !q->steal) {
                        TrackledSessionRow h = {};
                        char when[32];
                        (void)trackled_store_session_get(s->store, holder, &h);
                        trackled_format_time(since, when);
                        trackled_store_rollback(s->store);
                        return reply_error(c, EBUSY,
                                           "ticket %" PRId64 " is locked by session %" PRId64
                                           " of %s since %s",
                                           q->ticket, holder, h.user, when);
                }
                if (r < 0)
                        holder = 0;
        }
        TrackledSessionNew n = {
                .ticket = q->ticket,
                .uid = c->cred.uid,
                .user = user,
                .host = s->host,
                .tty = q->tty,
                .shell = q->shell,
                .cwd = q->cwd,
                .environment = env,
                .identity = audit ? "audit" : "ancestry",
                .audit_id = audit ? (int64_t)sid : -1,
                .leader_pid = c->cred.pid,
                .leader_start = start,
                .keyed = q->keyed,
        };
        r = trackled_store_session_new(s->store, &n, &id);
        if (r < 0)
                goto rollback;
        if (q->ticket > 0) {
                char old[64], new_[64];
                snprintf(new_, sizeof(new_), "session %" PRId64, id);
                snprintf(old, sizeof(old), "session %" PRId64, holder);
                r = trackled_store_lock_set(s->store, q->ticket, id, c->cred.uid);
                if (r >= 0)
                        r = trackled_store_ticket_history(
                                s->store, q->ticket, user, "lock", holder > 0 ? old : NULL, new_,
                                holder > 0 && session_still_open(s, holder) ? "stolen" : "taken");
                if (r < 0)
                        goto rollback;
        }
        r = trackled_store_commit(s->store);
        if (r < 0)
                goto rollback;

        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        *x = (Session){
                .id = id,
                .uid = c->cred.uid,
                .gid = gid,
                .audit = audit,
                .audit_id = sid,
                .leader = c->cred.pid,
                .leader_start = start,
                .rootfd = TAKE_FD(rootfd),
                .leader_conn = c,
                .next = s->sessions,
        };
        snprintf(x->user, sizeof(x->user), "%s", user);
        s->sessions = x;
        c->session = id;

        if (q->ticket > 0 && holder > 0 && session_still_open(s, holder)) {
                char tid[32], hid[32], sidb[32];
                LogField f[] = {{"TRACKLE_TICKET", tid},
                                {"TRACKLE_SESSION", sidb},
                                {"TRACKLE_USER", user},
                                {"TRACKLE_STOLEN_FROM", hid}};
                snprintf(tid, sizeof(tid), "%" PRId64, q->ticket);
                snprintf(hid, sizeof(hid), "%" PRId64, holder);
                snprintf(sidb, sizeof(sidb), "%" PRId64, id);
                log_fields(LOG_WARNING, TRACKLED_MID_LOCK_STOLEN, f, ELEMENTSOF(f),
                           "%s stole the lock of ticket %" PRId64 " from session %" PRId64
                           " for session %" PRId64 ".",
                           user, q->ticket, holder, id);
        }

        r = spool_create(x, spool, sizeof(spool));
        if (r >= 0)
                r = marker_write(x);
        if (r < 0) {
                int e = r;
                (void)session_end(s, x, NULL, "abandoned",
                                  "trackled could not write the session marker or spool");
                c->session = 0;
                return reply_error(c, e, "cannot set up the session: %s", strerror(-e));
        }
        log_session(LOG_INFO, TRACKLED_MID_SESSION_OPENED, x, q->ticket,
                    audit ? "opened (audit session)" : "opened (process ancestry)");
        (void)notify_status("%zu open session(s)", trackled_server_n_open(s));
        return reply_ok(c, "session", session_brief(x));
rollback:
        trackled_store_rollback(s->store);
store_fail:
        log_store_failure(r, "a new session");
        return reply_error(c, r, "cannot store the session: %s", strerror(-r));
}

static int op_session_resume(Conn *c, const TrackledRequest *q)
{
        Session *x = session_find(c->server, q->id);
        uint64_t start;

        if (!x)
                return reply_error(c, ENOENT, "session %" PRId64 " is not open", q->id);
        if (x->leader != c->cred.pid || trackled_proc_stat(c->cred.pid, NULL, &start) < 0 ||
            start != x->leader_start)
                return reply_error(c, EPERM, "only the leader of session %" PRId64 " may resume it",
                                   q->id);
        if (x->leader_conn && x->leader_conn != c)
                return reply_error(c, EBUSY,
                                   "session %" PRId64 " is attached to another "
                                   "connection",
                                   q->id);
        if (c->n_fds > 0) {
                struct stat st;
                int fd = take_fd(c);
                if (fstat(fd, &st) >= 0 && S_ISDIR(st.st_mode)) {
                        safe_close(x->rootfd);
                        x->rootfd = fd;
                } else
                        safe_close(fd);
        }
        x->leader_conn = c;
        c->session = x->id;
        return reply_ok(c, "session", session_brief(x));
}

static Session *leader_session(Conn *c, int64_t id)
{
        Session *x = session_find(c->server, id);
        return x && x->leader_conn == c ? x : NULL;
}

static int op_session_commands(Conn *c, const TrackledRequest *q)
{
        TrackledServer *s = c->server;
        Session *x = leader_session(c, q->id);
        size_t n = trackled_request_n_commands(q);
        int r;

        if (!x)
                return reply_error(c, EPERM,
                                   "only the connection that opened session %" PRId64
                                   " may send its commands",
                                   q->id);
        r = trackled_store_begin(s->store);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                TrackledCommand cmd;
                trackled_request_command(q, i, &cmd);
                r = trackled_store_command(s->store, x->id, cmd.time, 0, cmd.cwd, x->uid, -1,
                                           cmd.line, NULL, cmd.has_exit ? &cmd.exit : NULL,
                                           "shell");
        }
        if (r >= 0)
                r = trackled_store_commit(s->store);
        if (r < 0) {
                trackled_store_rollback(s->store);
                log_store_failure(r, "shell commands");
                return reply_error(c, r, "cannot store the commands: %s", strerror(-r));
        }
        return reply_ok(c, NULL, NULL);
}

static int op_session_end(Conn *c, const TrackledRequest *q)
{
        TrackledServer *s = c->server;
        Session *x = leader_session(c, q->id);
        json_object *o;
        int r;

        if (!x)
                return reply_error(c, EPERM,
                                   "only the connection that opened session %" PRId64 " may end it",
                                   q->id);
        r = session_end(s, x, q->has_exit ? &q->exit : NULL, "ended", NULL);
        if (r < 0)
                return reply_error(c, r, "cannot end session %" PRId64 ": %s", q->id, strerror(-r));
        c->session = 0;
        r = trackled_store_session_json(s->store, q->id, &o);
        if (r < 0)
                return reply_error(c, r, "cannot read session %" PRId64 ": %s", q->id,
                                   strerror(-r));
        return reply_ok(c, "session", o);
}

static int handle_console(Conn *c)
{
        TrackledServer *s = c->server;
        TrackledRequest q = {};
        const char *err = NULL;
        json_object *o = NULL;
        char user[64];
        gid_t gid;
        int r;

        pending_flush(s);
        batch_flush(s);

        c->kind = CONN_CONSOLE;
        if (!c->admin) {
                c->closing = true;
                return reply_error(c, EACCES, "permission denied");
        }
        r = account_console_op(s->store, (const char *)c->payload, c->h.length, &o);
        if (r > 0) {
                r = send_json(c, o);
                json_object_put(o);
                return r;
        }
        r = trackled_request_parse((const char *)c->payload, c->h.length, &q, &err);
        if (r < 0)
                return reply_error(c, r, "%s", err ? err : "bad request");
        (void)user_of(c->cred.uid, user, sizeof(user), &gid);

        switch (q.op) {
        case TRACKLED_OP_TICKET_NEW:
                r = op_ticket_new(c, &q, user);
                break;
        case TRACKLED_OP_TICKET_LIST:
                r = trackled_store_ticket_list(s->store, q.status, &o);
                r = r < 0 ? reply_error(c, r, "cannot list tickets: %s", strerror(-r))
                          : reply_ok(c, "tickets", o);
                break;
        case TRACKLED_OP_TICKET_SHOW:
                r = trackled_store_ticket_json(s->store, q.id, true, &o);
                r = r == -ENOENT ? reply_error(c, ENOENT, "no such ticket %" PRId64, q.id)
                    : r < 0      ? reply_error(c, r, "cannot read ticket: %s", strerror(-r))
                                 : reply_ok(c, "ticket", o);
                break;
        case TRACKLED_OP_SESSION_OPEN:
                r = op_session_open(c, &q, user, gid);
                break;
        case TRACKLED_OP_SESSION_RESUME:
                r = op_session_resume(c, &q);
                break;
        case TRACKLED_OP_SESSION_COMMANDS:
                r = op_session_commands(c, &q);
                break;
        case TRACKLED_OP_SESSION_END:
                r = op_session_end(c, &q);
                break;
        case TRACKLED_OP_SESSION_LIST:
                r = trackled_store_session_list(s->store, q.ticket, &o);
                r = r < 0 ? reply_error(c, r, "cannot list sessions: %s", strerror(-r))
                          : reply_ok(c, "sessions", o);
                break;
        case TRACKLED_OP_SESSION_SHOW:
                r = trackled_store_session_json(s->store, q.id, &o);
                r = r == -ENOENT ? reply_error(c, ENOENT, "no such session %" PRId64, q.id)
                    : r < 0      ? reply_error(c, r, "cannot read session: %s", strerror(-r))
                                 : reply_ok(c, "session", o);
                break;
        case TRACKLED_OP_SESSION_FILES:
                r = trackled_store_file_shown(s->store, q.id, q.path, q.shown);
                r = r == -ENOENT ? reply_error(c, ENOENT, "session %" PRId64 " has no file '%s'",
                                               q.id, q.path)
                    : r < 0      ? reply_error(c, r, "cannot store: %s", strerror(-r))
                                 : reply_ok(c, NULL, NULL);
                break;
        case TRACKLED_OP_ADMIN: {
                char msg[1024];

                r = trackled_admin_request(s->store, q.root, user, c->n_fds > 0 ? c->fds[0] : -1,
                                           &o, msg, sizeof(msg));
                if (r < 0) {
                        r = reply_error(c, r, "%s", msg);
                        break;
                }
                r = send_json(c, o);
                json_object_put(o);
                if (r == -EMSGSIZE)
                        r = reply_error(c, EMSGSIZE, "reply too large");
                break;
        }
        default:
                r = reply_error(c, EINVAL, "unknown op");
        }
        trackled_request_done(&q);
        return r;
}

/* ---- frames */

static int conn_dispatch(Conn *c)
{
        TrackledServer *s = c->server;
        int r = 0;

        switch (c->kind) {
        case CONN_NEW:
                /* Its first frame answered, it queues with the others. */
                (void)sd_event_source_set_priority(c->src, SD_EVENT_PRIORITY_NORMAL);
                if (c->h.type == TRACKLE_FRAME_HELLO) {
                        r = handle_hello(c);
                        if (r == -EPERM) {
                                conn_reject(c, "not in an open trackle session");
                                return -ECONNRESET;
                        }
                        return r;
                }
                if (c->h.type == TRACKLE_FRAME_JSON)
                        return handle_console(c);
                return -EBADMSG;
        case CONN_LIBRARY: {
                _cleanup_free_ char *path = NULL;
                TrackleBefore b;
                bool before = false;

                if (c->h.type == TRACKLE_FRAME_BEFORE &&
                    trackle_wire_parse_before(c->payload, c->h.length, &b) >= 0) {
                        path = wire_string(&b.path);
                        if (!path)
                                return -ENOMEM;
                        before = true;
                        s->before_path = path;
                        s->before_fd =
                                (b.flags & TRACKLE_BEFORE_FD) && c->n_fds > 0 ? c->fds[0] : -EBADF;
                }
                /* A forked child's EXEC: stored once the ring is worked off up to here. */
                if (c->ring && exec_forked(c) && session_find(s, c->session) && held_exec_add(c))
                        return 0;
                if (c->ring) {
                        /* What the process put into its ring before this frame comes first;
                         * for a BEFORE, only if it concerns the same path (the events of
                         * dpkg's unpacking would otherwise be stored one by one while it
                         * replaces its files, each BEFORE waiting for those before it). */
                        if (!before || ring_mentions(c, &b.path))
                                r = ring_drain(c, RING_READ);
                        else
                                r = 0;
                        /* a forked child's EXEC frame is not one the process counted */
                        if (r >= 0 && !exec_forked(c))
                                c->ring_frames++;
                }
                if (r >= 0)
                        r = handle_library_frame(c);
                s->before_path = NULL;
                s->before_fd = -EBADF;
                return r;
        }
        case CONN_CONSOLE:
                if (c->h.type != TRACKLE_FRAME_JSON)
                        return -EBADMSG;
                return handle_console(c);
        }
        return -EBADMSG;
}

static int conn_update_events(Conn *c)
{
        return sd_event_source_set_io_events(c->src, c->out ? EPOLLOUT : EPOLLIN);
}

/* Receive into buf, collecting passed descriptors. Returns bytes, 0 at EOF, -EAGAIN. */
static ssize_t conn_recv(Conn *c, void *buf, size_t len)
{
        union {
                struct cmsghdr align;
                uint8_t buf[CMSG_SPACE(sizeof(int) * TRACKLED_FRAME_FDS_MAX)];
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = len};
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        bool bad = false;
        ssize_t n;

        n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0)
                return negative_errno();
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
                        bad = true;
                        continue;
                }
                size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int *fds = (int *)(void *)CMSG_DATA(cm);
                for (size_t i = 0; i < k; i++) {
                        if (c->n_fds < TRACKLED_FRAME_FDS_MAX)
                                c->fds[c->n_fds++] = fds[i];
                        else {
                                safe_close(fds[i]);
                                bad = true;
                        }
                }
        }
        if (bad || (mh.msg_flags & MSG_CTRUNC))
                return -EBADMSG;
        return n;
}

static int conn_read_frame(Conn *c)
{
        ssize_t n;
        int r;

        if (c->hdr_got < TRACKLE_WIRE_HEADER_SIZE) {
                n = conn_recv(c, c->hdr + c->hdr_got, TRACKLE_WIRE_HEADER_SIZE - c->hdr_got);
                if (n <= 0)
                        return n == 0 ? -ECONNRESET : (int)n;
                c->hdr_got += (size_t)n;
                if (c->hdr_got < TRACKLE_WIRE_HEADER_SIZE)
                        return 0;
                r = trackle_wire_parse_header(c->hdr, TRACKLE_WIRE_HEADER_SIZE, &c->h);
                if (r < 0)
                        return r;
                if (c->h.type == TRACKLE_FRAME_JSON && c->h.length > TRACKLE_WIRE_JSON_REQUEST_MAX)
                        return -EMSGSIZE;
                if (c->h.type == TRACKLE_FRAME_ACK)
                        return -EBADMSG;
                c->payload = malloc(c->h.length + 1);
                if (!c->payload)
                        return -ENOMEM;
                c->payload_got = 0;
        }
        if (c->payload_got < c->h.length) {
                n = conn_recv(c, c->payload + c->payload_got, c->h.length - c->payload_got);
                if (n <= 0)
                        return n == 0 ? -ECONNRESET : (int)n;
                c->payload_got += (size_t)n;
                if (c->payload_got < c->h.length)
                        return 0;
        }
        c->payload[c->h.length] = 0;
        return 1;
}

static int on_conn(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Conn *c = userdata;
        int r;

        if (c->out) {
                r = conn_flush(c);
                if (r < 0) {
                        conn_free(c);
                        return 0;
                }
                if (r == 0)
                        return 0;
                if (c->closing) {
                        conn_free(c);
                        return 0;
                }
                (void)conn_update_events(c);
                if (!(revents & EPOLLIN))
                        return 0;
        }
        /* Frames until the socket is empty or a reply is waiting to be sent, 16 at most: a
         * process sending a burst (dpkg's 150 BEFOREs) must not keep the others waiting. */
        for (unsigned i = 0; i < 16 && !c->out; i++) {
                r = conn_read_frame(c);
                if (r == -EAGAIN)
                        break;
                if (r == -ECONNRESET) {
                        conn_free(c);
                        return 0;
                }
                if (r < 0) {
                        conn_reject(c, r == -EMSGSIZE ? "frame too large" : "malformed frame");
                        return 0;
                }
                if (r == 0)
                        continue;
                c->server->last_frame_usec = now_usec();
                r = conn_dispatch(c);
                if (r == -ECONNRESET)
                        return 0; /* already freed */
                if (r == -ESTALE) {
                        conn_free(c);
                        return 0;
                }
                if (r < 0) {
                        conn_reject(c, r == -ENOMEM ? "out of memory" : "malformed frame");
                        return 0;
                }
                conn_reset_frame(c);
        }
        if (c->out) {
                r = conn_flush(c);
                if (r < 0 || (r > 0 && c->closing)) {
                        conn_free(c);
                        return 0;
                }
        }
        (void)conn_update_events(c);
        return 0;
}

static size_t conns_of_uid(TrackledServer *s, uid_t uid)
{
        size_t n = 0;

        for (Conn *c = s->conns; c; c = c->next)
                if (c->cred.uid == uid)
                        n++;
        return n;
}

/* Log (rate-limited) a connection refused before it was set up. */
static void conn_reject_new(TrackledServer *s, const Conn *c, const char *why)
{
        unsigned long long suppressed = 0;
        char pid[32], uid[32];
        LogField f[] = {{"TRACKLE_PID", pid}, {"TRACKLE_UID", uid}, {"TRACKLE_REJECT", why}};

        if (!ratelimit_below(&s->reject_rl, now_usec(), &suppressed))
                return;
        snprintf(pid, sizeof(pid), "%d", (int)c->cred.pid);
        snprintf(uid, sizeof(uid), "%u", (unsigned)c->cred.uid);
        log_fields(LOG_NOTICE, TRACKLED_MID_CLIENT_REJECTED, f, ELEMENTSOF(f),
                   "Refused a client connection (pid %d, uid %u): %s.%s", (int)c->cred.pid,
                   (unsigned)c->cred.uid, why,
                   suppressed ? " (some similar messages were suppressed)" : "");
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        TrackledServer *s = userdata;
        socklen_t len = sizeof(struct ucred);
        Conn *c;
        int cfd, r;

        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        log_warning_errno(errno, "Failed to accept a connection, ignoring: %m");
                return 0;
        }
        if (s->n_conns >= TRACKLED_CONNECTIONS_MAX) {
                safe_close(cfd);
                return 0;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                safe_close(cfd);
                return 0;
        }
        c->server = s;
        c->fd = cfd;
        c->rootfd = -EBADF;
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0 || c->cred.pid <= 0) {
                safe_close(cfd);
                free(c);
                return 0;
        }
        /* The socket is open to everyone (every process of a session connects): one user
         * other than root must not be able to take every connection slot and so keep the
         * sessions of others from being recorded. */
        if (c->cred.uid != 0 && conns_of_uid(s, c->cred.uid) >= TRACKLED_CONNECTIONS_PER_UID) {
                conn_reject_new(s, c, "too many connections of this user");
                safe_close(cfd);
                free(c);
                return 0;
        }
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        c->admin = conn_peer_in_group(c);
        r = sd_event_add_io(s->event, &c->src, cfd, EPOLLIN, on_conn, c);
        if (r < 0) {
                conn_free(c);
                return 0;
        }
        /* A process waits for the answer to its HELLO before it may exec or write (dpkg
         * forks its helpers while its own frames keep trackled busy): a new connection's
         * first frame goes before the frames of connections already known. */
        (void)sd_event_source_set_priority(c->src, SD_EVENT_PRIORITY_IMPORTANT);
        return 0;
}

/* Sessions whose leader is gone without a connection to notice it (after a restart). */
static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        TrackledServer *s = userdata;
        Session *next;

        for (Session *x = s->sessions; x; x = next) {
                next = x->next;
                if (!x->leader_conn && !trackled_proc_alive(x->leader, x->leader_start))
                        (void)session_end(s, x, NULL, "abandoned",
                                          "the session leader exited without session.end");
        }
        /* Events of long-lived processes need not wait for their next socket frame. */
        for (Conn *c = s->conns; c; c = c->next)
                if (c->kind == CONN_LIBRARY && c->ring)
                        (void)ring_drain(c, RING_READ);
        /* Retention=: ended sessions older than that go, once an hour (and at the first tick). */
        if (s->config->retention_sec > 0 &&
            (s->last_expire_usec == 0 || now_usec() - s->last_expire_usec > 3600ULL * 1000000ULL)) {
                int64_t n = 0;
                int r = trackled_store_expire(
                        s->store, (int64_t)time(NULL) - (int64_t)s->config->retention_sec, &n);

                s->last_expire_usec = now_usec();
                if (r < 0)
                        log_store_failure(r, "the expiry of old sessions");
                else if (n > 0)
                        log_info("Deleted %" PRId64 " session(s) older than Retention=.", n);
        }
        /* Quiet for a second, frames and web requests alike: a good moment to copy the WAL
         * back into the database (SQLite's own autocheckpoint still bounds the WAL). */
        if (now_usec() - s->last_frame_usec > 1000000ULL &&
            trackled_store_idle(s->store, 1000000ULL)) {
                int r = trackled_store_checkpoint(s->store);
                if (r < 0)
                        log_debug_errno(r, "WAL checkpoint failed, ignoring: %m");
        }
        (void)sd_event_source_set_time(src, usec + CHECK_INTERVAL_USEC);
        (void)sd_event_source_set_enabled(src, SD_EVENT_ON);
        return 0;
}

/* An OFD write lock on TRACKLE_RUN_LOCK for as long as we run: libtrackle.so asks the kernel
 * whether it is held before it connects, so that with trackled dead (the lock goes with the
 * process) no process of a session waits for an answer that cannot come. It also keeps a
 * second trackled from serving the same sessions. */
static int take_run_lock(TrackledServer *s)
{
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        int fd;

        fd = open(TRACKLE_RUN_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        /* every process of a session opens it to test the lock, whatever trackled's umask */
        (void)fchmod(fd, 0644);
        if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
                int r = errno == EAGAIN || errno == EACCES ? -EADDRINUSE : negative_errno();
                safe_close(fd);
                return r;
        }
        s->run_lock = fd;
        return 0;
}

int trackled_server_recover(TrackledServer *s)
{
        _cleanup_free_ int64_t *ids = NULL;
        size_t n = 0;
        char when[32], note[256];
        int r;

        r = ensure_runtime_dirs();
        if (r < 0)
                log_warning_errno(r, "Failed to create %s, sessions cannot be opened yet: %m",
                                  TRACKLE_RUN_DIR);
        else {
                r = take_run_lock(s);
                if (r == -EADDRINUSE)
                        return r;
                if (r < 0)
                        log_warning_errno(r, "Failed to lock %s, ignoring: %m", TRACKLE_RUN_LOCK);
        }
        /* Markers of an earlier run are stale: those of sessions kept open are written again. */
        DIR *d = opendir(TRACKLE_ACTIVE_DIR);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.' || strlen(de->d_name) > 2)
                                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                        (void)unlinkat(dirfd(d), de->d_name, 0);
                closedir(d);
        }

        r = trackled_store_session_open_ids(s->store, &ids, &n);
        if (r < 0)
                return r;
        trackled_format_time((int64_t)time(NULL), when);
        for (size_t i = 0; i < n; i++) {
                TrackledSessionRow row;
                Session *x;
                gid_t gid;
                char path[64];

                r = trackled_store_session_get(s->store, ids[i], &row);
                if (r < 0)
                        return r;
                x = calloc(1, sizeof(*x));
                if (!x)
                        return -ENOMEM;
                *x = (Session){
                        .id = row.id,
                        .uid = row.uid,
                        .audit = streq(row.identity, "audit"),
                        .audit_id = (uint32_t)row.audit_id,
                        .leader = row.leader_pid,
                        .leader_start = row.leader_start,
                        .rootfd = -EBADF,
                        .next = s->sessions,
                };
                snprintf(x->user, sizeof(x->user), "%s", row.user);
                (void)user_of(row.uid, path, sizeof(path), &gid);
                x->gid = gid;
                s->sessions = x;
                /* A pid and start time of an earlier boot may well belong to someone else now. */
                if (row.this_boot && trackled_proc_alive(row.leader_pid, row.leader_start)) {
                        snprintf(path, sizeof(path), "/proc/%d/root", (int)row.leader_pid);
                        x->rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (x->rootfd < 0)
                                x->rootfd = -EBADF;
                        snprintf(note, sizeof(note),
                                 "trackled restarted at %s: changes meanwhile may be missing",
                                 when);
                        (void)trackled_store_note(s->store, x->id, note);
                        if (marker_write(x) < 0)
                                log_warning("Failed to write the marker of session %" PRId64
                                            ", ignoring.",
                                            x->id);
                        log_session(LOG_INFO, TRACKLED_MID_SESSION_OPENED, x, row.ticket,
                                    "is still open after a restart of trackled");
                } else {
                        snprintf(note, sizeof(note),
                                 row.this_boot ? "trackled found the session open at start-up "
                                                 "(%s) with its leader gone: abandoned"
                                               : "trackled found the session open at start-up "
                                                 "(%s) after a reboot: abandoned",
                                 when);
                        (void)session_end(s, x, NULL, "abandoned", note);
                }
        }
        return 0;
}

int trackled_server_new(sd_event *event, const TrackledConfig *config, TrackledStore *store,
                        const int *fds, size_t n_fds, TrackledServer **ret)
{
        TrackledServer *s;
        int r;

        if (n_fds > TRACKLED_FDS_MAX)
                return -E2BIG;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->config = config;
        s->store = store;
        s->reject_rl = (RateLimit){.interval_usec = 10ULL * 1000000ULL, .burst = 10};
        s->run_lock = -EBADF;
        s->pending_tail = &s->pending;
        s->before_fd = -EBADF;
        s->own_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (s->own_root < 0) {
                r = negative_errno();
                goto fail;
        }
        if (gethostname(s->host, sizeof(s->host) - 1) < 0)
                snprintf(s->host, sizeof(s->host), "localhost");
        for (size_t i = 0; i < n_fds; i++) {
                s->listen_fds[i] = fds[i];
                r = sd_event_add_io(event, &s->listen_src[i], fds[i], EPOLLIN, on_accept, s);
                if (r < 0)
                        goto fail;
                (void)sd_event_source_set_priority(s->listen_src[i], SD_EVENT_PRIORITY_IMPORTANT);
                s->n_listen++;
        }
        r = sd_event_add_time_relative(event, &s->timer, CLOCK_MONOTONIC, CHECK_INTERVAL_USEC, 0,
                                       on_timer, s);
        if (r < 0)
                goto fail;
        (void)sd_event_source_set_enabled(s->timer, SD_EVENT_ON);
        r = sd_event_add_post(event, &s->flush, on_flush, s);
        if (r < 0)
                goto fail;
        (void)sd_event_source_set_enabled(s->flush, SD_EVENT_OFF);
        r = sd_event_add_time(event, &s->pending_src, CLOCK_MONOTONIC, UINT64_MAX, 0, on_pending,
                              s);
        if (r < 0)
                goto fail;
        /* frames that are waiting are handled first */
        (void)sd_event_source_set_priority(s->pending_src, SD_EVENT_PRIORITY_IDLE);
        (void)sd_event_source_set_enabled(s->pending_src, SD_EVENT_OFF);
        *ret = s;
        return 0;
fail:
        trackled_server_free(s);
        return r;
}

TrackledServer *trackled_server_free(TrackledServer *s)
{
        if (!s)
                return NULL;
        pending_flush(s);
        batch_flush(s);
        /* Sessions stay open across a stop of trackled: their leaders re-attach with
         * session.resume, so closing the connections here must not end them. */
        for (Session *x = s->sessions; x; x = x->next)
                x->leader_conn = NULL;
        for (Conn *c = s->conns; c; c = c->next)
                if (c->kind == CONN_CONSOLE)
                        c->session = 0;
        while (s->conns)
                conn_free(s->conns);
        while (s->sessions) {
                Session *x = s->sessions;
                session_unlink(s, x);
        }
        for (size_t i = 0; i < s->n_listen; i++)
                sd_event_source_disable_unref(s->listen_src[i]);
        sd_event_source_disable_unref(s->timer);
        sd_event_source_disable_unref(s->flush);
        sd_event_source_disable_unref(s->pending_src);
        batch_flush(s);
        safe_close(s->own_root);
        safe_close(s->run_lock);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}
