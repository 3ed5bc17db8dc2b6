/* fuzz-trackle-json.c - libFuzzer target: trackled's console request validator on arbitrary
 * bytes (what a local client can send in one JSON frame). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "trackled-request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        TrackledRequest q;
        TrackledCommand c;
        const char *err = NULL;

        if (size > 1024 * 1024)
                return 0;
        if (trackled_request_parse((const char *)data, size, &q, &err) < 0) {
                assert(err != NULL);
                return 0;
        }
        for (size_t i = 0; i < trackled_request_n_commands(&q); i++)
                trackled_request_command(&q, i, &c);
        trackled_request_done(&q);
        return 0;
}
