/* preload-core.c - session check, connection to trackled, frames and paths for libtrackle.so.
 *
 * Everything here runs inside other people's processes, set-uid ones included: no malloc, no
 * stdio, no output, no environment beyond the TRACKLE_SESSION hint, no blocking for more than
 * one bounded wait, and never a call to one of our own wrappers (own opens and closes are raw
 * syscalls). No cancellation point either: what may block (connect, send, receive, wait) is
 * a raw syscall too, so that a thread with a cancellation request pending is not cancelled
 * inside a call that is none (chmod, rename ...) while it holds the library.
 * All state is static and guarded by one lock (lock_try()): a caller that finds it taken by
 * another thread waits for it, a bounded time; one in a signal handler that interrupted the
 * library in its own thread skips tracking for that call, and counts it as missed. */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS /* we define both open and open64 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "trackle-identity.h"
#include "trackle-preload.h"

#define TP_SEEN_SIZE 4096u /* power of two */
#define TP_SEEN_MIN 512u   /* what B.seen[] starts with: one page */
#define TP_DIRCACHE 2
#define TP_CWD_SMALL 256      /* S.cwd: most working directories; a longer one goes to B.cwd */
#define TP_WAIT_MS 1000       /* for the reply to a BEFORE: trackled reads the file first */
#define TP_HELLO_WAIT_MS 500  /* for the reply to HELLO: a check of /proc, nothing more */
#define TP_RETRY_MIN_MS 1000  /* after a failure, try trackled again no sooner than this */
#define TP_RETRY_MAX_MS 60000 /* ... doubling up to this */
/* Power of two, at most TRACKLE_RING_DATA_MAX. Pages of the memfd are only allocated as they
 * are written: a process with a few events uses a page or two. A 5,000-file tar x writes
 * ~700 KiB of events: they fit, and trackled is not woken during it. */
#define TP_RING_DATA (1024u * 1024)
/* Asynchronous socket frames before a ring is made: a process with a few events (git status:
 * two) sends them as they are; making a ring (memfd, seals, mapping, a frame) costs more. */
#define TP_RING_AFTER 8

enum { SESSION_UNKNOWN, SESSION_OUT, SESSION_IN };
enum { CONN_NONE, CONN_OK, CONN_FAILED };

typedef struct TpState {
        /* One process's state, up to info_done: a child of vfork() that must change it for
         * its own EXEC frame gives its parent's back before it execs (vfork_hold()). */
        pid_t pid;   /* the process this state belongs to (fork resets it) */
        int session; /* SESSION_* */
        uint64_t id; /* trackle session id, from the root-owned marker */
        bool secure;
        int conn;                   /* CONN_* */
        int64_t retry_at, retry_ms; /* CONN_FAILED: when to try again, and the next backoff */
        int fd;
        ino_t fd_ino;
        uint32_t missed;
        /* The event ring (trackle-protocol(7)): asynchronous frames go into memory shared with
         * trackled instead of one sendmsg and one wake-up of trackled each. */
        uint8_t *ring;
        uint64_t ring_head;
        uint64_t sock_frames; /* socket frames sent since the ring came */
        uint64_t ring_marked; /* sock_frames as of the last MARK */
        unsigned n_async;     /* asynchronous frames sent on this connection's socket */
        bool ring_failed;
        bool ring_pop_failed;
        size_t ring_populated; /* bytes of the mapping made present ahead of the head */
        size_t n_seen;         /* entries in B.seen[] */
        bool seen_stale;       /* B.seen[] holds the parent's entries: cleared at its first use */
        bool info_done;

        /* Not held aside by vfork_hold(): the lock, what is read or written without it, and
         * the size of B.seen[], which is not held aside either. */
        size_t seen_cap; /* the part of B.seen[] in use (0: TP_SEEN_MIN); zero beyond */
        /* The library's lock (lock_try()): one word, the holder's address space (the pid
         * that owns the memory, see space_id()) in the high half and its thread in the low
         * half; 0 when free. */
        uint64_t lock_word;
        uint64_t lock_stuck;   /* a holder a waiter gave up on: the next callers skip at once */
        uint32_t lock_seq;     /* bumped at every release: what waiters sleep on (futex) */
        uint32_t lock_waiters; /* threads asleep on lock_seq */
        /* Calls of a process in a session that got no lock and were skipped: their records
         * are lost, so they are counted, and the next call that gets in reports them
         * (report_missed()). */
        uint32_t n_skipped;
        uint32_t slot_used; /* bit i: slots[i] is taken */
        /* Our socket's number + 1 (0: none), and whether the program closed that number
         * since: read by the close wrappers without the lock. */
        int sock_fd1, sock_dropped;
        /* The descriptors of the directory name cache (see dir_path()) + 1, 0: none; read by
         * the close wrappers too. */
        int dircache_fd1[TP_DIRCACHE];
        /* The hint as this program image started with it: read once, before main() can
         * change the environment (env -i, su, sudo clear it before they exec). Only ever a
         * hint: the marker and the kernel's process tree decide. */
        uint64_t hint_id;
        int hint_done;
        pid_t image_pid; /* the process this memory belongs to (see tp_opened()) */
        int fdtab_used;
        struct PidPage *pidpage; /* see cached_pid() */
        /* tp_exec_info()'s copy of id and preload, for exec wrappers that get no lock */
        bool published;
        uint64_t published_session;
        /* The real functions the wrappers call (tp_real()), resolved at first use */
        void *real[TP_REAL_SLOTS];
        /* Last: the frame being built, whose first bytes share the page of all the above. */
        char cwd[TP_CWD_SMALL]; /* the working directory of an EXEC frame, when it fits */
        uint8_t frame[TRACKLE_WIRE_LIB_FRAME_MAX + TRACKLE_WIRE_HEADER_SIZE];
} TpState;
/* Zero: in .bss, so loading the library into every exec maps no 100 KiB of data. S.pid == 0
 * means "no process yet", and fd is not valid then.
 *
 * The small fields first and the frame after them, aligned so that the first 2 KiB are in one
 * page: what a process writes on its common paths (the lock, its state, the frame of an event
 * or an EXEC, the real functions as they are resolved) is one page of memory. Each page a
 * process writes first costs a page fault, ~15-20 µs on a VM, and fork() makes every page
 * written before it cost one again, in the parent and in the child: dpkg's children write
 * this page between fork and exec, not eight. (Not 4096: .bss as a whole would be
 * page-aligned, and crtstuff's word that every process writes at exit would get a page of
 * its own.) */
static TpState S __attribute__((aligned(2048)));
_Static_assert(offsetof(TpState, frame) + 512 <= 2048, "S: the small fields outgrew their page");
/* The rest of a process's state, touched only where it is needed. */
static struct {
        char preload[TP_PATH_SIZE]; /* what an exec passes on (preload_value()) */
        uint64_t seen[TP_SEEN_SIZE];
        char cwd[TP_PATH_SIZE]; /* a working directory longer than S.cwd */
        /* Work space under the lock, off the caller's stack (see TpPre) */
        char scratch[TP_PATH_SIZE];
        TrackleIdentityWork identity;
} B;

static int raw_open(int dirfd, const char *path, int flags)
{
        return (int)syscall(SYS_openat, dirfd, path, flags, 0);
}

/* Our own descriptors are closed past the close() wrapper (it is ours: exported, so calls
 * from inside the library would bind to it). */
static void raw_close(int fd)
{
        (void)syscall(SYS_close, fd);
}

static void set_sock(int fd)
{
        S.fd = fd;
        __atomic_store_n(&S.sock_fd1, fd + 1, __ATOMIC_RELAXED);
}

static void hint_snapshot(void)
{
        const char *hint;

        if (__atomic_load_n(&S.hint_done, __ATOMIC_ACQUIRE))
                return;
        hint = getenv("TRACKLE_SESSION");
        if (!hint || !trackle_parse_u64(hint, strlen(hint), &S.hint_id))
                S.hint_id = 0;
        __atomic_store_n(&S.hint_done, 1, __ATOMIC_RELEASE);
}

/* Whose process this is, without a getpid() per call (~1.5 µs each on a VM: a third of what
 * tracking a file tar creates costs). The pid is kept in a page the kernel empties in the
 * child of every fork(), _Fork() or clone() without shared memory (MADV_WIPEONFORK), so such
 * a child asks the kernel once. A child of vfork() shares the page and so acts as its
 * parent until it execs or exits: its events go into the parent's connection (it never
 * makes one: connect_locked_first()), and the exec wrappers and _exit() see through it
 * (tp_vfork_check()) and drop what it may have cached under numbers of its own descriptors.
 * Only the process the image belongs to (S.image_pid) writes the page. */
typedef struct PidPage {
        pid_t pid; /* 0 in a page just wiped by fork() */
} PidPage;

static PidPage *pidpage_map(void)
{
        PidPage *none = NULL;
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return NULL;
        if (madvise(p, 4096, MADV_WIPEONFORK) < 0) { /* Linux < 4.14: no cache */
                (void)munmap(p, 4096);
                return NULL;
        }
        if (!__atomic_compare_exchange_n(&S.pidpage, &none, (PidPage *)p, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
                (void)munmap(p, 4096); /* another thread won */
                return none;
        }
        return p;
}

static pid_t cached_pid(void)
{
        PidPage *pp = __atomic_load_n(&S.pidpage, __ATOMIC_ACQUIRE);
        pid_t pid;

        if (pp && (pid = __atomic_load_n(&pp->pid, __ATOMIC_RELAXED)) > 0)
                return pid;
        pid = getpid();
        /* a child of vfork() or _Fork(), or a call before the constructor: no cache */
        if (pid != __atomic_load_n(&S.image_pid, __ATOMIC_RELAXED))
                return pid;
        if (!pp)
                pp = pidpage_map();
        if (pp)
                __atomic_store_n(&pp->pid, pid, __ATOMIC_RELAXED);
        return pid;
}

/* The library's lock: every call that may record something holds it while it works on S.
 * One word, the holder's address space (the pid that owns the memory, see space_id()) in the
 * high half and its thread in the low half; 0 when free.
 * - Another thread of the process holds it (waiting for the answer to a BEFORE, say): wait
 *   for it, at most TP_LOCK_WAIT_MS: the holder's own waits are bounded, so it lets go.
 * - This very thread holds it (a signal handler that interrupted one of our calls): skip.
 * - A process whose memory ours was copied from holds it (a thread of the parent was inside
 *   the library at fork()): nobody here will let go, so take it over.
 * A call that gets no lock is skipped, and counted (S.n_skipped). */
#define TP_LOCK_WAIT_MS 1500
/* TpPre's path buffers: a wrapper holds one from its part before the real call to its part
 * after, without the lock (the real call may block), so they cannot be in S. A process with
 * more wrappers than that in flight at once (threads blocked in an open of a FIFO, say) gets
 * no record of the rest, and counts them. Each says who holds it, on the page its path
 * starts on: a wrapper left by a siglongjmp() out of a signal handler never gives its
 * buffer back (see slot_reclaim()). In .bss: a page is touched only when its buffer is first
 * used. */
#define TP_SLOTS 32
typedef struct TpSlot {
        pid_t tid;       /* the thread holding it */
        uintptr_t frame; /* its TpPre's frame */
        uintptr_t pre;   /* its TpPre */
        char path[TP_PATH_SIZE];
} TpSlot;
static TpSlot slots[TP_SLOTS];
/* This thread's id, for the lock word: one gettid() per thread. Initial-exec TLS: the
 * library is loaded at start-up (LD_PRELOAD), and the access is a plain %fs load. */
static __thread pid_t tls_tid __attribute__((tls_model("initial-exec")));

static pid_t thread_id(void)
{
        if (tls_tid == 0)
                tls_tid = (pid_t)syscall(SYS_gettid);
        return tls_tid;
}

/* Which memory this is: the pid kept in the MADV_WIPEONFORK page (see cached_pid()), which a
 * child of vfork() shares with its parent and a child of fork() finds empty. */
static pid_t space_id(pid_t pid)
{
        PidPage *pp = __atomic_load_n(&S.pidpage, __ATOMIC_ACQUIRE);
        pid_t space = pp ? __atomic_load_n(&pp->pid, __ATOMIC_RELAXED) : 0;

        return space > 0 ? space : pid;
}

static int64_t now_ms(void);

/* Waits for the holder (another thread of this memory) to let go, at most TP_LOCK_WAIT_MS
 * per holder (one that holds it longer is marked stuck: the next callers skip at once until
 * it lets go) and four times that in all (busy threads taking turns). */
static bool lock_wait(uint64_t me, uint64_t held)
{
        int64_t start = now_ms(), deadline = start + TP_LOCK_WAIT_MS;

        for (;;) {
                uint32_t seq = __atomic_load_n(&S.lock_seq, __ATOMIC_ACQUIRE);
                uint64_t cur = 0;
                struct timespec ts;
                int64_t left;
                long r;

                if (__atomic_compare_exchange_n(&S.lock_word, &cur, me, false, __ATOMIC_ACQUIRE,
                                                __ATOMIC_RELAXED))
                        return true;
                if (cur != held) {
                        held = cur;
                        deadline = now_ms() + TP_LOCK_WAIT_MS;
                        if (deadline > start + 4 * TP_LOCK_WAIT_MS)
                                return false;
                }
                if (held == __atomic_load_n(&S.lock_stuck, __ATOMIC_RELAXED))
                        return false;
                left = deadline - now_ms();
                if (left <= 0) {
                        __atomic_store_n(&S.lock_stuck, held, __ATOMIC_RELAXED);
                        return false;
                }
                ts.tv_sec = left / 1000;
                ts.tv_nsec = (left % 1000) * 1000000;
                __atomic_fetch_add(&S.lock_waiters, 1, __ATOMIC_ACQ_REL);
                r = syscall(SYS_futex, &S.lock_seq, FUTEX_WAIT_PRIVATE, seq, &ts, NULL, 0);
                __atomic_fetch_sub(&S.lock_waiters, 1, __ATOMIC_ACQ_REL);
                /* a seccomp filter of the program's that refuses futex: no busy wait */
                if (r < 0 && errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT)
                        return false;
        }
}

static bool lock_try(pid_t pid)
{
        uint64_t me = (uint64_t)(uint32_t)space_id(pid) << 32 | (uint32_t)thread_id();
        uint64_t cur = 0;

        if (__atomic_compare_exchange_n(&S.lock_word, &cur, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
                return true;
        if (cur == me)
                return false; /* a signal handler inside one of our calls */
        if (cur >> 32 != me >> 32)
                /* taken in the memory we were copied from: take it over */
                return __atomic_compare_exchange_n(&S.lock_word, &cur, me, false, __ATOMIC_ACQUIRE,
                                                   __ATOMIC_RELAXED);
        if (cur == __atomic_load_n(&S.lock_stuck, __ATOMIC_RELAXED))
                return false;
        return lock_wait(me, cur);
}

static void lock_release(void)
{
        __atomic_store_n(&S.lock_stuck, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&S.lock_word, 0, __ATOMIC_RELEASE);
        __atomic_fetch_add(&S.lock_seq, 1, __ATOMIC_ACQ_REL);
        if (__atomic_load_n(&S.lock_waiters, __ATOMIC_ACQUIRE) > 0)
                (void)syscall(SYS_futex, &S.lock_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void *tp_real(unsigned slot, const char *name)
{
        void *p;

        if (slot >= TP_REAL_SLOTS)
                return NULL;
        p = __atomic_load_n(&S.real[slot], __ATOMIC_RELAXED);
        if (!p) {
                int e = errno;

                p = dlsym(RTLD_NEXT, name);
                errno = e;
                __atomic_store_n(&S.real[slot], p, __ATOMIC_RELAXED);
        }
        return p;
}

void tp_resolve_exec(void)
{
        (void)tp_real(TP_REAL_execve, "execve");
        (void)tp_real(TP_REAL_execvpe, "execvpe");
}

static void atfork_child(void)
{
        PidPage *pp = __atomic_load_n(&S.pidpage, __ATOMIC_ACQUIRE);
        pid_t pid = getpid();

        __atomic_store_n(&S.image_pid, pid, __ATOMIC_RELAXED);
        /* The page fork() emptied: written now, with the pid at hand, costs one page fault;
         * cached_pid() would read it first (a fault) and then write it (another). */
        if (pp)
                __atomic_store_n(&pp->pid, pid, __ATOMIC_RELAXED);
        __atomic_store_n(&S.n_skipped, 0, __ATOMIC_RELAXED); /* the parent's, reported by it */
        /* One thread here, not inside the library (the prepare handler let go): no holder,
         * no waiter, and a new thread id. */
        tls_tid = 0;
        __atomic_store_n(&S.slot_used, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&S.lock_word, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&S.lock_stuck, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&S.lock_waiters, 0, __ATOMIC_RELAXED);
}

static void preload_value(void);
static void publish_locked(void);
static bool enter_pid_as(pid_t pid, bool counted);
static bool connect_locked(void);

/* Before every fork() in a session: what a child needs for its exec is worked out once here,
 * in the parent, and inherited, instead of in every child between fork and exec (where each
 * page it writes is a copy-on-write fault): whether this process is in a session, the
 * LD_PRELOAD value to pass on, the real execve and execvpe, and a connection to trackled
 * that the child's EXEC frame can go on. */
static void atfork_prepare(void)
{
        int e = errno;

        /* In or out of a session: a child that looks them up itself (dlsym() reads symbol
         * tables no page of which the child has yet) takes some thirty page faults. */
        tp_resolve_exec();
        if (enter_pid_as(cached_pid(), false)) {
                if (!S.info_done) {
                        preload_value();
                        S.info_done = true;
                }
                publish_locked();
                /* the children's EXEC frames go on this connection (exec_on_parent()) */
                if (S.conn != CONN_OK)
                        (void)connect_locked();
                lock_release();
        }
        errno = e;
}

__attribute__((constructor)) static void tp_init(void)
{
        hint_snapshot();
        __atomic_store_n(&S.image_pid, getpid(), __ATOMIC_RELAXED);
        (void)pthread_atfork(atfork_prepare, NULL, atfork_child);
}

/* Spec §4.2 / contract "Session identity" item 4, in lib/trackle-identity.c (the check
 * trackle-shell-prompt makes too): kernel facts first, the hint only to find an ancestry
 * marker, which then must be confirmed by walking our real ancestors. */
static void session_check(void)
{
        uint64_t id;

        S.session = SESSION_OUT;
        hint_snapshot();
        if (trackle_identity_check_in(&B.identity, S.hint_id, &id, NULL)) {
                S.id = id;
                S.session = SESSION_IN;
        }
}

static int64_t now_ms(void);

/* S.fd is still the socket we connected (the program may have closed that number, and
 * opened something else under it). */
static bool sock_still_ours(void)
{
        struct stat st;

        return S.fd >= 0 && fstat(S.fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == S.fd_ino;
}

/* Called with the lock held: a new process (first call, or after fork) starts afresh. */
static void state_for(pid_t pid)
{
        if (S.pid == pid)
                return;
        if (S.pid == 0)
                set_sock(-1);
        /* Inherited from the parent: closed only if that number is still our socket. */
        if (sock_still_ours())
                raw_close(S.fd);
        /* A child is in its parent's session, if the parent knew: the kernel's audit session
         * and the process tree both pass to a child (trackled checks it again at HELLO). */
        S.pid = pid;
        S.missed = 0; /* the parent's, reported by it */
        /* A child forked while its parent is backing off from a dead or stuck trackled backs
         * off too, instead of each paying the wait again. */
        if (!(S.conn == CONN_FAILED && now_ms() < S.retry_at)) {
                S.conn = CONN_NONE;
                S.retry_at = S.retry_ms = 0;
        }
        set_sock(-1);
        /* The parent's ring is not ours to write. Not unmapped either: after vfork() the
         * mapping is the parent's own (the same memory); after fork() it goes with exec. */
        S.ring = NULL;
        S.ring_failed = false;
        S.n_async = 0;
        /* B.preload (info_done) stays: it is the image's, the same in a child */
        /* The parent's table is not ours either. It is cleared when this process first
         * looks at it, not here: writing it costs a copy-on-write page fault per page
         * (~20 µs each on a VM, up to eight), which every child that only execs (dpkg's four, each
         * command bash runs) would pay for nothing. */
        S.seen_stale = S.n_seen > 0;
}

static bool in_session_locked(void)
{
        if (S.session == SESSION_UNKNOWN) {
                S.secure = getauxval(AT_SECURE) != 0;
                session_check();
        }
        return S.session == SESSION_IN;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool wait_fd(int fd, short events, int64_t deadline)
{
        for (;;) {
                struct pollfd p = {.fd = fd, .events = events};
                int64_t left = deadline - now_ms();
                struct timespec ts;
                int r;

                if (left <= 0)
                        return false;
                ts.tv_sec = left / 1000;
                ts.tv_nsec = (left % 1000) * 1000000;
                r = (int)syscall(SYS_ppoll, &p, 1, &ts, NULL, 0);
                if (r > 0)
                        return !(p.revents & (POLLERR | POLLNVAL)) || (p.revents & events);
                if (r < 0 && errno != EINTR)
                        return false;
        }
}

/* Fail open: nothing more goes to trackled from this process for a while (doubling, up to a
 * minute), so a long-lived shell comes back when trackled does, and a dead or stuck trackled
 * costs at most one bounded wait per back-off. */
static void conn_forget(void)
{
        set_sock(-1);
        /* trackled reads what is in it when it sees the connection end */
        if (S.ring)
                (void)munmap(S.ring, TRACKLE_RING_HEADER + TP_RING_DATA);
        S.ring = NULL;
        S.n_async = 0;
}

static void give_up(void)
{
        if (S.fd >= 0)
                raw_close(S.fd);
        conn_forget();
        S.conn = CONN_FAILED;
        S.retry_ms = S.retry_ms ? S.retry_ms * 2 : TP_RETRY_MIN_MS;
        if (S.retry_ms > TP_RETRY_MAX_MS)
                S.retry_ms = TP_RETRY_MAX_MS;
        S.retry_at = now_ms() + S.retry_ms;
}

/* The program closed the number of our socket (closefrom(3) in a daemon, a dup2 over it):
 * unless it is still our socket (a child of vfork() closed its copy), forget it without
 * closing it — the number may be the program's own file or socket by now — and connect
 * afresh at the next frame. What the ring held is read by trackled at the connection's end. */
static void sock_recheck(void)
{
        __atomic_store_n(&S.sock_dropped, 0, __ATOMIC_RELAXED);
        if (S.fd < 0 || sock_still_ours())
                return;
        conn_forget();
        S.conn = CONN_NONE;
}

static void ring_copy_in(uint64_t pos, const void *buf, size_t len)
{
        uint8_t *data = S.ring + TRACKLE_RING_HEADER;
        size_t off = (size_t)(pos & (TP_RING_DATA - 1));
        size_t first = TP_RING_DATA - off < len ? TP_RING_DATA - off : len;

        memcpy(data + off, buf, first);
        memcpy(data, (const uint8_t *)buf + first, len - first);
}

/* The ring's pages are made present 32 KiB at a time ahead of the head, on its first lap:
 * one madvise() instead of eight page faults (each ~20 µs on a VM; a tar of 5,000 files
 * writes ~700 KiB of events). Without MADV_POPULATE_WRITE (Linux < 5.14) the pages fault in
 * one by one as before. */
#define TP_RING_POPULATE (32u * 1024)

static void ring_populate(uint64_t head)
{
        const size_t total = TRACKLE_RING_HEADER + TP_RING_DATA;
        uint64_t want = TRACKLE_RING_HEADER + head;

        while (!S.ring_pop_failed && S.ring_populated < want && S.ring_populated < total) {
                size_t len = total - S.ring_populated < TP_RING_POPULATE ? total - S.ring_populated
                                                                         : TP_RING_POPULATE;

                if (madvise(S.ring + S.ring_populated, len, MADV_POPULATE_WRITE) < 0)
                        S.ring_pop_failed = true;
                S.ring_populated += len;
        }
}

/* Append one whole frame to the ring, after a MARK if socket frames went out since the last
 * one; false if it does not fit (the caller sends it on the socket instead). */
static bool ring_put(const void *buf, size_t len)
{
        uint8_t mark[TRACKLE_WIRE_HEADER_SIZE + 8];
        uint64_t tail, used, head = S.ring_head;
        int ml = 0;

        if (S.sock_frames != S.ring_marked) {
                ml = trackle_wire_mark(mark, sizeof(mark), S.sock_frames);
                if (ml < 0)
                        return false;
        }
        tail = __atomic_load_n((uint64_t *)(void *)(S.ring + TRACKLE_RING_OFF_TAIL),
                               __ATOMIC_ACQUIRE);
        used = head - tail;
        if (used > TP_RING_DATA || TP_RING_DATA - used < (size_t)ml + len)
                return false;
        ring_populate(head + (uint64_t)ml + len);
        if (ml > 0) {
                ring_copy_in(head, mark, (size_t)ml);
                head += (uint64_t)ml;
                S.ring_marked = S.sock_frames;
        }
        ring_copy_in(head, buf, len);
        S.ring_head = head + len;
        __atomic_store_n((uint64_t *)(void *)(S.ring + TRACKLE_RING_OFF_HEAD), S.ring_head,
                         __ATOMIC_RELEASE);
        return true;
}

/* One whole frame, with an optional fd; false (and given up) on any failure or timeout. */
static bool send_frame(const void *buf, size_t len, int pass_fd)
{
        int64_t deadline = now_ms() + TP_WAIT_MS;
        size_t off = 0;

        /* counted before it goes: what the ring gets from now on comes after this frame */
        if (S.ring)
                S.sock_frames++;

        while (off < len) {
                union {
                        struct cmsghdr h;
                        char b[CMSG_SPACE(sizeof(int))];
                } c;
                struct iovec iov = {.iov_base = (char *)buf + off, .iov_len = len - off};
                struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
                ssize_t n;

                if (off == 0 && pass_fd >= 0) {
                        memset(&c, 0, sizeof(c));
                        m.msg_control = c.b;
                        m.msg_controllen = sizeof(c.b);
                        c.h.cmsg_level = SOL_SOCKET;
                        c.h.cmsg_type = SCM_RIGHTS;
                        c.h.cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(&c.h), &pass_fd, sizeof(int));
                }
                n = syscall(SYS_sendmsg, S.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n > 0) {
                        off += (size_t)n;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN && wait_fd(S.fd, POLLOUT, deadline))
                        continue;
                give_up();
                return false;
        }
        return true;
}

static bool recv_ack(int64_t wait_ms)
{
        int64_t deadline = now_ms() + wait_ms;
        uint8_t buf[TRACKLE_WIRE_HEADER_SIZE + 4];
        TrackleHeader h;
        size_t off = 0;
        int32_t status;

        while (off < sizeof(buf)) {
                ssize_t n = syscall(SYS_recvfrom, S.fd, buf + off, sizeof(buf) - off, MSG_DONTWAIT,
                                    NULL, NULL);

                if (n > 0) {
                        off += (size_t)n;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN && wait_fd(S.fd, POLLIN, deadline))
                        continue;
                give_up();
                return false;
        }
        if (trackle_wire_parse_header(buf, TRACKLE_WIRE_HEADER_SIZE, &h) < 0 ||
            h.type != TRACKLE_FRAME_ACK || h.length != 4 ||
            trackle_wire_parse_ack(buf + TRACKLE_WIRE_HEADER_SIZE, 4, &status) < 0) {
                give_up();
                return false;
        }
        return true;
}

static int move_high(int fd)
{
        int nfd;

        if (fd < 0 || fd >= 3)
                return fd;
        nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        raw_close(fd);
        return nfd;
}

/* trackled holds an OFD write lock on TRACKLE_RUN_LOCK while it runs, and the kernel drops it
 * when trackled dies: asking costs an open and an fcntl, and spares every process of a session
 * a wait for an answer that cannot come when the socket is there but trackled is not. */
static bool trackled_running(void)
{
        struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
        struct stat st;
        bool held;
        int fd;

        fd = raw_open(AT_FDCWD, TRACKLE_RUN_LOCK, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return false;
        held = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
               syscall(SYS_fcntl, fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
        raw_close(fd);
        return held;
}

/* Connected and greeted, or false. first (if not NULL): an asynchronous frame that goes right
 * behind HELLO, before its answer, so that trackled wakes once for both (every exec'd child's
 * EXEC frame); *ret_sent tells whether it went. trackled reads it after it has checked the
 * HELLO, while we still wait: it counts as much as one sent after the answer. */
static bool connect_locked_first(const void *first, size_t first_len, bool *ret_sent)
{
        static const int types[] = {SOCK_STREAM, SOCK_SEQPACKET};
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct ucred cred;
        socklen_t cl = sizeof(cred);
        TrackleHello hello = {.version = TRACKLE_WIRE_VERSION, .flags = TRACKLE_HELLO_ROOTFD};
        uint8_t buf[64]; /* S.frame already holds the frame the caller wants to send */
        struct stat st;
        int root, n;

        if (S.conn == CONN_OK)
                return true;
        if (S.conn == CONN_FAILED && now_ms() < S.retry_at)
                return false;
        /* A child of vfork() acting as its parent (cached_pid()) never connects: the socket
         * would be in its descriptor table only, under a number of its parent's. */
        if (getpid() != S.pid)
                return false;
        S.conn = CONN_FAILED;
        if (!trackled_running()) {
                give_up();
                return false;
        }
        memcpy(sa.sun_path, TRACKLE_SOCKET, sizeof(TRACKLE_SOCKET));
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                set_sock(move_high(socket(AF_UNIX, types[i] | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)));
                if (S.fd < 0) {
                        give_up();
                        return false;
                }
                if (syscall(SYS_connect, S.fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                        break;
                n = errno;
                raw_close(S.fd);
                set_sock(-1);
                if (n != EPROTOTYPE) {
                        give_up();
                        return false;
                }
        }
        if (S.fd < 0) {
                give_up();
                return false;
        }
        /* Never send anything, least of all a file descriptor, to a server that is not root. */
        if (getsockopt(S.fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.uid != 0 ||
            fstat(S.fd, &st) < 0) {
                give_up();
                return false;
        }
        S.fd_ino = st.st_ino;
        S.conn = CONN_OK;
        S.ring = NULL; /* unmapped by give_up() */
        S.ring_failed = false;
        S.n_async = 0;

        if (S.secure)
                hello.flags |= TRACKLE_HELLO_SECURE;
        hint_snapshot();
        hello.hint = S.hint_id;
        hello.pid = (uint32_t)S.pid;
        n = trackle_wire_hello(buf, sizeof(buf), &hello);
        root = raw_open(AT_FDCWD, "/", O_PATH | O_CLOEXEC | O_DIRECTORY);
        if (n < 0 || root < 0) {
                if (root >= 0)
                        raw_close(root);
                give_up();
                return false;
        }
        if (!send_frame(buf, (size_t)n, root)) {
                raw_close(root);
                return false;
        }
        raw_close(root);
        if (first) {
                if (!send_frame(first, first_len, -1))
                        return false;
                *ret_sent = true;
        }
        /* trackled checks our session while we wait, so whatever we send next counts even if
         * this process is gone before trackled reads it. */
        if (!recv_ack(TP_HELLO_WAIT_MS))
                return false;
        S.retry_ms = 0;
        if (S.missed > 0) {
                n = trackle_wire_missed(buf, sizeof(buf), S.missed);
                if (n > 0 && send_frame(buf, (size_t)n, -1))
                        S.missed = 0;
        }
        return S.conn == CONN_OK;
}

static bool connect_locked(void)
{
        bool sent = false;

        return connect_locked_first(NULL, 0, &sent);
}

/* A memfd sealed against shrinking and growing (trackled maps it and must never fault on it),
 * mapped here and passed to trackled. Any failure leaves this process on the socket alone. */
static void ring_attach(void)
{
        const size_t total = TRACKLE_RING_HEADER + TP_RING_DATA;
        uint32_t magic = TRACKLE_RING_MAGIC, size = TP_RING_DATA;
        uint8_t buf[32];
        void *p;
        int fd, n;

        S.ring_failed = true; /* one try per connection */
        fd = (int)syscall(SYS_memfd_create, "trackle-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return;
        if (syscall(SYS_ftruncate, fd, (off_t)total) < 0 ||
            syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
                raw_close(fd);
                return;
        }
        p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        n = trackle_wire_ring(buf, sizeof(buf), TP_RING_DATA);
        if (p == MAP_FAILED || n < 0) {
                if (p != MAP_FAILED)
                        (void)munmap(p, total);
                raw_close(fd);
                return;
        }
        memcpy(p, &magic, sizeof(magic));
        memcpy((uint8_t *)p + 4, &size, sizeof(size));
        if (!send_frame(buf, (size_t)n, fd)) { /* given up: the connection is gone */
                (void)munmap(p, total);
                raw_close(fd);
                return;
        }
        raw_close(fd);
        S.ring = p;
        S.ring_head = S.sock_frames = S.ring_marked = 0;
        S.ring_populated = 0;
        S.ring_pop_failed = false;
}

static void send_async(int n)
{
        bool sent = false;

        if (n < 0)
                return;
        if (!connect_locked_first(S.frame, (size_t)n, &sent)) {
                S.missed++;
                return;
        }
        if (sent) {
                S.n_async++;
                return;
        }
        if (!S.ring && !S.ring_failed && S.n_async >= TP_RING_AFTER)
                ring_attach();
        if (S.ring && S.conn == CONN_OK && ring_put(S.frame, (size_t)n))
                return;
        if (S.conn != CONN_OK || !send_frame(S.frame, (size_t)n, -1))
                S.missed++;
        else
                S.n_async++;
}

static uint64_t hash_path(const char *s)
{
        uint64_t h = 1469598103934665603ull;

        for (; *s; s++)
                h = (h ^ (uint8_t)*s) * 1099511628211ull;
        return h ? h : 1;
}

static size_t seen_cap(void)
{
        return S.seen_cap ? S.seen_cap : TP_SEEN_MIN;
}

/* Where h is in B.seen[], or the first free entry from its place on, within 32 probes (linear
 * probing); -1 if neither. *found tells which. */
static ssize_t seen_probe(uint64_t h, bool *found)
{
        size_t mask = seen_cap() - 1, i = h & mask;

        for (unsigned probe = 0; probe < 32; probe++, i = (i + 1) & mask)
                if (B.seen[i] == h || B.seen[i] == 0) {
                        *found = B.seen[i] == h;
                        return (ssize_t)i;
                }
        *found = false;
        return -1;
}

/* Twice the entries, in place: each entry of the old part is taken out and put in again. One
 * put back into a later entry of the old part is taken out again when the loop gets there, and
 * then lands no later than that (its probe meets the entry just freed). One that finds no room
 * is forgotten: its file is asked about again, at worst. */
static void seen_grow(void)
{
        size_t old = seen_cap();

        S.seen_cap = old * 2;
        for (size_t i = 0; i < old; i++) {
                uint64_t h = B.seen[i];
                ssize_t at;
                bool found;

                if (h == 0)
                        continue;
                B.seen[i] = 0;
                at = seen_probe(h, &found);
                if (at >= 0)
                        B.seen[at] = h;
                else
                        S.n_seen--;
        }
}

/* true if abs was already reported by this process; else remember it (when there is room).
 * The table grows as it fills, so a process that reports a few files writes one page of it
 * (each page written is a page fault, again after every fork()). */
static bool seen_before(const char *abs)
{
        uint64_t h = hash_path(abs);
        ssize_t at;
        bool found;

        if (S.seen_stale) {
                memset(B.seen, 0, seen_cap() * sizeof(B.seen[0]));
                S.n_seen = 0;
                S.seen_cap = 0;
                S.seen_stale = false;
        }
        if (S.n_seen * 2 >= seen_cap() && seen_cap() < TP_SEEN_SIZE)
                seen_grow();
        at = seen_probe(h, &found);
        if (!found && at >= 0) {
                B.seen[at] = h;
                S.n_seen++;
        }
        return found; /* not found and no room: ask again rather than miss a file */
}

/* Like seen_before(), without remembering abs. */
static bool seen_has(const char *abs)
{
        bool found = false;

        if (!S.seen_stale)
                (void)seen_probe(hash_path(abs), &found);
        return found;
}

/* known: the caller's lstat of name, or NULL. */
static void send_before(uint32_t op, int dirfd, const char *name, const char *abs,
                        const struct stat *known)
{
        bool async = false;
        uint32_t flags = 0;
        int fd = -1, n;

        if (seen_before(abs))
                return;
        /* Never read a file with privileges on the caller's behalf: set-uid callers send the
         * path and trackled reads it after checking the session. So do root callers about to
         * write in place (trackled reads it while we wait). Anyone else opens the file and
         * passes it; for an unlink, rename or link over it, the open old inode is all trackled
         * needs, so the frame goes without waiting for an answer. */
        if (!S.secure && (trackle_op_keeps_inode(op) || geteuid() != 0)) {
                fd = raw_open(dirfd, name,
                              O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                /* A symlink about to be renamed over or removed (dpkg replaces a library's
                 * libfoo.so.1 that way): its own O_PATH descriptor keeps it, trackled reads
                 * the target through it, and nobody waits. */
                if (fd < 0 && errno == ELOOP && trackle_op_keeps_inode(op))
                        fd = raw_open(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0) {
                        struct stat st;

                        flags |= TRACKLE_BEFORE_FD;
                        /* The lstat just made tells what was opened, but for a race that
                         * trackled copes with: it checks the descriptor it gets anyway. One
                         * fstat less for each file dpkg replaces. */
                        if (trackle_op_keeps_inode(op) &&
                            ((known && (S_ISREG(known->st_mode) || S_ISLNK(known->st_mode))) ||
                             (fstat(fd, &st) == 0 &&
                              (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))))) {
                                flags |= TRACKLE_BEFORE_ASYNC;
                                async = true;
                        } else if (geteuid() == 0) {
                                /* root: not a regular file after all; trackled reads it */
                                raw_close(fd);
                                fd = -1;
                                flags = 0;
                        }
                }
        }
        n = trackle_wire_before(S.frame, sizeof(S.frame), op, flags, abs);
        if (n < 0 || !connect_locked()) {
                S.missed++;
        } else if (!send_frame(S.frame, (size_t)n, fd) || (!async && !recv_ack(TP_WAIT_MS))) {
                S.missed++;
        }
        if (fd >= 0)
                raw_close(fd);
}

/* Lexical clean-up: no "//", no "/./", no trailing "/." or "/". */
static void clean_path(char *p)
{
        char *r = p, *w = p;

        while (*r) {
                if (r[0] == '/' && (r[1] == '/' || (r[1] == '.' && (r[2] == '/' || !r[2])))) {
                        r += r[1] == '/' ? 1 : 2;
                        continue;
                }
                *w++ = *r++;
        }
        if (w == p)
                *w++ = '/';
        else if (w > p + 1 && w[-1] == '/')
                w--;
        *w = 0;
}

static bool skipped(const char *p)
{
        static const char *const prefixes[] = {"/proc", "/sys", "/dev", "/run/tracksuite"};

        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
                size_t n = strlen(prefixes[i]);

                if (strncmp(p, prefixes[i], n) == 0 && (p[n] == '/' || p[n] == 0))
                        return true;
        }
        return false;
}

static bool fd_path(int fd, char *out, size_t size)
{
        char link[40] = "/proc/self/fd/";
        ssize_t n;

        if (fd < 0)
                return false;
        trackle_fmt_u64(link + 14, (uint64_t)fd);
        n = readlink(link, out, size - 1);
        if (n <= 0 || (size_t)n >= size - 1 || out[0] != '/')
                return false;
        out[n] = 0;
        return true;
}

/* The names of the last directory fds that *at() calls were relative to: tar and dpkg make
 * thousands of calls relative to one. An entry counts while the descriptor is still that
 * directory (dircache_fd1: cleared by the close wrappers, see fdtab) and its name still leads
 * to it: one stat (cheaper than the readlink of /proc/self/fd/N through procfs) shows that,
 * and is trusted for TP_DIRCACHE_TRUST_US. A rename of a directory by this process drops
 * the whole cache at once (tp_dirs_moved()); a rename by another process is seen within that
 * time, so a name recorded is the directory's name as of at most that long before the call
 * (the call and the rename race anyway). Filled only by the process the memory belongs to
 * (S.image_pid; what a child of vfork() passing for it adds is dropped when the child execs or
 * exits, see fdtab). Used with the lock held. */
#define TP_DIRCACHE_TRUST_US 1000
static struct {
        uint64_t dev, ino;
        int64_t checked_us;
        char path[TP_PATH_SIZE];
} dircache[TP_DIRCACHE];
static unsigned dircache_next;

static int64_t now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO: no system call */
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void tp_dirs_moved(void)
{
        for (int i = 0; i < TP_DIRCACHE; i++)
                __atomic_store_n(&S.dircache_fd1[i], 0, __ATOMIC_RELAXED);
}

static bool dir_path(int dirfd, char *out, size_t size, bool cache)
{
        struct stat a, b;
        size_t i, n;

        if (!cache)
                return fd_path(dirfd, out, size);
        for (i = 0; i < TP_DIRCACHE; i++)
                if (__atomic_load_n(&S.dircache_fd1[i], __ATOMIC_RELAXED) == dirfd + 1)
                        break;
        if (i < TP_DIRCACHE) {
                int64_t now = now_us();

                n = strlen(dircache[i].path);
                if (n < size && now - dircache[i].checked_us < TP_DIRCACHE_TRUST_US &&
                    now >= dircache[i].checked_us) {
                        memcpy(out, dircache[i].path, n + 1);
                        return true;
                }
                if (n < size && fstatat(AT_FDCWD, dircache[i].path, &b, 0) == 0 &&
                    S_ISDIR(b.st_mode) && (uint64_t)b.st_ino == dircache[i].ino &&
                    (uint64_t)b.st_dev == dircache[i].dev) {
                        dircache[i].checked_us = now;
                        memcpy(out, dircache[i].path, n + 1);
                        return true;
                }
        } else {
                i = dircache_next++ % TP_DIRCACHE;
        }
        if (fstat(dirfd, &a) < 0 || !S_ISDIR(a.st_mode) || !fd_path(dirfd, out, size))
                return fd_path(dirfd, out, size);
        __atomic_store_n(&S.dircache_fd1[i], 0, __ATOMIC_RELAXED);
        if (S.pid != __atomic_load_n(&S.image_pid, __ATOMIC_RELAXED) ||
            strlen(out) >= sizeof(dircache[i].path))
                return true;
        dircache[i].dev = (uint64_t)a.st_dev;
        dircache[i].ino = (uint64_t)a.st_ino;
        dircache[i].checked_us = now_us();
        memcpy(dircache[i].path, out, strlen(out) + 1);
        __atomic_store_n(&S.dircache_fd1[i], dirfd + 1, __ATOMIC_RELAXED);
        return true;
}

static bool abspath(int dirfd, const char *path, char *out, size_t size, bool cache)
{
        size_t base = 0, len;

        if (!path)
                return false;
        if (path[0] != '/') {
                if (dirfd == AT_FDCWD) {
                        if (!getcwd(out, size) || out[0] != '/')
                                return false;
                } else if (!dir_path(dirfd, out, size, cache)) {
                        return false;
                }
                base = strlen(out);
                if (base + 1 >= size)
                        return false;
                out[base++] = '/';
        }
        len = strlen(path);
        if (base + len >= size)
                return false;
        memcpy(out + base, path, len + 1);
        clean_path(out);
        return !skipped(out);
}

/* What this process could not send so far, on its connection: in the ring if it has one
 * (no system call), else on the socket. Only when connected: a connection reports it right
 * after its HELLO anyway (connect_locked_first()). */
static void report_missed(void)
{
        uint8_t buf[TRACKLE_WIRE_HEADER_SIZE + 8];
        int n;

        S.missed += __atomic_exchange_n(&S.n_skipped, 0, __ATOMIC_RELAXED);
        if (S.missed == 0 || S.conn != CONN_OK)
                return;
        n = trackle_wire_missed(buf, sizeof(buf), S.missed);
        if (n > 0 && ((S.ring && ring_put(buf, (size_t)n)) || send_frame(buf, (size_t)n, -1)))
                S.missed = 0;
}

/* The lock, the per-process state and the session check, in one step for every helper (the
 * part after the real call passes the pid its part before found: one getpid less per call,
 * several µs on a VM), or false: not in a session, or the lock is taken. counted: a call that would
 * have recorded something, whose record is lost when it cannot get in (not the exec wrappers'
 * look-up of what to pass on, which has its fallback). */
static bool enter_pid_as(pid_t pid, bool counted)
{
        if (!lock_try(pid)) {
                if (counted && __atomic_load_n(&S.pid, __ATOMIC_RELAXED) == pid &&
                    __atomic_load_n(&S.session, __ATOMIC_RELAXED) == SESSION_IN)
                        __atomic_fetch_add(&S.n_skipped, 1, __ATOMIC_RELAXED);
                return false;
        }
        state_for(pid);
        if (__atomic_load_n(&S.sock_dropped, __ATOMIC_RELAXED))
                sock_recheck();
        if (!in_session_locked()) {
                lock_release();
                return false;
        }
        if (S.missed > 0 || __atomic_load_n(&S.n_skipped, __ATOMIC_RELAXED) > 0)
                report_missed();
        return true;
}

static bool enter_pid(pid_t pid)
{
        return enter_pid_as(pid, true);
}

static bool enter(TpPre *p)
{
        pid_t pid = cached_pid();

        if (p)
                p->pid = pid;
        return enter_pid(pid);
}

static TrackleStat wire_stat(const struct stat *st)
{
        return (TrackleStat){.valid = 1,
                             .mode = st->st_mode,
                             .uid = st->st_uid,
                             .gid = st->st_gid,
                             .size = (uint64_t)st->st_size};
}

/* No path buffer is free. One that this thread holds belongs to a wrapper that is gone if its
 * TpPre's frame is deeper in the thread's stack than p's (every wrapper still running in the
 * thread declared its TpPre in p's frame or in one of its callers', which are above it), or
 * is p's frame but the TpPre there no longer points at it (a later call reused the frame).
 * The wrapper left without returning (a siglongjmp() out of a signal handler that
 * interrupted the real call: a shell's ^C during an open of a FIFO, say), so its cleanup
 * never ran. Those buffers are free again. Not on an alternate signal stack, whose addresses
 * say nothing about the thread's own stack, nor on hppa, whose stacks grow up. (A coroutine
 * suspended inside a wrapper on a stack of its own below ours would lose its buffer this
 * way, and its event would name a wrong path: only once 32 buffers are taken.) A buffer held
 * by a thread that is gone is free again too: a thread cancelled in the real call of a
 * wrapper (open() is a cancellation point) dies without its cleanup. With the lock held. */
/* Whether the TpPre that took slot still points at it: slot->pre is in the frame the caller
 * runs in (the same frame address), so it is readable; a later call's object there, or
 * whatever else the frame now holds, does not. */
static bool pre_holds(const TpSlot *slot)
{
        char *abs;

        memcpy(&abs, (const char *)slot->pre + offsetof(TpPre, abs), sizeof(abs));
        return abs == slot->path;
}

static bool slot_reclaim(const TpPre *p)
{
        uint32_t used = __atomic_load_n(&S.slot_used, __ATOMIC_ACQUIRE), dead = 0;
        pid_t tid = thread_id();
        bool frames; /* whether this thread's frames can be compared with p's */
        int e = errno;
        stack_t ss;

#if defined(__hppa__)
        frames = false;
#else
        frames = syscall(SYS_sigaltstack, NULL, &ss) == 0 && !(ss.ss_flags & SS_ONSTACK);
#endif
        for (unsigned i = 0; i < TP_SLOTS; i++) {
                if (!(used & 1u << i))
                        continue;
                if (slots[i].tid == tid
                            ? frames && (slots[i].frame < p->frame ||
                                         (slots[i].frame == p->frame && !pre_holds(&slots[i])))
                            : syscall(SYS_tgkill, p->pid, slots[i].tid, 0) < 0 && errno == ESRCH)
                        dead |= 1u << i;
        }
        errno = e;
        if (dead)
                __atomic_fetch_and(&S.slot_used, ~dead, __ATOMIC_RELEASE);
        return dead != 0;
}

/* A path buffer for p, with the lock held; false (and counted) when none is free. */
static bool slot_take(TpPre *p)
{
        for (bool reclaimed = false;; reclaimed = true) {
                uint32_t used = __atomic_load_n(&S.slot_used, __ATOMIC_RELAXED);

                while (~used != 0) {
                        unsigned i = (unsigned)__builtin_ctz(~used);

                        if (__atomic_compare_exchange_n(&S.slot_used, &used, used | 1u << i, false,
                                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
                                slots[i].tid = thread_id();
                                slots[i].frame = p->frame;
                                slots[i].pre = (uintptr_t)(void *)p;
                                p->abs = slots[i].path;
                                return true;
                        }
                }
                if (reclaimed || !slot_reclaim(p))
                        break;
        }
        S.missed++;
        return false;
}

void tp_pre_done(TpPre *p)
{
        size_t i;

        if (!p->abs)
                return;
        i = (size_t)(p->abs - slots[0].path) / sizeof(TpSlot);
        p->abs = NULL;
        p->active = false;
        __atomic_fetch_and(&S.slot_used, ~(1u << i), __ATOMIC_RELEASE);
}

void tp_pre(TpPre *p, int dirfd, const char *path, int statflags, uint32_t before_op)
{
        bool must_exist = statflags & TP_MUST_EXIST, new_only = statflags & TP_NEW_ONLY,
             known_skip = statflags & TP_KNOWN_SKIP;

        statflags &= ~(TP_MUST_EXIST | TP_NEW_ONLY | TP_KNOWN_SKIP);
        p->active = p->exists = p->reported = false;
        if (!path || !enter(p))
                return;
        if ((p->abs || slot_take(p)) && abspath(dirfd, path, p->abs, TP_PATH_SIZE, true)) {
                /* dpkg's unlink and rmdir of each NAME.dpkg-tmp it linked, its utimensat of
                 * each NAME.dpkg-new it made, its rename of that: one fstatat less each */
                if (known_skip && seen_has(p->abs)) {
                        p->active = p->reported = true;
                        goto out;
                }
                /* A call that fails on a missing path (dpkg's rmdir of NAME.dpkg-new, rm -f)
                 * costs one fstatat and nothing else. */
                if (must_exist && fstatat(dirfd, path, &p->st, statflags) < 0)
                        goto out;
                p->active = true;
                p->exists =
                        !new_only && (must_exist || fstatat(dirfd, path, &p->st, statflags) == 0);
                if (before_op && p->exists && (S_ISREG(p->st.st_mode) || S_ISLNK(p->st.st_mode)))
                        send_before(before_op, dirfd, path, p->abs, &p->st);
        }
out:
        lock_release();
}

void tp_pre_open(TpPre *p, int dirfd, const char *path, int flags)
{
        int acc = flags & O_ACCMODE;
        bool write = acc == O_WRONLY || acc == O_RDWR || (flags & (O_TRUNC | O_APPEND));

        p->active = p->exists = p->reported = false;
        if (!path || (!write && !(flags & O_CREAT)) || (flags & O_TMPFILE) == O_TMPFILE)
                return;
        if (!enter(p))
                return;
        if ((!p->abs && !slot_take(p)) || !abspath(dirfd, path, p->abs, TP_PATH_SIZE, true))
                goto out;
        p->active = true;
        /* O_CREAT|O_EXCL succeeds only for a path that did not exist (a symlink included):
         * the open itself tells, one fstatat less per file that tar or dpkg creates. */
        if ((flags & O_CREAT) && (flags & O_EXCL))
                goto out;
        p->exists = fstatat(dirfd, path, &p->st, AT_SYMLINK_NOFOLLOW) == 0;
        if (!p->exists || !write)
                goto out;
        if (S_ISLNK(p->st.st_mode) && !(flags & O_NOFOLLOW)) {
                /* Writing through a symlink changes its target: record the target. */
                char *target = B.scratch;
                struct stat st;
                int fd = raw_open(dirfd, path, O_PATH | O_CLOEXEC);

                if (fd >= 0) {
                        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                            fd_path(fd, target, TP_PATH_SIZE) && !skipped(target)) {
                                send_before(flags & O_TRUNC ? TRACKLE_OP_TRUNCATE
                                                            : TRACKLE_OP_WRITE,
                                            AT_FDCWD, target, target, NULL);
                                p->reported = true;
                        }
                        raw_close(fd);
                }
        } else if (S_ISREG(p->st.st_mode) && p->st.st_size == 0 && !S.secure) {
                /* Empty: its stat is its whole state before, no need for trackled to read it
                 * while we wait (dpkg's lock files, a log rotated away). Not for a set-uid
                 * program: trackled reads its files itself. */
                if (!seen_before(p->abs)) {
                        TrackleStat before = wire_stat(&p->st);

                        send_async(trackle_wire_event(S.frame, sizeof(S.frame),
                                                      TRACKLE_OP_OPENED_EMPTY, &before, p->abs,
                                                      NULL));
                }
                p->reported = true;
        } else if (S_ISREG(p->st.st_mode)) {
                send_before(flags & O_TRUNC ? TRACKLE_OP_TRUNCATE : TRACKLE_OP_WRITE, dirfd, path,
                            p->abs, &p->st);
                p->reported = true;
        }
out:
        lock_release();
}

void tp_pre_fd(TpPre *p, int fd)
{
        p->active = p->exists = p->reported = false;
        if (!enter(p))
                return;
        if ((p->abs || slot_take(p)) && fd_path(fd, p->abs, TP_PATH_SIZE) && !skipped(p->abs)) {
                p->active = true;
                p->exists = fstat(fd, &p->st) == 0;
        }
        lock_release();
}

void tp_post(const TpPre *p, uint32_t op, const char *path2)
{
        TrackleStat before = {0};

        if (!p->active || !enter_pid(p->pid))
                return;
        if (p->exists)
                before = wire_stat(&p->st);
        /* A path this process just created had no content before the session that trackled
         * does not know of (the event says "absent", or an earlier BEFORE of the session
         * won): a later unlink or write of it needs no BEFORE. dpkg removes each of its
         * NAME.dpkg-tmp backup links that way, one frame with a descriptor each. */
        if (op == TRACKLE_OP_CREATED || op == TRACKLE_OP_LINK || op == TRACKLE_OP_SYMLINK ||
            op == TRACKLE_OP_MKNOD)
                (void)seen_before(p->abs);
        else if (op == TRACKLE_OP_RENAMED && path2 && path2[0] == '/')
                (void)seen_before(path2); /* replaced: its BEFORE went; else it was absent */
        send_async(trackle_wire_event(S.frame, sizeof(S.frame), op, &before, p->abs, path2));
        lock_release();
}

void tp_post_created(int dirfd, const char *path, bool dir)
{
        TP_PRE(p);

        tp_pre(&p, dirfd, path, TP_NEW_ONLY, 0); /* made by the call that just returned */
        tp_post(&p, dir ? TRACKLE_OP_MKDIR : TRACKLE_OP_CREATED, NULL);
}

/* Descriptors of files whose state before trackled has (see tp_opened()), by number, so that
 * the metadata calls tar and dpkg make on each file they write (fchown, fchmod, futimens)
 * cost no system call. An entry is true while that descriptor is the file it was opened on:
 * every close of it goes through a wrapper (close, fclose, freopen, dup2, dup3, close_range,
 * closefrom), every wrapped open that gets the number sets or clears it, and stdin, stdout
 * and stderr, which glibc itself replaces (daemon(), login_tty()), are never in it. Only a
 * raw close system call goes unseen, like every raw system call (trackle(8), bypasses).
 *
 * A child of fork() has the same descriptors and a copy of the table: both stay true. Only
 * the process this memory belongs to sets entries (S.image_pid: set when the image starts, and
 * in the child of every fork() by the atfork handler; a child made without the handler,
 * _Fork or a raw clone, never sets one). A child of vfork() shares our memory but not our
 * descriptors: it passes for its parent (cached_pid()), so what it sets is dropped when it
 * execs or exits (tp_vfork_check()). exec() empties the table. Read and written without the
 * lock: a race of the program's own threads on one number at worst costs one metadata
 * event. */
#define TP_FDTAB 4096
static uint8_t fdtab[TP_FDTAB];

void tp_opened(const TpPre *p, int fd)
{
        /* whatever had this number before is gone (closed past the wrappers, at worst) */
        tp_fd_closed(fd);
        if (fd < 3 || fd >= TP_FDTAB)
                return;
        /* Set only for a regular file: one this call created (O_CREAT of a missing path), or
         * the existing one a BEFORE went for (a symlink's target included). */
        if (!p->active || !p->reported ||
            p->pid != __atomic_load_n(&S.image_pid, __ATOMIC_RELAXED) ||
            (p->exists && !S_ISREG(p->st.st_mode) && !S_ISLNK(p->st.st_mode)))
                return;
        if (!__atomic_load_n(&S.fdtab_used, __ATOMIC_RELAXED))
                __atomic_store_n(&S.fdtab_used, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&fdtab[fd], 1, __ATOMIC_RELAXED);
}

bool tp_fd_reported(int fd)
{
        return __atomic_load_n(&S.fdtab_used, __ATOMIC_RELAXED) && fd >= 3 && fd < TP_FDTAB &&
               __atomic_load_n(&fdtab[fd], __ATOMIC_RELAXED);
}

/* Untouched (no page of it faulted in) in a process that never set an entry. */
void tp_fd_closed(int fd)
{
        if (fd < 0)
                return;
        if (fd + 1 == __atomic_load_n(&S.sock_fd1, __ATOMIC_RELAXED))
                __atomic_store_n(&S.sock_dropped, 1, __ATOMIC_RELAXED);
        for (int i = 0; i < TP_DIRCACHE; i++)
                if (__atomic_load_n(&S.dircache_fd1[i], __ATOMIC_RELAXED) == fd + 1)
                        __atomic_store_n(&S.dircache_fd1[i], 0, __ATOMIC_RELAXED);
        if (__atomic_load_n(&S.fdtab_used, __ATOMIC_RELAXED) && fd >= 3 && fd < TP_FDTAB &&
            __atomic_load_n(&fdtab[fd], __ATOMIC_RELAXED))
                __atomic_store_n(&fdtab[fd], 0, __ATOMIC_RELAXED);
}

void tp_fds_closed(unsigned first, unsigned last)
{
        int s1 = __atomic_load_n(&S.sock_fd1, __ATOMIC_RELAXED);

        if (s1 > 0 && (unsigned)s1 - 1 >= first && (unsigned)s1 - 1 <= last)
                __atomic_store_n(&S.sock_dropped, 1, __ATOMIC_RELAXED);
        for (int i = 0; i < TP_DIRCACHE; i++) {
                int d1 = __atomic_load_n(&S.dircache_fd1[i], __ATOMIC_RELAXED);

                if (d1 > 0 && (unsigned)d1 - 1 >= first && (unsigned)d1 - 1 <= last)
                        __atomic_store_n(&S.dircache_fd1[i], 0, __ATOMIC_RELAXED);
        }
        if (!__atomic_load_n(&S.fdtab_used, __ATOMIC_RELAXED) || first >= TP_FDTAB || first > last)
                return;
        if (first < 3)
                first = 3;
        if (last >= TP_FDTAB)
                last = TP_FDTAB - 1;
        for (unsigned fd = first; fd <= last; fd++)
                if (__atomic_load_n(&fdtab[fd], __ATOMIC_RELAXED))
                        __atomic_store_n(&fdtab[fd], 0, __ATOMIC_RELAXED);
}

bool tp_fd_cache_used(void)
{
        if (__atomic_load_n(&S.fdtab_used, __ATOMIC_RELAXED))
                return true;
        for (int i = 0; i < TP_DIRCACHE; i++)
                if (__atomic_load_n(&S.dircache_fd1[i], __ATOMIC_RELAXED))
                        return true;
        return false;
}

/* A child of vfork() about to exec or exit: what it cached under its own descriptors'
 * numbers in the memory it shares with its parent goes (the parent loses no record, only the
 * shortcuts). Returns the real pid. */
pid_t tp_vfork_check(void)
{
        PidPage *pp = __atomic_load_n(&S.pidpage, __ATOMIC_ACQUIRE);
        pid_t pid = getpid(), cached;

        if (!pp || (cached = __atomic_load_n(&pp->pid, __ATOMIC_RELAXED)) <= 0 || cached == pid)
                return pid;
        if (__atomic_load_n(&S.fdtab_used, __ATOMIC_RELAXED))
                for (int fd = 0; fd < TP_FDTAB; fd++)
                        __atomic_store_n(&fdtab[fd], 0, __ATOMIC_RELAXED);
        tp_dirs_moved();
        return pid;
}

/* A child of vfork() runs in its parent's memory until it execs: S is its parent's, and what
 * the child's exec wrapper does to it as a process of its own (state_for(), a connection of
 * its own when it cannot use its parent's) would be found by the parent when it resumes (a
 * second connection, the first one left open and unused). So such a child holds its parent's
 * state aside and gives it back before the exec; its own socket goes with the exec
 * (SOCK_CLOEXEC), or with the child if the exec fails. */
typedef struct VforkHold {
        bool held;
        int sock_fd1, sock_dropped;
        uint8_t head[offsetof(TpState, info_done)];
} VforkHold;

static void vfork_hold(VforkHold *h, pid_t pid)
{
        PidPage *pp = __atomic_load_n(&S.pidpage, __ATOMIC_ACQUIRE);
        pid_t cached;

        h->held = pp && (cached = __atomic_load_n(&pp->pid, __ATOMIC_RELAXED)) > 0 && cached != pid;
        if (!h->held)
                return;
        h->sock_fd1 = __atomic_load_n(&S.sock_fd1, __ATOMIC_RELAXED);
        h->sock_dropped = __atomic_load_n(&S.sock_dropped, __ATOMIC_RELAXED);
        memcpy(h->head, &S, sizeof(h->head));
        S.missed = 0; /* the parent's to report, not the child's */
}

static void vfork_give_back(const VforkHold *h)
{
        if (!h->held)
                return;
        memcpy(&S, h->head, sizeof(h->head));
        __atomic_store_n(&S.sock_fd1, h->sock_fd1, __ATOMIC_RELAXED);
        __atomic_store_n(&S.sock_dropped, h->sock_dropped, __ATOMIC_RELAXED);
}

/* The working directory, for an EXEC frame: in S.cwd when it fits (the page the frame is
 * built in), else in B.cwd; "" if unknown. Called with the lock held. */
static const char *cwd_now(void)
{
        if (getcwd(S.cwd, sizeof(S.cwd)))
                return S.cwd;
        if (errno == ERANGE && getcwd(B.cwd, sizeof(B.cwd)))
                return B.cwd;
        return "";
}

/* A child that has made no call of its own yet (S is still its parent's: a copy after fork(),
 * the same memory after vfork()) sends its EXEC frame on its parent's connection, flagged
 * FORKED and with its own pid, instead of opening one of its own and waiting for the answer
 * to its HELLO: the parent's connection is known to trackled already, and what it carries
 * counts even if both processes are gone before trackled reads it. Two processes then write
 * one stream socket; a frame sent in one piece is never split or interleaved when it fits in
 * half the socket's send buffer (Linux queues it as one skb, or nothing: EAGAIN), and no
 * frame of the library is larger than 32 KiB (trackle_wire_exec() keeps EXEC frames to
 * that). Any doubt (the number is no longer that socket, a small send buffer, a full one):
 * false, and the child connects itself. */
static bool exec_on_parent(pid_t pid, uint32_t flags, const char *file, char *const argv[])
{
        socklen_t sl = sizeof(int);
        bool sent = false;
        int n, sndbuf = 0;
        ssize_t w;

        if (!lock_try(pid))
                return false;
        if (S.pid == 0 || S.pid == pid || S.conn != CONN_OK || S.session != SESSION_IN ||
            S.fd < 0 || __atomic_load_n(&S.sock_dropped, __ATOMIC_RELAXED))
                goto out;
        if (!sock_still_ours() || getsockopt(S.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) < 0)
                goto out;
        n = trackle_wire_exec(S.frame, sizeof(S.frame), (uint32_t)getuid(), (uint32_t)geteuid(),
                              (uint32_t)pid, flags | TRACKLE_EXEC_FORKED, cwd_now(), file, argv);
        /* Every frame of the parent must go in one piece too, not only this one: the largest
         * (an EXEC frame) must fit in half the send buffer. */
        if (n <= 0 || TRACKLE_WIRE_EXEC_FRAME_MAX + 64 > (size_t)sndbuf / 2)
                goto out;
        do
                w = syscall(SYS_sendto, S.fd, S.frame, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL, NULL,
                            0);
        while (w < 0 && errno == EINTR);
        sent = w > 0; /* all of it: one piece or nothing */
out:
        lock_release();
        return sent;
}

void tp_exec_frame(uint32_t flags, const char *file, char *const argv[])
{
        /* the real pid: the EXEC frame is the child's, a child of vfork() included */
        pid_t pid = tp_vfork_check();
        VforkHold h;

        if (exec_on_parent(pid, flags, file, argv))
                return;
        vfork_hold(&h, pid);
        if (enter_pid(pid)) {
                send_async(trackle_wire_exec(S.frame, sizeof(S.frame), (uint32_t)getuid(),
                                             (uint32_t)geteuid(), (uint32_t)S.pid, flags, cwd_now(),
                                             file, argv));
                lock_release();
        }
        vfork_give_back(&h);
}

static void preload_value(void)
{
        Dl_info di;
        struct stat a, b;
        size_t n;

        memcpy(B.preload, TRACKLE_PRELOAD_NAME, sizeof(TRACKLE_PRELOAD_NAME));
        /* Set-uid callers, and the installed library, re-add the bare name only; a library
         * loaded by path (a build tree: trackle shell --preload PATH) re-adds that path. */
        if (S.secure || dladdr((void *)&preload_value, &di) == 0 || !di.dli_fname ||
            di.dli_fname[0] != '/')
                return;
        if (stat(di.dli_fname, &a) == 0 && stat(TRACKLE_PRELOAD_PATH, &b) == 0 &&
            a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                return;
        n = strlen(di.dli_fname);
        if (n < sizeof(B.preload) && !strpbrk(di.dli_fname, " :"))
                memcpy(B.preload, di.dli_fname, n + 1);
}

/* Published once per process for exec wrappers that get no lock (a signal handler inside the
 * library, a holder passed over): propagation must not depend on winning the lock. */
static char published_preload[TP_PATH_SIZE];

/* With the lock held, info_done: S.id and B.preload for exec wrappers that get no lock.
 * Written when they change only, and before every fork() (atfork_prepare()): a child of fork()
 * has its parent's, the same (a child is in its parent's session, and the same image), and
 * writing them between fork and exec would cost it a page fault or two. */
static void publish_locked(void)
{
        if (S.published && S.published_session == S.id && strcmp(published_preload, B.preload) == 0)
                return;
        __atomic_store_n(&S.published, false, __ATOMIC_RELAXED);
        S.published_session = S.id;
        memcpy(published_preload, B.preload, strlen(B.preload) + 1);
        __atomic_store_n(&S.published, true, __ATOMIC_RELEASE);
}

bool tp_exec_info(TpExecInfo *ret)
{
        pid_t pid = tp_vfork_check();
        VforkHold h;

        vfork_hold(&h, pid);
        if (!enter_pid_as(pid, false)) {
                vfork_give_back(&h);
                if (!__atomic_load_n(&S.published, __ATOMIC_ACQUIRE))
                        return false;
                ret->session = S.published_session;
                ret->preload = published_preload;
                return true;
        }
        if (!S.info_done) {
                preload_value();
                S.info_done = true;
        }
        publish_locked();
        ret->session = S.id;
        ret->preload = B.preload; /* written once per image, before info_done */
        lock_release();
        vfork_give_back(&h);
        return true;
}
