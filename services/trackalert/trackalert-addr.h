/* trackalert-addr.h - ComboAddress, Netmask and NetmaskGroup as the original's Lua API has them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 address with an optional port. IPv4 is kept in the first 4 bytes. */
typedef struct TaAddr {
        int family; /* AF_INET or AF_INET6 */
        uint8_t bytes[16];
        uint16_t port;
} TaAddr;

typedef struct TaNetmask {
        TaAddr net; /* host bits cleared */
        unsigned bits;
} TaNetmask;

typedef struct TaNetmaskGroup {
        TaNetmask *masks;
        size_t n, allocated;
} TaNetmaskGroup;

#define TA_ADDR_STRLEN 64 /* "[ffff:...:ffff]:65535", NUL included */

/* "1.2.3.4", "1.2.3.4:5", "::1", "[::1]", "[::1]:5". IPv4-mapped IPv6 stays IPv6. */
int ta_addr_parse(const char *s, TaAddr *ret);
/* The default address the original hands out for a missing value: 0.0.0.0. */
void ta_addr_any(TaAddr *ret);
/* ::ffff:a.b.c.d becomes a.b.c.d; anything else is left alone. */
void ta_addr_unmap(TaAddr *a);
bool ta_addr_is_mapped_v4(const TaAddr *a);
int ta_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, TaAddr *ret);
/* Without the port: "1.2.3.4", "::1". */
const char *ta_addr_to_string(const TaAddr *a, char buf[static TA_ADDR_STRLEN]);
/* With the port when it is non-zero: "1.2.3.4:5", "[::1]:5". */
const char *ta_addr_to_string_port(const TaAddr *a, char buf[static TA_ADDR_STRLEN]);
/* 16 bytes that sort by address: IPv4 as ::ffff:a.b.c.d, for the history database. */
void ta_addr_key(const TaAddr *a, uint8_t ret[static 16]);

/* "10.0.0.0/8", "::1/128", "192.168.1.1" (a host mask). */
int ta_netmask_parse(const char *s, TaNetmask *ret);
int ta_netmask_from_addr(const TaAddr *a, unsigned bits, TaNetmask *ret);
bool ta_netmask_match(const TaNetmask *m, const TaAddr *a);
/* "10.0.0.0/8" */
const char *ta_netmask_to_string(const TaNetmask *m, char buf[static TA_ADDR_STRLEN + 4]);
/* The lowest and highest address of the mask as history keys (see ta_addr_key()). */
void ta_netmask_range(const TaNetmask *m, uint8_t lo[static 16], uint8_t hi[static 16]);

void ta_netmask_group_init(TaNetmaskGroup *g);
void ta_netmask_group_clear(TaNetmaskGroup *g);
void ta_netmask_group_done(TaNetmaskGroup *g);
int ta_netmask_group_add(TaNetmaskGroup *g, const TaNetmask *m);
int ta_netmask_group_add_string(TaNetmaskGroup *g, const char *s);
int ta_netmask_group_copy(TaNetmaskGroup *dst, const TaNetmaskGroup *src);
bool ta_netmask_group_match(const TaNetmaskGroup *g, const TaAddr *a);
/* The ranges the original always allowed: loopback, RFC 1918, CGNAT, link-local, ULA; those
 * already in the group are not added twice. */
int ta_netmask_group_add_private(TaNetmaskGroup *g);
