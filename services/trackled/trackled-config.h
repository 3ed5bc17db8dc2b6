/* trackled-config.h - trackle.conf(5): defaults and parsing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define TRACKLED_REDACT_MAX 256
#define TRACKLED_CONTENT_MAX_DEFAULT (8ULL * 1024 * 1024)
#define TRACKLED_CONTENT_MAX_LIMIT (256ULL * 1024 * 1024)

typedef struct TrackledConfig {
        char *site_name;
        char *base_url;
        char *staff_address;
        char *admin_group;
        char *redact[TRACKLED_REDACT_MAX]; /* globs (fnmatch, FNM_PATHNAME off) */
        size_t n_redact;
        bool redact_set; /* the first Redact= replaces the defaults */
        uint64_t content_max;
        uint64_t retention_sec; /* 0: keep for ever */
        char *mail_relay;
        char *mail_from;
        char *tls_cert, *tls_key; /* [Web]: PEM files; NULL: plain HTTP */
        /* [Web]: the anonymous filing form: which optional fields it has (words out of "type
         * severity description"; NULL: all three) and the help text under each field (NULL:
         * the built-in one). */
        char *anonymous_fields;
        char *help_email, *help_summary, *help_type, *help_severity, *help_description;
} TrackledConfig;

int trackled_config_defaults(TrackledConfig *c);
void trackled_config_done(TrackledConfig *c);

/* Unknown keys are reported through warn (may be NULL: ignored silently); a missing file means
 * all defaults. On error err holds file:line and what is wrong. */
int trackled_config_load(const char *path, TrackledConfig *c, ConfWarn warn, void *userdata,
                         ConfError *err);
int trackled_config_load_text(const char *name, char *text, TrackledConfig *c, ConfWarn warn,
                              void *userdata, ConfError *err);

/* Does the anonymous form have this optional field ("type", "severity", "description")? */
bool trackled_config_anonymous_field(const TrackledConfig *c, const char *field);

/* True if the absolute path matches one of the Redact= globs. */
bool trackled_config_is_redacted(const TrackledConfig *c, const char *path);
