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
        "  time INTEGER NOT NULL,"     /* unix seconds when trackerd received it */
        "  user TEXT NOT NULL,"
        "  uid INTEGER NOT NULL,"
        "  host TEXT NOT NULL,"        /* the sender's own host name */
        "  program TEXT NOT NULL,"
        "  source TEXT NOT NULL"       /* the address the datagram came from */
        ");"
        "CREATE INDEX uses_time ON uses(time);"
        "CREATE TABLE daily ("
        "  day TEXT NOT NULL,"         /* YYYY-MM-DD, local time of the collector */
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

struct TrackerdStore {
        sqlite3 *db;
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
        free(s);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(TrackerdStore *, trackerd_store_free)

sqlite3 *trackerd_store_db(TrackerdStore *s)
{
        return s->db;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
        int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);
        if (rc != SQLITE_OK) {
                log_debug("Failed to prepare '%s': %s", sql, sqlite3_errmsg(db));
                return state_errno(rc);
        }
        return 0;
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
        if ((r = prepare(s->db,
                         "INSERT INTO uses (time, user, uid, host, program, source) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                         &s->insert_use)) < 0 ||
            (r = prepare(s->db,
                         "INSERT INTO daily (day, program, user, host, runs, first, last) "
                         "VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5) "
                         "ON CONFLICT (program, day, user, host) DO UPDATE SET "
                         "runs = runs + 1, first = MIN(first, excluded.first), "
                         "last = MAX(last, excluded.last)",
                         &s->upsert_daily)) < 0 ||
            (r = prepare(s->db,
                         "INSERT INTO rejects (reason, count, last) VALUES (?1, ?2, ?3) "
                         "ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count, "
                         "last = excluded.last",
                         &s->upsert_reject)) < 0 ||
            (r = prepare(s->db, "DELETE FROM uses WHERE time < ?1", &s->expire)) < 0)
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

static int step_reset(sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc == SQLITE_DONE ? 0 : state_errno(rc) ?: -EIO;
}

static int store_one(TrackerdStore *s, const TrackerdRecord *rec)
{
        const TrackerUse *u = &rec->use;
        const char *day = store_day(s, rec->time);
        sqlite3_stmt *st;
        int r;

        st = s->insert_use;
        sqlite3_bind_int64(st, 1, rec->time);
        sqlite3_bind_text(st, 2, u->user, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, u->uid);
        sqlite3_bind_text(st, 4, u->host, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, u->program, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, rec->source, -1, SQLITE_STATIC);
        r = step_reset(st);
        if (r < 0)
                return r;

        st = s->upsert_daily;
        sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, u->program, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, u->user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, u->host, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, rec->time);
        return step_reset(st);
}

int trackerd_store_commit(TrackerdStore *s, const TrackerdRecord *records, size_t n,
                          const uint64_t rejects[_TRACKER_BAD_MAX], int64_t now)
{
        int r;

        r = state_exec(s->db, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = store_one(s, &records[i]);
                if (r < 0)
                        goto rollback;
        }
        for (int b = 0; rejects && b < _TRACKER_BAD_MAX; b++) {
                if (rejects[b] == 0)
                        continue;
                sqlite3_bind_text(s->upsert_reject, 1, tracker_bad_to_string(b), -1, SQLITE_STATIC);
                sqlite3_bind_int64(s->upsert_reject, 2, (sqlite3_int64)rejects[b]);
                sqlite3_bind_int64(s->upsert_reject, 3, now);
                r = step_reset(s->upsert_reject);
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
        r = step_reset(s->expire);
        if (r < 0)
                return r;
        if (ret_deleted)
                *ret_deleted = (uint64_t)sqlite3_changes64(s->db);
        return 0;
}
