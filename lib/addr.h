/* addr.h - parsing and formatting of IPv4/IPv6 addresses and "host[:port]" specifications. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

typedef union SockaddrUnion {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_storage storage;
} SockaddrUnion;

/* "[ffff:...:ffff%interface]:65535" plus NUL */
#define ADDR_STRLEN (INET6_ADDRSTRLEN + 2 + 1 + IF_NAMESIZE_MAX + 6 + 1)
#define IF_NAMESIZE_MAX 16

/* Split "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal into host and port.
 * The host is copied into host_buf (at most host_size-1 bytes, else -ENAMETOOLONG); the port
 * is default_port when none is given. Never resolves anything. */
int addr_split_host_port(const char *spec, uint16_t default_port, char *host_buf, size_t host_size,
                         uint16_t *ret_port);

/* Parse a numeric IPv4 or IPv6 address (with optional %scope for link-local) into a socket
 * address with the given port. -EINVAL if it is not a literal. */
int addr_parse_ip(const char *s, uint16_t port, SockaddrUnion *ret, socklen_t *ret_len);

/* Format a socket address: IPv4-mapped IPv6 addresses come out as plain IPv4. With port:
 * "1.2.3.4:5" / "[::1]:5". buf must hold ADDR_STRLEN bytes. */
int addr_format(const struct sockaddr *sa, socklen_t len, bool with_port, char *buf, size_t size);

/* An address prefix (CIDR), for allow-lists. */
typedef struct AddrPrefix {
        int family;       /* AF_INET or AF_INET6 */
        uint8_t addr[16]; /* network byte order (4 bytes used for IPv4), host bits zero */
        unsigned bits;    /* 0..32 or 0..128 */
} AddrPrefix;

/* "192.0.2.0/24", "2001:db8::/32" or a bare address (all bits). -EINVAL for anything else,
 * including a prefix with host bits set ("192.0.2.1/24": most likely a typo). */
int addr_prefix_parse(const char *s, AddrPrefix *ret);

/* As addr_prefix_parse(), but host bits are cleared and reported in *ret_host_bits instead of
 * refused (the netmasks of trackalert's Lua API and naccttab's networks accept them). */
int addr_prefix_parse_host_bits(const char *s, AddrPrefix *ret, bool *ret_host_bits);

/* The one parser of numeric addresses without port or scope that the daemons share: IPv4 as
 * exactly four decimal parts 0-255 of one to three digits ("010" is ten, never octal; no
 * inet_addr() that turns a typo into 255.255.255.255), or an IPv6 literal. ret_bytes gets 4 or
 * 16 bytes in network order (the rest zeroed). */
int addr_parse_numeric(const char *s, int *ret_family, uint8_t ret_bytes[static 16]);

/* The 16-byte mask of a prefix length (0..128). */
void addr_prefix_mask(unsigned bits, uint8_t ret[static 16]);

/* A prefix length "0".."max" (decimal, nothing else). */
int addr_parse_prefix_length(const char *s, unsigned max, unsigned *ret);

/* Is the socket address inside p? An IPv4-mapped IPv6 address (an IPv4 sender on a
 * dual-stack socket) matches IPv4 prefixes. */
bool addr_prefix_contains(const AddrPrefix *p, const struct sockaddr *sa, socklen_t len);

/* "192.0.2.0/24"; buf must hold ADDR_STRLEN bytes. */
int addr_prefix_format(const AddrPrefix *p, char *buf, size_t size);
