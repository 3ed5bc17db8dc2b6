/* nacctd-flow.h - the flow table: one record per (proto, src, sport, dst, dport, interface),
 * unidirectional as in the original, with what is not yet written to the log and what is not
 * yet folded into the SQLite aggregates. Records live in a dense array; an open-addressing
 * index (keyed SipHash) finds them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#include "nacctd-hash.h"

typedef struct NacctKey {
        uint8_t src[16];
        uint8_t dst[16];
        uint16_t sport;
        uint16_t dport;
        uint16_t dev; /* interned interface name */
        uint8_t proto;
        uint8_t family; /* NACCT_FAMILY_V4 or _V6 */
} NacctKey;

_Static_assert(sizeof(NacctKey) == 40, "NacctKey must have no padding: it is hashed and compared "
                                       "as bytes");

/* Which address a record's user belongs to: the direction of the user aggregate. */
enum {
        NACCT_USER_SIDE_SRC = 0,  /* the user sent it */
        NACCT_USER_SIDE_DST = 1,  /* the user received it */
        NACCT_USER_SIDE_LINK = 2, /* from `line`: the direction of the packet on the link */
};

typedef struct NacctFlow {
        NacctKey key;
        uint32_t hash;
        uint32_t user; /* NacctNames id (one reference), NACCT_NAME_NONE: "unknown" */
        uint8_t user_side;
        bool user_resolved; /* false: resolve at the next packet */
        bool dead;          /* to be removed by the next sweep */
        /* Not yet written to the log. */
        uint64_t packets;
        uint64_t bytes;
        int64_t first; /* time of the first packet not yet written, 0 if none */
        int64_t last;  /* time of the last packet */
        /* Not yet folded into the aggregates: in the time bin `bin`, by NacctDirection. */
        int64_t bin;
        uint64_t db_packets[2];
        uint64_t db_bytes[2];
} NacctFlow;

typedef struct NacctFlowTable {
        NacctHashKey hash_key;
        NacctFlow *flows;
        uint32_t n;
        uint32_t allocated;
        uint32_t max;
        uint64_t *index; /* (hash >> 32) << 32 | (position + 1); 0 = empty */
        uint32_t index_mask;
        uint64_t lookups;
        uint64_t probes;
} NacctFlowTable;

int nacct_flow_table_new(uint32_t max, NacctFlowTable **ret);
NacctFlowTable *nacct_flow_table_free(NacctFlowTable *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(NacctFlowTable *, nacct_flow_table_free)

static inline uint64_t nacct_flow_hash(const NacctFlowTable *t, const NacctKey *k)
{
        return nacct_siphash13(&t->hash_key, k, sizeof(*k));
}

/* The record for k, created (zeroed but for key and hash) if there is none, *ret_new set then.
 * NULL if the table holds max records or memory ran out. The pointer is valid until the next
 * insertion or sweep. */
NacctFlow *nacct_flow_get(NacctFlowTable *t, const NacctKey *k, uint64_t hash, bool *ret_new);

/* Change the limit; records beyond a lower limit stay until they are swept. */
void nacct_flow_table_set_max(NacctFlowTable *t, uint32_t max);

/* Remove the records marked dead; the others keep their order. */
void nacct_flow_sweep(NacctFlowTable *t);
