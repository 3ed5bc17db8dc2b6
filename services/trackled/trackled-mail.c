/* trackled-mail.c - the mail queue: rows of mail_queue are sent by a short-lived thread that
 * only talks SMTP (lib/smtp, libcurl) and never touches the database; the event loop deletes a
 * row once the relay took it, or counts the attempt and schedules the next with a growing
 * delay. So a slow relay never stalls the recording of sessions, and nothing is dropped. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <sodium.h>

#include "log.h"
#include "macro.h"
#include "smtp.h"
#include "state.h"
#include "trackled-mail.h"

#define USEC_PER_SEC 1000000ULL

typedef struct MailJob {
        int64_t id;
        char *to, *message;
        int result;
        char *error;
} MailJob;

struct TrackledMail {
        const TrackledConfig *config;
        TrackledStore *store;
        sd_event_source *timer, *done_src;
        int done_fd;
        pthread_t thread;
        bool running;
        MailJob jobs[MAIL_BATCH];
        size_t n_jobs;
        char *relay, *from; /* copies for the thread */
};

static void resetp(sqlite3_stmt **st)
{
        if (*st) {
                sqlite3_reset(*st);
                sqlite3_clear_bindings(*st);
        }
}
#define _cleanup_reset_ _cleanup_(resetp)

static const char sql_queue[] = "INSERT INTO mail_queue (created, recipient, message, "
                                "next_attempt) VALUES (?, ?, ?, ?)";
static const char sql_due[] = "SELECT id, recipient, message FROM mail_queue WHERE "
                              "next_attempt <= ? ORDER BY next_attempt, id LIMIT ?";
static const char sql_next[] = "SELECT min(next_attempt) FROM mail_queue";
static const char sql_sent[] = "DELETE FROM mail_queue WHERE id = ?";
static const char sql_failed[] = "UPDATE mail_queue SET attempts = attempts + 1, "
                                 "next_attempt = ? + min(?, ? << min(attempts, 20)), "
                                 "last_error = ? WHERE id = ?";

static bool ascii_only(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s >= 0x80)
                        return false;
        return true;
}

/* A header value on one line; non-ASCII as an RFC 2047 encoded word. */
static void put_header(FILE *f, const char *name, const char *value)
{
        _cleanup_free_ char *line = strdup(value);
        char *p;

        if (!line)
                return;
        for (p = line; *p; p++)
                if (*p == '\r' || *p == '\n' || (unsigned char)*p < ' ')
                        *p = ' ';
        if (ascii_only(line)) {
                fprintf(f, "%s: %s\n", name, line);
                return;
        }
        {
                size_t n = strlen(line),
                       blen = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
                _cleanup_free_ char *b = malloc(blen);

                if (!b)
                        return;
                sodium_bin2base64(b, blen, (const unsigned char *)line, n,
                                  sodium_base64_VARIANT_ORIGINAL);
                fprintf(f, "%s: =?UTF-8?B?%s?=\n", name, b);
        }
}

static int message_build(TrackledMail *m, const char *to, const char *subject, const char *body,
                         char **ret)
{
        _cleanup_free_ char *qp = smtp_body_encode(body);
        char *text = NULL, date[64], id[33];
        size_t len = 0;
        time_t now = time(NULL);
        struct tm tm;
        FILE *f;

        if (!qp)
                return -ENOMEM;
        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
        {
                uint8_t b[16];

                randombytes_buf(b, sizeof(b));
                sodium_bin2hex(id, sizeof(id), b, sizeof(b));
        }
        put_header(f, "From", m->config->mail_from);
        put_header(f, "To", to);
        put_header(f, "Subject", subject);
        fprintf(f, "Date: %s\n", date);
        fprintf(f, "Message-ID: <%s@trackle>\n", id);
        fputs(SMTP_TEXT_MIME_HEADERS "Auto-Submitted: auto-generated\n\n", f);
        fputs(qp, f);
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        *ret = text;
        return 0;
}

int trackled_mail_queue(TrackledMail *m, const char *to, const char *subject, const char *body)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *text = NULL;
        int64_t now = trackled_store_now(m->store);
        int rc, r;

        if (!smtp_address_valid(to))
                return -EINVAL;
        r = message_build(m, to, subject, body, &text);
        if (r < 0)
                return r;
        st = trackled_store_stmt(m->store, sql_queue);
        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_text(st, 2, to, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 3, text, (int)strlen(text), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, now);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return state_errno(rc);
        trackled_mail_kick(m);
        return 0;
}

void trackled_mail_kick(TrackledMail *m)
{
        if (!m || m->running)
                return;
        (void)sd_event_source_set_time_relative(m->timer, 0);
        (void)sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
}

static void *sender_main(void *userdata)
{
        TrackledMail *m = userdata;
        uint64_t one = 1;

        for (size_t i = 0; i < m->n_jobs; i++) {
                MailJob *j = &m->jobs[i];
                const char *rcpt[] = {j->to};

                j->result = smtp_send(m->relay, m->from, rcpt, 1, j->message, &j->error);
        }
        /* An eventfd write of 8 bytes cannot fail short of a counter overflow. */
        if (write(m->done_fd, &one, sizeof(one)) < 0)
                return NULL;
        return NULL;
}

static void jobs_clear(TrackledMail *m)
{
        for (size_t i = 0; i < m->n_jobs; i++) {
                free(m->jobs[i].to);
                free(m->jobs[i].message);
                free(m->jobs[i].error);
        }
        m->n_jobs = 0;
}

/* Arms the timer for the earliest due row (if any). */
static void schedule(TrackledMail *m)
{
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(m->store, sql_next);
        int64_t next, now = trackled_store_now(m->store);

        if (!st || sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL) {
                (void)sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
                return;
        }
        next = sqlite3_column_int64(st, 0);
        (void)sd_event_source_set_time_relative(
                m->timer, next > now ? (uint64_t)(next - now) * USEC_PER_SEC : 0);
        (void)sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        TrackledMail *m = userdata;
        int rc, r;

        if (m->running)
                return 0;
        {
                _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(m->store, sql_due);

                if (!st)
                        return 0;
                sqlite3_bind_int64(st, 1, trackled_store_now(m->store));
                sqlite3_bind_int(st, 2, MAIL_BATCH);
                while (m->n_jobs < MAIL_BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                        MailJob *j = &m->jobs[m->n_jobs];
                        const void *b = sqlite3_column_blob(st, 2);
                        int n = sqlite3_column_bytes(st, 2);

                        *j = (MailJob){.id = sqlite3_column_int64(st, 0)};
                        j->to = strdup((const char *)sqlite3_column_text(st, 1));
                        j->message = malloc((size_t)n + 1);
                        if (!j->to || !j->message) {
                                free(j->to);
                                free(j->message);
                                break;
                        }
                        memcpy(j->message, b ?: "", (size_t)n);
                        j->message[n] = '\0';
                        m->n_jobs++;
                }
        }
        if (m->n_jobs == 0) {
                schedule(m);
                return 0;
        }
        r = -pthread_create(&m->thread, NULL, sender_main, m);
        if (r < 0) {
                log_warning_errno(r, "Cannot start the mail sender, trying again later: %m");
                jobs_clear(m);
                (void)sd_event_source_set_time_relative(m->timer,
                                                        MAIL_RETRY_FIRST_SEC * USEC_PER_SEC);
                (void)sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
                return 0;
        }
        m->running = true;
        return 0;
}

static int on_done(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        TrackledMail *m = userdata;
        int64_t now = trackled_store_now(m->store);
        uint64_t v;

        if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                log_debug_errno(errno, "Reading the mail sender's eventfd failed: %m");
        if (!m->running)
                return 0;
        pthread_join(m->thread, NULL);
        m->running = false;
        for (size_t i = 0; i < m->n_jobs; i++) {
                MailJob *j = &m->jobs[i];
                _cleanup_reset_ sqlite3_stmt *st = NULL;

                if (j->result >= 0) {
                        st = trackled_store_stmt(m->store, sql_sent);
                        if (!st)
                                continue;
                        sqlite3_bind_int64(st, 1, j->id);
                        log_info("Mail %" PRId64 " to <%s> sent.", j->id, j->to);
                } else {
                        st = trackled_store_stmt(m->store, sql_failed);
                        if (!st)
                                continue;
                        sqlite3_bind_int64(st, 1, now);
                        sqlite3_bind_int64(st, 2, MAIL_RETRY_MAX_SEC);
                        sqlite3_bind_int64(st, 3, MAIL_RETRY_FIRST_SEC);
                        sqlite3_bind_text(st, 4, j->error ?: strerror(-j->result), -1,
                                          SQLITE_TRANSIENT);
                        sqlite3_bind_int64(st, 5, j->id);
                        log_warning("Mail %" PRId64 " to <%s> not sent, will try again: %s", j->id,
                                    j->to, j->error ?: strerror(-j->result));
                }
                (void)sqlite3_step(st);
        }
        jobs_clear(m);
        schedule(m);
        return 0;
}

int trackled_mail_new(sd_event *event, const TrackledConfig *config, TrackledStore *store,
                      TrackledMail **ret)
{
        TrackledMail *m;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->config = config;
        m->store = store;
        m->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        m->relay = strdup(config->mail_relay);
        m->from = strdup(config->mail_from);
        if (m->done_fd < 0 || !m->relay || !m->from) {
                trackled_mail_free(m);
                return -ENOMEM;
        }
        r = sd_event_add_io(event, &m->done_src, m->done_fd, EPOLLIN, on_done, m);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &m->timer, CLOCK_MONOTONIC, 0, 0, on_timer,
                                               m);
        if (r < 0) {
                trackled_mail_free(m);
                return r;
        }
        /* Whatever an earlier run left in the queue goes out now. */
        (void)sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
        *ret = m;
        return 0;
}

TrackledMail *trackled_mail_free(TrackledMail *m)
{
        if (!m)
                return NULL;
        if (m->running) {
                struct timespec ts;

                /* A relay that hangs must not hold the stop for libcurl's timeout: after a few
                 * seconds the sender is left to the process's exit (with the state it uses,
                 * never freed). Its rows stay queued: sent again after the restart at worst,
                 * never lost. */
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += MAIL_STOP_WAIT_SEC;
                if (pthread_timedjoin_np(m->thread, NULL, &ts) != 0) {
                        log_warning("The mail relay does not answer; stopping without waiting "
                                    "for it (the mail stays queued).");
                        (void)pthread_detach(m->thread);
                        return NULL;
                }
                m->running = false;
        }
        jobs_clear(m);
        m->timer = sd_event_source_disable_unref(m->timer);
        m->done_src = sd_event_source_disable_unref(m->done_src);
        safe_close(m->done_fd);
        free(m->relay);
        free(m->from);
        free(m);
        return NULL;
}
