/* trackerd-server.h - the receive loop: recvmmsg batches, validation, storage, logging. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "trackerd-config.h"
#include "trackerd-store.h"

#define TRACKERD_FDS_MAX 16

typedef struct TrackerdServer TrackerdServer;

/* Takes ownership of store and fds. */
int trackerd_server_new(sd_event *event, const TrackerdConfig *config, TrackerdStore *store,
                        const int *fds, size_t n_fds, TrackerdServer **ret);
TrackerdServer *trackerd_server_free(TrackerdServer *s);

/* Apply a new configuration at once (systemctl reload). */
void trackerd_server_reload(TrackerdServer *s, const TrackerdConfig *config);

/* Receive and store whatever is queued right now, without blocking (used at shutdown). */
int trackerd_server_drain(TrackerdServer *s);

typedef struct TrackerdCounters {
        uint64_t uses, rejected, store_failures;
} TrackerdCounters;
void trackerd_server_counters(const TrackerdServer *s, TrackerdCounters *ret);
