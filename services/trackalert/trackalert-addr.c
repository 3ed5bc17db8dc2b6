/* trackalert-addr.c - address and netmask parsing, formatting and matching. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "macro.h"
#include "parse.h"
#include "trackalert-addr.h"

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void ta_addr_any(TaAddr *ret)
{
        *ret = (TaAddr){.family = AF_INET};
}

int ta_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, TaAddr *ret)
{
        TaAddr a = {};

        if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
                a.family = AF_INET;
                memcpy(a.bytes, &in->sin_addr, 4);
                a.port = ntohs(in->sin_port);
        } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
                a.family = AF_INET6;
                memcpy(a.bytes, &in6->sin6_addr, 16);
                a.port = ntohs(in6->sin6_port);
        } else
                return -EAFNOSUPPORT;
        *ret = a;
        return 0;
}

int ta_addr_parse(const char *s, TaAddr *ret)
{
        char host[ADDR_STRLEN];
        SockaddrUnion sa;
        socklen_t salen;
        uint16_t port;
        int r;

        if (isempty(s))
                return -EINVAL;
        r = addr_split_host_port(s, 0, host, sizeof(host), &port);
        if (r < 0)
                return r;
        if (strchr(host, '%'))
                return -EINVAL;
        r = addr_parse_ip(host, port, &sa, &salen);
        if (r < 0)
                return r;
        return ta_addr_from_sockaddr(&sa.sa, salen, ret);
}

bool ta_addr_is_mapped_v4(const TaAddr *a)
{
        return a->family == AF_INET6 && memcmp(a->bytes, mapped_prefix, 12) == 0;
}

void ta_addr_unmap(TaAddr *a)
{
        if (!ta_addr_is_mapped_v4(a))
                return;
        memmove(a->bytes, a->bytes + 12, 4);
        memset(a->bytes + 4, 0, 12);
        a->family = AF_INET;
}

const char *ta_addr_to_string(const TaAddr *a, char buf[static TA_ADDR_STRLEN])
{
        if (!inet_ntop(a->family, a->bytes, buf, TA_ADDR_STRLEN))
                strcpy(buf, "?");
        return buf;
}

const char *ta_addr_to_string_port(const TaAddr *a, char buf[static TA_ADDR_STRLEN])
{
        char host[INET6_ADDRSTRLEN + 1];

        if (!inet_ntop(a->family, a->bytes, host, sizeof(host)))
                strcpy(host, "?");
        if (a->port == 0)
                snprintf(buf, TA_ADDR_STRLEN, "%s", host);
        else if (a->family == AF_INET6)
                snprintf(buf, TA_ADDR_STRLEN, "[%s]:%u", host, a->port);
        else
                snprintf(buf, TA_ADDR_STRLEN, "%s:%u", host, a->port);
        return buf;
}

void ta_addr_key(const TaAddr *a, uint8_t ret[static 16])
{
        if (a->family == AF_INET) {
                memcpy(ret, mapped_prefix, 12);
                memcpy(ret + 12, a->bytes, 4);
        } else
                memcpy(ret, a->bytes, 16);
}

static unsigned addr_max_bits(const TaAddr *a)
{
        return a->family == AF_INET ? 32 : 128;
}

int ta_netmask_from_addr(const TaAddr *a, unsigned bits, TaNetmask *ret)
{
        TaNetmask m = {.net = *a, .bits = bits};
        unsigned len = addr_max_bits(a) / 8;

        if (bits > addr_max_bits(a))
                return -EINVAL;
        m.net.port = 0;
        for (unsigned i = 0; i < len; i++) {
                unsigned keep = bits > i * 8 ? MIN(bits - i * 8, 8u) : 0;
                m.net.bytes[i] &= (uint8_t)(0xff00 >> keep);
        }
        *ret = m;
        return 0;
}

int ta_netmask_parse(const char *s, TaNetmask *ret)
{
        char buf[TA_ADDR_STRLEN + 8];
        AddrPrefix p;
        bool host_bits;
        TaAddr a;
        int r;

        if (isempty(s))
                return -EINVAL;
        if (!strchr(s, '/')) {
                /* An address, as newCA() takes it ("[::1]", a port is ignored): a host mask. */
                r = ta_addr_parse(s, &a);
                if (r < 0)
                        return r;
                return ta_netmask_from_addr(&a, addr_max_bits(&a), ret);
        }
        /* "[v6]/n" as the original's Netmask took it */
        if (s[0] == '[') {
                const char *end = strstr(s, "]/");

                if (!end || (size_t)(end - s) >= sizeof(buf))
                        return -EINVAL;
                snprintf(buf, sizeof(buf), "%.*s%s", (int)(end - s - 1), s + 1, end + 1);
                s = buf;
        }
        /* The host bits of "192.0.2.1/24" are cleared, as the original did. */
        r = addr_prefix_parse_host_bits(s, &p, &host_bits);
        if (r < 0)
                return r;
        a = (TaAddr){.family = p.family};
        memcpy(a.bytes, p.addr, sizeof(a.bytes));
        return ta_netmask_from_addr(&a, p.bits, ret);
}

bool ta_netmask_match(const TaNetmask *m, const TaAddr *a)
{
        TaNetmask probe;

        if (a->family != m->net.family)
                return false;
        if (ta_netmask_from_addr(a, m->bits, &probe) < 0)
                return false;
        return memcmp(probe.net.bytes, m->net.bytes, addr_max_bits(a) / 8) == 0;
}

const char *ta_netmask_to_string(const TaNetmask *m, char buf[static TA_ADDR_STRLEN + 4])
{
        char host[INET6_ADDRSTRLEN + 1];

        if (!inet_ntop(m->net.family, m->net.bytes, host, sizeof(host)))
                strcpy(host, "?");
        snprintf(buf, TA_ADDR_STRLEN + 4, "%s/%u", host, m->bits & 0xff);
        return buf;
}

void ta_netmask_range(const TaNetmask *m, uint8_t lo[static 16], uint8_t hi[static 16])
{
        unsigned bits = m->bits + (m->net.family == AF_INET ? 96 : 0);

        ta_addr_key(&m->net, lo);
        memcpy(hi, lo, 16);
        for (unsigned i = 0; i < 16; i++) {
                unsigned keep = bits > i * 8 ? MIN(bits - i * 8, 8u) : 0;
                hi[i] |= (uint8_t)(0xff >> keep);
        }
}

void ta_netmask_group_init(TaNetmaskGroup *g)
{
        *g = (TaNetmaskGroup){};
}

void ta_netmask_group_clear(TaNetmaskGroup *g)
{
        g->n = 0;
}

void ta_netmask_group_done(TaNetmaskGroup *g)
{
        free(g->masks);
        *g = (TaNetmaskGroup){};
}

int ta_netmask_group_add(TaNetmaskGroup *g, const TaNetmask *m)
{
        if (g->n == g->allocated) {
                size_t na = MAX(g->allocated * 2, (size_t)8);
                TaNetmask *p = reallocarray(g->masks, na, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                g->masks = p;
                g->allocated = na;
        }
        g->masks[g->n++] = *m;
        return 0;
}

int ta_netmask_group_add_string(TaNetmaskGroup *g, const char *s)
{
        TaNetmask m;
        int r = ta_netmask_parse(s, &m);
        if (r < 0)
                return r;
        return ta_netmask_group_add(g, &m);
}

int ta_netmask_group_copy(TaNetmaskGroup *dst, const TaNetmaskGroup *src)
{
        TaNetmaskGroup g = {};

        for (size_t i = 0; i < src->n; i++)
                if (ta_netmask_group_add(&g, &src->masks[i]) < 0) {
                        ta_netmask_group_done(&g);
                        return -ENOMEM;
                }
        ta_netmask_group_done(dst);
        *dst = g;
        return 0;
}

bool ta_netmask_group_match(const TaNetmaskGroup *g, const TaAddr *a)
{
        TaAddr u = *a;

        ta_addr_unmap(&u); /* a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d */
        for (size_t i = 0; i < g->n; i++)
                if (ta_netmask_match(&g->masks[i], &u))
                        return true;
        return false;
}

static bool netmask_group_has(const TaNetmaskGroup *g, const TaNetmask *m)
{
        for (size_t i = 0; i < g->n; i++)
                if (g->masks[i].bits == m->bits && g->masks[i].net.family == m->net.family &&
                    memcmp(g->masks[i].net.bytes, m->net.bytes, sizeof(m->net.bytes)) == 0)
                        return true;
        return false;
}

int ta_netmask_group_add_private(TaNetmaskGroup *g)
{
        static const char *const private[] = {
                "127.0.0.0/8",   "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "192.168.0.0/16",
                "172.16.0.0/12", "::1/128",    "fc00::/7",      "fe80::/10",
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(private); i++) {
                TaNetmask m;

                r = ta_netmask_parse(private[i], &m);
                if (r < 0)
                        return r;
                if (netmask_group_has(g, &m))
                        continue;
                r = ta_netmask_group_add(g, &m);
                if (r < 0)
                        return r;
        }
        return 0;
}
