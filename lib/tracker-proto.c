/* tracker-proto.c - encoding and exact-length decoding of tracker datagrams. */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "tracker-proto.h"
#include "utf8.h"

static const char *const bad_names[_TRACKER_BAD_MAX] = {
        [TRACKER_BAD_TRUNCATED] = "truncated", [TRACKER_BAD_OVERSIZED] = "oversized",
        [TRACKER_BAD_MAGIC] = "bad-magic",     [TRACKER_BAD_VERSION] = "bad-version",
        [TRACKER_BAD_FLAGS] = "bad-flags",     [TRACKER_BAD_EMPTY] = "bad-length",
        [TRACKER_BAD_TEXT] = "bad-text",       [TRACKER_BAD_SOURCE] = "source-not-allowed",
};

const char *tracker_bad_to_string(TrackerBad b)
{
        if ((unsigned)b >= _TRACKER_BAD_MAX)
                return NULL;
        return bad_names[b];
}

bool tracker_field_is_valid(TrackerField f, const char *s, size_t n)
{
        /* A user or host name with a space or an '@' could pass for another in the
         * "user@host program" of a log line. */
        if (f != TRACKER_FIELD_PROGRAM && memchr(s, ' ', n))
                return false;
        if (f == TRACKER_FIELD_HOST && memchr(s, '@', n))
                return false;
        return utf8_is_visible_n(s, n);
}

static int put_field(uint8_t *buf, size_t *pos, TrackerField f, const char *s, size_t max)
{
        size_t n = strnlen(s, max + 1);

        if (n == 0 || n > max || !tracker_field_is_valid(f, s, n))
                return -EINVAL;
        buf[(*pos)++] = (uint8_t)n;
        memcpy(buf + *pos, s, n);
        *pos += n;
        return 0;
}

int tracker_use_encode(const TrackerUse *u, uint8_t *buf, size_t size, size_t *ret_len)
{
        size_t pos = TRACKER_PROTO_HEADER;
        int r;

        if (size < TRACKER_DATAGRAM_MAX)
                return -ENOBUFS;
        buf[0] = 'T';
        buf[1] = 'K';
        buf[2] = TRACKER_PROTO_VERSION;
        buf[3] = 0;
        buf[4] = (uint8_t)(u->uid >> 24);
        buf[5] = (uint8_t)(u->uid >> 16);
        buf[6] = (uint8_t)(u->uid >> 8);
        buf[7] = (uint8_t)u->uid;
        r = put_field(buf, &pos, TRACKER_FIELD_USER, u->user, TRACKER_USER_MAX);
        if (r < 0)
                return r;
        r = put_field(buf, &pos, TRACKER_FIELD_HOST, u->host, TRACKER_HOST_MAX);
        if (r < 0)
                return r;
        r = put_field(buf, &pos, TRACKER_FIELD_PROGRAM, u->program, TRACKER_PROGRAM_MAX);
        if (r < 0)
                return r;
        *ret_len = pos;
        return 0;
}

static int get_field(const uint8_t *buf, size_t len, size_t *pos, TrackerField f, char *out,
                     size_t max, TrackerBad *bad)
{
        size_t n;

        if (*pos >= len) {
                *bad = TRACKER_BAD_TRUNCATED;
                return -EBADMSG;
        }
        n = buf[(*pos)++];
        if (n == 0 || n > max) {
                *bad = TRACKER_BAD_EMPTY;
                return -EBADMSG;
        }
        if (n > len - *pos) {
                *bad = TRACKER_BAD_TRUNCATED;
                return -EBADMSG;
        }
        if (!tracker_field_is_valid(f, (const char *)buf + *pos, n)) {
                *bad = TRACKER_BAD_TEXT;
                return -EBADMSG;
        }
        memcpy(out, buf + *pos, n);
        out[n] = '\0';
        *pos += n;
        return 0;
}

int tracker_use_decode(const uint8_t *buf, size_t len, TrackerUse *ret, TrackerBad *ret_bad)
{
        TrackerUse u;
        size_t pos = TRACKER_PROTO_HEADER;
        TrackerBad bad = _TRACKER_BAD_MAX;

        if (len > TRACKER_DATAGRAM_MAX)
                bad = TRACKER_BAD_OVERSIZED;
        else if (len < 2)
                bad = TRACKER_BAD_TRUNCATED;
        else if (buf[0] != 'T' || buf[1] != 'K')
                bad = TRACKER_BAD_MAGIC;
        else if (len < 3)
                bad = TRACKER_BAD_TRUNCATED;
        else if (buf[2] != TRACKER_PROTO_VERSION)
                bad = TRACKER_BAD_VERSION;
        else if (len < TRACKER_DATAGRAM_MIN)
                bad = TRACKER_BAD_TRUNCATED;
        else if (buf[3] != 0)
                bad = TRACKER_BAD_FLAGS;
        if (bad != _TRACKER_BAD_MAX)
                goto fail;

        u.uid = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
        if (get_field(buf, len, &pos, TRACKER_FIELD_USER, u.user, TRACKER_USER_MAX, &bad) < 0 ||
            get_field(buf, len, &pos, TRACKER_FIELD_HOST, u.host, TRACKER_HOST_MAX, &bad) < 0 ||
            get_field(buf, len, &pos, TRACKER_FIELD_PROGRAM, u.program, TRACKER_PROGRAM_MAX, &bad) <
                    0)
                goto fail;
        if (pos != len) {
                bad = TRACKER_BAD_OVERSIZED;
                goto fail;
        }
        *ret = u;
        return 0;
fail:
        if (ret_bad)
                *ret_bad = bad;
        return -EBADMSG;
}
