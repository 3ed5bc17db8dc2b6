/* nacctd-net.c - strict parsing of addresses, masks and networks; inet_addr() is never used
 * because it turns a typo into 255.255.255.255. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "macro.h"
#include "parse.h"

#include "nacctd-net.h"

/* Exactly four decimal parts 0..255, no leading '+', no octal, nothing after. */
static int parse_dotted(const char *s, uint8_t ret[4])
{
        uint8_t b[4];
        const char *p = s;

        for (int i = 0; i < 4; i++) {
                unsigned v = 0;
                int digits = 0;

                while (isdigit((unsigned char)*p)) {
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

int nacct_addr_parse(const char *s, NacctAddr *ret)
{
        NacctAddr a = {};

        if (isempty(s))
                return -EINVAL;
        if (parse_dotted(s, a.b) >= 0) {
                a.family = NACCT_FAMILY_V4;
                *ret = a;
                return 0;
        }
        if (strchr(s, ':') && inet_pton(AF_INET6, s, a.b) == 1) {
                a.family = NACCT_FAMILY_V6;
                *ret = a;
                return 0;
        }
        return -EINVAL;
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

static void mask_from_prefix(unsigned prefix, uint8_t mask[16])
{
        memset(mask, 0, 16);
        for (unsigned i = 0; i < prefix; i++)
                mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

int nacct_mask4_parse(const char *s, uint8_t ret[4])
{
        uint8_t m[16];
        uint32_t prefix;

        if (isempty(s))
                return -EINVAL;
        if (s[0] == '/') {
                if (parse_uint32(s + 1, &prefix) < 0 || prefix > 32)
                        return -EINVAL;
                mask_from_prefix(prefix, m);
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
                        uint32_t prefix;

                        if (parse_uint32(mask, &prefix) < 0) {
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
                        mask_from_prefix(prefix, n.mask);
                        goto apply;
                }
        }
        if (nacct_addr_parse(buf, &a) < 0) {
                *ret_msg = "invalid network address";
                return -EINVAL;
        }
        if (isempty(mask)) {
                mask_from_prefix(a.family == NACCT_FAMILY_V4 ? 32 : 128, n.mask);
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
