/* smtp.c - one message to an SMTP relay through libcurl. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "macro.h"
#include "smtp.h"

#define SMTP_CONNECT_TIMEOUT_SEC 30L
#define SMTP_TIMEOUT_SEC 300L
#define SMTP_MESSAGE_MAX (64U * 1024U * 1024U)

bool smtp_relay_url_valid(const char *url)
{
        const char *host;

        if (!url)
                return false;
        if (strncasecmp(url, "smtp://", 7) == 0)
                host = url + 7;
        else if (strncasecmp(url, "smtps://", 8) == 0)
                host = url + 8;
        else
                return false;
        if (*host == '\0' || *host == '/' || *host == ':')
                return false;
        for (const char *p = url; *p; p++)
                if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
                        return false;
        return true;
}

bool smtp_address_valid(const char *s)
{
        if (isempty(s) || strlen(s) > 254)
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '<' ||
                    *p == '>' || *p == '(' || *p == ')' || *p == ',' || *p == ';')
                        return false;
        return strchr(s, '@') != NULL;
}

typedef struct Upload {
        const char *data;
        size_t len, off;
} Upload;

static size_t upload_read(char *buf, size_t size, size_t nitems, void *userdata)
{
        Upload *u = userdata;
        size_t n = MIN(size * nitems, u->len - u->off);

        memcpy(buf, u->data + u->off, n);
        u->off += n;
        return n;
}

/* The message with every line ending in CRLF (a lone LF gets its CR; CRLF stays). */
static char *to_crlf(const char *m, size_t *ret_len)
{
        size_t n = 0, len = strlen(m);
        char *out, *o;

        for (size_t i = 0; i < len; i++)
                if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
                        n++;
        out = malloc(len + n + 3);
        if (!out)
                return NULL;
        o = out;
        for (size_t i = 0; i < len; i++) {
                if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
                        *o++ = '\r';
                *o++ = m[i];
        }
        /* A message ends with a line end, or the relay's "." would not be a line of its own. */
        if (o == out || o[-1] != '\n') {
                *o++ = '\r';
                *o++ = '\n';
        }
        *o = '\0';
        *ret_len = (size_t)(o - out);
        return out;
}

static int fail(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_error, int r, const char *fmt, ...)
{
        va_list ap;

        if (ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}

static int curl_code_errno(CURLcode c)
{
        switch (c) {
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_LOGIN_DENIED:
        case CURLE_REMOTE_ACCESS_DENIED:
                return -EACCES;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
                return -ECONNRESET;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
                return -EINVAL;
        default:
                return -EIO;
        }
}

static void slist_freep(struct curl_slist **l)
{
        curl_slist_free_all(*l);
}

static void easy_cleanupp(CURL **c)
{
        if (*c)
                curl_easy_cleanup(*c);
}

int smtp_send(const char *relay_url, const char *from, const char *const *rcpt, size_t n_rcpt,
              const char *message, char **ret_error)
{
        _cleanup_(slist_freep) struct curl_slist *to = NULL;
        _cleanup_(easy_cleanupp) CURL *curl = NULL;
        _cleanup_free_ char *crlf = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        long response = 0;
        Upload u = {};
        CURLcode c;

        if (!smtp_relay_url_valid(relay_url))
                return fail(ret_error, -EINVAL, "relay '%s' is not an smtp:// or smtps:// URL",
                            strempty(relay_url));
        if (!smtp_address_valid(from))
                return fail(ret_error, -EINVAL, "sender '%s' is not a mail address",
                            strempty(from));
        if (n_rcpt == 0)
                return fail(ret_error, -EINVAL, "no recipient");
        if (!message || strlen(message) > SMTP_MESSAGE_MAX)
                return fail(ret_error, -EMSGSIZE, "message missing or larger than %u bytes",
                            SMTP_MESSAGE_MAX);
        for (size_t i = 0; i < n_rcpt; i++) {
                struct curl_slist *l;

                if (!smtp_address_valid(rcpt[i]))
                        return fail(ret_error, -EINVAL, "recipient '%s' is not a mail address",
                                    strempty(rcpt[i]));
                l = curl_slist_append(to, rcpt[i]);
                if (!l)
                        return fail(ret_error, -ENOMEM, "out of memory");
                to = l;
        }
        crlf = to_crlf(message, &u.len);
        if (!crlf)
                return fail(ret_error, -ENOMEM, "out of memory");
        u.data = crlf;

        curl = curl_easy_init();
        if (!curl)
                return fail(ret_error, -ENOMEM, "cannot initialise libcurl");
        if (curl_easy_setopt(curl, CURLOPT_URL, relay_url) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, to) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_READFUNCTION, upload_read) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_READDATA, &u) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u.len) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, SMTP_CONNECT_TIMEOUT_SEC) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_TIMEOUT, SMTP_TIMEOUT_SEC) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK)
                return fail(ret_error, -EINVAL, "libcurl rejects the SMTP options for '%s'",
                            relay_url);
        c = curl_easy_perform(curl);
        if (c == CURLE_OK)
                return 0;
        (void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response);
        if (response > 0)
                return fail(ret_error, curl_code_errno(c), "%s: %s (SMTP reply %ld)", relay_url,
                            errbuf[0] ? errbuf : curl_easy_strerror(c), response);
        return fail(ret_error, curl_code_errno(c), "%s: %s", relay_url,
                    errbuf[0] ? errbuf : curl_easy_strerror(c));
}

char *smtp_body_encode(const char *body)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(body), col = 0;
        char *out, *o;

        /* at worst 3 characters per byte, and a soft break ("=\n") per 25 bytes of those */
        if (n > (SIZE_MAX - 16) / 4)
                return NULL;
        out = o = malloc(4 * n + 16);
        if (!out)
                return NULL;
        for (const unsigned char *p = (const unsigned char *)body; *p; p++) {
                char tok[3];
                size_t len = 1;

                if (*p == '\n') {
                        *o++ = '\n';
                        col = 0;
                        continue;
                }
                if ((*p >= 33 && *p <= 126 && *p != '=') ||
                    ((*p == ' ' || *p == '\t') && p[1] != '\n' && p[1] != 0)) {
                        tok[0] = (char)*p;
                } else {
                        tok[0] = '=';
                        tok[1] = hex[*p >> 4];
                        tok[2] = hex[*p & 15];
                        len = 3;
                }
                if (col + len > 75) { /* a soft line break: "=" at the end of the line */
                        *o++ = '=';
                        *o++ = '\n';
                        col = 0;
                }
                memcpy(o, tok, len);
                o += len;
                col += len;
        }
        *o = 0;
        return out;
}
