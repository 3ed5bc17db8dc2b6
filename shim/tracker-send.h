/* tracker-send.h - the shim's configuration and its one datagram to trackerd. */
#pragma once

#include <stdint.h>

#include "conf.h"
#include "tracker-proto.h"

#define TRACKER_SERVER_ENV "TRACKSUITE_TRACKER_SERVER"
#define TRACKER_CONFIG_ENV "TRACKSUITE_TRACKER_CONFIG"
#define TRACKER_RESOLVE_TIMEOUT_MS_DEFAULT 5

typedef struct TrackerConfig {
        char *server;                /* "host[:port]", NULL = compiled-in default */
        uint64_t resolve_timeout_ms; /* how long a name lookup may delay the program */
} TrackerConfig;

void tracker_config_done(TrackerConfig *c);

/* Load the configuration file (missing = defaults). */
int tracker_config_load(const char *path, TrackerConfig *c, ConfError *err);

/* The server to use: $TRACKSUITE_TRACKER_SERVER, else Server= from the file, else the built-in
 * default. */
const char *tracker_server_spec(const TrackerConfig *c);

/* Fill in user, uid and host for the calling user. */
int tracker_use_fill(TrackerUse *u, const char *program);

/* Send one datagram describing u to spec ("host[:port]"). Never blocks for longer than
 * timeout_ms on name resolution and never on the network. Returns 0 if the kernel accepted
 * the datagram, -errno otherwise (the caller ignores it on the fast path): -ETIMEDOUT if the
 * lookup took longer than timeout_ms, -EADDRNOTAVAIL if the name did not resolve, with the
 * resolver's EAI_* code in *ret_gai (may be NULL). */
int tracker_send(const char *spec, uint64_t timeout_ms, const TrackerUse *u, int *ret_gai);

/* A sentence for a failure of tracker_send() ("name resolution failed: ..."), in buf. */
const char *tracker_send_strerror(int r, int gai, uint64_t timeout_ms, char *buf, size_t size);
