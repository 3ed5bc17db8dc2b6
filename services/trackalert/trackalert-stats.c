/* trackalert-stats.c - counters without locks on the request path, and their text forms. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "macro.h"
#include "trackalert-stats.h"

static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;

uint64_t ta_now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

uint64_t ta_now_realtime_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

void ta_windowed_inc(TaWindowed *w, uint64_t now_sec)
{
        uint64_t e = now_sec / TA_WINDOW_SEC + 1; /* never 0: 0 marks an unused slot */
        size_t i = e % TA_WINDOWS;
        uint64_t old = __atomic_load_n(&w->epoch[i], __ATOMIC_ACQUIRE);

        /* The first writer of a new window resets it; counts racing with the reset may be
         * lost, which is the same "approximate" the original promises. */
        if (old != e && __atomic_compare_exchange_n(&w->epoch[i], &old, e, false, __ATOMIC_ACQ_REL,
                                                    __ATOMIC_ACQUIRE))
                __atomic_store_n(&w->count[i], 0, __ATOMIC_RELEASE);
        __atomic_add_fetch(&w->count[i], 1, __ATOMIC_RELAXED);
}

uint64_t ta_windowed_sum(const TaWindowed *w, uint64_t now_sec)
{
        uint64_t e = now_sec / TA_WINDOW_SEC + 1, sum = 0;

        for (size_t i = 0; i < TA_WINDOWS; i++) {
                uint64_t ep = __atomic_load_n(&w->epoch[i], __ATOMIC_ACQUIRE);
                if (ep != 0 && ep + TA_WINDOWS > e && ep <= e)
                        sum += __atomic_load_n(&w->count[i], __ATOMIC_RELAXED);
        }
        return sum;
}

size_t ta_counter_set_size(const TaCounterSet *s)
{
        return __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
}

TaCounter *ta_counter_set_find(TaCounterSet *s, const char *name)
{
        size_t n = ta_counter_set_size(s);

        for (size_t i = 0; i < n; i++)
                if (streq(s->items[i].name, name))
                        return &s->items[i];
        return NULL;
}

int ta_counter_set_add(TaCounterSet *s, const char *name)
{
        int r = 0;

        if (strlen(name) >= TA_STATS_NAME_MAX)
                return -ENAMETOOLONG;
        pthread_mutex_lock(&names_lock);
        if (!ta_counter_set_find(s, name)) {
                size_t n = s->n;
                if (n >= TA_STATS_NAMES_MAX)
                        r = -E2BIG;
                else {
                        memset(&s->items[n], 0, sizeof(s->items[n]));
                        strcpy(s->items[n].name, name);
                        __atomic_store_n(&s->n, n + 1, __ATOMIC_RELEASE);
                }
        }
        pthread_mutex_unlock(&names_lock);
        return r;
}

TaStats *ta_stats_new(void)
{
        TaStats *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        s->start_usec = ta_now_usec();
        /* The built-in commands, in the order the original lists them. */
        (void)ta_counter_set_add(&s->commands, "report");
        (void)ta_counter_set_add(&s->commands, "stats");
        (void)ta_counter_set_add(&s->commands, "readyz");
        (void)ta_counter_set_add(&s->commands, "livez");
        return s;
}

TaStats *ta_stats_free(TaStats *s)
{
        free(s);
        return NULL;
}

static uint64_t now_sec(void)
{
        return ta_now_usec() / 1000000ULL;
}

void ta_stats_command(TaStats *s, const char *cmd, uint64_t usec)
{
        TaCounter *c = ta_counter_set_find(&s->commands, cmd);
        uint64_t sec = now_sec();
        int perf, h;

        if (c) {
                __atomic_add_fetch(&c->total, 1, __ATOMIC_RELAXED);
                ta_windowed_inc(&c->window, sec);
        }
        perf = usec < 1000      ? TA_PERF_0_1
               : usec < 10000   ? TA_PERF_1_10
               : usec < 100000  ? TA_PERF_10_100
               : usec < 1000000 ? TA_PERF_100_1000
                                : TA_PERF_SLOW;
        ta_windowed_inc(&s->perf[perf], sec);
        h = perf < TA_HIST_BUCKETS ? perf : TA_HIST_BUCKETS;
        __atomic_add_fetch(&s->hist[h], 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&s->hist_count, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&s->hist_sum_usec, usec, __ATOMIC_RELAXED);
}

void ta_stats_report(TaStats *s)
{
        __atomic_add_fetch(&s->reports, 1, __ATOMIC_RELAXED);
}

bool ta_stats_custom_inc(TaStats *s, const char *name)
{
        TaCounter *c = ta_counter_set_find(&s->custom, name);

        if (!c)
                return false;
        __atomic_add_fetch(&c->total, 1, __ATOMIC_RELAXED);
        ta_windowed_inc(&c->window, now_sec());
        return true;
}

static const char *const perf_names[_TA_PERF_MAX] = {"0_1", "1_10", "10_100", "100_1000", "Slow"};

void ta_stats_json(TaStats *s, TaBuf *b)
{
        /* json11 sorts keys: 0_1, 100_1000, 10_100, 1_10, Slow. */
        static const int order[_TA_PERF_MAX] = {TA_PERF_0_1, TA_PERF_100_1000, TA_PERF_10_100,
                                                TA_PERF_1_10, TA_PERF_SLOW};
        struct rusage ru = {};
        uint64_t sec = now_sec();

        (void)getrusage(RUSAGE_SELF, &ru);
        ta_buf_puts(b, "{\"perfstats\": {");
        for (int i = 0; i < _TA_PERF_MAX; i++)
                ta_buf_printf(b, "\"WTR_%s\": %llu, ", perf_names[order[i]],
                              (unsigned long long)ta_windowed_sum(&s->perf[order[i]], sec));
        for (int i = 0; i < _TA_PERF_MAX; i++)
                ta_buf_printf(b, "\"WTW_%s\": 0%s", perf_names[order[i]],
                              i + 1 < _TA_PERF_MAX ? ", " : "");
        ta_buf_printf(b,
                      "}, \"reports\": %llu, \"sys-msec\": %llu, \"uptime\": %llu, "
                      "\"user-msec\": %llu}",
                      (unsigned long long)__atomic_load_n(&s->reports, __ATOMIC_RELAXED),
                      (unsigned long long)ru.ru_stime.tv_sec * 1000ULL +
                              (unsigned long long)ru.ru_stime.tv_usec / 1000ULL,
                      (unsigned long long)((ta_now_usec() - s->start_usec) / 1000000ULL),
                      (unsigned long long)ru.ru_utime.tv_sec * 1000ULL +
                              (unsigned long long)ru.ru_utime.tv_usec / 1000ULL);
}

void ta_stats_perf_text(TaStats *s, TaBuf *b)
{
        uint64_t sec = now_sec();

        for (int i = 0; i < _TA_PERF_MAX; i++)
                ta_buf_printf(b, "WTW_%s=0\n", perf_names[i]);
        for (int i = 0; i < _TA_PERF_MAX; i++)
                ta_buf_printf(b, "WTR_%s=%llu\n", perf_names[i],
                              (unsigned long long)ta_windowed_sum(&s->perf[i], sec));
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp((*(const TaCounter *const *)a)->name, (*(const TaCounter *const *)b)->name);
}

/* Sorted by name (byte order), as the original printed its std::set. */
static void counters_text(TaCounterSet *set, TaBuf *b)
{
        uint64_t sec = now_sec();
        size_t n = ta_counter_set_size(set);
        TaCounter **sorted = calloc(n ? n : 1, sizeof(TaCounter *));

        if (!sorted) {
                b->oom = true;
                return;
        }
        for (size_t i = 0; i < n; i++)
                sorted[i] = &set->items[i];
        qsort(sorted, n, sizeof(TaCounter *), name_cmp);
        for (size_t i = 0; i < n; i++)
                ta_buf_printf(b, "%s=%llu\n", sorted[i]->name,
                              (unsigned long long)ta_windowed_sum(&sorted[i]->window, sec));
        free(sorted);
}

void ta_stats_commands_text(TaStats *s, TaBuf *b)
{
        counters_text(&s->commands, b);
}

void ta_stats_custom_text(TaStats *s, TaBuf *b)
{
        counters_text(&s->custom, b);
}

static void label_value(TaBuf *b, const char *v)
{
        for (; *v; v++) {
                if (*v == '\\' || *v == '"')
                        ta_buf_add(b, "\\", 1);
                if (*v == '\n') {
                        ta_buf_puts(b, "\\n");
                        continue;
                }
                ta_buf_add(b, v, 1);
        }
}

static void histogram(TaBuf *b, const char *name, const char *help, const uint64_t *buckets,
                      uint64_t count, uint64_t sum_usec)
{
        static const char *const le[TA_HIST_BUCKETS] = {"0.001", "0.01", "0.1", "1"};
        uint64_t cum = 0;

        ta_buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
        for (int i = 0; i < TA_HIST_BUCKETS; i++) {
                cum += buckets ? __atomic_load_n(&buckets[i], __ATOMIC_RELAXED) : 0;
                ta_buf_printf(b, "%s_bucket{le=\"%s\"} %llu\n", name, le[i],
                              (unsigned long long)cum);
        }
        ta_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
                      (unsigned long long)count, name, (double)sum_usec / 1e6, name,
                      (unsigned long long)count);
}

void ta_stats_prometheus(TaStats *s, const TaGauges *g, TaBuf *b)
{
        size_t n;

        ta_buf_puts(b, "# HELP trackalert_commands_total Number of REST API commands served\n"
                       "# TYPE trackalert_commands_total counter\n");
        n = ta_counter_set_size(&s->commands);
        for (size_t i = 0; i < n; i++) {
                ta_buf_puts(b, "trackalert_commands_total{cmd=\"");
                label_value(b, s->commands.items[i].name);
                ta_buf_printf(b, "\"} %llu\n",
                              (unsigned long long)__atomic_load_n(&s->commands.items[i].total,
                                                                  __ATOMIC_RELAXED));
        }
        ta_buf_puts(b, "# HELP trackalert_custom_stats_total Custom statistics incremented by Lua\n"
                       "# TYPE trackalert_custom_stats_total counter\n");
        n = ta_counter_set_size(&s->custom);
        for (size_t i = 0; i < n; i++) {
                ta_buf_puts(b, "trackalert_custom_stats_total{metric=\"");
                label_value(b, s->custom.items[i].name);
                ta_buf_printf(b, "\"} %llu\n",
                              (unsigned long long)__atomic_load_n(&s->custom.items[i].total,
                                                                  __ATOMIC_RELAXED));
        }
        ta_buf_printf(b,
                      "# HELP trackalert_active_http_connections Open HTTP connections\n"
                      "# TYPE trackalert_active_http_connections gauge\n"
                      "trackalert_active_http_connections %llu\n"
                      "# HELP trackalert_web_queue_size Requests waiting for a worker (always 0)\n"
                      "# TYPE trackalert_web_queue_size gauge\n"
                      "trackalert_web_queue_size 0\n"
                      "# HELP trackalert_webhook_queue_size Webhook deliveries queued\n"
                      "# TYPE trackalert_webhook_queue_size gauge\n"
                      "trackalert_webhook_queue_size %llu\n",
                      (unsigned long long)g->active_connections,
                      (unsigned long long)g->webhook_queue_size);
        histogram(b, "trackalert_worker_queue_duration_seconds",
                  "Time requests waited for a worker (never observed)", NULL, 0, 0);
        histogram(b, "trackalert_worker_response_duration_seconds",
                  "Time a worker took to run a command", s->hist,
                  __atomic_load_n(&s->hist_count, __ATOMIC_RELAXED),
                  __atomic_load_n(&s->hist_sum_usec, __ATOMIC_RELAXED));
}
