/* test-smtp.c - smtp_body_encode(): quoted-printable that a relay accepts (no line over 76
 * characters) and a mail reader decodes back to exactly the text given. */
#include <stdlib.h>
#include <string.h>

#include "smtp.h"
#include "test.h"

static int unhex(char c)
{
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* RFC 2045 6.7 decoding, strict: only what the encoder may write is accepted. */
static char *decode(const char *qp)
{
        char *out = malloc(strlen(qp) + 1), *o = out;

        for (const char *p = qp; *p; p++) {
                if (*p != '=') {
                        *o++ = *p;
                        continue;
                }
                if (p[1] == '\n') { /* soft line break */
                        p++;
                        continue;
                }
                ASSERT_TRUE(unhex(p[1]) >= 0 && unhex(p[2]) >= 0);
                *o++ = (char)(unhex(p[1]) * 16 + unhex(p[2]));
                p += 2;
        }
        *o = 0;
        return out;
}

static void check_text(const char *text)
{
        char *qp = smtp_body_encode(text), *back;
        size_t col = 0;

        ASSERT_TRUE(qp != NULL);
        for (const char *p = qp; *p; p++) {
                ASSERT_TRUE(*p == '\n' || (*p >= 32 && *p <= 126) || *p == '\t');
                col = *p == '\n' ? 0 : col + 1;
                ASSERT_TRUE(col <= 76);
                /* no white space at the end of a line: relays may strip it */
                if (p[1] == '\n' || p[1] == 0)
                        ASSERT_TRUE(*p != ' ' && *p != '\t');
        }
        back = decode(qp);
        ASSERT_STREQ(back, text);
        free(back);
        free(qp);
}

int main(void)
{
        char *long_line = malloc(5001);
        char *q;

        check_text("");
        check_text("plain text\nwith lines\n");
        check_text("a = b, 100% sure\n");
        check_text("trailing space \nand tab\t\n \n");
        check_text("Grüße aus Zürich — naïve ✓\n");
        check_text("\r\n.\n..leading dots\nFrom the start\n");
        for (int i = 0; i < 5000; i++)
                long_line[i] = "abc=é "[i % 6];
        long_line[5000] = 0;
        check_text(long_line);
        free(long_line);

        q = smtp_body_encode("x=y\n");
        ASSERT_STREQ(q, "x=3Dy\n");
        free(q);
        q = smtp_body_encode("end \n");
        ASSERT_STREQ(q, "end=20\n");
        free(q);
        return test_result();
}
