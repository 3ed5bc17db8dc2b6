/* trackle-admin-util.c - trackle-admin's messages and its requests to trackled. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

#include "trackle-client.h"

#include "trackle-admin.h"

int admin_fail(const char *fmt, ...)
{
        va_list ap;

        fputs("trackle-admin: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return ADMIN_EXIT_FAILURE;
}

int admin_usage(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fputs("trackle-admin: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        if (cmd)
                fprintf(stderr, "\nTry 'trackle-admin %s --help'.\n", cmd);
        else
                fputs("\nTry 'trackle-admin --help'.\n", stderr);
        return ADMIN_EXIT_USAGE;
}

bool admin_wants_help(int argc, char **argv, const char *text)
{
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--"))
                        break;
                if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                        fputs(text, stdout);
                        return true;
                }
        }
        return false;
}

json_object *admin_request(const char *op, ...)
{
        json_object *req = trackle_request_new(op);
        va_list ap;

        if (!req)
                return NULL;
        va_start(ap, op);
        for (;;) {
                const char *k = va_arg(ap, const char *), *v;

                if (!k)
                        break;
                v = va_arg(ap, const char *);
                if (v)
                        json_object_object_add(req, k, json_object_new_string(v));
        }
        va_end(ap);
        return req;
}

int admin_call(json_object *req, const char *key, json_object **ret_reply, json_object **ret_value)
{
        _cleanup_(trackle_client_freep) TrackleClient *c = NULL;
        json_object *reply = NULL, *v = NULL;
        int r;

        if (!req) {
                admin_fail("out of memory");
                return -ENOMEM;
        }
        r = trackle_client_connect(TRACKLE_SOCKET, &c);
        if (r < 0) {
                json_object_put(req);
                admin_fail("cannot reach trackled at %s: %s", TRACKLE_SOCKET, strerror(-r));
                return r;
        }
        /* check and backup read the whole database: let them take their time. */
        if (strncmp(json_object_get_string(json_object_object_get(req, "op")), "db.", 3) == 0)
                (void)trackle_client_set_timeout(c, TRACKLE_CLIENT_END_TIMEOUT_SEC);
        r = trackle_client_call(c, req, -1, &reply);
        json_object_put(req);
        if (r == -EREMOTEIO) {
                admin_fail("%s", c->error ? c->error : "trackled refused the request");
                return c->error_errno > 0 ? -c->error_errno : r;
        }
        if (r < 0) {
                admin_fail("talking to trackled at %s: %s", TRACKLE_SOCKET, strerror(-r));
                return r;
        }
        if (key && !json_object_object_get_ex(reply, key, &v)) {
                json_object_put(reply);
                admin_fail("trackled's reply has no '%s'", key);
                return -EBADMSG;
        }
        *ret_reply = reply;
        *ret_value = key ? v : reply;
        return 0;
}

int admin_call_simple(json_object *req)
{
        json_object *reply, *v;
        int r;

        r = admin_call(req, NULL, &reply, &v);
        if (r < 0)
                return r;
        json_object_put(reply);
        return 0;
}
