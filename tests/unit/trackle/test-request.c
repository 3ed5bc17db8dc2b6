/* test-request.c - validation of console JSON requests. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "trackled-request.h"

static int parse(const char *text, TrackledRequest *q)
{
        const char *err = NULL;
        int r = trackled_request_parse(text, strlen(text), q, &err);
        if (r < 0 && !err)
                return 1; /* every refusal must say why */
        return r;
}

int main(void)
{
        TrackledRequest q;
        TrackledCommand cmd;

        ASSERT_EQ_INT(parse("{\"op\":\"ticket.new\",\"summary\":\"Fix nginx\"}", &q), 0);
        ASSERT_EQ_INT(q.op, TRACKLED_OP_TICKET_NEW);
        ASSERT_STREQ(q.summary, "Fix nginx");
        trackled_request_done(&q);
        ASSERT_EQ_INT(parse("{\"op\":\"ticket.new\",\"summary\":\"\"}", &q), -EINVAL);
        ASSERT_EQ_INT(parse("{\"op\":\"ticket.new\",\"summary\":\"a\\nb\"}", &q), -EINVAL);
        ASSERT_EQ_INT(parse("{\"op\":\"ticket.new\",\"summary\":\"a\\u0000b\"}", &q), -EINVAL);
        ASSERT_EQ_INT(parse("{\"op\":\"ticket.show\",\"id\":0}", &q), -EINVAL);
        ASSERT_EQ_INT(parse("{\"op\":\"ticket.show\",\"id\":\"1\"}", &q), -EINVAL);
        ASSERT_EQ_INT(parse("{\"op\":\"nope\"}", &q), -EINVAL);
        ASSERT_EQ_INT(parse("[1]", &q), -EINVAL);
        ASSERT_EQ_INT(parse("{\"op\":\"ticket.list\"} {}", &q), -EINVAL);
        ASSERT_EQ_INT(parse("{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]}", &q), -EINVAL);

        ASSERT_EQ_INT(parse("{\"op\":\"session.open\",\"ticket\":null,\"steal\":true,"
                            "\"environment\":{\"PATH\":\"/bin\"}}",
                            &q),
                      0);
        ASSERT_EQ_INT(q.ticket, 0);
        ASSERT_TRUE(q.steal && !q.keyed && q.environment);
        trackled_request_done(&q);
        ASSERT_EQ_INT(parse("{\"op\":\"session.open\",\"environment\":{\"A\":1}}", &q), -EINVAL);

        ASSERT_EQ_INT(parse("{\"op\":\"session.commands\",\"id\":3,\"commands\":[{\"time\":"
                            "\"2026-12-04T22:54:32Z\",\"cwd\":\"/etc\",\"line\":\"ls\",\"exit\":1},"
                            "{\"time\":1700000000,\"line\":\"true\"}]}",
                            &q),
                      0);
        ASSERT_EQ_INT(trackled_request_n_commands(&q), 2);
        trackled_request_command(&q, 0, &cmd);
        ASSERT_EQ_INT(cmd.time, 1796424872);
        ASSERT_STREQ(cmd.cwd, "/etc");
        ASSERT_TRUE(cmd.has_exit && cmd.exit == 1);
        trackled_request_command(&q, 1, &cmd);
        ASSERT_EQ_INT(cmd.time, 1700000000);
        ASSERT_TRUE(!cmd.has_exit);
        trackled_request_done(&q);
        ASSERT_EQ_INT(parse("{\"op\":\"session.commands\",\"id\":3,\"commands\":[{\"time\":\"x\"}]}",
                            &q),
                      -EINVAL);
        ASSERT_EQ_INT(parse("{\"op\":\"session.files\",\"id\":3,\"path\":\"etc\",\"shown\":true}",
                            &q),
                      -EINVAL);
        ASSERT_EQ_INT(parse("{\"op\":\"session.files\",\"id\":3,\"path\":\"/etc/x\",\"shown\":false}",
                            &q),
                      0);
        ASSERT_TRUE(!q.shown);
        trackled_request_done(&q);
        return test_result();
}
