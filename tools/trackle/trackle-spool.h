/* trackle-spool.h - the bash side of a session: rc file, and the history/status files it
 * writes into the session's spool directory, turned into session.commands. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

typedef struct TrackleHistoryEntry {
        int64_t time; /* seconds since the epoch, -1 when the entry had no timestamp */
        char *line;   /* the typed line (several lines joined by \n for a multi-line entry) */
} TrackleHistoryEntry;

/* One line of <spool>/status, written by trackle's PROMPT_COMMAND at each prompt that follows
 * a new history entry: "<histnum> <exit> <cwd>", cwd with \ and newline escaped as \\ and
 * \n. The first prompt writes the baseline "<histnum> - <cwd>" (histnum 0 when empty). */
typedef struct TrackleStatusLine {
        uint64_t histnum;
        int exit;  /* -1 for the baseline line */
        char *cwd; /* the working directory at that prompt (after the command) */
} TrackleStatusLine;

void trackle_history_free(TrackleHistoryEntry *h, size_t n);
void trackle_status_free(TrackleStatusLine *s, size_t n);

/* bash's HISTFILE with HISTTIMEFORMAT set: "#<epoch>" lines, each followed by its entry. */
int trackle_history_parse(const char *text, size_t len, TrackleHistoryEntry **ret, size_t *ret_n);
/* Lines that do not parse are skipped (a half-written last line after a crash). */
int trackle_status_parse(const char *text, size_t len, TrackleStatusLine **ret, size_t *ret_n);

/* The session.commands array [{time, cwd, line, exit}]: entry k (history number base + k + 1)
 * gets the exit status of the status line with its number; its cwd is the cwd of the last
 * prompt before it (initial_cwd at first). A last entry without a status line is what ended
 * the shell ("exit"): it gets shell_exit (-1: null). */
int trackle_spool_commands(const TrackleHistoryEntry *h, size_t n_h, const TrackleStatusLine *s,
                           size_t n_s, const char *initial_cwd, int shell_exit, json_object **ret);

/* The -c case: one command, its start time and bash's exit status. */
int trackle_spool_command_one(const char *line, int64_t time, const char *cwd, int exit,
                              json_object **ret);

/* The rc file given to bash with --rcfile: the user's ~/.bashrc, then trackle's history
 * settings (HISTFILE=<spool>/history, timestamps, histappend, PROMPT_COMMAND) and the prompt
 * prefix: the output of `prompt --ps1` (the trackle-shell-prompt binary), or a fixed one when
 * prompt is NULL. */
int trackle_spool_bashrc(const char *spool, const char *prompt, char **ret);

/* "2026-12-04T22:54:32Z" into buf (at least 21 bytes). */
int trackle_format_time(int64_t t, char *buf, size_t size);

/* A whole file, at most max bytes (-EFBIG beyond), NUL-terminated. */
int trackle_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
