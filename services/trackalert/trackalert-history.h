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

/* A batch is committed when it has this many reports or is this old, whichever comes first.
 * Short: the writer shares the CPUs with the request threads, and a long batch written in one
 * go delays requests (50 ms batches gave a p99 of 3 ms at 10 connections, 1 ms ones 0.95 ms,
 * at the same throughput); under load a batch still holds about a hundred reports. */
#define TA_HISTORY_BATCH_MAX 8192
#define TA_HISTORY_FLUSH_USEC 1000ULL
/* Reports deleted per transaction when the retention expires them. */
#define TA_HISTORY_EXPIRE_CHUNK 50000
/* The queue's bound in bytes besides its bound in reports (setHistoryQueueSize()). */
#define TA_HISTORY_QUEUE_BYTES_MAX (32U * 1024 * 1024)
/* A report not committed this long makes new reports wait: what kill -9 can lose is what was
 * acknowledged within one such interval (and at most the queue's bound). */
#define TA_HISTORY_STALE_USEC (1000ULL * 1000ULL)
/* How long a request waits for room before it is refused (503). */
#define TA_HISTORY_WAIT_USEC (1000ULL * 1000ULL)
/* Between attempts to commit a batch that failed, and for how long at stop. */
#define TA_HISTORY_RETRY_USEC (1000ULL * 1000ULL)
#define TA_HISTORY_STOP_RETRY_USEC (3000ULL * 1000ULL)

/* Opens (creates, migrates) the database and starts the writer thread. */
int ta_history_open(const char *path, uint64_t retention_sec, unsigned queue_size,
                    TaHistory **ret);
/* Writes what is queued, stops the thread, closes. */
TaHistory *ta_history_free(TaHistory *h);
const char *ta_history_path(const TaHistory *h);
/* Back-pressure: wait (at most TA_HISTORY_WAIT_USEC) while the queue is full, i.e. holds
 * setHistoryQueueSize() reports or TA_HISTORY_QUEUE_BYTES_MAX, or its oldest report has not
 * been committed for TA_HISTORY_STALE_USEC (the disk is full, the database locked...).
 * -EAGAIN (counted as refused) if it still is: the report must not be acknowledged. */
int ta_history_wait_room(TaHistory *h);
/* Queue a copy of the report's history fields after ta_history_wait_room(): it is kept (and
 * retried on write errors) whatever happens but kill -9 or a failure at stop; -ENOMEM only. */
int ta_history_add(TaHistory *h, const TaTuple *t, double when);
/* Wait until everything queued so far is committed (tests, console). */
int ta_history_sync(TaHistory *h);
/* Delete reports older than the retention now; returns how many. */
int ta_history_expire(TaHistory *h, uint64_t *ret_deleted);

/* written: committed; refused: not acknowledged (queue full); failed: acknowledged but not
 * stored (the commit at stop failed); write_errors: commits that failed and were retried. */
typedef struct TaHistoryCounters {
        uint64_t written, refused, failed, queued, write_errors;
} TaHistoryCounters;
void ta_history_counters(TaHistory *h, TaHistoryCounters *ret);

/* How report text is stored: as is when it is UTF-8, else every byte that is not part of a
 * well-formed sequence (or is NUL) as \xNN. NULL when s is stored as is. */
char *ta_history_text(const char *s, int *ret_r);

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
