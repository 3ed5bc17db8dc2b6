/* test-html.c - the escaping writers, and the XSS payload corpus through each of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "test.h"

static char *render_txt(const char *s)
{
        Html h = HTML_INIT;
        html_txt(&h, s);
        return html_steal(&h, NULL);
}

static void test_txt(void)
{
        _cleanup_free_ char *a = render_txt("a<b>&\"'c");
        _cleanup_free_ char *b = render_txt("line1\nline2\ttab");
        _cleanup_free_ char *c = render_txt("\x01x\x7f\x1b[31m");
        _cleanup_free_ char *d = render_txt("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
        _cleanup_free_ char *e = render_txt("bad\xc3(\xff\xfe\xc0\xaf\xed\xa0\x80\xc2\x85");
        _cleanup_free_ char *f = render_txt("");

        ASSERT_STREQ(a, "a&lt;b&gt;&amp;&quot;&#39;c");
        ASSERT_STREQ(b, "line1\nline2\ttab");
        ASSERT_STREQ(c, "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd[31m");
        ASSERT_STREQ(d, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
        /* truncated sequence, invalid bytes, overlong '/', surrogate, C1 control (NEL) */
        ASSERT_STREQ(e, "bad\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
        ASSERT_STREQ(f, "");
}

static void test_attr_url(void)
{
        Html h = HTML_INIT;

        html_attr(&h, "x\"\ny'<");
        ASSERT_STREQ(html_str(&h), "x&quot;&#10;y&#39;&lt;");
        html_done(&h);

        html_url_arg(&h, "a b&c=d/é?#%");
        ASSERT_STREQ(html_str(&h), "a%20b%26c%3Dd%2F%C3%A9%3F%23%25");
        html_done(&h);

        html_url_path(&h, "/etc/post fix/main.cf");
        ASSERT_STREQ(html_str(&h), "/etc/post%20fix/main.cf");
        html_done(&h);

        html_raw(&h, "<a");
        html_attribute(&h, "title", "\"><b>");
        html_raw(&h, ">");
        ASSERT_STREQ(html_str(&h), "<a title=\"&quot;&gt;&lt;b&gt;\">");
        html_done(&h);
}

static void test_printf(void)
{
        Html h = HTML_INIT;
        long long big = -1234567890123LL;
        size_t z = 42;

        html_printf(&h, "<td class=\"%s\">%d %5u %lld %zu %x %c %% %.3s %.*s|%-4d|</td>", "a\"b",
                    -7, 12u, big, z, 255u, '<', "<<<<<", 2, "&&&&", 3);
        ASSERT_STREQ(html_str(&h), "<td class=\"a&quot;b\">-7    12 -1234567890123 42 ff &lt; % "
                                   "&lt;&lt;&lt; &amp;&amp;|3   |</td>");
        html_done(&h);

        const char *volatile null = NULL;
        html_printf(&h, "%s|%s", null, "");
        ASSERT_STREQ(html_str(&h), "|");
        html_done(&h);

        html_printf(&h, "%*d|%05ld|%hhu|%jd", 4, 7, 3L, 300, (intmax_t)-5);
        ASSERT_STREQ(html_str(&h), "   7|00003|44|-5");
        html_done(&h);
        ASSERT_EQ_INT(html_error(&h), 0);
}

static void test_growth(void)
{
        Html h = HTML_INIT;
        char *s;
        size_t len;

        for (int i = 0; i < 10000; i++)
                html_txt(&h, "<>");
        ASSERT_EQ_INT(h.len, 80000);
        ASSERT_EQ_INT(html_error(&h), 0);
        s = html_steal(&h, &len);
        ASSERT_EQ_INT(len, 80000);
        ASSERT_TRUE(strncmp(s, "&lt;&gt;&lt;", 12) == 0);
        free(s);
        ASSERT_TRUE(h.buf == NULL);
        s = html_steal(&h, &len);
        ASSERT_STREQ(s, "");
        free(s);
}

/* Every payload of the corpus, through every writer: no markup character survives. */
static void test_corpus(const char *path)
{
        FILE *f = fopen(path, "re");
        char line[4096];
        unsigned n = 0;

        ASSERT_TRUE(f);
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                Html t = HTML_INIT, a = HTML_INIT, u = HTML_INIT, p = HTML_INIT;

                line[strcspn(line, "\n")] = 0;
                html_txt(&t, line);
                html_attr(&a, line);
                html_url_arg(&u, line);
                html_printf(&p, "<p title=\"%s\">%s</p>", line, line);
                ASSERT_TRUE(!strpbrk(html_str(&t), "<>\"'"));
                ASSERT_TRUE(!strpbrk(html_str(&a), "<>\"'\n"));
                ASSERT_EQ_INT(strspn(html_str(&u),
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-._~%"),
                              u.len);
                /* exactly our own markup: two quotes, and the tags we wrote */
                ASSERT_TRUE(strncmp(html_str(&p), "<p title=\"", 10) == 0);
                ASSERT_TRUE(!strpbrk(html_str(&p) + 10, "'<") ||
                            strpbrk(html_str(&p) + 10, "<") == strstr(html_str(&p), "</p>"));
                ASSERT_TRUE(strstr(html_str(&p), "<script") == NULL);
                ASSERT_TRUE(strstr(html_str(&p), "<img") == NULL);
                html_done(&t);
                html_done(&a);
                html_done(&u);
                html_done(&p);
                n++;
        }
        fclose(f);
        ASSERT_TRUE(n >= 40);
}

int main(int argc, char **argv)
{
        test_txt();
        test_attr_url();
        test_printf();
        test_growth();
        if (argc > 1)
                test_corpus(argv[1]);
        else
                TEST_FAIL("usage: test-html CORPUS");
        return test_result();
}
