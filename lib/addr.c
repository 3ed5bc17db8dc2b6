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

int addr_parse_ip(const char *s, uint16_t port, SockaddrUnion *ret, socklen_t *ret_len)
{
        SockaddrUnion u = {};
        char buf[INET6_ADDRSTRLEN + 1 + IF_NAMESIZE_MAX];
        const char *pct;

        if (isempty(s))
                return -EINVAL;
        if (inet_pton(AF_INET, s, &u.in.sin_addr) == 1) {
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

int addr_prefix_parse(const char *s, AddrPrefix *ret)
{
        char host[INET6_ADDRSTRLEN];
        const char *slash = strchr(s, '/');
        size_t len = slash ? (size_t)(slash - s) : strlen(s);
        AddrPrefix p = {};
        unsigned max;
        uint64_t bits;

        if (len == 0 || len >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, len);
        host[len] = '\0';
        if (inet_pton(AF_INET, host, p.addr) == 1)
                p.family = AF_INET, max = 32;
        else if (inet_pton(AF_INET6, host, p.addr) == 1)
                p.family = AF_INET6, max = 128;
        else
                return -EINVAL;
        p.bits = max;
        if (slash) {
                if (parse_uint64(slash + 1, &bits) < 0 || bits > max)
                        return -EINVAL;
                p.bits = (unsigned)bits;
        }
        for (unsigned i = p.bits; i < max; i++)
                if (p.addr[i / 8] & (0x80 >> (i % 8)))
                        return -EINVAL;
        *ret = p;
        return 0;
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
