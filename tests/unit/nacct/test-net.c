/* test-net.c - addresses, masks and networks as naccttab writes them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nacctd-net.h"
#include "test.h"

static void test_addr(void)
{
        char buf[NACCT_ADDR_STRLEN];
        NacctAddr a;

        ASSERT_EQ_INT(nacct_addr_parse("10.200.1.2", &a), 0);
        ASSERT_EQ_INT(a.family, NACCT_FAMILY_V4);
        ASSERT_EQ_INT(nacct_addr_format(a.family, a.b, buf), 10);
        ASSERT_STREQ(buf, "10.200.1.2");
        ASSERT_EQ_INT(nacct_addr_parse("0.0.0.0", &a), 0);
        nacct_addr_format(a.family, a.b, buf);
        ASSERT_STREQ(buf, "0.0.0.0");
        ASSERT_EQ_INT(nacct_addr_parse("255.255.255.255", &a), 0);
        nacct_addr_format(a.family, a.b, buf);
        ASSERT_STREQ(buf, "255.255.255.255");
        ASSERT_EQ_INT(nacct_addr_parse("2001:DB8::1", &a), 0);
        ASSERT_EQ_INT(a.family, NACCT_FAMILY_V6);
        nacct_addr_format(a.family, a.b, buf);
        ASSERT_STREQ(buf, "2001:db8::1");

        /* What inet_addr() accepted or turned into 255.255.255.255. */
        static const char *const bad[] = {"",         "1.2.3",    "1.2.3.4.5",  "256.1.1.1",
                                          "1.2.3.4 ", " 1.2.3.4", "0x1.2.3.4",  "1.2.3.04x",
                                          "1..2.3",   "bogus",    "1.2.3.1000", "::g"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ASSERT_EQ_INT(nacct_addr_parse(bad[i], &a), -EINVAL);
}

static void test_net(void)
{
        const char *msg = NULL;
        NacctAddr a;
        NacctNet n;
        bool hb = false;

        ASSERT_EQ_INT(nacct_net_parse("10.200.1.0 255.255.255.0", &n, &hb, &msg), 0);
        ASSERT_TRUE(!hb);
        nacct_addr_parse("10.200.1.77", &a);
        ASSERT_TRUE(nacct_net_contains(&n, a.family, a.b));
        nacct_addr_parse("10.200.2.1", &a);
        ASSERT_TRUE(!nacct_net_contains(&n, a.family, a.b));
        nacct_addr_parse("::1", &a);
        ASSERT_TRUE(!nacct_net_contains(&n, a.family, a.b));

        ASSERT_EQ_INT(nacct_net_parse("10.200.1.0\t \t255.255.255.0", &n, &hb, &msg), 0);
        ASSERT_EQ_INT(nacct_net_parse("10.200.1.5/24", &n, &hb, &msg), 0);
        ASSERT_TRUE(hb);
        nacct_addr_parse("10.200.1.200", &a);
        ASSERT_TRUE(nacct_net_contains(&n, a.family, a.b));
        ASSERT_EQ_INT(nacct_net_parse("10.200.1.5", &n, &hb, &msg), 0); /* a host */
        ASSERT_TRUE(!nacct_net_contains(&n, a.family, a.b));
        nacct_addr_parse("10.200.1.5", &a);
        ASSERT_TRUE(nacct_net_contains(&n, a.family, a.b));
        ASSERT_EQ_INT(nacct_net_parse("0.0.0.0/0", &n, &hb, &msg), 0);
        ASSERT_TRUE(nacct_net_contains(&n, a.family, a.b));

        ASSERT_EQ_INT(nacct_net_parse("2001:db8::/32", &n, &hb, &msg), 0);
        nacct_addr_parse("2001:db8:ffff::1", &a);
        ASSERT_TRUE(nacct_net_contains(&n, a.family, a.b));
        nacct_addr_parse("2001:db9::1", &a);
        ASSERT_TRUE(!nacct_net_contains(&n, a.family, a.b));
        ASSERT_EQ_INT(nacct_net_parse("2001:db8::1/127", &n, &hb, &msg), 0);
        ASSERT_TRUE(hb);

        /* A non-contiguous mask works bit by bit, as the original's did. */
        ASSERT_EQ_INT(nacct_net_parse("10.0.0.1 255.0.0.255", &n, &hb, &msg), 0);
        nacct_addr_parse("10.77.77.1", &a);
        ASSERT_TRUE(nacct_net_contains(&n, a.family, a.b));

        static const char *const bad[] = {"10.0.0.0 255.255.255.256",
                                          "10.0.0.0/33",
                                          "10.0.0.0/",
                                          "bogus/8",
                                          "2001:db8::/129",
                                          "2001:db8:: ffff::",
                                          "10.0.0.0 255.0.0.0 junk",
                                          "10.0.0.0/8x"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                msg = NULL;
                ASSERT_EQ_INT(nacct_net_parse(bad[i], &n, &hb, &msg), -EINVAL);
                ASSERT_TRUE(msg != NULL);
        }
}

static void test_mask(void)
{
        uint8_t m[4];

        ASSERT_EQ_INT(nacct_mask4_parse("255.255.255.0", m), 0);
        ASSERT_EQ_INT(m[3], 0);
        ASSERT_EQ_INT(nacct_mask4_parse("/20", m), 0);
        ASSERT_EQ_INT(m[2], 0xf0);
        ASSERT_EQ_INT(nacct_mask4_parse("/33", m), -EINVAL);
        ASSERT_EQ_INT(nacct_mask4_parse("255.255.255", m), -EINVAL);
}

int main(void)
{
        test_addr();
        test_net();
        test_mask();
        return test_result();
}
