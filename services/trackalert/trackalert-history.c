/* trackalert-history.c - the report history: one writer thread owns the read-write connection
 * and commits what the request threads queue, in batches; each Lua state reads through a
 * read-only connection of its own (WAL lets them run beside the writer). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "state.h"
#include "trackalert-history.h"
#include "trackalert-ids.h"
#include "trackalert-stats.h"
#include "utf8.h"

/* The comments line up with the columns. */
/* clang-format off */
const char *const ta_history_migrations[] = {
        /* 0 -> 1 */
        "CREATE TABLE reports ("
        "  time REAL NOT NULL,"     /* unix seconds when trackalert received the report */
        "  login TEXT NOT NULL,"
        "  addr BLOB NOT NULL,"     /* 16 bytes, IPv4 as ::ffff:a.b.c.d, sorts by address */
        "  success INTEGER NOT NULL,"
        "  protocol TEXT NOT NULL,"
        "  device_id TEXT NOT NULL,"
        "  device_family TEXT,"
        "  country TEXT,"           /* ISO code when a GeoIP2 database is configured */
        "  t REAL NOT NULL"         /* the client's own time stamp */
        ");"
        "CREATE INDEX reports_time ON reports(time);"
        "CREATE INDEX reports_login ON reports(login, time);"
        "CREATE INDEX reports_addr ON reports(addr, time);",
        /* 1 -> 2: three indexes on every report made the writer the bottleneck of the daemon.
         * Expiry goes by rowid (reports are appended in time order), "failures of a login"
         * needs only the failures indexed, and "has this login used this address / country /
         * device" is answered by login_seen, upserted once per batch per distinct value. */
        "DROP INDEX reports_time;"
        "DROP INDEX reports_login;"
        "CREATE INDEX reports_login_failed ON reports(login, time) WHERE success = 0;"
        "CREATE TABLE login_seen ("
        "  login TEXT NOT NULL,"
        "  kind INTEGER NOT NULL,"  /* 1 address (16-byte key), 2 country, 3 device_id */
        "  value BLOB NOT NULL,"
        "  last REAL NOT NULL,"     /* the time of the latest such report, for the retention */
        "  PRIMARY KEY (login, kind, value)"
        ") WITHOUT ROWID;"
        "INSERT INTO login_seen SELECT login, 1, addr, max(time) FROM reports "
        "  GROUP BY login, addr;"
        "INSERT INTO login_seen SELECT login, 2, country, max(time) FROM reports "
        "  WHERE country IS NOT NULL GROUP BY login, country;"
        "INSERT INTO login_seen SELECT login, 3, device_id, max(time) FROM reports "
        "  WHERE device_id != '' GROUP BY login, device_id;",
        /* 2 -> 3: the index of every report by address was half of the writer's work. The
         * address questions are answered from addr_second, upserted once per batch per
         * distinct (address, second, login): as many rows as reports when every report comes
         * from another address, one a second for an address that reports all the time. */
        "DROP INDEX reports_addr;"
        "CREATE TABLE addr_second ("
        "  addr BLOB NOT NULL,"     /* as in reports */
        "  second INTEGER NOT NULL," /* the reports received in [second, second + 1) */
        "  login TEXT NOT NULL,"
        "  reports INTEGER NOT NULL,"
        "  failures INTEGER NOT NULL,"
        "  UNIQUE (addr, second, login)" /* a rowid table: rows come in time order, expiry by rowid */
        ");"
        "INSERT INTO addr_second (addr, second, login, reports, failures) "
        "  SELECT addr, CAST(time AS INTEGER) AS s, login, count(*), sum(success = 0) "
        "  FROM reports GROUP BY addr, s, login ORDER BY s;",
};

enum { SEEN_ADDR = 1, SEEN_COUNTRY = 2, SEEN_DEVICE = 3 };
/* clang-format on */
const size_t ta_history_n_migrations = ELEMENTSOF(ta_history_migrations);

enum { REC_LOGIN, REC_PROTOCOL, REC_DEVICE_ID, REC_FAMILY, REC_COUNTRY, _REC_STR_MAX };

/* One report as the request threads queue it: a fixed header and the strings behind it, packed
 * into a byte buffer, so that queueing costs no allocation and the writer frees nothing. */
typedef struct Rec {
        double when, t;
        uint8_t addr[16];
        uint32_t len[_REC_STR_MAX]; /* REC_NULL: no value (SQL NULL) */
        uint8_t success;
} Rec;

#define REC_NULL UINT32_MAX
#define REC_ALIGN 8

typedef struct RecBuf {
        uint8_t *data;
        size_t len, allocated;
        size_t n; /* records */
} RecBuf;

/* What a batch has seen, each (login, kind, value) once with its latest time. */
typedef struct Seen {
        const char *login, *value;
        uint32_t login_len, value_len;
        uint64_t hash;
        double last;
        int kind; /* 0: free slot */
} Seen;

/* What a batch counted per (address, second, login). */
typedef struct AddrSecond {
        uint8_t addr[16];
        int64_t second;
        const char *login;
        uint32_t login_len;
        uint64_t hash;
        uint32_t reports, failures;
        bool used;
} AddrSecond;

/* Expiry of a table whose rows are appended in time order: the rowid bounds, the row at or
 * after a rowid with its time, and the deletion below a rowid. */
typedef struct Expiry {
        sqlite3_stmt *bounds, *row_at, *delete;
} Expiry;

enum { EXPIRY_REPORTS, EXPIRY_ADDR_SECOND, _EXPIRY_MAX };

/* An open-addressing table of a batch's aggregates: at most half full, and the slots in use
 * are listed so that writing and clearing it costs what the batch holds, not the table's size. */
typedef struct Aggregate {
        void *slots;
        size_t elem_size, size;          /* size: a power of two */
        size_t taken_offset, taken_size; /* the member that is zero in a free slot */
        uint32_t *used;
        size_t n_used;
} Aggregate;

struct TaHistory {
        char *path;
        sqlite3 *db;
        sqlite3_stmt *insert, *upsert_seen, *expire_seen;
        Expiry expiry[_EXPIRY_MAX];
        uint64_t retention_sec;
        sqlite3_stmt *upsert_addr;
        /* owned by the writer thread */
        Aggregate seen;       /* Seen */
        Aggregate addr_count; /* AddrSecond */

        /* Producers append to *fill; the writer swaps it with the empty spare and writes the
         * full one outside the lock. */
        pthread_mutex_t lock;
        pthread_cond_t cond, done_cond, room_cond;
        RecBuf bufs[2];
        /* CLOCK_MONOTONIC µs when the oldest report not yet committed was queued: of the
         * batch being written (0: none) and of the one filling (0: empty) */
        uint64_t writing_since, fill_since;
        bool failing; /* the last commit failed, the writer retries */
        RecBuf *fill;
        size_t max_records, max_bytes;
        uint64_t enqueued, committed; /* sequence numbers for ta_history_sync() */
        bool stop, flush_now, writing;
        pthread_t thread;
        bool thread_started;
        uint64_t last_expire_usec;
        bool expiring; /* an expiry run is going on, chunk by chunk */
        double expire_cutoff;
        uint64_t expired;

        TaHistoryCounters counters;
};

static size_t rec_align(size_t n)
{
        return (n + REC_ALIGN - 1) & ~(size_t)(REC_ALIGN - 1);
}

static void bind_str(sqlite3_stmt *st, int col, const char *s, uint32_t len)
{
        if (len == REC_NULL)
                sqlite3_bind_null(st, col);
        else
                sqlite3_bind_text(st, col, s, (int)len, SQLITE_STATIC);
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
        const uint8_t *b = p;

        /* FNV-1a */
        for (size_t i = 0; i < n; i++)
                h = (h ^ b[i]) * 0x100000001b3ULL;
        return h;
}

/* Makes room for n more entries in an empty table. */
static int aggregate_reserve(Aggregate *a, size_t n)
{
        size_t need = 16;
        void *p;
        uint32_t *u;

        while (need < n * 2)
                need <<= 1;
        if (need <= a->size)
                return 0;
        p = realloc(a->slots, need * a->elem_size);
        if (!p)
                return -ENOMEM;
        a->slots = p;
        u = realloc(a->used, need * sizeof(uint32_t));
        if (!u)
                return -ENOMEM;
        a->used = u;
        memset(a->slots, 0, need * a->elem_size);
        a->size = need;
        return 0;
}

/* Frees the slots in use for the next batch. */
static void aggregate_clear(Aggregate *a)
{
        for (size_t i = 0; i < a->n_used; i++)
                memset((uint8_t *)a->slots + a->used[i] * a->elem_size + a->taken_offset, 0,
                       a->taken_size);
        a->n_used = 0;
}

static void aggregate_free(Aggregate *a)
{
        free(a->slots);
        free(a->used);
}

static void seen_add(TaHistory *h, const char *login, uint32_t login_len, int kind,
                     const char *value, uint32_t value_len, double when)
{
        uint64_t hv =
                hash_bytes(hash_bytes(0xcbf29ce484222325ULL ^ (uint64_t)kind, login, login_len),
                           value, value_len);
        Seen *t = h->seen.slots;
        size_t mask = h->seen.size - 1;

        for (size_t i = hv & mask;; i = (i + 1) & mask) {
                Seen *e = &t[i];

                if (e->kind == 0) {
                        *e = (Seen){login, value, login_len, value_len, hv, when, kind};
                        h->seen.used[h->seen.n_used++] = (uint32_t)i;
                        return;
                }
                if (e->hash == hv && e->kind == kind && e->login_len == login_len &&
                    e->value_len == value_len && memcmp(e->login, login, login_len) == 0 &&
                    memcmp(e->value, value, value_len) == 0) {
                        e->last = MAX(e->last, when);
                        return;
                }
        }
}

static void addr_count_add(TaHistory *h, const uint8_t addr[16], double when, const char *login,
                           uint32_t login_len, bool success)
{
        int64_t second = (int64_t)when;
        uint64_t hv = hash_bytes(
                hash_bytes(hash_bytes(0xcbf29ce484222325ULL, addr, 16), &second, sizeof(second)),
                login, login_len);
        AddrSecond *t = h->addr_count.slots;
        size_t mask = h->addr_count.size - 1;

        for (size_t i = hv & mask;; i = (i + 1) & mask) {
                AddrSecond *e = &t[i];

                if (!e->used) {
                        *e = (AddrSecond){.second = second,
                                          .login = login,
                                          .login_len = login_len,
                                          .hash = hv,
                                          .used = true};
                        memcpy(e->addr, addr, 16);
                        h->addr_count.used[h->addr_count.n_used++] = (uint32_t)i;
                }
                if (e->hash == hv && e->second == second && e->login_len == login_len &&
                    memcmp(e->addr, addr, 16) == 0 && memcmp(e->login, login, login_len) == 0) {
                        e->reports++;
                        e->failures += !success;
                        return;
                }
        }
}

static int write_aggregates(TaHistory *h)
{
        const Seen *seen = h->seen.slots;
        const AddrSecond *ac = h->addr_count.slots;
        int r;

        for (size_t i = 0; i < h->seen.n_used; i++) {
                const Seen *e = &seen[h->seen.used[i]];

                sqlite3_bind_text(h->upsert_seen, 1, e->login, (int)e->login_len, SQLITE_STATIC);
                sqlite3_bind_int(h->upsert_seen, 2, e->kind);
                if (e->kind == SEEN_ADDR)
                        sqlite3_bind_blob(h->upsert_seen, 3, e->value, (int)e->value_len,
                                          SQLITE_STATIC);
                else
                        sqlite3_bind_text(h->upsert_seen, 3, e->value, (int)e->value_len,
                                          SQLITE_STATIC);
                sqlite3_bind_double(h->upsert_seen, 4, e->last);
                r = state_step_reset(h->upsert_seen);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < h->addr_count.n_used; i++) {
                const AddrSecond *e = &ac[h->addr_count.used[i]];

                sqlite3_bind_blob(h->upsert_addr, 1, e->addr, 16, SQLITE_STATIC);
                sqlite3_bind_int64(h->upsert_addr, 2, e->second);
                sqlite3_bind_text(h->upsert_addr, 3, e->login, (int)e->login_len, SQLITE_STATIC);
                sqlite3_bind_int64(h->upsert_addr, 4, e->reports);
                sqlite3_bind_int64(h->upsert_addr, 5, e->failures);
                r = state_step_reset(h->upsert_addr);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_batch(TaHistory *h, const RecBuf *b)
{
        const uint8_t *p = b->data;
        int r, rc;

        /* up to three login_seen entries and one address count per report */
        aggregate_clear(&h->seen);
        aggregate_clear(&h->addr_count);
        r = aggregate_reserve(&h->seen, b->n * 3);
        if (r >= 0)
                r = aggregate_reserve(&h->addr_count, b->n);
        if (r < 0)
                return r;
        r = state_exec(h->db, "BEGIN");
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n; i++) {
                const Rec *rec = (const Rec *)p;
                const char *s[_REC_STR_MAX];
                const char *q = (const char *)(p + sizeof(Rec));

                for (size_t j = 0; j < _REC_STR_MAX; j++) {
                        s[j] = q;
                        if (rec->len[j] != REC_NULL)
                                q += rec->len[j];
                }
                sqlite3_reset(h->insert);
                sqlite3_bind_double(h->insert, 1, rec->when);
                bind_str(h->insert, 2, s[REC_LOGIN], rec->len[REC_LOGIN]);
                sqlite3_bind_blob(h->insert, 3, rec->addr, 16, SQLITE_STATIC);
                sqlite3_bind_int(h->insert, 4, rec->success);
                bind_str(h->insert, 5, s[REC_PROTOCOL], rec->len[REC_PROTOCOL]);
                bind_str(h->insert, 6, s[REC_DEVICE_ID], rec->len[REC_DEVICE_ID]);
                bind_str(h->insert, 7, s[REC_FAMILY], rec->len[REC_FAMILY]);
                bind_str(h->insert, 8, s[REC_COUNTRY], rec->len[REC_COUNTRY]);
                sqlite3_bind_double(h->insert, 9, rec->t);
                rc = sqlite3_step(h->insert);
                if (rc != SQLITE_DONE) {
                        r = state_errno(rc) ?: -EIO;
                        sqlite3_reset(h->insert);
                        (void)state_exec(h->db, "ROLLBACK");
                        return r;
                }
                addr_count_add(h, rec->addr, rec->when, s[REC_LOGIN], rec->len[REC_LOGIN],
                               rec->success);
                seen_add(h, s[REC_LOGIN], rec->len[REC_LOGIN], SEEN_ADDR, (const char *)rec->addr,
                         16, rec->when);
                if (rec->len[REC_COUNTRY] != REC_NULL && rec->len[REC_COUNTRY] > 0)
                        seen_add(h, s[REC_LOGIN], rec->len[REC_LOGIN], SEEN_COUNTRY, s[REC_COUNTRY],
                                 rec->len[REC_COUNTRY], rec->when);
                if (rec->len[REC_DEVICE_ID] > 0)
                        seen_add(h, s[REC_LOGIN], rec->len[REC_LOGIN], SEEN_DEVICE,
                                 s[REC_DEVICE_ID], rec->len[REC_DEVICE_ID], rec->when);
                p += rec_align((size_t)(q - (const char *)p));
        }
        sqlite3_reset(h->insert);
        sqlite3_clear_bindings(h->insert);
        r = write_aggregates(h);
        if (r < 0) {
                (void)state_exec(h->db, "ROLLBACK");
                return r;
        }
        r = state_exec(h->db, "COMMIT");
        if (r < 0)
                (void)state_exec(h->db, "ROLLBACK");
        return r;
}

/* The first rowid whose row is not older than cutoff, by bisection: reports and address counts
 * are appended in arrival order, so their time grows with the rowid (after the clock steps back,
 * expiry is off by at most the step). */
static int first_rowid_since(const Expiry *x, double cutoff, int64_t *ret_first, int64_t *ret_min)
{
        int64_t lo, hi;
        int rc;

        rc = sqlite3_step(x->bounds);
        if (rc != SQLITE_ROW) {
                sqlite3_reset(x->bounds);
                return state_errno(rc) ?: -EIO;
        }
        if (sqlite3_column_type(x->bounds, 0) == SQLITE_NULL) {
                sqlite3_reset(x->bounds);
                *ret_first = *ret_min = 0;
                return 0;
        }
        lo = *ret_min = sqlite3_column_int64(x->bounds, 0);
        hi = sqlite3_column_int64(x->bounds, 1) + 1;
        sqlite3_reset(x->bounds);
        while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2, rid;
                double t;

                sqlite3_bind_int64(x->row_at, 1, mid);
                rc = sqlite3_step(x->row_at);
                if (rc != SQLITE_ROW) {
                        sqlite3_reset(x->row_at);
                        return state_errno(rc) ?: -EIO;
                }
                rid = sqlite3_column_int64(x->row_at, 0);
                t = sqlite3_column_double(x->row_at, 1);
                sqlite3_reset(x->row_at);
                if (t >= cutoff)
                        hi = mid;
                else
                        lo = rid + 1;
        }
        *ret_first = lo;
        return 0;
}

/* Deletes at most TA_HISTORY_EXPIRE_CHUNK rows per transaction, so that the writer never holds
 * the database for long: reports first, then address counts, then what logins were seen with;
 * returns 1 if there is more to delete. */
static int expire_chunk(TaHistory *h, double cutoff, uint64_t *deleted)
{
        for (size_t i = 0; i < _EXPIRY_MAX; i++) {
                const Expiry *x = &h->expiry[i];
                int64_t first = 0, min = 0;
                int r;

                r = first_rowid_since(x, cutoff, &first, &min);
                if (r < 0)
                        return r;
                if (first <= min)
                        continue;
                sqlite3_bind_int64(x->delete, 1, MIN(first, min + TA_HISTORY_EXPIRE_CHUNK));
                r = state_step_reset(x->delete);
                if (r < 0)
                        return r;
                if (i == EXPIRY_REPORTS)
                        *deleted += (uint64_t)sqlite3_changes(h->db);
                return 1;
        }
        sqlite3_bind_double(h->expire_seen, 1, cutoff);
        return state_step_reset(h->expire_seen);
}

int ta_history_expire(TaHistory *h, uint64_t *ret_deleted)
{
        double cutoff = (double)ta_now_realtime_usec() / 1e6 - (double)h->retention_sec;
        uint64_t deleted = 0;
        int r;

        if (h->retention_sec == 0)
                return 0;
        do
                r = expire_chunk(h, cutoff, &deleted);
        while (r > 0);
        if (ret_deleted)
                *ret_deleted = deleted;
        return r;
}

static uint64_t timespec_usec(const struct timespec *ts)
{
        return (uint64_t)ts->tv_sec * 1000000ULL + (uint64_t)ts->tv_nsec / 1000ULL;
}

static struct timespec usec_timespec(uint64_t usec)
{
        return (struct timespec){.tv_sec = (time_t)(usec / 1000000ULL),
                                 .tv_nsec = (long)(usec % 1000000ULL) * 1000L};
}

static uint64_t now_cond_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return timespec_usec(&ts);
}

/* Once an hour, a chunk at a time between batches. */
static void expire_now_and_then(TaHistory *h)
{
        int r;

        if (h->retention_sec == 0)
                return;
        if (!h->expiring) {
                if (ta_now_usec() - h->last_expire_usec < 3600ULL * 1000000ULL)
                        return;
                h->last_expire_usec = ta_now_usec();
                h->expire_cutoff = (double)ta_now_realtime_usec() / 1e6 - (double)h->retention_sec;
                h->expired = 0;
                h->expiring = true;
        }
        r = expire_chunk(h, h->expire_cutoff, &h->expired);
        if (r > 0)
                return;
        h->expiring = false;
        if (r < 0)
                log_warning_errno(r, "Failed to expire old reports, ignoring: %m");
        else if (h->expired > 0)
                log_info("Expired %llu reports older than the retention period.",
                         (unsigned long long)h->expired);
}

/* Nothing acknowledged is dropped: a batch that cannot be committed (a full disk, an I/O
 * error, a database locked by someone else) is kept and retried every TA_HISTORY_RETRY_USEC
 * while the request threads go on queueing (and wait, or are refused, once the queue is full or
 * stale: see ta_history_wait_room()). At stop the retries end after TA_HISTORY_STOP_RETRY_USEC
 * and what is still not stored is counted as failed and logged. Called without the lock. */
static void write_batch_retrying(TaHistory *h, RecBuf *b, RateLimit *fail_log)
{
        uint64_t stop_deadline = 0;
        int r;

        for (;;) {
                bool stopping;

                r = write_batch(h, b);
                if (r >= 0)
                        break;
                __atomic_add_fetch(&h->counters.write_errors, 1, __ATOMIC_RELAXED);
                pthread_mutex_lock(&h->lock);
                h->failing = true;
                stopping = h->stop;
                if (stopping && stop_deadline == 0)
                        stop_deadline = now_cond_usec() + TA_HISTORY_STOP_RETRY_USEC;
                if (stopping && now_cond_usec() >= stop_deadline) {
                        pthread_mutex_unlock(&h->lock);
                        log_fields_internal(LOG_ERR, r, __FILE__, __LINE__, __func__,
                                            TRACKALERT_MID_HISTORY_DROPPED, NULL, 0,
                                            "Failed to store %zu reports in the history at stop, "
                                            "they are lost: %m",
                                            b->n);
                        __atomic_add_fetch(&h->counters.failed, b->n, __ATOMIC_RELAXED);
                        goto done;
                }
                if (ratelimit_below(fail_log, ta_now_usec(), NULL))
                        log_fields_internal(LOG_ERR, r, __FILE__, __LINE__, __func__,
                                            TRACKALERT_MID_HISTORY_DROPPED, NULL, 0,
                                            "Failed to store %zu reports in the history, keeping "
                                            "them and retrying: %m",
                                            b->n);
                {
                        struct timespec ts = usec_timespec(
                                now_cond_usec() +
                                (stopping ? TA_HISTORY_RETRY_USEC / 10 : TA_HISTORY_RETRY_USEC));

                        /* woken early by the stop only */
                        while (!h->stop || stopping)
                                if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) == ETIMEDOUT)
                                        break;
                }
                pthread_mutex_unlock(&h->lock);
        }
        __atomic_add_fetch(&h->counters.written, b->n, __ATOMIC_RELAXED);
        pthread_mutex_lock(&h->lock);
        if (h->failing)
                log_info("Storing reports in the history works again.");
        h->failing = false;
        pthread_mutex_unlock(&h->lock);
done:
        b->len = b->n = 0;
}

/* Commits at most every TA_HISTORY_FLUSH_USEC (sooner when a batch is full, on sync and at
 * stop): one transaction per batch, and the request threads wake the writer about once per
 * batch instead of once per report. */
static void *writer(void *userdata)
{
        TaHistory *h = userdata;
        RateLimit fail_log = {.interval_usec = 60ULL * 1000000ULL, .burst = 3};

        pthread_mutex_lock(&h->lock);
        for (;;) {
                RecBuf *b;
                uint64_t target, deadline;

                while (h->fill->n == 0 && !h->stop) {
                        struct timespec ts =
                                usec_timespec(now_cond_usec() +
                                              (h->expiring ? 10ULL * 1000ULL : 60ULL * 1000000ULL));

                        /* wake up now and then for the retention */
                        if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) == ETIMEDOUT)
                                break;
                }
                if (h->fill->n == 0 && h->stop)
                        break;
                deadline = now_cond_usec() + TA_HISTORY_FLUSH_USEC;
                while (h->fill->n > 0 && h->fill->n < TA_HISTORY_BATCH_MAX && !h->stop &&
                       !h->flush_now) {
                        struct timespec ts = usec_timespec(deadline);

                        if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) == ETIMEDOUT)
                                break;
                }
                b = h->fill;
                h->fill = b == &h->bufs[0] ? &h->bufs[1] : &h->bufs[0];
                h->writing_since = h->fill_since;
                h->fill_since = 0;
                h->flush_now = false;
                h->writing = true;
                pthread_cond_broadcast(&h->room_cond);
                target = h->enqueued;
                pthread_mutex_unlock(&h->lock);

                if (b->n > 0)
                        write_batch_retrying(h, b, &fail_log);
                b->len = b->n = 0;
                expire_now_and_then(h);

                pthread_mutex_lock(&h->lock);
                h->writing = false;
                h->writing_since = 0;
                h->committed = target;
                pthread_cond_broadcast(&h->done_cond);
                pthread_cond_broadcast(&h->room_cond);
        }
        pthread_mutex_unlock(&h->lock);
        return NULL;
}

int ta_history_open(const char *path, uint64_t retention_sec, unsigned queue_size, TaHistory **ret)
{
        pthread_condattr_t ca;
        TaHistory *h;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        pthread_mutex_init(&h->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&h->cond, &ca);
        pthread_cond_init(&h->done_cond, NULL);
        pthread_cond_init(&h->room_cond, &ca);
        pthread_condattr_destroy(&ca);
        h->fill = &h->bufs[0];
        h->seen = (Aggregate){.elem_size = sizeof(Seen),
                              .taken_offset = offsetof(Seen, kind),
                              .taken_size = sizeof(int)};
        h->addr_count = (Aggregate){.elem_size = sizeof(AddrSecond),
                                    .taken_offset = offsetof(AddrSecond, used),
                                    .taken_size = sizeof(bool)};
        h->retention_sec = retention_sec;
        h->max_records = MAX(queue_size, 16u);
        h->max_bytes = TA_HISTORY_QUEUE_BYTES_MAX;
        h->path = strdup(path);
        if (!h->path) {
                ta_history_free(h);
                return -ENOMEM;
        }
        r = state_open(path, false, ta_history_migrations, ta_history_n_migrations, &h->db);
        if (r >= 0)
                r = state_prepare(h->db,
                                  "INSERT INTO reports (time, login, addr, success, protocol, "
                                  "device_id, device_family, country, t) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                  &h->insert);
        for (size_t i = 0; i < _EXPIRY_MAX && r >= 0; i++) {
                /* the time of an address count is the end of its second */
                static const char *const sql[_EXPIRY_MAX][3] = {
                        [EXPIRY_REPORTS] = {"SELECT min(rowid), max(rowid) FROM reports",
                                            "SELECT rowid, time FROM reports WHERE rowid >= ?1 "
                                            "ORDER BY rowid LIMIT 1",
                                            "DELETE FROM reports WHERE rowid < ?1"},
                        [EXPIRY_ADDR_SECOND] = {"SELECT min(rowid), max(rowid) FROM addr_second",
                                                "SELECT rowid, second + 1 FROM addr_second "
                                                "WHERE rowid >= ?1 ORDER BY rowid LIMIT 1",
                                                "DELETE FROM addr_second WHERE rowid < ?1"},
                };

                r = state_prepare(h->db, sql[i][0], &h->expiry[i].bounds);
                if (r >= 0)
                        r = state_prepare(h->db, sql[i][1], &h->expiry[i].row_at);
                if (r >= 0)
                        r = state_prepare(h->db, sql[i][2], &h->expiry[i].delete);
        }
        if (r >= 0)
                r = state_prepare(h->db,
                                  "INSERT INTO login_seen (login, kind, value, last) "
                                  "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (login, kind, value) "
                                  "DO UPDATE SET last = max(last, excluded.last)",
                                  &h->upsert_seen);
        if (r >= 0)
                r = state_prepare(
                        h->db,
                        "INSERT INTO addr_second (addr, second, login, reports, failures) "
                        "VALUES (?1, ?2, ?3, ?4, ?5) "
                        "ON CONFLICT (addr, second, login) "
                        "DO UPDATE SET reports = reports + excluded.reports, "
                        "failures = failures + excluded.failures",
                        &h->upsert_addr);
        if (r >= 0)
                r = state_prepare(h->db, "DELETE FROM login_seen WHERE last < ?1", &h->expire_seen);
        if (r < 0) {
                ta_history_free(h);
                return r;
        }
        r = ta_history_expire(h, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to expire old reports, ignoring: %m");
        h->last_expire_usec = ta_now_usec();
        r = -pthread_create(&h->thread, NULL, writer, h);
        if (r < 0) {
                ta_history_free(h);
                return r;
        }
        h->thread_started = true;
        *ret = h;
        return 0;
}

TaHistory *ta_history_free(TaHistory *h)
{
        if (!h)
                return NULL;
        if (h->thread_started) {
                pthread_mutex_lock(&h->lock);
                h->stop = true;
                pthread_cond_signal(&h->cond);
                pthread_mutex_unlock(&h->lock);
                pthread_join(h->thread, NULL);
        }
        sqlite3_finalize(h->insert);
        sqlite3_finalize(h->upsert_seen);
        sqlite3_finalize(h->upsert_addr);
        sqlite3_finalize(h->expire_seen);
        for (size_t i = 0; i < _EXPIRY_MAX; i++) {
                sqlite3_finalize(h->expiry[i].bounds);
                sqlite3_finalize(h->expiry[i].row_at);
                sqlite3_finalize(h->expiry[i].delete);
        }
        aggregate_free(&h->seen);
        aggregate_free(&h->addr_count);
        sqlite3_close_v2(h->db);
        pthread_mutex_destroy(&h->lock);
        pthread_cond_destroy(&h->cond);
        pthread_cond_destroy(&h->done_cond);
        pthread_cond_destroy(&h->room_cond);
        free(h->bufs[0].data);
        free(h->bufs[1].data);
        free(h->path);
        free(h);
        return NULL;
}

const char *ta_history_path(const TaHistory *h)
{
        return h->path;
}

static int rec_reserve(RecBuf *b, size_t need)
{
        size_t na;
        uint8_t *p;

        if (b->len + need <= b->allocated)
                return 0;
        na = MAX(MAX(b->allocated * 2, b->len + need), (size_t)65536);
        p = realloc(b->data, na);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->allocated = na;
        return 0;
}

/* Text from reports is stored as it came when it is UTF-8; every byte of it that is not part
 * of a well-formed UTF-8 sequence (or is NUL) is stored as the four characters \xNN. The
 * questions map their arguments the same way, so a login asks about itself. Returns a malloc'd
 * copy, or NULL when s is valid UTF-8 (*ret_r: -ENOMEM on failure). */
char *ta_history_text(const char *s, int *ret_r)
{
        size_t len = strlen(s), o = 0;
        char *copy;

        *ret_r = 0;
        if (utf8_is_valid_n(s, len))
                return NULL;
        copy = malloc(len * 4 + 1);
        if (!copy) {
                *ret_r = -ENOMEM;
                return NULL;
        }
        for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t n = utf8_sequence_n(s + i, len - i, &cp);

                if (n == 0) {
                        o += (size_t)sprintf(copy + o, "\\x%02x", (unsigned char)s[i]);
                        i++;
                        continue;
                }
                memcpy(copy + o, s + i, n);
                o += n;
                i += n;
        }
        copy[o] = '\0';
        return copy;
}

typedef struct Mapped {
        char *s[_REC_STR_MAX];
} Mapped;

static void mapped_done(Mapped *m)
{
        for (size_t j = 0; j < _REC_STR_MAX; j++)
                free(m->s[j]);
}

int ta_history_add(TaHistory *h, const TaTuple *t, double when)
{
        _cleanup_(mapped_done) Mapped mapped = {};
        const char *s[_REC_STR_MAX] = {
                [REC_LOGIN] = t->login,
                [REC_PROTOCOL] = t->protocol,
                [REC_DEVICE_ID] = t->device_id,
                [REC_FAMILY] = ta_kv_list_get(&t->device_attrs, "device.family"),
                [REC_COUNTRY] = t->country,
        };
        Rec rec = {.when = when, .t = t->t, .success = t->success};
        size_t need = sizeof(Rec);
        uint8_t *p;
        int r = 0;

        for (size_t j = 0; j < _REC_STR_MAX; j++) {
                size_t l;

                if (s[j]) {
                        mapped.s[j] = ta_history_text(s[j], &r);
                        if (r < 0)
                                return r;
                        if (mapped.s[j])
                                s[j] = mapped.s[j];
                }
                l = s[j] ? strlen(s[j]) : 0;

                rec.len[j] = s[j] ? (uint32_t)MIN(l, (size_t)TA_BODY_MAX) : REC_NULL;
                need += s[j] ? rec.len[j] : 0;
        }
        ta_addr_key(&t->remote, rec.addr);
        need = rec_align(need);

        pthread_mutex_lock(&h->lock);
        /* Over the bound by at most the reports of the threads that passed
         * ta_history_wait_room() together: what was answered is kept. */
        if (rec_reserve(h->fill, need) < 0) {
                h->counters.refused++;
                r = -ENOMEM;
        } else {
                p = h->fill->data + h->fill->len;
                memcpy(p, &rec, sizeof(rec));
                p += sizeof(rec);
                for (size_t j = 0; j < _REC_STR_MAX; j++)
                        if (rec.len[j] != REC_NULL) {
                                memcpy(p, s[j], rec.len[j]);
                                p += rec.len[j];
                        }
                h->fill->len += need;
                h->fill->n++;
                h->enqueued++;
                if (h->fill_since == 0)
                        h->fill_since = now_cond_usec();
                /* The writer sleeps until the first report of a batch, then waits out the
                 * flush delay unless the batch fills up first. */
                if (h->fill->n == 1 || h->fill->n == TA_HISTORY_BATCH_MAX)
                        pthread_cond_signal(&h->cond);
        }
        pthread_mutex_unlock(&h->lock);
        return r;
}

static bool queue_full(TaHistory *h, uint64_t now)
{
        uint64_t oldest = h->writing_since ?: h->fill_since;

        return h->fill->n >= h->max_records || h->fill->len >= h->max_bytes ||
               (oldest > 0 && now > oldest + TA_HISTORY_STALE_USEC);
}

int ta_history_wait_room(TaHistory *h)
{
        uint64_t now = now_cond_usec(), deadline = now + TA_HISTORY_WAIT_USEC;
        struct timespec ts = usec_timespec(deadline);
        int r = 0;

        pthread_mutex_lock(&h->lock);
        while (queue_full(h, now) && !h->stop) {
                if (h->fill->n > 0) {
                        h->flush_now = true;
                        pthread_cond_signal(&h->cond);
                }
                if (pthread_cond_timedwait(&h->room_cond, &h->lock, &ts) == ETIMEDOUT) {
                        now = now_cond_usec();
                        if (queue_full(h, now)) {
                                h->counters.refused++;
                                r = -EAGAIN;
                        }
                        break;
                }
                now = now_cond_usec();
        }
        pthread_mutex_unlock(&h->lock);
        return r;
}

int ta_history_sync(TaHistory *h)
{
        uint64_t target;

        pthread_mutex_lock(&h->lock);
        target = h->enqueued;
        if (h->committed < target) {
                h->flush_now = true;
                pthread_cond_signal(&h->cond);
        }
        while (h->committed < target && !h->stop) {
                /* A batch being written may end before ours was taken: ask again. */
                if (!h->writing && h->fill->n > 0) {
                        h->flush_now = true;
                        pthread_cond_signal(&h->cond);
                }
                pthread_cond_wait(&h->done_cond, &h->lock);
        }
        pthread_mutex_unlock(&h->lock);
        return 0;
}

void ta_history_counters(TaHistory *h, TaHistoryCounters *ret)
{
        pthread_mutex_lock(&h->lock);
        ret->refused = h->counters.refused;
        ret->queued = h->bufs[0].n + h->bufs[1].n;
        pthread_mutex_unlock(&h->lock);
        ret->written = __atomic_load_n(&h->counters.written, __ATOMIC_RELAXED);
        ret->failed = __atomic_load_n(&h->counters.failed, __ATOMIC_RELAXED);
        ret->write_errors = __atomic_load_n(&h->counters.write_errors, __ATOMIC_RELAXED);
}

int ta_history_open_reader(const char *path, sqlite3 **ret)
{
        return state_open(path, true, ta_history_migrations, ta_history_n_migrations, ret);
}

void ta_history_close_reader(void *db)
{
        sqlite3_close_v2(db);
}

static int query_int(sqlite3 *db, const char *sql, uint64_t *ret, const char *s1, const void *b1,
                     const void *b2, double since)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, i = 1;

        /* Prepared per call: SQLite caches the parse cheaply and the readers are per state. */
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return state_errno(rc);
        if (s1)
                sqlite3_bind_text(st, i++, s1, -1, SQLITE_STATIC);
        if (b1) {
                sqlite3_bind_blob(st, i++, b1, 16, SQLITE_STATIC);
                sqlite3_bind_blob(st, i++, b2, 16, SQLITE_STATIC);
        }
        if (since >= 0)
                sqlite3_bind_double(st, i++, since);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return state_errno(rc) ?: -EIO;
        *ret = (uint64_t)sqlite3_column_int64(st, 0);
        return 0;
}

int ta_history_seen_range(sqlite3 *db, const char *login, const uint8_t lo[16],
                          const uint8_t hi[16], bool *ret)
{
        uint64_t n = 0;
        int r;
        _cleanup_free_ char *mapped = ta_history_text(login, &r);

        if (r < 0)
                return r;
        login = mapped ?: login;
        r = query_int(db,
                      "SELECT EXISTS (SELECT 1 FROM login_seen WHERE login = ?1 AND kind = 1 "
                      "AND value BETWEEN ?2 AND ?3)",
                      &n, login, lo, hi, -1);
        if (r >= 0)
                *ret = n > 0;
        return r;
}

int ta_history_seen_column(sqlite3 *db, const char *login, const char *column, const char *value,
                           bool *ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *mapped_login = NULL, *mapped_value = NULL;
        int kind, rc, r;

        mapped_login = ta_history_text(login, &r);
        if (r < 0)
                return r;
        mapped_value = ta_history_text(value, &r);
        if (r < 0)
                return r;
        login = mapped_login ?: login;
        value = mapped_value ?: value;

        if (streq(column, "country"))
                kind = SEEN_COUNTRY;
        else if (streq(column, "device_id"))
                kind = SEEN_DEVICE;
        else
                return -EINVAL;
        rc = sqlite3_prepare_v2(db,
                                "SELECT EXISTS (SELECT 1 FROM login_seen WHERE login = ?1 AND "
                                "kind = ?2 AND value = ?3)",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return state_errno(rc);
        sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, kind);
        sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return state_errno(rc) ?: -EIO;
        *ret = sqlite3_column_int(st, 0) != 0;
        return 0;
}

int ta_history_failures_login(sqlite3 *db, const char *login, double since, uint64_t *ret)
{
        int r;
        _cleanup_free_ char *mapped = ta_history_text(login, &r);

        if (r < 0)
                return r;
        login = mapped ?: login;
        return query_int(db,
                         "SELECT count(*) FROM reports WHERE login = ?1 AND success = 0 "
                         "AND time >= ?2",
                         ret, login, NULL, NULL, since);
}

int ta_history_count_range(sqlite3 *db, const uint8_t lo[16], const uint8_t hi[16], double since,
                           bool failures_only, bool distinct_logins, uint64_t *ret)
{
        /* Reports are counted by the second they came in: the one since falls in counts whole.
         * The index is (addr, second, login): a range of addresses is walked one address at a
         * time (a seek to the next address in it), and each address seeks to the window's
         * first second, so nothing older than the window is read. */
        static const char *const what[] = {"total(s.reports)", "total(s.failures)",
                                           "count(DISTINCT s.login)"};
        char sql[512];

        snprintf(sql, sizeof(sql),
                 "WITH RECURSIVE a(addr) AS ("
                 " SELECT (SELECT min(addr) FROM addr_second WHERE addr BETWEEN ?1 AND ?2)"
                 " UNION ALL"
                 " SELECT (SELECT min(addr) FROM addr_second WHERE addr > a.addr AND addr <= ?2)"
                 " FROM a WHERE a.addr IS NOT NULL) "
                 "SELECT %s FROM a JOIN addr_second s ON s.addr = a.addr AND s.second >= ?3",
                 what[distinct_logins ? 2
                      : failures_only ? 1
                                      : 0]);
        return query_int(db, sql, ret, NULL, lo, hi, floor(since));
}
