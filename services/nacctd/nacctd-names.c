/* nacctd-names.c - a string intern table: entries addressed by id, an open-addressing index by
 * hash with backward-shift deletion, and a free list of ids. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nacctd-hash.h"
#include "nacctd-names.h"

typedef struct Entry {
        char *name; /* NULL: free */
        uint32_t refs;
        uint32_t hash;
        uint32_t next_free;
} Entry;

struct NacctNames {
        NacctHashKey key;
        Entry *entries;
        uint32_t n_entries; /* used slots of entries[], in use or on the free list */
        uint32_t allocated;
        uint32_t max;
        uint32_t count;
        uint32_t free_head;  /* NACCT_NAME_NONE: empty */
        uint32_t *index;     /* ids, NACCT_NAME_NONE for an empty slot */
        uint32_t index_size; /* power of two, at least twice max */
};

int nacct_names_new(uint32_t max, NacctNames **ret)
{
        NacctNames *n;

        if (max == 0 || max > (1u << 28))
                return -EINVAL;
        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        nacct_hash_key_random(&n->key);
        n->max = max;
        n->free_head = NACCT_NAME_NONE;
        n->index_size = 16;
        while (n->index_size < 2 * max)
                n->index_size *= 2;
        n->index = malloc(sizeof(uint32_t) * n->index_size);
        if (!n->index) {
                free(n);
                return -ENOMEM;
        }
        memset(n->index, 0xff, sizeof(uint32_t) * n->index_size);
        *ret = n;
        return 0;
}

NacctNames *nacct_names_free(NacctNames *n)
{
        if (!n)
                return NULL;
        for (uint32_t i = 0; i < n->n_entries; i++)
                free(n->entries[i].name);
        free(n->entries);
        free(n->index);
        free(n);
        return NULL;
}

static uint32_t name_hash(const NacctNames *n, const char *s, size_t len)
{
        return (uint32_t)nacct_siphash13(&n->key, s, len);
}

static uint32_t *index_find(NacctNames *n, const char *name, size_t len, uint32_t h)
{
        uint32_t mask = n->index_size - 1;

        for (uint32_t i = h & mask;; i = (i + 1) & mask) {
                uint32_t id = n->index[i];

                if (id == NACCT_NAME_NONE)
                        return &n->index[i];
                if (n->entries[id].hash == h && strncmp(n->entries[id].name, name, len) == 0 &&
                    n->entries[id].name[len] == '\0')
                        return &n->index[i];
        }
}

int nacct_names_ref(NacctNames *n, const char *name, uint32_t *ret_id)
{
        size_t len = name ? strlen(name) : 0;
        uint32_t h, id, *slot;
        char *copy;

        if (len == 0 || len > NACCT_NAME_LEN_MAX)
                return -EINVAL;
        h = name_hash(n, name, len);
        slot = index_find(n, name, len, h);
        if (*slot != NACCT_NAME_NONE) {
                n->entries[*slot].refs++;
                *ret_id = *slot;
                return 0;
        }
        if (n->count >= n->max)
                return -E2BIG;
        copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        if (n->free_head != NACCT_NAME_NONE) {
                id = n->free_head;
                n->free_head = n->entries[id].next_free;
        } else {
                if (n->n_entries == n->allocated) {
                        uint32_t na = n->allocated ? n->allocated * 2 : 16;
                        Entry *e;

                        if (na > n->max)
                                na = n->max;
                        e = realloc(n->entries, sizeof(Entry) * na);
                        if (!e) {
                                free(copy);
                                return -ENOMEM;
                        }
                        n->entries = e;
                        n->allocated = na;
                }
                id = n->n_entries++;
        }
        n->entries[id] = (Entry){.name = copy, .refs = 1, .hash = h, .next_free = NACCT_NAME_NONE};
        *slot = id;
        n->count++;
        *ret_id = id;
        return 0;
}

void nacct_names_ref_id(NacctNames *n, uint32_t id)
{
        if (id == NACCT_NAME_NONE)
                return;
        n->entries[id].refs++;
}

static void index_remove(NacctNames *n, uint32_t id)
{
        uint32_t mask = n->index_size - 1, i, j;

        for (i = n->entries[id].hash & mask; n->index[i] != id; i = (i + 1) & mask)
                ;
        /* Backward-shift: move later members of the probe run into the hole. */
        for (j = (i + 1) & mask;; j = (j + 1) & mask) {
                uint32_t other = n->index[j], home;

                if (other == NACCT_NAME_NONE)
                        break;
                home = n->entries[other].hash & mask;
                /* other may move to i if its home is not cyclically within (i, j]. */
                if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
                        n->index[i] = other;
                        i = j;
                }
        }
        n->index[i] = NACCT_NAME_NONE;
}

void nacct_names_unref(NacctNames *n, uint32_t id)
{
        Entry *e;

        if (id == NACCT_NAME_NONE)
                return;
        e = &n->entries[id];
        if (--e->refs > 0)
                return;
        index_remove(n, id);
        free(e->name);
        e->name = NULL;
        e->next_free = n->free_head;
        n->free_head = id;
        n->count--;
}

const char *nacct_names_get(const NacctNames *n, uint32_t id)
{
        if (id == NACCT_NAME_NONE || id >= n->n_entries || !n->entries[id].name)
                return NULL;
        return n->entries[id].name;
}

uint32_t nacct_names_refs(const NacctNames *n, uint32_t id)
{
        if (id == NACCT_NAME_NONE || id >= n->n_entries || !n->entries[id].name)
                return 0;
        return n->entries[id].refs;
}

size_t nacct_names_count(const NacctNames *n)
{
        return n->count;
}
