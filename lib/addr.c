/* addr.c - address helpers that never touch the resolver. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "macro.h"
#include "parse.h"

static int copy_host(const char *s, size_t len, char *buf, size_t size)
{
        if (len == 0)
                return -EINVAL;
        if (len >= size)
                return -ENAMETOOLONG;
        memcpy(buf, s, len);
        buf[len] = '\0';
        return 0;
}

int addr_split_host_port(const char *spec, uint16_t default_port, char *host_buf, size_t host_size,
                         uint16_t *ret_port)
{
        const char *colon, *end;
        uint16_t port = default_port;
        int r;

        if (isempty(spec))
                return -EINVAL;

        if (spec[0] == '[') {
                end = strchr(spec, ']');
                if (!end)
                        return -EINVAL;
                if (end[1] == ':') {
                        r = parse_port(end + 2, &port);
                        if (r < 0)
                                return r;
                } else if (end[1] != '\0')
                        return -EINVAL;
                r = copy_host(spec + 1, (size_t)(end - spec - 1), host_buf, host_size);
                if (r < 0)
                        return r;
                if (!strchr(host_buf, ':'))
                        return -EINVAL; /* brackets are for IPv6 literals only */
                *ret_port = port;
                return 0;
        }

        colon = strchr(spec, ':');
        if (colon && strchr(colon + 1, ':')) {
                /* More than one colon: a bare IPv6 literal, no port. */
                r = copy_host(spec, strlen(spec), host_buf, host_size);
                if (r < 0)
                        return r;
                *ret_port = port;
                return 0;
        }
        if (colon) {
                r = parse_port(colon + 1, &port);
                if (r < 0)
                        return r;
        }
        r = copy_host(spec, colon ? (size_t)(colon - spec) : strlen(spec), host_buf, host_size);
        if (r < 0)
                return r;
        *ret_port = port;
        return 0;
}

static int parse_dotted(const char *s, uint8_t ret[static 4])
{
        uint8_t b[4];
        const char *p = s;

        for (int i = 0; i < 4; i++) {
                unsigned v = 0;
                int digits = 0;

                while (*p >= '0' && *p <= '9') {
                        v = v * 10 + (unsigned)(*p - '0');
                        if (++digits > 3 || v > 255)
                                return -EINVAL;
                        p++;
                }
                if (digits == 0)
                        return -EINVAL;
                b[i] = (uint8_t)v;
                if (i < 3 && *p++ != '.')
                        return -EINVAL;
        }
        if (*p != '\0')
                return -EINVAL;
        memcpy(ret, b, 4);
        return 0;
}

int addr_parse_ip(const char *s, uint16_t port, SockaddrUnion *ret, socklen_t *ret_len)
{
        SockaddrUnion u = {};
        char buf[INET6_ADDRSTRLEN + 1 + IF_NAMESIZE_MAX];
        const char *pct;

        if (isempty(s))
                return -EINVAL;
        if (parse_dotted(s, (uint8_t *)&u.in.sin_addr) >= 0) {
                u.in.sin_family = AF_INET;
                u.in.sin_port = htons(port);
                *ret = u;
                *ret_len = sizeof(u.in);
                return 0;
        }
        pct = strchr(s, '%');
        if (strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        if (pct)
                buf[pct - s] = '\0';
        if (inet_pton(AF_INET6, buf, &u.in6.sin6_addr) != 1)
                return -EINVAL;
        if (pct) {
                unsigned idx;

                if (!IN6_IS_ADDR_LINKLOCAL(&u.in6.sin6_addr))
                        return -EINVAL;
                idx = if_nametoindex(pct + 1);
                if (idx == 0) {
                        uint32_t v;
                        if (parse_uint32(pct + 1, &v) < 0 || v == 0)
                                return -ENODEV;
                        idx = v;
                }
                u.in6.sin6_scope_id = idx;
        }
        u.in6.sin6_family = AF_INET6;
        u.in6.sin6_port = htons(port);
        *ret = u;
        *ret_len = sizeof(u.in6);
        return 0;
}

int addr_format(const struct sockaddr *sa, socklen_t len, bool with_port, char *buf, size_t size)
{
        char ip[INET6_ADDRSTRLEN];
        uint16_t port;
        bool v6 = false;
        int n;

        if (!sa || size == 0)
                return -EINVAL;
        if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
                if (!inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip)))
                        return -EINVAL;
                port = ntohs(in->sin_port);
        } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
                if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
                        if (!inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, sizeof(ip)))
                                return -EINVAL;
                } else {
                        if (!inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip)))
                                return -EINVAL;
                        v6 = true;
                }
                port = ntohs(in6->sin6_port);
        } else
                return -EAFNOSUPPORT;

        if (!with_port)
                n = snprintf(buf, size, "%s", ip);
        else if (v6)
                n = snprintf(buf, size, "[%s]:%u", ip, port);
        else
                n = snprintf(buf, size, "%s:%u", ip, port);
        if (n < 0 || (size_t)n >= size)
                return -ENOBUFS;
        return 0;
}

int addr_parse_numeric(const char *s, int *ret_family, uint8_t ret_bytes[static 16])
{
        uint8_t b[16] = {};

        if (isempty(s))
                return -EINVAL;
        if (parse_dotted(s, b) >= 0) {
                *ret_family = AF_INET;
                memcpy(ret_bytes, b, 16);
                return 0;
        }
        if (strchr(s, ':') && inet_pton(AF_INET6, s, b) == 1) {
                *ret_family = AF_INET6;
                memcpy(ret_bytes, b, 16);
                return 0;
        }
        return -EINVAL;
}

void addr_prefix_mask(unsigned bits, uint8_t ret[static 16])
{
        memset(ret, 0, 16);
        for (unsigned i = 0; i < bits && i < 128; i++)
                ret[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

int addr_parse_prefix_length(const char *s, unsigned max, unsigned *ret)
{
        uint64_t bits;

        if (parse_uint64(s, &bits) < 0 || bits > max)
                return -EINVAL;
        *ret = (unsigned)bits;
        return 0;
}

int addr_prefix_parse_host_bits(const char *s, AddrPrefix *ret, bool *ret_host_bits)
{
        char host[INET6_ADDRSTRLEN];
        const char *slash = strchr(s, '/');
        size_t len = slash ? (size_t)(slash - s) : strlen(s);
        AddrPrefix p = {};
        uint8_t mask[16];
        bool host_bits = false;
        unsigned max;
        int r;

        if (len == 0 || len >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, len);
        host[len] = '\0';
        r = addr_parse_numeric(host, &p.family, p.addr);
        if (r < 0)
                return r;
        max = p.family == AF_INET ? 32 : 128;
        p.bits = max;
        if (slash && addr_parse_prefix_length(slash + 1, max, &p.bits) < 0)
                return -EINVAL;
        addr_prefix_mask(p.bits, mask);
        for (unsigned i = 0; i < 16; i++) {
                host_bits = host_bits || (p.addr[i] & ~mask[i]);
                p.addr[i] &= mask[i];
        }
        if (host_bits && !ret_host_bits)
                return -EINVAL;
        if (ret_host_bits)
                *ret_host_bits = host_bits;
        *ret = p;
        return 0;
}

int addr_prefix_parse(const char *s, AddrPrefix *ret)
{
        return addr_prefix_parse_host_bits(s, ret, NULL);
}

static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
        if (memcmp(a, b, bits / 8) != 0)
                return false;
        if (bits % 8 == 0)
                return true;
        return ((a[bits / 8] ^ b[bits / 8]) & (uint8_t)(0xff00 >> (bits % 8))) == 0;
}

bool addr_prefix_contains(const AddrPrefix *p, const struct sockaddr *sa, socklen_t len)
{
        if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
                return p->family == AF_INET &&
                       bits_equal(p->addr, (const uint8_t *)&in->sin_addr, p->bits);
        }
        if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
                if (p->family == AF_INET6)
                        return bits_equal(p->addr, in6->sin6_addr.s6_addr, p->bits);
                return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
                       bits_equal(p->addr, in6->sin6_addr.s6_addr + 12, p->bits);
        }
        return false;
}

int addr_prefix_format(const AddrPrefix *p, char *buf, size_t size)
{
        char a[INET6_ADDRSTRLEN];
        int n;

        if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
                return -EAFNOSUPPORT;
        n = snprintf(buf, size, "%s/%u", a, p->bits);
        if (n < 0 || (size_t)n >= size)
                return -ENOBUFS;
        return 0;
}
