/* trackled-request.c - strict validation of console JSON requests. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "trackled-request-admin.h"
#include "trackled-request.h"
#include "utf8.h"

static const char *const op_names[_TRACKLED_OP_MAX] = {
        [TRACKLED_OP_TICKET_NEW] = "ticket.new",
        [TRACKLED_OP_TICKET_LIST] = "ticket.list",
        [TRACKLED_OP_TICKET_SHOW] = "ticket.show",
        [TRACKLED_OP_SESSION_OPEN] = "session.open",
        [TRACKLED_OP_SESSION_RESUME] = "session.resume",
        [TRACKLED_OP_SESSION_COMMANDS] = "session.commands",
        [TRACKLED_OP_SESSION_END] = "session.end",
        [TRACKLED_OP_SESSION_LIST] = "session.list",
        [TRACKLED_OP_SESSION_SHOW] = "session.show",
        [TRACKLED_OP_SESSION_FILES] = "session.files",
        [TRACKLED_OP_ADMIN] = "admin",
};

const char *trackled_op_to_string(TrackledOp op)
{
        return op < _TRACKLED_OP_MAX ? op_names[op] : "?";
}

/* Characters of valid UTF-8 text. */
static size_t utf8_count(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char)*s & 0xC0) != 0x80)
                        n++;
        return n;
}

int trackled_parse_time(const char *s, int64_t *ret)
{
        struct tm tm = {};
        const char *e;
        time_t t;

        e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!e || !streq(e, "Z"))
                return -EINVAL;
        t = timegm(&tm);
        if (t == (time_t)-1)
                return -EINVAL;
        *ret = (int64_t)t;
        return 0;
}

/* A string without NUL, valid UTF-8, at most max bytes. */
static bool good_string(json_object *o, size_t max)
{
        const char *s;
        int n;

        if (!json_object_is_type(o, json_type_string))
                return false;
        s = json_object_get_string(o);
        n = json_object_get_string_len(o);
        if (n < 0 || (size_t)n > max || strlen(s) != (size_t)n)
                return false;
        return utf8_is_valid_n(s, (size_t)n);
}

static int get_string(json_object *root, const char *key, bool required, size_t max,
                      const char **ret, const char **ret_error, const char *msg)
{
        json_object *o;

        if (!json_object_object_get_ex(root, key, &o) || json_object_is_type(o, json_type_null)) {
                if (required) {
                        *ret_error = msg;
                        return -EINVAL;
                }
                *ret = NULL;
                return 0;
        }
        if (!good_string(o, max)) {
                *ret_error = msg;
                return -EINVAL;
        }
        *ret = json_object_get_string(o);
        return 0;
}

static int get_id(json_object *root, const char *key, bool required, int64_t *ret)
{
        json_object *o;
        int64_t v;

        if (!json_object_object_get_ex(root, key, &o) || json_object_is_type(o, json_type_null)) {
                if (required)
                        return -EINVAL;
                *ret = 0;
                return 0;
        }
        if (!json_object_is_type(o, json_type_int))
                return -EINVAL;
        errno = 0;
        v = json_object_get_int64(o);
        if (errno != 0 || v <= 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int get_bool(json_object *root, const char *key, bool *ret)
{
        json_object *o;

        if (!json_object_object_get_ex(root, key, &o) || json_object_is_type(o, json_type_null)) {
                *ret = false;
                return 0;
        }
        if (!json_object_is_type(o, json_type_boolean))
                return -EINVAL;
        *ret = json_object_get_boolean(o);
        return 0;
}

static int get_exit(json_object *root, const char *key, bool *ret_has, int *ret)
{
        json_object *o;
        int64_t v;

        *ret_has = false;
        if (!json_object_object_get_ex(root, key, &o) || json_object_is_type(o, json_type_null))
                return 0;
        if (!json_object_is_type(o, json_type_int))
                return -EINVAL;
        v = json_object_get_int64(o);
        if (v < INT_MIN || v > INT_MAX)
                return -EINVAL;
        *ret_has = true;
        *ret = (int)v;
        return 0;
}

static int check_environment(json_object *env)
{
        size_t n = 0;

        if (!json_object_is_type(env, json_type_object))
                return -EINVAL;
        json_object_object_foreach(env, k, v)
        {
                if (++n > TRACKLED_ENV_MAX || isempty(k) || strlen(k) > 256 || strchr(k, '='))
                        return -EINVAL;
                if (!good_string(v, TRACKLED_STRING_MAX))
                        return -EINVAL;
        }
        return 0;
}

static int check_time(json_object *o)
{
        int64_t t;

        if (!o || json_object_is_type(o, json_type_null))
                return 0;
        if (json_object_is_type(o, json_type_int))
                return json_object_get_int64(o) >= 0 ? 0 : -EINVAL;
        if (!good_string(o, 64))
                return -EINVAL;
        return trackled_parse_time(json_object_get_string(o), &t);
}

static int check_commands(json_object *a)
{
        size_t n;

        if (!json_object_is_type(a, json_type_array))
                return -EINVAL;
        n = json_object_array_length(a);
        if (n > TRACKLED_COMMANDS_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(a, i), *o;
                const char *ignored, *err;
                bool has;
                int x;

                if (!json_object_is_type(c, json_type_object))
                        return -EINVAL;
                if (check_time(json_object_object_get_ex(c, "time", &o) ? o : NULL) < 0)
                        return -EINVAL;
                if (get_string(c, "cwd", false, 4096, &ignored, &err, "") < 0 ||
                    get_string(c, "line", false, TRACKLED_STRING_MAX, &ignored, &err, "") < 0 ||
                    get_exit(c, "exit", &has, &x) < 0)
                        return -EINVAL;
        }
        return 0;
}

static int parse_op(const char *s, TrackledOp *ret)
{
        for (size_t i = 0; i < _TRACKLED_OP_MAX; i++)
                if (streq(s, op_names[i])) {
                        *ret = (TrackledOp)i;
                        return 0;
                }
        if (trackled_admin_op_known(s)) {
                *ret = TRACKLED_OP_ADMIN;
                return 0;
        }
        return -EINVAL;
}

#define FAIL(msg)                                                                                  \
        do {                                                                                       \
                *ret_error = (msg);                                                                \
                r = -EINVAL;                                                                       \
                goto fail;                                                                         \
        } while (0)

int trackled_request_parse(const char *text, size_t len, TrackledRequest *ret,
                           const char **ret_error)
{
        TrackledRequest q = {};
        json_tokener *tok;
        json_object *o;
        const char *op;
        int r;

        if (len > INT_MAX) {
                *ret_error = "request too large";
                return -EMSGSIZE;
        }
        if (memchr(text, '\0', len) || !utf8_is_valid_n(text, len)) {
                *ret_error = "request is not UTF-8 JSON text";
                return -EINVAL;
        }
        tok = json_tokener_new_ex(TRACKLED_JSON_DEPTH_MAX);
        if (!tok) {
                *ret_error = "out of memory";
                return -ENOMEM;
        }
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        q.root = json_tokener_parse_ex(tok, text, (int)len);
        if (!q.root || json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) != len) {
                json_tokener_free(tok);
                json_object_put(q.root);
                *ret_error = "request is not one valid JSON object";
                return -EINVAL;
        }
        json_tokener_free(tok);
        if (!json_object_is_type(q.root, json_type_object))
                FAIL("request is not a JSON object");
        if (get_string(q.root, "op", true, 64, &op, ret_error, "field 'op' (string) is required") <
            0)
                goto einval;
        if (parse_op(op, &q.op) < 0)
                FAIL("unknown op");

        switch (q.op) {
        case TRACKLED_OP_TICKET_NEW:
                if (get_string(q.root, "summary", true, 4 * TRACKLED_SUMMARY_CHARS, &q.summary,
                               ret_error,
                               "field 'summary' (1..200 characters, one line) is required") < 0)
                        goto einval;
                if (!utf8_is_printable_n(q.summary, strlen(q.summary)) ||
                    utf8_count(q.summary) < 1 || utf8_count(q.summary) > TRACKLED_SUMMARY_CHARS)
                        FAIL("field 'summary' (1..200 characters, one line) is required");
                if (get_string(q.root, "description", false, TRACKLED_DESCRIPTION_MAX,
                               &q.description, ret_error, "field 'description' must be text") < 0)
                        goto einval;
                break;
        case TRACKLED_OP_TICKET_LIST:
                if (get_string(q.root, "status", false, 64, &q.status, ret_error,
                               "field 'status' must be a string") < 0)
                        goto einval;
                break;
        case TRACKLED_OP_TICKET_SHOW:
        case TRACKLED_OP_SESSION_RESUME:
        case TRACKLED_OP_SESSION_SHOW:
                if (get_id(q.root, "id", true, &q.id) < 0)
                        FAIL("field 'id' (a positive integer) is required");
                break;
        case TRACKLED_OP_SESSION_OPEN:
                if (get_id(q.root, "ticket", false, &q.ticket) < 0)
                        FAIL("field 'ticket' must be a ticket id or null");
                if (get_bool(q.root, "steal", &q.steal) < 0 ||
                    get_bool(q.root, "keyed", &q.keyed) < 0)
                        FAIL("fields 'steal' and 'keyed' must be booleans");
                if (get_string(q.root, "tty", false, 4096, &q.tty, ret_error,
                               "field 'tty' must be a string") < 0 ||
                    get_string(q.root, "shell", false, 4096, &q.shell, ret_error,
                               "field 'shell' must be a string") < 0 ||
                    get_string(q.root, "cwd", false, 4096, &q.cwd, ret_error,
                               "field 'cwd' must be a string") < 0)
                        goto einval;
                if (json_object_object_get_ex(q.root, "environment", &o) &&
                    !json_object_is_type(o, json_type_null)) {
                        if (check_environment(o) < 0)
                                FAIL("field 'environment' must be an object of strings");
                        q.environment = o;
                }
                break;
        case TRACKLED_OP_SESSION_COMMANDS:
                if (get_id(q.root, "id", true, &q.id) < 0)
                        FAIL("field 'id' (a positive integer) is required");
                if (!json_object_object_get_ex(q.root, "commands", &o) || check_commands(o) < 0)
                        FAIL("field 'commands' must be an array of {time, cwd, line, exit}");
                q.commands = o;
                break;
        case TRACKLED_OP_SESSION_END:
                if (get_id(q.root, "id", true, &q.id) < 0)
                        FAIL("field 'id' (a positive integer) is required");
                if (get_exit(q.root, "exit", &q.has_exit, &q.exit) < 0)
                        FAIL("field 'exit' must be an integer or null");
                break;
        case TRACKLED_OP_SESSION_LIST:
                if (get_id(q.root, "ticket", false, &q.ticket) < 0)
                        FAIL("field 'ticket' must be a ticket id or null");
                break;
        case TRACKLED_OP_SESSION_FILES:
                if (get_id(q.root, "id", true, &q.id) < 0)
                        FAIL("field 'id' (a positive integer) is required");
                if (get_string(q.root, "path", true, 4096, &q.path, ret_error,
                               "field 'path' (an absolute path) is required") < 0)
                        goto einval;
                if (q.path[0] != '/')
                        FAIL("field 'path' (an absolute path) is required");
                if (!json_object_object_get_ex(q.root, "shown", &o) ||
                    !json_object_is_type(o, json_type_boolean))
                        FAIL("field 'shown' (a boolean) is required");
                q.shown = json_object_get_boolean(o);
                break;
        case TRACKLED_OP_ADMIN:
                if (!trackled_admin_op_known(op))
                        FAIL("unknown op");
                break;
        default:
                FAIL("unknown op");
        }
        *ret = q;
        return 0;
einval:
        r = -EINVAL;
fail:
        json_object_put(q.root);
        return r;
}

void trackled_request_done(TrackledRequest *r)
{
        if (!r)
                return;
        json_object_put(r->root);
        *r = (TrackledRequest){};
}

size_t trackled_request_n_commands(const TrackledRequest *r)
{
        return r->commands ? json_object_array_length(r->commands) : 0;
}

void trackled_request_command(const TrackledRequest *r, size_t i, TrackledCommand *ret)
{
        json_object *c = json_object_array_get_idx(r->commands, i), *o;
        const char *err;

        *ret = (TrackledCommand){};
        if (json_object_object_get_ex(c, "time", &o)) {
                if (json_object_is_type(o, json_type_int))
                        ret->time = json_object_get_int64(o);
                else if (json_object_is_type(o, json_type_string))
                        (void)trackled_parse_time(json_object_get_string(o), &ret->time);
        }
        (void)get_string(c, "cwd", false, 4096, &ret->cwd, &err, "");
        (void)get_string(c, "line", false, TRACKLED_STRING_MAX, &ret->line, &err, "");
        (void)get_exit(c, "exit", &ret->has_exit, &ret->exit);
}
