/* fuzz-nacct-config.c - libFuzzer target: the naccttab parser on arbitrary text. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nacctd-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        NacctConfigReport report;
        NacctConfig *c = NULL;
        char *text;
        int r;

        if (size > 256 * 1024)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        r = nacct_config_parse("fuzz.tab", text, size, &report, &c);
        assert(r == 0 ? c != NULL && report.n_errors == 0 : c == NULL && report.n_errors > 0);
        if (c) {
                assert(c->file && c->flush_sec >= 1);
                (void)nacct_config_accounts_interface(c, "eth0");
                (void)nacct_config_line_for(c, "ppp0");
        }
        nacct_config_free(c);
        free(text);
        return 0;
}
