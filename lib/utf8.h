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

/* True for a code point that utf8_is_visible_n() refuses: C0 and C1 controls, DEL, and the
 * invisible, format, bidi and separator characters listed there. */
bool utf8_codepoint_is_invisible(uint32_t cp);

/* The one escaping rule of the bundle for text from outside on a terminal, in a log line or a
 * table: if s is visible text (utf8_is_visible_n()), *ret = NULL and 0; else *ret = a copy in
 * which every invisible code point, every byte that is not UTF-8 and every backslash is
 * written as \xNN (per byte), and 1. -ENOMEM on failure. */
int utf8_escape_invisible(const char *s, char **ret);

/* The same into buf, which holds at least 4 * len + 1 bytes; s[0..len) may be any bytes (a NUL
 * is escaped too). Returns the length written, without the terminating NUL. */
size_t utf8_escape_invisible_buf(const char *s, size_t len, char *buf);
