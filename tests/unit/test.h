/* test.h - minimal assertions for unit tests: report file:line and both values, keep going,
 * and return 0 (pass), 1 (fail) or 77 (skip) from main via test_result(). */
#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned test_failures __attribute__((unused));
static unsigned test_checks __attribute__((unused));

#define TEST_FAIL(...)                                                                             \
        do {                                                                                       \
                fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                    \
                fprintf(stderr, __VA_ARGS__);                                                      \
                fputc('\n', stderr);                                                               \
                test_failures++;                                                                   \
        } while (0)

#define ASSERT_TRUE(x)                                                                             \
        do {                                                                                       \
                test_checks++;                                                                     \
                if (!(x))                                                                          \
                        TEST_FAIL("expected true: %s", #x);                                        \
        } while (0)

#define ASSERT_EQ_INT(a, b)                                                                        \
        do {                                                                                       \
                long long _a = (long long)(a), _b = (long long)(b);                                \
                test_checks++;                                                                     \
                if (_a != _b)                                                                      \
                        TEST_FAIL("%s == %s: %lld != %lld", #a, #b, _a, _b);                       \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                         \
        do {                                                                                       \
                const char *_a = (a), *_b = (b);                                                   \
                test_checks++;                                                                     \
                if (!_a || !_b || strcmp(_a, _b) != 0)                                             \
                        TEST_FAIL("%s == %s: '%s' != '%s'", #a, #b, _a ? _a : "(null)",            \
                                  _b ? _b : "(null)");                                             \
        } while (0)

static inline int test_result(void)
{
        if (test_failures > 0) {
                fprintf(stderr, "%u of %u checks failed\n", test_failures, test_checks);
                return 1;
        }
        if (test_checks == 0) {
                fprintf(stderr, "no checks ran\n");
                return 1;
        }
        printf("%u checks passed\n", test_checks);
        return 0;
}

#define TEST_SKIP(reason)                                                                          \
        do {                                                                                       \
                printf("skipped: %s\n", reason);                                                   \
                return 77;                                                                         \
        } while (0)
