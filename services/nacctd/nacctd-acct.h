/* nacctd-acct.h - the per-packet path shared by live capture and `-r` replay: decode, the
 * original's filters in the original's order (notdev/iflimit, hostlimit, ignoremask,
 * ignorenet/dontignore), user association and the flow table. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

#include "nacctd-agg.h"
#include "nacctd-config.h"
#include "nacctd-flow.h"
#include "nacctd-names.h"
#include "nacctd-user.h"

#define NACCT_DEVICES_MAX 4096 /* interface names alive at once (ids fit the key's 16 bits) */
#define NACCT_USERS_MAX 1000000
#define NACCT_AGG_MAX (4u * 1024 * 1024)

typedef struct NacctCounters {
        uint64_t packets; /* accounted */
        uint64_t bytes;
        uint64_t ignored;    /* not IP: ARP, LLDP, ... */
        uint64_t truncated;  /* capture ended inside the link or IP header */
        uint64_t malformed;  /* impossible headers */
        uint64_t shorts;     /* accounted without ports: transport header not captured */
        uint64_t fragments;  /* accounted non-first fragments (no ports) */
        uint64_t notdev;     /* on an interface excluded by notdev/iflimit */
        uint64_t hostlimit;  /* neither address in hostlimit */
        uint64_t local;      /* ignoremask */
        uint64_t netignored; /* ignorenet (and not dontignore) */
        uint64_t table_full; /* dropped: maxflows records exist */
        uint64_t flows;      /* records created */
} NacctCounters;

typedef struct NacctDevInfo {
        bool accounted;
        char *tty; /* `line` mapping, or NULL */
} NacctDevInfo;

typedef struct NacctAcct {
        const NacctConfig *config; /* borrowed */
        NacctNames *devices;
        NacctNames *users;
        NacctFlowTable *table;
        NacctUsers *resolver;
        NacctAgg *agg;
        NacctDevInfo devinfo[NACCT_DEVICES_MAX];
        NacctCounters counters;
        uint32_t ignoremask;
        uint32_t last; /* position + 1 of the last record hit, 0: none */
        bool full;     /* a packet found the table full: flush early */
} NacctAcct;

int nacct_acct_new(const NacctConfig *c, NacctAcct **ret);
NacctAcct *nacct_acct_free(NacctAcct *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(NacctAcct *, nacct_acct_free)

/* Switch to another configuration (after a reload): filters, limits, user caches. */
int nacct_acct_set_config(NacctAcct *a, const NacctConfig *c);

/* An interface name as a device id, with a reference. */
int nacct_acct_device_ref(NacctAcct *a, const char *name, uint16_t *ret);
void nacct_acct_device_unref(NacctAcct *a, uint16_t dev);

/* Account one captured frame. dev_mac is the interface's own MAC (for the direction of
 * Ethernet frames) or NULL. */
void nacct_acct_packet(NacctAcct *a, uint16_t dev, int dlt, int64_t ts, const uint8_t *data,
                       uint32_t caplen, uint32_t wirelen, const uint8_t *dev_mac);

/* Drop a record's name references and mark it for the next sweep. */
void nacct_acct_flow_release(NacctAcct *a, NacctFlow *f);
