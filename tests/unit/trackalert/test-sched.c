/* test-sched.c - the restricted 5-field cron and the boost-style interval durations. */
#include <stdlib.h>
#include <time.h>

#include "test.h"
#include "trackalert-sched.h"

static int64_t local(int y, int mon, int d, int h, int m)
{
        struct tm tm = {.tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h,
                        .tm_min = m, .tm_isdst = -1};
        return (int64_t)mktime(&tm);
}

static void test_cron_parse(void)
{
        TaCron c;

        ASSERT_EQ_INT(ta_cron_parse("* * * * *", &c), 0);
        ASSERT_TRUE(c.min == -1 && c.hour == -1 && c.dom == -1 && c.mon == -1 && c.dow == -1);
        ASSERT_EQ_INT(ta_cron_parse("5 4 3 2 1", &c), 0);
        ASSERT_TRUE(c.min == 5 && c.hour == 4 && c.dom == 3 && c.mon == 2 && c.dow == 1);
        ASSERT_EQ_INT(ta_cron_parse("  59\t23 31 12 6 ", &c), 0);
        ASSERT_TRUE(ta_cron_parse("60 * * * *", &c) < 0);
        ASSERT_TRUE(ta_cron_parse("* 24 * * *", &c) < 0);
        ASSERT_TRUE(ta_cron_parse("* * 0 * *", &c) < 0);
        ASSERT_TRUE(ta_cron_parse("* * * 13 *", &c) < 0);
        ASSERT_TRUE(ta_cron_parse("* * * * 7", &c) < 0);
        ASSERT_TRUE(ta_cron_parse("*/5 * * * *", &c) < 0);  /* no steps */
        ASSERT_TRUE(ta_cron_parse("1-5 * * * *", &c) < 0);  /* no ranges */
        ASSERT_TRUE(ta_cron_parse("1,2 * * * *", &c) < 0);  /* no lists */
        ASSERT_TRUE(ta_cron_parse("* * * *", &c) < 0);
        ASSERT_TRUE(ta_cron_parse("* * * * * *", &c) < 0);
        ASSERT_TRUE(ta_cron_parse("", &c) < 0);
        ASSERT_TRUE(ta_cron_parse("a * * * *", &c) < 0);
}

static void test_cron_next(void)
{
        TaCron c;
        int64_t base = local(2024, 3, 10, 12, 30) + 17; /* 12:30:17 */

        setenv("TZ", "UTC", 1);
        tzset();
        base = local(2024, 3, 10, 12, 30) + 17;
        ASSERT_EQ_INT(ta_cron_parse("* * * * *", &c), 0);
        ASSERT_EQ_INT(ta_cron_next(&c, base), local(2024, 3, 10, 12, 31));
        ASSERT_EQ_INT(ta_cron_next(&c, local(2024, 3, 10, 12, 31)), local(2024, 3, 10, 12, 32));
        ASSERT_EQ_INT(ta_cron_parse("15 * * * *", &c), 0);
        ASSERT_EQ_INT(ta_cron_next(&c, base), local(2024, 3, 10, 13, 15));
        ASSERT_EQ_INT(ta_cron_parse("0 3 * * *", &c), 0);
        ASSERT_EQ_INT(ta_cron_next(&c, base), local(2024, 3, 11, 3, 0));
        ASSERT_EQ_INT(ta_cron_parse("0 0 1 * *", &c), 0);
        ASSERT_EQ_INT(ta_cron_next(&c, base), local(2024, 4, 1, 0, 0));
        ASSERT_EQ_INT(ta_cron_parse("0 0 29 2 *", &c), 0); /* leap day */
        ASSERT_EQ_INT(ta_cron_next(&c, base), local(2028, 2, 29, 0, 0));
        ASSERT_EQ_INT(ta_cron_parse("30 8 * * 1", &c), 0); /* 2024-03-10 is a Sunday */
        ASSERT_EQ_INT(ta_cron_next(&c, base), local(2024, 3, 11, 8, 30));
        ASSERT_EQ_INT(ta_cron_parse("0 0 31 12 *", &c), 0);
        ASSERT_EQ_INT(ta_cron_next(&c, base), local(2024, 12, 31, 0, 0));
        ASSERT_EQ_INT(ta_cron_parse("0 0 31 2 *", &c), 0); /* never */
        ASSERT_EQ_INT(ta_cron_next(&c, base), -1);
}

static void test_interval(void)
{
        uint64_t u;

        ASSERT_EQ_INT(ta_interval_parse("10", &u), 0);
        ASSERT_EQ_INT(u, 10ULL * 3600 * 1000000);
        ASSERT_EQ_INT(ta_interval_parse("00:00:01", &u), 0);
        ASSERT_EQ_INT(u, 1000000);
        ASSERT_EQ_INT(ta_interval_parse("1:30", &u), 0);
        ASSERT_EQ_INT(u, 90ULL * 60 * 1000000);
        ASSERT_EQ_INT(ta_interval_parse("0:0:0.25", &u), 0);
        ASSERT_EQ_INT(u, 250000);
        ASSERT_EQ_INT(ta_interval_parse("100:00:05", &u), 0);
        ASSERT_EQ_INT(u, (100ULL * 3600 + 5) * 1000000);
        ASSERT_TRUE(ta_interval_parse("", &u) < 0);
        ASSERT_TRUE(ta_interval_parse("1h", &u) < 0);
        ASSERT_TRUE(ta_interval_parse("::", &u) < 0);
        ASSERT_TRUE(ta_interval_parse("1:", &u) < 0);
        ASSERT_TRUE(ta_interval_parse("-1", &u) < 0);
        ASSERT_TRUE(ta_interval_parse("0:0:1.", &u) < 0);
}

int main(void)
{
        test_cron_parse();
        test_cron_next();
        test_interval();
        return test_result();
}
