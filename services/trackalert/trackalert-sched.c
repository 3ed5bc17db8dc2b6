/* trackalert-sched.c - schedule parsing and the background-function scheduler: one timer thread
 * hands due jobs to a pool of worker threads that each borrow a Lua state. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "parse.h"
#include "trackalert-lua.h"
#include "trackalert-sched.h"

#define SCHED_JOBS_MAX 256
#define SCHED_THREADS_MAX 64

static int parse_field(const char *s, size_t len, int min, int max, int *ret)
{
        char buf[16];
        uint32_t v;

        if (len == 1 && s[0] == '*') {
                *ret = -1;
                return 0;
        }
        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = '\0';
        for (size_t i = 0; i < len; i++)
                if (!isdigit((unsigned char)buf[i]))
                        return -EINVAL; /* no ranges, lists or steps in the original */
        if (parse_uint32(buf, &v) < 0 || (int)v < min || (int)v > max)
                return -ERANGE;
        *ret = (int)v;
        return 0;
}

int ta_cron_parse(const char *s, TaCron *ret)
{
        static const int lim[5][2] = {{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}};
        int f[5];
        size_t n = 0;
        const char *p = s;
        int r;

        while (*p) {
                size_t len;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                len = strcspn(p, " \t");
                if (n >= 5)
                        return -EINVAL;
                r = parse_field(p, len, lim[n][0], lim[n][1], &f[n]);
                if (r < 0)
                        return r;
                n++;
                p += len;
        }
        if (n != 5)
                return -EINVAL;
        *ret = (TaCron){f[0], f[1], f[2], f[3], f[4]};
        return 0;
}

int64_t ta_cron_next(const TaCron *c, int64_t after)
{
        time_t t = (time_t)(after - after % 60 + 60);
        struct tm tm;

        for (int i = 0; i < 200000; i++) {
                if (!localtime_r(&t, &tm))
                        return -1;
                if (c->mon >= 0 && tm.tm_mon + 1 != c->mon) {
                        tm.tm_mon++;
                        tm.tm_mday = 1;
                        tm.tm_hour = tm.tm_min = 0;
                } else if ((c->dom >= 0 && tm.tm_mday != c->dom) ||
                           (c->dow >= 0 && tm.tm_wday != c->dow)) {
                        tm.tm_mday++;
                        tm.tm_hour = tm.tm_min = 0;
                } else if (c->hour >= 0 && tm.tm_hour != c->hour) {
                        tm.tm_hour++;
                        tm.tm_min = 0;
                } else if (c->min >= 0 && tm.tm_min != c->min)
                        tm.tm_min++;
                else
                        return (int64_t)t;
                tm.tm_sec = 0;
                tm.tm_isdst = -1;
                t = mktime(&tm);
                if (t == (time_t)-1)
                        return -1;
        }
        return -1;
}

static int parse_digits(const char **p, uint64_t *ret)
{
        uint64_t v = 0;
        const char *s = *p;

        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        for (; isdigit((unsigned char)*s); s++) {
                if (v > UINT64_MAX / 10 - 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *p = s;
        *ret = v;
        return 0;
}

int ta_interval_parse(const char *s, uint64_t *ret_usec)
{
        uint64_t h = 0, m = 0, sec = 0, frac = 0, scale = 1000000;
        const char *p = s;

        if (!s)
                return -EINVAL;
        while (*p == ' ')
                p++;
        if (parse_digits(&p, &h) < 0 || h > 1000000)
                return -EINVAL;
        if (*p == ':') {
                p++;
                if (parse_digits(&p, &m) < 0 || m > 1000000)
                        return -EINVAL;
                if (*p == ':') {
                        p++;
                        if (parse_digits(&p, &sec) < 0 || sec > 1000000)
                                return -EINVAL;
                        if (*p == '.') {
                                p++;
                                if (!isdigit((unsigned char)*p))
                                        return -EINVAL;
                                for (; isdigit((unsigned char)*p); p++)
                                        if (scale > 1) {
                                                scale /= 10;
                                                frac += (uint64_t)(*p - '0') * scale;
                                        }
                        }
                }
        }
        while (*p == ' ')
                p++;
        if (*p)
                return -EINVAL;
        *ret_usec = ((h * 60 + m) * 60 + sec) * 1000000ULL + frac;
        return 0;
}

typedef struct Job {
        char *name;
        bool cron;
        TaCron c;
        uint64_t interval_usec;
        uint64_t next_usec; /* CLOCK_REALTIME */
        bool queued;        /* handed to a worker, not yet finished */
} Job;

struct TaScheduler {
        TaRuntime *rt;
        Job jobs[SCHED_JOBS_MAX];
        size_t n_jobs;
        pthread_mutex_t lock;
        pthread_cond_t timer_cond, work_cond;
        size_t work[SCHED_JOBS_MAX]; /* ring of job indexes */
        size_t work_head, work_n;
        pthread_t timer, workers[SCHED_THREADS_MAX];
        unsigned n_workers;
        bool timer_started, stop;
};

int ta_sched_new(TaRuntime *rt, TaScheduler **ret)
{
        TaScheduler *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->rt = rt;
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->timer_cond, NULL);
        pthread_cond_init(&s->work_cond, NULL);
        *ret = s;
        return 0;
}

static uint64_t now_rt(void)
{
        return ta_now_realtime_usec();
}

static uint64_t cron_next_usec(const TaCron *c, uint64_t after_usec)
{
        int64_t t = ta_cron_next(c, (int64_t)(after_usec / 1000000ULL));
        return t < 0 ? UINT64_MAX : (uint64_t)t * 1000000ULL;
}

static int add_job(TaScheduler *s, const Job *j)
{
        int r = 0;

        pthread_mutex_lock(&s->lock);
        if (s->n_jobs >= SCHED_JOBS_MAX)
                r = -E2BIG;
        else {
                s->jobs[s->n_jobs] = *j;
                s->jobs[s->n_jobs].name = strdup(j->name);
                if (!s->jobs[s->n_jobs].name)
                        r = -ENOMEM;
                else
                        s->n_jobs++;
                pthread_cond_signal(&s->timer_cond);
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

int ta_sched_add_cron(TaScheduler *s, const TaCron *cron, const char *name)
{
        Job j = {.name = (char *)name, .cron = true, .c = *cron};

        j.next_usec = cron_next_usec(cron, now_rt());
        return add_job(s, &j);
}

int ta_sched_add_interval(TaScheduler *s, uint64_t usec, const char *name)
{
        Job j = {.name = (char *)name, .interval_usec = usec};

        j.next_usec = now_rt() + usec; /* the first run is one interval after scheduling */
        return add_job(s, &j);
}

unsigned ta_sched_count(TaScheduler *s)
{
        return (unsigned)s->n_jobs;
}

static void *timer_thread(void *userdata)
{
        TaScheduler *s = userdata;

        pthread_mutex_lock(&s->lock);
        while (!s->stop) {
                uint64_t now = now_rt(), next = UINT64_MAX;
                struct timespec ts;

                for (size_t i = 0; i < s->n_jobs; i++) {
                        Job *j = &s->jobs[i];

                        if (j->queued)
                                continue;
                        if (j->next_usec <= now) {
                                j->queued = true;
                                s->work[(s->work_head + s->work_n) % SCHED_JOBS_MAX] = i;
                                s->work_n++;
                                pthread_cond_signal(&s->work_cond);
                                continue;
                        }
                        next = MIN(next, j->next_usec);
                }
                if (next == UINT64_MAX) {
                        pthread_cond_wait(&s->timer_cond, &s->lock);
                        continue;
                }
                ts.tv_sec = (time_t)(next / 1000000ULL);
                ts.tv_nsec = (long)(next % 1000000ULL) * 1000L;
                (void)pthread_cond_timedwait(&s->timer_cond, &s->lock, &ts);
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

static void *worker_thread(void *userdata)
{
        TaScheduler *s = userdata;

        pthread_mutex_lock(&s->lock);
        for (;;) {
                _cleanup_free_ char *name = NULL;
                size_t i;

                while (s->work_n == 0 && !s->stop)
                        pthread_cond_wait(&s->work_cond, &s->lock);
                if (s->stop)
                        break;
                i = s->work[s->work_head];
                s->work_head = (s->work_head + 1) % SCHED_JOBS_MAX;
                s->work_n--;
                name = strdup(s->jobs[i].name);
                pthread_mutex_unlock(&s->lock);

                if (name) {
                        log_debug("Running background function '%s'.", name);
                        (void)ta_lua_background(s->rt, name);
                }

                pthread_mutex_lock(&s->lock);
                {
                        Job *j = &s->jobs[i];
                        uint64_t now = now_rt();

                        /* Re-armed after the run finishes, as in the original. */
                        j->next_usec = j->cron ? cron_next_usec(&j->c, now)
                                               : now + j->interval_usec;
                        j->queued = false;
                        pthread_cond_signal(&s->timer_cond);
                }
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

int ta_sched_start(TaScheduler *s, unsigned threads)
{
        int r;

        if (s->n_jobs == 0)
                return 0; /* nothing scheduled: no threads (the console cannot add any) */
        threads = MAX(MIN(threads, (unsigned)SCHED_THREADS_MAX), 1u);
        for (unsigned i = 0; i < threads; i++) {
                r = -pthread_create(&s->workers[i], NULL, worker_thread, s);
                if (r < 0)
                        return r;
                s->n_workers++;
        }
        r = -pthread_create(&s->timer, NULL, timer_thread, s);
        if (r < 0)
                return r;
        s->timer_started = true;
        return 0;
}

TaScheduler *ta_sched_free(TaScheduler *s)
{
        if (!s)
                return NULL;
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_cond_broadcast(&s->timer_cond);
        pthread_cond_broadcast(&s->work_cond);
        pthread_mutex_unlock(&s->lock);
        if (s->timer_started)
                pthread_join(s->timer, NULL);
        for (unsigned i = 0; i < s->n_workers; i++)
                pthread_join(s->workers[i], NULL);
        for (size_t i = 0; i < s->n_jobs; i++)
                free(s->jobs[i].name);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->timer_cond);
        pthread_cond_destroy(&s->work_cond);
        free(s);
        return NULL;
}
