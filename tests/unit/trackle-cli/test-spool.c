/* test-spool.c - bash history and status files into session.commands; the rc file. */
#include <errno.h>

#include "test.h"
#include "trackle-render.h"
#include "trackle-shell.h"
#include "trackle-spool.h"

static const char *cmd_str(json_object *a, size_t i, const char *key)
{
        return trackle_json_str(json_object_array_get_idx(a, i), key);
}

static int64_t cmd_exit(json_object *a, size_t i)
{
        int64_t v = -1;

        (void)trackle_json_int(json_object_array_get_idx(a, i), "exit", &v);
        return v;
}

int main(void)
{
        const char hist[] = "#1764888872\nls -l\n#1764888880\ncd /etc\n#1764888890\nfalse\n"
                            "#1764888895\nfor i in 1 2\ndo echo $i; done\n#1764888899\nexit\n";
        const char status[] =
                "0 - /root\n1 0 /root\n2 0 /etc\n3 1 /etc\n4 0 /et\\\\c\\nx\n5 9 /par";
        TrackleHistoryEntry *h;
        TrackleStatusLine *s;
        size_t n_h, n_s;
        json_object *a;
        char *rc, buf[32];
        bool hide[5] = {};

        ASSERT_EQ_INT(trackle_history_parse(hist, strlen(hist), &h, &n_h), 0);
        ASSERT_EQ_INT(n_h, 5);
        ASSERT_EQ_INT(h[0].time, 1764888872);
        ASSERT_STREQ(h[0].line, "ls -l");
        ASSERT_STREQ(h[3].line, "for i in 1 2\ndo echo $i; done");
        ASSERT_STREQ(h[4].line, "exit");

        ASSERT_EQ_INT(trackle_status_parse(status, strlen(status), &s, &n_s), 0);
        ASSERT_EQ_INT(n_s, 5); /* the unterminated last line is not used */
        ASSERT_EQ_INT(s[0].exit, -1);
        ASSERT_EQ_INT(s[3].exit, 1);
        ASSERT_STREQ(s[4].cwd, "/et\\c\nx");

        ASSERT_EQ_INT(trackle_spool_commands(h, n_h, s, n_s, "/start", 3, &a), 0);
        ASSERT_EQ_INT(json_object_array_length(a), 5);
        ASSERT_STREQ(cmd_str(a, 0, "line"), "ls -l");
        ASSERT_STREQ(cmd_str(a, 0, "cwd"), "/root");
        ASSERT_STREQ(cmd_str(a, 0, "time"), "2025-12-04T22:54:32Z");
        ASSERT_EQ_INT(cmd_exit(a, 0), 0);
        ASSERT_STREQ(cmd_str(a, 1, "cwd"), "/root");
        ASSERT_STREQ(cmd_str(a, 2, "cwd"), "/etc");
        ASSERT_EQ_INT(cmd_exit(a, 2), 1);
        ASSERT_STREQ(cmd_str(a, 4, "line"), "exit");
        ASSERT_STREQ(cmd_str(a, 4, "cwd"), "/et\\c\nx");
        ASSERT_EQ_INT(cmd_exit(a, 4), 3); /* the line that ended the shell */
        json_object_put(a);

        /* No baseline line (shell killed before its first prompt): numbers from 1. */
        ASSERT_EQ_INT(trackle_spool_commands(h, 2, s + 1, 1, "/start", -1, &a), 0);
        ASSERT_STREQ(cmd_str(a, 0, "cwd"), "/start");
        ASSERT_EQ_INT(cmd_exit(a, 0), 0);
        ASSERT_TRUE(cmd_exit(a, 1) == -1); /* null */
        json_object_put(a);
        trackle_history_free(h, n_h);
        trackle_status_free(s, n_s);

        /* Lines before any timestamp; an empty entry; garbage in status. */
        ASSERT_EQ_INT(trackle_history_parse("old\n#5\n#6\nx", 11, &h, &n_h), 0);
        ASSERT_EQ_INT(n_h, 3);
        ASSERT_EQ_INT(h[0].time, -1);
        ASSERT_STREQ(h[1].line, "");
        ASSERT_STREQ(h[2].line, "x");
        trackle_history_free(h, n_h);
        ASSERT_EQ_INT(trackle_status_parse("x y z\n1 300 /\n1 2\n-1 0 /\n", 24, &s, &n_s), 0);
        ASSERT_EQ_INT(n_s, 0);
        trackle_status_free(s, n_s);

        ASSERT_EQ_INT(trackle_spool_command_one("echo hi", 0, "/tmp", 0, &a), 0);
        ASSERT_STREQ(cmd_str(a, 0, "time"), "1970-01-01T00:00:00Z");
        ASSERT_STREQ(cmd_str(a, 0, "line"), "echo hi");
        json_object_put(a);
        ASSERT_EQ_INT(trackle_format_time(1764888872, buf, sizeof(buf)), 0);
        ASSERT_STREQ(buf, "2025-12-04T22:54:32Z");

        ASSERT_EQ_INT(trackle_spool_bashrc("/run/x/it's", "/usr/bin/trackle-shell-prompt", &rc), 0);
        ASSERT_TRUE(strstr(rc, "PS1=\"$('/usr/bin/trackle-shell-prompt' --ps1)${PS1-}\"\n") !=
                    NULL);
        free(rc);
        ASSERT_EQ_INT(trackle_spool_bashrc("/run/x/it's", NULL, &rc), 0);
        ASSERT_TRUE(strstr(rc, "HISTFILE='/run/x/it'\\''s/history'\n") != NULL);
        ASSERT_TRUE(strstr(rc, "__trackle_status='/run/x/it'\\''s/status'\n") != NULL);
        ASSERT_TRUE(strstr(rc, "PROMPT_COMMAND=") != NULL);
        ASSERT_TRUE(strstr(rc, "Trackle") != NULL);
        free(rc);

        ASSERT_EQ_INT(trackle_parse_selection("", hide, 5), 0);
        ASSERT_TRUE(!hide[0] && !hide[4]);
        ASSERT_EQ_INT(trackle_parse_selection(" 2 4-5\n", hide, 5), 0);
        ASSERT_TRUE(!hide[0] && hide[1] && !hide[2] && hide[3] && hide[4]);
        ASSERT_EQ_INT(trackle_parse_selection("6", hide, 5), -ERANGE);
        ASSERT_EQ_INT(trackle_parse_selection("0", hide, 5), -ERANGE);
        ASSERT_EQ_INT(trackle_parse_selection("3-1", hide, 5), -ERANGE);
        ASSERT_EQ_INT(trackle_parse_selection("a", hide, 5), -EINVAL);
        ASSERT_EQ_INT(trackle_parse_selection("1x", hide, 5), -EINVAL);
        return test_result();
}
