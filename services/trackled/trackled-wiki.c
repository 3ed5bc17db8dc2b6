/* trackled-wiki.c - wiki text to HTML: cmark-gfm, then our object-link pass (see the header). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include "macro.h"
#include "trackled-wiki.h"

static const char *const kind_names[_WIKI_LINK_MAX] = {
        [WIKI_LINK_TICKET] = "ticket", [WIKI_LINK_SESSION] = "session",
        [WIKI_LINK_WIKI] = "wiki",     [WIKI_LINK_MILESTONE] = "milestone",
        [WIKI_LINK_FILE] = "file",
};

const char *wiki_link_kind_to_string(WikiLinkKind k)
{
        return k >= 0 && k < _WIKI_LINK_MAX ? kind_names[k] : NULL;
}

int wiki_link_kind_from_string(const char *s)
{
        for (int k = 0; k < _WIKI_LINK_MAX; k++)
                if (streq_ptr(s, kind_names[k]))
                        return k;
        return -EINVAL;
}

static bool is_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_upper(char c)
{
        return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
        return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_word(char c)
{
        return is_alnum(c) || c == '_' || (unsigned char)c >= 0x80;
}

static bool is_name_char(char c)
{
        return is_alnum(c) || c == '_' || c == '.' || c == '/' || c == '-';
}

bool wiki_name_valid(const char *s, size_t n)
{
        size_t seg = 0;

        if (n == 0 || n > WIKI_NAME_MAX || s[0] == '/' || s[n - 1] == '/')
                return false;
        for (size_t i = 0; i <= n; i++) {
                if (i == n || s[i] == '/') {
                        if (i == seg || (i - seg == 1 && s[seg] == '.') ||
                            (i - seg == 2 && s[seg] == '.' && s[seg + 1] == '.'))
                                return false;
                        seg = i + 1;
                        continue;
                }
                if (!is_name_char(s[i]))
                        return false;
        }
        return true;
}

bool wiki_milestone_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > WIKI_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

/* Digits at s[i..n): the value (1..10^18-1) and the end, or false. */
static bool parse_id(const char *s, size_t n, size_t i, int64_t *ret_id, size_t *ret_end)
{
        int64_t v = 0;
        size_t j = i;

        while (j < n && is_digit(s[j]) && j - i < 18)
                v = v * 10 + (s[j++] - '0');
        if (j == i || v == 0 || (j < n && is_word(s[j])))
                return false;
        *ret_id = v;
        *ret_end = j;
        return true;
}

static bool has_prefix(const char *s, size_t n, size_t i, const char *prefix)
{
        size_t l = strlen(prefix);
        return n - i >= l && memcmp(s + i, prefix, l) == 0;
}

/* The end of a run of characters accepted by ok() after i, without trailing punctuation that
 * more likely ends the sentence than the name. */
static size_t run_end(const char *s, size_t n, size_t i, bool (*ok)(char), size_t max)
{
        size_t j = i;

        while (j < n && j - i < max && ok(s[j]))
                j++;
        while (j > i && strchr(".,;:!?)]'-", s[j - 1]))
                j--;
        return j;
}

static bool is_milestone_char(char c)
{
        return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

static bool is_path_char(char c)
{
        return (unsigned char)c > 0x20 && c != 0x7f && !strchr("<>\"'`|", c);
}

static bool camel_case(const char *s, size_t n, size_t i, size_t *ret_end)
{
        unsigned humps = 0;
        size_t j = i;

        while (j < n && is_upper(s[j])) {
                j++;
                if (j >= n || !is_lower(s[j]))
                        return false;
                while (j < n && (is_lower(s[j]) || is_digit(s[j])))
                        j++;
                humps++;
        }
        if (humps < 2 || (j < n && is_word(s[j])) || j - i > WIKI_NAME_MAX)
                return false;
        *ret_end = j;
        return true;
}

/* A link that starts exactly at s[i] (the caller checked the boundary before it). */
static bool link_at(const char *s, size_t n, size_t i, WikiLink *l)
{
        static const struct {
                const char *prefix;
                WikiLinkKind kind;
        } prefixes[] = {
                {"ticket:", WIKI_LINK_TICKET}, {"session:", WIKI_LINK_SESSION},
                {"wiki:", WIKI_LINK_WIKI},     {"milestone:", WIKI_LINK_MILESTONE},
                {"file:", WIKI_LINK_FILE},     {"source:", WIKI_LINK_FILE},
        };
        size_t end;

        *l = (WikiLink){.start = i, .label = i};
        if (s[i] == '#' && i + 1 < n && parse_id(s, n, i + 1, &l->id, &end)) {
                l->kind = WIKI_LINK_TICKET;
                goto found;
        }
        if (has_prefix(s, n, i, "[[")) {
                size_t j = i + 2, name_end, label = 0;

                while (j < n && j - i < 2 + WIKI_NAME_MAX + 1 + 200 && s[j] != ']' &&
                       s[j] != '\n') {
                        if (s[j] == '|' && label == 0)
                                label = j + 1;
                        j++;
                }
                if (!has_prefix(s, n, j, "]]"))
                        return false;
                name_end = label ? label - 1 : j;
                if (!wiki_name_valid(s + i + 2, name_end - i - 2))
                        return false;
                l->kind = WIKI_LINK_WIKI;
                l->target = i + 2;
                l->target_len = name_end - i - 2;
                l->label = label ? label : l->target;
                l->label_len = label ? j - label : l->target_len;
                if (l->label_len == 0) {
                        l->label = l->target;
                        l->label_len = l->target_len;
                }
                l->end = j + 2;
                return true;
        }
        for (size_t p = 0; p < ELEMENTSOF(prefixes); p++) {
                size_t t;

                if (!has_prefix(s, n, i, prefixes[p].prefix))
                        continue;
                t = i + strlen(prefixes[p].prefix);
                l->kind = prefixes[p].kind;
                switch (l->kind) {
                case WIKI_LINK_TICKET:
                case WIKI_LINK_SESSION:
                        if (!parse_id(s, n, t, &l->id, &end))
                                return false;
                        goto found;
                case WIKI_LINK_WIKI:
                        end = run_end(s, n, t, is_name_char, WIKI_NAME_MAX + 1);
                        if (!wiki_name_valid(s + t, end - t))
                                return false;
                        break;
                case WIKI_LINK_MILESTONE:
                        end = run_end(s, n, t, is_milestone_char, WIKI_NAME_MAX + 1);
                        if (end == t || end - t > WIKI_NAME_MAX)
                                return false;
                        break;
                case WIKI_LINK_FILE:
                        if (t >= n || s[t] != '/')
                                return false;
                        end = run_end(s, n, t, is_path_char, WIKI_PATH_MAX + 1);
                        if (end - t > WIKI_PATH_MAX)
                                return false;
                        break;
                default:
                        return false;
                }
                l->target = t;
                l->target_len = end - t;
                goto found;
        }
        if (is_upper(s[i]) && camel_case(s, n, i, &end)) {
                l->kind = WIKI_LINK_WIKI;
                l->target = i;
                l->target_len = end - i;
                goto found;
        }
        return false;
found:
        l->end = end;
        l->label_len = end - i;
        return true;
}

bool wiki_link_next(const char *s, size_t n, size_t *pos, WikiLink *ret)
{
        for (size_t i = *pos; i < n; i++) {
                char prev = i > 0 ? s[i - 1] : ' ';
                bool escaped = false;
                size_t at = i;

                if (is_word(prev) || prev == '&' || prev == '/' || prev == ':' || prev == '#' ||
                    (prev == '[' && s[i] == '['))
                        continue;
                if (s[i] == '!' && i + 1 < n) {
                        escaped = true;
                        at = i + 1;
                }
                if (!strchr("#[tswmfsABCDEFGHIJKLMNOPQRSTUVWXYZ", s[at]))
                        continue;
                if (!link_at(s, n, at, ret))
                        continue;
                if (escaped) {
                        ret->escaped = true;
                        ret->start = i;
                        ret->label = at;
                        ret->label_len = ret->end - at;
                }
                *pos = ret->end;
                return true;
        }
        *pos = n;
        return false;
}

void wiki_link_href(Html *out, WikiLinkKind kind, int64_t id, const char *target)
{
        switch (kind) {
        case WIKI_LINK_TICKET:
                html_printf(out, "/ticket/%" PRIi64, id);
                break;
        case WIKI_LINK_SESSION:
                html_printf(out, "/session/%" PRIi64, id);
                break;
        case WIKI_LINK_WIKI:
                html_raw(out, "/wiki/");
                html_url_path(out, target);
                break;
        case WIKI_LINK_MILESTONE:
                html_raw(out, "/milestone/");
                html_url_arg(out, target);
                break;
        case WIKI_LINK_FILE:
                html_raw(out, "/file?path=");
                html_url_arg(out, target);
                break;
        default:
                html_raw(out, "/");
        }
}

void wiki_link_html(Html *out, WikiLinkKind kind, int64_t id, const char *target, const char *label,
                    const WikiLinkInfo *info)
{
        if (info && !info->visible) {
                html_txt(out, label);
                return;
        }
        html_printf(out, "<a class=\"%s%s%s\" href=\"", kind_names[kind],
                    info && !info->exists ? " missing" : "", info && info->closed ? " closed" : "");
        wiki_link_href(out, kind, id, target);
        html_raw(out, "\"");
        if (info && info->title[0])
                html_attribute(out, "title", info->title);
        html_raw(out, ">");
        html_txt(out, label);
        if (info && !info->exists && kind == WIKI_LINK_WIKI)
                html_raw(out, "?");
        html_raw(out, "</a>");
}

/* ---- cmark */

/* cmark_node_free() does not accept NULL */
static void node_free(cmark_node *n)
{
        if (n)
                cmark_node_free(n);
}

static cmark_parser *parser_new(void)
{
        static const char *const extensions[] = {"table", "strikethrough", "autolink", "tagfilter"};
        cmark_parser *p;

        cmark_gfm_core_extensions_ensure_registered();
        p = cmark_parser_new(CMARK_OPT_VALIDATE_UTF8);
        if (!p)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(extensions); i++) {
                cmark_syntax_extension *e = cmark_find_syntax_extension(extensions[i]);
                if (e)
                        cmark_parser_attach_syntax_extension(p, e);
        }
        return p;
}

static bool url_allowed(const char *url)
{
        static const char *const schemes[] = {"http:", "https:", "mailto:", "ftp:"};
        size_t colon;

        if (!url || !*url)
                return true;
        colon = strcspn(url, ":/?#");
        if (url[colon] != ':')
                return true; /* relative */
        for (size_t i = 0; i < ELEMENTSOF(schemes); i++)
                if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0)
                        return true;
        return false;
}

typedef struct Walk {
        cmark_node **text;
        size_t n_text, size_text;
        bool failed;
} Walk;

/* Collect the text nodes the link pass may rewrite (not inside links, images or code), turn
 * raw HTML into text and drop unsafe URLs. The tree is changed only after the walk. */
static int walk(cmark_node *root, Walk *w, cmark_node ***ret_html, size_t *ret_n_html)
{
        cmark_iter *it = cmark_iter_new(root);
        cmark_node **html = NULL;
        size_t n_html = 0, size_html = 0;
        int in_link = 0;
        cmark_event_type ev;

        if (!it)
                return -ENOMEM;
        while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
                cmark_node *node = cmark_iter_get_node(it);
                cmark_node_type t = cmark_node_get_type(node);

                if (t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE) {
                        if (ev == CMARK_EVENT_ENTER) {
                                in_link++;
                                if (!url_allowed(cmark_node_get_url(node)))
                                        cmark_node_set_url(node, "");
                        } else
                                in_link--;
                        continue;
                }
                if (ev != CMARK_EVENT_ENTER)
                        continue;
                if (t == CMARK_NODE_HTML_BLOCK || t == CMARK_NODE_HTML_INLINE) {
                        if (n_html == size_html) {
                                size_t size = size_html ? size_html * 2 : 16;
                                cmark_node **p = reallocarray(html, size, sizeof(*p));
                                if (!p)
                                        goto oom;
                                html = p;
                                size_html = size;
                        }
                        html[n_html++] = node;
                } else if (t == CMARK_NODE_TEXT && in_link == 0) {
                        if (w->n_text == w->size_text) {
                                size_t size = w->size_text ? w->size_text * 2 : 64;
                                cmark_node **p = reallocarray(w->text, size, sizeof(*p));
                                if (!p)
                                        goto oom;
                                w->text = p;
                                w->size_text = size;
                        }
                        w->text[w->n_text++] = node;
                }
        }
        cmark_iter_free(it);
        *ret_html = html;
        *ret_n_html = n_html;
        return 0;
oom:
        cmark_iter_free(it);
        free(html);
        return -ENOMEM;
}

/* Raw HTML becomes what it is: text (a block as a code block, so it stays readable). */
static void defuse_html(cmark_node *node)
{
        bool block = cmark_node_get_type(node) == CMARK_NODE_HTML_BLOCK;
        cmark_node *repl = cmark_node_new(block ? CMARK_NODE_CODE_BLOCK : CMARK_NODE_TEXT);

        if (!repl)
                return;
        cmark_node_set_literal(repl, cmark_node_get_literal(node));
        if (!cmark_node_insert_before(node, repl)) {
                node_free(repl);
                repl = NULL;
        }
        cmark_node_unlink(node);
        node_free(node);
}

static char *substr(const char *s, size_t start, size_t len)
{
        return strndup(s + start, len);
}

static cmark_node *text_node(const char *s, size_t n)
{
        cmark_node *t = cmark_node_new(CMARK_NODE_TEXT);
        _cleanup_free_ char *lit = strndup(s, n);

        if (!t || !lit || !cmark_node_set_literal(t, lit)) {
                node_free(t);
                return NULL;
        }
        return t;
}

static bool insert(cmark_node *node, cmark_node *n)
{
        if (cmark_node_insert_before(node, n))
                return true;
        node_free(n);
        return false;
}

/* Where a custom inline may not go (a table cell), a plain link: the same href and title, no
 * class. */
static int insert_plain_link(cmark_node *node, const WikiLink *l, const char *target,
                             const char *label, const WikiLinkInfo *info)
{
        Html href = HTML_INIT;
        cmark_node *link, *text;
        int r = -ENOMEM;

        if (!info->visible) {
                text = text_node(label, strlen(label));
                return text && insert(node, text) ? 0 : -ENOMEM;
        }
        wiki_link_href(&href, l->kind, l->id, target);
        link = cmark_node_new(CMARK_NODE_LINK);
        text = text_node(label, strlen(label));
        if (link && text && html_error(&href) == 0 && cmark_node_set_url(link, html_str(&href)) &&
            cmark_node_set_title(link, info->title) && cmark_node_append_child(link, text)) {
                text = NULL;
                r = insert(node, TAKE_PTR(link)) ? 0 : -ENOMEM;
        }
        node_free(text);
        node_free(link);
        html_done(&href);
        return r;
}

/* Split one text node around its links; returns -ENOMEM or 0. */
static int link_text(cmark_node *node, WikiResolve resolve, void *userdata)
{
        const char *s = cmark_node_get_literal(node);
        size_t n = s ? strlen(s) : 0, pos = 0, last = 0;
        WikiLink l;
        bool any = false;

        if (n == 0)
                return 0;
        while (wiki_link_next(s, n, &pos, &l)) {
                _cleanup_free_ char *target = substr(s, l.target, l.target_len);
                _cleanup_free_ char *label = substr(s, l.label, l.label_len);
                WikiLinkInfo info = {.exists = true, .visible = true};
                cmark_node *before, *link = NULL;

                if (!target || !label)
                        return -ENOMEM;
                before = text_node(s + last, l.start - last);
                if (!before || !insert(node, before))
                        return -ENOMEM;
                if (l.escaped) {
                        link = text_node(label, strlen(label));
                        if (!link || !insert(node, link))
                                return -ENOMEM;
                } else {
                        Html h = HTML_INIT;
                        bool ok;

                        if (resolve)
                                resolve(userdata, l.kind, l.id, target, &info);
                        wiki_link_html(&h, l.kind, l.id, target, label, &info);
                        if (html_error(&h) == 0)
                                link = cmark_node_new(CMARK_NODE_CUSTOM_INLINE);
                        ok = link && cmark_node_set_on_enter(link, html_str(&h));
                        html_done(&h);
                        if (!ok) {
                                node_free(link);
                                return -ENOMEM;
                        }
                        if (!insert(node, link) &&
                            insert_plain_link(node, &l, target, label, &info) < 0)
                                return -ENOMEM;
                }
                last = l.end;
                any = true;
        }
        if (!any)
                return 0;
        if (last < n) {
                cmark_node *after = text_node(s + last, n - last);
                if (!after || !insert(node, after))
                        return -ENOMEM;
        }
        cmark_node_unlink(node);
        node_free(node);
        return 0;
}

static int parse(const char *text, cmark_parser **ret_parser, cmark_node **ret_root, Walk *w)
{
        cmark_parser *p;
        cmark_node *root, **html = NULL;
        size_t n_html = 0, n = text ? strlen(text) : 0;
        int r;

        if (n > WIKI_TEXT_MAX)
                return -EFBIG;
        p = parser_new();
        if (!p)
                return -ENOMEM;
        cmark_parser_feed(p, text ? text : "", n);
        root = cmark_parser_finish(p);
        if (!root) {
                cmark_parser_free(p);
                return -ENOMEM;
        }
        cmark_consolidate_text_nodes(root);
        r = walk(root, w, &html, &n_html);
        if (r < 0) {
                node_free(root);
                cmark_parser_free(p);
                return r;
        }
        for (size_t i = 0; i < n_html; i++)
                defuse_html(html[i]);
        free(html);
        *ret_parser = p;
        *ret_root = root;
        return 0;
}

int wiki_render(const char *text, WikiResolve resolve, void *userdata, Html *out)
{
        cmark_parser *p;
        cmark_node *root;
        Walk w = {};
        char *rendered;
        int r;

        r = parse(text, &p, &root, &w);
        if (r < 0)
                return r;
        for (size_t i = 0; i < w.n_text && r >= 0; i++)
                r = link_text(w.text[i], resolve, userdata);
        free(w.text);
        if (r >= 0) {
                /* safe mode (no CMARK_OPT_UNSAFE): raw HTML and unsafe URLs are left out by
                 * cmark too, behind our own pass above */
                rendered = cmark_render_html(root, CMARK_OPT_DEFAULT,
                                             cmark_parser_get_syntax_extensions(p));
                if (rendered) {
                        html_raw(out, rendered);
                        free(rendered);
                } else
                        r = -ENOMEM;
        }
        node_free(root);
        cmark_parser_free(p);
        return r < 0 ? r : html_error(out);
}

int wiki_links_foreach(const char *text, WikiLinkFn fn, void *userdata)
{
        cmark_parser *p;
        cmark_node *root;
        Walk w = {};
        int r;

        r = parse(text, &p, &root, &w);
        if (r < 0)
                return r;
        for (size_t i = 0; i < w.n_text && r >= 0; i++) {
                const char *s = cmark_node_get_literal(w.text[i]);
                size_t n = s ? strlen(s) : 0, pos = 0;
                WikiLink l;

                while (r >= 0 && wiki_link_next(s, n, &pos, &l)) {
                        char key[WIKI_PATH_MAX + 1];

                        if (l.escaped)
                                continue;
                        if (l.kind == WIKI_LINK_TICKET || l.kind == WIKI_LINK_SESSION)
                                snprintf(key, sizeof(key), "%" PRIi64, l.id);
                        else
                                snprintf(key, sizeof(key), "%.*s", (int)l.target_len, s + l.target);
                        r = fn(userdata, l.kind, key);
                }
        }
        free(w.text);
        node_free(root);
        cmark_parser_free(p);
        return r;
}
