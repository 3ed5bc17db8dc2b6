/* trackle-admin-enum.c - trackle-admin component|priority|severity|type|milestone: the values
 * of the enumerated ticket fields, and milestones with their dates. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "trackle-client.h"

#include "trackle-admin.h"

static const char enum_help[] =
        "Usage: trackle-admin FIELD list\n"
        "       trackle-admin FIELD add NAME...\n"
        "       trackle-admin FIELD rename OLD NEW\n"
        "       trackle-admin FIELD remove NAME...\n"
        "\n"
        "FIELD is one of component, priority, severity, type: the values offered for the\n"
        "ticket field (in the web and in trackle's pick-lists), in the order they were added.\n"
        "rename changes the tickets that have the old value too (with a history row each);\n"
        "remove leaves the tickets that have the value as they are.\n";

static const char milestone_help[] =
        "Usage: trackle-admin milestone list\n"
        "       trackle-admin milestone add NAME [--due DATE] [--description TEXT]\n"
        "       trackle-admin milestone set NAME [--due DATE] [--completed DATE]\n"
        "                                        [--description TEXT]\n"
        "       trackle-admin milestone rename OLD NEW\n"
        "       trackle-admin milestone remove NAME...\n"
        "\n"
        "Milestones, by due date. DATE is YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC); an empty\n"
        "DATE clears it. list prints NAME, due, completed (\"-\": not set) separated by tabs.\n";

static int enum_call(const char *op, const char *type, const char *name, const char *new_name)
{
        json_object *req =
                admin_request(op, "type", type, "name", name, "new_name", new_name, NULL);
        return admin_call_simple(req) < 0 ? ADMIN_EXIT_FAILURE : ADMIN_EXIT_OK;
}

static int list(const char *type)
{
        json_object *reply, *values;
        size_t n;

        if (admin_call(admin_request("enum.list", "type", type, NULL), "values", &reply, &values) <
            0)
                return ADMIN_EXIT_FAILURE;
        n = json_object_is_type(values, json_type_array) ? json_object_array_length(values) : 0;
        for (size_t i = 0; i < n; i++)
                printf("%s\n", json_object_get_string(json_object_array_get_idx(values, i)));
        json_object_put(reply);
        return fflush(stdout) == 0 ? ADMIN_EXIT_OK : admin_fail("cannot write: %m");
}

/* list, add, rename, remove: shared by both commands. -1: not one of them. */
static int common(const char *type, int argc, char **argv)
{
        const char *verb = argv[1];
        int ret = ADMIN_EXIT_OK;

        if (streq(verb, "list")) {
                if (argc != 2)
                        return admin_usage(type, "list takes no arguments");
                return streq(type, "milestone") ? -1 : list(type);
        }
        if (streq(verb, "rename")) {
                if (argc != 4)
                        return admin_usage(type, "rename takes OLD and NEW");
                return enum_call("enum.rename", type, argv[2], argv[3]);
        }
        if (streq(verb, "remove") || (streq(verb, "add") && !streq(type, "milestone"))) {
                if (argc < 3)
                        return admin_usage(type, "%s needs at least one NAME", verb);
                for (int i = 2; i < argc; i++)
                        if (enum_call(streq(verb, "add") ? "enum.add" : "enum.remove", type,
                                      argv[i], NULL) != ADMIN_EXIT_OK)
                                ret = ADMIN_EXIT_FAILURE;
                return ret;
        }
        return -1;
}

int admin_enum_main(int argc, char **argv)
{
        int r;

        if (admin_wants_help(argc, argv, enum_help))
                return ADMIN_EXIT_OK;
        if (argc < 2)
                return admin_usage(argv[0], "list, add, rename or remove is required");
        r = common(argv[0], argc, argv);
        if (r >= 0)
                return r;
        return admin_usage(argv[0], "unknown action '%s'", argv[1]);
}

static int milestone_list(void)
{
        json_object *reply, *ms;
        size_t n;

        if (admin_call(trackle_request_new("milestone.list"), "milestones", &reply, &ms) < 0)
                return ADMIN_EXIT_FAILURE;
        n = json_object_is_type(ms, json_type_array) ? json_object_array_length(ms) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *m = json_object_array_get_idx(ms, i), *v;
                const char *due = NULL, *completed = NULL;

                if (json_object_object_get_ex(m, "due", &v) && v)
                        due = json_object_get_string(v);
                if (json_object_object_get_ex(m, "completed", &v) && v)
                        completed = json_object_get_string(v);
                printf("%s\t%s\t%s\n", json_object_get_string(json_object_object_get(m, "name")),
                       due ? due : "-", completed ? completed : "-");
        }
        json_object_put(reply);
        return fflush(stdout) == 0 ? ADMIN_EXIT_OK : admin_fail("cannot write: %m");
}

int admin_milestone_main(int argc, char **argv)
{
        static const struct option options[] = {
                {"due", required_argument, NULL, 'd'},
                {"completed", required_argument, NULL, 'c'},
                {"description", required_argument, NULL, 'D'},
                {},
        };
        const char *due = NULL, *completed = NULL, *description = NULL, *verb;
        json_object *req;
        int c, r;

        if (admin_wants_help(argc, argv, milestone_help))
                return ADMIN_EXIT_OK;
        if (argc < 2)
                return admin_usage("milestone", "list, add, set, rename or remove is required");
        if (streq(argv[1], "list")) {
                if (argc != 2)
                        return admin_usage("milestone", "list takes no arguments");
                return milestone_list();
        }
        r = common("milestone", argc, argv);
        if (r >= 0)
                return r;
        verb = argv[1];
        if (!streq(verb, "add") && !streq(verb, "set"))
                return admin_usage("milestone", "unknown action '%s'", verb);
        optind = 2;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'd':
                        due = optarg;
                        break;
                case 'c':
                        completed = optarg;
                        break;
                case 'D':
                        description = optarg;
                        break;
                default:
                        return admin_usage("milestone", "bad option");
                }
        if (argc - optind != 1)
                return admin_usage("milestone", "%s takes one NAME", verb);
        if (streq(verb, "add") && completed)
                return admin_usage("milestone", "--completed is for set");
        req = admin_request(streq(verb, "add") ? "milestone.add" : "milestone.set", "name",
                            argv[optind], "due", due, "completed", completed, "description",
                            description, NULL);
        return admin_call_simple(req) < 0 ? ADMIN_EXIT_FAILURE : ADMIN_EXIT_OK;
}
