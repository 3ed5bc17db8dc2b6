/* nacct-report-query.h - nacct-report's questions to nacct.db, answered as rows. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "macro.h"

typedef enum NrKind {
        NR_HOSTS,      /* top hosts */
        NR_USERS,      /* top users */
        NR_PORTS,      /* top ports */
        NR_PROTOCOLS,  /* top protocols */
        NR_INTERFACES, /* top interfaces */
        NR_DAILY,      /* totals per day */
        NR_MONTHLY,    /* totals per month */
        NR_TIMELINE,   /* totals over time */
        NR_HOST,       /* one host over time */
        NR_USER,       /* one user over time */
        _NR_KIND_MAX,
} NrKind;

typedef enum NrBucket {
        NR_BY_HOUR,
        NR_BY_DAY,
        NR_BY_MONTH,
        _NR_BY_MAX,
} NrBucket;

typedef struct NrRow {
        char *name;   /* host, user, protocol name, interface, or the time bucket's label */
        int64_t time; /* start of the time bucket (unix seconds), for series */
        int64_t proto;
        int64_t port;
        int64_t bytes_in;
        int64_t bytes_out;
        int64_t packets_in;
        int64_t packets_out;
        int64_t bytes;   /* in + out, or the total of a day/month/bucket */
        int64_t packets; /* likewise */
} NrRow;

typedef struct NrRows {
        NrRow *rows;
        size_t n;
        size_t allocated;
} NrRows;

void nr_rows_done(NrRows *rows);
#define _cleanup_nr_rows_ _cleanup_(nr_rows_done)

typedef struct NrFilter {
        int64_t since;       /* first second counted, or INT64_MIN */
        int64_t until;       /* first second not counted, or INT64_MAX */
        int64_t top;         /* at most this many rows for the top-N kinds; 0: all */
        const char *subject; /* NR_HOST: address, NR_USER: name */
        NrBucket by;
} NrFilter;

const char *nr_kind_to_string(NrKind k);
int nr_kind_from_string(const char *s);   /* NrKind or -EINVAL */
int nr_bucket_from_string(const char *s); /* NrBucket or -EINVAL */
bool nr_kind_is_series(NrKind k);         /* rows are points in time (can be charted) */
bool nr_kind_has_direction(NrKind k);     /* rows have in and out */

/* "YYYY-MM-DD" (local midnight) -> unix seconds. */
int nr_parse_date(const char *s, int64_t *ret);
/* A host as stored: IPv6 in canonical text form. -EINVAL if not an address. */
int nr_normalize_host(const char *s, char *buf, size_t size);

/* On success *ret holds the rows (free with nr_rows_done()). */
int nr_query(sqlite3 *db, NrKind kind, const NrFilter *f, NrRows *ret);

/* The bin size recorded by nacctd, 0 if unknown. */
int64_t nr_bin_seconds(sqlite3 *db);
