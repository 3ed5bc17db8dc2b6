/* trackerd-store.c - one transaction per batch: raw uses, daily aggregates and rejects. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "state.h"
#include "trackerd-store.h"

const char *const trackerd_store_migrations[] = {
        /* 0 -> 1 */
        "CREATE TABLE uses ("
        "  time INTEGER NOT NULL," /* unix seconds when trackerd received it */
        "  user TEXT NOT NULL,"
        "  uid INTEGER NOT NULL,"
        "  host TEXT NOT NULL," /* the sender's own host name */
        "  program TEXT NOT NULL,"
        "  source TEXT NOT NULL" /* the address the datagram came from */
        ");"
        "CREATE INDEX uses_time ON uses(time);"
        "CREATE TABLE daily ("
        "  day TEXT NOT NULL," /* YYYY-MM-DD, local time of the collector */
        "  program TEXT NOT NULL,"
        "  user TEXT NOT NULL,"
        "  host TEXT NOT NULL,"
        "  runs INTEGER NOT NULL,"
        "  first INTEGER NOT NULL,"
        "  last INTEGER NOT NULL,"
        "  PRIMARY KEY (program, day, user, host)"
        ") WITHOUT ROWID;"
        "CREATE INDEX daily_day ON daily(day);"
        "CREATE TABLE rejects ("
        "  reason TEXT PRIMARY KEY,"
        "  count INTEGER NOT NULL,"
        "  last INTEGER NOT NULL"
        ") WITHOUT ROWID;",
};
const size_t trackerd_store_n_migrations = ELEMENTSOF(trackerd_store_migrations);

/* One (day, program, user, host) of a batch: its runs are added in one upsert. */
typedef struct DailyAgg {
        const TrackerdRecord *rec; /* the first record with this key; strings are borrowed */
        char day[16];
        int64_t runs, first, last;
} DailyAgg;

struct TrackerdStore {
        sqlite3 *db;
        DailyAgg *aggs;  /* reused from batch to batch */
        uint32_t *slots; /* open-addressing table of aggs indices + 1; 0 = empty */
        size_t n_aggs, cap_aggs, n_slots;
        sqlite3_stmt *insert_use;
        sqlite3_stmt *upsert_daily;
        sqlite3_stmt *upsert_reject;
        sqlite3_stmt *expire;
        int64_t day_cached_for; /* the second day_cached was computed for */
        char day_cached[16];
};

TrackerdStore *trackerd_store_free(TrackerdStore *s)
{
        if (!s)
                return NULL;
        sqlite3_finalize(s->insert_use);
        sqlite3_finalize(s->upsert_daily);
        sqlite3_finalize(s->upsert_reject);
        sqlite3_finalize(s->expire);
        sqlite3_close_v2(s->db);
        free(s->aggs);
        free(s->slots);
        free(s);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(TrackerdStore *, trackerd_store_free)

sqlite3 *trackerd_store_db(TrackerdStore *s)
{
        return s->db;
}

int trackerd_store_open(const char *path, TrackerdStore **ret)
{
        _cleanup_(trackerd_store_freep) TrackerdStore *s = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->day_cached_for = -1;
        r = state_open(path, false, trackerd_store_migrations, trackerd_store_n_migrations, &s->db);
        if (r < 0)
                return r;
        /* Bursts touch many daily rows: a larger page cache and fewer checkpoints keep the
         * commit of a batch from re-reading and re-writing the same pages. */
        r = state_exec(s->db, "PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 16384");
        if (r < 0)
                return r;
        if ((r = state_prepare(s->db,
                               "INSERT INTO uses (time, user, uid, host, program, source) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                               &s->insert_use)) < 0 ||
            (r = state_prepare(s->db,
                               "INSERT INTO daily (day, program, user, host, runs, first, last) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                               "ON CONFLICT (program, day, user, host) DO UPDATE SET "
                               "runs = runs + excluded.runs, first = MIN(first, excluded.first), "
                               "last = MAX(last, excluded.last)",
                               &s->upsert_daily)) < 0 ||
            (r = state_prepare(s->db,
                               "INSERT INTO rejects (reason, count, last) VALUES (?1, ?2, ?3) "
                               "ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count, "
                               "last = excluded.last",
                               &s->upsert_reject)) < 0 ||
            (r = state_prepare(s->db, "DELETE FROM uses WHERE time < ?1", &s->expire)) < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

static const char *store_day(TrackerdStore *s, int64_t t)
{
        if (t != s->day_cached_for) {
                time_t tt = (time_t)t;
                struct tm tm;

                if (!localtime_r(&tt, &tm) ||
                    strftime(s->day_cached, sizeof(s->day_cached), "%Y-%m-%d", &tm) == 0)
                        strcpy(s->day_cached, "1970-01-01");
                s->day_cached_for = t;
        }
        return s->day_cached;
}

static uint64_t hash_str(uint64_t h, const char *p)
{
        for (; *p; p++)
                h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
        return (h ^ 0xff) * 0x100000001b3ULL; /* a separator, so "ab"+"c" != "a"+"bc" */
}

static bool agg_matches(const DailyAgg *a, const char *day, const TrackerUse *u)
{
        return streq(a->day, day) && streq(a->rec->use.program, u->program) &&
               streq(a->rec->use.user, u->user) && streq(a->rec->use.host, u->host);
}

/* Fold the batch into one DailyAgg per (day, program, user, host). */
static int store_aggregate(TrackerdStore *s, const TrackerdRecord *records, size_t n)
{
        size_t want = 16;

        while (want < 2 * n)
                want *= 2;
        if (want > s->n_slots) {
                uint32_t *slots = realloc(s->slots, want * sizeof(*slots));
                if (!slots)
                        return -ENOMEM;
                s->slots = slots;
                s->n_slots = want;
        }
        if (n > s->cap_aggs) {
                DailyAgg *aggs = realloc(s->aggs, n * sizeof(*aggs));
                if (!aggs)
                        return -ENOMEM;
                s->aggs = aggs;
                s->cap_aggs = n;
        }
        memset(s->slots, 0, s->n_slots * sizeof(*s->slots));
        s->n_aggs = 0;

        for (size_t i = 0; i < n; i++) {
                const TrackerdRecord *rec = &records[i];
                const char *day = store_day(s, rec->time);
                uint64_t h = 0xcbf29ce484222325ULL;
                size_t slot;

                h = hash_str(h, day);
                h = hash_str(h, rec->use.program);
                h = hash_str(h, rec->use.user);
                h = hash_str(h, rec->use.host);
                for (slot = h & (s->n_slots - 1);; slot = (slot + 1) & (s->n_slots - 1)) {
                        uint32_t idx = s->slots[slot];
                        DailyAgg *a;

                        if (idx == 0) {
                                a = &s->aggs[s->n_aggs++];
                                *a = (DailyAgg){.rec = rec,
                                                .runs = 1,
                                                .first = rec->time,
                                                .last = rec->time};
                                strcpy(a->day, day);
                                s->slots[slot] = (uint32_t)s->n_aggs;
                                break;
                        }
                        a = &s->aggs[idx - 1];
                        if (agg_matches(a, day, &rec->use)) {
                                a->runs++;
                                a->first = MIN(a->first, rec->time);
                                a->last = MAX(a->last, rec->time);
                                break;
                        }
                }
        }
        return 0;
}

static int store_use(TrackerdStore *s, const TrackerdRecord *rec)
{
        const TrackerUse *u = &rec->use;
        sqlite3_stmt *st = s->insert_use;

        sqlite3_bind_int64(st, 1, rec->time);
        sqlite3_bind_text(st, 2, u->user, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, u->uid);
        sqlite3_bind_text(st, 4, u->host, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, u->program, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, rec->source, -1, SQLITE_STATIC);
        return state_step_reset(st);
}

static int store_daily(TrackerdStore *s, const DailyAgg *a)
{
        sqlite3_stmt *st = s->upsert_daily;

        sqlite3_bind_text(st, 1, a->day, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a->rec->use.program, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, a->rec->use.user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, a->rec->use.host, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, a->runs);
        sqlite3_bind_int64(st, 6, a->first);
        sqlite3_bind_int64(st, 7, a->last);
        return state_step_reset(st);
}

int trackerd_store_commit(TrackerdStore *s, const TrackerdRecord *records, size_t n,
                          const uint64_t rejects[_TRACKER_BAD_MAX], int64_t now)
{
        int r;

        r = store_aggregate(s, records, n);
        if (r < 0)
                return r;
        r = state_exec(s->db, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = store_use(s, &records[i]);
                if (r < 0)
                        goto rollback;
        }
        for (size_t i = 0; i < s->n_aggs; i++) {
                r = store_daily(s, &s->aggs[i]);
                if (r < 0)
                        goto rollback;
        }
        for (int b = 0; rejects && b < _TRACKER_BAD_MAX; b++) {
                if (rejects[b] == 0)
                        continue;
                sqlite3_bind_text(s->upsert_reject, 1, tracker_bad_to_string(b), -1, SQLITE_STATIC);
                sqlite3_bind_int64(s->upsert_reject, 2, (sqlite3_int64)rejects[b]);
                sqlite3_bind_int64(s->upsert_reject, 3, now);
                r = state_step_reset(s->upsert_reject);
                if (r < 0)
                        goto rollback;
        }
        r = state_exec(s->db, "COMMIT");
        if (r < 0)
                goto rollback;
        return 0;
rollback:
        (void)state_exec(s->db, "ROLLBACK");
        return r;
}

int trackerd_store_expire(TrackerdStore *s, int64_t cutoff, uint64_t *ret_deleted)
{
        int r;

        sqlite3_bind_int64(s->expire, 1, cutoff);
        r = state_step_reset(s->expire);
        if (r < 0)
                return r;
        if (ret_deleted)
                *ret_deleted = (uint64_t)sqlite3_changes64(s->db);
        return 0;
}
