/* nacctd-net.c - naccttab's networks and masks on top of lib/addr's strict address parser
 * (inet_addr() is never used: it turns a typo into 255.255.255.255). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include "addr.h"
#include "macro.h"
#include "parse.h"

#include "nacctd-net.h"

int nacct_addr_parse(const char *s, NacctAddr *ret)
{
        NacctAddr a = {};
        int family, r;

        r = addr_parse_numeric(s, &family, a.b);
        if (r < 0)
                return r;
        a.family = family == AF_INET ? NACCT_FAMILY_V4 : NACCT_FAMILY_V6;
        *ret = a;
        return 0;
}

/* A dotted IPv4 address or mask, through the shared parser. */
static int parse_dotted(const char *s, uint8_t ret[4])
{
        uint8_t b[16];
        int family, r;

        r = addr_parse_numeric(s, &family, b);
        if (r < 0 || family != AF_INET)
                return -EINVAL;
        memcpy(ret, b, 4);
        return 0;
}

size_t nacct_addr_format(uint8_t family, const uint8_t b[16], char *buf)
{
        if (family == NACCT_FAMILY_V4) {
                /* Hot at flush time: cheaper than inet_ntop(). */
                char *p = buf;

                for (int i = 0; i < 4; i++) {
                        unsigned v = b[i];

                        if (v >= 100)
                                *p++ = (char)('0' + v / 100);
                        if (v >= 10)
                                *p++ = (char)('0' + v / 10 % 10);
                        *p++ = (char)('0' + v % 10);
                        if (i < 3)
                                *p++ = '.';
                }
                *p = '\0';
                return (size_t)(p - buf);
        }
        if (!inet_ntop(AF_INET6, b, buf, NACCT_ADDR_STRLEN)) {
                strcpy(buf, "::");
                return 2;
        }
        return strlen(buf);
}

int nacct_mask4_parse(const char *s, uint8_t ret[4])
{
        uint8_t m[16];
        unsigned prefix;

        if (isempty(s))
                return -EINVAL;
        if (s[0] == '/') {
                if (addr_parse_prefix_length(s + 1, 32, &prefix) < 0)
                        return -EINVAL;
                addr_prefix_mask(prefix, m);
                memcpy(ret, m, 4);
                return 0;
        }
        return parse_dotted(s, ret);
}

int nacct_net_parse(const char *s, NacctNet *ret, bool *ret_host_bits, const char **ret_msg)
{
        char buf[128];
        NacctNet n = {};
        NacctAddr a;
        const char *mask = NULL;
        bool host_bits = false;
        size_t len;
        char *sep;

        len = strlen(s);
        if (len >= sizeof(buf)) {
                *ret_msg = "network too long";
                return -EINVAL;
        }
        memcpy(buf, s, len + 1);
        sep = strpbrk(buf, " \t/");
        if (sep) {
                bool slash = *sep == '/';

                *sep = '\0';
                mask = sep + 1;
                if (!slash)
                        mask += strspn(mask, " \t");
                else if (*mask == '\0') {
                        *ret_msg = "missing prefix length after '/'";
                        return -EINVAL;
                }
                if (slash) {
                        unsigned prefix;

                        if (addr_parse_prefix_length(mask, UINT16_MAX, &prefix) < 0) {
                                *ret_msg = "invalid prefix length";
                                return -EINVAL;
                        }
                        if (nacct_addr_parse(buf, &a) < 0) {
                                *ret_msg = "invalid network address";
                                return -EINVAL;
                        }
                        if (prefix > (a.family == NACCT_FAMILY_V4 ? 32u : 128u)) {
                                *ret_msg = "prefix length too long for the address family";
                                return -EINVAL;
                        }
                        addr_prefix_mask(prefix, n.mask);
                        goto apply;
                }
        }
        if (nacct_addr_parse(buf, &a) < 0) {
                *ret_msg = "invalid network address";
                return -EINVAL;
        }
        if (isempty(mask)) {
                addr_prefix_mask(a.family == NACCT_FAMILY_V4 ? 32 : 128, n.mask);
        } else {
                if (a.family != NACCT_FAMILY_V4) {
                        *ret_msg = "an IPv6 network takes a prefix length (2001:db8::/32)";
                        return -EINVAL;
                }
                if (strpbrk(mask, " \t")) {
                        *ret_msg = "unexpected text after the mask";
                        return -EINVAL;
                }
                if (parse_dotted(mask, n.mask) < 0) {
                        *ret_msg = "invalid dotted netmask";
                        return -EINVAL;
                }
        }
apply:
        n.family = a.family;
        for (size_t i = 0; i < 16; i++) {
                n.addr[i] = a.b[i] & n.mask[i];
                if (n.addr[i] != a.b[i])
                        host_bits = true;
        }
        *ret = n;
        if (ret_host_bits)
                *ret_host_bits = host_bits;
        return 0;
}
