/* trackalert-history.c - the report history: one writer thread owns the read-write connection
 * and commits what the request threads queue, in batches; each Lua state reads through a
 * read-only connection of its own (WAL lets them run beside the writer). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "state.h"
#include "trackalert-history.h"
#include "trackalert-stats.h"

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
};
const size_t ta_history_n_migrations = ELEMENTSOF(ta_history_migrations);

typedef struct Item {
        TaTuple *t;
        double when;
} Item;

struct TaHistory {
        char *path;
        sqlite3 *db;
        sqlite3_stmt *insert, *expire;
        uint64_t retention_sec;

        pthread_mutex_t lock;
        pthread_cond_t cond, done_cond;
        Item *queue; /* ring */
        size_t size, head, n;
        uint64_t enqueued, committed; /* sequence numbers for ta_history_sync() */
        bool stop;
        pthread_t thread;
        bool thread_started;
        uint64_t last_expire_usec;

        TaHistoryCounters counters;
};

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
        int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);
        if (rc != SQLITE_OK) {
                log_debug("Failed to prepare '%s': %s", sql, sqlite3_errmsg(db));
                return state_errno(rc);
        }
        return 0;
}

static int write_batch(TaHistory *h, Item *items, size_t n)
{
        int r, rc;

        r = state_exec(h->db, "BEGIN");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                TaTuple *t = items[i].t;
                const char *family = ta_kv_list_get(&t->device_attrs, "device.family");
                uint8_t key[16];

                ta_addr_key(&t->remote, key);
                sqlite3_reset(h->insert);
                sqlite3_bind_double(h->insert, 1, items[i].when);
                sqlite3_bind_text(h->insert, 2, t->login, -1, SQLITE_STATIC);
                sqlite3_bind_blob(h->insert, 3, key, 16, SQLITE_TRANSIENT);
                sqlite3_bind_int(h->insert, 4, t->success);
                sqlite3_bind_text(h->insert, 5, t->protocol, -1, SQLITE_STATIC);
                sqlite3_bind_text(h->insert, 6, t->device_id, -1, SQLITE_STATIC);
                if (family)
                        sqlite3_bind_text(h->insert, 7, family, -1, SQLITE_STATIC);
                else
                        sqlite3_bind_null(h->insert, 7);
                if (t->country)
                        sqlite3_bind_text(h->insert, 8, t->country, -1, SQLITE_STATIC);
                else
                        sqlite3_bind_null(h->insert, 8);
                sqlite3_bind_double(h->insert, 9, t->t);
                rc = sqlite3_step(h->insert);
                if (rc != SQLITE_DONE) {
                        r = state_errno(rc) ?: -EIO;
                        sqlite3_reset(h->insert);
                        (void)state_exec(h->db, "ROLLBACK");
                        return r;
                }
        }
        sqlite3_reset(h->insert);
        sqlite3_clear_bindings(h->insert);
        r = state_exec(h->db, "COMMIT");
        if (r < 0)
                (void)state_exec(h->db, "ROLLBACK");
        return r;
}

int ta_history_expire(TaHistory *h, uint64_t *ret_deleted)
{
        int rc;

        if (h->retention_sec == 0)
                return 0;
        sqlite3_reset(h->expire);
        sqlite3_bind_double(h->expire, 1,
                            (double)ta_now_realtime_usec() / 1e6 - (double)h->retention_sec);
        rc = sqlite3_step(h->expire);
        sqlite3_reset(h->expire);
        if (rc != SQLITE_DONE)
                return state_errno(rc) ?: -EIO;
        if (ret_deleted)
                *ret_deleted = (uint64_t)sqlite3_changes(h->db);
        return 0;
}

static void *writer(void *userdata)
{
        TaHistory *h = userdata;
        Item *batch = calloc(TA_HISTORY_BATCH_MAX, sizeof(Item));
        RateLimit fail_log = {.interval_usec = 60ULL * 1000000ULL, .burst = 3};

        if (!batch)
                return NULL;
        pthread_mutex_lock(&h->lock);
        for (;;) {
                size_t n = 0;
                int r;

                while (h->n == 0 && !h->stop) {
                        struct timespec ts;

                        clock_gettime(CLOCK_REALTIME, &ts);
                        ts.tv_sec += 60; /* wake up now and then for the retention */
                        if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) == ETIMEDOUT)
                                break;
                }
                if (h->n == 0 && h->stop)
                        break;
                while (h->n > 0 && n < TA_HISTORY_BATCH_MAX) {
                        batch[n++] = h->queue[h->head];
                        h->head = (h->head + 1) % h->size;
                        h->n--;
                }
                pthread_mutex_unlock(&h->lock);

                if (n > 0) {
                        r = write_batch(h, batch, n);
                        if (r < 0 && ratelimit_below(&fail_log, ta_now_usec(), NULL))
                                log_error_errno(r, "Failed to store %zu reports in the history, "
                                                   "dropping them: %m", n);
                        for (size_t i = 0; i < n; i++)
                                ta_tuple_unref(batch[i].t);
                        __atomic_add_fetch(r < 0 ? &h->counters.failed : &h->counters.written, n,
                                           __ATOMIC_RELAXED);
                }
                if (ta_now_usec() - h->last_expire_usec > 3600ULL * 1000000ULL) {
                        uint64_t deleted = 0;

                        h->last_expire_usec = ta_now_usec();
                        r = ta_history_expire(h, &deleted);
                        if (r < 0)
                                log_warning_errno(r, "Failed to expire old reports, ignoring: %m");
                        else if (deleted > 0)
                                log_info("Expired %llu reports older than the retention period.",
                                         (unsigned long long)deleted);
                }

                pthread_mutex_lock(&h->lock);
                h->committed += n;
                pthread_cond_broadcast(&h->done_cond);
        }
        pthread_mutex_unlock(&h->lock);
        free(batch);
        return NULL;
}

int ta_history_open(const char *path, uint64_t retention_sec, unsigned queue_size,
                    TaHistory **ret)
{
        TaHistory *h;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        pthread_mutex_init(&h->lock, NULL);
        pthread_cond_init(&h->cond, NULL);
        pthread_cond_init(&h->done_cond, NULL);
        h->retention_sec = retention_sec;
        h->size = MAX(queue_size, 16u);
        h->path = strdup(path);
        h->queue = calloc(h->size, sizeof(Item));
        if (!h->path || !h->queue) {
                ta_history_free(h);
                return -ENOMEM;
        }
        r = state_open(path, false, ta_history_migrations, ta_history_n_migrations, &h->db);
        if (r >= 0)
                r = prepare(h->db,
                            "INSERT INTO reports (time, login, addr, success, protocol, "
                            "device_id, device_family, country, t) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                            &h->insert);
        if (r >= 0)
                r = prepare(h->db, "DELETE FROM reports WHERE time < ?1", &h->expire);
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
        for (size_t i = 0; i < h->n; i++)
                ta_tuple_unref(h->queue[(h->head + i) % h->size].t);
        sqlite3_finalize(h->insert);
        sqlite3_finalize(h->expire);
        sqlite3_close_v2(h->db);
        pthread_mutex_destroy(&h->lock);
        pthread_cond_destroy(&h->cond);
        pthread_cond_destroy(&h->done_cond);
        free(h->queue);
        free(h->path);
        free(h);
        return NULL;
}

const char *ta_history_path(const TaHistory *h)
{
        return h->path;
}

int ta_history_add(TaHistory *h, TaTuple *t, double when)
{
        int r = 0;

        pthread_mutex_lock(&h->lock);
        if (h->n >= h->size) {
                h->counters.dropped++;
                r = -EAGAIN;
        } else {
                h->queue[(h->head + h->n) % h->size] = (Item){ta_tuple_ref(t), when};
                h->n++;
                h->enqueued++;
                /* Wake the writer only for the first item: it takes all there is. */
                if (h->n == 1)
                        pthread_cond_signal(&h->cond);
        }
        pthread_mutex_unlock(&h->lock);
        return r;
}

int ta_history_sync(TaHistory *h)
{
        uint64_t target;

        pthread_mutex_lock(&h->lock);
        target = h->enqueued;
        while (h->committed < target && !h->stop)
                pthread_cond_wait(&h->done_cond, &h->lock);
        pthread_mutex_unlock(&h->lock);
        return 0;
}

void ta_history_counters(TaHistory *h, TaHistoryCounters *ret)
{
        pthread_mutex_lock(&h->lock);
        ret->dropped = h->counters.dropped;
        ret->queued = h->n;
        pthread_mutex_unlock(&h->lock);
        ret->written = __atomic_load_n(&h->counters.written, __ATOMIC_RELAXED);
        ret->failed = __atomic_load_n(&h->counters.failed, __ATOMIC_RELAXED);
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
        uint64_t n;
        int r = query_int(db,
                          "SELECT EXISTS (SELECT 1 FROM reports WHERE login = ?1 "
                          "AND addr BETWEEN ?2 AND ?3)",
                          &n, login, lo, hi, -1);
        if (r >= 0)
                *ret = n > 0;
        return r;
}

int ta_history_seen_column(sqlite3 *db, const char *login, const char *column, const char *value,
                           bool *ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const char *sql;
        int rc;

        if (streq(column, "country"))
                sql = "SELECT EXISTS (SELECT 1 FROM reports WHERE login = ?1 AND country = ?2)";
        else if (streq(column, "device_id"))
                sql = "SELECT EXISTS (SELECT 1 FROM reports WHERE login = ?1 AND device_id = ?2)";
        else
                return -EINVAL;
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return state_errno(rc);
        sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return state_errno(rc) ?: -EIO;
        *ret = sqlite3_column_int(st, 0) != 0;
        return 0;
}

int ta_history_failures_login(sqlite3 *db, const char *login, double since, uint64_t *ret)
{
        return query_int(db,
                         "SELECT count(*) FROM reports WHERE login = ?1 AND success = 0 "
                         "AND time >= ?2",
                         ret, login, NULL, NULL, since);
}

int ta_history_count_range(sqlite3 *db, const uint8_t lo[16], const uint8_t hi[16], double since,
                           bool failures_only, bool distinct_logins, uint64_t *ret)
{
        const char *sql = distinct_logins
                                  ? "SELECT count(DISTINCT login) FROM reports WHERE addr BETWEEN "
                                    "?1 AND ?2 AND time >= ?3"
                          : failures_only ? "SELECT count(*) FROM reports WHERE addr BETWEEN ?1 "
                                            "AND ?2 AND time >= ?3 AND success = 0"
                                          : "SELECT count(*) FROM reports WHERE addr BETWEEN ?1 "
                                            "AND ?2 AND time >= ?3";
        return query_int(db, sql, ret, NULL, lo, hi, since);
}
