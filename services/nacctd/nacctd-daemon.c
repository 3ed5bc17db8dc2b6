/* nacctd-daemon.c - the flush cycle and everything around it: the lock, crash recovery, SQLite,
 * the journal summary, signals, reload, live captures following netlink, and pcap replay. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "config.h"
#include "log.h"
#include "notify.h"
#include "utf8.h"

#include "nacctd-daemon.h"
#include "nacctd-debug.h"
#include "nacctd-decode.h"
#include "nacctd-ids.h"
#include "nacctd-output.h"

#define USEC_PER_SEC 1000000ULL
#define USEC_PER_MSEC 1000ULL
#define EXPIRE_INTERVAL_SEC 3600
#define REPLAY_BATCH 65536

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000ULL;
}

static RateLimit store_log = {.interval_usec = 60 * USEC_PER_SEC, .burst = 3};
static RateLimit write_log = {.interval_usec = 60 * USEC_PER_SEC, .burst = 3};
static RateLimit dump_log = {.interval_usec = 60 * USEC_PER_SEC, .burst = 3};

void nacct_config_report_log(const char *path, const NacctConfigReport *report)
{
        for (size_t i = 0; i < report->n; i++) {
                const NacctConfigMessage *m = &report->messages[i];
                int level = m->severity == NACCT_CONFIG_ERROR     ? LOG_ERR
                            : m->severity == NACCT_CONFIG_WARNING ? LOG_WARNING
                                                                  : LOG_NOTICE;
                const char *suffix =
                        m->severity == NACCT_CONFIG_WARNING ? ", ignoring the line" : "";

                if (m->line > 0)
                        log_full(level, "%s:%u: %s%s.", path, m->line, m->text, suffix);
                else
                        log_full(level, "%s: %s%s.", path, m->text, suffix);
        }
        if (report->n_dropped > 0)
                log_error("%s: %zu more messages not shown", path, report->n_dropped);
}

/* The original's "config: set flushing to 10" lines, for debug category CONF (2), which it
 * defined but never used. */
static void config_echo(const NacctConfig *c)
{
        if (!nacct_debug_enabled(NACCT_DEBUG_CONFIG))
                return;
        nacct_debug(NACCT_DEBUG_CONFIG, "config: read '%s'", c->path);
        nacct_debug(NACCT_DEBUG_CONFIG, "config: set flushing to %" PRIu64, c->flush_sec);
        nacct_debug(NACCT_DEBUG_CONFIG, "config: set fdelay to %" PRIu64, c->fdelay_sec);
        nacct_debug(NACCT_DEBUG_CONFIG, "config: set activetimeout to %" PRIu64, c->active_sec);
        nacct_debug(NACCT_DEBUG_CONFIG, "config: set file to '%s'", c->file);
        nacct_debug(NACCT_DEBUG_CONFIG, "config: set dumpfile to '%s'", strempty(c->dumpfile));
        nacct_debug(NACCT_DEBUG_CONFIG, "config: set debugfile to '%s'", strempty(c->debugfile));
        nacct_debug(NACCT_DEBUG_CONFIG, "config: set debug level to %u", c->debug);
        nacct_debug(NACCT_DEBUG_CONFIG, "config: set errdelay to %u", c->errdelay);
        nacct_debug(NACCT_DEBUG_CONFIG, "config: set ignoremask to %u.%u.%u.%u", c->ignoremask[0],
                    c->ignoremask[1], c->ignoremask[2], c->ignoremask[3]);
        nacct_debug(NACCT_DEBUG_CONFIG,
                    "config: %zu ignorenet, %zu dontignore, %zu notdev, %zu iflimit, "
                    "%zu hostlimit, %zu device, %zu exclude-name-lookup, %zu line",
                    c->n_ignorenet, c->n_dontignore, c->n_notdev, c->n_iflimit, c->n_hostlimit,
                    c->n_promisc, c->n_exclude, c->n_lines);
        for (int i = 2; i < _NACCT_FIELD_MAX; i++)
                if (c->disabled[i])
                        nacct_debug(NACCT_DEBUG_CONFIG, "config: disabled field %d", i);
        if (c->dynamicip)
                nacct_debug(NACCT_DEBUG_CONFIG, "config: set dynamicip to '%s'", c->dynamicip);
}

static int lock_database(const char *path, int *ret_fd)
{
        _cleanup_close_ int fd = -EBADF;

        /* flock() and SQLite's POSIX locks do not interact; this fd stays open until exit, so
         * closing it can never drop SQLite's locks early. */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0)
                return negative_errno();
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : negative_errno();
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int nacct_daemon_new(const char *config_path, const char *db_path, NacctDaemon **ret)
{
        _cleanup_(nacct_daemon_freep) NacctDaemon *d = NULL;
        NacctConfigReport report;
        size_t recovered = 0;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->lock_fd = -EBADF;
        d->writing = true;
        d->config_path = strdup(config_path);
        d->db_path = strdup(db_path);
        if (!d->config_path || !d->db_path)
                return log_error_errno(ENOMEM, "Out of memory.");

        r = nacct_config_load(config_path, &report, &d->config);
        nacct_config_report_log(config_path, &report);
        if (r < 0)
                return r;
        nacct_debug_set_mask(d->config->debug);
        if (d->config->debugfile) {
                r = nacct_debug_open(d->config->debugfile);
                if (r < 0)
                        log_warning("Cannot open debug file '%s', ignoring: %s",
                                    d->config->debugfile, nacct_strerror_file(r));
        }
        config_echo(d->config);

        r = lock_database(db_path, &d->lock_fd);
        if (r == -EBUSY)
                return log_error_errno(r, "Another nacctd is using '%s'.", db_path);
        if (r < 0)
                return log_error_errno(r, "Cannot open database '%s': %m", db_path);

        /* Only now, with the lock held: a second instance must never touch the first one's
         * dump (the original renamed it before checking its PID file). */
        if (d->config->dumpfile) {
                r = nacct_dump_recover(d->config->dumpfile, d->config->file, &d->backlog,
                                       &recovered);
                if (r == -EEXIST)
                        return log_error_errno(r,
                                               "%s:%u: dumpfile '%s' was not written by nacctd; "
                                               "leaving it alone and refusing to start.",
                                               config_path, d->config->dumpfile_line,
                                               d->config->dumpfile);
                if (r < 0 && d->backlog.len > 0) {
                        d->n_backlog = recovered;
                        log_error("Cannot append the %zu lines of dump file '%s' to '%s' (%s); "
                                  "keeping them, the next flush tries again.",
                                  recovered, d->config->dumpfile, d->config->file,
                                  nacct_strerror_file(r));
                } else if (r < 0)
                        return log_error_errno(r, "Cannot read dump file '%s': %s",
                                               d->config->dumpfile, nacct_strerror_file(r));
                else if (r > 0)
                        log_fields(LOG_NOTICE, NACCTD_MID_RECOVERED, NULL, 0,
                                   "Recovered %zu lines from dump file '%s' left by an unclean "
                                   "stop into '%s'.",
                                   recovered, d->config->dumpfile, d->config->file);
        }
        r = nacct_log_append(d->config->file, NULL, 0);
        if (r < 0)
                log_warning("Cannot open log file '%s' (will retry at every flush): %s",
                            d->config->file, nacct_strerror_file(r));

        r = nacct_store_open(db_path, &d->store);
        if (r < 0)
                return log_error_errno(r, "Failed to open database '%s': %m", db_path);
        r = nacct_acct_new(d->config, &d->acct);
        if (r < 0)
                return log_error_errno(r, "Failed to set up accounting: %m");
        *ret = TAKE_PTR(d);
        return 0;
}

static void captures_free(NacctDaemon *d)
{
        for (size_t i = 0; i < d->n_captures; i++)
                nacct_capture_free(d->captures[i]);
        free(d->captures);
        free(d->seen);
        d->captures = NULL;
        d->seen = NULL;
        d->n_captures = 0;
}

NacctDaemon *nacct_daemon_free(NacctDaemon *d)
{
        if (!d)
                return NULL;
        nacct_link_monitor_free(d->links);
        captures_free(d);
        sd_event_source_disable_unref(d->flush_timer);
        sd_event_source_disable_unref(d->post);
        sd_event_unref(d->event);
        nacct_acct_free(d->acct);
        nacct_store_free(d->store);
        nacct_config_free(d->config);
        nacct_buffer_done(&d->backlog);
        nacct_debug_close();
        safe_close(d->lock_fd);
        free(d->config_path);
        free(d->db_path);
        free(d);
        return NULL;
}

static const char *u64(char buf[static 24], uint64_t v)
{
        snprintf(buf, 24, "%" PRIu64, v);
        return buf;
}

/* Packets the kernel dropped on c since we last asked: a warning per interface, with the
 * count since the last flush and the total as journal fields. */
static void capture_take_drops(NacctDaemon *d, NacctCapture *c)
{
        uint64_t k = nacct_capture_take_drops(c);
        char now[24], total[24];

        if (k == 0)
                return;
        d->drops += k;
        c->drops_total += k;
        {
                const LogField fields[] = {
                        {"NACCT_INTERFACE", c->shown},
                        {"NACCT_KERNEL_DROPS", u64(now, k)},
                        {"NACCT_KERNEL_DROPS_TOTAL", u64(total, c->drops_total)},
                };

                log_fields(LOG_WARNING, NACCTD_MID_KERNEL_DROPS, fields, ELEMENTSOF(fields),
                           "The kernel dropped %" PRIu64 " packets captured on '%s' (%" PRIu64
                           " since start): they are not accounted; raise capturebuffer.",
                           k, c->shown, c->drops_total);
        }
}

static void flush_summary(NacctDaemon *d, const NacctCollect *col, size_t lines_written,
                          size_t removed)
{
        const NacctCounters *n = &d->acct->counters, *o = &d->reported;
        char b[18][24];
        uint64_t drops;

        for (size_t i = 0; i < d->n_captures; i++)
                capture_take_drops(d, d->captures[i]);
        drops = d->drops - d->drops_reported;
        {
                const LogField fields[] = {
                        {"NACCT_PACKETS", u64(b[0], n->packets - o->packets)},
                        {"NACCT_BYTES", u64(b[1], n->bytes - o->bytes)},
                        {"NACCT_FLOWS", u64(b[2], d->acct->table->n)},
                        {"NACCT_NEW_FLOWS", u64(b[3], n->flows - o->flows)},
                        {"NACCT_LINES", u64(b[4], lines_written)},
                        {"NACCT_PENDING_LINES",
                         u64(b[5], col->n_pending_lines + col->n_due_lines - lines_written)},
                        {"NACCT_IGNORED", u64(b[6], n->ignored - o->ignored)},
                        {"NACCT_TRUNCATED", u64(b[7], n->truncated - o->truncated)},
                        {"NACCT_MALFORMED", u64(b[8], n->malformed - o->malformed)},
                        {"NACCT_LOCAL", u64(b[9], n->local - o->local)},
                        {"NACCT_NETIGNORED", u64(b[10], n->netignored - o->netignored)},
                        {"NACCT_HOSTLIMIT", u64(b[11], n->hostlimit - o->hostlimit)},
                        {"NACCT_NOTDEV", u64(b[12], n->notdev - o->notdev)},
                        {"NACCT_TABLE_FULL", u64(b[13], n->table_full - o->table_full)},
                        {"NACCT_KERNEL_DROPS", u64(b[14], drops)},
                        {"NACCT_KERNEL_DROPS_TOTAL", u64(b[16], d->drops)},
                        {"NACCT_INTERFACES", u64(b[15], d->n_captures)},
                        {"NACCT_WRITING", d->writing ? "yes" : "no"},
                };

                log_fields(LOG_INFO, NACCTD_MID_FLUSH, fields, ELEMENTSOF(fields),
                           "Flush: %zu lines written, %" PRIu64 " packets and %" PRIu64
                           " bytes accounted since the last flush, %u flows held, %" PRIu64
                           " packets dropped by the kernel.",
                           lines_written, n->packets - o->packets, n->bytes - o->bytes,
                           d->acct->table->n, drops);
        }
        nacct_debug(NACCT_DEBUG_STATS,
                    "ignored: %" PRIu64 " netignored: %" PRIu64 " local:%" PRIu64 " ip:%" PRIu64
                    " unenc:0 notdev:%" PRIu64 " dropped:%" PRIu64,
                    n->ignored, n->netignored, n->local, n->truncated + n->malformed, n->notdev,
                    d->drops);
        nacct_debug(NACCT_DEBUG_STATS,
                    "lookups:%" PRIu64 " compares:%" PRIu64 " compares/lookup:%f",
                    d->acct->table->lookups, d->acct->table->probes,
                    d->acct->table->lookups
                            ? (double)d->acct->table->probes / (double)d->acct->table->lookups
                            : 0.0);
        nacct_debug(NACCT_DEBUG_MISC, "Split into %zu [hold] and %zu [write] = %zu [total] entries",
                    col->n_pending_lines, col->n_due_lines,
                    col->n_pending_lines + col->n_due_lines);
        (void)removed;
        d->reported = *n;
        d->drops_reported = d->drops;
        (void)notify_status("%" PRIu64 " packets accounted, %" PRIu64 " lines written, %u flows "
                            "held, %zu interfaces, %" PRIu64 " packets dropped by the kernel%s",
                            n->packets, d->lines, d->acct->table->n, d->n_captures, d->drops,
                            d->writing ? "" : ", writing suspended");
}

static void flush_store(NacctDaemon *d)
{
        NacctAcct *a = d->acct;
        int r;

        for (uint32_t i = 0; i < a->table->n; i++)
                nacct_agg_fold_flow(a->agg, &a->table->flows[i]);
        r = nacct_store_commit(d->store, a->agg, d->config->bin_sec);
        if (r < 0) {
                d->store_failures++;
                if (ratelimit_below(&store_log, now_usec(), NULL))
                        log_fields_internal(LOG_ERR, r, __FILE__, __LINE__, __func__,
                                            NACCTD_MID_STORE_FAILED, NULL, 0,
                                            "Failed to store %zu aggregates in '%s', keeping "
                                            "them for the next flush: %m",
                                            a->agg->n, d->db_path);
                return;
        }
        nacct_agg_clear(a->agg);
}

static void flush_expire(NacctDaemon *d, int64_t now)
{
        uint64_t deleted = 0;
        int r;

        if (d->config->retention_days == 0 || now - d->last_expire < EXPIRE_INTERVAL_SEC)
                return;
        d->last_expire = now;
        r = nacct_store_expire(d->store, now - (int64_t)d->config->retention_days * 86400,
                               &deleted);
        if (r < 0)
                log_warning_errno(r, "Failed to expire old bins, ignoring: %m");
        else if (deleted > 0)
                log_info("Deleted %" PRIu64 " aggregates older than %" PRIu64 " days.", deleted,
                         d->config->retention_days);
}

int nacct_daemon_flush(NacctDaemon *d, int64_t now, bool force)
{
        const NacctConfig *c = d->config;
        NacctAcct *a = d->acct;
        NacctFlowTable *t = a->table;
        _cleanup_(nacct_collect_done) NacctCollect col = {};
        size_t removed = 0, lines_written = 0;
        bool may_write, wrote = false;
        int r;

        d->flushes++;
        a->full = false;

        /* 1. The aggregates, independent of the log (TSTP only stops the log). */
        flush_store(d);

        /* 2. The log. At a stop everything is written even while suspended: nothing is lost. */
        may_write = force || (d->writing && d->err_delay == 0);
        if (!may_write) {
                nacct_debug(NACCT_DEBUG_STATE, "flushing delayed (writing == %d, err_delay == %u)",
                            d->writing, d->err_delay);
                if (d->err_delay > 0)
                        d->err_delay--;
        }
        r = nacct_collect(t, c, a->devices, a->users, now, force, &col);
        if (r < 0)
                return log_error_errno(r, "Failed to collect the lines of this flush: %m");
        if (may_write && d->backlog.len > 0) {
                r = nacct_log_append(c->file, d->backlog.data, d->backlog.len);
                if (r >= 0) {
                        log_fields(LOG_NOTICE, NACCTD_MID_RECOVERED, NULL, 0,
                                   "Appended the %zu lines recovered from dump file '%s' to '%s'.",
                                   d->n_backlog, strempty(c->dumpfile), c->file);
                        d->lines += d->n_backlog;
                        nacct_buffer_done(&d->backlog);
                        d->n_backlog = 0;
                } else
                        may_write = false; /* keep the order of the lines */
        }
        if (may_write && col.due.len > 0) {
                r = nacct_log_append(c->file, col.due.data, col.due.len);
                if (r < 0) {
                        d->write_failures++;
                        d->err_delay = c->errdelay;
                        if (ratelimit_below(&write_log, now_usec(), NULL))
                                log_fields_internal(
                                        LOG_ERR, r, __FILE__, __LINE__, __func__,
                                        NACCTD_MID_WRITE_FAILED, NULL, 0,
                                        "Failed to append %zu lines to '%s', keeping them and "
                                        "retrying after %u flushes: %s",
                                        col.n_due_lines, c->file, c->errdelay,
                                        nacct_strerror_file(r));
                } else
                        wrote = true;
        }
        if (wrote) {
                lines_written = col.n_due_lines;
                d->lines += lines_written;
                for (uint32_t i = 0; i < t->n; i++) {
                        NacctFlow *f = &t->flows[i];

                        if (!col.due_records[i])
                                continue;
                        f->packets = 0;
                        f->bytes = 0;
                        f->first = 0;
                        /* A busy flow stays; its user is looked up again at its next packet
                         * (a dynamic address may have changed hands). */
                        f->user_resolved = false;
                }
        }
        /* Records with nothing left to write and idle for fdelay go; their aggregates are
         * folded already. */
        for (uint32_t i = 0; i < t->n; i++) {
                NacctFlow *f = &t->flows[i];

                if (f->packets == 0 && (force || now - f->last > (int64_t)c->fdelay_sec)) {
                        nacct_acct_flow_release(a, f);
                        removed++;
                }
        }

        /* 3. The dump: what the log does not have yet. */
        if (c->dumpfile) {
                _cleanup_buffer_ NacctBuffer b = {};

                /* The backlog first, then what the log did not take, then what is pending. */
                r = nacct_buffer_append(&b, d->backlog.data ?: "", d->backlog.len);
                if (r >= 0 && !wrote)
                        r = nacct_buffer_append(&b, col.due.data ?: "", col.due.len);
                if (r >= 0)
                        r = nacct_buffer_append(&b, col.pending.data ?: "", col.pending.len);
                if (r >= 0)
                        r = nacct_dump_write(c->dumpfile, b.data, b.len);
                if (r < 0) {
                        if (ratelimit_below(&dump_log, now_usec(), NULL))
                                log_warning("Failed to write dump file '%s': %s", c->dumpfile,
                                            r == -EEXIST ? "it (or its .new) exists and was not "
                                                           "written by nacctd, leaving it alone"
                                                         : nacct_strerror_file(r));
                        if (force && !wrote)
                                d->lost_lines += col.n_due_lines + col.n_pending_lines;
                        if (force)
                                d->lost_lines += d->n_backlog;
                }
        } else if (force && !wrote)
                d->lost_lines += col.n_due_lines;

        nacct_flow_sweep(t);
        a->last = 0;
        flush_summary(d, &col, lines_written, removed);
        flush_expire(d, now);
        return (col.n_due_lines == 0 || wrote) && d->backlog.len == 0;
}

/* ---- replay ---- */

typedef struct Replay {
        NacctDaemon *d;
        uint16_t dev;
        int dlt;
        bool started;
        int64_t next_flush;
        int64_t last;
        uint64_t frames;
} Replay;

static void replay_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
        Replay *rp = (Replay *)user;
        int64_t ts = (int64_t)h->ts.tv_sec;

        if (_unlikely_(!rp->started)) {
                rp->started = true;
                rp->next_flush = ts + 1; /* the original's first flush, 1 s after start */
        } else if (_unlikely_(ts >= rp->next_flush)) {
                (void)nacct_daemon_flush(rp->d, ts, false);
                rp->next_flush = ts + (int64_t)rp->d->config->flush_sec;
        }
        rp->last = ts;
        rp->frames++;
        nacct_acct_packet(rp->d->acct, rp->dev, rp->dlt, ts, bytes, h->caplen, h->len, NULL);
}

static bool stop_pending(void)
{
        sigset_t pending;

        if (sigpending(&pending) < 0)
                return false;
        return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

int nacct_daemon_replay(NacctDaemon *d, const char *path, const char *ifname)
{
        char errbuf[PCAP_ERRBUF_SIZE] = "";
        Replay rp = {.d = d};
        const NacctCounters *n = &d->acct->counters;
        bool interrupted = false, read_error = false;
        pcap_t *p;
        int r, k;

        d->replay = true;
        p = pcap_open_offline(path, errbuf);
        if (!p)
                return log_error_errno(EINVAL, "Cannot read '%s': %s", path, errbuf);
        rp.dlt = pcap_datalink(p);
        if (!nacct_dlt_supported(rp.dlt)) {
                r = log_error_errno(EPROTONOSUPPORT, "'%s': link type %s (%d) is not decoded.",
                                    path, pcap_datalink_val_to_name(rp.dlt) ?: "?", rp.dlt);
                pcap_close(p);
                return r;
        }
        r = nacct_acct_device_ref(d->acct, ifname, &rp.dev);
        if (r < 0) {
                pcap_close(p);
                return log_error_errno(r, "Invalid interface name '%s'.", ifname);
        }
        log_fields(LOG_INFO, NACCTD_MID_STARTED, NULL, 0,
                   "nacctd %s replaying '%s' (%s) as interface '%s'.", PROJECT_VERSION, path,
                   pcap_datalink_val_to_name(rp.dlt) ?: "?", ifname);
        for (;;) {
                k = pcap_dispatch(p, REPLAY_BATCH, replay_packet, (u_char *)&rp);
                if (k == PCAP_ERROR) {
                        /* A cut file, a second link type in a pcapng, a broken block: what
                         * follows is not accounted, so the run failed. */
                        log_error("'%s': read error after %" PRIu64 " frames: %s; accounting "
                                  "what was read, exiting with failure.",
                                  path, rp.frames, pcap_geterr(p));
                        read_error = true;
                        break;
                }
                if (k <= 0)
                        break;
                if (d->acct->full)
                        (void)nacct_daemon_flush(d, rp.last, true);
                if (stop_pending()) {
                        interrupted = true;
                        break;
                }
        }
        pcap_close(p);
        r = nacct_daemon_flush(d, rp.started ? rp.last : (int64_t)time(NULL), true);
        if (r == 0)
                r = log_error_errno(EIO, "Lines could not be written to '%s'%s.", d->config->file,
                                    d->config->dumpfile && d->lost_lines == 0
                                            ? "; they are kept in the dump file for the next start"
                                            : "");
        nacct_acct_device_unref(d->acct, rp.dev);
        log_fields(LOG_INFO, NACCTD_MID_STOPPED, NULL, 0,
                   "Replayed %" PRIu64 " frames%s: %" PRIu64 " packets, %" PRIu64
                   " bytes accounted; %" PRIu64 " not IP, %" PRIu64 " truncated, %" PRIu64
                   " malformed; %" PRIu64 " lines written.",
                   rp.frames, interrupted ? " (interrupted)" : "", n->packets, n->bytes, n->ignored,
                   n->truncated, n->malformed, d->lines);
        if (r < 0)
                return r;
        return d->lost_lines > 0 || read_error ? -EIO : 0;
}

/* ---- live capture ---- */

static bool failed_logged(NacctDaemon *d, int ifindex, int error)
{
        for (size_t i = 0; i < d->n_failed; i++)
                if (d->failed[i].ifindex == ifindex) {
                        if (d->failed[i].error == error)
                                return true;
                        d->failed[i].error = error;
                        return false;
                }
        if (d->n_failed < NACCT_FAILED_MAX)
                d->failed[d->n_failed++] = (typeof(d->failed[0])){ifindex, error};
        return false;
}

static void failed_forget(NacctDaemon *d, int ifindex)
{
        for (size_t i = 0; i < d->n_failed; i++)
                if (d->failed[i].ifindex == ifindex) {
                        d->failed[i] = d->failed[--d->n_failed];
                        return;
                }
}

static ssize_t capture_find(NacctDaemon *d, int ifindex)
{
        for (size_t i = 0; i < d->n_captures; i++)
                if (d->captures[i]->ifindex == ifindex)
                        return (ssize_t)i;
        return -1;
}

static void capture_close(NacctDaemon *d, size_t i, const char *why)
{
        NacctCapture *c = d->captures[i];
        const LogField fields[] = {{"NACCT_INTERFACE", c->shown}};

        /* Take what the ring still holds. */
        (void)nacct_capture_dispatch(c, -1);
        capture_take_drops(d, c);
        log_fields(LOG_INFO, NACCTD_MID_CAPTURE_STOPPED, fields, ELEMENTSOF(fields),
                   "Stopped capturing on '%s' (%s).", c->shown, why);
        nacct_capture_free(c);
        d->captures[i] = d->captures[d->n_captures - 1];
        d->seen[i] = d->seen[d->n_captures - 1];
        d->n_captures--;
}

/* A name from outside for a message or a journal field (see utf8_escape_invisible()). */
#define SHOWN_MAX (4 * NACCT_LINK_NAME_SHOWN + 1)
#define NACCT_LINK_NAME_SHOWN 64
static const char *shown(const char *s, char buf[static SHOWN_MAX])
{
        utf8_escape_invisible_buf(s, strnlen(s, NACCT_LINK_NAME_SHOWN), buf);
        return buf;
}

static void capture_open(NacctDaemon *d, const NacctLink *l)
{
        char name[SHOWN_MAX], err[4 * PCAP_ERRBUF_SIZE + 1];
        const LogField fields[] = {{"NACCT_INTERFACE", shown(l->name, name)}};
        char errmsg[PCAP_ERRBUF_SIZE];
        NacctCaptureParams params = {
                .snaplen = d->config->snaplen,
                .buffer_size = d->config->capture_buffer,
                .promisc = nacct_config_promisc_interface(d->config, l->name),
        };
        NacctCapture *c = NULL, **nc;
        bool *ns;
        int r;

        if (d->n_captures >= d->config->max_captures) {
                if (!failed_logged(d, l->ifindex, -E2BIG))
                        log_fields(LOG_WARNING, NACCTD_MID_CAPTURE_FAILED, fields,
                                   ELEMENTSOF(fields),
                                   "Not capturing on '%s': maxcaptures (%u) captures are open.",
                                   name, d->config->max_captures);
                return;
        }
        nc = realloc(d->captures, sizeof(*nc) * (d->n_captures + 1));
        if (nc)
                d->captures = nc;
        ns = realloc(d->seen, sizeof(*ns) * (d->n_captures + 1));
        if (ns)
                d->seen = ns;
        if (!nc || !ns) {
                log_error("Out of memory opening a capture on '%s'.", name);
                return;
        }
        r = nacct_capture_open(d->event, d->acct, l->ifindex, l->name, l->mac, l->mac_len, &params,
                               &c, errmsg);
        if (r < 0) {
                if (!failed_logged(d, l->ifindex, r))
                        log_fields_internal(
                                r == -EPROTONOSUPPORT ? LOG_INFO : LOG_WARNING, r, __FILE__,
                                __LINE__, __func__, NACCTD_MID_CAPTURE_FAILED, fields,
                                ELEMENTSOF(fields), "Cannot capture on '%s': %s", name,
                                (utf8_escape_invisible_buf(errmsg,
                                                           strnlen(errmsg, PCAP_ERRBUF_SIZE), err),
                                 err));
                return;
        }
        failed_forget(d, l->ifindex);
        d->captures[d->n_captures] = c;
        d->seen[d->n_captures] = true;
        d->n_captures++;
        log_fields(LOG_INFO, NACCTD_MID_CAPTURE_STARTED, fields, ELEMENTSOF(fields),
                   "Capturing on '%s' (%s%s).", name, pcap_datalink_val_to_name(c->dlt) ?: "?",
                   params.promisc ? ", promiscuous" : "");
}

static void link_present(NacctDaemon *d, const NacctLink *l)
{
        bool want = (l->flags & IFF_UP) && nacct_config_accounts_interface(d->config, l->name);
        ssize_t i = capture_find(d, l->ifindex);

        if (i >= 0) {
                NacctCapture *c = d->captures[i];

                d->seen[i] = true;
                if (!streq(c->name, l->name)) {
                        char to[SHOWN_MAX];

                        log_info("Interface '%s' is now called '%s'.", c->shown,
                                 shown(l->name, to));
                        if (want && nacct_capture_rename(c, l->name) < 0)
                                want = false;
                }
                if (!want) {
                        capture_close(d, (size_t)i,
                                      (l->flags & IFF_UP) ? "excluded by the configuration"
                                                          : "interface down");
                        return;
                }
                if (c->error < 0) {
                        capture_close(d, (size_t)i, "capture failed, reopening");
                } else if (c->promisc != nacct_config_promisc_interface(d->config, l->name)) {
                        capture_close(d, (size_t)i, "promiscuous mode changed, reopening");
                } else
                        return;
        }
        if (want)
                capture_open(d, l);
        else if (!(l->flags & IFF_UP))
                failed_forget(d, l->ifindex);
}

static void on_link(void *userdata, NacctLinkEvent event, const NacctLink *l)
{
        NacctDaemon *d = userdata;
        ssize_t i;

        if (d->stopping)
                return;
        switch (event) {
        case NACCT_LINK_SYNC_BEGIN:
                for (size_t k = 0; k < d->n_captures; k++)
                        d->seen[k] = false;
                break;
        case NACCT_LINK_SYNC_END:
                for (size_t k = d->n_captures; k > 0; k--)
                        if (!d->seen[k - 1])
                                capture_close(d, k - 1, "interface gone");
                break;
        case NACCT_LINK_GONE:
                i = capture_find(d, l->ifindex);
                if (i >= 0)
                        capture_close(d, (size_t)i, "interface gone");
                failed_forget(d, l->ifindex);
                break;
        case NACCT_LINK_PRESENT:
                link_present(d, l);
                break;
        }
}

/* Wait up to timeout for the kernel to hand over its last, partly filled ring blocks, and read
 * everything: a stop must account for every packet the kernel captured. */
static void drain_captures(NacctDaemon *d, uint64_t timeout_usec)
{
        uint64_t deadline = now_usec() + timeout_usec;
        struct pollfd *pfd;

        pfd = calloc(d->n_captures ?: 1, sizeof(*pfd));
        if (!pfd)
                return;
        for (;;) {
                uint64_t now;
                size_t n = 0;

                for (size_t i = 0; i < d->n_captures; i++) {
                        NacctCapture *c = d->captures[i];

                        if (nacct_capture_dispatch(c, -1) < 0)
                                continue;
                        pfd[n++] = (struct pollfd){.fd = pcap_get_selectable_fd(c->pcap),
                                                   .events = POLLIN};
                }
                now = now_usec();
                if (n == 0 || now >= deadline)
                        break;
                (void)poll(pfd, n, (int)((deadline - now + 999) / 1000));
        }
        free(pfd);
}

static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        NacctDaemon *d = userdata;
        int r;

        d->stopping = true;
        (void)notify_stopping();
        nacct_debug(NACCT_DEBUG_SIGNAL, "got signal %u", si->ssi_signo);
        drain_captures(d, 2 * NACCT_CAPTURE_TIMEOUT_MS * USEC_PER_MSEC + 50 * USEC_PER_MSEC);
        r = nacct_daemon_flush(d, (int64_t)time(NULL), true);
        log_fields(LOG_INFO, NACCTD_MID_STOPPED, NULL, 0,
                   "nacctd terminating (%s): %" PRIu64 " packets accounted, %" PRIu64
                   " lines written%s.",
                   strsignal((int)si->ssi_signo), d->acct->counters.packets, d->lines,
                   d->lost_lines > 0 ? ", SOME LINES COULD NOT BE WRITTEN" : "");
        return sd_event_exit(sd_event_source_get_event(s), r <= 0 || d->lost_lines > 0 ? 1 : 0);
}

/* Make a new flush interval count at once: the next flush comes no later than one new
 * interval from now (the old timer may be hours away). */
static void flush_timer_rearm(NacctDaemon *d, uint64_t old_flush_sec)
{
        uint64_t next = 0, now, limit;

        if (!d->flush_timer || d->config->flush_sec == old_flush_sec)
                return;
        if (sd_event_now(d->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        limit = now + d->config->flush_sec * USEC_PER_SEC;
        if (sd_event_source_get_time(d->flush_timer, &next) < 0 || next > limit) {
                (void)sd_event_source_set_time(d->flush_timer, limit);
                (void)sd_event_source_set_enabled(d->flush_timer, SD_EVENT_ONESHOT);
        }
}

int nacct_daemon_reload(NacctDaemon *d)
{
        _cleanup_(nacct_config_freep) NacctConfig *c = NULL;
        _cleanup_free_ char *old_dump = NULL;
        NacctConfigReport report;
        uint64_t old_flush;
        int r;

        r = nacct_config_load(d->config_path, &report, &c);
        nacct_config_report_log(d->config_path, &report);
        if (r < 0) {
                log_fields(LOG_ERR, NACCTD_MID_RELOAD_FAILED, NULL, 0,
                           "Configuration '%s' is broken, keeping the one in use.", d->config_path);
                (void)notify_status("Reloading '%s' failed (see the journal); running with the "
                                    "previous configuration",
                                    d->config_path);
                return r;
        }
        r = nacct_acct_set_config(d->acct, c);
        if (r < 0) {
                (void)nacct_acct_set_config(d->acct, d->config);
                log_fields_internal(LOG_ERR, r, __FILE__, __LINE__, __func__,
                                    NACCTD_MID_RELOAD_FAILED, NULL, 0,
                                    "Cannot apply the new configuration, keeping the one in use: "
                                    "%m");
                return r;
        }
        old_flush = d->config->flush_sec;
        if (d->config->dumpfile && !streq_ptr(d->config->dumpfile, c->dumpfile)) {
                old_dump = TAKE_PTR(d->config->dumpfile);
        }
        nacct_config_free(d->config);
        d->config = TAKE_PTR(c);
        nacct_debug_set_mask(d->config->debug);
        r = nacct_debug_open(d->config->debugfile);
        if (r < 0)
                log_warning("Cannot open debug file '%s', ignoring: %s", d->config->debugfile,
                            nacct_strerror_file(r));
        config_echo(d->config);
        flush_timer_rearm(d, old_flush);
        /* The dump moved: what the old one held goes into the new one at the next flush. */
        if (old_dump) {
                r = nacct_dump_write(old_dump, NULL, 0);
                if (r < 0)
                        log_warning("Cannot remove the old dump file '%s': %s", old_dump,
                                    nacct_strerror_file(r));
        }
        if (d->links) {
                r = nacct_link_monitor_resync(d->links);
                if (r < 0)
                        log_warning_errno(r, "Failed to list the interfaces again: %m");
        }
        log_fields(LOG_INFO, NACCTD_MID_RELOADED, NULL, 0,
                   "Reloaded '%s'%s: capturing on %zu interfaces, flushing every %" PRIu64 " s.",
                   d->config_path,
                   report.n_warnings > 0 ? " (lines with problems ignored, see above)" : "",
                   d->n_captures, d->config->flush_sec);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        static const uint32_t steps[] = {
                NACCT_DEBUG_STATS,   NACCT_DEBUG_MISC,   NACCT_DEBUG_STATE, NACCT_DEBUG_ERROR,
                NACCT_DEBUG_SIGNAL,  NACCT_DEBUG_DYNA,   NACCT_DEBUG_UTMP,  NACCT_DEBUG_CONFIG,
                NACCT_DEBUG_SYSCALL, NACCT_DEBUG_IGNORE, NACCT_DEBUG_ANNOY,
        };
        NacctDaemon *d = userdata;
        uint32_t mask;

        nacct_debug(NACCT_DEBUG_SIGNAL, "got signal %u", si->ssi_signo);
        switch (si->ssi_signo) {
        case SIGHUP:
                (void)sd_notify(false, "RELOADING=1\nSTATUS=Reloading");
                (void)nacct_daemon_reload(d);
                (void)sd_notify(false, "READY=1");
                break;
        case SIGUSR1:
                /* "Increases debugging": one more category each time, as a level would. */
                mask = nacct_debug_get_mask();
                for (size_t i = 0; i < ELEMENTSOF(steps); i++)
                        if (!(mask & steps[i])) {
                                mask |= steps[i];
                                break;
                        }
                nacct_debug_set_mask(mask);
                log_set_max_level(LOG_DEBUG);
                log_info("Debug mask now %u.", mask);
                break;
        case SIGUSR2:
                nacct_debug_set_mask(0);
                log_set_max_level(LOG_INFO);
                log_info("Turning off debugging.");
                break;
        case SIGWINCH:
                log_info("nacctd (tracksuite) %s, naccttab '%s', database '%s'.", PROJECT_VERSION,
                         d->config_path, d->db_path);
                break;
        case SIGTSTP:
                d->writing = false;
                log_info("Writing to '%s' suspended (SIGTSTP); send SIGCONT to resume.",
                         d->config->file);
                break;
        case SIGCONT:
                if (!d->writing)
                        log_info("Writing to '%s' resumed (SIGCONT).", d->config->file);
                d->writing = true;
                break;
        }
        return 0;
}

static int on_flush_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        NacctDaemon *d = userdata;

        (void)nacct_daemon_flush(d, (int64_t)time(NULL), false);
        (void)sd_event_source_set_time_relative(s, d->config->flush_sec * USEC_PER_SEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int on_post(sd_event_source *s, void *userdata)
{
        static RateLimit resync_limit = {.interval_usec = USEC_PER_SEC, .burst = 1};
        NacctDaemon *d = userdata;
        bool failed = false;

        if (d->stopping)
                return 0;
        /* The table filled up: write everything now instead of dropping packets. */
        if (d->acct->full) {
                log_warning("The flow table is full (maxflows %u), flushing early.",
                            d->config->max_flows);
                (void)nacct_daemon_flush(d, (int64_t)time(NULL), true);
        }
        /* A capture failed while netlink said nothing (yet): close it, and list the
         * interfaces again (at most once a second), which reopens it if it is still there. */
        for (size_t i = d->n_captures; i > 0; i--)
                if (d->captures[i - 1]->error < 0) {
                        capture_close(d, i - 1, "capture failed");
                        failed = true;
                }
        if (failed)
                d->resync_pending = true;
        if (d->resync_pending && d->links && ratelimit_below(&resync_limit, now_usec(), NULL)) {
                int r = nacct_link_monitor_resync(d->links);

                d->resync_pending = r < 0;
                if (r < 0)
                        log_warning_errno(r, "Failed to list the interfaces again: %m");
        }
        return 0;
}

/* Without CAP_NET_RAW every capture would fail and nacctd would run on 0 interfaces,
 * accounting nothing: find out before, with one packet socket. */
static int check_capture_permission(void)
{
        int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

        if (fd >= 0) {
                close(fd);
                return 0;
        }
        if (errno != EPERM && errno != EACCES)
                return 0; /* something else: the captures will say what */
        log_fields_internal(LOG_ERR, -errno, __FILE__, __LINE__, __func__, NACCTD_MID_NO_PERMISSION,
                            NULL, 0,
                            "Cannot capture: opening a packet socket is not permitted (%m). "
                            "nacctd needs CAP_NET_RAW: run it as root or as nacctd.service, "
                            "which grants it; -r FILE accounts a capture file without it.");
        return -EPERM;
}

int nacct_daemon_run(NacctDaemon *d)
{
        static const int stop_signals[] = {SIGTERM, SIGINT};
        static const int other_signals[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGTSTP, SIGCONT};
        int r;

        r = check_capture_permission();
        if (r < 0)
                return r;

        r = sd_event_default(&d->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");
        for (size_t i = 0; i < ELEMENTSOF(stop_signals) + ELEMENTSOF(other_signals); i++) {
                bool stop = i < ELEMENTSOF(stop_signals);
                int sig = stop ? stop_signals[i] : other_signals[i - ELEMENTSOF(stop_signals)];
                sd_event_source *src;

                r = sd_event_add_signal(d->event, &src, sig, stop ? on_stop : on_signal, d);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch signal %d: %m", sig);
                /* Before the captures: a stop or a reload must not wait behind a busy ring. */
                (void)sd_event_source_set_priority(src, SD_EVENT_PRIORITY_IMPORTANT);
                (void)sd_event_source_set_floating(src, true);
                sd_event_source_unref(src);
        }
        r = sd_event_add_time_relative(d->event, &d->flush_timer, CLOCK_MONOTONIC, USEC_PER_SEC,
                                       10 * USEC_PER_MSEC, on_flush_timer, d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the flush timer: %m");
        r = sd_event_add_post(d->event, &d->post, on_post, d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the event loop: %m");
        r = nacct_link_monitor_new(d->event, on_link, d, &d->links);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the network interfaces: %m");
        (void)sd_event_set_watchdog(d->event, true);

        log_fields(LOG_INFO, NACCTD_MID_STARTED, NULL, 0,
                   "nacctd %s accounting on %zu interfaces into '%s' and '%s'.", PROJECT_VERSION,
                   d->n_captures, d->config->file, d->db_path);
        (void)notify_ready(NULL);
        (void)notify_status("Accounting on %zu interfaces", d->n_captures);
        r = sd_event_loop(d->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}
