/* trackerd-store.h - trackerd's SQLite state: raw uses, daily aggregates, rejected datagrams. */
#pragma once

#include <stdint.h>

#include <sqlite3.h>

#include "tracker-proto.h"

typedef struct TrackerdStore TrackerdStore;

/* One received use, as stored. */
typedef struct TrackerdRecord {
        TrackerUse use;
        int64_t time;    /* unix seconds when received */
        char source[64]; /* sender's address as seen by us */
} TrackerdRecord;

extern const char *const trackerd_store_migrations[];
extern const size_t trackerd_store_n_migrations;

int trackerd_store_open(const char *path, TrackerdStore **ret);
TrackerdStore *trackerd_store_free(TrackerdStore *s);

/* Store n records and add rejects[] (counts per TrackerBad reason) in one transaction. Either
 * everything is stored or nothing is. */
int trackerd_store_commit(TrackerdStore *s, const TrackerdRecord *records, size_t n,
                          const uint64_t rejects[_TRACKER_BAD_MAX], int64_t now);

/* Delete raw uses received before cutoff (unix seconds); aggregates are kept. */
int trackerd_store_expire(TrackerdStore *s, int64_t cutoff, uint64_t *ret_deleted);

sqlite3 *trackerd_store_db(TrackerdStore *s);
