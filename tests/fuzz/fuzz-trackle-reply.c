/* fuzz-trackle-reply.c - libFuzzer target: the console tool's side of the socket protocol. Any
 * bytes as a JSON reply from trackled are either refused or parsed and rendered (ticket,
 * session, file list, diffs) without reading out of bounds. */
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "trackle-client.h"
#include "trackle-render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_object *o = NULL, *v;
        FILE *f;

        if (size > 1024 * 1024)
                return 0;
        if (trackle_client_parse_reply((const char *)data, size, &o) < 0)
                return 0;
        f = fopen("/dev/null", "we");
        if (!f) {
                json_object_put(o);
                return 0;
        }
        if (json_object_object_get_ex(o, "session", &v)) {
                (void)trackle_render_session(f, v);
                (void)trackle_render_files(f, v, true);
                (void)trackle_render_session_diff(f, v, NULL, true);
        }
        if (json_object_object_get_ex(o, "ticket", &v))
                (void)trackle_render_ticket(f, v);
        if (json_object_object_get_ex(o, "tickets", &v))
                (void)trackle_render_ticket_list(f, v);
        if (json_object_object_get_ex(o, "sessions", &v))
                (void)trackle_render_session_list(f, v);
        (void)trackle_render_json(f, o);
        fclose(f);
        json_object_put(o);
        return 0;
}
