/* trackled-web-routes.c - the page table of the web: each page is one function
 * (trackled-web.h), searched in order, first match wins. */
#include "macro.h"
#include "trackled-web.h"

const WebRoute web_routes[] = {
        {"/", web_page_index, 0},
};
const size_t web_n_routes = ELEMENTSOF(web_routes);

/* A placeholder until the pages arrive: the start page links the JSON API's manual. */
int web_page_index(const WebRequest *req, WebResponse *resp)
{
        Html *h = &resp->body;

        html_raw(h, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
        html_txt(h, req->config->site_name);
        html_raw(h, "</title><link rel=\"stylesheet\" href=\"/trackle.css\"></head><body><h1>");
        html_txt(h, req->config->site_name);
        html_raw(h, "</h1>");
        if (req->user)
                html_printf(h, "<p>Logged in as %s. <a href=\"/logout\">Logout</a></p>", req->user);
        else
                html_raw(h, "<p><a href=\"/login\">Login</a></p>");
        html_raw(h, "</body></html>\n");
        return 0;
}
