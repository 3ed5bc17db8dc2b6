/* nacct-report-output.c - one column layout per kind; text from the network (user names,
 * interface names) is escaped for every format. The SVG chart is written by hand: bars per time
 * bucket, in and out stacked, labelled axes. */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "macro.h"
#include "utf8.h"

#include "nacct-report-output.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)

typedef enum ColType {
        COL_NAME,  /* row->name */
        COL_PROTO, /* protocol name of row->proto */
        COL_BYTES, /* an int64 field, human-readable in tables */
        COL_COUNT, /* an int64 field */
} ColType;

typedef struct Col {
        const char *key;
        ColType type;
        size_t offset;
} Col;

/* clang-format off */
#define NAME(k) {k, COL_NAME, 0}
#define BYTES(k, f) {k, COL_BYTES, offsetof(NrRow, f)}
#define COUNT(k, f) {k, COL_COUNT, offsetof(NrRow, f)}
#define DIRECTION                                                                                  \
        BYTES("bytes", bytes), BYTES("bytes_in", bytes_in), BYTES("bytes_out", bytes_out),         \
                COUNT("packets_in", packets_in), COUNT("packets_out", packets_out)
#define TOTAL BYTES("bytes", bytes), COUNT("packets", packets)

static const Col layouts[_NR_KIND_MAX][9] = {
        [NR_HOSTS] = {NAME("host"), DIRECTION},
        [NR_USERS] = {NAME("user"), DIRECTION},
        [NR_INTERFACES] = {NAME("interface"), DIRECTION},
        [NR_PROTOCOLS] = {{"protocol", COL_PROTO, 0}, COUNT("proto", proto), DIRECTION},
        [NR_PORTS] = {{"protocol", COL_PROTO, 0}, COUNT("port", port), DIRECTION},
        [NR_DAILY] = {NAME("day"), TOTAL},
        [NR_MONTHLY] = {NAME("month"), TOTAL},
        [NR_TIMELINE] = {NAME("time"), TOTAL},
        [NR_HOST] = {NAME("time"), DIRECTION},
        [NR_USER] = {NAME("time"), DIRECTION},
};
/* clang-format on */

const char *nr_protocol_name(int64_t proto)
{
        static const struct {
                int64_t n;
                const char *name;
        } known[] = {{1, "icmp"},  {2, "igmp"},  {6, "tcp"},    {17, "udp"},   {33, "dccp"},
                     {41, "ipv6"}, {47, "gre"},  {50, "esp"},   {51, "ah"},    {58, "ipv6-icmp"},
                     {89, "ospf"}, {103, "pim"}, {112, "vrrp"}, {132, "sctp"}, {136, "udplite"}};

        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (known[i].n == proto)
                        return known[i].name;
        return NULL;
}

const char *nr_format_bytes(int64_t v, char *buf, size_t size)
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double d = (double)v;
        size_t u = 0;

        if (v < 1024) {
                snprintf(buf, size, "%" PRId64 " B", v);
                return buf;
        }
        while (d >= 1024 && u + 1 < ELEMENTSOF(units)) {
                d /= 1024;
                u++;
        }
        snprintf(buf, size, "%.1f %s", d, units[u]);
        return buf;
}

static int64_t field(const Col *c, const NrRow *r)
{
        return *(const int64_t *)((const char *)r + c->offset);
}

/* The text of a cell; buf for numbers and escapes. */
static const char *cell(const Col *c, const NrRow *r, bool human, char *buf, size_t size)
{
        const char *p;

        switch (c->type) {
        case COL_NAME:
                if (!r->name)
                        return "";
                if (utf8_is_printable_n(r->name, strlen(r->name)))
                        return r->name;
                /* Not printable: hex-escape every byte that is not plain ASCII. */
                {
                        size_t o = 0;

                        for (const unsigned char *s = (const unsigned char *)r->name;
                             *s && o + 5 < size; s++)
                                o += (size_t)(*s >= 0x20 && *s < 0x7f
                                                      ? snprintf(buf + o, size - o, "%c", *s)
                                                      : snprintf(buf + o, size - o, "\\x%02x", *s));
                        return buf;
                }
        case COL_PROTO:
                p = nr_protocol_name(r->proto);
                if (p)
                        return p;
                snprintf(buf, size, "%" PRId64, r->proto);
                return buf;
        case COL_BYTES:
                if (human)
                        return nr_format_bytes(field(c, r), buf, size);
                __attribute__((fallthrough));
        case COL_COUNT:
                snprintf(buf, size, "%" PRId64, field(c, r));
                return buf;
        }
        return "";
}

static size_t ncols(NrKind kind)
{
        size_t n = 0;

        while (n < ELEMENTSOF(layouts[kind]) && layouts[kind][n].key)
                n++;
        return n;
}

static int output_table(FILE *f, NrKind kind, const NrRows *rows)
{
        const Col *cols = layouts[kind];
        size_t n = ncols(kind), width[9] = {};
        char buf[256];

        for (size_t c = 0; c < n; c++)
                width[c] = strlen(cols[c].key);
        for (size_t i = 0; i < rows->n; i++)
                for (size_t c = 0; c < n; c++)
                        width[c] =
                                MAX(width[c],
                                    strlen(cell(&cols[c], &rows->rows[i], true, buf, sizeof(buf))));
        for (size_t c = 0; c < n; c++) {
                char up[32];
                size_t l = strlen(cols[c].key);

                for (size_t k = 0; k <= l; k++)
                        up[k] = (char)(cols[c].key[k] >= 'a' && cols[c].key[k] <= 'z'
                                               ? cols[c].key[k] - 32
                                               : cols[c].key[k]);
                fprintf(f, "%s%-*s", c ? "  " : "", c + 1 < n ? (int)width[c] : 0, up);
        }
        fputc('\n', f);
        for (size_t i = 0; i < rows->n; i++) {
                for (size_t c = 0; c < n; c++) {
                        const char *t = cell(&cols[c], &rows->rows[i], true, buf, sizeof(buf));
                        bool right = cols[c].type == COL_BYTES || cols[c].type == COL_COUNT;

                        if (right)
                                fprintf(f, "%s%*s", c ? "  " : "", (int)width[c], t);
                        else
                                fprintf(f, "%s%-*s", c ? "  " : "", c + 1 < n ? (int)width[c] : 0,
                                        t);
                }
                fputc('\n', f);
        }
        return ferror(f) ? -EIO : 0;
}

static void csv_field(FILE *f, const char *s)
{
        if (!strpbrk(s, ",\"\r\n")) {
                fputs(s, f);
                return;
        }
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '"')
                        fputc('"', f);
                fputc(*s, f);
        }
        fputc('"', f);
}

static int output_csv(FILE *f, NrKind kind, const NrRows *rows)
{
        const Col *cols = layouts[kind];
        size_t n = ncols(kind);
        char buf[256];

        for (size_t c = 0; c < n; c++)
                fprintf(f, "%s%s", c ? "," : "", cols[c].key);
        fputs("\r\n", f);
        for (size_t i = 0; i < rows->n; i++) {
                for (size_t c = 0; c < n; c++) {
                        if (c)
                                fputc(',', f);
                        /* Names go out as they are (quoted), not hex-escaped. */
                        csv_field(f, cols[c].type == COL_NAME ? strempty(rows->rows[i].name)
                                                              : cell(&cols[c], &rows->rows[i],
                                                                     false, buf, sizeof(buf)));
                }
                fputs("\r\n", f);
        }
        return ferror(f) ? -EIO : 0;
}

static int output_json(FILE *f, NrKind kind, const NrRows *rows)
{
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();
        const Col *cols = layouts[kind];
        size_t n = ncols(kind);
        char buf[256];

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < rows->n; i++) {
                json_object *o = json_object_new_object();
                const NrRow *r = &rows->rows[i];

                if (!o || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                for (size_t c = 0; c < n; c++) {
                        json_object *v;

                        if (cols[c].type == COL_NAME)
                                v = json_object_new_string(strempty(r->name));
                        else if (cols[c].type == COL_PROTO)
                                v = json_object_new_string(
                                        cell(&cols[c], r, false, buf, sizeof(buf)));
                        else
                                v = json_object_new_int64(field(&cols[c], r));
                        if (!v)
                                return -ENOMEM;
                        json_object_object_add(o, cols[c].key, v);
                }
                if (nr_kind_is_series(kind))
                        json_object_object_add(o, "start", json_object_new_int64(r->time));
        }
        fputs(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
                                                        JSON_C_TO_STRING_NOSLASHESCAPE),
              f);
        fputc('\n', f);
        return ferror(f) ? -EIO : 0;
}

static void xml_text(FILE *f, const char *s)
{
        for (; *s; s++)
                switch (*s) {
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '&':
                        fputs("&amp;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                default:
                        if ((unsigned char)*s >= 0x20)
                                fputc(*s, f);
                }
}

/* A "nice" axis maximum: 1, 2 or 5 times a power of 1024-ish steps, above v. */
static double nice_max(double v)
{
        double p = 1;

        if (v <= 0)
                return 1;
        while (p * 10 <= v)
                p *= 10;
        if (v <= p)
                return p;
        if (v <= 2 * p)
                return 2 * p;
        if (v <= 5 * p)
                return 5 * p;
        return 10 * p;
}

#define SVG_W 900
#define SVG_H 360
#define SVG_LEFT 90
#define SVG_RIGHT 20
#define SVG_TOP 40
#define SVG_BOTTOM 70

/* A name safe for XML: non-printable text comes out hex-escaped, as in the table. */
static const char *svg_name(const NrRow *r, char *buf, size_t size)
{
        static const Col name = NAME("name");

        return cell(&name, r, false, buf, size);
}

static int output_svg(FILE *f, NrKind kind, const NrRows *rows, const char *title)
{
        char nbuf[256];
        const double pw = SVG_W - SVG_LEFT - SVG_RIGHT, ph = SVG_H - SVG_TOP - SVG_BOTTOM;
        bool dir = nr_kind_has_direction(kind);
        double max = 0, ymax, bw;
        size_t label_every;
        char buf[64];

        if (!nr_kind_is_series(kind))
                return -EOPNOTSUPP;
        for (size_t i = 0; i < rows->n; i++)
                max = MAX(max, (double)rows->rows[i].bytes);
        ymax = nice_max(max);
        bw = rows->n ? pw / (double)rows->n : pw;
        label_every = rows->n > 12 ? (rows->n + 11) / 12 : 1;

        fprintf(f,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
                SVG_W, SVG_H, SVG_W, SVG_H);
        fputs("<title>", f);
        xml_text(f, title);
        fputs("</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", f);
        fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">", SVG_LEFT);
        xml_text(f, title);
        fputs("</text>\n", f);

        /* Y axis: 5 gridlines with byte units. */
        for (int i = 0; i <= 5; i++) {
                double y = SVG_TOP + ph - ph * i / 5.0;

                fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                        SVG_LEFT, y, SVG_W - SVG_RIGHT, y);
                fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                        SVG_LEFT - 6, y + 4,
                        nr_format_bytes((int64_t)(ymax * i / 5.0), buf, sizeof(buf)));
        }
        /* Bars: in at the bottom, out stacked on it (or the total). */
        for (size_t i = 0; i < rows->n; i++) {
                const NrRow *r = &rows->rows[i];
                double x = SVG_LEFT + bw * (double)i + (bw > 4 ? 1 : 0);
                double w = bw > 4 ? bw - 2 : bw;
                double h_in = ph * (double)(dir ? r->bytes_in : r->bytes) / ymax;
                double h_out = dir ? ph * (double)r->bytes_out / ymax : 0;

                fprintf(f,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"#4e79a7\"><title>",
                        x, SVG_TOP + ph - h_in, w, h_in);
                xml_text(f, svg_name(r, nbuf, sizeof(nbuf)));
                fprintf(f, ": %s%s</title></rect>\n", dir ? "in " : "",
                        nr_format_bytes(dir ? r->bytes_in : r->bytes, buf, sizeof(buf)));
                if (dir) {
                        fprintf(f,
                                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                                "fill=\"#f28e2b\"><title>",
                                x, SVG_TOP + ph - h_in - h_out, w, h_out);
                        xml_text(f, svg_name(r, nbuf, sizeof(nbuf)));
                        fprintf(f, ": out %s</title></rect>\n",
                                nr_format_bytes(r->bytes_out, buf, sizeof(buf)));
                }
                if (i % label_every == 0) {
                        double lx = x + w / 2;

                        fprintf(f,
                                "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" "
                                "transform=\"rotate(-35 %.1f %d)\">",
                                lx, SVG_TOP + (int)ph + 14, lx, SVG_TOP + (int)ph + 14);
                        xml_text(f, svg_name(r, nbuf, sizeof(nbuf)));
                        fputs("</text>\n", f);
                }
        }
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", SVG_LEFT,
                SVG_TOP + (int)ph, SVG_W - SVG_RIGHT, SVG_TOP + (int)ph);
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", SVG_LEFT,
                SVG_TOP, SVG_LEFT, SVG_TOP + (int)ph);
        if (dir)
                fprintf(f,
                        "<rect x=\"%d\" y=\"12\" width=\"12\" height=\"12\" fill=\"#4e79a7\"/>"
                        "<text x=\"%d\" y=\"22\">in</text>\n"
                        "<rect x=\"%d\" y=\"12\" width=\"12\" height=\"12\" fill=\"#f28e2b\"/>"
                        "<text x=\"%d\" y=\"22\">out</text>\n",
                        SVG_W - 130, SVG_W - 114, SVG_W - 80, SVG_W - 64);
        if (rows->n == 0)
                fprintf(f,
                        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no traffic in this "
                        "period</text>\n",
                        SVG_LEFT + (int)pw / 2, SVG_TOP + (int)ph / 2);
        fputs("</svg>\n", f);
        return ferror(f) ? -EIO : 0;
}

int nr_output(FILE *f, NrFormat format, NrKind kind, const NrRows *rows, const char *title)
{
        switch (format) {
        case NR_FORMAT_TABLE:
                return output_table(f, kind, rows);
        case NR_FORMAT_CSV:
                return output_csv(f, kind, rows);
        case NR_FORMAT_JSON:
                return output_json(f, kind, rows);
        case NR_FORMAT_SVG:
                return output_svg(f, kind, rows, title ?: "traffic");
        }
        return -EINVAL;
}
