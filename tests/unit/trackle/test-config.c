/* test-config.c - trackle.conf: defaults, values, file:line errors, unknown keys warned. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "trackled-config.h"

static unsigned warnings, warn_line;

static void warn(const char *file, unsigned line, const char *message, void *userdata)
{
        warnings++;
        warn_line = line;
}

static int load(const char *text, TrackledConfig *c, ConfError *err)
{
        char buf[2048];

        snprintf(buf, sizeof(buf), "%s", text);
        return trackled_config_load_text("t.conf", buf, c, warn, NULL, err);
}

int main(void)
{
        TrackledConfig c;
        ConfError err = {};

        ASSERT_EQ_INT(trackled_config_defaults(&c), 0);
        ASSERT_STREQ(c.admin_group, "trackle");
        ASSERT_STREQ(c.mail_relay, "smtp://localhost:25");
        ASSERT_EQ_INT(c.content_max, 8 * 1024 * 1024);
        ASSERT_TRUE(trackled_config_is_redacted(&c, "/etc/shadow"));
        ASSERT_TRUE(trackled_config_is_redacted(&c, "/etc/ssh/ssh_host_ed25519_key"));
        ASSERT_TRUE(!trackled_config_is_redacted(&c, "/etc/ssh/ssh_host_ed25519_key.pub"));
        ASSERT_TRUE(trackled_config_is_redacted(&c, "/srv/tls/site.key"));
        ASSERT_TRUE(trackled_config_is_redacted(&c, "/etc/ssl/private/x.pem"));
        ASSERT_TRUE(!trackled_config_is_redacted(&c, "/etc/passwd"));

        ASSERT_EQ_INT(load("[Trackle]\nSiteName=ops\nAdminGroup=wheel\nContentMax=1M\n"
                           "Redact=/etc/a /etc/b*\nRedact=/srv/c\nRetention=30d\n"
                           "Frobnicate=yes\n[Mail]\nRelay=smtp://mx:2525\nFrom=t@example.org\n"
                           "Staff=ops@example.org\n[Web]\nPort=1\nBaseURL=https://t.example.org\n",
                           &c, &err),
                      0);
        ASSERT_STREQ(c.site_name, "ops");
        ASSERT_STREQ(c.admin_group, "wheel");
        ASSERT_EQ_INT(c.content_max, 1024 * 1024);
        ASSERT_EQ_INT(c.retention_sec, 30 * 86400);
        ASSERT_EQ_INT(c.n_redact, 3);
        ASSERT_TRUE(trackled_config_is_redacted(&c, "/etc/bar"));
        ASSERT_TRUE(!trackled_config_is_redacted(&c, "/etc/shadow"));
        ASSERT_STREQ(c.mail_relay, "smtp://mx:2525");
        ASSERT_STREQ(c.staff_address, "ops@example.org");
        ASSERT_STREQ(c.base_url, "https://t.example.org");
        ASSERT_EQ_INT(warnings, 2); /* Frobnicate, [Web] Port */
        ASSERT_EQ_INT(warn_line, 14);

        ASSERT_EQ_INT(load("[Trackle]\n\nContentMax=lots\n", &c, &err), -EINVAL);
        ASSERT_EQ_INT(err.line, 3);
        ASSERT_TRUE(strstr(err.message, "ContentMax") != NULL);
        ASSERT_EQ_INT(load("[Mail]\nRelay=mx.example.org\n", &c, &err), -EINVAL);
        ASSERT_EQ_INT(err.line, 2);
        ASSERT_EQ_INT(load("[Trackle]\nRedact=relative/path\n", &c, &err), -EINVAL);
        ASSERT_EQ_INT(err.line, 2);
        /* the anonymous form: its optional fields and help texts */
        ASSERT_TRUE(trackled_config_anonymous_field(&c, "severity"));
        ASSERT_EQ_INT(load("[Web]\nAnonymousFields=description type\nSummaryHelp=In one line\n"
                           "TypeHelp=\n",
                           &c, &err),
                      0);
        ASSERT_TRUE(trackled_config_anonymous_field(&c, "type"));
        ASSERT_TRUE(trackled_config_anonymous_field(&c, "description"));
        ASSERT_TRUE(!trackled_config_anonymous_field(&c, "severity"));
        ASSERT_STREQ(c.help_summary, "In one line");
        ASSERT_STREQ(c.help_type, "");
        ASSERT_TRUE(c.help_email == NULL);
        ASSERT_EQ_INT(load("[Web]\n\nAnonymousFields=type priority\n", &c, &err), -EINVAL);
        ASSERT_EQ_INT(err.line, 3);
        ASSERT_TRUE(strstr(err.message, "AnonymousFields") != NULL);
        /* a failed load leaves the configuration as it was */
        ASSERT_STREQ(c.site_name, "ops");
        trackled_config_done(&c);
        return test_result();
}
