/* fuzz-trackalert-tuple.c - libFuzzer target: a report body to a LoginTuple. Any input either
 * parses into a tuple whose packed copy (what Lua gets) equals it, with attrs sorted and
 * unique, or is refused with a message; the custom-endpoint reader agrees on the syntax. */
#include <assert.h>
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "trackalert-tuple.h"

static void same_list(const TaKvList *a, const TaKvList *b, bool mv)
{
        assert(a->n == b->n);
        for (size_t i = 0; i < a->n; i++) {
                assert(streq(a->items[i].key, b->items[i].key));
                /* json11's std::map: sorted, each key once */
                if (i > 0)
                        assert(strcmp(a->items[i - 1].key, a->items[i].key) < 0);
                if (!mv) {
                        assert(streq(a->items[i].value, b->items[i].value));
                        continue;
                }
                assert(a->items[i].n_values == b->items[i].n_values);
                for (size_t k = 0; k < a->items[i].n_values; k++)
                        assert(streq(a->items[i].values[k], b->items[i].values[k]));
                assert(b->items[i].values[b->items[i].n_values] == NULL);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        TaArena arena = {};
        TaKvList attrs, mv;
        const char *err = NULL, *err2 = NULL;
        char *text, *copy;
        TaTuple t;
        int r, r2;

        if (size > TA_BODY_MAX)
                return 0;
        text = malloc(size + 1);
        copy = malloc(size + 1);
        assert(text && copy);
        memcpy(text, data, size);
        text[size] = '\0';
        memcpy(copy, text, size + 1);

        r = ta_tuple_parse(text, size, &arena, &t, &err);
        if (r < 0) {
                assert(r == -EBADMSG || r == -EADDRNOTAVAIL || r == -ENOMEM);
                assert(err && *err);
        } else {
                size_t n = ta_tuple_packed_size(&t);
                void *block = aligned_alloc(alignof(max_align_t), (n + 15) & ~(size_t)15);
                TaTuple *c;

                assert(block);
                assert(t.login && t.pwhash && t.fail_type && t.protocol && t.device_id &&
                       t.session_id);
                c = ta_tuple_pack(&t, block);
                assert(streq(c->login, t.login) && streq(c->pwhash, t.pwhash) &&
                       streq(c->protocol, t.protocol) && streq(c->device_id, t.device_id) &&
                       streq(c->session_id, t.session_id) && streq(c->fail_type, t.fail_type));
                assert(c->success == t.success && c->tls == t.tls &&
                       c->policy_reject == t.policy_reject);
                assert(memcmp(&c->t, &t.t, sizeof(t.t)) == 0);
                same_list(&t.attrs, &c->attrs, false);
                same_list(&t.attrs_mv, &c->attrs_mv, true);
                same_list(&t.device_attrs, &c->device_attrs, false);
                free(block);
        }

        /* the same syntax for custom endpoint bodies (a bad "remote" is only a report's
         * business) */
        r2 = ta_custom_args_parse(copy, size, &arena, &attrs, &mv, &err2);
        assert((r == -EBADMSG) == (r2 == -EBADMSG));
        if (r == -EBADMSG)
                assert(streq(err, err2));

        ta_arena_done(&arena);
        free(text);
        free(copy);
        return 0;
}
