/* trackled-page.h - what the HTML pages (trackled-page-*.c) share: the page frame, forms with
 * their CSRF field, wiki text with links resolved for the viewer, people and times. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "html.h"
#include "state.h"
#include "trackled-web.h"
#include "trackled-wiki.h"

/* SQL: may the viewer (?N: admin) see this ticket row t? Unconfirmed tickets are their
 * reporter's and the sysadmins' only. */
#define PAGE_TICKET_VISIBLE(t, admin) "(" admin " OR " t ".status != 'unconfirmed')"
/* SQL: may the viewer see this wiki page row p? */
#define PAGE_WIKI_VISIBLE(p, admin) "(" admin " OR " p ".private = 0)"

#define PAGE_TEXT_MAX (256 * 1024) /* a description, comment, annotation or wiki page */

/* The frame: doctype, head, banner with search and login, main navigation, <main>; nav is the
 * active tab ("wiki", "timeline", "roadmap", "report", "newticket", "search" or NULL). */
void page_begin(const WebRequest *req, WebResponse *resp, const char *title, const char *nav);
void page_end(const WebRequest *req, WebResponse *resp);
/* A complete error page (404, 403, 400...). Returns 0. */
int page_error(const WebRequest *req, WebResponse *resp, unsigned status, const char *message);

/* <form method="post" action="..."> with the CSRF field; action is a path written by us. */
void page_form_begin(const WebRequest *req, Html *h, const char *action, const char *cls);
void page_form_end(Html *h);

/* Who did something: an account name as is; an e-mail address only to sysadmins (others see
 * the part before the '@' and an ellipsis). */
void page_person(const WebRequest *req, Html *h, const char *who);
/* "2026-12-04 22:54" in UTC, in a <time> element. */
void page_time(Html *h, int64_t t);
void page_time_iso(Html *h, const char *iso);

/* Wiki text with its links resolved for this viewer (missing pages, closed tickets, what the
 * viewer may not see). An error is shown in place. */
void page_wiki(const WebRequest *req, Html *h, const char *text);
/* "Referenced by": back-links of an object; nothing when there are none. */
void page_backlinks(const WebRequest *req, Html *h, WikiLinkKind kind, const char *key);

/* A unified diff in a <pre>: deletions red, additions green, hunk headers blue. */
void page_diff(Html *h, const char *diff);

/* Unsigned decimal id in 1..2^53 from a path rest or an argument, or -EINVAL. */
int page_parse_id(const char *s, int64_t *ret);
/* A prepared statement for this request (finalize it); -errno. */
int page_prepare(const WebRequest *req, const char *sql, sqlite3_stmt **ret);
const char *page_col(sqlite3_stmt *st, int i); /* text column, "" for NULL */

/* json helpers for rows of the store's JSON views */
const char *page_json_str(json_object *o, const char *key); /* "" when absent or null */
int64_t page_json_int(json_object *o, const char *key, int64_t def);

/* From the plumbing (trackled-web-api.c).
 * Filing by an anonymous visitor: rate limits, the unconfirmed ticket and the confirmation
 * mail; 0 filed and mailed, > 0 refused with resp filled in, -errno. The mails after a change
 * made by a sysadmin (action "assign", "close", "reopen" or NULL; "new" for a ticket a
 * sysadmin filed). */
int web_ticket_new_anonymous(const WebRequest *req, WebResponse *resp, const char *email,
                             const char *summary, const char *description, const char *type,
                             const char *severity);
int web_ticket_changed(const WebRequest *req, int64_t id, const char *action, const char *comment);

/* The pages; the routes are in trackled-web-routes.c. */
int web_page_style(const WebRequest *req, WebResponse *resp);
int web_page_newticket(const WebRequest *req, WebResponse *resp);
int web_page_ticket(const WebRequest *req, WebResponse *resp);
int web_page_report(const WebRequest *req, WebResponse *resp);
int web_page_wiki(const WebRequest *req, WebResponse *resp);
int web_page_session(const WebRequest *req, WebResponse *resp);
int web_page_timeline(const WebRequest *req, WebResponse *resp);
int web_page_roadmap(const WebRequest *req, WebResponse *resp);
int web_page_milestone(const WebRequest *req, WebResponse *resp);
int web_page_search(const WebRequest *req, WebResponse *resp);
int web_page_file(const WebRequest *req, WebResponse *resp);
