/* nacctd-flow.c - dense records plus a linear-probing index at most half full; removal is
 * batched (mark dead, sweep at flush time), so the index never needs tombstones. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nacctd-flow.h"

#define INDEX_MIN 1024

static int index_alloc(NacctFlowTable *t, uint32_t size)
{
        uint64_t *index = calloc(size, sizeof(uint64_t));

        if (!index)
                return -ENOMEM;
        free(t->index);
        t->index = index;
        t->index_mask = size - 1;
        return 0;
}

static void index_insert(NacctFlowTable *t, uint64_t hash, uint32_t pos)
{
        uint64_t entry = (hash & 0xffffffff00000000ULL) | ((uint64_t)pos + 1);
        uint32_t i = (uint32_t)hash & t->index_mask;

        while (t->index[i] != 0)
                i = (i + 1) & t->index_mask;
        t->index[i] = entry;
}

static uint64_t flow_full_hash(const NacctFlowTable *t, const NacctFlow *f)
{
        /* The index wants the high half too; records keep only the low half. */
        return nacct_flow_hash(t, &f->key);
}

static int index_rebuild(NacctFlowTable *t, uint32_t size)
{
        int r = index_alloc(t, size);

        if (r < 0)
                return r;
        for (uint32_t i = 0; i < t->n; i++)
                index_insert(t, flow_full_hash(t, &t->flows[i]), i);
        return 0;
}

int nacct_flow_table_new(uint32_t max, NacctFlowTable **ret)
{
        NacctFlowTable *t;

        if (max == 0 || max > (1u << 30))
                return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        nacct_hash_key_random(&t->hash_key);
        t->max = max;
        if (index_alloc(t, INDEX_MIN) < 0) {
                free(t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

NacctFlowTable *nacct_flow_table_free(NacctFlowTable *t)
{
        if (!t)
                return NULL;
        free(t->flows);
        free(t->index);
        free(t);
        return NULL;
}

void nacct_flow_table_set_max(NacctFlowTable *t, uint32_t max)
{
        if (max > 0 && max <= (1u << 30))
                t->max = max;
}

NacctFlow *nacct_flow_get(NacctFlowTable *t, const NacctKey *k, uint64_t hash, bool *ret_new)
{
        uint64_t tag = hash & 0xffffffff00000000ULL;
        uint32_t i = (uint32_t)hash & t->index_mask;
        NacctFlow *f;

        t->lookups++;
        for (;; i = (i + 1) & t->index_mask) {
                uint64_t e = t->index[i];

                t->probes++;
                if (e == 0)
                        break;
                if ((e & 0xffffffff00000000ULL) != tag)
                        continue;
                f = &t->flows[(uint32_t)e - 1];
                if (memcmp(&f->key, k, sizeof(*k)) == 0) {
                        *ret_new = false;
                        return f;
                }
        }

        if (t->n >= t->max)
                return NULL;
        if (t->n == t->allocated) {
                uint32_t na = t->allocated ? t->allocated * 2 : 1024;
                NacctFlow *nf;

                if (na > t->max)
                        na = t->max;
                nf = realloc(t->flows, sizeof(NacctFlow) * na);
                if (!nf)
                        return NULL;
                t->flows = nf;
                t->allocated = na;
        }
        if ((uint64_t)(t->n + 1) * 2 > (uint64_t)t->index_mask + 1) {
                if (index_rebuild(t, (t->index_mask + 1) * 2) < 0)
                        return NULL;
                /* The slot found above belongs to the old index. */
                i = (uint32_t)hash & t->index_mask;
                while (t->index[i] != 0)
                        i = (i + 1) & t->index_mask;
        }
        f = &t->flows[t->n];
        memset(f, 0, sizeof(*f));
        f->key = *k;
        f->hash = (uint32_t)hash;
        t->index[i] = tag | ((uint64_t)t->n + 1);
        t->n++;
        *ret_new = true;
        return f;
}

void nacct_flow_sweep(NacctFlowTable *t)
{
        uint32_t w = 0, size;

        for (uint32_t i = 0; i < t->n; i++) {
                if (t->flows[i].dead)
                        continue;
                if (w != i)
                        t->flows[w] = t->flows[i];
                w++;
        }
        if (w == t->n)
                return;
        t->n = w;
        /* Shrink the index with the table so a burst does not leave it huge forever. */
        size = INDEX_MIN;
        while ((uint64_t)size < (uint64_t)t->n * 2 + 2)
                size *= 2;
        if (index_rebuild(t, size) < 0) {
                /* Keep the old size: memset and refill cannot fail. */
                memset(t->index, 0, sizeof(uint64_t) * ((size_t)t->index_mask + 1));
                for (uint32_t i = 0; i < t->n; i++)
                        index_insert(t, flow_full_hash(t, &t->flows[i]), i);
        }
        if (t->allocated > 4096 && t->n < t->allocated / 4) {
                NacctFlow *nf = realloc(t->flows, sizeof(NacctFlow) * (t->allocated / 2));

                if (nf) {
                        t->flows = nf;
                        t->allocated /= 2;
                }
        }
}
