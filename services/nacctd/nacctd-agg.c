/* nacctd-agg.c - a hash map of aggregates; a flow contributes once per flush (or when its
 * packets move to the next time bin), not once per packet. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nacctd-agg.h"
#include "nacctd-decode.h"
#include "nacctd-net.h"

#define INDEX_MIN 1024

int nacct_agg_new(NacctNames *devices, NacctNames *users, size_t max, NacctAgg **ret)
{
        NacctAgg *a;

        if (max == 0 || max > (1u << 30))
                return -EINVAL;
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        nacct_hash_key_random(&a->hash_key);
        a->devices = devices;
        a->users = users;
        a->max = max;
        a->index = calloc(INDEX_MIN, sizeof(uint32_t));
        if (!a->index) {
                free(a);
                return -ENOMEM;
        }
        a->index_mask = INDEX_MIN - 1;
        *ret = a;
        return 0;
}

static void unref_names(NacctAgg *a)
{
        for (size_t i = 0; i < a->n; i++) {
                const NacctAggKey *k = &a->entries[i].key;

                if (k->kind == NACCT_AGG_USER)
                        nacct_names_unref(a->users, k->name);
                else if (k->kind == NACCT_AGG_IFACE)
                        nacct_names_unref(a->devices, k->name);
        }
}

NacctAgg *nacct_agg_free(NacctAgg *a)
{
        if (!a)
                return NULL;
        unref_names(a);
        free(a->entries);
        free(a->index);
        free(a);
        return NULL;
}

void nacct_agg_clear(NacctAgg *a)
{
        unref_names(a);
        a->n = 0;
        memset(a->index, 0, sizeof(uint32_t) * (a->index_mask + 1));
}

static void index_put(NacctAgg *a, size_t pos)
{
        uint64_t h = nacct_siphash13(&a->hash_key, &a->entries[pos].key, sizeof(NacctAggKey));
        size_t i = (size_t)h & a->index_mask;

        while (a->index[i] != 0)
                i = (i + 1) & a->index_mask;
        a->index[i] = (uint32_t)pos + 1;
}

static int grow_index(NacctAgg *a)
{
        size_t size = (a->index_mask + 1) * 2;
        uint32_t *index = calloc(size, sizeof(uint32_t));

        if (!index)
                return -ENOMEM;
        free(a->index);
        a->index = index;
        a->index_mask = size - 1;
        for (size_t i = 0; i < a->n; i++)
                index_put(a, i);
        return 0;
}

void nacct_agg_add(NacctAgg *a, const NacctAggKey *k, int dir, uint64_t bytes, uint64_t packets)
{
        uint64_t h = nacct_siphash13(&a->hash_key, k, sizeof(*k));
        size_t i = (size_t)h & a->index_mask;
        NacctAggEntry *e;

        for (;; i = (i + 1) & a->index_mask) {
                uint32_t pos = a->index[i];

                if (pos == 0)
                        break;
                e = &a->entries[pos - 1];
                if (memcmp(&e->key, k, sizeof(*k)) == 0)
                        goto add;
        }
        if (a->n >= a->max) {
                a->dropped += packets;
                return;
        }
        if (a->n == a->allocated) {
                size_t na = a->allocated ? a->allocated * 2 : 256;
                NacctAggEntry *ne = realloc(a->entries, sizeof(NacctAggEntry) * na);

                if (!ne) {
                        a->dropped += packets;
                        return;
                }
                a->entries = ne;
                a->allocated = na;
        }
        if ((a->n + 1) * 2 > a->index_mask + 1) {
                if (grow_index(a) < 0) {
                        a->dropped += packets;
                        return;
                }
                i = (size_t)h & a->index_mask;
                while (a->index[i] != 0)
                        i = (i + 1) & a->index_mask;
        }
        e = &a->entries[a->n];
        memset(e, 0, sizeof(*e));
        e->key = *k;
        if (k->kind == NACCT_AGG_USER)
                nacct_names_ref_id(a->users, k->name);
        else if (k->kind == NACCT_AGG_IFACE)
                nacct_names_ref_id(a->devices, k->name);
        a->index[i] = (uint32_t)++a->n;
add:
        e->bytes[dir] += bytes;
        e->packets[dir] += packets;
}

bool nacct_service_port(const NacctKey *k, uint16_t *ret_port, int *ret_dir)
{
        switch (k->proto) {
        case 6:
        case 17:
        case 33:
        case 132:
        case 136:
                break;
        default:
                return false;
        }
        if (k->sport == 0 && k->dport == 0)
                return false; /* a fragment without ports */
        if (k->dport <= k->sport || k->sport == 0) {
                *ret_port = k->dport;
                *ret_dir = NACCT_DIR_IN;
        } else {
                *ret_port = k->sport;
                *ret_dir = NACCT_DIR_OUT;
        }
        return true;
}

void nacct_agg_fold_flow(NacctAgg *a, NacctFlow *f)
{
        uint64_t packets = f->db_packets[0] + f->db_packets[1];
        uint64_t bytes = f->db_bytes[0] + f->db_bytes[1];
        NacctAggKey k;
        uint16_t port;
        int dir;

        if (packets == 0)
                return;
        memset(&k, 0, sizeof(k));
        k.bin = f->bin;

        k.kind = NACCT_AGG_TOTAL;
        nacct_agg_add(a, &k, NACCT_DIR_IN, bytes, packets);

        /* Interfaces and protocols by the direction of the packets on the link. */
        k.kind = NACCT_AGG_IFACE;
        k.name = f->key.dev;
        for (int d = 0; d < 2; d++)
                if (f->db_packets[d] > 0)
                        nacct_agg_add(a, &k, d, f->db_bytes[d], f->db_packets[d]);
        k.name = 0;
        k.kind = NACCT_AGG_PROTO;
        k.proto = f->key.proto;
        for (int d = 0; d < 2; d++)
                if (f->db_packets[d] > 0)
                        nacct_agg_add(a, &k, d, f->db_bytes[d], f->db_packets[d]);

        /* Ports: towards the service port is in, from it is out. */
        if (nacct_service_port(&f->key, &port, &dir)) {
                k.kind = NACCT_AGG_PORT;
                k.port = port;
                nacct_agg_add(a, &k, dir, bytes, packets);
                k.port = 0;
        }
        k.proto = 0;

        /* Hosts: the source sent it (out), the destination received it (in). */
        k.kind = NACCT_AGG_HOST;
        k.family = f->key.family;
        memcpy(k.addr, f->key.src, 16);
        nacct_agg_add(a, &k, NACCT_DIR_OUT, bytes, packets);
        memcpy(k.addr, f->key.dst, 16);
        nacct_agg_add(a, &k, NACCT_DIR_IN, bytes, packets);
        k.family = 0;
        memset(k.addr, 0, 16);

        if (f->user != NACCT_NAME_NONE) {
                k.kind = NACCT_AGG_USER;
                k.name = f->user;
                if (f->user_side == NACCT_USER_SIDE_LINK) {
                        for (int d = 0; d < 2; d++)
                                if (f->db_packets[d] > 0)
                                        nacct_agg_add(a, &k, d, f->db_bytes[d], f->db_packets[d]);
                } else
                        nacct_agg_add(a, &k,
                                      f->user_side == NACCT_USER_SIDE_SRC ? NACCT_DIR_OUT
                                                                          : NACCT_DIR_IN,
                                      bytes, packets);
        }
        memset(f->db_packets, 0, sizeof(f->db_packets));
        memset(f->db_bytes, 0, sizeof(f->db_bytes));
}
