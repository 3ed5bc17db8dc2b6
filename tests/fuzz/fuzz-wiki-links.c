/* fuzz-wiki-links.c - libFuzzer target: the wiki object-link parser and the wiki renderer on
 * arbitrary text (anyone can file a ticket description). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "trackled-wiki.h"

static int count(void *userdata, WikiLinkKind kind, const char *key)
{
        assert(wiki_link_kind_to_string(kind) != NULL);
        assert(key[0] != 0);
        (*(size_t *)userdata)++;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *s = (const char *)data;
        size_t pos = 0, n_links = 0, n_found = 0;
        Html h = HTML_INIT;
        char *text;
        WikiLink l;

        if (size > 256 * 1024)
                return 0;
        while (wiki_link_next(s, size, &pos, &l)) {
                assert(l.start < l.end && l.end <= size && pos == l.end);
                assert(l.label >= l.start && l.label + l.label_len <= l.end);
                if (l.kind == WIKI_LINK_TICKET || l.kind == WIKI_LINK_SESSION)
                        assert(l.id > 0);
                else
                        assert(l.target_len > 0 && l.target + l.target_len <= l.end);
                if (l.kind == WIKI_LINK_WIKI)
                        assert(wiki_name_valid(s + l.target, l.target_len));
                n_links++;
        }
        assert(pos == size);

        text = strndup(s, size);
        if (!text)
                return 0;
        if (wiki_render(text, NULL, NULL, &h) == 0) {
                assert(strstr(html_str(&h), "<script") == NULL);
                assert(strstr(html_str(&h), "<img src=x") == NULL);
        }
        html_done(&h);
        (void)wiki_links_foreach(text, count, &n_found);
        free(text);
        return 0;
}
