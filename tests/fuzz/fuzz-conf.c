/* fuzz-conf.c - libFuzzer target: the INI parser on arbitrary text, with the item types that
 * real configuration files use. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

typedef struct Any {
        char *s;
        bool b;
        uint64_t u, span, ms;
} Any;

static const ConfItem items[] = {
        {"A", "S", conf_parse_string, offsetof(Any, s)},
        {"A", "B", conf_parse_bool, offsetof(Any, b)},
        {"B", "U", conf_parse_uint64, offsetof(Any, u)},
        {"B", "Span", conf_parse_timespan_sec, offsetof(Any, span)},
        {"B", "Ms", conf_parse_timespan_msec, offsetof(Any, ms)},
};

static void count_warning(const char *file, unsigned line, const char *message, void *userdata)
{
        unsigned *n = userdata;

        assert(line > 0 && message[0] != '\0');
        (*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        unsigned warnings = 0;
        ConfError err;
        Any a = {};
        char *text;
        int r;

        if (size > 64 * 1024)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        r = conf_parse_text("fuzz.conf", text, items, sizeof(items) / sizeof(items[0]), &a, &err);
        assert(r == 0 || (r < 0 && err.message[0] != '\0'));
        free(a.s);

        /* The lenient parser: every problem is one warning with its line, or the whole text
         * is refused with a message. */
        a = (Any){};
        memcpy(text, data, size);
        text[size] = '\0';
        r = conf_parse_text_lenient("fuzz.conf", text, items, sizeof(items) / sizeof(items[0]), &a,
                                    count_warning, &warnings, &err);
        assert((r >= 0 && (unsigned)r == warnings) || (r < 0 && err.message[0] != '\0'));
        free(a.s);
        free(text);
        return 0;
}
