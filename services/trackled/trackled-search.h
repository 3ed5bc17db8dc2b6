/* trackled-search.h - what the web finds and links: full-text search (FTS5) over tickets,
 * comments, wiki pages, session commands, annotations and file paths, and back-links between
 * objects, both filtered by what the viewer may see. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "trackled-store.h"
#include "trackled-wiki.h"

#define TRACKLED_SEARCH_TERMS_MAX 16
#define TRACKLED_SEARCH_QUERY_MAX 512

/* The FTS5 query for what a user typed: each whitespace-separated word a quoted phrase (so no
 * user text is FTS syntax), all of them required. -EINVAL if there is no word or too many. */
int trackled_search_query(const char *q, char **ret);

/* Hits, best or newest first, at most limit per kind: [{kind: "ticket"|"comment"|"wiki"|
 * "command"|"file"|"annotation", ticket|session|name|path, title, snippet, time}]. In snippet,
 * \x02 and \x03 bracket the matched words. Without admin: no unconfirmed tickets, no private
 * pages, nothing of sessions. */
int trackled_search(TrackledStore *s, const char *q, bool admin, size_t limit, json_object **ret);

#define TRACKLED_LINKS_REFRESH_MAX 200

/* Parse the texts queued in link_dirty (by triggers, whoever changed them) into object_link,
 * at most TRACKLED_LINKS_REFRESH_MAX of them per call. */
int trackled_links_refresh(TrackledStore *s);
/* The objects whose texts link to (kind, key), as [{kind, key, title}], only those the viewer
 * may see. */
int trackled_links_back(TrackledStore *s, WikiLinkKind kind, const char *key, bool admin,
                        json_object **ret);
