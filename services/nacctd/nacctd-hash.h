/* nacctd-hash.h - SipHash-1-3 with a per-process random key: the flow table is keyed by what the
 * network sends us, so collisions must not be something a sender can arrange. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct NacctHashKey {
        uint64_t k0, k1;
} NacctHashKey;

/* A random key from getrandom(); falls back to time and address bits if that fails. */
void nacct_hash_key_random(NacctHashKey *ret);

uint64_t nacct_siphash13(const NacctHashKey *key, const void *data, size_t len);
