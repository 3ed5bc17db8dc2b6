/* nacctd-debug.h - the original's debug categories (the `debug` bitmask) written to `debugfile`
 * as "dd/mm HH:MM:SS [CAT  ] text" lines, or to the journal at debug level without one. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

void nacct_debug_set_mask(uint32_t mask);
uint32_t nacct_debug_get_mask(void);

/* Open path for appending (NULL: debug lines go to the journal). The old file is closed only
 * once the new one is open. */
int nacct_debug_open(const char *path);
void nacct_debug_close(void);

static inline bool nacct_debug_enabled(uint32_t category)
{
        return (nacct_debug_get_mask() & category) != 0;
}

void nacct_debug_internal(uint32_t category, const char *fmt, ...) _printf_(2, 3);

#define nacct_debug(category, ...)                                                                 \
        do {                                                                                       \
                if (nacct_debug_enabled(category))                                                 \
                        nacct_debug_internal(category, __VA_ARGS__);                               \
        } while (0)
