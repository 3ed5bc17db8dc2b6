/* test-console.c - console framing and nonces against an independent libsodium computation. */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "test.h"
#include "trackalert-console.h"

static void test_nonce(void)
{
        uint8_t a[24], b[24], m[24];

        for (int i = 0; i < 24; i++) {
                a[i] = (uint8_t)i;
                b[i] = (uint8_t)(100 + i);
        }
        ta_nonce_merge(a, b, m);
        ASSERT_TRUE(memcmp(m, a, 12) == 0 && memcmp(m + 12, b + 12, 12) == 0);
        /* big-endian counter in the first 4 bytes, carry included, the rest untouched */
        memset(a, 0, sizeof(a));
        a[3] = 0xff;
        a[10] = 7;
        ta_nonce_increment(a);
        ASSERT_TRUE(a[2] == 1 && a[3] == 0 && a[10] == 7);
        memset(a, 0xff, 4);
        a[4] = 9;
        ta_nonce_increment(a);
        ASSERT_TRUE(a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0 && a[4] == 9);
}

static void test_frames(void)
{
        uint8_t key[32], n1[24], n2[24], n0[24];
        uint8_t expect[64];
        TaBuf f = {};
        char *plain = NULL;
        size_t len = 0;

        randombytes_buf(key, sizeof(key));
        randombytes_buf(n0, sizeof(n0));
        memcpy(n1, n0, 24);
        memcpy(n2, n0, 24);
        ASSERT_EQ_INT(ta_console_seal(key, n1, "stats()", 7, &f), 0);
        ASSERT_EQ_INT(f.len, 2 + 16 + 7);
        ASSERT_TRUE((uint8_t)f.data[0] == 0 && (uint8_t)f.data[1] == 23);
        /* byte for byte what crypto_secretbox_easy gives for the same nonce */
        crypto_secretbox_easy(expect, (const uint8_t *)"stats()", 7, n0, key);
        ASSERT_TRUE(memcmp(f.data + 2, expect, 23) == 0);
        ASSERT_TRUE(memcmp(n1, n0, 24) != 0); /* incremented */
        ASSERT_EQ_INT(ta_console_open(key, n2, (uint8_t *)f.data + 2, f.len - 2, &plain, &len), 0);
        ASSERT_EQ_INT(len, 7);
        ASSERT_STREQ(plain, "stats()");
        ASSERT_TRUE(memcmp(n1, n2, 24) == 0); /* both sides moved on together */
        free(plain);
        plain = NULL;
        /* replaying the same frame with the advanced nonce fails */
        ASSERT_TRUE(ta_console_open(key, n2, (uint8_t *)f.data + 2, f.len - 2, &plain, &len) < 0);
        /* tampering fails */
        memcpy(n2, n0, 24);
        f.data[5] ^= 1;
        ASSERT_TRUE(ta_console_open(key, n2, (uint8_t *)f.data + 2, f.len - 2, &plain, &len) < 0);
        ASSERT_TRUE(ta_console_open(key, n2, (uint8_t *)f.data + 2, 10, &plain, &len) < 0);
        ta_buf_done(&f);
        /* the largest frame fits the uint16 length, one more byte does not */
        {
                size_t max = TA_FRAME_MAX - crypto_secretbox_MACBYTES;
                char *big = calloc(1, max + 1);

                ASSERT_EQ_INT(ta_console_seal(key, n1, big, max, &f), 0);
                ASSERT_TRUE((uint8_t)f.data[0] == 0xff && (uint8_t)f.data[1] == 0xff);
                ta_buf_done(&f);
                ASSERT_EQ_INT(ta_console_seal(key, n1, big, max + 1, &f), -EMSGSIZE);
                ta_buf_done(&f);
                free(big);
        }
}

int main(void)
{
        if (sodium_init() < 0)
                return 1;
        test_nonce();
        test_frames();
        return test_result();
}
