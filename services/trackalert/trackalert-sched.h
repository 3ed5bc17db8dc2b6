/* trackalert-sched.h - background functions on the original's schedules: a 5-field cron whose
 * fields are '*' or one number (local time), and "h[h][:mm][:ss]" intervals. */
#pragma once

#include <stdint.h>
#include <time.h>

#include "trackalert-runtime.h"

typedef struct TaCron {
        int min, hour, dom, mon, dow; /* -1 for '*' */
} TaCron;

int ta_cron_parse(const char *s, TaCron *ret);
/* The first time > after (whole minutes, local time) that matches, or -1 if none in 5 years. */
int64_t ta_cron_next(const TaCron *c, int64_t after);
/* boost::posix_time::duration_from_string: "10" is 10 hours, "00:00:01" one second. */
int ta_interval_parse(const char *s, uint64_t *ret_usec);

int ta_sched_new(TaRuntime *rt, TaScheduler **ret);
TaScheduler *ta_sched_free(TaScheduler *s);
int ta_sched_add_cron(TaScheduler *s, const TaCron *cron, const char *name);
int ta_sched_add_interval(TaScheduler *s, uint64_t usec, const char *name);
int ta_sched_start(TaScheduler *s, unsigned threads);
unsigned ta_sched_count(TaScheduler *s);
