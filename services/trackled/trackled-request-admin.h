/* trackled-request-admin.h - the console requests that edit tickets after creation and
 * trackle's settings (trackle-protocol(7): ticket.update, enum.*, milestone.*, wiki.*,
 * setting.*, db.*): their validation and their answers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "trackled-store.h"

#define TRACKLED_WIKI_TEXT_MAX (1024 * 1024)
#define TRACKLED_CHANGES_MAX 10000

/* Is op one of the requests handled here? */
bool trackled_admin_op_known(const char *op);

/* Handle request (its "op" known), from user (the peer's name), with fd the file descriptor
 * that came with the request (-1: none; only db.backup uses one, and does not close it).
 * Returns 0 and the whole reply object ({"ok": true, ...}) in *ret, or -errno with the reason
 * in err. */
int trackled_admin_request(TrackledStore *store, json_object *request, const char *user, int fd,
                           json_object **ret, char *err, size_t err_size);
