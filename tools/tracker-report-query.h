/* tracker-report-query.h - tracker-report's questions to trackerd's database, answered as rows. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "macro.h"

#define REPORT_DATE_LEN 10     /* "YYYY-MM-DD" */
#define REPORT_DAYS_MAX 365000 /* --days beyond this is a typo, not a question */
#define REPORT_NEVER INT64_MIN /* a time that did not happen: tracked, never used */

typedef enum ReportKind {
        REPORT_PROGRAMS,
        REPORT_USERS,
        REPORT_DAILY,
        REPORT_UNUSED,
        REPORT_REJECTS,
        _REPORT_KIND_MAX,
} ReportKind;

/* One line of any report; which fields mean something depends on the ReportKind. */
typedef struct ReportRow {
        char *name;       /* program, user, day (YYYY-MM-DD) or reject reason */
        int64_t runs;     /* runs; for rejects the count */
        int64_t users;    /* distinct users */
        int64_t programs; /* distinct programs */
        int64_t hosts;    /* distinct hosts */
        int64_t first;    /* unix seconds */
        int64_t last;     /* unix seconds, or REPORT_NEVER */
} ReportRow;

typedef struct ReportRows {
        ReportRow *rows;
        size_t n;
        size_t allocated;
} ReportRows;

void report_rows_done(ReportRows *rows);
#define _cleanup_rows_ _cleanup_(report_rows_done)

typedef struct ReportFilter {
        const char *since;    /* first day counted, YYYY-MM-DD, or NULL for no limit */
        const char *until;    /* last day counted, or NULL */
        const char *program;  /* REPORT_DAILY: the program */
        const char *before;   /* REPORT_UNUSED: unused means no run on or after this day */
        char *const *tracked; /* REPORT_UNUSED: names listed even if never used, sorted, unique */
        size_t n_tracked;
        char *const *tracked_paths; /* REPORT_UNUSED: the paths listed, shown for their names */
        size_t n_tracked_paths;
        const char *host; /* PROGRAMS, USERS, DAILY: only uses from this host; NULL: all */
        /* REPORT_USERS: only the users of this program; NULL: all */
        const char *user_program;
} ReportFilter;

const char *report_kind_to_string(ReportKind k);
int report_kind_from_string(const char *s); /* a ReportKind, or -EINVAL */

/* On success each sets *ret, to be freed with report_rows_done(); on failure *ret is untouched. */
int report_query_programs(sqlite3 *db, const ReportFilter *f, ReportRows *ret);
int report_query_users(sqlite3 *db, const ReportFilter *f, ReportRows *ret);
int report_query_daily(sqlite3 *db, const ReportFilter *f, ReportRows *ret);
int report_query_unused(sqlite3 *db, const ReportFilter *f, ReportRows *ret);
int report_query_rejects(sqlite3 *db, const ReportFilter *f, ReportRows *ret);
int report_query(sqlite3 *db, ReportKind kind, const ReportFilter *f, ReportRows *ret);

/* True for an existing calendar day written exactly as YYYY-MM-DD. */
bool report_date_is_valid(const char *s);

/* The local calendar day that was days days before the one now falls on. */
int report_date_days_before(time_t now, uint64_t days, char ret[static REPORT_DATE_LEN + 1]);

/* A list of program names, sorted and without duplicates once report_names_sort() ran. */
typedef struct ReportNames {
        char **names;
        size_t n;
        size_t allocated;
        struct ReportNames *paths; /* the entries as written (paths), from report_names_load() */
} ReportNames;

void report_names_done(ReportNames *names);
#define _cleanup_names_ _cleanup_(report_names_done)
void report_names_sort(ReportNames *names);

/* Add the programs listed in a --tracked file: one name or path per line (a path counts by its
 * base name), optionally followed by the word "force" as in tracked.d lists, blank lines and
 * lines starting with '#' ignored. The paths as written go to names->paths. On -EINVAL,
 * *ret_line is the offending line; on other errors it is 0. */
int report_names_load(ReportNames *names, const char *path, unsigned *ret_line);
