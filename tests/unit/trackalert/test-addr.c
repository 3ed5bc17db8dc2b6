/* test-addr.c - ComboAddress, Netmask, NetmaskGroup and the ACL with Basic auth. */
#include <string.h>

#include <sodium.h>

#include "test.h"
#include "trackalert-addr.h"
#include "trackalert-runtime.h"

static bool group_match(TaNetmaskGroup *g, const char *addr)
{
        TaAddr a;

        if (ta_addr_parse(addr, &a) < 0)
                return false;
        return ta_netmask_group_match(g, &a);
}

static void test_parse(void)
{
        char buf[TA_ADDR_STRLEN];
        TaAddr a;

        ASSERT_EQ_INT(ta_addr_parse("1.2.3.4", &a), 0);
        ASSERT_TRUE(a.family == AF_INET && a.port == 0);
        ASSERT_EQ_INT(ta_addr_parse("1.2.3.4:80", &a), 0);
        ASSERT_STREQ(ta_addr_to_string_port(&a, buf), "1.2.3.4:80");
        ASSERT_EQ_INT(ta_addr_parse("[::1]:4004", &a), 0);
        ASSERT_STREQ(ta_addr_to_string_port(&a, buf), "[::1]:4004");
        ASSERT_EQ_INT(ta_addr_parse("::ffff:1.2.3.4", &a), 0);
        ASSERT_TRUE(ta_addr_is_mapped_v4(&a));
        ta_addr_unmap(&a);
        ASSERT_STREQ(ta_addr_to_string(&a, buf), "1.2.3.4");
        ASSERT_TRUE(ta_addr_parse("example.com", &a) < 0);
        ASSERT_TRUE(ta_addr_parse("1.2.3.4:x", &a) < 0);
        ASSERT_TRUE(ta_addr_parse("", &a) < 0);
}

static void test_netmask(void)
{
        char buf[TA_ADDR_STRLEN + 4];
        uint8_t lo[16], hi[16];
        TaNetmask m;
        TaAddr a;

        ASSERT_EQ_INT(ta_netmask_parse("10.1.2.3/8", &m), 0);
        ASSERT_STREQ(ta_netmask_to_string(&m, buf), "10.0.0.0/8");
        ASSERT_EQ_INT(ta_addr_parse("10.200.0.1", &a), 0);
        ASSERT_TRUE(ta_netmask_match(&m, &a));
        ASSERT_EQ_INT(ta_addr_parse("11.0.0.1", &a), 0);
        ASSERT_TRUE(!ta_netmask_match(&m, &a));
        ASSERT_EQ_INT(ta_netmask_parse("2001:db8::/32", &m), 0);
        ASSERT_EQ_INT(ta_addr_parse("2001:db8:1::5", &a), 0);
        ASSERT_TRUE(ta_netmask_match(&m, &a));
        ASSERT_EQ_INT(ta_netmask_parse("172.16.5.4/12", &m), 0);
        ASSERT_STREQ(ta_netmask_to_string(&m, buf), "172.16.0.0/12");
        ASSERT_EQ_INT(ta_netmask_parse("192.0.2.7", &m), 0);
        ASSERT_EQ_INT(m.bits, 32);
        ASSERT_TRUE(ta_netmask_parse("10.0.0.0/33", &m) < 0);
        ASSERT_TRUE(ta_netmask_parse("::/129", &m) < 0);
        ASSERT_TRUE(ta_netmask_parse("10.0.0.0/x", &m) < 0);
        ASSERT_TRUE(ta_netmask_parse("/8", &m) < 0);
        /* through lib/addr's parser: strict quads, brackets around IPv6 as the original */
        ASSERT_TRUE(ta_netmask_parse("10.0.0/8", &m) < 0);
        ASSERT_TRUE(ta_netmask_parse("10.0.0.0.0/8", &m) < 0);
        ASSERT_TRUE(ta_netmask_parse("10.0.0.0/8/8", &m) < 0);
        ASSERT_TRUE(ta_netmask_parse("10.0.0.0:80/8", &m) < 0);
        ASSERT_TRUE(ta_netmask_parse("10.0.0.0/+8", &m) < 0);
        ASSERT_TRUE(ta_netmask_parse("[::1/128", &m) < 0);
        ASSERT_EQ_INT(ta_netmask_parse("[2001:db8::1]/32", &m), 0);
        ASSERT_STREQ(ta_netmask_to_string(&m, buf), "2001:db8::/32");
        /* /0 matches everything of its family only */
        ASSERT_EQ_INT(ta_netmask_parse("0.0.0.0/0", &m), 0);
        ASSERT_EQ_INT(ta_addr_parse("::1", &a), 0);
        ASSERT_TRUE(!ta_netmask_match(&m, &a));
        /* history ranges */
        ASSERT_EQ_INT(ta_netmask_parse("192.168.1.0/24", &m), 0);
        ta_netmask_range(&m, lo, hi);
        ASSERT_TRUE(lo[10] == 0xff && lo[11] == 0xff && lo[12] == 192 && lo[15] == 0);
        ASSERT_TRUE(hi[12] == 192 && hi[14] == 1 && hi[15] == 255);
}

static void test_group(void)
{
        TaNetmaskGroup g;

        ta_netmask_group_init(&g);
        ASSERT_EQ_INT(ta_netmask_group_add_private(&g), 0);
        ASSERT_EQ_INT(g.n, 9);
        ASSERT_TRUE(group_match(&g, "127.0.0.1"));
        ASSERT_TRUE(group_match(&g, "::ffff:127.0.0.1")); /* dual-stack peers */
        ASSERT_TRUE(group_match(&g, "10.9.8.7"));
        ASSERT_TRUE(group_match(&g, "100.64.0.1"));
        ASSERT_TRUE(!group_match(&g, "100.128.0.1"));
        ASSERT_TRUE(group_match(&g, "172.31.255.255"));
        ASSERT_TRUE(!group_match(&g, "172.32.0.0"));
        ASSERT_TRUE(group_match(&g, "fd00::1"));
        ASSERT_TRUE(group_match(&g, "fe80::1"));
        ASSERT_TRUE(!group_match(&g, "2001:db8::1"));
        ASSERT_TRUE(!group_match(&g, "8.8.8.8"));
        ta_netmask_group_clear(&g);
        ASSERT_TRUE(!group_match(&g, "127.0.0.1"));
        ASSERT_EQ_INT(ta_netmask_group_add_string(&g, "8.8.8.0/24"), 0);
        ASSERT_TRUE(group_match(&g, "8.8.8.8"));
        ASSERT_TRUE(ta_netmask_group_add_string(&g, "nope") < 0);
        ta_netmask_group_done(&g);
}

static const char *basic(const char *userpass, char *buf, size_t size)
{
        strcpy(buf, "Basic ");
        sodium_bin2base64(buf + 6, size - 6, (const unsigned char *)userpass, strlen(userpass),
                          sodium_base64_VARIANT_ORIGINAL);
        return buf;
}

static void test_auth(void)
{
        TaRuntime *rt = NULL;
        char b[256];

        ASSERT_EQ_INT(ta_runtime_new(false, &rt), 0);
        if (!rt)
                return;
        /* no password: locked */
        ASSERT_TRUE(!ta_runtime_password_ok(rt, basic("u:", b, sizeof(b))));
        rt->password = strdup("super");
        ASSERT_TRUE(ta_runtime_password_ok(rt, basic("anyone:super", b, sizeof(b))));
        ASSERT_TRUE(ta_runtime_password_ok(rt, "bAsIc eDpzdXBlcg==")); /* prefix in any case */
        ASSERT_TRUE(ta_runtime_password_ok(rt, "basic eDpzdXBlcg==")); /* x:super */
        ASSERT_TRUE(!ta_runtime_password_ok(rt, basic(":super", b, sizeof(b))));
        ASSERT_TRUE(!ta_runtime_password_ok(rt, basic("u:wrong", b, sizeof(b))));
        ASSERT_TRUE(!ta_runtime_password_ok(rt, basic("u:superx", b, sizeof(b))));
        ASSERT_TRUE(!ta_runtime_password_ok(rt, basic("usuper", b, sizeof(b))));
        ASSERT_TRUE(ta_runtime_password_ok(rt, basic("u::super", b, sizeof(b)))); /* legacy */
        ASSERT_TRUE(!ta_runtime_password_ok(rt, "Bearer abc"));
        ASSERT_TRUE(!ta_runtime_password_ok(rt, NULL));
        /* a password with ':' works (the original could never match it) */
        free(rt->password);
        rt->password = strdup("a:b");
        ASSERT_TRUE(ta_runtime_password_ok(rt, basic("u:a:b", b, sizeof(b))));
        ta_runtime_free(rt);
}

int main(void)
{
        if (sodium_init() < 0)
                return 1;
        test_parse();
        test_netmask();
        test_group();
        test_auth();
        return test_result();
}
