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

/* The first field a code point is fine in: a space only in the program name. */
static int cp_space(uint32_t cp)
{
        return cp == ' ' ? 2 : 0;
}

/* UTF-8 of code point cp into out (NUL-terminated). */
static void put_cp(char *out, uint32_t cp)
{
        if (cp < 0x80)
                *out++ = (char)cp;
        else if (cp < 0x800) {
                *out++ = (char)(0xc0 | cp >> 6);
                *out++ = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
                *out++ = (char)(0xe0 | cp >> 12);
                *out++ = (char)(0x80 | (cp >> 6 & 0x3f));
                *out++ = (char)(0x80 | (cp & 0x3f));
        } else {
                *out++ = (char)(0xf0 | cp >> 18);
                *out++ = (char)(0x80 | (cp >> 12 & 0x3f));
                *out++ = (char)(0x80 | (cp >> 6 & 0x3f));
                *out++ = (char)(0x80 | (cp & 0x3f));
        }
        *out = '\0';
}

/* A datagram whose field f is "a" + cp + "b", built by hand (the encoder refuses it). */
static size_t raw_with(uint8_t *buf, int f, uint32_t cp)
{
        char field[16] = "a";
        const char *fields[3] = {"alice", "ws1", "vim"};
        size_t pos = 8;

        put_cp(field + 1, cp);
        strcat(field, "b");
        fields[f] = field;
        memcpy(buf, "TK\x01\x00\x00\x00\x03\xe8", 8);
        for (int i = 0; i < 3; i++) {
                buf[pos++] = (uint8_t)strlen(fields[i]);
                memcpy(buf + pos, fields[i], strlen(fields[i]));
                pos += strlen(fields[i]);
        }
        return pos;
}

/* Names that could forge or split a log line, a journal field or a report row are refused at
 * this boundary, in every field, by the decoder and the encoder alike: the whole class
 * (every code point of every range, both ends), not one example. */
static void test_invisible(void)
{
        static const struct {
                uint32_t first, last;
        } refused[] = {
                {0x01, 0x1f},       {0x7f, 0x9f},         {0xa0, 0xa0},       {0xad, 0xad},
                {0x34f, 0x34f},     {0x61c, 0x61c},       {0x115f, 0x1160},   {0x1680, 0x1680},
                {0x17b4, 0x17b5},   {0x180b, 0x180f},     {0x2000, 0x200f},   {0x2028, 0x202f},
                {0x205f, 0x206f},   {0x3000, 0x3000},     {0x3164, 0x3164},   {0xfdd0, 0xfdef},
                {0xfe00, 0xfe0f},   {0xfeff, 0xfeff},     {0xffa0, 0xffa0},   {0xfff0, 0xfffb},
                {0xfffe, 0xffff},   {0x1bca0, 0x1bca3},   {0x1d173, 0x1d17a}, {0x1fffe, 0x1ffff},
                {0xe0000, 0xe0fff}, {0x10fffe, 0x10ffff},
        };
        static const uint32_t accepted[] = {
                0x20 /* only in the program */,
                0xe9 /* é */,
                0x3b1 /* α */,
                0x5d0 /* א */,
                0x627 /* ا */,
                0x65e5 /* 日 */,
                0x1f600 /* 😀 */,
                0x2010 /* ‐ */,
                0xfffd,
                0x1ffd,
                0x2030,
                0x2070,
                0x3001,
                0xfe10,
                0xe1000,
        };
        uint8_t buf[TRACKER_DATAGRAM_MAX];
        TrackerUse out, u;
        size_t len, n = 0;

        for (size_t r = 0; r < sizeof(refused) / sizeof(refused[0]); r++)
                for (uint32_t cp = refused[r].first; cp <= refused[r].last; cp++)
                        for (int f = 0; f < 3; f++) {
                                len = raw_with(buf, f, cp);
                                expect_bad(buf, len, TRACKER_BAD_TEXT);
                                char *field;

                                u = sample();
                                field = f == 0 ? u.user : f == 1 ? u.host : u.program;
                                strcpy(field, "a");
                                put_cp(field + 1, cp);
                                strcat(field, "b");
                                ASSERT_EQ_INT(tracker_use_encode(&u, buf, sizeof(buf), &len),
                                              -EINVAL);
                                n++;
                        }
        ASSERT_TRUE(n > 3 * 4000);

        for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
                for (int f = cp_space(accepted[i]); f < 3; f++) {
                        TrackerBad bad;

                        len = raw_with(buf, f, accepted[i]);
                        ASSERT_EQ_INT(tracker_use_decode(buf, len, &out, &bad), 0);
                }
        /* '@' would let a host pass for "user@host"; a space in user or host likewise. */
        len = raw_with(buf, 1, '@');
        expect_bad(buf, len, TRACKER_BAD_TEXT);
        len = raw_with(buf, 0, '@');
        ASSERT_EQ_INT(tracker_use_decode(buf, len, &out, NULL), 0);
        for (int f = 0; f < 2; f++) {
                len = raw_with(buf, f, ' ');
                expect_bad(buf, len, TRACKER_BAD_TEXT);
        }
        /* Invalid UTF-8 in every field. */
        for (int f = 0; f < 3; f++) {
                len = raw_with(buf, f, 'x');
                *(uint8_t *)memchr(buf + 8, 'x', len - 8) = 0xff;
                expect_bad(buf, len, TRACKER_BAD_TEXT);
        }
}

int main(void)
{
        test_round_trip();
        test_encode_refuses();
        test_malformed();
        test_invisible();
        return test_result();
}
