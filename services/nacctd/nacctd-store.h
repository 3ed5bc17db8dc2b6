/* nacctd-store.h - nacct.db: traffic per time bin by host, user, protocol, port and interface,
 * bytes and packets in and out, written in one transaction per flush. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "macro.h"

#include "nacctd-agg.h"

extern const char *const nacct_store_migrations[];
extern const size_t nacct_store_n_migrations;

typedef struct NacctStore NacctStore;

int nacct_store_open(const char *path, NacctStore **ret);
NacctStore *nacct_store_free(NacctStore *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(NacctStore *, nacct_store_free)
sqlite3 *nacct_store_db(NacctStore *s);

/* Add every aggregate of a to the database in one transaction; on failure nothing is written
 * and a is left as it was, to be retried. bin_sec is recorded for the reports. */
int nacct_store_commit(NacctStore *s, const NacctAgg *a, uint64_t bin_sec);

/* Delete bins that start before cutoff; *ret_deleted rows. */
int nacct_store_expire(NacctStore *s, int64_t cutoff, uint64_t *ret_deleted);
