/* smtp.h - hand one finished mail message to an SMTP relay (libcurl, smtp:// or smtps://). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Is url a relay URL smtp_send() accepts: "smtp://host[:port][/...]" or "smtps://..."? */
bool smtp_relay_url_valid(const char *url);

/* Is s usable in an SMTP envelope address or a mail header: non-empty, printable ASCII, no
 * CR/LF, no '<', '>' or space (addresses) — for building headers and checking configuration. */
bool smtp_address_valid(const char *s);

/* Send message (headers, an empty line and the body, built by the caller; lines end in "\n"
 * or "\r\n") from the envelope sender `from` to the n_rcpt envelope recipients. Lines are sent
 * as CRLF; dot-stuffing is libcurl's. No shell, no sendmail: a direct SMTP conversation with
 * relay_url. Returns 0, or -errno with *ret_error (malloc'ed, may be NULL on ENOMEM) saying
 * what went wrong in words (the relay's reply where there is one). */
int smtp_send(const char *relay_url, const char *from, const char *const *rcpt, size_t n_rcpt,
              const char *message, char **ret_error);

/* The MIME header lines of a message whose body smtp_body_encode() wrote: UTF-8 plain text in
 * quoted-printable. */
#define SMTP_TEXT_MIME_HEADERS                                                                     \
        "MIME-Version: 1.0\n"                                                                      \
        "Content-Type: text/plain; charset=utf-8\n"                                                \
        "Content-Transfer-Encoding: quoted-printable\n"

/* body (text, lines ending in "\n") in quoted-printable (RFC 2045 6.7): no line longer than 76
 * characters, so that no relay refuses a long one (RFC 5321 allows 998 with CRLF), and every
 * byte kept (a mail reader decodes it exactly). Returns a malloc'ed string, NULL on ENOMEM. */
char *smtp_body_encode(const char *body);
