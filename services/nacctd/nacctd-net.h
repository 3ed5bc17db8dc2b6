/* nacctd-net.h - IPv4/IPv6 addresses and networks as naccttab writes them ("a.b.c.d m.m.m.m",
 * "a.b.c.d/n", "2001:db8::/32") and as the flow table stores them (16 bytes, IPv4 first). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NACCT_FAMILY_V4 4
#define NACCT_FAMILY_V6 6
#define NACCT_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* An address: IPv4 in the first 4 bytes, the other 12 zero. */
typedef struct NacctAddr {
        uint8_t family; /* NACCT_FAMILY_V4 or _V6 */
        uint8_t b[16];
} NacctAddr;

/* A network: an address and a mask of the same family; addr has no bits outside mask. The mask
 * need not be contiguous for IPv4 (the original applied any dotted mask bit by bit). */
typedef struct NacctNet {
        uint8_t family; /* 0: unset */
        uint8_t addr[16];
        uint8_t mask[16];
} NacctNet;

/* A numeric IPv4 (dotted quad, exactly four decimal parts) or IPv6 address. -EINVAL if not. */
int nacct_addr_parse(const char *s, NacctAddr *ret);
/* Write the text form into buf (NACCT_ADDR_STRLEN bytes). Returns the length. */
size_t nacct_addr_format(uint8_t family, const uint8_t b[16], char *buf);

/* "a.b.c.d m.m.m.m", "a.b.c.d/n" or "v6/n" (a bare address is a host). *ret_host_bits is set if
 * the address had bits outside the mask (they are cleared). -EINVAL with *ret_msg on error. */
int nacct_net_parse(const char *s, NacctNet *ret, bool *ret_host_bits, const char **ret_msg);
/* A mask alone: "255.255.255.0" or "/24" (IPv4 only, as ignoremask is). */
int nacct_mask4_parse(const char *s, uint8_t ret[4]);

static inline bool nacct_net_contains(const NacctNet *n, uint8_t family, const uint8_t b[16])
{
        if (n->family != family)
                return false;
        if (family == NACCT_FAMILY_V4) {
                uint32_t a, m, x;

                memcpy(&a, b, 4);
                memcpy(&m, n->mask, 4);
                memcpy(&x, n->addr, 4);
                return (a & m) == x;
        }
        for (size_t i = 0; i < 16; i++)
                if ((b[i] & n->mask[i]) != n->addr[i])
                        return false;
        return true;
}

static inline bool nacct_nets_contain(const NacctNet *nets, size_t n, uint8_t family,
                                      const uint8_t b[16])
{
        for (size_t i = 0; i < n; i++)
                if (nacct_net_contains(&nets[i], family, b))
                        return true;
        return false;
}
