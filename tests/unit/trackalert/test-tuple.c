/* test-tuple.c - JSON to LoginTuple with the original's defaults for every wrong type, json11's
 * syntax and error messages, last-wins keys, packing for Lua, custom endpoint arguments. */
#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "test.h"
#include "trackalert-json.h"
#include "trackalert-tuple.h"

static TaArena arena;
static char text[4096];

/* Parses a copy (the reader rewrites its input); returns the error message or NULL. */
static const char *parse(const char *json, int expect, TaTuple *t)
{
        const char *err = NULL;
        int r;

        snprintf(text, sizeof(text), "%s", json);
        r = ta_tuple_parse(text, strlen(text), &arena, t, &err);
        ASSERT_EQ_INT(r, expect);
        if (r < 0)
                ASSERT_TRUE(err != NULL);
        else
                err = NULL;
        return err;
}

static void test_full(void)
{
        TaTuple t;
        char buf[TA_ADDR_STRLEN];

        parse("{\"login\":\"alice\",\"remote\":\"192.0.2.1\",\"pwhash\":\"abc\","
              "\"success\":true,\"policy_reject\":true,\"fail_type\":\"credentials\","
              "\"protocol\":\"imap\",\"tls\":true,\"device_id\":\"Mozilla\","
              "\"device_attrs\":{\"os.family\":\"Linux\",\"n\":1},"
              "\"attrs\":{\"a\":\"1\",\"mv\":[\"x\",2,\"y\"],\"num\":5,\"o\":{}},"
              "\"session_id\":\"s1\",\"t\":1700000000.5}",
              0, &t);
        ASSERT_STREQ(t.login, "alice");
        ASSERT_STREQ(ta_addr_to_string(&t.remote, buf), "192.0.2.1");
        ASSERT_STREQ(t.pwhash, "abc");
        ASSERT_TRUE(t.success && t.policy_reject && t.tls);
        ASSERT_STREQ(t.fail_type, "credentials");
        ASSERT_STREQ(t.protocol, "imap");
        ASSERT_STREQ(t.device_id, "Mozilla");
        ASSERT_STREQ(t.session_id, "s1");
        ASSERT_TRUE(t.t == 1700000000.5);
        ASSERT_TRUE(t.device_attrs_given);
        ASSERT_TRUE(t.country == NULL);
        /* only string values in device_attrs and attrs; arrays go to attrs_mv */
        ASSERT_EQ_INT(t.device_attrs.n, 1);
        ASSERT_STREQ(ta_kv_list_get(&t.device_attrs, "os.family"), "Linux");
        ASSERT_EQ_INT(t.attrs.n, 1);
        ASSERT_STREQ(ta_kv_list_get(&t.attrs, "a"), "1");
        ASSERT_EQ_INT(t.attrs_mv.n, 1);
        ASSERT_STREQ(t.attrs_mv.items[0].key, "mv");
        ASSERT_EQ_INT(t.attrs_mv.items[0].n_values, 3);
        ASSERT_STREQ(t.attrs_mv.items[0].values[0], "x");
        ASSERT_STREQ(t.attrs_mv.items[0].values[1], ""); /* non-string element */
        ASSERT_STREQ(t.attrs_mv.items[0].values[2], "y");
        ASSERT_TRUE(t.attrs_mv.items[0].values[3] == NULL);
        ta_arena_reset(&arena);
}

static void test_wrong_types(void)
{
        TaTuple t;
        char buf[TA_ADDR_STRLEN];

        /* every field with a wrong type becomes its default */
        parse("{\"login\":1,\"pwhash\":true,\"success\":\"yes\",\"policy_reject\":1,"
              "\"fail_type\":[],\"protocol\":{},\"tls\":\"true\",\"device_id\":null,"
              "\"device_attrs\":\"x\",\"attrs\":[1],\"session_id\":2.5,"
              "\"t\":\"now\",\"remote\":5}",
              0, &t);
        ASSERT_STREQ(t.login, "");
        ASSERT_STREQ(t.pwhash, "");
        ASSERT_TRUE(!t.success && !t.policy_reject && !t.tls);
        ASSERT_STREQ(t.fail_type, "");
        ASSERT_STREQ(t.protocol, "");
        ASSERT_STREQ(t.device_id, "");
        ASSERT_STREQ(t.session_id, "");
        ASSERT_TRUE(t.t == 0);
        ASSERT_TRUE(!t.device_attrs_given);
        ASSERT_EQ_INT(t.device_attrs.n + t.attrs.n + t.attrs_mv.n, 0);
        ASSERT_STREQ(ta_addr_to_string(&t.remote, buf), "0.0.0.0");

        /* an integer t is a number too, and so are exponents */
        parse("{\"t\":12}", 0, &t);
        ASSERT_TRUE(t.t == 12);
        parse("{\"t\":-1.5e3}", 0, &t);
        ASSERT_TRUE(t.t == -1500);
        ta_arena_reset(&arena);
}

static void test_non_objects(void)
{
        const char *docs[] = {"[1,2]", "\"x\"", "42", "null", "{}", " {} \n", "true", "[{}]"};
        TaTuple t;

        for (size_t i = 0; i < ELEMENTSOF(docs); i++) {
                parse(docs[i], 0, &t);
                ASSERT_TRUE(streq(t.login, "") && !t.success && t.attrs.n == 0);
        }
        ta_arena_reset(&arena);
}

static void test_last_wins(void)
{
        TaTuple t;

        /* json11 keeps objects in a std::map: the last value of a key counts, whatever type */
        parse("{\"login\":\"a\",\"login\":\"b\",\"success\":true,\"success\":0,"
              "\"attrs\":{\"z\":\"1\",\"k\":\"first\",\"k\":[\"v\"],\"d\":\"x\",\"d\":7,"
              "\"a\":\"2\"}}",
              0, &t);
        ASSERT_STREQ(t.login, "b");
        ASSERT_TRUE(!t.success);
        /* sorted by key like std::map, duplicates resolved */
        ASSERT_EQ_INT(t.attrs.n, 2);
        if (t.attrs.n == 2) {
                ASSERT_STREQ(t.attrs.items[0].key, "a");
                ASSERT_STREQ(t.attrs.items[1].key, "z");
        }
        ASSERT_TRUE(ta_kv_list_get(&t.attrs, "k") == NULL);
        ASSERT_TRUE(ta_kv_list_get(&t.attrs, "d") == NULL);
        ASSERT_EQ_INT(t.attrs_mv.n, 1);
        if (t.attrs_mv.n == 1)
                ASSERT_STREQ(t.attrs_mv.items[0].values[0], "v");

        /* a later "attrs" replaces an earlier one entirely; a later non-string remote counts */
        parse("{\"attrs\":{\"a\":\"1\"},\"attrs\":{\"b\":\"2\"},\"remote\":\"bad\",\"remote\":1}",
              0, &t);
        ASSERT_EQ_INT(t.attrs.n, 1);
        ASSERT_STREQ(ta_kv_list_get(&t.attrs, "b"), "2");
        parse("{\"device_attrs\":{\"a\":\"1\"},\"device_attrs\":null}", 0, &t);
        ASSERT_TRUE(!t.device_attrs_given && t.device_attrs.n == 0);
        ta_arena_reset(&arena);
}

static void test_strings(void)
{
        TaTuple t;

        parse("{\"login\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}", 0, &t);
        ASSERT_STREQ(t.login, "a\"b\\c/d\b\f\n\r\t");
        parse("{\"login\":\"\\u00e9\\u20AC\\ud83d\\ude00x\"}", 0, &t);
        ASSERT_STREQ(t.login, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80x");
        /* a lone surrogate is encoded as it is, like json11 does */
        parse("{\"login\":\"\\ud83d!\"}", 0, &t);
        ASSERT_STREQ(t.login, "\xed\xa0\xbd!");
        /* raw bytes >= 0x80 pass through */
        parse("{\"login\":\"\xc3\xa9\"}", 0, &t);
        ASSERT_STREQ(t.login, "\xc3\xa9");
        ta_arena_reset(&arena);
}

static void test_remote(void)
{
        char buf[TA_ADDR_STRLEN];
        TaTuple t;

        parse("{\"remote\":\"::ffff:10.1.2.3\"}", 0, &t);
        ASSERT_TRUE(t.remote.family == AF_INET);
        ASSERT_STREQ(ta_addr_to_string(&t.remote, buf), "10.1.2.3");
        parse("{\"remote\":\"[2001:db8::1]:993\"}", 0, &t);
        ASSERT_TRUE(t.remote.family == AF_INET6 && t.remote.port == 993);
        parse("{\"remote\":\"1.2.3.4:5\"}", 0, &t);
        ASSERT_TRUE(t.remote.port == 5);
        parse("{\"remote\":\"not-an-ip\"}", -EADDRNOTAVAIL, &t);
        parse("{\"remote\":\"\"}", -EADDRNOTAVAIL, &t);
        parse("{\"remote\":\"1.2.3.4:99999\"}", -EADDRNOTAVAIL, &t);
        ta_arena_reset(&arena);
}

static void test_syntax(void)
{
        /* the messages of json11, which the original answers with in "reason" */
        static const struct {
                const char *doc, *error;
        } cases[] = {
                {"", "unexpected end of input"},
                {"   ", "unexpected end of input"},
                {"{bad", "expected '\"' in object, got 'b' (98)"},
                {"{\"a\":1", "unexpected end of input"},
                {"{\"a\" 1}", "expected ':' in object, got '1' (49)"},
                {"{\"a\":1 \"b\":2}", "expected ',' in object, got '\"' (34)"},
                {"[1 2]", "expected ',' in list, got '2' (50)"},
                {"[1,]", "expected value, got ']' (93)"},
                {"{} x", "unexpected trailing 'x' (120)"},
                {"{}\x01", "unexpected trailing (1)"},
                {"tru", "parse error: expected true, got tru"},
                {"nul!", "parse error: expected null, got nul!"},
                {"01", "leading 0s not permitted in numbers"},
                {"-x", "invalid 'x' (120) in number"},
                {"1.", "at least one digit required in fractional part"},
                {"1e+", "at least one digit required in exponent"},
                {"\"a\nb\"", "unescaped (10) in string"},
                {"\"\\x\"", "invalid escape character 'x' (120)"},
                {"\"\\u12g4\"", "bad \\u escape: 12g4"},
                {"\"\\u12", "bad \\u escape: 12"},
                {"\"abc", "unexpected end of input in string"},
                {"\xc3", "expected value, got (-61)"},
        };
        char doc[512];
        TaTuple t;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *e = parse(cases[i].doc, -EBADMSG, &t);

                if (!e || !streq(e, cases[i].error))
                        TEST_FAIL("'%s': got '%s', want '%s'", cases[i].doc, strempty(e),
                                  cases[i].error);
        }

        /* json11's depth limit: a value inside 200 containers is fine, inside 201 it is not */
        memset(doc, '[', 202);
        memset(doc + 202, ']', 202);
        doc[404] = '\0';
        ASSERT_STREQ(parse(doc, -EBADMSG, &t), "exceeded maximum nesting depth");
        memset(doc, '[', 201);
        memset(doc + 201, ']', 201);
        doc[402] = '\0';
        parse(doc, 0, &t);
        ta_arena_reset(&arena);
}

static void test_pack(void)
{
        alignas(max_align_t) unsigned char block[2048];
        TaTuple t, *c;
        size_t n;

        parse("{\"login\":\"alice\",\"remote\":\"192.0.2.1\",\"device_attrs\":{\"os.family\":"
              "\"iOS\"},"
              "\"attrs\":{\"a\":\"1\",\"mv\":[\"x\",\"y\"],\"e\":[]}}",
              0, &t);
        t.country = ta_arena_strdup(&arena, "DE");
        ASSERT_EQ_INT(ta_kv_list_add_arena(&t.device_attrs, &arena, "device.family", "iPhone"), 0);
        n = ta_tuple_packed_size(&t);
        ASSERT_TRUE(n <= sizeof(block));
        c = ta_tuple_pack(&t, block);
        /* the copy does not depend on the text or the arena any more */
        memset(text, 'X', sizeof(text) - 1);
        ta_arena_reset(&arena);
        (void)ta_arena_alloc(&arena, 512);
        memset(ta_arena_alloc(&arena, 1024), 'Y', 1024);
        ASSERT_STREQ(c->login, "alice");
        ASSERT_STREQ(c->country, "DE");
        ASSERT_STREQ(c->pwhash, "");
        ASSERT_STREQ(ta_kv_list_get(&c->attrs, "a"), "1");
        ASSERT_STREQ(ta_kv_list_get(&c->device_attrs, "os.family"), "iOS");
        ASSERT_STREQ(ta_kv_list_get(&c->device_attrs, "device.family"), "iPhone");
        ASSERT_EQ_INT(c->attrs_mv.n, 2);
        for (size_t i = 0; i < c->attrs_mv.n; i++) {
                const TaKv *kv = &c->attrs_mv.items[i];

                if (streq(kv->key, "mv")) {
                        ASSERT_EQ_INT(kv->n_values, 2);
                        ASSERT_STREQ(kv->values[1], "y");
                        ASSERT_TRUE(kv->values[2] == NULL);
                } else {
                        ASSERT_STREQ(kv->key, "e");
                        ASSERT_EQ_INT(kv->n_values, 0);
                        ASSERT_TRUE(kv->values && kv->values[0] == NULL);
                }
        }
        for (size_t i = 0; i < c->attrs.n; i++)
                ASSERT_TRUE((unsigned char *)c->attrs.items[i].key >= block &&
                            (unsigned char *)c->attrs.items[i].key < block + n);
        ta_arena_reset(&arena);
}

static void test_custom_args(void)
{
        TaKvList a, mv;
        const char *err = NULL;

        snprintf(text, sizeof(text),
                 "{\"login\":\"x\",\"attrs\":{\"k\":\"v\",\"l\":[\"1\",\"2\"]}}");
        ASSERT_EQ_INT(ta_custom_args_parse(text, strlen(text), &arena, &a, &mv, &err), 0);
        ASSERT_EQ_INT(a.n, 1);
        ASSERT_STREQ(ta_kv_list_get(&a, "k"), "v");
        ASSERT_EQ_INT(mv.n, 1);
        snprintf(text, sizeof(text), "[]");
        ASSERT_EQ_INT(ta_custom_args_parse(text, strlen(text), &arena, &a, &mv, &err), 0);
        ASSERT_EQ_INT(a.n + mv.n, 0);
        snprintf(text, sizeof(text), "{nope");
        ASSERT_EQ_INT(ta_custom_args_parse(text, strlen(text), &arena, &a, &mv, &err), -EBADMSG);
        ASSERT_STREQ(err, "expected '\"' in object, got 'n' (110)");
        ta_arena_reset(&arena);
}

static void test_arena(void)
{
        TaArena a = {};
        char *big;

        /* small allocations share a chunk; a big one gets its own; reset keeps a small one */
        for (int i = 0; i < 100; i++)
                ASSERT_TRUE(ta_arena_strdup(&a, "some text") != NULL);
        big = ta_arena_alloc(&a, 1024 * 1024);
        ASSERT_TRUE(big != NULL);
        memset(big, 0, 1024 * 1024);
        ta_arena_reset(&a);
        ASSERT_TRUE(ta_arena_strdup(&a, "again") != NULL);
        ta_arena_done(&a);
}

static void test_json_writer(void)
{
        TaBuf b = {};

        ta_buf_json_string(&b, "a\"b\\c\n\x01", 7);
        ASSERT_STREQ(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
        ta_buf_done(&b);
}

int main(void)
{
        test_full();
        test_wrong_types();
        test_non_objects();
        test_last_wins();
        test_strings();
        test_remote();
        test_syntax();
        test_pack();
        test_custom_args();
        test_arena();
        test_json_writer();
        ta_arena_done(&arena);
        return test_result();
}
