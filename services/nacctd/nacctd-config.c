/* nacctd-config.c - the naccttab parser. Same line syntax as the original's config.c ('#' starts
 * a comment anywhere, keywords are case-insensitive, the value is the rest of the line, unknown
 * keywords are an error), but every value is validated and every problem gets its line. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "parse.h"

#include "nacctd-config.h"
#include "nacctd-output.h"

#define DEFAULT_FLUSH 300
#define DEFAULT_FDELAY 60
#define DEFAULT_ERRDELAY 3
#define DEFAULT_ACTIVE 300
#define DEFAULT_BIN 3600
#define DEFAULT_RETENTION_DAYS 400
#define DEFAULT_SNAPLEN 256
#define DEFAULT_CAPTURE_BUFFER (4ULL * 1024 * 1024)
#define DEFAULT_MAX_FLOWS 1000000
#define DEFAULT_MAX_CAPTURES 256

typedef struct Parser {
        NacctConfigReport *report;
        unsigned line;
        bool headers_noticed;
} Parser;

typedef int (*DirectiveParser)(Parser *p, NacctConfig *c, char *value);

typedef struct Directive {
        const char *keyword;
        DirectiveParser parse;
} Directive;

_printf_(4, 5) static void report_add(NacctConfigReport *r, NacctConfigSeverity sev, unsigned line,
                                      const char *fmt, ...)
{
        NacctConfigMessage *m;
        va_list ap;

        if (!r)
                return;
        if (sev == NACCT_CONFIG_ERROR)
                r->n_errors++;
        else if (sev == NACCT_CONFIG_WARNING)
                r->n_warnings++;
        if (r->n >= NACCT_CONFIG_MESSAGES_MAX) {
                r->n_dropped++;
                return;
        }
        m = &r->messages[r->n++];
        m->severity = sev;
        m->line = line;
        va_start(ap, fmt);
        vsnprintf(m->text, sizeof(m->text), fmt, ap);
        va_end(ap);
}

/* A bad line: warned about and ignored (the daemon keeps collecting, --check-config fails). */
#define fail(p, ...)                                                                               \
        ({                                                                                         \
                report_add((p)->report, NACCT_CONFIG_WARNING, (p)->line, __VA_ARGS__);             \
                -EINVAL;                                                                           \
        })
/* A configuration that cannot be used at all. */
#define fatal(p, line, ...) report_add((p)->report, NACCT_CONFIG_ERROR, (line), __VA_ARGS__)
#define notice(p, ...) report_add((p)->report, NACCT_CONFIG_NOTICE, (p)->line, __VA_ARGS__)

NacctConfig *nacct_config_free(NacctConfig *c)
{
        if (!c)
                return NULL;
        free(c->path);
        free(c->file);
        free(c->dumpfile);
        free(c->debugfile);
        free(c->ignorenet);
        free(c->dontignore);
        for (size_t i = 0; i < c->n_notdev; i++)
                free(c->notdev[i]);
        free(c->notdev);
        for (size_t i = 0; i < c->n_iflimit; i++)
                free(c->iflimit[i]);
        free(c->iflimit);
        free(c->hostlimit);
        for (size_t i = 0; i < c->n_promisc; i++)
                free(c->promisc[i]);
        free(c->promisc);
        free(c->dynamicip);
        free(c->exclude);
        for (size_t i = 0; i < c->n_lines; i++) {
                free(c->lines[i].ifname);
                free(c->lines[i].tty);
        }
        free(c->lines);
        free(c);
        return NULL;
}

/* Grow an array by one element; returns the new element (zeroed) or NULL. */
static void *array_push(Parser *p, void **array, size_t *n, size_t size)
{
        void *a;

        if (*n >= NACCT_CONFIG_LIST_MAX) {
                (void)fail(p, "too many entries of this directive (at most %d)",
                           NACCT_CONFIG_LIST_MAX);
                return NULL;
        }
        a = realloc(*array, size * (*n + 1));
        if (!a) {
                (void)fail(p, "out of memory");
                return NULL;
        }
        *array = a;
        memset((char *)a + size * *n, 0, size);
        return (char *)a + size * (*n)++;
}

/* Split off the first whitespace-separated word; *rest points after the following blanks. */
static char *split_word(char *s, char **rest)
{
        char *e = s + strcspn(s, " \t");

        if (*e) {
                *e++ = '\0';
                e += strspn(e, " \t");
        }
        *rest = e;
        return s;
}

static bool has_control(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

static int parse_number(Parser *p, const char *what, const char *value, uint64_t min, uint64_t max,
                        uint64_t *ret)
{
        uint64_t v;

        if (parse_uint64(value, &v) < 0 || v < min || v > max)
                return fail(p, "invalid %s '%s': expected a number from %llu to %llu", what, value,
                            (unsigned long long)min, (unsigned long long)max);
        *ret = v;
        return 0;
}

/* Seconds as the original wrote them ("300"), or a span with units ("5min"). */
static int parse_seconds(Parser *p, const char *what, const char *value, uint64_t min, uint64_t max,
                         uint64_t *ret)
{
        uint64_t v;

        if (parse_timespan_sec(value, &v) < 0 || v < min || v > max)
                return fail(p,
                            "invalid %s '%s': expected seconds from %llu to %llu (or a span "
                            "like 5min)",
                            what, value, (unsigned long long)min, (unsigned long long)max);
        *ret = v;
        return 0;
}

static int parse_path(Parser *p, const char *what, const char *value, char **ret)
{
        char *s;

        if (has_control(value))
                return fail(p, "invalid %s: control characters in '%s'", what, value);
        s = strdup(value);
        if (!s)
                return fail(p, "out of memory");
        free(*ret);
        *ret = s;
        return 0;
}

static bool ifname_char_ok(char ch)
{
        return ch > 0x20 && ch != 0x7f && ch != '/' && ch != ':';
}

/* An interface name as the kernel allows it, or a glob of such names. */
static int parse_ifname(Parser *p, const char *value, char **ret)
{
        bool glob = strpbrk(value, "*?[") != NULL;
        size_t len = strlen(value);

        if (strpbrk(value, " \t"))
                return fail(p, "expected one interface name or glob, got '%s'", value);
        for (const char *s = value; *s; s++)
                if (!ifname_char_ok(*s))
                        return fail(p, "invalid character in interface name '%s'", value);
        if (!glob && len > NACCT_IFNAME_MAX)
                return fail(p, "interface name '%s' is longer than %d characters", value,
                            NACCT_IFNAME_MAX);
        if (len > 255)
                return fail(p, "interface glob too long");
        if (streq(value, ".") || streq(value, ".."))
                return fail(p, "invalid interface name '%s'", value);
        *ret = strdup(value);
        if (!*ret)
                return fail(p, "out of memory");
        return 0;
}

static int push_ifname(Parser *p, char ***list, size_t *n, const char *value)
{
        char *name = NULL, **slot;
        int r;

        r = parse_ifname(p, value, &name);
        if (r < 0)
                return r;
        slot = array_push(p, (void **)list, n, sizeof(char *));
        if (!slot) {
                free(name);
                return -EINVAL;
        }
        *slot = name;
        return 0;
}

static int parse_net_value(Parser *p, const char *what, const char *value, NacctNet *ret)
{
        const char *msg = NULL;
        bool host_bits = false;
        char text[NACCT_ADDR_STRLEN];

        if (nacct_net_parse(value, ret, &host_bits, &msg) < 0)
                return fail(p, "invalid %s '%s': %s", what, value, msg ?: "invalid network");
        if (host_bits) {
                nacct_addr_format(ret->family, ret->addr, text);
                notice(p, "%s '%s' has bits outside its mask, using %s", what, value, text);
        }
        return 0;
}

static int push_net(Parser *p, const char *what, NacctNet **list, size_t *n, const char *value)
{
        NacctNet net, *slot;
        int r;

        r = parse_net_value(p, what, value, &net);
        if (r < 0)
                return r;
        slot = array_push(p, (void **)list, n, sizeof(NacctNet));
        if (!slot)
                return -EINVAL;
        *slot = net;
        return 0;
}

static int d_flush(Parser *p, NacctConfig *c, char *v)
{
        return parse_seconds(p, "flush interval", v, 1, 86400, &c->flush_sec);
}

static int d_fdelay(Parser *p, NacctConfig *c, char *v)
{
        return parse_seconds(p, "fdelay", v, 0, 7 * 86400, &c->fdelay_sec);
}

static int parse_file_path(Parser *p, const char *what, const char *value, char **ret,
                           unsigned *ret_line)
{
        int r;

        if (value[0] != '/')
                return fail(p, "invalid %s '%s': expected an absolute path", what, value);
        if (value[strlen(value) - 1] == '/')
                return fail(p, "invalid %s '%s': names a directory, expected a file", what, value);
        r = parse_path(p, what, value, ret);
        if (r >= 0)
                *ret_line = p->line;
        return r;
}

static int d_file(Parser *p, NacctConfig *c, char *v)
{
        return parse_file_path(p, "file", v, &c->file, &c->file_line);
}

static int d_dumpfile(Parser *p, NacctConfig *c, char *v)
{
        return parse_file_path(p, "dumpfile", v, &c->dumpfile, &c->dumpfile_line);
}

static int d_debugfile(Parser *p, NacctConfig *c, char *v)
{
        return parse_file_path(p, "debugfile", v, &c->debugfile, &c->debugfile_line);
}

static int d_debug(Parser *p, NacctConfig *c, char *v)
{
        uint64_t x;

        if (strncasecmp(v, "0x", 2) == 0) {
                char *end;

                errno = 0;
                x = strtoull(v + 2, &end, 16);
                if (errno != 0 || end == v + 2 || *end || x > UINT32_MAX)
                        return fail(p, "invalid debug mask '%s'", v);
        } else if (parse_number(p, "debug mask", v, 0, UINT32_MAX, &x) < 0)
                return -EINVAL;
        c->debug = (uint32_t)x;
        return 0;
}

static int d_errdelay(Parser *p, NacctConfig *c, char *v)
{
        uint64_t x;

        if (parse_number(p, "errdelay", v, 0, 100000, &x) < 0)
                return -EINVAL;
        c->errdelay = (uint32_t)x;
        return 0;
}

static int d_ignoremask(Parser *p, NacctConfig *c, char *v)
{
        if (nacct_mask4_parse(v, c->ignoremask) < 0)
                return fail(p,
                            "invalid ignoremask '%s': expected a dotted mask like "
                            "255.255.255.0 or /24",
                            v);
        return 0;
}

static int d_ignorenet(Parser *p, NacctConfig *c, char *v)
{
        return push_net(p, "ignorenet", &c->ignorenet, &c->n_ignorenet, v);
}

static int d_dontignore(Parser *p, NacctConfig *c, char *v)
{
        return push_net(p, "dontignore", &c->dontignore, &c->n_dontignore, v);
}

static int d_notdev(Parser *p, NacctConfig *c, char *v)
{
        return push_ifname(p, &c->notdev, &c->n_notdev, v);
}

static int d_iflimit(Parser *p, NacctConfig *c, char *v)
{
        return push_ifname(p, &c->iflimit, &c->n_iflimit, v);
}

static int d_device(Parser *p, NacctConfig *c, char *v)
{
        return push_ifname(p, &c->promisc, &c->n_promisc, v);
}

static int d_hostlimit(Parser *p, NacctConfig *c, char *v)
{
        NacctAddr a, *slot;

        if (nacct_addr_parse(v, &a) < 0)
                return fail(p, "invalid hostlimit '%s': expected one IPv4 or IPv6 address", v);
        slot = array_push(p, (void **)&c->hostlimit, &c->n_hostlimit, sizeof(NacctAddr));
        if (!slot)
                return -EINVAL;
        *slot = a;
        return 0;
}

static int d_headers(Parser *p, NacctConfig *c, char *v)
{
        char *rest, *prefix, *offset, *typeoff;
        uint64_t x;

        prefix = split_word(v, &rest);
        offset = split_word(rest, &rest);
        typeoff = split_word(rest, &rest);
        if (isempty(prefix) || isempty(offset) || isempty(typeoff) || !isempty(rest))
                return fail(p, "headers takes three values: prefix offset typeoffset");
        if (parse_uint64(offset, &x) < 0 || x > 65535 || parse_uint64(typeoff, &x) < 0 || x > 65535)
                return fail(p, "headers: offset and type offset must be numbers");
        if (!p->headers_noticed)
                notice(p, "'headers' is ignored: the link type of every interface comes from "
                          "libpcap");
        p->headers_noticed = true;
        c->n_headers++;
        return 0;
}

static int d_dynamicip(Parser *p, NacctConfig *c, char *v)
{
        size_t len = strlen(v);

        while (len > 1 && v[len - 1] == '/')
                v[--len] = '\0';
        return parse_path(p, "dynamicip directory", v, &c->dynamicip);
}

static int d_dynamicnet(Parser *p, NacctConfig *c, char *v)
{
        NacctNet net;

        if (parse_net_value(p, "dynamicnet", v, &net) < 0)
                return -EINVAL;
        if (net.family == NACCT_FAMILY_V4)
                c->dynamicnet4 = net;
        else
                c->dynamicnet6 = net;
        return 0;
}

static int d_exclude(Parser *p, NacctConfig *c, char *v)
{
        return push_net(p, "exclude-name-lookup", &c->exclude, &c->n_exclude, v);
}

static int d_line(Parser *p, NacctConfig *c, char *v)
{
        char *rest, *ifname, *tty, *name = NULL, *t;
        NacctLineMap *slot;

        ifname = split_word(v, &rest);
        tty = split_word(rest, &rest);
        if (isempty(ifname) || isempty(tty) || !isempty(rest))
                return fail(p, "line takes two values: interface ttyline");
        if (strlen(tty) > 32)
                return fail(p, "tty line '%s' is longer than 32 characters", tty);
        if (parse_ifname(p, ifname, &name) < 0)
                return -EINVAL;
        t = strdup(tty);
        slot = t ? array_push(p, (void **)&c->lines, &c->n_lines, sizeof(NacctLineMap)) : NULL;
        if (!slot) {
                free(name);
                free(t);
                return t ? -EINVAL : fail(p, "out of memory");
        }
        slot->ifname = name;
        slot->tty = t;
        return 0;
}

static int d_disable(Parser *p, NacctConfig *c, char *v)
{
        uint64_t x;

        if (parse_uint64(v, &x) < 0 || x < 2 || x > 10)
                return fail(p, "invalid disable '%s': fields 2 to 10 can be disabled", v);
        c->disabled[x] = true;
        return 0;
}

static int d_masqif(Parser *p, NacctConfig *c, char *v)
{
        NacctAddr a;

        if (nacct_addr_parse(v, &a) < 0 || a.family != NACCT_FAMILY_V4)
                return fail(p, "invalid masqif '%s': expected an IPv4 address", v);
        notice(p, "'masqif' is ignored: /proc/net/ip_masquerade does not exist on this kernel");
        c->masqif = true;
        return 0;
}

static int d_activetimeout(Parser *p, NacctConfig *c, char *v)
{
        return parse_seconds(p, "activetimeout", v, 0, 7 * 86400, &c->active_sec);
}

static int d_bin(Parser *p, NacctConfig *c, char *v)
{
        uint64_t x;

        if (parse_seconds(p, "bin", v, 60, 86400, &x) < 0)
                return -EINVAL;
        if (86400 % x != 0)
                return fail(p, "invalid bin '%s': must divide a day (60, 300, 900, 3600, ...)", v);
        c->bin_sec = x;
        return 0;
}

static int d_retention(Parser *p, NacctConfig *c, char *v)
{
        uint64_t x;

        /* Days, or a span: "400", "400d", "1w". */
        if (parse_uint64(v, &x) >= 0) {
                if (x > 100000)
                        return fail(p, "invalid retention '%s': at most 100000 days", v);
                c->retention_days = x;
                return 0;
        }
        if (parse_timespan_sec(v, &x) < 0 || x / 86400 > 100000 || (x != 0 && x < 86400))
                return fail(p, "invalid retention '%s': expected days (0 keeps everything)", v);
        c->retention_days = x / 86400;
        return 0;
}

static int d_snaplen(Parser *p, NacctConfig *c, char *v)
{
        uint64_t x;

        if (parse_number(p, "snaplen", v, 96, 262144, &x) < 0)
                return -EINVAL;
        c->snaplen = (uint32_t)x;
        return 0;
}

static int d_capturebuffer(Parser *p, NacctConfig *c, char *v)
{
        uint64_t x, factor = 1;
        char num[32];
        size_t len = strlen(v);

        if (len > 0 && len < sizeof(num)) {
                memcpy(num, v, len + 1);
                switch (toupper((unsigned char)num[len - 1])) {
                case 'K':
                        factor = 1024;
                        break;
                case 'M':
                        factor = 1024 * 1024;
                        break;
                case 'G':
                        factor = 1024 * 1024 * 1024;
                        break;
                }
                if (factor > 1)
                        num[len - 1] = '\0';
                if (parse_uint64(num, &x) >= 0 && x <= (1ULL << 30) / factor &&
                    x * factor >= 65536) {
                        c->capture_buffer = x * factor;
                        return 0;
                }
        }
        return fail(p, "invalid capturebuffer '%s': expected bytes from 64K to 1G", v);
}

static int d_maxflows(Parser *p, NacctConfig *c, char *v)
{
        uint64_t x;

        if (parse_number(p, "maxflows", v, 1000, 100000000, &x) < 0)
                return -EINVAL;
        c->max_flows = (uint32_t)x;
        return 0;
}

static int d_maxcaptures(Parser *p, NacctConfig *c, char *v)
{
        uint64_t x;

        if (parse_number(p, "maxcaptures", v, 1, 4096, &x) < 0)
                return -EINVAL;
        c->max_captures = (uint32_t)x;
        return 0;
}

static const Directive directives[] = {
        {"flush", d_flush},
        {"fdelay", d_fdelay},
        {"file", d_file},
        {"dumpfile", d_dumpfile},
        {"debugfile", d_debugfile},
        {"debug", d_debug},
        {"errdelay", d_errdelay},
        {"ignoremask", d_ignoremask},
        {"ignorenet", d_ignorenet},
        {"dontignore", d_dontignore},
        {"notdev", d_notdev},
        {"iflimit", d_iflimit},
        {"hostlimit", d_hostlimit},
        {"device", d_device},
        {"headers", d_headers},
        {"dynamicip", d_dynamicip},
        {"dynamicnet", d_dynamicnet},
        {"exclude-name-lookup", d_exclude},
        {"line", d_line},
        {"disable", d_disable},
        {"masqif", d_masqif},
        /* Ours. */
        {"activetimeout", d_activetimeout},
        {"bin", d_bin},
        {"retention", d_retention},
        {"snaplen", d_snaplen},
        {"capturebuffer", d_capturebuffer},
        {"maxflows", d_maxflows},
        {"maxcaptures", d_maxcaptures},
};

static void config_defaults(NacctConfig *c)
{
        c->flush_sec = DEFAULT_FLUSH;
        c->fdelay_sec = DEFAULT_FDELAY;
        c->errdelay = DEFAULT_ERRDELAY;
        memset(c->ignoremask, 0xff, sizeof(c->ignoremask));
        c->active_sec = DEFAULT_ACTIVE;
        c->bin_sec = DEFAULT_BIN;
        c->retention_days = DEFAULT_RETENTION_DAYS;
        c->snaplen = DEFAULT_SNAPLEN;
        c->capture_buffer = DEFAULT_CAPTURE_BUFFER;
        c->max_flows = DEFAULT_MAX_FLOWS;
        c->max_captures = DEFAULT_MAX_CAPTURES;
}

static void parse_line(Parser *p, NacctConfig *c, char *line)
{
        char *hash, *end, *keyword, *value;
        const Directive *d = NULL;

        hash = strchr(line, '#');
        if (hash)
                *hash = '\0';
        line += strspn(line, " \t");
        end = line + strlen(line);
        while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                *--end = '\0';
        if (*line == '\0')
                return;
        keyword = split_word(line, &value);
        for (size_t i = 0; i < ELEMENTSOF(directives); i++)
                if (strcasecmp(keyword, directives[i].keyword) == 0) {
                        d = &directives[i];
                        break;
                }
        if (!d) {
                char shown[64];

                /* The keyword is the admin's text: no control characters into the message. */
                snprintf(shown, sizeof(shown), "%s", keyword);
                for (char *q = shown; *q; q++)
                        if ((unsigned char)*q < 0x20 || *q == 0x7f)
                                *q = '?';
                (void)fail(p, "unknown keyword '%s'", shown);
                return;
        }
        if (*value == '\0') {
                (void)fail(p, "'%s' needs a value", d->keyword);
                return;
        }
        (void)d->parse(p, c, value);
}

/* file, dumpfile (and its temporary dumpfile.new) and debugfile must be different files: the
 * log recovered into itself and then removed as a dump was the original's way to lose it. */
static void config_check_names(Parser *p, const NacctConfig *c)
{
        _cleanup_free_ char *tmp = NULL;

        if (c->file && c->dumpfile && streq(c->file, c->dumpfile))
                fatal(p, c->dumpfile_line, "dumpfile '%s' is the log file named in line %u",
                      c->dumpfile, c->file_line);
        if (c->file && c->debugfile && streq(c->file, c->debugfile))
                fatal(p, c->debugfile_line, "debugfile '%s' is the log file named in line %u",
                      c->debugfile, c->file_line);
        if (c->dumpfile && c->debugfile && streq(c->dumpfile, c->debugfile))
                fatal(p, c->debugfile_line, "debugfile '%s' is the dumpfile named in line %u",
                      c->debugfile, c->dumpfile_line);
        if (c->dumpfile && asprintf(&tmp, "%s.new", c->dumpfile) >= 0) {
                if (c->file && streq(c->file, tmp))
                        fatal(p, c->file_line,
                              "file '%s' is the temporary file of the dumpfile in line %u", c->file,
                              c->dumpfile_line);
                if (c->debugfile && streq(c->debugfile, tmp))
                        fatal(p, c->debugfile_line,
                              "debugfile '%s' is the temporary file of the dumpfile in line %u",
                              c->debugfile, c->dumpfile_line);
        }
}

int nacct_config_parse(const char *path, const char *text, size_t len, NacctConfigReport *report,
                       NacctConfig **ret)
{
        _cleanup_(nacct_config_freep) NacctConfig *c = NULL;
        NacctConfigReport dummy;
        Parser p = {.report = report ?: &dummy};
        const char *s = text, *end = text + len;

        *p.report = (NacctConfigReport){};
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        config_defaults(c);
        c->path = strdup(path);
        if (!c->path)
                return -ENOMEM;
        if (memchr(text, '\0', len)) {
                fatal(&p, 0, "the file contains a NUL byte: not a naccttab");
                return -EINVAL;
        }

        while (s < end) {
                const char *nl = memchr(s, '\n', (size_t)(end - s));
                size_t l = nl ? (size_t)(nl - s) : (size_t)(end - s);
                char buf[NACCT_CONFIG_LINE_MAX + 1];

                p.line++;
                if (l > NACCT_CONFIG_LINE_MAX)
                        (void)fail(&p, "line longer than %d bytes", NACCT_CONFIG_LINE_MAX);
                else {
                        memcpy(buf, s, l);
                        buf[l] = '\0';
                        parse_line(&p, c, buf);
                }
                s += l + (nl ? 1 : 0);
        }
        p.line = 0;
        if (!c->file)
                fatal(&p, 0, "no valid 'file' directive: the log file is required");
        config_check_names(&p, c);
        if (c->dynamicip && c->dynamicnet4.family == 0 && c->dynamicnet6.family == 0)
                notice(&p, "'dynamicip' without 'dynamicnet': no address will be looked up");
        if (c->n_lines > 0 && c->dynamicip)
                notice(&p, "'line' takes precedence over 'dynamicip' on the interfaces it names");
        if (p.report->n_errors > 0)
                return -EINVAL;
        *ret = TAKE_PTR(c);
        return 0;
}

const char *nacct_strerror_file(int r)
{
        if (r == -NACCT_ENOTREG)
                return "Not a regular file";
        return strerror(r < 0 ? -r : r);
}

int nacct_open_regular(const char *path, int flags, int *ret_fd)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        /* O_NONBLOCK: opening a FIFO without a reader (or writer) must not hang the daemon; it
         * does not change how a regular file is read or written. */
        fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);
        if (fd < 0)
                return errno == ENXIO ? -NACCT_ENOTREG : negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -NACCT_ENOTREG;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static const char *file_kind(mode_t m)
{
        if (S_ISDIR(m))
                return "a directory";
        if (S_ISFIFO(m))
                return "a FIFO";
        if (S_ISCHR(m))
                return "a character device";
        if (S_ISBLK(m))
                return "a block device";
        if (S_ISSOCK(m))
                return "a socket";
        return "not a regular file";
}

/* The path with its directory resolved (the file itself may not exist yet), for comparisons. */
static char *path_canonical(const char *path)
{
        _cleanup_free_ char *dir = NULL, *rdir = NULL;
        const char *slash = strrchr(path, '/');
        char *r;

        r = realpath(path, NULL);
        if (r)
                return r;
        if (!slash)
                return strdup(path);
        dir = strndup(path, (size_t)(slash - path));
        if (!dir)
                return NULL;
        rdir = realpath(isempty(dir) ? "/" : dir, NULL);
        if (!rdir)
                return strdup(path);
        if (asprintf(&r, "%s/%s", streq(rdir, "/") ? "" : rdir, slash + 1) < 0)
                return NULL;
        return r;
}

typedef struct FileCheck {
        const char *what;
        const char *path;
        unsigned line;
        char *canonical;
        bool exists;
        struct stat st;
} FileCheck;

int nacct_config_check_files(const NacctConfig *c, NacctConfigReport *report)
{
        FileCheck f[3] = {
                {"file", c->file, c->file_line},
                {"dumpfile", c->dumpfile, c->dumpfile_line},
                {"debugfile", c->debugfile, c->debugfile_line},
        };
        size_t errors = report->n_errors;

        for (size_t i = 0; i < ELEMENTSOF(f); i++) {
                if (!f[i].path)
                        continue;
                f[i].canonical = path_canonical(f[i].path);
                f[i].exists = stat(f[i].path, &f[i].st) >= 0;
                if (!f[i].exists)
                        continue;
                if (i == 2 && S_ISCHR(f[i].st.st_mode) && streq(f[i].canonical ?: "", "/dev/null"))
                        continue;
                if (!S_ISREG(f[i].st.st_mode)) {
                        report_add(report, NACCT_CONFIG_ERROR, f[i].line,
                                   "%s '%s' is %s, expected a regular file", f[i].what, f[i].path,
                                   file_kind(f[i].st.st_mode));
                        f[i].exists = false;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                for (size_t k = i + 1; k < ELEMENTSOF(f); k++) {
                        bool same;

                        if (!f[i].path || !f[k].path)
                                continue;
                        same = (f[i].canonical && f[k].canonical &&
                                streq(f[i].canonical, f[k].canonical)) ||
                               (f[i].exists && f[k].exists && f[i].st.st_dev == f[k].st.st_dev &&
                                f[i].st.st_ino == f[k].st.st_ino);
                        /* The parser already said so when the names are equal. */
                        if (same && !streq(f[i].path, f[k].path))
                                report_add(report, NACCT_CONFIG_ERROR, f[k].line,
                                           "%s '%s' is the same file as the %s '%s' in line %u",
                                           f[k].what, f[k].path, f[i].what, f[i].path, f[i].line);
                }
        if (f[1].exists && S_ISREG(f[1].st.st_mode)) {
                int r = nacct_dump_is_ours(c->dumpfile);

                if (r == 0)
                        report_add(report, NACCT_CONFIG_ERROR, c->dumpfile_line,
                                   "dumpfile '%s' exists and was not written by nacctd; nacctd "
                                   "would replace it",
                                   c->dumpfile);
                else if (r < 0 && r != -ENOENT)
                        report_add(report, NACCT_CONFIG_ERROR, c->dumpfile_line,
                                   "cannot read dumpfile '%s': %s", c->dumpfile,
                                   nacct_strerror_file(r));
        }
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                free(f[i].canonical);
        return report->n_errors > errors ? -EINVAL : 0;
}

int nacct_config_load(const char *path, NacctConfigReport *report, NacctConfig **ret)
{
        _cleanup_(nacct_config_freep) NacctConfig *c = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        NacctConfigReport dummy;
        size_t len = 0;
        struct stat st;
        int r;

        if (!report)
                report = &dummy;
        *report = (NacctConfigReport){};
        r = nacct_open_regular(path, O_RDONLY, &fd);
        if (r < 0) {
                report_add(report, NACCT_CONFIG_ERROR, 0, "cannot open: %s",
                           nacct_strerror_file(r));
                return r;
        }
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_size > NACCT_CONFIG_FILE_MAX) {
                report_add(report, NACCT_CONFIG_ERROR, 0, "larger than %d bytes",
                           NACCT_CONFIG_FILE_MAX);
                return -EFBIG;
        }
        text = malloc((size_t)st.st_size + 1);
        if (!text)
                return -ENOMEM;
        while (len < (size_t)st.st_size) {
                ssize_t n = read(fd, text + len, (size_t)st.st_size - len);

                if (n < 0) {
                        r = negative_errno();
                        if (r == -EINTR)
                                continue;
                        report_add(report, NACCT_CONFIG_ERROR, 0, "read failed: %s", strerror(-r));
                        return r;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        text[len] = '\0';
        r = nacct_config_parse(path, text, len, report, &c);
        if (r < 0)
                return r;
        r = nacct_config_check_files(c, report);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

bool nacct_name_matches(char *const *patterns, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (streq(patterns[i], name) || fnmatch(patterns[i], name, 0) == 0)
                        return true;
        return false;
}

bool nacct_config_accounts_interface(const NacctConfig *c, const char *ifname)
{
        if (nacct_name_matches(c->notdev, c->n_notdev, ifname))
                return false;
        if (c->n_iflimit > 0 && !nacct_name_matches(c->iflimit, c->n_iflimit, ifname))
                return false;
        return true;
}

bool nacct_config_promisc_interface(const NacctConfig *c, const char *ifname)
{
        return nacct_name_matches(c->promisc, c->n_promisc, ifname);
}

const char *nacct_config_line_for(const NacctConfig *c, const char *ifname)
{
        for (size_t i = 0; i < c->n_lines; i++)
                if (streq(c->lines[i].ifname, ifname) ||
                    fnmatch(c->lines[i].ifname, ifname, 0) == 0)
                        return c->lines[i].tty;
        return NULL;
}
