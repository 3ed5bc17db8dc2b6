/* trackled-account.h - sysadmin accounts of the web (yescrypt hashes), login sessions and
 * confirmation tokens, all stored hashed in trackle.db. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "trackled-store.h"

#define ACCOUNT_NAME_MAX 64
#define ACCOUNT_PASSWORD_MAX 1024
#define WEB_TOKEN_BYTES 32
#define WEB_TOKEN_HEX (WEB_TOKEN_BYTES * 2 + 1)
#define WEB_SESSION_LIFETIME_SEC (7 * 24 * 3600)

/* Names: 1..64 of [A-Za-z0-9._-], not starting with '-' or '.'. */
bool account_name_valid(const char *name);
/* An e-mail address we are willing to send to: local@domain, printable ASCII, no spaces,
 * no <>, at most 254 bytes. */
bool account_email_valid(const char *email);

/* yescrypt through libcrypt. */
int account_password_hash(const char *password, char **ret);
bool account_password_ok(const char *password, const char *hash);

int account_add(TrackledStore *s, const char *name, const char *email, const char *password);
int account_passwd(TrackledStore *s, const char *name, const char *password);
int account_del(TrackledStore *s, const char *name);
int account_list(TrackledStore *s, json_object **ret);
/* -ENOENT when there is no such account; *ret_hash malloc'ed. */
int account_get(TrackledStore *s, const char *name, int64_t *ret_id, char **ret_hash,
                char **ret_email);

/* A fresh random token as hex, and the hex SHA-256 under which it is stored. */
void web_token_new(char ret[WEB_TOKEN_HEX]);
void web_token_hash(const char *token, char ret[WEB_TOKEN_HEX]);
/* The CSRF token that belongs to a session (or anonymous) cookie value: a keyed hash of it. */
void web_csrf_of(const char *cookie, char ret[WEB_TOKEN_HEX]);
bool web_token_equal(const char *a, const char *b);

int websession_new(TrackledStore *s, int64_t account, const char *token);
/* -ENOENT for unknown or expired tokens. */
int websession_get(TrackledStore *s, const char *token, int64_t *ret_account, char *ret_name,
                   size_t name_size);
int websession_del(TrackledStore *s, const char *token);

/* Confirmation tokens (single use, expiring, stored hashed): purpose "ticket" (ticket, address)
 * or "subscribe" (ticket, address). */
int confirm_token_new(TrackledStore *s, const char *purpose, int64_t ticket, const char *address,
                      int64_t lifetime_sec, char ret_token[WEB_TOKEN_HEX]);
/* Marks it used; -ENOENT unknown, -ESTALE used or expired. */
int confirm_token_use(TrackledStore *s, const char *token, char *ret_purpose, size_t purpose_size,
                      int64_t *ret_ticket, char **ret_address);

/* The console ops user.add {name, email, password}, user.passwd {name, password}, user.del
 * {name}, user.list → users: [{name, email, created}]. Returns 1 with the whole reply when
 * text is such an op, 0 when it is not. */
int account_console_op(TrackledStore *s, const char *text, size_t len, json_object **ret_reply);
