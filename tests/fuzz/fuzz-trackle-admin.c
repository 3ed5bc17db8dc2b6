/* fuzz-trackle-admin.c - libFuzzer target: trackled's ticket-edit and settings requests
 * (trackled-request-admin.c) on arbitrary bytes, answered by a real store in a temporary
 * directory: whatever a local admin-group client sends gets a reply or a reason, never a
 * crash. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "trackled-request-admin.h"
#include "trackled-request.h"
#include "trackled-store.h"

static TrackledStore *store;
static char dir[] = "/tmp/fuzz-trackle-admin-XXXXXX";
static char db[sizeof(dir) + 16];

static void cleanup(void)
{
        static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};

        trackled_store_free(store);
        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
                char p[sizeof(db) + 16];

                snprintf(p, sizeof(p), "%s%s", db, suffixes[i]);
                (void)unlink(p);
        }
        (void)rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        TrackledRequest q;
        const char *err = NULL;
        json_object *o = NULL;
        char msg[1024];
        int64_t id;
        int r;

        if (!store) {
                assert(mkdtemp(dir));
                snprintf(db, sizeof(db), "%s/t.db", dir);
                assert(trackled_store_open(db, &store) == 0);
                assert(trackled_store_ticket_new(store, "fuzz", "a ticket", "text", &id) == 0);
                atexit(cleanup);
        }
        if (size > 1024 * 1024)
                return 0;
        if (trackled_request_parse((const char *)data, size, &q, &err) < 0)
                return 0;
        if (q.op == TRACKLED_OP_ADMIN) {
                r = trackled_admin_request(store, q.root, "fuzz", -1, &o, msg, sizeof(msg));
                assert(r < 0 ? msg[0] != '\0' && o == NULL : o != NULL);
                json_object_put(o);
        }
        trackled_request_done(&q);
        return 0;
}
