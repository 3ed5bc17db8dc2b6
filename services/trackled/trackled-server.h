/* trackled-server.h - the control socket: library and console connections, sessions. */
#pragma once

#include <stddef.h>

#include <systemd/sd-event.h>

#include "trackled-config.h"
#include "trackled-store.h"

#define TRACKLED_FDS_MAX 8
#define TRACKLED_CONNECTIONS_MAX 4096
/* per user other than root: a session's processes of one admin stay far below it */
#define TRACKLED_CONNECTIONS_PER_UID 512
#define TRACKLED_FRAME_FDS_MAX 4   /* descriptors accepted with one frame */
#define TRACKLED_TOUCHED_MAX 65536 /* paths remembered per library connection */

typedef struct TrackledServer TrackledServer;

int trackled_server_new(sd_event *event, const TrackledConfig *config, TrackledStore *store,
                        const int *fds, size_t n_fds, TrackledServer **ret);
TrackledServer *trackled_server_free(TrackledServer *s);
/* At start-up: sessions left open by an earlier run are kept (leader alive) or abandoned;
 * stale markers removed; runtime directories created. */
int trackled_server_recover(TrackledServer *s);
size_t trackled_server_n_open(TrackledServer *s);
