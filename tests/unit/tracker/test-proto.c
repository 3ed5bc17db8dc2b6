/* test-proto.c - tracker datagram encode/decode round trips and every malformed case. */
#include <errno.h>

#include "test.h"
#include "tracker-proto.h"

static TrackerUse sample(void)
{
        TrackerUse u = {.uid = 1000};
        strcpy(u.user, "alice");
        strcpy(u.host, "ws1.example.org");
        strcpy(u.program, "vim");
        return u;
}

static size_t encode(const TrackerUse *u, uint8_t *buf)
{
        size_t len = 0;
        ASSERT_EQ_INT(tracker_use_encode(u, buf, TRACKER_DATAGRAM_MAX, &len), 0);
        return len;
}

static void expect_bad(const uint8_t *buf, size_t len, TrackerBad want)
{
        TrackerUse out;
        TrackerBad bad = _TRACKER_BAD_MAX;

        ASSERT_EQ_INT(tracker_use_decode(buf, len, &out, &bad), -EBADMSG);
        if (bad != want)
                TEST_FAIL("len %zu: got %s, want %s", len, tracker_bad_to_string(bad),
                          tracker_bad_to_string(want));
        test_checks++;
}

static void test_round_trip(void)
{
        uint8_t buf[TRACKER_DATAGRAM_MAX];
        TrackerUse u = sample(), out;
        TrackerBad bad;
        size_t len;

        len = encode(&u, buf);
        ASSERT_EQ_INT(len, 8 + 1 + 5 + 1 + 15 + 1 + 3);
        ASSERT_EQ_INT(buf[0], 'T');
        ASSERT_EQ_INT(buf[1], 'K');
        ASSERT_EQ_INT(buf[2], 1);
        ASSERT_EQ_INT(buf[3], 0);
        ASSERT_EQ_INT(buf[6], 0x03); /* 1000 = 0x3e8, big-endian */
        ASSERT_EQ_INT(buf[7], 0xe8);
        ASSERT_EQ_INT(tracker_use_decode(buf, len, &out, &bad), 0);
        ASSERT_EQ_INT(out.uid, 1000);
        ASSERT_STREQ(out.user, "alice");
        ASSERT_STREQ(out.host, "ws1.example.org");
        ASSERT_STREQ(out.program, "vim");

        /* Every field at its limit, UTF-8 included, and the largest UID. */
        memset(u.user, 'u', TRACKER_USER_MAX);
        u.user[TRACKER_USER_MAX] = '\0';
        memset(u.host, 'h', TRACKER_HOST_MAX);
        u.host[TRACKER_HOST_MAX] = '\0';
        memset(u.program, 'p', TRACKER_PROGRAM_MAX - 2);
        strcpy(u.program + TRACKER_PROGRAM_MAX - 2, "\xc3\xa9"); /* é */
        u.uid = UINT32_MAX;
        len = encode(&u, buf);
        ASSERT_EQ_INT(len, TRACKER_DATAGRAM_MAX);
        ASSERT_EQ_INT(tracker_use_decode(buf, len, &out, &bad), 0);
        ASSERT_TRUE(out.uid == UINT32_MAX);
        ASSERT_STREQ(out.program, u.program);
        ASSERT_EQ_INT(strlen(out.host), TRACKER_HOST_MAX);

        /* The smallest datagram. */
        u = sample();
        strcpy(u.user, "0");
        strcpy(u.host, "h");
        strcpy(u.program, "x");
        ASSERT_EQ_INT(encode(&u, buf), TRACKER_DATAGRAM_MIN);
}

static void test_encode_refuses(void)
{
        uint8_t buf[TRACKER_DATAGRAM_MAX];
        TrackerUse u = sample();
        size_t len;

        u.user[0] = '\0';
        ASSERT_EQ_INT(tracker_use_encode(&u, buf, sizeof(buf), &len), -EINVAL);
        u = sample();
        strcpy(u.program, "bad\nname");
        ASSERT_EQ_INT(tracker_use_encode(&u, buf, sizeof(buf), &len), -EINVAL);
        u = sample();
        strcpy(u.program, "latin1-\xe9");
        ASSERT_EQ_INT(tracker_use_encode(&u, buf, sizeof(buf), &len), -EINVAL);
        u = sample();
        ASSERT_EQ_INT(tracker_use_encode(&u, buf, 20, &len), -ENOBUFS);
}

static void test_malformed(void)
{
        uint8_t buf[TRACKER_DATAGRAM_MAX + 64], good[TRACKER_DATAGRAM_MAX];
        TrackerUse u = sample();
        size_t len = encode(&u, good);

        /* Every truncation of a valid datagram is rejected. */
        for (size_t l = 0; l < len; l++) {
                TrackerUse out;
                TrackerBad bad;
                ASSERT_EQ_INT(tracker_use_decode(good, l, &out, &bad), -EBADMSG);
        }
        expect_bad(good, 0, TRACKER_BAD_TRUNCATED);
        expect_bad(good, 1, TRACKER_BAD_TRUNCATED);
        expect_bad(good, 9, TRACKER_BAD_TRUNCATED);
        expect_bad(good, len - 1, TRACKER_BAD_TRUNCATED);

        memcpy(buf, good, len);
        buf[len] = 'x';
        expect_bad(buf, len + 1, TRACKER_BAD_OVERSIZED); /* trailing garbage */
        memset(buf, 'A', sizeof(buf));
        expect_bad(buf, TRACKER_DATAGRAM_MAX + 1, TRACKER_BAD_OVERSIZED);

        memcpy(buf, good, len);
        buf[0] = 'X';
        expect_bad(buf, len, TRACKER_BAD_MAGIC);
        memcpy(buf, good, len);
        buf[2] = 2;
        expect_bad(buf, len, TRACKER_BAD_VERSION);
        memcpy(buf, good, len);
        buf[3] = 0x80;
        expect_bad(buf, len, TRACKER_BAD_FLAGS);

        memcpy(buf, good, len);
        buf[8] = 0; /* empty user */
        expect_bad(buf, len, TRACKER_BAD_EMPTY);
        memcpy(buf, good, len);
        buf[8] = TRACKER_USER_MAX + 1; /* user longer than allowed */
        expect_bad(buf, len, TRACKER_BAD_EMPTY);
        memcpy(buf, good, len);
        buf[8] = 200; /* longer than the datagram */
        expect_bad(buf, len, TRACKER_BAD_EMPTY);
        memcpy(buf, good, len);
        buf[9 + 5] = 250; /* host length past the end */
        expect_bad(buf, len, TRACKER_BAD_TRUNCATED);

        memcpy(buf, good, len);
        buf[10] = '\0'; /* embedded NUL in the user name */
        expect_bad(buf, len, TRACKER_BAD_TEXT);
        memcpy(buf, good, len);
        buf[len - 1] = 0xff; /* not UTF-8 */
        expect_bad(buf, len, TRACKER_BAD_TEXT);
        memcpy(buf, good, len);
        buf[len - 2] = 0x1b; /* escape sequence into someone's terminal */
        expect_bad(buf, len, TRACKER_BAD_TEXT);

        ASSERT_STREQ(tracker_bad_to_string(TRACKER_BAD_TEXT), "bad-text");
        ASSERT_TRUE(tracker_bad_to_string(_TRACKER_BAD_MAX) == NULL);
}

int main(void)
{
        test_round_trip();
        test_encode_refuses();
        test_malformed();
        return test_result();
}
