/* trackalert-json.c - a JSON reader that accepts and rejects exactly what the original's json11
 * does, with json11's error messages, and decodes strings in place: no allocation. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "trackalert-json.h"

void ta_json_init(TaJson *j, char *text, size_t len)
{
        *j = (TaJson){.text = text, .len = len};
}

static int fail(TaJson *j, const char *fmt, ...) _printf_(2, 3);
static int fail(TaJson *j, const char *fmt, ...)
{
        va_list ap;

        if (!j->failed) {
                va_start(ap, fmt);
                vsnprintf(j->error, sizeof(j->error), fmt, ap);
                va_end(ap);
                j->failed = true;
        }
        return -EBADMSG;
}

/* json11's esc(): "'c' (99)" for printable characters, else "(n)" of the signed char. */
static const char *esc(char c, char buf[static 16])
{
        uint8_t u = (uint8_t)c;

        if (u >= 0x20 && u <= 0x7f)
                snprintf(buf, 16, "'%c' (%d)", c, c);
        else
                snprintf(buf, 16, "(%d)", c);
        return buf;
}

static bool in_range(long x, long lo, long hi)
{
        return x >= lo && x <= hi;
}

static char at(const TaJson *j, size_t i)
{
        return i < j->len ? j->text[i] : '\0';
}

static int next_token(TaJson *j, char *ret)
{
        while (j->i < j->len && strchr(" \r\n\t", j->text[j->i]) && j->text[j->i])
                j->i++;
        if (j->i == j->len)
                return fail(j, "unexpected end of input");
        *ret = j->text[j->i++];
        return 0;
}

static void encode_utf8(long pt, char *out, size_t *w)
{
        if (pt < 0)
                return;
        if (pt < 0x80)
                out[(*w)++] = (char)pt;
        else if (pt < 0x800) {
                out[(*w)++] = (char)((pt >> 6) | 0xC0);
                out[(*w)++] = (char)((pt & 0x3F) | 0x80);
        } else if (pt < 0x10000) {
                out[(*w)++] = (char)((pt >> 12) | 0xE0);
                out[(*w)++] = (char)(((pt >> 6) & 0x3F) | 0x80);
                out[(*w)++] = (char)((pt & 0x3F) | 0x80);
        } else {
                out[(*w)++] = (char)((pt >> 18) | 0xF0);
                out[(*w)++] = (char)(((pt >> 12) & 0x3F) | 0x80);
                out[(*w)++] = (char)(((pt >> 6) & 0x3F) | 0x80);
                out[(*w)++] = (char)((pt & 0x3F) | 0x80);
        }
}

/* After the opening quote. The decoded text never outgrows the source (an escape of n bytes
 * gives at most n - 2 bytes), so it is written over the source and NUL-terminated at the
 * latest where the closing quote was. */
static int parse_string(TaJson *j, char **ret, size_t *ret_len)
{
        char *out = j->text + j->i, b[16];
        size_t w = 0;
        long last = -1; /* an escaped code point not written yet (maybe a lead surrogate) */

        for (;;) {
                char ch, hex[5] = {};
                long cp;

                if (j->i == j->len)
                        return fail(j, "unexpected end of input in string");
                ch = j->text[j->i++];
                if (ch == '"') {
                        encode_utf8(last, out, &w);
                        out[w] = '\0';
                        *ret = out;
                        *ret_len = w;
                        return 0;
                }
                if (in_range(ch, 0, 0x1f))
                        return fail(j, "unescaped %s in string", esc(ch, b));
                if (ch != '\\') {
                        encode_utf8(last, out, &w);
                        last = -1;
                        out[w++] = ch;
                        continue;
                }
                if (j->i == j->len)
                        return fail(j, "unexpected end of input in string");
                ch = j->text[j->i++];
                if (ch == 'u') {
                        size_t n = MIN((size_t)4, j->len - j->i);

                        memcpy(hex, j->text + j->i, n);
                        if (n < 4)
                                return fail(j, "bad \\u escape: %s", hex);
                        for (size_t k = 0; k < 4; k++)
                                if (!in_range(hex[k], 'a', 'f') && !in_range(hex[k], 'A', 'F') &&
                                    !in_range(hex[k], '0', '9'))
                                        return fail(j, "bad \\u escape: %s", hex);
                        cp = strtol(hex, NULL, 16);
                        if (in_range(last, 0xD800, 0xDBFF) && in_range(cp, 0xDC00, 0xDFFF)) {
                                encode_utf8((((last - 0xD800) << 10) | (cp - 0xDC00)) + 0x10000,
                                            out, &w);
                                last = -1;
                        } else {
                                encode_utf8(last, out, &w);
                                last = cp;
                        }
                        j->i += 4;
                        continue;
                }
                encode_utf8(last, out, &w);
                last = -1;
                switch (ch) {
                case 'b':
                        out[w++] = '\b';
                        break;
                case 'f':
                        out[w++] = '\f';
                        break;
                case 'n':
                        out[w++] = '\n';
                        break;
                case 'r':
                        out[w++] = '\r';
                        break;
                case 't':
                        out[w++] = '\t';
                        break;
                case '"':
                case '\\':
                case '/':
                        out[w++] = ch;
                        break;
                default:
                        return fail(j, "invalid escape character %s", esc(ch, b));
                }
        }
}

static bool is_digit(char c)
{
        return in_range(c, '0', '9');
}

static int parse_number(TaJson *j, double *ret)
{
        size_t start = j->i;
        char b[16], saved;

        if (at(j, j->i) == '-')
                j->i++;
        if (at(j, j->i) == '0') {
                j->i++;
                if (is_digit(at(j, j->i)))
                        return fail(j, "leading 0s not permitted in numbers");
        } else if (in_range(at(j, j->i), '1', '9')) {
                j->i++;
                while (is_digit(at(j, j->i)))
                        j->i++;
        } else
                return fail(j, "invalid %s in number", esc(at(j, j->i), b));
        if (at(j, j->i) == '.') {
                j->i++;
                if (!is_digit(at(j, j->i)))
                        return fail(j, "at least one digit required in fractional part");
                while (is_digit(at(j, j->i)))
                        j->i++;
        }
        if (at(j, j->i) == 'e' || at(j, j->i) == 'E') {
                j->i++;
                if (at(j, j->i) == '+' || at(j, j->i) == '-')
                        j->i++;
                if (!is_digit(at(j, j->i)))
                        return fail(j, "at least one digit required in exponent");
                while (is_digit(at(j, j->i)))
                        j->i++;
        }
        /* strtod() on exactly the checked span (it would take "0x1" or "inf" further). The
         * daemon never calls setlocale(), so the decimal point is '.'. */
        saved = j->text[j->i];
        j->text[j->i] = '\0';
        *ret = strtod(j->text + start, NULL);
        j->text[j->i] = saved;
        return 0;
}

static int expect(TaJson *j, const char *word)
{
        size_t n = strlen(word);
        char got[8] = {};

        j->i--;
        if (j->len - j->i >= n && memcmp(j->text + j->i, word, n) == 0) {
                j->i += n;
                return 0;
        }
        memcpy(got, j->text + j->i, MIN(n, j->len - j->i));
        return fail(j, "parse error: expected %s, got %s", word, got);
}

int ta_json_value(TaJson *j, unsigned depth, TaJsonValue *ret)
{
        char ch = 0, b[16];
        int r;

        if (j->failed)
                return -EBADMSG;
        *ret = (TaJsonValue){.depth = depth};
        if (depth > TA_JSON_DEPTH_MAX)
                return fail(j, "exceeded maximum nesting depth");
        r = next_token(j, &ch);
        if (r < 0)
                return r;
        if (ch == '-' || is_digit(ch)) {
                j->i--;
                ret->type = TA_JSON_NUMBER;
                return parse_number(j, &ret->number);
        }
        switch (ch) {
        case 't':
                ret->type = TA_JSON_BOOL;
                ret->boolean = true;
                return expect(j, "true");
        case 'f':
                ret->type = TA_JSON_BOOL;
                return expect(j, "false");
        case 'n':
                return expect(j, "null");
        case '"':
                ret->type = TA_JSON_STRING;
                return parse_string(j, &ret->string, &ret->length);
        case '{':
                ret->type = TA_JSON_OBJECT;
                return 0;
        case '[':
                ret->type = TA_JSON_ARRAY;
                return 0;
        default:
                return fail(j, "expected value, got %s", esc(ch, b));
        }
}

int ta_json_array_next(TaJson *j, const TaJsonValue *array, bool first, TaJsonValue *ret)
{
        char ch = 0, b[16];
        int r;

        if (j->failed)
                return -EBADMSG;
        r = next_token(j, &ch);
        if (r < 0)
                return r;
        if (ch == ']')
                return 0;
        if (!first) {
                if (ch != ',')
                        return fail(j, "expected ',' in list, got %s", esc(ch, b));
                r = next_token(j, &ch);
                if (r < 0)
                        return r;
        }
        j->i--;
        r = ta_json_value(j, array->depth + 1, ret);
        return r < 0 ? r : 1;
}

int ta_json_object_next(TaJson *j, const TaJsonValue *object, bool first, char **ret_key,
                        TaJsonValue *ret)
{
        char ch = 0, b[16];
        size_t len;
        int r;

        if (j->failed)
                return -EBADMSG;
        r = next_token(j, &ch);
        if (r < 0)
                return r;
        if (ch == '}' && first)
                return 0;
        if (!first) {
                if (ch == '}')
                        return 0;
                if (ch != ',')
                        return fail(j, "expected ',' in object, got %s", esc(ch, b));
                r = next_token(j, &ch);
                if (r < 0)
                        return r;
        }
        if (ch != '"')
                return fail(j, "expected '\"' in object, got %s", esc(ch, b));
        r = parse_string(j, ret_key, &len);
        if (r < 0)
                return r;
        r = next_token(j, &ch);
        if (r < 0)
                return r;
        if (ch != ':')
                return fail(j, "expected ':' in object, got %s", esc(ch, b));
        r = ta_json_value(j, object->depth + 1, ret);
        return r < 0 ? r : 1;
}

int ta_json_skip(TaJson *j, const TaJsonValue *v)
{
        TaJsonValue e;
        char *key;
        int r;

        if (v->type == TA_JSON_ARRAY) {
                for (bool first = true; (r = ta_json_array_next(j, v, first, &e)) > 0;
                     first = false)
                        if ((r = ta_json_skip(j, &e)) < 0)
                                return r;
                return r;
        }
        if (v->type == TA_JSON_OBJECT) {
                for (bool first = true; (r = ta_json_object_next(j, v, first, &key, &e)) > 0;
                     first = false)
                        if ((r = ta_json_skip(j, &e)) < 0)
                                return r;
                return r;
        }
        return j->failed ? -EBADMSG : 0;
}

int ta_json_end(TaJson *j)
{
        char b[16];

        if (j->failed)
                return -EBADMSG;
        while (j->i < j->len && j->text[j->i] && strchr(" \r\n\t", j->text[j->i]))
                j->i++;
        if (j->i != j->len)
                return fail(j, "unexpected trailing %s", esc(j->text[j->i], b));
        return 0;
}
