/* trackalert-stats.h - built-in, command and custom counters: totals for Prometheus and
 * 5-minute windows (20 x 15 s) for the console, as the original keeps them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trackalert-tuple.h"

#define TA_STATS_NAMES_MAX 256
#define TA_STATS_NAME_MAX 128
#define TA_WINDOWS 20
#define TA_WINDOW_SEC 15

typedef struct TaWindowed {
        uint64_t epoch[TA_WINDOWS];
        uint64_t count[TA_WINDOWS];
} TaWindowed;

typedef struct TaCounter {
        char name[TA_STATS_NAME_MAX];
        uint64_t total;
        TaWindowed window;
} TaCounter;

/* A fixed-size table: names are added under a lock, looked up and counted without one. */
typedef struct TaCounterSet {
        TaCounter items[TA_STATS_NAMES_MAX];
        size_t n; /* atomic */
} TaCounterSet;

enum { TA_PERF_0_1, TA_PERF_1_10, TA_PERF_10_100, TA_PERF_100_1000, TA_PERF_SLOW, _TA_PERF_MAX };

#define TA_HIST_BUCKETS 4 /* 0.001, 0.01, 0.1, 1, then +Inf */

typedef struct TaStats {
        uint64_t start_usec; /* CLOCK_MONOTONIC */
        uint64_t reports;
        TaWindowed perf[_TA_PERF_MAX]; /* WTR_*: handler run time */
        uint64_t hist[TA_HIST_BUCKETS + 1];
        uint64_t hist_count;
        uint64_t hist_sum_usec;
        TaCounterSet commands;
        TaCounterSet custom;
} TaStats;

uint64_t ta_now_usec(void);   /* CLOCK_MONOTONIC */
uint64_t ta_now_realtime_usec(void);

void ta_windowed_inc(TaWindowed *w, uint64_t now_sec);
uint64_t ta_windowed_sum(const TaWindowed *w, uint64_t now_sec);

int ta_counter_set_add(TaCounterSet *s, const char *name); /* idempotent */
TaCounter *ta_counter_set_find(TaCounterSet *s, const char *name);
size_t ta_counter_set_size(const TaCounterSet *s);

TaStats *ta_stats_new(void);
TaStats *ta_stats_free(TaStats *s);
/* A routed command finished after usec: counts it and feeds WTR_* and the histogram. */
void ta_stats_command(TaStats *s, const char *cmd, uint64_t usec);
void ta_stats_report(TaStats *s);
bool ta_stats_custom_inc(TaStats *s, const char *name);

/* The stats JSON of GET stats, json11 style. */
void ta_stats_json(TaStats *s, TaBuf *b);
/* name=value lines as the console prints them. */
void ta_stats_perf_text(TaStats *s, TaBuf *b);
void ta_stats_commands_text(TaStats *s, TaBuf *b);
void ta_stats_custom_text(TaStats *s, TaBuf *b);

typedef struct TaGauges {
        uint64_t active_connections;
        uint64_t webhook_queue_size;
} TaGauges;
/* Prometheus text exposition of everything counted here. */
void ta_stats_prometheus(TaStats *s, const TaGauges *g, TaBuf *b);
