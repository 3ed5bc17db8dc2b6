/* trackalert-history.h - long-term report history in SQLite: a writer thread fed through a
 * bounded queue, retention, and the read-only questions policies ask. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "trackalert-tuple.h"

typedef struct TaHistory TaHistory;

extern const char *const ta_history_migrations[];
extern const size_t ta_history_n_migrations;

#define TA_HISTORY_BATCH_MAX 4096
#define TA_HISTORY_FLUSH_USEC (50ULL * 1000ULL)

/* Opens (creates, migrates) the database and starts the writer thread. */
int ta_history_open(const char *path, uint64_t retention_sec, unsigned queue_size,
                    TaHistory **ret);
/* Writes what is queued, stops the thread, closes. */
TaHistory *ta_history_free(TaHistory *h);
const char *ta_history_path(const TaHistory *h);
/* Queue a report (takes a reference to t) without blocking: -EAGAIN when the queue is full. */
int ta_history_add(TaHistory *h, TaTuple *t, double when);
/* Wait until everything queued so far is committed (tests, console). */
int ta_history_sync(TaHistory *h);
/* Delete reports older than the retention now; returns how many. */
int ta_history_expire(TaHistory *h, uint64_t *ret_deleted);

typedef struct TaHistoryCounters {
        uint64_t written, dropped, failed, queued;
} TaHistoryCounters;
void ta_history_counters(TaHistory *h, TaHistoryCounters *ret);

/* One read-only connection per Lua state. */
int ta_history_open_reader(const char *path, sqlite3 **ret);
void ta_history_close_reader(void *db);

/* since: unix seconds; 16-byte keys from ta_addr_key() / ta_netmask_range(). */
int ta_history_seen_range(sqlite3 *db, const char *login, const uint8_t lo[16],
                          const uint8_t hi[16], bool *ret);
int ta_history_seen_column(sqlite3 *db, const char *login, const char *column, const char *value,
                           bool *ret);
int ta_history_failures_login(sqlite3 *db, const char *login, double since, uint64_t *ret);
int ta_history_count_range(sqlite3 *db, const uint8_t lo[16], const uint8_t hi[16], double since,
                           bool failures_only, bool distinct_logins, uint64_t *ret);
