/* trackerd-config.h - trackerd.conf(5). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

typedef struct TrackerdConfig {
        bool log_uses;            /* one journal entry per use */
        uint64_t retention_sec;   /* raw uses older than this are deleted; 0 = keep */
        uint64_t idle_exit_sec;   /* exit after this long without a datagram; 0 = never */
        uint64_t batch_max;       /* datagrams per transaction */
        uint64_t receive_buffer;  /* SO_RCVBUF to ask for; 0 = leave as passed */
} TrackerdConfig;

#define TRACKERD_BATCH_MAX_LIMIT 65536

void trackerd_config_defaults(TrackerdConfig *c);
/* Load path over the defaults; a missing file is not an error. */
int trackerd_config_load(const char *path, TrackerdConfig *c, ConfError *err);
