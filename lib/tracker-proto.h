/* tracker-proto.h - the tracker datagram (version 1), shared by the shim and trackerd.
 *
 * All integers are big-endian; strings are not NUL-terminated and must be visible UTF-8
 * (see tracker_field_is_valid()). The datagram is exactly as long as its fields say, nothing more:
 *
 *   0  2  magic "TK"
 *   2  1  version (1)
 *   3  1  flags (0; any other value is rejected by version 1 receivers)
 *   4  4  uid of the invoking user
 *   8  1  U = length of the user name (1..31), then U bytes
 *      1  H = length of the sender's host name (1..255), then H bytes
 *      1  P = length of the program name (1..255), then P bytes
 *
 * See tracker-protocol(7). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACKER_PROTO_VERSION 1
#define TRACKER_PROTO_HEADER 8
#define TRACKER_USER_MAX 31
#define TRACKER_HOST_MAX 255
#define TRACKER_PROGRAM_MAX 255
#define TRACKER_DATAGRAM_MIN (TRACKER_PROTO_HEADER + 3 * 2)
#define TRACKER_DATAGRAM_MAX                                                                       \
        (TRACKER_PROTO_HEADER + 3 + TRACKER_USER_MAX + TRACKER_HOST_MAX + TRACKER_PROGRAM_MAX)

typedef struct TrackerUse {
        uint32_t uid;
        char user[TRACKER_USER_MAX + 1];
        char host[TRACKER_HOST_MAX + 1];
        char program[TRACKER_PROGRAM_MAX + 1];
} TrackerUse;

typedef enum TrackerBad {
        TRACKER_BAD_TRUNCATED, /* shorter than the header or than its fields say */
        TRACKER_BAD_OVERSIZED, /* longer than any valid datagram or than its fields say */
        TRACKER_BAD_MAGIC,
        TRACKER_BAD_VERSION,
        TRACKER_BAD_FLAGS,
        TRACKER_BAD_EMPTY,  /* a field of length zero or over its limit */
        TRACKER_BAD_TEXT,   /* not UTF-8, a NUL or a control character */
        TRACKER_BAD_SOURCE, /* from an address the receiver does not accept (trackerd's
                             * AllowSource=), not a property of the datagram */
        _TRACKER_BAD_MAX,
} TrackerBad;

const char *tracker_bad_to_string(TrackerBad b);

typedef enum TrackerField {
        TRACKER_FIELD_USER,
        TRACKER_FIELD_HOST,
        TRACKER_FIELD_PROGRAM,
} TrackerField;

/* May s[0..n) be field f of a datagram? Visible UTF-8 only (utf8_is_visible_n()): names are
 * rejected at this boundary rather than escaped at each output, so the database, the journal
 * and every report only ever hold text that shows as what it is. User and host names have
 * no space, host names no '@'. */
bool tracker_field_is_valid(TrackerField f, const char *s, size_t n);

/* Encode u into buf (at least TRACKER_DATAGRAM_MAX bytes). -EINVAL if a field is empty, too
 * long or not printable UTF-8. */
int tracker_use_encode(const TrackerUse *u, uint8_t *buf, size_t size, size_t *ret_len);

/* Decode a datagram. On failure returns -EBADMSG and sets *ret_bad to the reason. */
int tracker_use_decode(const uint8_t *buf, size_t len, TrackerUse *ret, TrackerBad *ret_bad);
