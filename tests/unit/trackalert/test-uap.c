/* test-uap.c - device parsing against the test cases uap-core ships with its regexes.yaml
 * (tests/ and test_resources/ of the Debian package), wforce's IMAP ID and mobile-app formats,
 * the cache, and clear errors with the line for broken files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "macro.h"
#include "test.h"
#include "trackalert-uap.h"

#define UAP_DIR "/usr/share/uap-core"

static TaArena arena;

/* The value of key in a test case, NULL for an empty (null) value. Returns false if the case
 * does not have the key. */
static bool field(yaml_document_t *doc, yaml_node_t *tc, const char *key, const char **ret)
{
        for (yaml_node_pair_t *p = tc->data.mapping.pairs.start; p < tc->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key);
                yaml_node_t *v = yaml_document_get_node(doc, p->value);

                if (k->type != YAML_SCALAR_NODE || !streq((char *)k->data.scalar.value, key))
                        continue;
                *ret = NULL;
                if (v->type == YAML_SCALAR_NODE &&
                    !(v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                      (v->data.scalar.length == 0 || streq((char *)v->data.scalar.value, "~"))))
                        *ret = (const char *)v->data.scalar.value;
                return true;
        }
        return false;
}

typedef enum Which { UA, OS, DEVICE } Which;

/* Runs every case of file; returns the number of cases, counts mismatches. */
static size_t run_file(TaUap *u, const char *file, Which which, size_t *ret_failed)
{
        static const char *const names[3][5] = {
                {"family", "major", "minor", "patch", NULL},
                {"family", "major", "minor", "patch", "patch_minor"},
                {"family", "brand", "model", NULL, NULL},
        };
        yaml_parser_t parser;
        yaml_document_t doc;
        yaml_node_t *root, *cases = NULL;
        size_t n = 0, failed = 0;
        FILE *f = fopen(file, "re");

        if (!f) {
                TEST_FAIL("cannot open %s", file);
                return 0;
        }
        yaml_parser_initialize(&parser);
        yaml_parser_set_input_file(&parser, f);
        if (!yaml_parser_load(&parser, &doc)) {
                TEST_FAIL("%s: cannot parse", file);
                goto done;
        }
        root = yaml_document_get_root_node(&doc);
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++)
                if (streq((char *)yaml_document_get_node(&doc, p->key)->data.scalar.value,
                          "test_cases"))
                        cases = yaml_document_get_node(&doc, p->value);
        if (!cases || cases->type != YAML_SEQUENCE_NODE) {
                TEST_FAIL("%s: no test_cases", file);
                goto delete;
        }
        for (yaml_node_item_t *it = cases->data.sequence.items.start;
             it < cases->data.sequence.items.top; it++) {
                yaml_node_t *tc = yaml_document_get_node(&doc, *it);
                const char *ua, *want[5] = {}, *got[5] = {};
                TaUapResult r;
                bool bad = false;

                if (!field(&doc, tc, "user_agent_string", &ua) || !ua)
                        continue;
                ASSERT_EQ_INT(ta_uap_parse_user_agent(u, ua, &arena, &r), 0);
                if (which == UA) {
                        got[0] = r.ua_family, got[1] = r.ua_major, got[2] = r.ua_minor;
                        got[3] = r.ua_patch;
                } else if (which == OS) {
                        got[0] = r.os_family, got[1] = r.os_major, got[2] = r.os_minor;
                        got[3] = r.os_patch, got[4] = r.os_patch_minor;
                } else {
                        got[0] = r.device_family, got[1] = r.device_brand, got[2] = r.device_model;
                }
                for (size_t i = 0; i < 5 && names[which][i]; i++) {
                        if (!field(&doc, tc, names[which][i], &want[i]))
                                continue; /* the case does not check it */
                        if (!streq_ptr(want[i], got[i]))
                                bad = true;
                }
                n++;
                if (bad) {
                        failed++;
                        if (failed <= 5)
                                fprintf(stderr,
                                        "%s:%zu: '%s'\n  want %s|%s|%s|%s|%s\n  got  "
                                        "%s|%s|%s|%s|%s\n",
                                        file, tc->start_mark.line + 1, ua, strempty(want[0]),
                                        strempty(want[1]), strempty(want[2]), strempty(want[3]),
                                        strempty(want[4]), strempty(got[0]), strempty(got[1]),
                                        strempty(got[2]), strempty(got[3]), strempty(got[4]));
                }
                ta_arena_reset(&arena);
        }
        delete : yaml_document_delete(&doc);
done:
        yaml_parser_delete(&parser);
        fclose(f);
        *ret_failed += failed;
        printf("%s: %zu cases, %zu mismatches\n", file, n, failed);
        return n;
}

static void test_uap_core_suites(TaUap *u)
{
        static const struct {
                const char *file;
                Which which;
        } suites[] = {
                {UAP_DIR "/tests/test_ua.yaml", UA},
                {UAP_DIR "/test_resources/firefox_user_agent_strings.yaml", UA},
                {UAP_DIR "/test_resources/pgts_browser_list.yaml", UA},
                {UAP_DIR "/test_resources/opera_mini_user_agent_strings.yaml", UA},
                {UAP_DIR "/test_resources/podcasting_user_agent_strings.yaml", UA},
                {UAP_DIR "/tests/test_os.yaml", OS},
                {UAP_DIR "/test_resources/additional_os_tests.yaml", OS},
                {UAP_DIR "/tests/test_device.yaml", DEVICE},
        };
        size_t total = 0, failed = 0;

        for (size_t i = 0; i < ELEMENTSOF(suites); i++) {
                if (access(suites[i].file, R_OK) < 0) {
                        printf("%s: not installed, skipped\n", suites[i].file);
                        continue;
                }
                total += run_file(u, suites[i].file, suites[i].which, &failed);
        }
        printf("uap-core test cases: %zu, mismatches: %zu\n", total, failed);
        ASSERT_TRUE(total > 1000);
        ASSERT_EQ_INT(failed, 0);
}

static void test_device_attrs(TaUap *u)
{
        TaKvList l = {};

        /* wforce's keys for a web login */
        ASSERT_EQ_INT(ta_uap_parse(u, "https",
                                   "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) "
                                   "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.5 "
                                   "Mobile/15E148 Safari/604.1",
                                   &arena, &l),
                      0);
        ASSERT_EQ_INT(l.n, 9);
        ASSERT_STREQ(ta_kv_list_get(&l, "os.family"), "iOS");
        ASSERT_STREQ(ta_kv_list_get(&l, "os.major"), "16");
        ASSERT_STREQ(ta_kv_list_get(&l, "os.minor"), "5");
        ASSERT_STREQ(ta_kv_list_get(&l, "browser.family"), "Mobile Safari");
        ASSERT_STREQ(ta_kv_list_get(&l, "browser.major"), "16");
        ASSERT_STREQ(ta_kv_list_get(&l, "device.family"), "iPhone");
        ASSERT_STREQ(ta_kv_list_get(&l, "device.brand"), "Apple");
        ASSERT_STREQ(ta_kv_list_get(&l, "device.model"), "iPhone");

        /* the second time it comes from the cache, the same */
        for (int i = 0; i < 2; i++) {
                l = (TaKvList){};
                ASSERT_EQ_INT(ta_uap_parse(u, "http",
                                           "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) "
                                           "Gecko/20100101 Firefox/115.0",
                                           &arena, &l),
                              0);
                ASSERT_STREQ(ta_kv_list_get(&l, "os.family"), "Linux");
                ASSERT_STREQ(ta_kv_list_get(&l, "os.major"), "");
                ASSERT_STREQ(ta_kv_list_get(&l, "browser.family"), "Firefox");
                ASSERT_STREQ(ta_kv_list_get(&l, "browser.major"), "115");
                ASSERT_STREQ(ta_kv_list_get(&l, "browser.minor"), "0");
                ASSERT_STREQ(ta_kv_list_get(&l, "device.family"), "Other");
                ASSERT_STREQ(ta_kv_list_get(&l, "device.brand"), "");
        }

        /* nothing recognisable: the families are "Other" */
        l = (TaKvList){};
        ASSERT_EQ_INT(ta_uap_parse(u, "http", "zzz", &arena, &l), 0);
        ASSERT_STREQ(ta_kv_list_get(&l, "browser.family"), "Other");
        ASSERT_STREQ(ta_kv_list_get(&l, "os.family"), "Other");

        /* an IMAP ID string (wforce's example: Apple Mail on macOS) */
        l = (TaKvList){};
        ASSERT_EQ_INT(ta_uap_parse(u, "imap",
                                   "\"name\" \"Mac OS X Mail\" \"version\" \"10.0 (3226)\" \"os\" "
                                   "\"Mac OS X\" \"os-version\" \"10.12 (16A323)\" \"vendor\" "
                                   "\"Apple Inc.\"",
                                   &arena, &l),
                      0);
        ASSERT_EQ_INT(l.n, 6);
        ASSERT_STREQ(ta_kv_list_get(&l, "imapc.family"), "Mac OS X Mail");
        ASSERT_STREQ(ta_kv_list_get(&l, "imapc.major"), "10");
        ASSERT_STREQ(ta_kv_list_get(&l, "imapc.minor"), "0");
        ASSERT_STREQ(ta_kv_list_get(&l, "os.family"), "Mac OS X");
        ASSERT_STREQ(ta_kv_list_get(&l, "os.major"), "10");
        ASSERT_STREQ(ta_kv_list_get(&l, "os.minor"), "12");

        /* an OX mobile app id */
        l = (TaKvList){};
        ASSERT_EQ_INT(ta_uap_parse(u, "mobileapi",
                                   "OpenXchange.Android.Mail/1.0+1234 (OS: 7.0; device: "
                                   "Samsung/GT9700)",
                                   &arena, &l),
                      0);
        ASSERT_EQ_INT(l.n, 8);
        ASSERT_STREQ(ta_kv_list_get(&l, "app.brand"), "OpenXchange");
        ASSERT_STREQ(ta_kv_list_get(&l, "os.family"), "Android");
        ASSERT_STREQ(ta_kv_list_get(&l, "app.name"), "Mail");
        ASSERT_STREQ(ta_kv_list_get(&l, "app.major"), "1");
        ASSERT_STREQ(ta_kv_list_get(&l, "app.minor"), "0");
        ASSERT_STREQ(ta_kv_list_get(&l, "os.major"), "7");
        ASSERT_STREQ(ta_kv_list_get(&l, "os.minor"), "0");
        ASSERT_STREQ(ta_kv_list_get(&l, "device.family"), "Samsung/GT9700");

        /* other protocols are not parsed */
        l = (TaKvList){};
        ASSERT_EQ_INT(ta_uap_parse(u, "pop3", "whatever", &arena, &l), 0);
        ASSERT_EQ_INT(l.n, 0);

        /* a pathological user agent ends (the match limit) and long ones are cut */
        {
                size_t n = 200000;
                char *s = malloc(n + 1);

                ASSERT_TRUE(s != NULL);
                if (s) {
                        memset(s, ' ', n);
                        memcpy(s, "SmartWatch", 10);
                        s[n] = '\0';
                        l = (TaKvList){};
                        ASSERT_EQ_INT(ta_uap_parse(u, "http", s, &arena, &l), 0);
                        ASSERT_EQ_INT(l.n, 9);
                        free(s);
                }
        }
        ta_arena_reset(&arena);
}

static void expect_error(const char *yaml, const char *want)
{
        char path[] = "/tmp/test-uap-XXXXXX";
        char *err = NULL;
        TaUap *u = NULL;
        int fd = mkstemp(path);

        ASSERT_TRUE(fd >= 0);
        if (fd < 0)
                return;
        ASSERT_EQ_INT(write(fd, yaml, strlen(yaml)), (long long)strlen(yaml));
        close(fd);
        ASSERT_EQ_INT(ta_uap_load(path, &u, &err), -EINVAL);
        ASSERT_TRUE(u == NULL);
        if (!err || !strstr(err, want))
                TEST_FAIL("error '%s' does not contain '%s'", strempty(err), want);
        free(err);
        unlink(path);
}

static void test_errors(void)
{
        char *err = NULL;
        TaUap *u = NULL;

        ASSERT_EQ_INT(ta_uap_load("/nonexistent/regexes.yaml", &u, &err), -ENOENT);
        ASSERT_TRUE(err && strstr(err, "cannot open"));
        free(err);
        expect_error("", "the file is empty");
        expect_error("user_agent_parsers:\n  - regex: 'a'\n    family_replacement: [x\n",
                     "line 4:");
        expect_error("user_agent_parsers:\n  - regex: 'a'\n  - regex: '(b'\n",
                     "line 3: bad regex '(b': missing closing parenthesis at offset 2");
        expect_error("os_parsers:\n  - os_replacement: 'x'\n", "line 2: an entry of os_parsers "
                                                               "without 'regex'");
        expect_error("device_parsers: 5\n", "line 1: device_parsers must be a list");
        expect_error("something_else: []\n", "none of user_agent_parsers");
        expect_error("device_parsers:\n  - regex: 'a'\n    regex_flag: 'x'\n",
                     "line 2: regex_flag 'x' is not supported");
}

static void test_small_file(void)
{
        char path[] = "/tmp/test-uap-XXXXXX";
        const char *yaml = "user_agent_parsers:\n"
                           "  - regex: '(Foo)Bar/(\\d+)\\.(\\d+)'\n"
                           "    family_replacement: 'Foo $1 $2'\n"
                           "  - regex: 'Baz/(\\d+)'\n"
                           "    family_replacement: 'Baz'\n"
                           "    v2_replacement: '9'\n"
                           "os_parsers:\n"
                           "  - regex: 'Win(95|98)'\n"
                           "    os_replacement: 'Windows $1'\n"
                           "device_parsers:\n"
                           "  - regex: '; *(PEDI)_(PLUS)_(W) Build'\n"
                           "    device_replacement: 'Odys $1 $2 $3'\n"
                           "    brand_replacement: 'Odys'\n"
                           "    model_replacement: '$1 $2 $3'\n"
                           "  - regex: 'generic(phone)'\n"
                           "    regex_flag: 'i'\n"
                           "    device_replacement: '  Generic $1  '\n";
        char *err = NULL;
        TaUap *u = NULL;
        TaUapResult r;
        int fd = mkstemp(path);

        ASSERT_TRUE(fd >= 0);
        if (fd < 0)
                return;
        ASSERT_EQ_INT(write(fd, yaml, strlen(yaml)), (long long)strlen(yaml));
        close(fd);
        ASSERT_EQ_INT(ta_uap_load(path, &u, &err), 0);
        unlink(path);
        if (!u) {
                TEST_FAIL("%s", strempty(err));
                free(err);
                return;
        }
        /* $n substitution; the groups after the first give the versions */
        ASSERT_EQ_INT(ta_uap_parse_user_agent(u, "x FooBar/12.3 y", &arena, &r), 0);
        ASSERT_STREQ(r.ua_family, "Foo Foo 12");
        ASSERT_STREQ(r.ua_major, "12");
        ASSERT_STREQ(r.ua_minor, "3");
        ASSERT_TRUE(r.ua_patch == NULL);
        /* first match wins; a v2_replacement replaces group 3 */
        ASSERT_EQ_INT(ta_uap_parse_user_agent(u, "Baz/7 FooBar/1.2", &arena, &r), 0);
        ASSERT_STREQ(r.ua_family, "Foo Foo 1");
        ASSERT_EQ_INT(ta_uap_parse_user_agent(u, "Baz/7", &arena, &r), 0);
        /* group 1 is the family's even when a replacement names it: no major here */
        ASSERT_STREQ(r.ua_family, "Baz");
        ASSERT_TRUE(r.ua_major == NULL);
        ASSERT_STREQ(r.ua_minor, "9");
        ASSERT_EQ_INT(
                ta_uap_parse_user_agent(u, "Mozilla/5.0 (Windows; U; Win95; en-US)", &arena, &r),
                0);
        ASSERT_STREQ(r.os_family, "Windows 95");
        ASSERT_STREQ(r.ua_family, "Other");
        ASSERT_EQ_INT(ta_uap_parse_user_agent(u,
                                              "Mozilla/5.0 (Linux; U; Android 4.2.2; de-de; "
                                              "PEDI_PLUS_W Build/JDQ39)",
                                              &arena, &r),
                      0);
        ASSERT_STREQ(r.device_family, "Odys PEDI PLUS W");
        ASSERT_STREQ(r.device_brand, "Odys");
        ASSERT_STREQ(r.device_model, "PEDI PLUS W");
        /* regex_flag 'i', trimming, and the model defaults to group 1 */
        ASSERT_EQ_INT(ta_uap_parse_user_agent(u, "a GENERICPHONE", &arena, &r), 0);
        ASSERT_STREQ(r.device_family, "Generic PHONE");
        ASSERT_TRUE(r.device_brand == NULL);
        ASSERT_STREQ(r.device_model, "PHONE");
        ta_uap_free(u);
        ta_arena_reset(&arena);
}

int main(void)
{
        char *err = NULL;
        TaUap *u = NULL;

        test_errors();
        test_small_file();
        if (access(TA_UAP_DEFAULT, R_OK) < 0) {
                printf("skipped: %s is not installed (Debian package uap-core)\n", TA_UAP_DEFAULT);
                ta_arena_done(&arena);
                return test_failures ? test_result() : 77;
        }
        ASSERT_EQ_INT(ta_uap_load(TA_UAP_DEFAULT, &u, &err), 0);
        if (!u) {
                TEST_FAIL("%s", strempty(err));
                return test_result();
        }
        test_device_attrs(u);
        test_uap_core_suites(u);
        ta_uap_free(u);
        ta_arena_done(&arena);
        return test_result();
}
