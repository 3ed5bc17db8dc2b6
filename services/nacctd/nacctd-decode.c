/* nacctd-decode.c - link layers (Ethernet with 802.1Q/802.1ad tags, LLC/SNAP and PPPoE, Linux
 * cooked v1/v2, raw IP, BSD loopback), IPv4 with fragments, IPv6 with extension headers, ports.
 * Every read is checked against the captured length first; the IP lengths are checked against
 * the length on the wire, so a header cannot make us count bytes that were never sent. */
#include <stddef.h>
#include <string.h>

#include "macro.h"

#include "nacctd-decode.h"
#include "nacctd-net.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_PPPOE_SESSION 0x8864
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057
#define PACKET_OUTGOING_TYPE 4

static inline uint16_t be16(const uint8_t *p)
{
        return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline bool proto_has_ports(uint8_t proto)
{
        /* TCP, UDP, DCCP, SCTP, UDP-Lite: source and destination port are the first 4 bytes. */
        return proto == 6 || proto == 17 || proto == 33 || proto == 132 || proto == 136;
}

/* The transport header at off of an IP packet that ends at ip_end, captured up to cap. */
static NacctDecodeResult decode_transport(const uint8_t *p, size_t off, size_t cap, size_t ip_end,
                                          NacctPacket *pk)
{
        size_t need;

        if (pk->flags & NACCT_PKT_FRAGMENT)
                return NACCT_DECODE_OK;
        if (proto_has_ports(pk->proto))
                need = 4;
        else if (pk->proto == 1 || pk->proto == 58) /* ICMP, ICMPv6: type and code */
                need = 2;
        else
                return NACCT_DECODE_OK;
        if (off + need > ip_end)
                return NACCT_DECODE_MALFORMED;
        if (off + need > cap) {
                pk->flags |= NACCT_PKT_SHORT;
                return NACCT_DECODE_OK;
        }
        if (need == 4) {
                pk->sport = be16(p + off);
                pk->dport = be16(p + off + 2);
        } else {
                pk->sport = p[off];
                pk->dport = p[off + 1];
        }
        return NACCT_DECODE_OK;
}

static NacctDecodeResult decode_ipv4(const uint8_t *p, size_t cap, size_t wire, NacctPacket *pk)
{
        size_t ihl, total;

        if (cap < 20)
                return NACCT_DECODE_TRUNCATED;
        if (p[0] >> 4 != 4)
                return NACCT_DECODE_MALFORMED;
        ihl = (size_t)(p[0] & 0x0f) * 4;
        if (ihl < 20)
                return NACCT_DECODE_MALFORMED;
        if (cap < ihl)
                return NACCT_DECODE_TRUNCATED;
        total = be16(p + 2);
        /* A segmentation offload super-packet (BIG TCP) carries 0 here: then the frame is the
         * length, which the kernel bounds; a larger claim is a crafted file. */
        if (total == 0) {
                if (wire > NACCT_SUPER_PACKET_MAX)
                        return NACCT_DECODE_MALFORMED;
                total = wire;
        }
        if (total < ihl || total > wire)
                return NACCT_DECODE_MALFORMED;
        pk->family = NACCT_FAMILY_V4;
        pk->proto = p[9];
        pk->bytes = (uint32_t)total;
        if (be16(p + 6) & 0x1fff)
                pk->flags |= NACCT_PKT_FRAGMENT;
        memcpy(pk->src, p + 12, 4);
        memset(pk->src + 4, 0, 12);
        memcpy(pk->dst, p + 16, 4);
        memset(pk->dst + 4, 0, 12);
        return decode_transport(p, ihl, cap, total, pk);
}

static NacctDecodeResult decode_ipv6(const uint8_t *p, size_t cap, size_t wire, NacctPacket *pk)
{
        size_t total, off = 40;
        uint8_t nh;

        if (cap < 40)
                return NACCT_DECODE_TRUNCATED;
        if (p[0] >> 4 != 6)
                return NACCT_DECODE_MALFORMED;
        total = 40 + (size_t)be16(p + 4);
        /* Payload length 0: a jumbogram or a BIG TCP super-packet; the frame is the length,
         * as far as the kernel makes such packets. */
        if (total == 40) {
                if (wire > NACCT_SUPER_PACKET_MAX)
                        return NACCT_DECODE_MALFORMED;
                total = wire;
        }
        if (total > wire)
                return NACCT_DECODE_MALFORMED;
        pk->family = NACCT_FAMILY_V6;
        pk->bytes = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
        memcpy(pk->src, p + 8, 16);
        memcpy(pk->dst, p + 24, 16);
        nh = p[6];

        for (unsigned i = 0;; i++) {
                size_t len;

                switch (nh) {
                case 0:   /* hop-by-hop options */
                case 43:  /* routing */
                case 60:  /* destination options */
                case 139: /* HIP */
                case 140: /* shim6 */
                case 51:  /* AH */
                        break;
                case 44: /* fragment */
                        if (off + 8 > total)
                                return NACCT_DECODE_MALFORMED;
                        if (off + 8 > cap) {
                                pk->proto = nh;
                                pk->flags |= NACCT_PKT_SHORT;
                                return NACCT_DECODE_OK;
                        }
                        if (be16(p + off + 2) & 0xfff8)
                                pk->flags |= NACCT_PKT_FRAGMENT;
                        nh = p[off];
                        off += 8;
                        if (pk->flags & NACCT_PKT_FRAGMENT) {
                                pk->proto = nh;
                                return NACCT_DECODE_OK;
                        }
                        continue;
                default:
                        pk->proto = nh;
                        return decode_transport(p, off, cap, total, pk);
                }
                if (i >= NACCT_IPV6_EXT_MAX) {
                        /* Count the bytes; the chain is too long to look for ports. */
                        pk->proto = nh;
                        pk->flags |= NACCT_PKT_SHORT;
                        return NACCT_DECODE_OK;
                }
                if (off + 2 > total)
                        return NACCT_DECODE_MALFORMED;
                if (off + 2 > cap) {
                        pk->proto = nh;
                        pk->flags |= NACCT_PKT_SHORT;
                        return NACCT_DECODE_OK;
                }
                len = nh == 51 ? ((size_t)p[off + 1] + 2) * 4 : ((size_t)p[off + 1] + 1) * 8;
                nh = p[off];
                off += len;
                if (off > total)
                        return NACCT_DECODE_MALFORMED;
        }
}

NacctDecodeResult nacct_decode_ip(const uint8_t *p, uint32_t caplen, uint32_t wirelen,
                                  NacctPacket *ret)
{
        NacctPacket pk = {};
        size_t cap = caplen, wire = wirelen;
        NacctDecodeResult r;

        /* More captured than was on the wire: the record lies. */
        if (cap > wire)
                return NACCT_DECODE_MALFORMED;
        if (cap < 1)
                return NACCT_DECODE_TRUNCATED;
        switch (p[0] >> 4) {
        case 4:
                r = decode_ipv4(p, cap, wire, &pk);
                break;
        case 6:
                r = decode_ipv6(p, cap, wire, &pk);
                break;
        default:
                return NACCT_DECODE_MALFORMED;
        }
        if (r == NACCT_DECODE_OK)
                *ret = pk;
        return r;
}

static NacctDecodeResult decode_at(uint16_t type, const uint8_t *p, size_t off, size_t cap,
                                   size_t wire, NacctPacket *pk)
{
        switch (type) {
        case ETHERTYPE_IPV4:
                return decode_ipv4(p + off, cap - off, wire - off, pk);
        case ETHERTYPE_IPV6:
                return decode_ipv6(p + off, cap - off, wire - off, pk);
        default:
                return NACCT_DECODE_NOT_IP;
        }
}

/* From an ethertype at p[off - 2]: VLAN tags, LLC/SNAP, PPPoE, then IP. */
static NacctDecodeResult decode_ethertype(uint16_t type, const uint8_t *p, size_t off, size_t cap,
                                          size_t wire, bool llc_possible, NacctPacket *pk)
{
        for (unsigned depth = 0;; depth++) {
                if (type != ETHERTYPE_VLAN && type != ETHERTYPE_QINQ && type != ETHERTYPE_QINQ_OLD)
                        break;
                if (depth >= NACCT_VLAN_DEPTH_MAX)
                        return NACCT_DECODE_MALFORMED;
                if (cap < off + 4)
                        return NACCT_DECODE_TRUNCATED;
                type = be16(p + off + 2);
                off += 4;
        }
        if (type < 0x0600) {
                /* An IEEE 802.3 length: IP only inside LLC/SNAP with an ethertype. */
                static const uint8_t snap[6] = {0xaa, 0xaa, 0x03, 0, 0, 0};

                if (!llc_possible || cap < off + 8 || memcmp(p + off, snap, 6) != 0)
                        return NACCT_DECODE_NOT_IP;
                type = be16(p + off + 6);
                off += 8;
        } else if (type == ETHERTYPE_PPPOE_SESSION) {
                if (cap < off + 8)
                        return NACCT_DECODE_TRUNCATED;
                switch (be16(p + off + 6)) {
                case PPP_IPV4:
                        type = ETHERTYPE_IPV4;
                        break;
                case PPP_IPV6:
                        type = ETHERTYPE_IPV6;
                        break;
                default:
                        return NACCT_DECODE_NOT_IP;
                }
                off += 8;
        }
        return decode_at(type, p, off, cap, wire, pk);
}

static bool af_is_inet6(uint32_t af)
{
        /* AF_INET6 of Linux, the BSDs, Darwin and Solaris: the file may come from any of them. */
        return af == 10 || af == 24 || af == 26 || af == 28 || af == 30;
}

NacctDecodeResult nacct_decode(int dlt, const uint8_t *p, uint32_t caplen, uint32_t wirelen,
                               NacctPacket *ret)
{
        NacctPacket pk = {};
        size_t cap = caplen, wire = wirelen;
        NacctDecodeResult r;
        uint32_t af;

        if (cap > wire)
                return NACCT_DECODE_MALFORMED;

        switch (dlt) {
        case NACCT_DLT_EN10MB:
                if (cap < 14)
                        return NACCT_DECODE_TRUNCATED;
                pk.eth_src = p + 6;
                r = decode_ethertype(be16(p + 12), p, 14, cap, wire, true, &pk);
                break;
        case NACCT_DLT_LINUX_SLL:
                if (cap < 16)
                        return NACCT_DECODE_TRUNCATED;
                pk.flags |= NACCT_PKT_DIR_KNOWN;
                pk.direction = be16(p) == PACKET_OUTGOING_TYPE ? NACCT_DIR_OUT : NACCT_DIR_IN;
                r = decode_ethertype(be16(p + 14), p, 16, cap, wire, false, &pk);
                break;
        case NACCT_DLT_LINUX_SLL2:
                if (cap < 20)
                        return NACCT_DECODE_TRUNCATED;
                pk.flags |= NACCT_PKT_DIR_KNOWN;
                pk.direction = p[10] == PACKET_OUTGOING_TYPE ? NACCT_DIR_OUT : NACCT_DIR_IN;
                r = decode_ethertype(be16(p), p, 20, cap, wire, false, &pk);
                break;
        case NACCT_DLT_RAW:
        case NACCT_DLT_RAW_ALT:
        case NACCT_DLT_IPV4:
        case NACCT_DLT_IPV6:
                if (cap < 1)
                        return NACCT_DECODE_TRUNCATED;
                if ((dlt == NACCT_DLT_IPV4 && p[0] >> 4 != 4) ||
                    (dlt == NACCT_DLT_IPV6 && p[0] >> 4 != 6))
                        return NACCT_DECODE_MALFORMED;
                return nacct_decode_ip(p, caplen, wirelen, ret);
        case NACCT_DLT_NULL:
        case NACCT_DLT_LOOP:
                if (cap < 4)
                        return NACCT_DECODE_TRUNCATED;
                /* DLT_NULL is in the byte order of the machine that wrote the file. */
                af = be32(p);
                if (dlt == NACCT_DLT_NULL && (af & 0xffff) == 0)
                        af = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24;
                if (af == 2)
                        r = decode_at(ETHERTYPE_IPV4, p, 4, cap, wire, &pk);
                else if (af_is_inet6(af))
                        r = decode_at(ETHERTYPE_IPV6, p, 4, cap, wire, &pk);
                else
                        r = NACCT_DECODE_NOT_IP;
                break;
        default:
                return NACCT_DECODE_NOT_IP;
        }
        if (r == NACCT_DECODE_OK)
                *ret = pk;
        return r;
}

bool nacct_dlt_supported(int dlt)
{
        switch (dlt) {
        case NACCT_DLT_NULL:
        case NACCT_DLT_EN10MB:
        case NACCT_DLT_RAW:
        case NACCT_DLT_RAW_ALT:
        case NACCT_DLT_LOOP:
        case NACCT_DLT_LINUX_SLL:
        case NACCT_DLT_IPV4:
        case NACCT_DLT_IPV6:
        case NACCT_DLT_LINUX_SLL2:
                return true;
        default:
                return false;
        }
}

const char *nacct_decode_result_to_string(NacctDecodeResult r)
{
        static const char *const names[_NACCT_DECODE_MAX] = {
                [NACCT_DECODE_OK] = "ok",
                [NACCT_DECODE_NOT_IP] = "not-ip",
                [NACCT_DECODE_TRUNCATED] = "truncated",
                [NACCT_DECODE_MALFORMED] = "malformed",
        };
        return (unsigned)r < _NACCT_DECODE_MAX ? names[r] : "?";
}
