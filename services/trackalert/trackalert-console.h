/* trackalert-console.h - the encrypted console: libsodium crypto_secretbox frames with the
 * original's nonce handshake, the server thread and the client. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "trackalert-runtime.h"
#include "trackalert-tuple.h"

#define TA_NONCE_SIZE crypto_secretbox_NONCEBYTES /* 24 */
#define TA_FRAME_MAX 65535
#define TA_CONSOLE_CONNS_MAX 16   /* authenticated sessions */
#define TA_CONSOLE_PENDING_MAX 32 /* connections that have not sent a valid frame yet */
#define TA_CONSOLE_AUTH_USEC (10ULL * 1000000ULL)  /* to send the first frame, or a frame's rest */
#define TA_CONSOLE_IDLE_USEC (600ULL * 1000000ULL) /* an open session without a command */

/* first 12 bytes of lower, last 12 bytes of higher */
void ta_nonce_merge(const uint8_t lower[static TA_NONCE_SIZE],
                    const uint8_t higher[static TA_NONCE_SIZE], uint8_t ret[static TA_NONCE_SIZE]);
/* The first 4 bytes are a big-endian counter. */
void ta_nonce_increment(uint8_t nonce[static TA_NONCE_SIZE]);

/* Build a frame: uint16 BE length + secretbox(plain); increments the nonce. Plaintext longer
 * than TA_FRAME_MAX - MAC is refused with -EMSGSIZE (the original truncated silently). */
int ta_console_seal(const uint8_t key[static 32], uint8_t nonce[static TA_NONCE_SIZE],
                    const void *plain, size_t len, TaBuf *frame);
/* Open the ciphertext of one frame (length prefix removed); increments the nonce. */
int ta_console_open(const uint8_t key[static 32], uint8_t nonce[static TA_NONCE_SIZE],
                    const uint8_t *cipher, size_t len, char **ret_plain, size_t *ret_len);

int ta_console_server_start(TaRuntime *rt, const char *addr);
void ta_console_server_stop(void);

/* Connect to addr with key and run command (or, with command NULL, an interactive session
 * on the terminal). Returns the exit status. */
int ta_console_client(const char *addr, const uint8_t key[static 32], const char *command);
