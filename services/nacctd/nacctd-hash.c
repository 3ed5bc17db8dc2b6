/* nacctd-hash.c - SipHash-1-3 (Aumasson, Bernstein), the variant the Linux kernel and Rust use
 * for hash tables: one compression round per word, three finalisation rounds. */
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "nacctd-hash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                                                   \
        do {                                                                                       \
                v0 += v1;                                                                          \
                v1 = ROTL(v1, 13);                                                                 \
                v1 ^= v0;                                                                          \
                v0 = ROTL(v0, 32);                                                                 \
                v2 += v3;                                                                          \
                v3 = ROTL(v3, 16);                                                                 \
                v3 ^= v2;                                                                          \
                v0 += v3;                                                                          \
                v3 = ROTL(v3, 21);                                                                 \
                v3 ^= v0;                                                                          \
                v2 += v1;                                                                          \
                v1 = ROTL(v1, 17);                                                                 \
                v1 ^= v2;                                                                          \
                v2 = ROTL(v2, 32);                                                                 \
        } while (0)

void nacct_hash_key_random(NacctHashKey *ret)
{
        NacctHashKey k;
        struct timespec ts;

        if (getrandom(&k, sizeof(k), GRND_NONBLOCK) == (ssize_t)sizeof(k)) {
                *ret = k;
                return;
        }
        /* Early boot without entropy: still not predictable from the outside in practice. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        k.k0 = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
        k.k1 = (uint64_t)(uintptr_t)&k * 0xbf58476d1ce4e5b9ULL ^ (uint64_t)ts.tv_sec;
        *ret = k;
}

uint64_t nacct_siphash13(const NacctHashKey *key, const void *data, size_t len)
{
        const uint8_t *in = data, *end = in + (len - len % 8);
        uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0;
        uint64_t v1 = 0x646f72616e646f6dULL ^ key->k1;
        uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0;
        uint64_t v3 = 0x7465646279746573ULL ^ key->k1;
        uint64_t b = (uint64_t)len << 56, m;

        for (; in != end; in += 8) {
                memcpy(&m, in, 8);
                v3 ^= m;
                SIPROUND;
                v0 ^= m;
        }
        switch (len & 7) {
        case 7:
                b |= (uint64_t)in[6] << 48;
                __attribute__((fallthrough));
        case 6:
                b |= (uint64_t)in[5] << 40;
                __attribute__((fallthrough));
        case 5:
                b |= (uint64_t)in[4] << 32;
                __attribute__((fallthrough));
        case 4:
                b |= (uint64_t)in[3] << 24;
                __attribute__((fallthrough));
        case 3:
                b |= (uint64_t)in[2] << 16;
                __attribute__((fallthrough));
        case 2:
                b |= (uint64_t)in[1] << 8;
                __attribute__((fallthrough));
        case 1:
                b |= (uint64_t)in[0];
                break;
        case 0:
                break;
        }
        v3 ^= b;
        SIPROUND;
        v0 ^= b;
        v2 ^= 0xff;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        return v0 ^ v1 ^ v2 ^ v3;
}
