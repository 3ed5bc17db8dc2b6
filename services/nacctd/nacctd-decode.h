/* nacctd-decode.h - from a captured frame to what accounting needs: addresses, protocol, ports
 * (ICMP type/code), the IP length and, where the link layer says so, the direction. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Link types we decode (values of pcap_datalink(), which maps LINKTYPE_* to DLT_*). */
#define NACCT_DLT_NULL 0
#define NACCT_DLT_EN10MB 1
#define NACCT_DLT_RAW 12
#define NACCT_DLT_RAW_ALT 14 /* DLT_RAW on OpenBSD; files written there say 14 */
#define NACCT_DLT_LOOP 108
#define NACCT_DLT_LINUX_SLL 113
#define NACCT_DLT_IPV4 228
#define NACCT_DLT_IPV6 229
#define NACCT_DLT_LINUX_SLL2 276

#define NACCT_VLAN_DEPTH_MAX 8
#define NACCT_IPV6_EXT_MAX 16
/* The largest packet Linux builds by segmentation offload (GSO_MAX_SIZE, BIG TCP): the most a
 * packet whose IP length field is 0 may count. */
#define NACCT_SUPER_PACKET_MAX (512U * 1024U)

typedef enum NacctDecodeResult {
        NACCT_DECODE_OK,        /* an IP packet: account it */
        NACCT_DECODE_NOT_IP,    /* ARP, LLDP, MPLS, ...: "ignored" as the original counted */
        NACCT_DECODE_TRUNCATED, /* the capture ends inside the link or IP header */
        NACCT_DECODE_MALFORMED, /* impossible values: bad version, lengths beyond the frame */
        _NACCT_DECODE_MAX,
} NacctDecodeResult;

typedef enum NacctDirection {
        NACCT_DIR_IN = 0,  /* received on the interface (or not known) */
        NACCT_DIR_OUT = 1, /* sent by this host on the interface */
} NacctDirection;

enum {
        NACCT_PKT_FRAGMENT = 1 << 0,  /* a non-first fragment: no ports */
        NACCT_PKT_SHORT = 1 << 1,     /* transport header not captured: ports 0 */
        NACCT_PKT_DIR_KNOWN = 1 << 2, /* the link layer said which direction (SLL, SLL2) */
};

typedef struct NacctPacket {
        uint8_t family; /* NACCT_FAMILY_V4 or _V6 */
        uint8_t proto;  /* the upper-layer protocol (after IPv6 extension headers) */
        uint16_t sport; /* TCP/UDP/SCTP/UDP-Lite/DCCP source port, ICMP(v6) type, else 0 */
        uint16_t dport; /* destination port, ICMP(v6) code, else 0 */
        uint8_t flags;
        uint8_t direction; /* NacctDirection, meaningful with NACCT_PKT_DIR_KNOWN */
        uint32_t bytes;    /* IPv4 total length / IPv6 40 + payload length */
        uint8_t src[16];   /* IPv4 in the first 4 bytes, the rest zero */
        uint8_t dst[16];
        const uint8_t *eth_src; /* Ethernet source MAC (6 bytes), or NULL */
} NacctPacket;

/* Decode a frame of link type dlt: caplen bytes captured of wirelen on the wire. Never reads
 * beyond caplen. *ret is written on NACCT_DECODE_OK only. What a packet counts (bytes) is the
 * IP length of its header, which must lie within wirelen; only when that field is 0 (an
 * offload super-packet) the frame's length, at most NACCT_SUPER_PACKET_MAX. A frame cut short
 * by the snap length thus counts its IP length; one cut inside the IP header counts nothing
 * (NACCT_DECODE_TRUNCATED); caplen > wirelen is NACCT_DECODE_MALFORMED. */
NacctDecodeResult nacct_decode(int dlt, const uint8_t *p, uint32_t caplen, uint32_t wirelen,
                               NacctPacket *ret);

/* Decode from an IP header at p (what DLT_RAW carries). */
NacctDecodeResult nacct_decode_ip(const uint8_t *p, uint32_t caplen, uint32_t wirelen,
                                  NacctPacket *ret);

bool nacct_dlt_supported(int dlt);
const char *nacct_decode_result_to_string(NacctDecodeResult r);
