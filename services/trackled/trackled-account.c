/* trackled-account.c - accounts (yescrypt through libcrypt), login sessions and confirmation
 * tokens in trackle.db; tokens are random, handed out once and kept only as hashes. */
#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "macro.h"
#include "state.h"
#include "trackled-account.h"

static void resetp(sqlite3_stmt **st)
{
        if (*st) {
                sqlite3_reset(*st);
                sqlite3_clear_bindings(*st);
        }
}
#define _cleanup_reset_ _cleanup_(resetp)

static void json_object_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

static int done(sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);
        return rc == SQLITE_DONE ? 0 : state_errno(rc);
}

bool account_name_valid(const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n > ACCOUNT_NAME_MAX || name[0] == '-' || name[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
                            name[i]))
                        return false;
        return true;
}

bool account_email_valid(const char *email)
{
        const char *at = strchr(email, '@');
        size_t n = strlen(email);

        if (n < 3 || n > 254 || !at || at == email || !at[1] || strchr(at + 1, '@'))
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)email[i];

                if (ch <= ' ' || ch >= 0x7f || strchr("<>()[]\\,;:\"", ch))
                        return false;
        }
        return true;
}

int account_password_hash(const char *password, char **ret)
{
        _cleanup_free_ char *salt = NULL;
        void *data = NULL;
        int size = 0;
        char *h;

        errno = 0;
        salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
        if (!salt)
                return errno > 0 ? -errno : -EINVAL;
        h = crypt_ra(password, salt, &data, &size);
        if (!h || h[0] == '*') {
                free(data);
                return -EINVAL;
        }
        h = strdup(h);
        explicit_bzero(data, (size_t)size);
        free(data);
        if (!h)
                return -ENOMEM;
        *ret = h;
        return 0;
}

bool account_password_ok(const char *password, const char *hash)
{
        void *data = NULL;
        int size = 0;
        bool ok;
        char *h;

        if (!hash || !hash[0])
                return false;
        h = crypt_ra(password, hash, &data, &size);
        ok = h && h[0] != '*' && strlen(h) == strlen(hash) &&
             sodium_memcmp(h, hash, strlen(hash)) == 0;
        if (data)
                explicit_bzero(data, (size_t)size);
        free(data);
        return ok;
}

static const char sql_add[] =
        "INSERT INTO account (name, email, password_hash, created, confirmed) "
        "VALUES (?, ?, ?, ?, 1)";
static const char sql_passwd[] = "UPDATE account SET password_hash = ? WHERE name = ?";
static const char sql_del_sessions[] =
        "DELETE FROM web_session WHERE account = (SELECT id FROM account WHERE name = ?)";
static const char sql_del[] = "DELETE FROM account WHERE name = ?";
static const char sql_list[] = "SELECT name, email, created FROM account ORDER BY name";
static const char sql_get[] = "SELECT id, password_hash, email FROM account WHERE name = ?";

int account_add(TrackledStore *s, const char *name, const char *email, const char *password)
{
        _cleanup_free_ char *hash = NULL;
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int rc, r;

        r = account_password_hash(password, &hash);
        if (r < 0)
                return r;
        st = trackled_store_stmt(s, sql_add);
        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, email, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, trackled_store_now(s));
        rc = sqlite3_step(st);
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
                return -EEXIST;
        return rc == SQLITE_DONE ? 0 : state_errno(rc);
}

int account_passwd(TrackledStore *s, const char *name, const char *password)
{
        _cleanup_free_ char *hash = NULL;
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        r = account_password_hash(password, &hash);
        if (r < 0)
                return r;
        st = trackled_store_stmt(s, sql_passwd);
        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        r = done(st);
        if (r < 0)
                return r;
        return sqlite3_changes(trackled_store_sqlite(s)) > 0 ? 0 : -ENOENT;
}

int account_del(TrackledStore *s, const char *name)
{
        int r;

        {
                _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(s, sql_del_sessions);

                if (!st)
                        return -EIO;
                sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
                r = done(st);
                if (r < 0)
                        return r;
        }
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(s, sql_del);
        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        r = done(st);
        if (r < 0)
                return r;
        return sqlite3_changes(trackled_store_sqlite(s)) > 0 ? 0 : -ENOENT;
}

int account_list(TrackledStore *s, json_object **ret)
{
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(s, sql_list);
        json_object *a;
        int rc;

        if (!st)
                return -EIO;
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                json_object *o = json_object_new_object();
                const char *email = (const char *)sqlite3_column_text(st, 1);
                char t[32];

                trackled_format_time(sqlite3_column_int64(st, 2), t);
                json_object_object_add(
                        o, "name",
                        json_object_new_string((const char *)sqlite3_column_text(st, 0)));
                json_object_object_add(o, "email", email ? json_object_new_string(email) : NULL);
                json_object_object_add(o, "created", json_object_new_string(t));
                json_object_array_add(a, o);
        }
        if (rc != SQLITE_DONE) {
                json_object_put(a);
                return state_errno(rc);
        }
        *ret = a;
        return 0;
}

int account_get(TrackledStore *s, const char *name, int64_t *ret_id, char **ret_hash,
                char **ret_email)
{
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(s, sql_get);
        const char *h, *e;
        int rc;

        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return state_errno(rc);
        h = (const char *)sqlite3_column_text(st, 1);
        e = (const char *)sqlite3_column_text(st, 2);
        if (ret_hash) {
                *ret_hash = strdup(h ?: "");
                if (!*ret_hash)
                        return -ENOMEM;
        }
        if (ret_email) {
                *ret_email = e ? strdup(e) : NULL;
                if (e && !*ret_email) {
                        if (ret_hash) {
                                free(*ret_hash);
                                *ret_hash = NULL;
                        }
                        return -ENOMEM;
                }
        }
        if (ret_id)
                *ret_id = sqlite3_column_int64(st, 0);
        return 0;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
        sodium_bin2hex(out, n * 2 + 1, b, n);
}

void web_token_new(char ret[WEB_TOKEN_HEX])
{
        uint8_t b[WEB_TOKEN_BYTES];

        randombytes_buf(b, sizeof(b));
        hex(b, sizeof(b), ret);
}

void web_token_hash(const char *token, char ret[WEB_TOKEN_HEX])
{
        uint8_t h[crypto_hash_sha256_BYTES];

        crypto_hash_sha256(h, (const uint8_t *)token, strlen(token));
        hex(h, sizeof(h), ret);
}

void web_csrf_of(const char *cookie, char ret[WEB_TOKEN_HEX])
{
        static const char what[] = "trackle csrf";
        uint8_t key[crypto_generichash_KEYBYTES];
        uint8_t h[WEB_TOKEN_BYTES];

        /* The cookie (HttpOnly, never readable by a script or another site) keys the hash. */
        crypto_generichash(key, sizeof(key), (const uint8_t *)cookie, strlen(cookie), NULL, 0);
        crypto_generichash(h, sizeof(h), (const uint8_t *)what, strlen(what), key, sizeof(key));
        hex(h, sizeof(h), ret);
}

bool web_token_equal(const char *a, const char *b)
{
        if (!a || !b || strlen(a) != strlen(b))
                return false;
        return sodium_memcmp(a, b, strlen(a)) == 0;
}

/* Expired logins and links are dropped whenever new ones are made, so neither table grows
 * beyond what the rate limits let through in their lifetime. */
static const char sql_ws_expire[] = "DELETE FROM web_session WHERE expires <= ?";
static const char sql_ct_expire[] = "DELETE FROM confirm_token WHERE expires <= ?";

static void expire(TrackledStore *s, const char *sql)
{
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(s, sql);

        if (!st)
                return;
        sqlite3_bind_int64(st, 1, trackled_store_now(s));
        (void)done(st);
}

static const char sql_ws_new[] =
        "INSERT INTO web_session (token, account, created, expires) VALUES (?, ?, ?, ?)";
static const char sql_ws_get[] = "SELECT w.account, a.name FROM web_session w JOIN account a "
                                 "ON a.id = w.account WHERE w.token = ? AND w.expires > ?";
static const char sql_ws_del[] = "DELETE FROM web_session WHERE token = ? OR expires <= ?";

int websession_new(TrackledStore *s, int64_t account, const char *token)
{
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(s, sql_ws_new);
        char h[WEB_TOKEN_HEX];
        int64_t now = trackled_store_now(s);

        if (!st)
                return -EIO;
        expire(s, sql_ws_expire);
        web_token_hash(token, h);
        sqlite3_bind_text(st, 1, h, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, account);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_int64(st, 4, now + WEB_SESSION_LIFETIME_SEC);
        return done(st);
}

int websession_get(TrackledStore *s, const char *token, int64_t *ret_account, char *ret_name,
                   size_t name_size)
{
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(s, sql_ws_get);
        char h[WEB_TOKEN_HEX];
        int rc;

        if (!st)
                return -EIO;
        web_token_hash(token, h);
        sqlite3_bind_text(st, 1, h, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, trackled_store_now(s));
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return state_errno(rc);
        *ret_account = sqlite3_column_int64(st, 0);
        snprintf(ret_name, name_size, "%s", (const char *)sqlite3_column_text(st, 1));
        return 0;
}

int websession_del(TrackledStore *s, const char *token)
{
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(s, sql_ws_del);
        char h[WEB_TOKEN_HEX];

        if (!st)
                return -EIO;
        web_token_hash(token, h);
        sqlite3_bind_text(st, 1, h, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, trackled_store_now(s));
        return done(st);
}

static const char sql_ct_new[] = "INSERT INTO confirm_token (token, purpose, ticket, address, "
                                 "expires) VALUES (?, ?, ?, ?, ?)";
static const char sql_ct_get[] = "SELECT purpose, ticket, address, expires, used FROM "
                                 "confirm_token WHERE token = ?";
static const char sql_ct_use[] =
        "UPDATE confirm_token SET used = ? WHERE token = ? AND used IS NULL";

int confirm_token_new(TrackledStore *s, const char *purpose, int64_t ticket, const char *address,
                      int64_t lifetime_sec, char ret_token[WEB_TOKEN_HEX])
{
        _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(s, sql_ct_new);
        char token[WEB_TOKEN_HEX], h[WEB_TOKEN_HEX];
        int r;

        if (!st)
                return -EIO;
        expire(s, sql_ct_expire);
        web_token_new(token);
        web_token_hash(token, h);
        sqlite3_bind_text(st, 1, h, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, purpose, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, ticket);
        sqlite3_bind_text(st, 4, address, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, trackled_store_now(s) + lifetime_sec);
        r = done(st);
        if (r < 0)
                return r;
        memcpy(ret_token, token, WEB_TOKEN_HEX);
        return 0;
}

int confirm_token_use(TrackledStore *s, const char *token, char *ret_purpose, size_t purpose_size,
                      int64_t *ret_ticket, char **ret_address)
{
        char h[WEB_TOKEN_HEX];
        char *address;
        int rc, r;

        if (strlen(token) != WEB_TOKEN_HEX - 1)
                return -ENOENT;
        web_token_hash(token, h);
        {
                _cleanup_reset_ sqlite3_stmt *st = trackled_store_stmt(s, sql_ct_get);

                if (!st)
                        return -EIO;
                sqlite3_bind_text(st, 1, h, -1, SQLITE_TRANSIENT);
                rc = sqlite3_step(st);
                if (rc == SQLITE_DONE)
                        return -ENOENT;
                if (rc != SQLITE_ROW)
                        return state_errno(rc);
                if (sqlite3_column_type(st, 4) != SQLITE_NULL ||
                    sqlite3_column_int64(st, 3) <= trackled_store_now(s))
                        return -ESTALE;
                snprintf(ret_purpose, purpose_size, "%s", (const char *)sqlite3_column_text(st, 0));
                *ret_ticket = sqlite3_column_int64(st, 1);
                address = strdup((const char *)sqlite3_column_text(st, 2) ?: "");
                if (!address)
                        return -ENOMEM;
        }
        _cleanup_reset_ sqlite3_stmt *up = trackled_store_stmt(s, sql_ct_use);
        if (!up) {
                free(address);
                return -EIO;
        }
        sqlite3_bind_int64(up, 1, trackled_store_now(s));
        sqlite3_bind_text(up, 2, h, -1, SQLITE_TRANSIENT);
        r = done(up);
        if (r >= 0 && sqlite3_changes(trackled_store_sqlite(s)) == 0)
                r = -ESTALE;
        if (r < 0) {
                free(address);
                return r;
        }
        *ret_address = address;
        return 0;
}

static json_object *reply_error(int error, const char *fmt, ...) _printf_(2, 3);
static json_object *reply_error(int error, const char *fmt, ...)
{
        json_object *o = json_object_new_object();
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_object_object_add(o, "ok", json_object_new_boolean(false));
        json_object_object_add(o, "error", json_object_new_string(msg));
        json_object_object_add(o, "errno", json_object_new_int(error));
        return o;
}

static const char *field(json_object *root, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(root, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int account_console_op(TrackledStore *s, const char *text, size_t len, json_object **ret_reply)
{
        _cleanup_(json_object_putp) json_object *root = NULL;
        const char *op, *name, *email, *password;
        json_tokener *tok;
        json_object *reply, *list;
        int r;

        if (len > 64 * 1024)
                return 0;
        tok = json_tokener_new_ex(8);
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, text, (int)len);
        json_tokener_free(tok);
        if (!root || !json_object_is_type(root, json_type_object))
                return 0; /* the general parser says what is wrong */
        op = field(root, "op");
        if (!op || strncmp(op, "user.", 5) != 0)
                return 0;
        name = field(root, "name");
        email = field(root, "email");
        password = field(root, "password");
        if (streq(op, "user.list")) {
                r = account_list(s, &list);
                if (r < 0)
                        reply = reply_error(-r, "cannot list accounts: %s", strerror(-r));
                else {
                        reply = json_object_new_object();
                        json_object_object_add(reply, "ok", json_object_new_boolean(true));
                        json_object_object_add(reply, "users", list);
                }
                *ret_reply = reply;
                return 1;
        }
        if (!name || !account_name_valid(name)) {
                *ret_reply = reply_error(EINVAL, "'name' must be 1 to 64 of A-Z a-z 0-9 . _ -");
                return 1;
        }
        if ((streq(op, "user.add") || streq(op, "user.passwd")) &&
            (!password || !password[0] || strlen(password) > ACCOUNT_PASSWORD_MAX)) {
                *ret_reply = reply_error(EINVAL, "'password' must be 1 to %d bytes",
                                         ACCOUNT_PASSWORD_MAX);
                return 1;
        }
        if (streq(op, "user.add")) {
                if (!email || !account_email_valid(email)) {
                        *ret_reply = reply_error(EINVAL, "'email' must be an address like "
                                                         "name@example.org");
                        return 1;
                }
                r = account_add(s, name, email, password);
        } else if (streq(op, "user.passwd"))
                r = account_passwd(s, name, password);
        else if (streq(op, "user.del"))
                r = account_del(s, name);
        else {
                *ret_reply = reply_error(EINVAL, "unknown op");
                return 1;
        }
        if (r == -EEXIST)
                reply = reply_error(EEXIST, "user '%s' exists already", name);
        else if (r == -ENOENT)
                reply = reply_error(ENOENT, "no such user '%s'", name);
        else if (r < 0)
                reply = reply_error(-r, "cannot store the account: %s", strerror(-r));
        else {
                reply = json_object_new_object();
                json_object_object_add(reply, "ok", json_object_new_boolean(true));
                log_info("Account '%s': %s.", name, op + 5);
        }
        *ret_reply = reply;
        return 1;
}
