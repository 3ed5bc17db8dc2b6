/* fuzz-nacct-decode.c - libFuzzer target: nacctd's packet decoder on arbitrary frames. The first
 * byte picks the link type, the next two the length on the wire beyond the captured bytes. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nacctd-decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const int dlts[] = {NACCT_DLT_NULL,    NACCT_DLT_EN10MB, NACCT_DLT_RAW,
                                   NACCT_DLT_RAW_ALT, NACCT_DLT_LOOP,   NACCT_DLT_LINUX_SLL,
                                   NACCT_DLT_IPV4,    NACCT_DLT_IPV6,   NACCT_DLT_LINUX_SLL2};
        NacctPacket pk;
        uint32_t extra;
        uint8_t *frame;
        int dlt;

        if (size < 3 || size > 65536 + 3)
                return 0;
        dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
        extra = (uint32_t)data[1] << 8 | data[2];
        /* An exact-size copy, so that any read beyond the captured bytes is caught. */
        frame = malloc(size - 3 ? size - 3 : 1);
        if (!frame)
                return 0;
        memcpy(frame, data + 3, size - 3);
        if (nacct_decode(dlt, frame, (uint32_t)(size - 3), (uint32_t)(size - 3) + extra, &pk) ==
            NACCT_DECODE_OK) {
                assert(pk.family == 4 || pk.family == 6);
                assert(pk.bytes <= size - 3 + extra);
                assert(!pk.eth_src || (pk.eth_src >= frame && pk.eth_src + 6 <= frame + size - 3));
        }
        free(frame);
        return 0;
}
