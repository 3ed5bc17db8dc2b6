/* test-decode.c - nacctd's packet decoder: every link type, VLAN tags, IPv4 options and
 * fragments, IPv6 extension headers, ports and ICMP type/code, and every truncation point and
 * malformation. Frames live in exactly-sized heap buffers so ASan sees any over-read. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nacctd-decode.h"
#include "nacctd-net.h"
#include "test.h"

typedef struct Frame {
        uint8_t b[2048];
        size_t n;
} Frame;

static void put(Frame *f, const void *p, size_t n)
{
        memcpy(f->b + f->n, p, n);
        f->n += n;
}

static void put8(Frame *f, uint8_t v)
{
        put(f, &v, 1);
}

static void put16(Frame *f, uint16_t v)
{
        uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
        put(f, b, 2);
}

static void put32(Frame *f, uint32_t v)
{
        put16(f, (uint16_t)(v >> 16));
        put16(f, (uint16_t)v);
}

static void eth(Frame *f, const uint8_t src[6], uint16_t type)
{
        static const uint8_t dst[6] = {2, 0, 0, 0, 0, 9};
        put(f, dst, 6);
        put(f, src, 6);
        put16(f, type);
}

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 1};

/* IPv4 header at the end of f; total = header + payload_len unless total_override. */
static void ip4(Frame *f, const char *src, const char *dst, uint8_t proto, size_t payload_len,
                uint16_t frag, int total_override, size_t opt_words)
{
        uint8_t s[4], d[4];
        size_t ihl = 5 + opt_words;

        inet_pton(AF_INET, src, s);
        inet_pton(AF_INET, dst, d);
        put8(f, (uint8_t)(0x40 | ihl));
        put8(f, 0);
        put16(f,
              total_override >= 0 ? (uint16_t)total_override : (uint16_t)(ihl * 4 + payload_len));
        put16(f, 1);
        put16(f, frag);
        put8(f, 64);
        put8(f, proto);
        put16(f, 0);
        put(f, s, 4);
        put(f, d, 4);
        for (size_t i = 0; i < opt_words; i++)
                put32(f, 0x01010101); /* NOPs */
}

static void ip6(Frame *f, const char *src, const char *dst, uint8_t nh, uint16_t plen)
{
        uint8_t s[16], d[16];

        inet_pton(AF_INET6, src, s);
        inet_pton(AF_INET6, dst, d);
        put32(f, 6u << 28);
        put16(f, plen);
        put8(f, nh);
        put8(f, 64);
        put(f, s, 16);
        put(f, d, 16);
}

static void ports(Frame *f, uint16_t sp, uint16_t dp, size_t extra)
{
        put16(f, sp);
        put16(f, dp);
        for (size_t i = 0; i < extra; i++)
                put8(f, 0xee);
}

/* Decode f as given, from an exact-size copy; caplen may cut it. */
static NacctDecodeResult dec(int dlt, const Frame *f, size_t caplen, size_t wirelen,
                             NacctPacket *pk)
{
        uint8_t *copy = malloc(caplen ? caplen : 1);
        NacctDecodeResult r;

        memcpy(copy, f->b, caplen);
        r = nacct_decode(dlt, copy, (uint32_t)caplen, (uint32_t)wirelen, pk);
        /* eth_src points into the frame: make it point into f, which outlives the copy. */
        if (r == NACCT_DECODE_OK && pk->eth_src)
                pk->eth_src = f->b + (pk->eth_src - copy);
        free(copy);
        return r;
}

static NacctDecodeResult dec_all(int dlt, const Frame *f, NacctPacket *pk)
{
        return dec(dlt, f, f->n, f->n, pk);
}

static void addr_is(const NacctPacket *pk, const uint8_t b[16], const char *want)
{
        char buf[NACCT_ADDR_STRLEN];

        nacct_addr_format(pk->family, b, buf);
        ASSERT_STREQ(buf, want);
}

static void test_ethernet_tcp(void)
{
        Frame f = {};
        NacctPacket pk;

        eth(&f, mac_a, 0x0800);
        ip4(&f, "10.0.0.1", "10.0.0.2", 6, 20 + 100, 0, -1, 0);
        ports(&f, 1234, 80, 16 + 100);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.family, NACCT_FAMILY_V4);
        ASSERT_EQ_INT(pk.proto, 6);
        ASSERT_EQ_INT(pk.sport, 1234);
        ASSERT_EQ_INT(pk.dport, 80);
        ASSERT_EQ_INT(pk.bytes, 140);
        ASSERT_EQ_INT(pk.flags, 0);
        ASSERT_TRUE(pk.eth_src && memcmp(pk.eth_src, mac_a, 6) == 0);
        addr_is(&pk, pk.src, "10.0.0.1");
        addr_is(&pk, pk.dst, "10.0.0.2");
        /* The IPv4 address fills 4 bytes, the rest is zero (flow keys compare 16). */
        for (int i = 4; i < 16; i++)
                ASSERT_EQ_INT(pk.src[i] | pk.dst[i], 0);

        /* Ethernet padding beyond the IP length is not counted. */
        {
                Frame g = {};
                eth(&g, mac_a, 0x0800);
                ip4(&g, "10.0.0.1", "10.0.0.2", 17, 8, 0, -1, 0);
                ports(&g, 53, 5353, 4);
                for (int i = 0; i < 18; i++)
                        put8(&g, 0);
                ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &g, &pk), NACCT_DECODE_OK);
                ASSERT_EQ_INT(pk.bytes, 28);
                ASSERT_EQ_INT(pk.sport, 53);
        }
}

static void test_ip_options_and_icmp(void)
{
        Frame f = {};
        NacctPacket pk;

        eth(&f, mac_a, 0x0800);
        ip4(&f, "192.0.2.1", "192.0.2.2", 1, 8 + 56, 0, -1, 2); /* IHL 7 */
        put8(&f, 3);                                            /* destination unreachable */
        put8(&f, 13);                                           /* administratively prohibited */
        for (int i = 0; i < 62; i++)
                put8(&f, 0);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.proto, 1);
        ASSERT_EQ_INT(pk.sport, 3);
        ASSERT_EQ_INT(pk.dport, 13);
        ASSERT_EQ_INT(pk.bytes, 28 + 8 + 56);
}

static void test_vlan(void)
{
        NacctPacket pk;
        Frame f = {};

        /* 802.1ad outer + 802.1Q inner (QinQ). */
        put(&f, "\x02\0\0\0\0\x09", 6);
        put(&f, mac_a, 6);
        put16(&f, 0x88a8);
        put16(&f, 100);
        put16(&f, 0x8100);
        put16(&f, 200);
        put16(&f, 0x86dd);
        ip6(&f, "2001:db8::1", "2001:db8::2", 17, 8 + 4);
        ports(&f, 40000, 443, 8);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.family, NACCT_FAMILY_V6);
        ASSERT_EQ_INT(pk.proto, 17);
        ASSERT_EQ_INT(pk.sport, 40000);
        ASSERT_EQ_INT(pk.dport, 443);
        ASSERT_EQ_INT(pk.bytes, 40 + 12);
        addr_is(&pk, pk.src, "2001:db8::1");

        /* The tag ends the capture. */
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, 16, f.n, &pk), NACCT_DECODE_TRUNCATED);
        /* Too many tags. */
        {
                Frame g = {};
                put(&g, "\x02\0\0\0\0\x09", 6);
                put(&g, mac_a, 6);
                for (int i = 0; i < NACCT_VLAN_DEPTH_MAX + 1; i++) {
                        put16(&g, 0x8100);
                        put16(&g, 1);
                }
                put16(&g, 0x0800);
                ip4(&g, "10.0.0.1", "10.0.0.2", 17, 8, 0, -1, 0);
                ports(&g, 1, 2, 4);
                ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &g, &pk), NACCT_DECODE_MALFORMED);
        }
}

static void test_not_ip(void)
{
        Frame f = {};
        NacctPacket pk;

        eth(&f, mac_a, 0x0806); /* ARP */
        for (int i = 0; i < 28; i++)
                put8(&f, 0);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_NOT_IP);

        /* 802.3 with LLC (STP): not IP. */
        f.n = 0;
        eth(&f, mac_a, 38);
        put(&f, "\x42\x42\x03", 3);
        for (int i = 0; i < 35; i++)
                put8(&f, 0);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_NOT_IP);

        /* 802.3 with SNAP carrying IPv4: IP. */
        f.n = 0;
        eth(&f, mac_a, 8 + 28);
        put(&f, "\xaa\xaa\x03\0\0\0", 6);
        put16(&f, 0x0800);
        ip4(&f, "10.1.1.1", "10.1.1.2", 17, 8, 0, -1, 0);
        ports(&f, 7, 9, 4);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.dport, 9);

        /* An unknown link type. */
        ASSERT_EQ_INT(dec_all(147, &f, &pk), NACCT_DECODE_NOT_IP);
        ASSERT_TRUE(!nacct_dlt_supported(147));
        ASSERT_TRUE(nacct_dlt_supported(NACCT_DLT_LINUX_SLL2));
}

static void test_pppoe(void)
{
        Frame f = {};
        NacctPacket pk;

        eth(&f, mac_a, 0x8864);
        put8(&f, 0x11);
        put8(&f, 0);
        put16(&f, 0x0001);
        put16(&f, 2 + 28);
        put16(&f, 0x0021);
        ip4(&f, "100.64.0.1", "198.51.100.7", 17, 8, 0, -1, 0);
        ports(&f, 1000, 2000, 4);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.sport, 1000);
        addr_is(&pk, pk.dst, "198.51.100.7");
        f.b[14 + 6 + 1] = 0x23; /* PPP protocol 0x0023: not IP */
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_NOT_IP);
}

static void test_cooked(void)
{
        NacctPacket pk;
        Frame f = {};

        /* SLL v1, outgoing. */
        put16(&f, 4);
        put16(&f, 1);
        put16(&f, 6);
        put(&f, mac_a, 6);
        put16(&f, 0);
        put16(&f, 0x0800);
        ip4(&f, "10.0.0.1", "10.0.0.2", 6, 20, 0, -1, 0);
        ports(&f, 22, 50000, 16);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_LINUX_SLL, &f, &pk), NACCT_DECODE_OK);
        ASSERT_TRUE(pk.flags & NACCT_PKT_DIR_KNOWN);
        ASSERT_EQ_INT(pk.direction, NACCT_DIR_OUT);
        ASSERT_EQ_INT(pk.sport, 22);
        ASSERT_TRUE(pk.eth_src == NULL);
        ASSERT_EQ_INT(dec(NACCT_DLT_LINUX_SLL, &f, 15, f.n, &pk), NACCT_DECODE_TRUNCATED);

        /* SLL v2, incoming, VLAN inside. */
        f.n = 0;
        put16(&f, 0x8100);
        put16(&f, 0);
        put32(&f, 7);
        put16(&f, 1);
        put8(&f, 0);
        put8(&f, 6);
        put(&f, mac_a, 6);
        put16(&f, 0);
        put16(&f, 42);
        put16(&f, 0x86dd);
        ip6(&f, "fe80::1", "ff02::1", 58, 8);
        put8(&f, 135);
        put8(&f, 0);
        put16(&f, 0);
        put32(&f, 0);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_LINUX_SLL2, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.direction, NACCT_DIR_IN);
        ASSERT_EQ_INT(pk.proto, 58);
        ASSERT_EQ_INT(pk.sport, 135);
        ASSERT_EQ_INT(pk.dport, 0);
        ASSERT_EQ_INT(pk.bytes, 48);
        ASSERT_EQ_INT(dec(NACCT_DLT_LINUX_SLL2, &f, 19, f.n, &pk), NACCT_DECODE_TRUNCATED);
}

static void test_raw_and_null(void)
{
        NacctPacket pk;
        Frame f = {};

        ip4(&f, "10.9.9.9", "10.8.8.8", 17, 8, 0, -1, 0);
        ports(&f, 123, 123, 4);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_RAW, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_RAW_ALT, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_IPV4, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_IPV6, &f, &pk), NACCT_DECODE_MALFORMED);
        ASSERT_EQ_INT(pk.sport, 123);
        ASSERT_EQ_INT(dec(NACCT_DLT_RAW, &f, 0, f.n, &pk), NACCT_DECODE_TRUNCATED);

        /* BSD loopback, both byte orders of AF_INET, and AF_INET6 of FreeBSD (28). */
        {
                Frame g = {};
                put(&g, "\x02\0\0\0", 4);
                put(&g, f.b, f.n);
                ASSERT_EQ_INT(dec_all(NACCT_DLT_NULL, &g, &pk), NACCT_DECODE_OK);
                memcpy(g.b, "\0\0\0\x02", 4);
                ASSERT_EQ_INT(dec_all(NACCT_DLT_NULL, &g, &pk), NACCT_DECODE_OK);
                ASSERT_EQ_INT(dec_all(NACCT_DLT_LOOP, &g, &pk), NACCT_DECODE_OK);
                memcpy(g.b, "\x07\0\0\0", 4);
                ASSERT_EQ_INT(dec_all(NACCT_DLT_NULL, &g, &pk), NACCT_DECODE_NOT_IP);
                g.n = 0;
                put(&g, "\x1c\0\0\0", 4);
                ip6(&g, "::1", "::2", 6, 20);
                ports(&g, 1, 2, 16);
                ASSERT_EQ_INT(dec_all(NACCT_DLT_NULL, &g, &pk), NACCT_DECODE_OK);
                ASSERT_EQ_INT(pk.family, NACCT_FAMILY_V6);
        }
}

static void test_ipv4_fragments(void)
{
        NacctPacket pk;
        Frame f = {};

        /* First fragment (MF, offset 0): it has the ports. */
        eth(&f, mac_a, 0x0800);
        ip4(&f, "10.0.0.1", "10.0.0.2", 17, 1480, 0x2000, -1, 0);
        ports(&f, 5000, 6000, 1476);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.sport, 5000);
        ASSERT_EQ_INT(pk.dport, 6000);
        ASSERT_TRUE(!(pk.flags & NACCT_PKT_FRAGMENT));
        ASSERT_EQ_INT(pk.bytes, 1500);

        /* A later fragment: its first bytes are data, not ports. */
        f.n = 0;
        eth(&f, mac_a, 0x0800);
        ip4(&f, "10.0.0.1", "10.0.0.2", 17, 100, 185, -1, 0); /* offset 1480 */
        ports(&f, 0xdead, 0xbeef, 96);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.sport, 0);
        ASSERT_EQ_INT(pk.dport, 0);
        ASSERT_TRUE(pk.flags & NACCT_PKT_FRAGMENT);
        ASSERT_EQ_INT(pk.bytes, 120);
}

static void test_ipv4_malformed_and_truncated(void)
{
        NacctPacket pk;
        Frame f = {};

        eth(&f, mac_a, 0x0800);
        ip4(&f, "10.0.0.1", "10.0.0.2", 6, 20, 0, -1, 0);
        ports(&f, 1, 2, 16);

        /* Every cut inside the Ethernet and IP headers is "truncated". */
        for (size_t cut = 0; cut < 14 + 20; cut++)
                ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, cut, f.n, &pk), NACCT_DECODE_TRUNCATED);
        /* Cut inside the TCP ports: accounted, without ports. */
        for (size_t cut = 14 + 20; cut < 14 + 24; cut++) {
                ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, cut, f.n, &pk), NACCT_DECODE_OK);
                ASSERT_TRUE(pk.flags & NACCT_PKT_SHORT);
                ASSERT_EQ_INT(pk.sport, 0);
                ASSERT_EQ_INT(pk.bytes, 40);
        }
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, 14 + 24, f.n, &pk), NACCT_DECODE_OK);
        ASSERT_TRUE(!(pk.flags & NACCT_PKT_SHORT));

        /* Options cut off. */
        {
                Frame g = {};
                eth(&g, mac_a, 0x0800);
                ip4(&g, "10.0.0.1", "10.0.0.2", 6, 20, 0, -1, 3);
                ports(&g, 1, 2, 16);
                ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &g, 14 + 24, g.n, &pk), NACCT_DECODE_TRUNCATED);
        }
        /* Version 5 under ethertype IPv4. */
        f.b[14] = 0x55;
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_MALFORMED);
        /* IHL below 5. */
        f.b[14] = 0x44;
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_MALFORMED);
        f.b[14] = 0x45;
        /* Total length beyond the frame: never count bytes that were not sent. */
        f.b[16] = 0x05;
        f.b[17] = 0xdc;
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_MALFORMED);
        /* ... but within the wire length of a short capture it is fine. */
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, f.n, 14 + 1500, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.bytes, 1500);
        /* Total length below the header. */
        f.b[16] = 0;
        f.b[17] = 19;
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_MALFORMED);
        /* Total length without room for the ports. */
        f.b[17] = 22;
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_MALFORMED);
        /* Total length 0: a segmentation offload super-packet, the frame is the length. */
        f.b[17] = 0;
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, f.n, 14 + 64000, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.bytes, 64000);
        ASSERT_EQ_INT(pk.sport, 1);
        /* ... but only as large as the kernel makes them: a crafted wire length (the issue's
         * 4,294,967,281 bytes from one frame) is malformed, whatever the link type. */
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, f.n, 14 + NACCT_SUPER_PACKET_MAX, &pk),
                      NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.bytes, NACCT_SUPER_PACKET_MAX);
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, f.n, 14 + NACCT_SUPER_PACKET_MAX + 1, &pk),
                      NACCT_DECODE_MALFORMED);
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, f.n, UINT32_MAX, &pk), NACCT_DECODE_MALFORMED);
        ASSERT_EQ_INT(nacct_decode_ip(f.b + 14, (uint32_t)f.n - 14, UINT32_MAX, &pk),
                      NACCT_DECODE_MALFORMED);
        /* A record with more captured than was on the wire lies: malformed, for any length
         * field and link type. */
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, f.n, f.n - 1, &pk), NACCT_DECODE_MALFORMED);
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, f.n, 0, &pk), NACCT_DECODE_MALFORMED);
        ASSERT_EQ_INT(nacct_decode_ip(f.b + 14, (uint32_t)f.n - 14, 1, &pk),
                      NACCT_DECODE_MALFORMED);
        /* A length field within a huge wire length counts the length field, not the wire. */
        f.b[16] = 0x05;
        f.b[17] = 0xdc;
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, f.n, UINT32_MAX, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.bytes, 1500);
}

static void test_ipv6_extensions(void)
{
        NacctPacket pk;
        Frame f = {};

        /* hop-by-hop (8) -> routing (24) -> destination options (8) -> AH (16) -> TCP */
        eth(&f, mac_a, 0x86dd);
        ip6(&f, "2001:db8::a", "2001:db8::b", 0, 8 + 24 + 8 + 16 + 20);
        put8(&f, 43);
        put8(&f, 0);
        for (int i = 0; i < 6; i++)
                put8(&f, 1);
        put8(&f, 60);
        put8(&f, 2);
        for (int i = 0; i < 22; i++)
                put8(&f, 0);
        put8(&f, 51);
        put8(&f, 0);
        for (int i = 0; i < 6; i++)
                put8(&f, 1);
        put8(&f, 6);
        put8(&f, 2); /* AH: (2 + 2) * 4 = 16 bytes */
        for (int i = 0; i < 14; i++)
                put8(&f, 0);
        ports(&f, 443, 51000, 16);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.proto, 6);
        ASSERT_EQ_INT(pk.sport, 443);
        ASSERT_EQ_INT(pk.dport, 51000);
        ASSERT_EQ_INT(pk.bytes, 40 + 76);

        /* Cut in the middle of the chain: accounted with the last known header, no ports. */
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, 14 + 40 + 8 + 24 + 1, f.n, &pk), NACCT_DECODE_OK);
        ASSERT_TRUE(pk.flags & NACCT_PKT_SHORT);
        ASSERT_EQ_INT(pk.proto, 60); /* the destination options header could not be read */
        ASSERT_EQ_INT(pk.bytes, 116);
        /* Cut in the IPv6 header. */
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, 14 + 39, f.n, &pk), NACCT_DECODE_TRUNCATED);

        /* An extension header longer than the packet. */
        f.b[14 + 40 + 8 + 1] = 200;
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_MALFORMED);

        /* Payload length beyond the frame; payload length 0 (jumbo) uses the frame. */
        f.n = 0;
        eth(&f, mac_a, 0x86dd);
        ip6(&f, "::1", "::2", 17, 200);
        ports(&f, 1, 2, 4);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_MALFORMED);
        f.b[14 + 4] = 0;
        f.b[14 + 5] = 0;
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.bytes, 48);
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, f.n, UINT32_MAX, &pk), NACCT_DECODE_MALFORMED);
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, f.n, 14 + NACCT_SUPER_PACKET_MAX + 1, &pk),
                      NACCT_DECODE_MALFORMED);
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, f.n, 14 + NACCT_SUPER_PACKET_MAX, &pk),
                      NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.bytes, NACCT_SUPER_PACKET_MAX);
        /* Version 4 under ethertype IPv6. */
        f.b[14] = 0x45;
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_MALFORMED);
        /* No next header (59): accounted, no ports. */
        f.n = 0;
        eth(&f, mac_a, 0x86dd);
        ip6(&f, "::1", "::2", 59, 0);
        ASSERT_EQ_INT(dec(NACCT_DLT_EN10MB, &f, f.n, f.n, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.proto, 59);
        ASSERT_EQ_INT(pk.bytes, 54 - 14);
}

static void test_ipv6_fragments(void)
{
        NacctPacket pk;
        Frame f = {};

        /* First fragment: ports present. */
        eth(&f, mac_a, 0x86dd);
        ip6(&f, "2001:db8::1", "2001:db8::2", 44, 8 + 8 + 100);
        put8(&f, 17);
        put8(&f, 0);
        put16(&f, 0x0001); /* offset 0, M */
        put32(&f, 77);
        ports(&f, 4444, 5555, 104);
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.proto, 17);
        ASSERT_EQ_INT(pk.sport, 4444);
        ASSERT_TRUE(!(pk.flags & NACCT_PKT_FRAGMENT));

        /* Later fragment: protocol known, no ports. */
        f.b[14 + 40 + 2] = 0x05;
        f.b[14 + 40 + 3] = 0xa8; /* offset 1448 */
        ASSERT_EQ_INT(dec_all(NACCT_DLT_EN10MB, &f, &pk), NACCT_DECODE_OK);
        ASSERT_EQ_INT(pk.proto, 17);
        ASSERT_EQ_INT(pk.sport, 0);
        ASSERT_EQ_INT(pk.dport, 0);
        ASSERT_TRUE(pk.flags & NACCT_PKT_FRAGMENT);
        ASSERT_EQ_INT(pk.bytes, 156);
}

/* Random frames of every length for every link type: the decoder must never read out of
 * bounds (ASan) and must return a defined result. */
static void test_random(void)
{
        static const int dlts[] = {NACCT_DLT_NULL, NACCT_DLT_EN10MB,    NACCT_DLT_RAW,
                                   NACCT_DLT_LOOP, NACCT_DLT_LINUX_SLL, NACCT_DLT_IPV4,
                                   NACCT_DLT_IPV6, NACCT_DLT_LINUX_SLL2};
        unsigned seed = 12345, ok = 0, total = 0;

        for (int round = 0; round < 20000; round++) {
                size_t len = (size_t)(rand_r(&seed) % 160);
                uint8_t *b = malloc(len ? len : 1);
                NacctPacket pk;
                int dlt = dlts[round % 8];

                for (size_t i = 0; i < len; i++)
                        b[i] = (uint8_t)rand_r(&seed);
                /* Make IP likely so the deeper layers are reached too. */
                if (dlt == NACCT_DLT_EN10MB && len > 14) {
                        b[12] = round & 1 ? 0x86 : 0x08;
                        b[13] = round & 1 ? 0xdd : 0x00;
                        b[14] = round & 1 ? 0x60 : 0x45;
                }
                if ((dlt == NACCT_DLT_RAW || dlt == NACCT_DLT_IPV4) && len > 0)
                        b[0] = 0x45;
                NacctDecodeResult r = nacct_decode(dlt, b, (uint32_t)len,
                                                   (uint32_t)(len + rand_r(&seed) % 3000), &pk);
                if (r == NACCT_DECODE_OK)
                        ok++;
                total += r < _NACCT_DECODE_MAX;
                free(b);
        }
        ASSERT_EQ_INT(total, 20000);
        ASSERT_TRUE(ok > 0);
        ASSERT_STREQ(nacct_decode_result_to_string(NACCT_DECODE_MALFORMED), "malformed");
}

int main(void)
{
        test_ethernet_tcp();
        test_ip_options_and_icmp();
        test_vlan();
        test_not_ip();
        test_pppoe();
        test_cooked();
        test_raw_and_null();
        test_ipv4_fragments();
        test_ipv4_malformed_and_truncated();
        test_ipv6_extensions();
        test_ipv6_fragments();
        test_random();
        return test_result();
}
