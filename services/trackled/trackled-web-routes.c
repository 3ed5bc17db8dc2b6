/* trackled-web-routes.c - the page table of the web: each page is one function
 * (trackled-web.h, trackled-page.h), searched in order, first match wins. */
#include "macro.h"
#include "trackled-page.h"
#include "trackled-web.h"

const WebRoute web_routes[] = {
        {"/", web_page_index, 0},
        {"/style.css", web_page_style, 0},
        {"/newticket", web_page_newticket, WEB_ROUTE_POST},
        {"/ticket/", web_page_ticket, WEB_ROUTE_PREFIX | WEB_ROUTE_POST},
        {"/report", web_page_report, 0},
        {"/wiki", web_page_wiki, 0},
        {"/wiki/", web_page_wiki, WEB_ROUTE_PREFIX | WEB_ROUTE_POST},
        {"/session/", web_page_session, WEB_ROUTE_PREFIX | WEB_ROUTE_POST | WEB_ROUTE_LOGIN},
        {"/file", web_page_file, WEB_ROUTE_LOGIN},
        {"/timeline", web_page_timeline, 0},
        {"/roadmap", web_page_roadmap, 0},
        {"/milestone/", web_page_milestone, WEB_ROUTE_PREFIX},
        {"/search", web_page_search, 0},
};
const size_t web_n_routes = ELEMENTSOF(web_routes);
