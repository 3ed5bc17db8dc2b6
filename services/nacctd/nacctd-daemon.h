/* nacctd-daemon.h - the daemon: configuration, accounting, the flush cycle, the log, the dump
 * file, SQLite, signals, and either live capture on discovered interfaces or a pcap replay. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "macro.h"

#include "nacctd-acct.h"
#include "nacctd-capture.h"
#include "nacctd-config.h"
#include "nacctd-link.h"
#include "nacctd-output.h"
#include "nacctd-store.h"

#define NACCT_FAILED_MAX 1024

typedef struct NacctDaemon {
        char *config_path;
        NacctConfig *config;
        NacctAcct *acct;
        NacctStore *store;
        char *db_path;
        int lock_fd;

        sd_event *event;
        sd_event_source *flush_timer;
        sd_event_source *post;
        NacctLinkMonitor *links;
        NacctCapture **captures;
        bool *seen; /* per capture, during a link listing */
        size_t n_captures;
        struct {
                int ifindex;
                int error;
        } failed[NACCT_FAILED_MAX]; /* capture failures already logged */
        size_t n_failed;

        NacctBuffer backlog; /* lines of a dump found at start that the log did not take yet */
        size_t n_backlog;

        bool writing;       /* SIGTSTP turns writing off, SIGCONT on */
        uint32_t err_delay; /* flush cycles to skip after a failed write */
        bool replay;
        bool stopping;
        bool resync_pending; /* a capture failed: list the interfaces again */
        int64_t last_expire;

        /* Totals since start, and what the last journal summary covered. */
        NacctCounters reported;
        uint64_t drops;
        uint64_t drops_reported;
        uint64_t lines;
        uint64_t lines_reported;
        uint64_t flushes;
        uint64_t write_failures;
        uint64_t store_failures;
        uint64_t lost_lines; /* could be written neither to the log nor to the dump */
} NacctDaemon;

/* Load the configuration (errors are logged as file:line), take the lock on the database,
 * recover a dump left behind by a crash, open the database. */
int nacct_daemon_new(const char *config_path, const char *db_path, NacctDaemon **ret);
NacctDaemon *nacct_daemon_free(NacctDaemon *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(NacctDaemon *, nacct_daemon_free)

/* One flush cycle at time now: aggregates to SQLite, due lines to the log, the rest to the
 * dump file, idle records removed. force writes every record (stop, replay end). Returns 1 if
 * every due line reached the log, 0 if some are kept for later, -errno on failure. */
int nacct_daemon_flush(NacctDaemon *d, int64_t now, bool force);

/* Replay a pcap file through the accounting path, with the flush cycle running on the
 * packets' clock, and a final flush at its end. */
int nacct_daemon_replay(NacctDaemon *d, const char *path, const char *ifname);

/* Capture on every interface until SIGTERM/SIGINT; returns the exit status. */
int nacct_daemon_run(NacctDaemon *d);

/* SIGHUP: a new configuration, or the old one kept if the new one is broken. */
int nacct_daemon_reload(NacctDaemon *d);

/* Log a configuration report: errors and notices, one line each, as file:line. */
void nacct_config_report_log(const char *path, const NacctConfigReport *report);
