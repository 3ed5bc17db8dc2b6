/* log.h - logging to the journal with structured fields, or to stderr outside journald. */
#pragma once

#include <stddef.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,    /* journal if stderr is connected to it, else console */
        LOG_TARGET_JOURNAL,
        LOG_TARGET_CONSOLE,
} LogTarget;

typedef struct LogField {
        const char *name;  /* e.g. "TRACKER_USER" */
        const char *value;
} LogField;

/* Reads TRACKSUITE_LOG_LEVEL (debug, info, notice, warning, err), TRACKSUITE_LOG_TARGET
 * (auto, journal, console) and TRACKSUITE_LOG_FIELDS (show structured fields on the console).
 * component goes into TRACKSUITE_COMPONENT= of every entry. */
void log_setup(const char *component);
void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_target(LogTarget t);
LogTarget log_get_target(void); /* resolved: never AUTO after log_setup() */
int log_level_from_string(const char *s);

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *fmt, ...) _printf_(6, 7);

/* One entry with MESSAGE_ID= (may be NULL) and extra fields. */
int log_fields_internal(int level, int error, const char *file, int line, const char *func,
                        const char *message_id, const LogField *fields, size_t n_fields,
                        const char *fmt, ...) _printf_(9, 10);

#define log_full_errno(level, error, ...)                                                          \
        ({                                                                                         \
                int _l_ = (level), _e_ = (error);                                                  \
                (log_get_max_level() >= _l_)                                                       \
                        ? log_internal(_l_, _e_, __FILE__, __LINE__, __func__, __VA_ARGS__)        \
                        : -abs(_e_);                                                               \
        })
#define log_full(level, ...) (void)log_full_errno(level, 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

/* These return -abs(error) so that "return log_error_errno(r, ...);" is one line. */
#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)

#define log_fields(level, message_id, fields, n, ...)                                              \
        log_fields_internal(level, 0, __FILE__, __LINE__, __func__, message_id, fields, n,         \
                            __VA_ARGS__)

/* A simple rate limiter: at most burst events per interval. */
typedef struct RateLimit {
        unsigned long long interval_usec;
        unsigned burst;
        unsigned long long begin_usec;
        unsigned num;
        unsigned long long suppressed;
} RateLimit;

/* True if the event may be logged. When a new interval begins, *ret_suppressed (if given) is
 * set to how many events were suppressed in the last one. */
int ratelimit_below(RateLimit *rl, unsigned long long now_usec, unsigned long long *ret_suppressed);
