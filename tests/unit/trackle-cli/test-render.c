/* test-render.c - JSON output, readable sessions and diff colouring. */
#include <errno.h>

#include "test.h"
#include "trackle-render.h"

static char *render(void (*fn)(FILE *, json_object *, const char *, bool), json_object *o,
                    const char *path, bool color)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        fn(f, o, path, color);
        fclose(f);
        return buf;
}

static void diff_of(FILE *f, json_object *o, const char *text, bool color)
{
        (void)o;
        trackle_render_diff(f, text, color);
}

static void session_diff(FILE *f, json_object *o, const char *path, bool color)
{
        int r = trackle_render_session_diff(f, o, path, color);

        if (r < 0)
                fprintf(f, "ERR %d", r);
}

static void session_show(FILE *f, json_object *o, const char *path, bool color)
{
        (void)trackle_render_session(f, o);
}

static void json_out(FILE *f, json_object *o, const char *path, bool color)
{
        (void)trackle_render_json(f, o);
}

static const char session_json[] =
        "{\"id\": 7, \"ticket\": 12, \"user\": \"alice\", \"uid\": 1000, \"host\": \"web1\","
        " \"tty\": null, \"started\": \"2026-12-04T22:54:32Z\", \"ended\": null, \"exit\": null,"
        " \"identity\": \"audit\", \"state\": \"open\", \"environment\": {}, \"annotation\": \"\","
        " \"missing\": [], \"commands\": [{\"time\": \"2026-12-04T22:54:40Z\", \"pid\": 1,"
        " \"cwd\": \"/etc\", \"uid\": 0, \"euid\": 0, \"line\": \"sed -i s/a/b/ x\\u001b[2J\","
        " \"argv\": null, \"exit\": 1, \"source\": \"shell\"}, {\"time\": \"t\", \"pid\": 2,"
        " \"cwd\": \"/etc\", \"uid\": 1000, \"euid\": 0, \"line\": null, \"argv\": [\"sed\", "
        "\"-i\"],"
        " \"exit\": null, \"source\": \"exec\"}],"
        " \"files\": [{\"path\": \"/etc/x\", \"change\": \"modified\", \"type\": \"file\","
        " \"shown\": true, \"redacted\": false, \"binary\": false, \"before\": null, \"after\": "
        "null,"
        " \"diff\": \"--- a/etc/x\\n+++ b/etc/x\\n@@ -1,2 +1,2 @@\\n-a\\n+b\\n -- c\\n\"},"
        " {\"path\": \"/etc/new\", \"change\": \"renamed\", \"from\": \"/etc/old\", \"type\": "
        "\"file\","
        " \"shown\": false, \"redacted\": false, \"binary\": true, \"before\": null, \"after\": "
        "null,"
        " \"diff\": null}]}";

int main(void)
{
        const char diff[] = "--- a/etc/x\n+++ b/etc/x\n@@ -1,2 +1,2 @@ ctx\n a\n--- b\n+++ c\n"
                            "\\ No newline at end of file\n--- a/y\n+++ b/y\n@@ -0,0 +1 @@\n+n\n";
        json_object *o;
        char *out;

        out = render(diff_of, NULL, diff, false);
        ASSERT_STREQ(out, diff);
        free(out);
        out = render(diff_of, NULL, diff, true);
        ASSERT_STREQ(out, "\033[1m--- a/etc/x\033[0m\n\033[1m+++ b/etc/x\033[0m\n"
                          "\033[36m@@ -1,2 +1,2 @@ ctx\033[0m\n a\n"
                          "\033[31m--- b\033[0m\n\033[32m+++ c\033[0m\n"
                          "\\ No newline at end of file\n"
                          "\033[1m--- a/y\033[0m\n\033[1m+++ b/y\033[0m\n"
                          "\033[36m@@ -0,0 +1 @@\033[0m\n\033[32m+n\033[0m\n");
        free(out);
        /* Control characters never reach the terminal. */
        out = render(diff_of, NULL, "@@ -1 +1 @@\n-\033[2J\n+\tok\r\n", false);
        ASSERT_STREQ(out, "@@ -1 +1 @@\n-\\x1b[2J\n+\tok\\x0d\n");
        free(out);

        o = json_tokener_parse(session_json);
        ASSERT_TRUE(o != NULL);
        out = render(session_diff, o, NULL, false);
        ASSERT_STREQ(out, "--- a/etc/x\n+++ b/etc/x\n@@ -1,2 +1,2 @@\n-a\n+b\n -- c\n"
                          "# /etc/new: renamed (binary)\n");
        free(out);
        out = render(session_diff, o, "/etc/new", false);
        ASSERT_STREQ(out, "# /etc/new: renamed (binary)\n");
        free(out);
        out = render(session_diff, o, "/nope", false);
        ASSERT_STREQ(out, "ERR -2");
        free(out);

        out = render(session_show, o, NULL, false);
        ASSERT_TRUE(strstr(out, "Session 7 (ticket #12)\n") == out);
        ASSERT_TRUE(strstr(out, "  user:     alice (uid 1000) on web1, tty -\n") != NULL);
        ASSERT_TRUE(strstr(out, "$ sed -i s/a/b/ x\\x1b[2J  [exit 1]\n") != NULL);
        ASSERT_TRUE(strstr(out, "exec (uid 1000/0): sed -i\n") != NULL);
        ASSERT_TRUE(strstr(out, "  modified  /etc/x\n") != NULL);
        ASSERT_TRUE(strstr(out, "  renamed   /etc/new (from /etc/old)  [hidden]  [binary]\n") !=
                    NULL);
        ASSERT_TRUE(strchr(out, '\033') == NULL);
        free(out);

        out = render(json_out, o, NULL, false);
        {
                json_object *back = json_tokener_parse(out);

                ASSERT_TRUE(back != NULL);
                ASSERT_TRUE(json_object_equal(back, o));
                ASSERT_TRUE(strchr(out, '\n') != strrchr(out, '\n')); /* pretty: many lines */
                json_object_put(back);
        }
        free(out);
        json_object_put(o);
        return test_result();
}
