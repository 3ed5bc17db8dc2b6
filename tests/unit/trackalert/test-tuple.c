/* test-tuple.c - JSON to LoginTuple with the original's defaults for every wrong type. */
#include <errno.h>
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "test.h"
#include "trackalert-tuple.h"

static TaTuple *parse(const char *json, int expect)
{
        TaTuple *t = NULL;
        const char *err = NULL;
        int r = ta_tuple_parse(json, strlen(json), &t, &err);

        ASSERT_EQ_INT(r, expect);
        if (r < 0)
                ASSERT_TRUE(err != NULL);
        return t;
}

static void test_full(void)
{
        TaTuple *t = parse("{\"login\":\"alice\",\"remote\":\"192.0.2.1\",\"pwhash\":\"abc\","
                           "\"success\":true,\"policy_reject\":true,\"fail_type\":\"credentials\","
                           "\"protocol\":\"imap\",\"tls\":true,\"device_id\":\"Mozilla\","
                           "\"device_attrs\":{\"os.family\":\"Linux\",\"n\":1},"
                           "\"attrs\":{\"a\":\"1\",\"mv\":[\"x\",2,\"y\"],\"num\":5,\"o\":{}},"
                           "\"session_id\":\"s1\",\"t\":1700000000.5}",
                           0);
        char buf[TA_ADDR_STRLEN];

        if (!t)
                return;
        ASSERT_STREQ(t->login, "alice");
        ASSERT_STREQ(ta_addr_to_string(&t->remote, buf), "192.0.2.1");
        ASSERT_STREQ(t->pwhash, "abc");
        ASSERT_TRUE(t->success && t->policy_reject && t->tls);
        ASSERT_STREQ(t->fail_type, "credentials");
        ASSERT_STREQ(t->protocol, "imap");
        ASSERT_STREQ(t->device_id, "Mozilla");
        ASSERT_STREQ(t->session_id, "s1");
        ASSERT_TRUE(t->t == 1700000000.5);
        /* only string values in device_attrs and attrs; arrays go to attrs_mv */
        ASSERT_EQ_INT(t->device_attrs.n, 1);
        ASSERT_STREQ(ta_kv_list_get(&t->device_attrs, "os.family"), "Linux");
        ASSERT_EQ_INT(t->attrs.n, 1);
        ASSERT_STREQ(ta_kv_list_get(&t->attrs, "a"), "1");
        ASSERT_EQ_INT(t->attrs_mv.n, 1);
        ASSERT_STREQ(t->attrs_mv.items[0].key, "mv");
        ASSERT_EQ_INT(t->attrs_mv.items[0].n_values, 3);
        ASSERT_STREQ(t->attrs_mv.items[0].values[0], "x");
        ASSERT_STREQ(t->attrs_mv.items[0].values[1], ""); /* non-string element */
        ASSERT_STREQ(t->attrs_mv.items[0].values[2], "y");
        ta_tuple_unref(t);
}

static void test_wrong_types(void)
{
        /* every field with a wrong type becomes its default */
        TaTuple *t = parse("{\"login\":1,\"pwhash\":true,\"success\":\"yes\",\"policy_reject\":1,"
                           "\"fail_type\":[],\"protocol\":{},\"tls\":\"true\",\"device_id\":null,"
                           "\"device_attrs\":\"x\",\"attrs\":[1],\"session_id\":2.5,"
                           "\"t\":\"now\",\"remote\":5}",
                           0);
        char buf[TA_ADDR_STRLEN];

        if (!t)
                return;
        ASSERT_STREQ(t->login, "");
        ASSERT_STREQ(t->pwhash, "");
        ASSERT_TRUE(!t->success && !t->policy_reject && !t->tls);
        ASSERT_STREQ(t->fail_type, "");
        ASSERT_STREQ(t->protocol, "");
        ASSERT_STREQ(t->device_id, "");
        ASSERT_STREQ(t->session_id, "");
        ASSERT_TRUE(t->t == 0);
        ASSERT_EQ_INT(t->device_attrs.n + t->attrs.n + t->attrs_mv.n, 0);
        ASSERT_STREQ(ta_addr_to_string(&t->remote, buf), "0.0.0.0");
        ta_tuple_unref(t);

        /* an integer t is a number too */
        t = parse("{\"t\":12}", 0);
        ASSERT_TRUE(t && t->t == 12);
        ta_tuple_unref(t);
}

static void test_non_objects(void)
{
        const char *docs[] = {"[1,2]", "\"x\"", "42", "null", "{}", " {} \n"};

        for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
                TaTuple *t = parse(docs[i], 0);
                ASSERT_TRUE(t && streq(t->login, "") && !t->success);
                ta_tuple_unref(t);
        }
}

static void test_remote(void)
{
        char buf[TA_ADDR_STRLEN];
        TaTuple *t;

        t = parse("{\"remote\":\"::ffff:10.1.2.3\"}", 0);
        ASSERT_TRUE(t && t->remote.family == AF_INET);
        if (t)
                ASSERT_STREQ(ta_addr_to_string(&t->remote, buf), "10.1.2.3");
        ta_tuple_unref(t);
        t = parse("{\"remote\":\"[2001:db8::1]:993\"}", 0);
        ASSERT_TRUE(t && t->remote.family == AF_INET6 && t->remote.port == 993);
        ta_tuple_unref(t);
        t = parse("{\"remote\":\"1.2.3.4:5\"}", 0);
        ASSERT_TRUE(t && t->remote.port == 5);
        ta_tuple_unref(t);
        ASSERT_TRUE(parse("{\"remote\":\"not-an-ip\"}", -EADDRNOTAVAIL) == NULL);
        ASSERT_TRUE(parse("{\"remote\":\"\"}", -EADDRNOTAVAIL) == NULL);
        ASSERT_TRUE(parse("{\"remote\":\"1.2.3.4:99999\"}", -EADDRNOTAVAIL) == NULL);
}

static void test_syntax(void)
{
        char doc[210];

        ASSERT_TRUE(parse("", -EBADMSG) == NULL);
        ASSERT_TRUE(parse("{bad", -EBADMSG) == NULL);
        ASSERT_TRUE(parse("{\"a\":1", -EBADMSG) == NULL);
        ASSERT_TRUE(parse("{} x", -EBADMSG) == NULL);
        /* deeper than TA_JSON_DEPTH_MAX */
        memset(doc, '[', 100);
        memset(doc + 100, ']', 100);
        doc[200] = '\0';
        ASSERT_TRUE(parse(doc, -EBADMSG) == NULL);
        /* exactly at the limit is fine */
        memset(doc, '[', TA_JSON_DEPTH_MAX);
        memset(doc + TA_JSON_DEPTH_MAX, ']', TA_JSON_DEPTH_MAX);
        doc[2 * TA_JSON_DEPTH_MAX] = '\0';
        ta_tuple_unref(parse(doc, 0));
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
        test_remote();
        test_syntax();
        test_json_writer();
        return test_result();
}
