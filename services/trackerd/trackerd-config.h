/* trackerd-config.h - trackerd.conf(5). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"

#define TRACKERD_ALLOW_MAX 256

typedef struct TrackerdAllow {
        size_t n; /* 0 = every source */
        AddrPrefix prefixes[TRACKERD_ALLOW_MAX];
} TrackerdAllow;

typedef struct TrackerdConfig {
        bool log_uses;           /* one journal entry per use */
        uint64_t retention_sec;  /* raw uses older than this are deleted; 0 = keep */
        uint64_t idle_exit_sec;  /* exit after this long without a datagram; 0 = never */
        uint64_t batch_max;      /* datagrams per transaction */
        uint64_t receive_buffer; /* SO_RCVBUF to ask for; 0 = leave as passed */
        TrackerdAllow allow;     /* AllowSource=: where datagrams may come from */
} TrackerdConfig;

#define TRACKERD_BATCH_MAX_LIMIT 65536

void trackerd_config_defaults(TrackerdConfig *c);
/* Load path (a missing file means defaults) into *c, starting from the defaults. Every problem
 * on a line is passed to warn with its line and the line ignored (systemd's convention: one
 * typo never stops collection). Returns the number of such problems, or -errno with err set
 * if the file as a whole cannot be used; *c is written only on success. */
int trackerd_config_load(const char *path, TrackerdConfig *c, ConfWarn warn, void *userdata,
                         ConfError *err);

/* Does the allow-list let a datagram from sa in? */
bool trackerd_allow_contains(const TrackerdAllow *a, const struct sockaddr *sa, socklen_t len);
