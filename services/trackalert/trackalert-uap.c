/* trackalert-uap.c - device identifiers to device_attrs: uap-core's regexes.yaml for web user
 * agents, and the IMAP ID and mobile-app formats wforce parses. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml.h>

#include "log.h"
#include "macro.h"
#include "trackalert-uap.h"

/* A match that takes more steps than this is a runaway (uap-core has had regexes with
 * catastrophic backtracking): it counts as no match. */
#define UAP_MATCH_LIMIT 1000000
#define UAP_SHARDS 64

typedef enum Section { SECTION_UA, SECTION_OS, SECTION_DEVICE, _SECTION_MAX } Section;

static const char *const section_names[_SECTION_MAX] = {
        [SECTION_UA] = "user_agent_parsers",
        [SECTION_OS] = "os_parsers",
        [SECTION_DEVICE] = "device_parsers",
};

/* The replacement keys of each section, in the order of the groups they stand for. */
#define REPL_MAX 5
static const char *const repl_names[_SECTION_MAX][REPL_MAX] = {
        [SECTION_UA] = {"family_replacement", "v1_replacement", "v2_replacement", "v3_replacement",
                        NULL},
        [SECTION_OS] = {"os_replacement", "os_v1_replacement", "os_v2_replacement",
                        "os_v3_replacement", "os_v4_replacement"},
        [SECTION_DEVICE] = {"device_replacement", "brand_replacement", "model_replacement", NULL,
                            NULL},
};

typedef struct Rule {
        pcre2_code *re;
        char *repl[REPL_MAX];
        unsigned line;
} Rule;

typedef enum Kind { KIND_HTTP, KIND_IMAP, KIND_MOBILE, _KIND_MAX } Kind;

static const char *const kind_keys[_KIND_MAX][10] = {
        [KIND_HTTP] = {"device.family", "device.model", "device.brand", "os.family", "os.major",
                       "os.minor", "browser.family", "browser.major", "browser.minor", NULL},
        [KIND_IMAP] = {"imapc.family", "imapc.major", "imapc.minor", "os.family", "os.major",
                       "os.minor", NULL},
        [KIND_MOBILE] = {"os.family", "os.major", "os.minor", "app.name", "app.brand", "app.major",
                         "app.minor", "device.family", NULL},
};

typedef struct CacheEntry {
        uint64_t hash;
        Kind kind;
        size_t key_len;
        char *block; /* the key, then each value, NUL-terminated */
} CacheEntry;

typedef struct Shard {
        pthread_mutex_t lock;
        CacheEntry entries[TA_UAP_CACHE_SIZE / UAP_SHARDS];
} Shard;

enum {
        X_IMAP_NAME,
        X_IMAP_OS,
        X_IMAP_OS_VERSION,
        X_IMAP_VERSION,
        X_MOB_APP,
        X_MOB_OS,
        X_MOB_DEVICE,
        _X_MAX
};

/* wforce's device_parser.cc, in PCRE2 syntax. */
static const char *const extra_patterns[_X_MAX] = {
        [X_IMAP_NAME] = "\"name\"\\s?\"(.*?)\"",
        [X_IMAP_OS] = "\"os\"\\s?\"(.*?)\"",
        [X_IMAP_OS_VERSION] = "\"os-version\"\\s?\"(\\d+)\\.(\\d+).*?\"",
        [X_IMAP_VERSION] = "\"version\"\\s?\"(\\d+)\\.(\\d+).*?\"",
        [X_MOB_APP] = "^(.*?)\\.(.*?)\\.(.*?)/(\\d+)\\.(\\d+)",
        [X_MOB_OS] = "OS:\\s*(\\d+)\\.(\\d+)",
        [X_MOB_DEVICE] = "device:\\s*([a-zA-Z0-9\\-\\._/ \\t]+)",
};

struct TaUap {
        Rule *rules[_SECTION_MAX];
        size_t n_rules[_SECTION_MAX];
        pcre2_code *extra[_X_MAX];
        uint32_t max_groups;
        bool jit;
        pcre2_match_context *mctx;
        Shard shards[UAP_SHARDS];
};

/* ---- loading */

static int fail(char **ret_error, const yaml_node_t *n, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_error, const yaml_node_t *n, const char *fmt, ...)
{
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0)
                m = NULL;
        if (n) {
                if (asprintf(ret_error, "line %zu: %s", n->start_mark.line + 1, strempty(m)) < 0)
                        *ret_error = NULL;
        } else
                *ret_error = TAKE_PTR(m);
        return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
        return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool is_null(const yaml_node_t *n)
{
        const char *s = scalar(n);

        return n && n->type == YAML_SCALAR_NODE &&
               n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
               (streq(s, "") || streq(s, "~") || streq(s, "null"));
}

static int compile(TaUap *u, const char *pattern, uint32_t options, pcre2_code **ret, char *errbuf,
                   size_t errsize)
{
        PCRE2_SIZE offset;
        uint32_t groups = 0;
        pcre2_code *re;
        int errcode;

        re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &errcode, &offset,
                           NULL);
        if (!re) {
                PCRE2_UCHAR msg[160];

                pcre2_get_error_message(errcode, msg, sizeof(msg));
                snprintf(errbuf, errsize, "%s at offset %zu", (const char *)msg, (size_t)offset);
                return -EINVAL;
        }
        /* Without executable memory (MemoryDenyWriteExecute=) the JIT cannot work: the
         * interpreter is used then, and the cache keeps that affordable. */
        if (u->jit && pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) != 0)
                u->jit = false;
        (void)pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
        u->max_groups = MAX(u->max_groups, groups);
        *ret = re;
        return 0;
}

static int load_rule(TaUap *u, yaml_document_t *doc, Section sec, yaml_node_t *item, Rule *rule,
                     char **ret_error)
{
        const char *regex = NULL, *flag = NULL;
        char err[200];
        int r;

        *rule = (Rule){.line = (unsigned)item->start_mark.line + 1};
        if (item->type != YAML_MAPPING_NODE)
                return fail(ret_error, item, "an entry of %s must be a mapping",
                            section_names[sec]);
        for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key);
                yaml_node_t *v = yaml_document_get_node(doc, p->value);
                const char *key = scalar(k);

                if (!key)
                        return fail(ret_error, k, "keys must be plain strings");
                if (is_null(v))
                        continue;
                if (!scalar(v))
                        return fail(ret_error, v, "the value of '%s' must be a string", key);
                if (streq(key, "regex"))
                        regex = scalar(v);
                else if (streq(key, "regex_flag"))
                        flag = scalar(v);
                else
                        for (size_t i = 0; i < REPL_MAX; i++)
                                if (repl_names[sec][i] && streq(key, repl_names[sec][i])) {
                                        rule->repl[i] = strdup(scalar(v));
                                        if (!rule->repl[i])
                                                return -ENOMEM;
                                }
                /* other keys belong to newer uap-core releases: ignored */
        }
        if (!regex)
                return fail(ret_error, item, "an entry of %s without 'regex'", section_names[sec]);
        if (flag && !streq(flag, "i"))
                return fail(ret_error, item, "regex_flag '%s' is not supported (only 'i')", flag);
        r = compile(u, regex, flag ? PCRE2_CASELESS : 0, &rule->re, err, sizeof(err));
        if (r < 0)
                return fail(ret_error, item, "bad regex '%s': %s", regex, err);
        return 0;
}

static int load_section(TaUap *u, yaml_document_t *doc, Section sec, yaml_node_t *list,
                        char **ret_error)
{
        size_t n;
        int r;

        if (list->type != YAML_SEQUENCE_NODE)
                return fail(ret_error, list, "%s must be a list", section_names[sec]);
        n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
        u->rules[sec] = calloc(MAX(n, (size_t)1), sizeof(Rule));
        if (!u->rules[sec])
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *item = yaml_document_get_node(doc, list->data.sequence.items.start[i]);

                r = load_rule(u, doc, sec, item, &u->rules[sec][i], ret_error);
                u->n_rules[sec] = i + 1; /* freed with the rest, also on failure */
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_document(TaUap *u, yaml_document_t *doc, char **ret_error)
{
        yaml_node_t *root = yaml_document_get_root_node(doc);
        bool found = false;
        int r;

        if (!root)
                return fail(ret_error, NULL, "the file is empty");
        if (root->type != YAML_MAPPING_NODE)
                return fail(ret_error, root, "the document must be a mapping of %s, %s and %s",
                            section_names[0], section_names[1], section_names[2]);
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key);
                const char *key = scalar(k);

                for (Section s = 0; s < _SECTION_MAX; s++) {
                        if (!key || !streq(key, section_names[s]))
                                continue;
                        if (u->rules[s])
                                return fail(ret_error, k, "%s given twice", key);
                        r = load_section(u, doc, s, yaml_document_get_node(doc, p->value),
                                         ret_error);
                        if (r < 0)
                                return r;
                        found = true;
                }
        }
        if (!found)
                return fail(ret_error, root, "none of %s, %s or %s", section_names[0],
                            section_names[1], section_names[2]);
        return 0;
}

int ta_uap_load(const char *path, TaUap **ret, char **ret_error)
{
        _cleanup_(ta_uap_freep) TaUap *u = NULL;
        yaml_parser_t parser;
        yaml_document_t doc;
        char err[200];
        FILE *f;
        int r;

        *ret_error = NULL;
        f = fopen(path, "re");
        if (!f) {
                r = negative_errno();
                if (asprintf(ret_error, "cannot open: %s", strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        u = calloc(1, sizeof(*u));
        if (!u || !yaml_parser_initialize(&parser)) {
                fclose(f);
                return -ENOMEM;
        }
        u->jit = true;
        for (size_t i = 0; i < UAP_SHARDS; i++)
                pthread_mutex_init(&u->shards[i].lock, NULL);
        yaml_parser_set_input_file(&parser, f);
        if (!yaml_parser_load(&parser, &doc)) {
                if (asprintf(ret_error, "line %zu: %s%s%s", parser.problem_mark.line + 1,
                             strempty(parser.problem), parser.context ? " " : "",
                             strempty(parser.context)) < 0)
                        *ret_error = NULL;
                yaml_parser_delete(&parser);
                fclose(f);
                return -EINVAL;
        }
        r = load_document(u, &doc, ret_error);
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        fclose(f);
        if (r < 0)
                return r;
        for (size_t i = 0; i < _X_MAX; i++) {
                r = compile(u, extra_patterns[i], 0, &u->extra[i], err, sizeof(err));
                if (r < 0)
                        return r; /* a bug: the patterns are ours */
        }
        u->mctx = pcre2_match_context_create(NULL);
        if (!u->mctx)
                return -ENOMEM;
        pcre2_set_match_limit(u->mctx, UAP_MATCH_LIMIT);
        *ret = TAKE_PTR(u);
        return 0;
}

TaUap *ta_uap_free(TaUap *u)
{
        if (!u)
                return NULL;
        for (Section s = 0; s < _SECTION_MAX; s++) {
                for (size_t i = 0; i < u->n_rules[s]; i++) {
                        pcre2_code_free(u->rules[s][i].re);
                        for (size_t j = 0; j < REPL_MAX; j++)
                                free(u->rules[s][i].repl[j]);
                }
                free(u->rules[s]);
        }
        for (size_t i = 0; i < _X_MAX; i++)
                pcre2_code_free(u->extra[i]);
        pcre2_match_context_free(u->mctx);
        for (size_t i = 0; i < UAP_SHARDS; i++) {
                for (size_t j = 0; j < ELEMENTSOF(u->shards[i].entries); j++)
                        free(u->shards[i].entries[j].block);
                pthread_mutex_destroy(&u->shards[i].lock);
        }
        free(u);
        return NULL;
}

void ta_uap_freep(TaUap **u)
{
        ta_uap_free(*u);
}

void ta_uap_info(const TaUap *u, size_t *ret_ua, size_t *ret_os, size_t *ret_device, bool *ret_jit)
{
        *ret_ua = u->n_rules[SECTION_UA];
        *ret_os = u->n_rules[SECTION_OS];
        *ret_device = u->n_rules[SECTION_DEVICE];
        *ret_jit = u->jit;
}

/* ---- matching */

typedef struct Match {
        const char *subject;
        PCRE2_SIZE *ov;
        int n; /* pairs set by pcre2_match() */
} Match;

static bool match(TaUap *u, pcre2_code *re, const char *s, size_t len, pcre2_match_data *md,
                  Match *ret)
{
        int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, u->mctx);

        if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
                rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, PCRE2_NO_JIT, md, u->mctx);
        if (rc <= 0)
                return false; /* no match, or over the limits */
        *ret = (Match){s, pcre2_get_ovector_pointer(md), rc};
        return true;
}

/* Group i (1-based), or NULL if it did not take part in the match. */
static bool group(const Match *m, int i, const char **ret, size_t *ret_len)
{
        if (i >= m->n || m->ov[2 * i] == PCRE2_UNSET)
                return false;
        *ret = m->subject + m->ov[2 * i];
        *ret_len = m->ov[2 * i + 1] - m->ov[2 * i];
        return true;
}

static char *trimmed_or_null(TaArena *a, const char *s, size_t n)
{
        while (n > 0 && strchr(" \t\r\n", *s)) {
                s++;
                n--;
        }
        while (n > 0 && strchr(" \t\r\n", s[n - 1]))
                n--;
        return n > 0 ? ta_arena_strndup(a, s, n) : NULL;
}

/* "$1".."$9" replaced by the groups ("" for one that did not match), then trimmed; an empty
 * result is no value. */
static char *substitute(TaArena *a, const char *repl, const Match *m)
{
        TaBuf b = {};
        char *r;

        for (const char *p = repl; *p; p++) {
                const char *g;
                size_t n;

                if (p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
                        if (group(m, p[1] - '0', &g, &n))
                                ta_buf_add(&b, g, n);
                        p++;
                } else
                        ta_buf_add(&b, p, 1);
        }
        r = b.oom ? NULL : trimmed_or_null(a, b.data ?: "", b.len);
        ta_buf_done(&b);
        return r;
}

/* The value for replacement i of the rule: the replacement if there is one, else group gi. */
static char *value(TaArena *a, const Rule *rule, size_t i, const Match *m, int gi)
{
        const char *g;
        size_t n;

        if (rule->repl[i])
                return substitute(a, rule->repl[i], m);
        if (gi > 0 && group(m, gi, &g, &n))
                return trimmed_or_null(a, g, n);
        return NULL;
}

static const Rule *first_match(TaUap *u, Section sec, const char *s, size_t len,
                               pcre2_match_data *md, Match *ret)
{
        for (size_t i = 0; i < u->n_rules[sec]; i++)
                if (match(u, u->rules[sec][i].re, s, len, md, ret))
                        return &u->rules[sec][i];
        return NULL;
}

int ta_uap_parse_user_agent(TaUap *u, const char *user_agent, TaArena *a, TaUapResult *ret)
{
        size_t len = strnlen(user_agent, TA_UAP_INPUT_MAX);
        pcre2_match_data *md = pcre2_match_data_create(u->max_groups + 1, NULL);
        TaUapResult res = {};
        const Rule *rule;
        Match m;

        if (!md)
                return -ENOMEM;
        rule = first_match(u, SECTION_UA, user_agent, len, md, &m);
        if (rule) {
                res.ua_family = value(a, rule, 0, &m, 1);
                res.ua_major = value(a, rule, 1, &m, 2);
                res.ua_minor = value(a, rule, 2, &m, 3);
                res.ua_patch = value(a, rule, 3, &m, 4);
        }
        rule = first_match(u, SECTION_OS, user_agent, len, md, &m);
        if (rule) {
                res.os_family = value(a, rule, 0, &m, 1);
                res.os_major = value(a, rule, 1, &m, 2);
                res.os_minor = value(a, rule, 2, &m, 3);
                res.os_patch = value(a, rule, 3, &m, 4);
                res.os_patch_minor = value(a, rule, 4, &m, 5);
        }
        rule = first_match(u, SECTION_DEVICE, user_agent, len, md, &m);
        if (rule) {
                res.device_family = value(a, rule, 0, &m, 1);
                res.device_brand = value(a, rule, 1, &m, 0);
                res.device_model = value(a, rule, 2, &m, 1);
        }
        pcre2_match_data_free(md);
        if (!res.ua_family)
                res.ua_family = (char *)"Other";
        if (!res.os_family)
                res.os_family = (char *)"Other";
        if (!res.device_family)
                res.device_family = (char *)"Other";
        *ret = res;
        return 0;
}

static void extra_group(TaUap *u, int which, const char *s, size_t len, pcre2_match_data *md,
                        const char **out[], size_t n_out, TaArena *a)
{
        Match m;

        if (!match(u, u->extra[which], s, len, md, &m))
                return;
        for (size_t i = 0; i < n_out; i++) {
                const char *g;
                size_t n;

                if (out[i] && group(&m, (int)i + 1, &g, &n))
                        *out[i] = ta_arena_strndup(a, g, n);
        }
}

/* Fills values[] in the order of kind_keys[kind]; "" where unknown. */
static int parse_kind(TaUap *u, Kind kind, const char *id, TaArena *a, const char *values[])
{
        size_t len = strnlen(id, TA_UAP_INPUT_MAX);
        pcre2_match_data *md;
        TaUapResult res;
        int r = 0;

        for (size_t i = 0; kind_keys[kind][i]; i++)
                values[i] = "";
        switch (kind) {
        case KIND_HTTP:
                r = ta_uap_parse_user_agent(u, id, a, &res);
                if (r < 0)
                        return r;
                values[0] = res.device_family;
                values[1] = strempty(res.device_model);
                values[2] = strempty(res.device_brand);
                values[3] = res.os_family;
                values[4] = strempty(res.os_major);
                values[5] = strempty(res.os_minor);
                values[6] = res.ua_family;
                values[7] = strempty(res.ua_major);
                values[8] = strempty(res.ua_minor);
                return 0;
        case KIND_IMAP:
                md = pcre2_match_data_create(8, NULL);
                if (!md)
                        return -ENOMEM;
                extra_group(u, X_IMAP_NAME, id, len, md, (const char **[]){&values[0]}, 1, a);
                extra_group(u, X_IMAP_OS, id, len, md, (const char **[]){&values[3]}, 1, a);
                extra_group(u, X_IMAP_VERSION, id, len, md,
                            (const char **[]){&values[1], &values[2]}, 2, a);
                extra_group(u, X_IMAP_OS_VERSION, id, len, md,
                            (const char **[]){&values[4], &values[5]}, 2, a);
                break;
        case KIND_MOBILE:
                md = pcre2_match_data_create(8, NULL);
                if (!md)
                        return -ENOMEM;
                /* brand.os.name/major.minor: app.brand, os.family, app.name, app.major/minor */
                extra_group(u, X_MOB_APP, id, len, md,
                            (const char **[]){&values[4], &values[0], &values[3], &values[5],
                                              &values[6]},
                            5, a);
                extra_group(u, X_MOB_OS, id, len, md, (const char **[]){&values[1], &values[2]}, 2,
                            a);
                extra_group(u, X_MOB_DEVICE, id, len, md, (const char **[]){&values[7]}, 1, a);
                break;
        default:
                return -EINVAL;
        }
        pcre2_match_data_free(md);
        for (size_t i = 0; kind_keys[kind][i]; i++)
                if (!values[i])
                        return -ENOMEM;
        return 0;
}

static uint64_t hash_key(Kind kind, const char *s, size_t n)
{
        uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)kind;

        for (size_t i = 0; i < n; i++)
                h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
        return h;
}

static size_t n_keys(Kind kind)
{
        size_t n = 0;

        while (kind_keys[kind][n])
                n++;
        return n;
}

static bool cache_get(TaUap *u, Kind kind, uint64_t h, const char *id, size_t len, TaArena *a,
                      const char *values[])
{
        Shard *sh = &u->shards[h % UAP_SHARDS];
        CacheEntry *e = &sh->entries[(h / UAP_SHARDS) % ELEMENTSOF(sh->entries)];
        bool hit = false;

        pthread_mutex_lock(&sh->lock);
        if (e->block && e->hash == h && e->kind == kind && e->key_len == len &&
            memcmp(e->block, id, len) == 0) {
                const char *p = e->block + len + 1;

                hit = true;
                for (size_t i = 0; i < n_keys(kind); i++) {
                        values[i] = ta_arena_strdup(a, p);
                        if (!values[i])
                                hit = false;
                        p += strlen(p) + 1;
                }
        }
        pthread_mutex_unlock(&sh->lock);
        return hit;
}

static void cache_put(TaUap *u, Kind kind, uint64_t h, const char *id, size_t len,
                      const char *values[])
{
        Shard *sh = &u->shards[h % UAP_SHARDS];
        CacheEntry *e = &sh->entries[(h / UAP_SHARDS) % ELEMENTSOF(sh->entries)];
        size_t size = len + 1;
        char *block, *p;

        for (size_t i = 0; i < n_keys(kind); i++)
                size += strlen(values[i]) + 1;
        block = malloc(size);
        if (!block)
                return;
        memcpy(block, id, len);
        block[len] = '\0';
        p = block + len + 1;
        for (size_t i = 0; i < n_keys(kind); i++)
                p = stpcpy(p, values[i]) + 1;
        pthread_mutex_lock(&sh->lock);
        free(e->block);
        *e = (CacheEntry){h, kind, len, block};
        pthread_mutex_unlock(&sh->lock);
}

int ta_uap_parse(TaUap *u, const char *protocol, const char *device_id, TaArena *a, TaKvList *attrs)
{
        const char *values[10];
        size_t len = strnlen(device_id, TA_UAP_INPUT_MAX);
        uint64_t h;
        Kind kind;
        int r;

        if (streq(protocol, "http") || streq(protocol, "https"))
                kind = KIND_HTTP;
        else if (streq(protocol, "imap") || streq(protocol, "imaps"))
                kind = KIND_IMAP;
        else if (streq(protocol, "mobileapi"))
                kind = KIND_MOBILE;
        else
                return 0;
        h = hash_key(kind, device_id, len);
        if (!cache_get(u, kind, h, device_id, len, a, values)) {
                r = parse_kind(u, kind, device_id, a, values);
                if (r < 0)
                        return r;
                cache_put(u, kind, h, device_id, len, values);
        }
        for (size_t i = 0; kind_keys[kind][i]; i++) {
                r = ta_kv_list_add_arena(attrs, a, kind_keys[kind][i], values[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}
