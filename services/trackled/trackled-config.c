/* trackled-config.c - defaults and parsing of trackle.conf(5). */
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "macro.h"
#include "parse.h"
#include "trackled-config.h"
#include "utf8.h"

static const char *const redact_defaults[] = {
        "/etc/shadow",
        "/etc/shadow-",
        "/etc/gshadow",
        "/etc/gshadow-",
        "/etc/ssh/ssh_host_*_key",
        "*.key",
        "/etc/ssl/private/*",
};

static void redact_clear(TrackledConfig *c)
{
        for (size_t i = 0; i < c->n_redact; i++)
                free(c->redact[i]);
        memset(c->redact, 0, sizeof(c->redact));
        c->n_redact = 0;
}

static int parse_redact(const char *value, void *data, const char **ret_msg)
{
        TrackledConfig *c = data;
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;

        /* The first Redact= in the file replaces the built-in list; an empty one empties it. */
        if (!c->redact_set) {
                redact_clear(c);
                c->redact_set = true;
        }
        if (isempty(value)) {
                redact_clear(c);
                return 0;
        }
        copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (w[0] != '/' && w[0] != '*') {
                        *ret_msg = "expected absolute path globs (starting with '/' or '*')";
                        return -EINVAL;
                }
                if (c->n_redact >= TRACKLED_REDACT_MAX) {
                        *ret_msg = "too many Redact= globs (at most 256)";
                        return -E2BIG;
                }
                c->redact[c->n_redact] = strdup(w);
                if (!c->redact[c->n_redact])
                        return -ENOMEM;
                c->n_redact++;
        }
        return 0;
}

static int parse_content_max(const char *value, void *data, const char **ret_msg)
{
        uint64_t v = 0, mult = 1;
        size_t n = strlen(value);
        char num[32];

        if (n == 0 || n >= sizeof(num)) {
                *ret_msg = "expected a size such as 8M, 512K or 1048576";
                return -EINVAL;
        }
        memcpy(num, value, n + 1);
        switch (num[n - 1]) {
        case 'K':
        case 'k':
                mult = 1024;
                break;
        case 'M':
        case 'm':
                mult = 1024 * 1024;
                break;
        case 'G':
        case 'g':
                mult = 1024 * 1024 * 1024;
                break;
        default:
                break;
        }
        if (mult != 1)
                num[n - 1] = '\0';
        if (parse_uint64(num, &v) < 0 || v > TRACKLED_CONTENT_MAX_LIMIT / mult) {
                *ret_msg = "expected a size up to 256M (suffixes K, M, G)";
                return -EINVAL;
        }
        *(uint64_t *)data = v * mult;
        return 0;
}

static int parse_line_string(const char *value, void *data, const char **ret_msg)
{
        if (!utf8_is_printable_n(value, strlen(value))) {
                *ret_msg = "expected printable text";
                return -EINVAL;
        }
        return conf_parse_string(value, data, ret_msg);
}

static int parse_group(const char *value, void *data, const char **ret_msg)
{
        if (isempty(value) || strlen(value) > 64 || strpbrk(value, " \t:/")) {
                *ret_msg = "expected a group name";
                return -EINVAL;
        }
        return conf_parse_string(value, data, ret_msg);
}

static int parse_relay(const char *value, void *data, const char **ret_msg)
{
        if (strncmp(value, "smtp://", 7) != 0 && strncmp(value, "smtps://", 8) != 0) {
                *ret_msg = "expected smtp://HOST[:PORT] or smtps://HOST[:PORT]";
                return -EINVAL;
        }
        return parse_line_string(value, data, ret_msg);
}

static int parse_url(const char *value, void *data, const char **ret_msg)
{
        if (!isempty(value) && strncmp(value, "http://", 7) != 0 &&
            strncmp(value, "https://", 8) != 0) {
                *ret_msg = "expected an http:// or https:// URL";
                return -EINVAL;
        }
        return parse_line_string(value, data, ret_msg);
}

static const char *const anonymous_optional[] = {"type", "severity", "description"};

static int parse_anonymous_fields(const char *value, void *data, const char **ret_msg)
{
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                bool known = false;

                for (size_t i = 0; i < ELEMENTSOF(anonymous_optional); i++)
                        known = known || streq(w, anonymous_optional[i]);
                if (!known) {
                        *ret_msg = "expected field names out of: type severity description";
                        return -EINVAL;
                }
        }
        return conf_parse_string(value, data, ret_msg);
}

bool trackled_config_anonymous_field(const TrackledConfig *c, const char *field)
{
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;

        if (!c->anonymous_fields)
                return true;
        copy = strdup(c->anonymous_fields);
        if (!copy)
                return false;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
                if (streq(w, field))
                        return true;
        return false;
}

/* Redact= parses into the whole config object (offset 0): it keeps a list. */
static const ConfItem items[] = {
        {"Trackle", "SiteName", parse_line_string, offsetof(TrackledConfig, site_name)},
        {"Trackle", "BaseURL", parse_url, offsetof(TrackledConfig, base_url)},
        {"Trackle", "StaffAddress", parse_line_string, offsetof(TrackledConfig, staff_address)},
        {"Trackle", "AdminGroup", parse_group, offsetof(TrackledConfig, admin_group)},
        {"Trackle", "Redact", parse_redact, 0},
        {"Trackle", "ContentMax", parse_content_max, offsetof(TrackledConfig, content_max)},
        {"Trackle", "Retention", conf_parse_timespan_sec, offsetof(TrackledConfig, retention_sec)},
        {"Mail", "Relay", parse_relay, offsetof(TrackledConfig, mail_relay)},
        {"Mail", "From", parse_line_string, offsetof(TrackledConfig, mail_from)},
        /* [Web] BaseURL= and [Mail] Staff= are the names of issue 10; the [Trackle] ones
         * stay for configurations written before. */
        {"Mail", "Staff", parse_line_string, offsetof(TrackledConfig, staff_address)},
        {"Web", "BaseURL", parse_url, offsetof(TrackledConfig, base_url)},
        {"Web", "TLSCertificate", parse_line_string, offsetof(TrackledConfig, tls_cert)},
        {"Web", "TLSKey", parse_line_string, offsetof(TrackledConfig, tls_key)},
        {"Web", "AnonymousFields", parse_anonymous_fields,
         offsetof(TrackledConfig, anonymous_fields)},
        {"Web", "EmailHelp", parse_line_string, offsetof(TrackledConfig, help_email)},
        {"Web", "SummaryHelp", parse_line_string, offsetof(TrackledConfig, help_summary)},
        {"Web", "TypeHelp", parse_line_string, offsetof(TrackledConfig, help_type)},
        {"Web", "SeverityHelp", parse_line_string, offsetof(TrackledConfig, help_severity)},
        {"Web", "DescriptionHelp", parse_line_string, offsetof(TrackledConfig, help_description)},
};

int trackled_config_defaults(TrackledConfig *c)
{
        *c = (TrackledConfig){
                .content_max = TRACKLED_CONTENT_MAX_DEFAULT,
                .retention_sec = 0,
        };
        c->site_name = strdup("trackle");
        c->base_url = strdup("");
        c->staff_address = strdup("");
        c->admin_group = strdup(TRACKLE_ADMIN_GROUP_DEFAULT);
        c->mail_relay = strdup("smtp://localhost:25");
        c->mail_from = strdup("");
        if (!c->site_name || !c->base_url || !c->staff_address || !c->admin_group ||
            !c->mail_relay || !c->mail_from)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(redact_defaults); i++) {
                c->redact[i] = strdup(redact_defaults[i]);
                if (!c->redact[i])
                        return -ENOMEM;
                c->n_redact++;
        }
        return 0;
}

void trackled_config_done(TrackledConfig *c)
{
        if (!c)
                return;
        free(c->site_name);
        free(c->base_url);
        free(c->staff_address);
        free(c->admin_group);
        free(c->mail_relay);
        free(c->mail_from);
        free(c->tls_cert);
        free(c->tls_key);
        free(c->anonymous_fields);
        free(c->help_email);
        free(c->help_summary);
        free(c->help_type);
        free(c->help_severity);
        free(c->help_description);
        redact_clear(c);
        *c = (TrackledConfig){};
}

/* conf_parse_string() replaces a string without freeing the old one: parse into a copy whose
 * strings start NULL, then move what was set over the defaults. */
static void config_merge(TrackledConfig *c, TrackledConfig *n)
{
        char **dst[] = {&c->site_name,     &c->base_url,        &c->staff_address,
                        &c->admin_group,   &c->mail_relay,      &c->mail_from,
                        &c->tls_cert,      &c->tls_key,         &c->anonymous_fields,
                        &c->help_email,    &c->help_summary,    &c->help_type,
                        &c->help_severity, &c->help_description};
        char **src[] = {&n->site_name,     &n->base_url,        &n->staff_address,
                        &n->admin_group,   &n->mail_relay,      &n->mail_from,
                        &n->tls_cert,      &n->tls_key,         &n->anonymous_fields,
                        &n->help_email,    &n->help_summary,    &n->help_type,
                        &n->help_severity, &n->help_description};

        for (size_t i = 0; i < ELEMENTSOF(dst); i++)
                if (*src[i]) {
                        free(*dst[i]);
                        *dst[i] = TAKE_PTR(*src[i]);
                }
        if (n->redact_set) {
                redact_clear(c);
                memcpy(c->redact, n->redact, sizeof(c->redact));
                c->n_redact = n->n_redact;
                n->n_redact = 0;
        }
        c->content_max = n->content_max;
        c->retention_sec = n->retention_sec;
}

static int config_load(const char *name, char *text, TrackledConfig *c, ConfWarn warn,
                       void *userdata, ConfError *err)
{
        TrackledConfig n = {.content_max = c->content_max, .retention_sec = c->retention_sec};
        int r;

        if (text)
                r = conf_parse_text_warn(name, text, items, ELEMENTSOF(items), &n, warn, userdata,
                                         err);
        else
                r = conf_parse_file_warn(name, items, ELEMENTSOF(items), &n, warn, userdata, err);
        if (r >= 0)
                config_merge(c, &n);
        trackled_config_done(&n);
        return r == -ENOENT ? 0 : r;
}

int trackled_config_load(const char *path, TrackledConfig *c, ConfWarn warn, void *userdata,
                         ConfError *err)
{
        return config_load(path, NULL, c, warn, userdata, err);
}

int trackled_config_load_text(const char *name, char *text, TrackledConfig *c, ConfWarn warn,
                              void *userdata, ConfError *err)
{
        return config_load(name, text, c, warn, userdata, err);
}

bool trackled_config_is_redacted(const TrackledConfig *c, const char *path)
{
        for (size_t i = 0; i < c->n_redact; i++)
                if (fnmatch(c->redact[i], path, 0) == 0)
                        return true;
        return false;
}
