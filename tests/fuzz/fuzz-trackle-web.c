/* fuzz-trackle-web.c - libFuzzer target: the request parsers of trackled's web that we wrote
 * ourselves (libmicrohttpd parses the HTTP head, json-c the API's bodies): form bodies
 * (application/x-www-form-urlencoded, decoded in place) and the checks of account names and
 * mail addresses that guard what reaches the database and mail headers. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "trackled-account.h"
#include "trackled-web-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        WebArg args[WEB_FORM_FIELDS_MAX];
        size_t n = 0;
        char *text;
        int r;

        if (size > WEB_BODY_MAX)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        r = web_form_parse(text, size, args, WEB_FORM_FIELDS_MAX, &n);
        if (r >= 0) {
                assert(n <= WEB_FORM_FIELDS_MAX);
                for (size_t i = 0; i < n; i++) {
                        /* Every name and value lies inside the buffer and is terminated in it. */
                        assert(args[i].name >= text && args[i].name <= text + size);
                        assert(args[i].value >= text && args[i].value <= text + size);
                        assert(strlen(args[i].name) <= size && strlen(args[i].value) <= size);
                        if (account_name_valid(args[i].value))
                                assert(!strpbrk(args[i].value, "/\n\r <>@") &&
                                       args[i].value[0] != '-' && args[i].value[0] != '.');
                        if (account_email_valid(args[i].value))
                                assert(strchr(args[i].value, '@') &&
                                       !strpbrk(args[i].value, "\r\n <>"));
                }
        } else
                assert(r == -EINVAL || r == -E2BIG);
        free(text);
        return 0;
}
