/* trackle.c - the trackle console tool: tickets and tracked shell sessions of trackled. */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"

#include "trackle-args.h"
#include "trackle-cli.h"
#include "trackle-client.h"
#include "trackle-render.h"
#include "trackle-shell.h"

static int connect_or_say(TrackleClient **ret)
{
        int r = trackle_client_connect(TRACKLE_SOCKET, ret);

        if (r < 0)
                fprintf(stderr, "trackle: cannot reach trackled at %s: %s\n", TRACKLE_SOCKET,
                        strerror(-r));
        return r;
}

/* One request, its reply's field key (NULL: the whole reply). */
static int call(json_object *req, const char *key, json_object **ret_reply, json_object **ret_value)
{
        _cleanup_(trackle_client_freep) TrackleClient *c = NULL;
        json_object *reply = NULL, *v = NULL;
        int r;

        if (!req) {
                fprintf(stderr, "trackle: out of memory\n");
                return -ENOMEM;
        }
        r = connect_or_say(&c);
        if (r < 0) {
                json_object_put(req);
                return r;
        }
        r = trackle_client_call(c, req, -1, &reply);
        json_object_put(req);
        if (r == -EREMOTEIO) {
                fprintf(stderr, "trackle: %s\n", c->error);
                return r;
        }
        if (r < 0) {
                fprintf(stderr, "trackle: talking to trackled at %s: %s\n", TRACKLE_SOCKET,
                        strerror(-r));
                return r;
        }
        if (key && !json_object_object_get_ex(reply, key, &v)) {
                fprintf(stderr, "trackle: trackled's reply has no '%s'.\n", key);
                json_object_put(reply);
                return -EBADMSG;
        }
        *ret_reply = reply;
        *ret_value = key ? v : reply;
        return 0;
}

static json_object *request_with_id(const char *op, uint64_t id)
{
        json_object *req = trackle_request_new(op);

        if (req)
                json_object_object_add(req, "id", json_object_new_int64((int64_t)id));
        return req;
}

static int run(const TrackleArgs *a)
{
        json_object *req = NULL, *reply = NULL, *v = NULL;
        int64_t id;
        int r = 0;

        switch (a->verb) {
        case TRACKLE_VERB_TICKET_NEW:
                req = trackle_request_new("ticket.new");
                if (req) {
                        json_object_object_add(req, "summary", json_object_new_string(a->summary));
                        if (a->description)
                                json_object_object_add(req, "description",
                                                       json_object_new_string(a->description));
                }
                r = call(req, "ticket", &reply, &v);
                if (r < 0)
                        return 1;
                if (!trackle_json_int(v, "id", &id)) {
                        fprintf(stderr, "trackle: trackled's ticket has no id.\n");
                        r = -EBADMSG;
                        break;
                }
                printf("%" PRId64 "\n", id);
                break;
        case TRACKLE_VERB_TICKET_LIST:
                r = call(trackle_request_new("ticket.list"), "tickets", &reply, &v);
                if (r < 0)
                        return 1;
                r = a->json ? trackle_render_json(stdout, v)
                            : trackle_render_ticket_list(stdout, v);
                break;
        case TRACKLE_VERB_TICKET_SHOW:
                r = call(request_with_id("ticket.show", a->id), "ticket", &reply, &v);
                if (r < 0)
                        return 1;
                r = a->json ? trackle_render_json(stdout, v) : trackle_render_ticket(stdout, v);
                break;
        case TRACKLE_VERB_SESSION_LIST:
                req = trackle_request_new("session.list");
                if (req && a->has_ticket)
                        json_object_object_add(req, "ticket",
                                               json_object_new_int64((int64_t)a->ticket));
                r = call(req, "sessions", &reply, &v);
                if (r < 0)
                        return 1;
                r = a->json ? trackle_render_json(stdout, v)
                            : trackle_render_session_list(stdout, v);
                break;
        case TRACKLE_VERB_SESSION_SHOW:
                r = call(request_with_id("session.show", a->id), "session", &reply, &v);
                if (r < 0)
                        return 1;
                r = a->json ? trackle_render_json(stdout, v) : trackle_render_session(stdout, v);
                break;
        case TRACKLE_VERB_SESSION_DIFF: {
                bool color = a->color == TRACKLE_COLOR_ALWAYS ||
                             (a->color == TRACKLE_COLOR_AUTO && isatty(STDOUT_FILENO) &&
                              !streq_ptr(getenv("TERM"), "dumb"));

                r = call(request_with_id("session.show", a->id), "session", &reply, &v);
                if (r < 0)
                        return 1;
                r = trackle_render_session_diff(stdout, v, a->path, color);
                if (r == -ENOENT) {
                        fprintf(stderr, "trackle: session %" PRIu64 " did not change '%s'.\n",
                                a->id, a->path);
                        json_object_put(reply);
                        return 1;
                }
                break;
        }
        case TRACKLE_VERB_SESSION_FILES:
                req = request_with_id("session.files", a->id);
                if (req) {
                        json_object_object_add(req, "path", json_object_new_string(a->path));
                        json_object_object_add(req, "shown", json_object_new_boolean(a->shown));
                }
                r = call(req, NULL, &reply, &v);
                if (r < 0)
                        return 1;
                break;
        case TRACKLE_VERB_SHELL:
                return trackle_shell_main(a);
        default:
                return 1;
        }
        json_object_put(reply);
        if (r < 0) {
                if (r != -EBADMSG)
                        fprintf(stderr, "trackle: %s\n", strerror(-r));
                return 1;
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "trackle: cannot write the output: %m\n");
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        TrackleArgs a;

        setlocale(LC_ALL, "");
        /* No arguments on a terminal: the screen (trackle(1), THE SCREEN). */
        if (argc == 1 && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
                char exe[4096];
                ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

                if (n <= 0) {
                        fprintf(stderr, "trackle: cannot find my own binary: %m\n");
                        return 1;
                }
                exe[n] = 0;
                return trackle_cli_main(exe);
        }
        if (trackle_args_parse(argc, argv, &a) < 0)
                return 2;
        switch (a.action) {
        case TRACKLE_ACTION_HELP:
                fputs(trackle_help_text(a.verb, a.group), stdout);
                return 0;
        case TRACKLE_ACTION_VERSION:
                printf("trackle (tracksuite) %s\n", PROJECT_VERSION);
                return 0;
        default:
                return run(&a);
        }
}
