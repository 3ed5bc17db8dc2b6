/* fuzz-trackalert-console.c - libFuzzer target: console frames. The input is read as the byte
 * stream a client sends (uint16 big-endian length + secretbox ciphertext, repeated): every
 * frame a peer without the key can make is refused without reading past it; and the input's
 * chunks sealed with the key open again to the same bytes, nonces advancing in step. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "trackalert-console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const uint8_t key[32] = "0123456789abcdef0123456789abcdef";
        uint8_t rd[TA_NONCE_SIZE] = {1}, a[TA_NONCE_SIZE], b[TA_NONCE_SIZE];
        size_t off = 0;

        if (sodium_init() < 0)
                abort();
        /* as the server reads them */
        while (off + 2 <= size) {
                size_t len = ((size_t)data[off] << 8) | data[off + 1];
                uint8_t before[TA_NONCE_SIZE];
                char *plain = NULL;
                size_t plen = 0;
                int r;

                off += 2;
                if (len > size - off)
                        break; /* the server would wait for more */
                memcpy(before, rd, sizeof(rd));
                r = ta_console_open(key, rd, data + off, len, &plain, &plen);
                if (r < 0) {
                        assert(r == -EBADMSG || r == -ENOMEM);
                        /* a failed frame does not advance the nonce */
                        assert(memcmp(before, rd, sizeof(rd)) == 0);
                } else {
                        assert(plen + crypto_secretbox_MACBYTES == len);
                        free(plain);
                }
                off += len;
        }

        /* seal and open each 1 KiB chunk: the roundtrip is exact, nonces move together */
        ta_nonce_merge(data && size >= 24 ? data : key, key, a);
        memcpy(b, a, sizeof(a));
        for (size_t o = 0; o < size; o += 1024) {
                size_t n = size - o < 1024 ? size - o : 1024;
                TaBuf frame = {};
                char *plain = NULL;
                size_t plen = 0;

                assert(ta_console_seal(key, a, data + o, n, &frame) == 0);
                assert(frame.len == n + 2 + crypto_secretbox_MACBYTES);
                assert((((size_t)(uint8_t)frame.data[0] << 8) | (uint8_t)frame.data[1]) ==
                       frame.len - 2);
                assert(ta_console_open(key, b, (uint8_t *)frame.data + 2, frame.len - 2, &plain,
                                       &plen) == 0);
                assert(plen == n && memcmp(plain, data + o, n) == 0);
                assert(memcmp(a, b, sizeof(a)) == 0);
                free(plain);
                ta_buf_done(&frame);
        }
        return 0;
}
