/* nacctd-agg.h - per time bin aggregates (totals, hosts, users, protocols, ports, interfaces;
 * bytes and packets in and out) gathered in memory between two commits to SQLite. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#include "nacctd-flow.h"
#include "nacctd-hash.h"
#include "nacctd-names.h"

typedef enum NacctAggKind {
        NACCT_AGG_TOTAL,
        NACCT_AGG_HOST,
        NACCT_AGG_USER,
        NACCT_AGG_PROTO,
        NACCT_AGG_PORT,
        NACCT_AGG_IFACE,
        _NACCT_AGG_KIND_MAX,
} NacctAggKind;

typedef struct NacctAggKey {
        int64_t bin;
        uint32_t name; /* USER, IFACE: a NacctNames id the map holds a reference to */
        uint16_t port;
        uint8_t kind;
        uint8_t family; /* HOST */
        uint8_t proto;  /* PROTO, PORT */
        uint8_t pad[7];
        uint8_t addr[16]; /* HOST */
} NacctAggKey;

_Static_assert(sizeof(NacctAggKey) == 40, "NacctAggKey is hashed as bytes");

typedef struct NacctAggEntry {
        NacctAggKey key;
        uint64_t bytes[2]; /* [0] in, [1] out */
        uint64_t packets[2];
} NacctAggEntry;

typedef struct NacctAgg {
        NacctHashKey hash_key;
        NacctNames *devices; /* borrowed */
        NacctNames *users;   /* borrowed */
        NacctAggEntry *entries;
        size_t n;
        size_t allocated;
        size_t max;
        uint32_t *index; /* position + 1, 0 = empty */
        size_t index_mask;
        uint64_t dropped; /* contributions lost because the map was full */
} NacctAgg;

int nacct_agg_new(NacctNames *devices, NacctNames *users, size_t max, NacctAgg **ret);
NacctAgg *nacct_agg_free(NacctAgg *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(NacctAgg *, nacct_agg_free)

/* Forget everything (after a commit). */
void nacct_agg_clear(NacctAgg *a);

/* Add to one aggregate. */
void nacct_agg_add(NacctAgg *a, const NacctAggKey *k, int dir, uint64_t bytes, uint64_t packets);

/* The port a flow is counted under: the lower of its two ports ("the service"), and whether the
 * packets went towards it (in) or came from it (out). False if the flow has no ports. */
bool nacct_service_port(const NacctKey *k, uint16_t *ret_port, int *ret_dir);

/* Fold what a flow has not yet contributed (its db_* counters in its bin) into the aggregates
 * and zero those counters. */
void nacct_agg_fold_flow(NacctAgg *a, NacctFlow *f);
