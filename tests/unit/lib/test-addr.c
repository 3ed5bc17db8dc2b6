/* test-addr.c - host[:port] splitting, literal parsing and formatting. */
#include <arpa/inet.h>
#include <errno.h>

#include "addr.h"
#include "test.h"

static void check_split(const char *spec, int want_r, const char *want_host, unsigned want_port)
{
        char host[64] = "";
        uint16_t port = 0;
        int r = addr_split_host_port(spec, 1738, host, sizeof(host), &port);

        ASSERT_EQ_INT(r, want_r);
        if (r >= 0 && want_r >= 0) {
                ASSERT_STREQ(host, want_host);
                ASSERT_EQ_INT(port, want_port);
        }
}

static void test_split(void)
{
        check_split("track", 0, "track", 1738);
        check_split("track:9999", 0, "track", 9999);
        check_split("192.0.2.1", 0, "192.0.2.1", 1738);
        check_split("192.0.2.1:53", 0, "192.0.2.1", 53);
        check_split("[2001:db8::1]:80", 0, "2001:db8::1", 80);
        check_split("[::1]", 0, "::1", 1738);
        check_split("2001:db8::1", 0, "2001:db8::1", 1738);
        check_split("", -EINVAL, NULL, 0);
        check_split("track:", -EINVAL, NULL, 0);
        check_split("track:0", -ERANGE, NULL, 0);
        check_split("track:70000", -ERANGE, NULL, 0);
        check_split("track:x", -EINVAL, NULL, 0);
        check_split("[::1", -EINVAL, NULL, 0);
        check_split("[::1]x", -EINVAL, NULL, 0);
        check_split("[track]:1", -EINVAL, NULL, 0);
        check_split("[]:1", -EINVAL, NULL, 0);
        check_split(":1738", -EINVAL, NULL, 0);
        check_split("a-very-long-host-name-that-does-not-fit-in-the-sixty-four-byte-buffer.example",
                    -ENAMETOOLONG, NULL, 0);
}

static void test_parse_format(void)
{
        SockaddrUnion u;
        socklen_t len;
        char buf[ADDR_STRLEN];

        ASSERT_EQ_INT(addr_parse_ip("127.0.0.1", 1738, &u, &len), 0);
        ASSERT_EQ_INT(u.sa.sa_family, AF_INET);
        ASSERT_EQ_INT(ntohs(u.in.sin_port), 1738);
        ASSERT_EQ_INT(addr_format(&u.sa, len, true, buf, sizeof(buf)), 0);
        ASSERT_STREQ(buf, "127.0.0.1:1738");
        ASSERT_EQ_INT(addr_format(&u.sa, len, false, buf, sizeof(buf)), 0);
        ASSERT_STREQ(buf, "127.0.0.1");

        ASSERT_EQ_INT(addr_parse_ip("2001:db8::1", 53, &u, &len), 0);
        ASSERT_EQ_INT(u.sa.sa_family, AF_INET6);
        ASSERT_EQ_INT(addr_format(&u.sa, len, true, buf, sizeof(buf)), 0);
        ASSERT_STREQ(buf, "[2001:db8::1]:53");

        /* An IPv4 sender on a dual-stack socket shows up mapped; report it as IPv4. */
        ASSERT_EQ_INT(addr_parse_ip("::ffff:192.0.2.7", 9, &u, &len), 0);
        ASSERT_EQ_INT(addr_format(&u.sa, len, false, buf, sizeof(buf)), 0);
        ASSERT_STREQ(buf, "192.0.2.7");

        ASSERT_EQ_INT(addr_parse_ip("fe80::1%lo", 1, &u, &len), 0);
        ASSERT_TRUE(u.in6.sin6_scope_id > 0);
        ASSERT_EQ_INT(addr_parse_ip("2001:db8::1%lo", 1, &u, &len), -EINVAL);
        ASSERT_EQ_INT(addr_parse_ip("fe80::1%no-such-if0", 1, &u, &len), -ENODEV);
        ASSERT_EQ_INT(addr_parse_ip("track", 1, &u, &len), -EINVAL);
        ASSERT_EQ_INT(addr_parse_ip("1.2.3", 1, &u, &len), -EINVAL);
        ASSERT_EQ_INT(addr_parse_ip("256.1.1.1", 1, &u, &len), -EINVAL);
        ASSERT_EQ_INT(addr_parse_ip("", 1, &u, &len), -EINVAL);

        ASSERT_EQ_INT(addr_format(&u.sa, 2, false, buf, sizeof(buf)), -EAFNOSUPPORT);
        ASSERT_EQ_INT(addr_parse_ip("10.0.0.1", 1, &u, &len), 0);
        ASSERT_EQ_INT(addr_format(&u.sa, len, true, buf, 4), -ENOBUFS);
}

static bool in_prefix(const char *prefix, const char *addr)
{
        AddrPrefix p;
        SockaddrUnion u;
        socklen_t len;

        if (addr_prefix_parse(prefix, &p) < 0 || addr_parse_ip(addr, 1738, &u, &len) < 0)
                return false;
        return addr_prefix_contains(&p, &u.sa, len);
}

static void test_prefix(void)
{
        const char *bad[] = {"",
                             "/24",
                             "192.0.2.0/",
                             "192.0.2.0/33",
                             "192.0.2.1/24",
                             "2001:db8::1/64",
                             "::/129",
                             "192.0.2.0/-1",
                             "192.0.2.0/ 8",
                             "track/8",
                             "192.0.2.0/24/8",
                             "10.0.0.0/8x"};
        char buf[ADDR_STRLEN];
        AddrPrefix p;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ASSERT_EQ_INT(addr_prefix_parse(bad[i], &p), -EINVAL);
        ASSERT_EQ_INT(addr_prefix_parse("2001:db8::/32", &p), 0);
        ASSERT_EQ_INT(addr_prefix_format(&p, buf, sizeof(buf)), 0);
        ASSERT_STREQ(buf, "2001:db8::/32");
        ASSERT_EQ_INT(addr_prefix_parse("192.0.2.7", &p), 0);
        ASSERT_EQ_INT(p.bits, 32);

        ASSERT_TRUE(in_prefix("192.0.2.0/24", "192.0.2.255"));
        ASSERT_TRUE(!in_prefix("192.0.2.0/24", "192.0.3.0"));
        ASSERT_TRUE(in_prefix("192.0.2.0/24", "::ffff:192.0.2.9")); /* dual-stack socket */
        ASSERT_TRUE(!in_prefix("192.0.2.0/24", "::192.0.2.9"));
        ASSERT_TRUE(in_prefix("10.0.0.0/9", "10.127.0.1"));
        ASSERT_TRUE(!in_prefix("10.0.0.0/9", "10.128.0.1"));
        ASSERT_TRUE(in_prefix("0.0.0.0/0", "203.0.113.1"));
        ASSERT_TRUE(!in_prefix("0.0.0.0/0", "2001:db8::1"));
        ASSERT_TRUE(in_prefix("::/0", "2001:db8::1"));
        ASSERT_TRUE(in_prefix("2001:db8::/33", "2001:db8:7fff::1"));
        ASSERT_TRUE(!in_prefix("2001:db8::/33", "2001:db8:8000::1"));
        ASSERT_TRUE(in_prefix("::1", "::1"));
        ASSERT_TRUE(!in_prefix("::1", "127.0.0.1"));
        ASSERT_TRUE(!in_prefix("2001:db8::/32", "192.0.2.1"));
}

/* The one numeric address parser of trackalert and nacctd: strict dotted quads (decimal, never
 * octal or hex, no inet_addr() shortcuts), IPv6 literals, nothing else. */
static void test_numeric(void)
{
        const char *bad[] = {"",
                             "1.2.3",
                             "1.2.3.4.5",
                             "256.0.0.1",
                             "1.2.3.4 ",
                             " 1.2.3.4",
                             "0x1.2.3.4",
                             "1.2.3.-4",
                             "1..2.3",
                             "1.2.3.",
                             "1.2.3.4/8",
                             "1234.1.1.1",
                             "127.1",
                             "4294967295",
                             "::g",
                             "1.2.3.4:5",
                             "[::1]",
                             "fe80::1%eth0",
                             "::1 ",
                             "1:2:3:4:5:6:7:8:9",
                             "host.example"};
        uint8_t b[16], m[16];
        unsigned bits;
        bool host_bits;
        AddrPrefix p;
        int family;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ASSERT_EQ_INT(addr_parse_numeric(bad[i], &family, b), -EINVAL);
        ASSERT_EQ_INT(addr_parse_numeric("010.0.0.255", &family, b), 0);
        ASSERT_EQ_INT(family, AF_INET);
        ASSERT_TRUE(b[0] == 10 && b[1] == 0 && b[3] == 255 && b[4] == 0);
        ASSERT_EQ_INT(addr_parse_numeric("::ffff:192.0.2.1", &family, b), 0);
        ASSERT_EQ_INT(family, AF_INET6);
        ASSERT_TRUE(b[10] == 0xff && b[12] == 192 && b[15] == 1);

        addr_prefix_mask(20, m);
        ASSERT_TRUE(m[0] == 0xff && m[1] == 0xff && m[2] == 0xf0 && m[3] == 0 && m[15] == 0);
        ASSERT_EQ_INT(addr_parse_prefix_length("128", 128, &bits), 0);
        ASSERT_EQ_INT(addr_parse_prefix_length("129", 128, &bits), -EINVAL);
        ASSERT_EQ_INT(addr_parse_prefix_length("+8", 128, &bits), -EINVAL);
        ASSERT_EQ_INT(addr_parse_prefix_length("", 128, &bits), -EINVAL);

        /* host bits: cleared and reported, or refused by addr_prefix_parse() */
        ASSERT_EQ_INT(addr_prefix_parse_host_bits("192.0.2.77/24", &p, &host_bits), 0);
        ASSERT_TRUE(host_bits && p.bits == 24 && p.addr[3] == 0);
        ASSERT_EQ_INT(addr_prefix_parse_host_bits("2001:db8::1/32", &p, &host_bits), 0);
        ASSERT_TRUE(host_bits && p.addr[15] == 0);
        ASSERT_EQ_INT(addr_prefix_parse_host_bits("192.0.2.0/24", &p, &host_bits), 0);
        ASSERT_TRUE(!host_bits);
        ASSERT_EQ_INT(addr_prefix_parse("192.0.2.77/24", &p), -EINVAL);
}

int main(void)
{
        test_split();
        test_parse_format();
        test_prefix();
        test_numeric();
        return test_result();
}
