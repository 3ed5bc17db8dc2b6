/* test-parse.c - strict number, boolean, time span and UTF-8 parsing. */
#include <errno.h>

#include "parse.h"
#include "test.h"
#include "utf8.h"

static void test_numbers(void)
{
        uint64_t u;
        uint32_t u32;
        uint16_t p;
        bool b;

        ASSERT_EQ_INT(parse_uint64("0", &u), 0);
        ASSERT_EQ_INT(u, 0);
        ASSERT_EQ_INT(parse_uint64("18446744073709551615", &u), 0);
        ASSERT_TRUE(u == UINT64_MAX);
        ASSERT_EQ_INT(parse_uint64("18446744073709551616", &u), -ERANGE);
        ASSERT_EQ_INT(parse_uint64("-1", &u), -EINVAL);
        ASSERT_EQ_INT(parse_uint64(" 1", &u), -EINVAL);
        ASSERT_EQ_INT(parse_uint64("1 ", &u), -EINVAL);
        ASSERT_EQ_INT(parse_uint64("0x10", &u), -EINVAL);
        ASSERT_EQ_INT(parse_uint64("", &u), -EINVAL);
        ASSERT_EQ_INT(parse_uint64(NULL, &u), -EINVAL);
        ASSERT_EQ_INT(parse_uint32("4294967296", &u32), -ERANGE);
        ASSERT_EQ_INT(parse_uint32("4294967295", &u32), 0);
        ASSERT_EQ_INT(parse_port("1738", &p), 0);
        ASSERT_EQ_INT(p, 1738);
        ASSERT_EQ_INT(parse_port("0", &p), -ERANGE);
        ASSERT_EQ_INT(parse_port("65536", &p), -ERANGE);
        ASSERT_EQ_INT(parse_bool("yes", &b), 0);
        ASSERT_TRUE(b);
        ASSERT_EQ_INT(parse_bool("OFF", &b), 0);
        ASSERT_TRUE(!b);
        ASSERT_EQ_INT(parse_bool("maybe", &b), -EINVAL);
}

static void test_spans(void)
{
        uint64_t v;

        ASSERT_EQ_INT(parse_timespan_sec("90d", &v), 0);
        ASSERT_EQ_INT(v, 90 * 86400);
        ASSERT_EQ_INT(parse_timespan_sec("1h 30min", &v), 0);
        ASSERT_EQ_INT(v, 5400);
        ASSERT_EQ_INT(parse_timespan_sec("45", &v), 0);
        ASSERT_EQ_INT(v, 45);
        ASSERT_EQ_INT(parse_timespan_sec("0", &v), 0);
        ASSERT_EQ_INT(v, 0);
        ASSERT_EQ_INT(parse_timespan_sec("2w", &v), 0);
        ASSERT_EQ_INT(v, 14 * 86400);
        ASSERT_EQ_INT(parse_timespan_sec("5 fortnights", &v), -EINVAL);
        ASSERT_EQ_INT(parse_timespan_sec("d", &v), -EINVAL);
        ASSERT_EQ_INT(parse_timespan_sec("", &v), -EINVAL);
        ASSERT_EQ_INT(parse_timespan_sec("-5s", &v), -EINVAL);
        ASSERT_EQ_INT(parse_timespan_sec("99999999999999999999d", &v), -ERANGE);
        ASSERT_EQ_INT(parse_timespan_msec("5", &v), 0);
        ASSERT_EQ_INT(v, 5);
        ASSERT_EQ_INT(parse_timespan_msec("2s", &v), 0);
        ASSERT_EQ_INT(v, 2000);
        ASSERT_EQ_INT(parse_timespan_msec("250ms", &v), 0);
        ASSERT_EQ_INT(v, 250);
}

static void test_utf8(void)
{
        ASSERT_TRUE(utf8_is_valid_n("plain", 5));
        ASSERT_TRUE(utf8_is_valid_n("gr\xc3\xbc\xc3\x9f", 6));               /* grüß */
        ASSERT_TRUE(utf8_is_valid_n("\xf0\x9f\x98\x80", 4));                 /* U+1F600 */
        ASSERT_TRUE(!utf8_is_valid_n("a\0b", 3));                            /* NUL */
        ASSERT_TRUE(!utf8_is_valid_n("\xc0\xaf", 2));                        /* overlong */
        ASSERT_TRUE(!utf8_is_valid_n("\xe0\x80\xaf", 3));                    /* overlong */
        ASSERT_TRUE(!utf8_is_valid_n("\xed\xa0\x80", 3));                    /* surrogate */
        ASSERT_TRUE(!utf8_is_valid_n("\xf4\x90\x80\x80", 4));                /* > U+10FFFF */
        ASSERT_TRUE(!utf8_is_valid_n("\xc3", 1));                            /* truncated */
        ASSERT_TRUE(!utf8_is_valid_n("\xff", 1));
        ASSERT_TRUE(!utf8_is_valid_n("\x80", 1));                            /* lone continuation */
        ASSERT_TRUE(utf8_is_printable_n("ls -l", 5));
        ASSERT_TRUE(!utf8_is_printable_n("a\nb", 3));
        ASSERT_TRUE(!utf8_is_printable_n("a\x1b[2J", 6));
        ASSERT_TRUE(!utf8_is_printable_n("a\x7f", 2));
        ASSERT_TRUE(!utf8_is_printable_n("a\xc2\x9b" "2J", 5));              /* C1 CSI */
        ASSERT_TRUE(!utf8_is_printable_n("\xc2\x80", 2));
        ASSERT_TRUE(utf8_is_printable_n("\xc2\xa0\xc2\xbf", 4));          /* NBSP, ¿ */
}

int main(void)
{
        test_numbers();
        test_spans();
        test_utf8();
        return test_result();
}
