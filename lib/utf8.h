/* utf8.h - validation of text that arrives from outside (datagrams, files, environment). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF) and
 * contains no NUL byte. */
bool utf8_is_valid_n(const char *s, size_t len);

/* As utf8_is_valid_n() and, in addition, free of C0 and C1 control characters and DEL, so
 * the text is safe to put on a terminal or in a log line. */
bool utf8_is_printable_n(const char *s, size_t len);

/* Length (1..4) of the well-formed UTF-8 sequence at s[0..left) and its code point, or 0 if
 * there is none there (ill-formed, truncated, or a NUL byte). */
size_t utf8_sequence_n(const char *s, size_t left, uint32_t *ret_cp);

/* As utf8_is_printable_n() and, in addition, free of what does not show or changes how the
 * text around it shows: format characters (zero-width, joiners, bidi marks, embeddings,
 * overrides and isolates, soft hyphen, BOM), line and paragraph separators (U+2028/U+2029),
 * spaces other than U+0020, blank fillers, variation selectors, tags and noncharacters. For
 * names that come from outside and end up in log lines, journal fields and report rows. */
bool utf8_is_visible_n(const char *s, size_t len);
