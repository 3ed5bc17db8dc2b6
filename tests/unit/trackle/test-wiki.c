/* test-wiki.c - the object-link parser and the wiki renderer (raw HTML never passes). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "trackled-wiki.h"

/* The links of s, written as "kind:target|label" lines (escaped ones with a leading '!'). */
static void links(const char *s, char *out, size_t size)
{
        size_t pos = 0, n = strlen(s), o = 0;
        WikiLink l;

        out[0] = 0;
        while (wiki_link_next(s, n, &pos, &l) && o < size) {
                char target[256];

                if (l.kind == WIKI_LINK_TICKET || l.kind == WIKI_LINK_SESSION)
                        snprintf(target, sizeof(target), "%" PRIi64, l.id);
                else
                        snprintf(target, sizeof(target), "%.*s", (int)l.target_len, s + l.target);
                o += snprintf(out + o, size - o, "%s%s:%s|%.*s;", l.escaped ? "!" : "",
                              wiki_link_kind_to_string(l.kind), target, (int)l.label_len,
                              s + l.label);
        }
}

#define CHECK_LINKS(text, expected)                                                                \
        do {                                                                                       \
                char _links[1024];                                                                 \
                links(text, _links, sizeof(_links));                                               \
                ASSERT_STREQ(_links, expected);                                                    \
        } while (0)

static void test_parser(void)
{
        CHECK_LINKS("see #12, ticket:7 and session:5.", "ticket:12|#12;ticket:7|ticket:7;"
                                                        "session:5|session:5;");
        CHECK_LINKS("wiki:MailmanSetup/Notes. [[Other Page]] [[Mail|the mail page]]",
                    "wiki:MailmanSetup/Notes|wiki:MailmanSetup/Notes;wiki:Mail|the mail page;");
        CHECK_LINKS("[[Name]] WikiStart and !NotLinked here", "wiki:Name|Name;"
                                                              "wiki:WikiStart|WikiStart;"
                                                              "!wiki:NotLinked|NotLinked;");
        CHECK_LINKS("milestone:1.2, file:/etc/postfix/main.cf. source:/etc/hosts)",
                    "milestone:1.2|milestone:1.2;file:/etc/postfix/main.cf|file:/etc/postfix/"
                    "main.cf;file:/etc/hosts|source:/etc/hosts;");
        /* not links: inside words and URLs, entities, zero, too long, bad names */
        CHECK_LINKS("a#12 &#12; x/WikiStart http://x/FooBar #0 ticket:abc wiki:../etc "
                    "Camel CAPSWord Wiki9 file:relative #1234567890123456789",
                    "");
        CHECK_LINKS("[[../x]] [[a//b]] [[]] [[x", "");
        CHECK_LINKS("(#3) [#4] \"#5\"", "ticket:3|#3;ticket:4|#4;ticket:5|#5;");
        ASSERT_TRUE(wiki_name_valid("Mailman/Setup_2.x", 17));
        ASSERT_TRUE(!wiki_name_valid("/x", 2));
        ASSERT_TRUE(!wiki_name_valid("a/./b", 5));
        ASSERT_TRUE(!wiki_name_valid("a b", 3));
}

static void resolve(void *userdata, WikiLinkKind kind, int64_t id, const char *target,
                    WikiLinkInfo *ret)
{
        if (kind == WIKI_LINK_WIKI && strcmp(target, "Missing") == 0)
                ret->exists = false;
        if (kind == WIKI_LINK_TICKET && id == 9)
                ret->visible = false;
        if (kind == WIKI_LINK_TICKET && id == 12) {
                ret->closed = true;
                snprintf(ret->title, sizeof(ret->title), "Mail \"bounces\" <b>");
        }
}

static char *render(const char *text)
{
        Html h = HTML_INIT;
        ASSERT_EQ_INT(wiki_render(text, resolve, NULL, &h), 0);
        return html_steal(&h, NULL);
}

static void test_render(void)
{
        _cleanup_free_ char *a = render("# Title\n\nFixed in #12, see [[Missing]] and #9.\n");
        _cleanup_free_ char *b = render("<script>window.__xss=1</script>\n\nx <b>bold</b> "
                                        "<img src=x onerror=alert(1)>\n");
        _cleanup_free_ char *c = render("[a](javascript:alert(1)) [b](JAVASCRIPT:x) "
                                        "[c](/ticket/1) [d](https://example.org/) "
                                        "![i](data:image/png;base64,AAAA)\n");
        _cleanup_free_ char *d = render("`#12` and [#12](/x) and\n\n    ticket:12\n");
        _cleanup_free_ char *e = render("| a | b |\n|---|---|\n| #12 | ~~x~~ |\n");
        _cleanup_free_ char *f = render("file:/etc/a\"b<c> wiki:A&B\n");

        ASSERT_TRUE(strstr(a, "<h1>Title</h1>") != NULL);
        ASSERT_TRUE(strstr(a, "<a class=\"ticket closed\" href=\"/ticket/12\" title=\"Mail "
                              "&quot;bounces&quot; &lt;b&gt;\">#12</a>") != NULL);
        ASSERT_TRUE(strstr(a, "<a class=\"wiki missing\" href=\"/wiki/Missing\">Missing?</a>") !=
                    NULL);
        ASSERT_TRUE(strstr(a, "and #9.") != NULL);
        ASSERT_TRUE(strstr(b, "<script") == NULL && strstr(b, "<b>") == NULL &&
                    strstr(b, "<img") == NULL);
        ASSERT_TRUE(strstr(b, "&lt;script&gt;window.__xss=1&lt;/script&gt;") != NULL);
        ASSERT_TRUE(strstr(b, "&lt;b&gt;bold&lt;/b&gt;") != NULL);
        ASSERT_TRUE(strcasestr(c, "javascript") == NULL && strstr(c, "data:") == NULL);
        ASSERT_TRUE(strstr(c, "href=\"/ticket/1\"") != NULL);
        ASSERT_TRUE(strstr(c, "href=\"https://example.org/\"") != NULL);
        ASSERT_TRUE(strstr(d, "<code>#12</code>") != NULL);
        ASSERT_TRUE(strstr(d, "<a href=\"/x\">#12</a>") != NULL);
        ASSERT_TRUE(strstr(d, "<pre><code>ticket:12") != NULL);
        ASSERT_TRUE(strstr(e, "<table>") != NULL && strstr(e, "<del>x</del>") != NULL);
        ASSERT_TRUE(strstr(e, "href=\"/ticket/12\"") != NULL);
        ASSERT_TRUE(strstr(f, "href=\"/file?path=%2Fetc%2Fa\"") != NULL);
        ASSERT_TRUE(strstr(f, "&quot;b&lt;c&gt;") != NULL);
}

static int collect(void *userdata, WikiLinkKind kind, const char *key)
{
        char *out = userdata;
        size_t o = strlen(out);
        snprintf(out + o, 512 - o, "%s:%s;", wiki_link_kind_to_string(kind), key);
        return 0;
}

static void test_foreach(void)
{
        char out[512] = "";

        ASSERT_EQ_INT(wiki_links_foreach("#1 `#2` [x](/y) [[Page]] session:3 !#4\n\n"
                                         "    milestone:m\n",
                                         collect, out),
                      0);
        ASSERT_STREQ(out, "ticket:1;wiki:Page;session:3;");
}

int main(void)
{
        test_parser();
        test_render();
        test_foreach();
        return test_result();
}
