/* fuzz-tracker-proto.c - libFuzzer target: any datagram either decodes into fields that
 * re-encode to the same bytes, or is rejected with a reason. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "tracker-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint8_t again[TRACKER_DATAGRAM_MAX];
        TrackerUse u;
        TrackerBad bad = _TRACKER_BAD_MAX;
        size_t len = 0;

        if (tracker_use_decode(data, size, &u, &bad) < 0) {
                assert(tracker_bad_to_string(bad) != NULL);
                return 0;
        }
        assert(tracker_use_encode(&u, again, sizeof(again), &len) == 0);
        assert(len == size && memcmp(again, data, size) == 0);
        return 0;
}
