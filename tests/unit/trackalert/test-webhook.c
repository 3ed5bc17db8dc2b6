/* test-webhook.c - webhook signature, delivery id, URL macros and definitions. */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "test.h"
#include "trackalert-webhook.h"

static void test_signature(void)
{
        char sig[TA_WEBHOOK_SIG_LEN];

        /* RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?") */
        ta_webhook_signature("Jefe", "what do ya want for nothing?", 28, sig);
        ASSERT_STREQ(sig, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
        ta_webhook_signature("secret", "", 0, sig);
        ASSERT_STREQ(sig, "+eZuF5tnR65UEI+C+K3os8Jddv0wr95sOVgixTAZYWk=");
}

static void test_delivery(void)
{
        char d[TA_WEBHOOK_SIG_LEN], expect[TA_WEBHOOK_SIG_LEN];
        uint8_t h[32];
        const char *in = "2024-Jan-02 03:04:051hook";

        crypto_hash_sha256(h, (const uint8_t *)in, strlen(in));
        sodium_bin2base64(expect, sizeof(expect), h, 32, sodium_base64_VARIANT_ORIGINAL);
        ta_webhook_delivery("2024-Jan-02 03:04:05", 1, "hook", d);
        ASSERT_STREQ(d, expect);
}

static void test_url(void)
{
        char *u = ta_webhook_expand_url("http://h/%{YYYY}/%{MM}/%{dd}/x%{zz}", 1704164645);

        ASSERT_STREQ(u, "http://h/2024/01/02/x%{zz}");
        free(u);
}

static void test_defs(void)
{
        TaWebhooks *w = NULL;
        TaKvList opts = {};
        const char *err = NULL;

        ASSERT_EQ_INT(ta_webhooks_new(&w), 0);
        ASSERT_EQ_INT(ta_webhooks_add(w, "a", &opts, &err), -EINVAL);
        ASSERT_TRUE(err && strstr(err, "url"));
        ta_kv_list_add(&opts, "url", "ftp://x/");
        ASSERT_EQ_INT(ta_webhooks_add(w, "a", &opts, &err), -EINVAL);
        ta_kv_list_done(&opts);
        ta_kv_list_add(&opts, "url", "http://127.0.0.1:1/");
        ASSERT_EQ_INT(ta_webhooks_add(w, "a", &opts, &err), 1);
        ASSERT_EQ_INT(ta_webhooks_add(w, "b", &opts, &err), 2);
        ASSERT_EQ_INT(ta_webhooks_add(w, "a", &opts, &err), -EEXIST);
        /* no queue before start: nothing can be queued, unknown names are reported */
        ASSERT_EQ_INT(ta_webhooks_run(w, "zz", "x", 1), -ENOENT);
        ASSERT_EQ_INT(ta_webhooks_run(w, "a", "x", 1), -EAGAIN);
        ta_kv_list_done(&opts);
        ta_webhooks_free(w);
}

int main(void)
{
        if (sodium_init() < 0)
                return 1;
        test_signature();
        test_delivery();
        test_url();
        test_defs();
        return test_result();
}
