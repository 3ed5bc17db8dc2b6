/* trackled-wiki.h - wiki text: CommonMark (cmark-gfm, raw HTML never passes) plus links between
 * trackle's objects: #12 ticket:12 session:7 wiki:Name [[Name]] CamelCase milestone:1.2
 * file:/etc/x source:/etc/x, each written !like:this to keep it as text. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "html.h"

typedef enum WikiLinkKind {
        WIKI_LINK_TICKET,
        WIKI_LINK_SESSION,
        WIKI_LINK_WIKI,
        WIKI_LINK_MILESTONE,
        WIKI_LINK_FILE,
        _WIKI_LINK_MAX,
} WikiLinkKind;

#define WIKI_NAME_MAX 100
#define WIKI_PATH_MAX 4096
#define WIKI_TEXT_MAX ((size_t)1 << 20) /* bytes of one text the renderer accepts */

typedef struct WikiLink {
        WikiLinkKind kind;
        size_t start, end;         /* the span of text that the link replaces */
        int64_t id;                /* ticket and session links */
        size_t target, target_len; /* wiki name, milestone name or path, as offsets */
        size_t label, label_len;   /* the text to show, as offsets */
        bool escaped;              /* written !like:this: show the label, link nothing */
} WikiLink;

/* Find the first link in s[0..n) at or after *pos; on success fill ret, move *pos past it and
 * return true. Pure: no allocation, no state (the fuzz target calls it on anything). */
bool wiki_link_next(const char *s, size_t n, size_t *pos, WikiLink *ret);

/* 1..WIKI_NAME_MAX of A-Z a-z 0-9 _ . / -, no empty, "." or ".." segment, no leading '/'. */
bool wiki_name_valid(const char *s, size_t n);
/* A milestone name: 1..WIKI_NAME_MAX printable characters without control characters. */
bool wiki_milestone_valid(const char *s);

const char *wiki_link_kind_to_string(WikiLinkKind k); /* "ticket", "session", ... */
int wiki_link_kind_from_string(const char *s);        /* -EINVAL if unknown */

/* How a link looks to this viewer, filled by the page that renders the text. */
typedef struct WikiLinkInfo {
        bool exists;  /* false: a missing wiki page (offered for creation), unknown ticket... */
        bool visible; /* false: the viewer may not see it: plain text, no link */
        bool closed;  /* a closed ticket or completed milestone: struck through */
        char title[256];
} WikiLinkInfo;

typedef void (*WikiResolve)(void *userdata, WikiLinkKind kind, int64_t id, const char *target,
                            WikiLinkInfo *ret);

/* The link's URL path and query, escaped for an attribute. */
void wiki_link_href(Html *out, WikiLinkKind kind, int64_t id, const char *target);
/* One link as HTML (used by the renderer and by pages for back-links). */
void wiki_link_html(Html *out, WikiLinkKind kind, int64_t id, const char *target, const char *label,
                    const WikiLinkInfo *info);

/* Render wiki text as HTML into out. resolve may be NULL (every link shown, none checked).
 * Raw HTML in the text is shown as text, URLs other than http(s), mailto, ftp and relative
 * ones are dropped. -EFBIG past WIKI_TEXT_MAX, -ENOMEM. */
int wiki_render(const char *text, WikiResolve resolve, void *userdata, Html *out);

/* Each distinct link target of the text, for back-links: calls fn(kind, key) where key is the
 * decimal id, the wiki or milestone name or the path. */
typedef int (*WikiLinkFn)(void *userdata, WikiLinkKind kind, const char *key);
int wiki_links_foreach(const char *text, WikiLinkFn fn, void *userdata);
