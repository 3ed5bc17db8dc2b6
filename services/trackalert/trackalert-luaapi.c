/* trackalert-luaapi.c - the Lua API of the original (spec section 3) plus the history questions.
 * A function that belongs to the other kind of state (configuration "G" or pool "P") is a
 * silent no-op there, as in the original. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <sodium.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "trackalert-console.h"
#include "trackalert-geoip.h"
#include "trackalert-history.h"
#include "trackalert-ids.h"
#include "trackalert-lua.h"
#include "trackalert-sched.h"
#include "trackalert-webhook.h"

#define MT_CA "ComboAddress"
#define MT_NETMASK "Netmask"
#define MT_NMG "NetmaskGroup"
#define MT_TUPLE "LoginTuple"
#define MT_GEODB "GeoIP2DB"

#define REG_ENDPOINTS "trackalert.endpoints"
#define REG_BACKGROUND "trackalert.background"

static TaState *S(lua_State *L)
{
        return ta_state_from_lua(L);
}

static bool is_g(lua_State *L)
{
        return S(L)->global;
}

static void output(lua_State *L, const char *fmt, ...) _printf_(2, 3);
static void output(lua_State *L, const char *fmt, ...)
{
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (n < 0) {
                m = NULL;
                return;
        }
        ta_buf_add(&S(L)->output, m, (size_t)n);
}

/* Where the calling Lua code is, for configuration messages. */
static void caller(lua_State *L, char *file, size_t size, unsigned *line)
{
        lua_Debug ar;

        snprintf(file, size, "?");
        *line = 0;
        if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
                snprintf(file, size, "%s", ar.short_src);
                *line = ar.currentline > 0 ? (unsigned)ar.currentline : 0;
        }
}

/* A bad value given to a configuration function. While the configuration file runs (at start,
 * on reload, for --check-config) it is warned about once, with file:line, counted, and ignored,
 * so that the rest of the file applies: systemd's convention for its own files. Elsewhere (the
 * console, policies) it is a Lua error as before. Returns what the Lua function returns. */
static int config_problem(lua_State *L, const char *fmt, ...) _printf_(2, 3);
static int config_problem(lua_State *L, const char *fmt, ...)
{
        TaState *s = S(L);
        char msg[512], file[256];
        unsigned line;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (!s->loading)
                return luaL_error(L, "%s", msg);
        if (s->global) { /* the pool states run the same file: say it once */
                caller(L, file, sizeof(file), &line);
                log_warning("%s:%u: %s, ignoring.", file, line, msg);
                s->rt->config_problems++;
        }
        return 0;
}

/* A count 1..1000000 in *ret, or false after config_problem(). */
static bool check_count(lua_State *L, int arg, const char *fname, unsigned *ret)
{
        int isnum = 0;
        lua_Integer n = lua_tointegerx(L, arg, &isnum);

        if (!isnum || n <= 0 || n > 1000000) {
                config_problem(L, "%s: '%s' is not a number 1-1000000", fname,
                               luaL_tolstring(L, arg, NULL));
                return false;
        }
        *ret = (unsigned)n;
        return true;
}

static int set_string(char **p, const char *s)
{
        char *c = s ? strdup(s) : NULL;

        if (s && !c)
                return -ENOMEM;
        free(*p);
        *p = c;
        return 0;
}

/* ---- ComboAddress, Netmask, NetmaskGroup */

static TaAddr *push_ca(lua_State *L, const TaAddr *a)
{
        TaAddr *u = lua_newuserdatauv(L, sizeof(TaAddr), 0);

        *u = *a;
        luaL_setmetatable(L, MT_CA);
        return u;
}

static TaAddr *check_ca(lua_State *L, int arg)
{
        return luaL_checkudata(L, arg, MT_CA);
}

static int l_newCA(lua_State *L)
{
        const char *s = luaL_checkstring(L, 1);
        TaAddr a;

        if (ta_addr_parse(s, &a) < 0) {
                log_error("newCA: '%s' is not an IP address, using 0.0.0.0.", s);
                ta_addr_any(&a);
        }
        push_ca(L, &a);
        return 1;
}

static int ca_tostring(lua_State *L)
{
        char buf[TA_ADDR_STRLEN];

        lua_pushstring(L, ta_addr_to_string(check_ca(L, 1), buf));
        return 1;
}

static int ca_tostring_port(lua_State *L)
{
        char buf[TA_ADDR_STRLEN];

        lua_pushstring(L, ta_addr_to_string_port(check_ca(L, 1), buf));
        return 1;
}

static int ca_is_v4(lua_State *L)
{
        lua_pushboolean(L, check_ca(L, 1)->family == AF_INET);
        return 1;
}

static int ca_is_v6(lua_State *L)
{
        lua_pushboolean(L, check_ca(L, 1)->family == AF_INET6);
        return 1;
}

static int ca_is_mapped(lua_State *L)
{
        lua_pushboolean(L, ta_addr_is_mapped_v4(check_ca(L, 1)));
        return 1;
}

static int ca_eq(lua_State *L)
{
        TaAddr *a = check_ca(L, 1), *b = check_ca(L, 2);

        lua_pushboolean(L, a->family == b->family && a->port == b->port &&
                                   memcmp(a->bytes, b->bytes, 16) == 0);
        return 1;
}

static TaNetmask *push_netmask(lua_State *L, const TaNetmask *m)
{
        TaNetmask *u = lua_newuserdatauv(L, sizeof(TaNetmask), 0);

        *u = *m;
        luaL_setmetatable(L, MT_NETMASK);
        return u;
}

static int l_newNetmask(lua_State *L)
{
        const char *s = luaL_checkstring(L, 1);
        TaNetmask m;

        if (ta_netmask_parse(s, &m) < 0)
                return luaL_error(L, "newNetmask: '%s' is not a netmask", s);
        push_netmask(L, &m);
        return 1;
}

static int l_newNetmaskFromCA(lua_State *L)
{
        TaAddr *a = check_ca(L, 1);
        lua_Integer bits = luaL_checkinteger(L, 2);
        TaNetmask m;

        if (bits < 0 || ta_netmask_from_addr(a, (unsigned)bits, &m) < 0)
                return luaL_error(L, "newNetmaskFromCA: bad prefix length %d", (int)bits);
        push_netmask(L, &m);
        return 1;
}

static int nm_tostring(lua_State *L)
{
        char buf[TA_ADDR_STRLEN + 4];

        lua_pushstring(L, ta_netmask_to_string(luaL_checkudata(L, 1, MT_NETMASK), buf));
        return 1;
}

static int nm_network(lua_State *L)
{
        char buf[TA_ADDR_STRLEN];
        TaNetmask *m = luaL_checkudata(L, 1, MT_NETMASK);

        lua_pushstring(L, ta_addr_to_string(&m->net, buf));
        return 1;
}

static int nm_match(lua_State *L)
{
        TaNetmask *m = luaL_checkudata(L, 1, MT_NETMASK);
        TaAddr a;

        if (lua_type(L, 2) == LUA_TSTRING) {
                if (ta_addr_parse(lua_tostring(L, 2), &a) < 0)
                        return luaL_error(L, "match: not an address");
        } else
                a = *check_ca(L, 2);
        ta_addr_unmap(&a);
        lua_pushboolean(L, ta_netmask_match(m, &a));
        return 1;
}

static int l_newNetmaskGroup(lua_State *L)
{
        TaNetmaskGroup *g = lua_newuserdatauv(L, sizeof(TaNetmaskGroup), 0);

        ta_netmask_group_init(g);
        luaL_setmetatable(L, MT_NMG);
        return 1;
}

static int nmg_gc(lua_State *L)
{
        ta_netmask_group_done(luaL_checkudata(L, 1, MT_NMG));
        return 0;
}

static int nmg_add(lua_State *L)
{
        TaNetmaskGroup *g = luaL_checkudata(L, 1, MT_NMG);
        int r;

        if (luaL_testudata(L, 2, MT_NETMASK))
                r = ta_netmask_group_add(g, lua_touserdata(L, 2));
        else
                r = ta_netmask_group_add_string(g, luaL_checkstring(L, 2));
        if (r < 0)
                return luaL_error(L, "addMask: '%s' is not a netmask", luaL_tolstring(L, 2, NULL));
        return 0;
}

static int nmg_match(lua_State *L)
{
        TaNetmaskGroup *g = luaL_checkudata(L, 1, MT_NMG);
        TaAddr a;

        if (lua_type(L, 2) == LUA_TSTRING) {
                if (ta_addr_parse(lua_tostring(L, 2), &a) < 0)
                        return luaL_error(L, "match: not an address");
        } else
                a = *check_ca(L, 2);
        lua_pushboolean(L, ta_netmask_group_match(g, &a));
        return 1;
}

static int nmg_size(lua_State *L)
{
        lua_pushinteger(L, (lua_Integer)((TaNetmaskGroup *)luaL_checkudata(L, 1, MT_NMG))->n);
        return 1;
}

static int nmg_clear(lua_State *L)
{
        ta_netmask_group_clear(luaL_checkudata(L, 1, MT_NMG));
        return 0;
}

/* ---- LoginTuple */

void ta_luaapi_push_kv(lua_State *L, const TaKvList *l)
{
        lua_createtable(L, 0, (int)l->n);
        for (size_t i = 0; i < l->n; i++) {
                lua_pushstring(L, l->items[i].value ?: "");
                lua_setfield(L, -2, l->items[i].key);
        }
}

void ta_luaapi_push_kv_mv(lua_State *L, const TaKvList *l)
{
        lua_createtable(L, 0, (int)l->n);
        for (size_t i = 0; i < l->n; i++) {
                lua_createtable(L, (int)l->items[i].n_values, 0);
                for (size_t j = 0; j < l->items[i].n_values; j++) {
                        lua_pushstring(L, l->items[i].values[j]);
                        lua_rawseti(L, -2, (lua_Integer)j + 1);
                }
                lua_setfield(L, -2, l->items[i].key);
        }
}

/* The userdata holds a packed copy of the tuple: nothing to free, and a policy may keep it
 * after the call (the original hands Lua a copy too). */
void ta_luaapi_push_tuple(lua_State *L, const TaTuple *t)
{
        void *u = lua_newuserdatauv(L, ta_tuple_packed_size(t), 0);

        ta_tuple_pack(t, u);
        luaL_setmetatable(L, MT_TUPLE);
}

static int tuple_index(lua_State *L)
{
        TaTuple *t = luaL_checkudata(L, 1, MT_TUPLE);
        const char *k = luaL_checkstring(L, 2);

        if (streq(k, "login"))
                lua_pushstring(L, t->login);
        else if (streq(k, "remote"))
                push_ca(L, &t->remote);
        else if (streq(k, "success"))
                lua_pushboolean(L, t->success);
        else if (streq(k, "pwhash"))
                lua_pushstring(L, t->pwhash);
        else if (streq(k, "policy_reject"))
                lua_pushboolean(L, t->policy_reject);
        else if (streq(k, "fail_type"))
                lua_pushstring(L, t->fail_type);
        else if (streq(k, "protocol"))
                lua_pushstring(L, t->protocol);
        else if (streq(k, "tls"))
                lua_pushboolean(L, t->tls);
        else if (streq(k, "device_id"))
                lua_pushstring(L, t->device_id);
        else if (streq(k, "device_attrs"))
                ta_luaapi_push_kv(L, &t->device_attrs);
        else if (streq(k, "attrs"))
                ta_luaapi_push_kv(L, &t->attrs);
        else if (streq(k, "attrs_mv"))
                ta_luaapi_push_kv_mv(L, &t->attrs_mv);
        else if (streq(k, "session_id"))
                lua_pushstring(L, t->session_id);
        else if (streq(k, "t"))
                lua_pushnumber(L, t->t);
        else
                lua_pushnil(L);
        return 1;
}

/* ---- logging */

static int lua_log(lua_State *L, int level, bool verbose_only)
{
        const char *msg = luaL_checkstring(L, 1);
        LogField fields[16];
        char names[16][64];
        size_t n = 0;
        TaBuf line = {};

        if (verbose_only && !S(L)->rt->verbose)
                return 0;
        if (log_get_max_level() < level)
                return 0;
        {
                _cleanup_free_ char *m = ta_log_text(msg, false);

                ta_buf_puts(&line, m ?: "");
        }
        if (lua_istable(L, 2)) {
                ta_buf_puts(&line, ":");
                lua_pushnil(L);
                while (lua_next(L, 2) != 0) {
                        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
                        const char *v =
                                lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER
                                        ? lua_tostring(L, -1)
                                        : NULL;
                        if (k && v) {
                                _cleanup_free_ char *ek = ta_log_text(k, true),
                                                    *ev = ta_log_text(v, true),
                                                    *fv = ta_log_text(v, false);

                                if (!ek || !ev || !fv) {
                                        lua_pop(L, 1);
                                        continue;
                                }
                                ta_buf_printf(&line, " %s=\"%s\"", ek, ev);
                                if (n < ELEMENTSOF(fields)) {
                                        size_t j = 0,
                                               o = (size_t)snprintf(names[n], sizeof(names[n]),
                                                                    "TRACKALERT_");
                                        for (; k[j] && o + 1 < sizeof(names[n]); j++, o++)
                                                names[n][o] =
                                                        (char)((k[j] >= 'a' && k[j] <= 'z')
                                                                       ? k[j] - 32
                                                               : ((k[j] >= 'A' && k[j] <= 'Z') ||
                                                                  (k[j] >= '0' && k[j] <= '9'))
                                                                       ? k[j]
                                                                       : '_');
                                        names[n][o] = '\0';
                                        /* v stays on the Lua stack only until lua_pop: copy */
                                        fields[n] = (LogField){names[n], TAKE_PTR(fv)};
                                        n++;
                                }
                        }
                        lua_pop(L, 1);
                }
                ta_buf_puts(&line, " ");
        }
        log_fields(level, TRACKALERT_MID_CUSTOM_LOG, fields, n, "%s", line.data ?: msg);
        for (size_t i = 0; i < n; i++)
                free((char *)fields[i].value);
        ta_buf_done(&line);
        return 0;
}

static int l_infoLog(lua_State *L)
{
        return lua_log(L, LOG_INFO, false);
}

static int l_warnLog(lua_State *L)
{
        return lua_log(L, LOG_WARNING, false);
}

static int l_errorLog(lua_State *L)
{
        return lua_log(L, LOG_ERR, false);
}

static int l_debugLog(lua_State *L)
{
        return lua_log(L, LOG_DEBUG, true);
}

static int l_vinfoLog(lua_State *L)
{
        return lua_log(L, LOG_INFO, true);
}

/* ---- server configuration (G) */

static int add_listener(lua_State *L, const char *addr, bool tls, const char *cert, const char *key,
                        int opts)
{
        TaConfig *c = &S(L)->rt->config;
        TaListenerConf *l;
        char file[256];
        TaAddr a;

        if (ta_addr_parse(addr, &a) < 0 || a.port == 0)
                return config_problem(L, "addListener: '%s' is not an IP address with a port",
                                      addr);
        if (c->n_listeners >= TA_LISTENERS_MAX)
                return config_problem(L, "addListener: too many listeners");
        l = &c->listeners[c->n_listeners];
        *l = (TaListenerConf){.tls = tls};
        caller(L, file, sizeof(file), &l->line);
        if (set_string(&l->addr, addr) < 0 || set_string(&l->file, file) < 0 ||
            (tls && (set_string(&l->cert, cert) < 0 || set_string(&l->key, key) < 0)))
                return luaL_error(L, "out of memory");
        c->n_listeners++;
        if (tls && opts > 0 && lua_istable(L, opts)) {
                /* OpenSSL SSL_CONF names; only the protocol floor maps onto GnuTLS. */
                lua_getfield(L, opts, "min_protocol");
                if (lua_isstring(L, -1)) {
                        const char *p = lua_tostring(L, -1);
                        const char *prio = streq(p, "TLSv1.3") ? "NORMAL:-VERS-ALL:+VERS-TLS1.3"
                                           : streq(p, "TLSv1.2")
                                                   ? "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
                                                   : NULL;
                        if (!prio)
                                log_warning("addListener: min_protocol '%s' not supported, "
                                            "ignoring.",
                                            p);
                        else if (set_string(&l->priorities, prio) < 0)
                                return luaL_error(L, "out of memory");
                }
                lua_pop(L, 1);
                lua_pushnil(L);
                while (lua_next(L, opts) != 0) {
                        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
                        if (!streq(k, "min_protocol"))
                                log_warning("addListener: TLS option '%s' is not supported, "
                                            "ignoring.",
                                            k);
                        lua_pop(L, 1);
                }
        }
        return 0;
}

static int l_addListener(lua_State *L)
{
        const char *addr = luaL_checkstring(L, 1);
        bool tls = lua_toboolean(L, 2);
        const char *cert = tls ? luaL_checkstring(L, 3) : NULL;
        const char *key = tls ? luaL_checkstring(L, 4) : NULL;

        if (!is_g(L))
                return 0;
        return add_listener(L, addr, tls, cert, key, lua_gettop(L) >= 5 ? 5 : 0);
}

static int set_password(lua_State *L, const char *pw)
{
        TaRuntime *rt = S(L)->rt;
        char *c = strdup(pw);

        if (!c)
                return luaL_error(L, "out of memory");
        pthread_rwlock_wrlock(&rt->acl_lock);
        free(rt->password);
        rt->password = c;
        pthread_rwlock_unlock(&rt->acl_lock);
        return 0;
}

static int l_webserver(lua_State *L)
{
        const char *addr = luaL_checkstring(L, 1), *pw = luaL_checkstring(L, 2);

        if (!is_g(L))
                return 0;
        log_warning("webserver() is deprecated, use addListener() and setWebserverPassword().");
        add_listener(L, addr, false, NULL, NULL, 0);
        return set_password(L, pw);
}

static int l_setWebserverPassword(lua_State *L)
{
        const char *pw = luaL_checkstring(L, 1);

        if (!is_g(L))
                return 0;
        return set_password(L, pw);
}

static int l_setMetricsNoPassword(lua_State *L)
{
        if (is_g(L))
                S(L)->rt->config.metrics_no_password = true;
        return 0;
}

static int l_addACL(lua_State *L)
{
        const char *s = luaL_checkstring(L, 1);
        TaRuntime *rt = S(L)->rt;
        TaNetmask m;
        int r;

        if (!is_g(L))
                return 0;
        if (ta_netmask_parse(s, &m) < 0)
                return config_problem(L, "addACL: '%s' is not a netmask", s);
        pthread_rwlock_wrlock(&rt->acl_lock);
        r = ta_netmask_group_add(&rt->acl, &m);
        pthread_rwlock_unlock(&rt->acl_lock);
        if (r < 0)
                return luaL_error(L, "out of memory");
        return 0;
}

static int l_setACL(lua_State *L)
{
        TaRuntime *rt = S(L)->rt;
        TaNetmaskGroup g = {};

        luaL_checktype(L, 1, LUA_TTABLE);
        if (!is_g(L))
                return 0;
        for (lua_Integer i = 1;; i++) {
                TaNetmask m;
                const char *s;

                if (lua_rawgeti(L, 1, i) == LUA_TNIL) {
                        lua_pop(L, 1);
                        break;
                }
                s = lua_tostring(L, -1);
                if (!s || ta_netmask_parse(s, &m) < 0 || ta_netmask_group_add(&g, &m) < 0) {
                        ta_netmask_group_done(&g);
                        return config_problem(L,
                                              "setACL: '%s' is not a netmask, the ACL is "
                                              "left as it was",
                                              s ?: "?");
                }
                lua_pop(L, 1);
        }
        pthread_rwlock_wrlock(&rt->acl_lock);
        ta_netmask_group_done(&rt->acl);
        rt->acl = g;
        pthread_rwlock_unlock(&rt->acl_lock);
        return 0;
}

static int l_showACL(lua_State *L)
{
        TaRuntime *rt = S(L)->rt;

        if (!is_g(L))
                return 0;
        pthread_rwlock_rdlock(&rt->acl_lock);
        for (size_t i = 0; i < rt->acl.n; i++) {
                char buf[TA_ADDR_STRLEN + 4];
                output(L, "%s\n", ta_netmask_to_string(&rt->acl.masks[i], buf));
        }
        pthread_rwlock_unlock(&rt->acl_lock);
        return 0;
}

static int l_controlSocket(lua_State *L)
{
        const char *s = luaL_checkstring(L, 1);
        TaConfig *c = &S(L)->rt->config;
        TaAddr a;
        char buf[TA_ADDR_STRLEN];

        if (!is_g(L))
                return 0;
        if (ta_addr_parse(s, &a) < 0)
                return config_problem(L, "controlSocket: '%s' is not an IP address", s);
        if (a.port == 0)
                a.port = TA_DEFAULT_CONTROL_PORT;
        if (set_string(&c->control_addr, ta_addr_to_string_port(&a, buf)) < 0)
                return luaL_error(L, "out of memory");
        return 0;
}

static int l_setKey(lua_State *L)
{
        const char *s = luaL_checkstring(L, 1);
        TaConfig *c = &S(L)->rt->config;
        uint8_t key[TA_KEY_SIZE + 1];
        size_t len = 0;

        if (!is_g(L)) {
                lua_pushboolean(L, true);
                return 1;
        }
        if (sodium_base642bin(key, sizeof(key), s, strlen(s), NULL, &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            len != TA_KEY_SIZE) {
                /* As the original: false, not an error; but a key the console would refuse is
                 * a problem of the configuration. */
                if (S(L)->loading)
                        config_problem(L, "setKey: the key must be 32 bytes in base64 (makeKey() "
                                          "makes one)");
                else
                        log_error("setKey: the key must be 32 bytes in base64.");
                lua_pushboolean(L, false);
                return 1;
        }
        memcpy(c->key, key, TA_KEY_SIZE);
        c->key_set = true;
        sodium_memzero(key, sizeof(key));
        lua_pushboolean(L, true);
        return 1;
}

static int l_makeKey(lua_State *L)
{
        uint8_t key[TA_KEY_SIZE];
        char b64[sodium_base64_ENCODED_LEN(TA_KEY_SIZE, sodium_base64_VARIANT_ORIGINAL)];

        if (!is_g(L))
                return 0;
        randombytes_buf(key, sizeof(key));
        sodium_bin2base64(b64, sizeof(b64), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
        output(L, "setKey(\"%s\")\n", b64);
        return 0;
}

static int l_testCrypto(lua_State *L)
{
        const char *s = luaL_optstring(L, 1, "testing");
        TaConfig *c = &S(L)->rt->config;
        uint8_t n1[TA_NONCE_SIZE], n2[TA_NONCE_SIZE];
        _cleanup_free_ char *plain = NULL;
        TaBuf frame = {};
        size_t len = 0;
        bool ok;

        if (!is_g(L))
                return 0;
        randombytes_buf(n1, sizeof(n1));
        memcpy(n2, n1, sizeof(n1));
        ok = ta_console_seal(c->key, n1, s, strlen(s), &frame) >= 0 &&
             ta_console_open(c->key, n2, (uint8_t *)frame.data + 2, frame.len - 2, &plain, &len) >=
                     0 &&
             len == strlen(s) && memcmp(plain, s, len) == 0;
        ta_buf_done(&frame);
        output(L, "%s\n", ok ? "Everything is ok!" : "Crypto failed..");
        return 0;
}

#define COUNT_SETTER(fname, field)                                                                 \
        static int l_##fname(lua_State *L)                                                         \
        {                                                                                          \
                unsigned n;                                                                        \
                if (check_count(L, 1, #fname, &n) && is_g(L))                                      \
                        S(L)->rt->config.field = n;                                                \
                return 0;                                                                          \
        }

COUNT_SETTER(setNumLuaStates, num_lua_states)
COUNT_SETTER(setNumWorkerThreads, num_worker_threads)
COUNT_SETTER(setMaxWebserverConns, max_conns)
COUNT_SETTER(setNumSchedulerThreads, num_sched_threads)
COUNT_SETTER(setNumWebHookThreads, num_webhook_threads)
COUNT_SETTER(setNumWebHookConnsPerThread, webhook_conns_per_thread)
COUNT_SETTER(setWebHookQueueSize, webhook_queue_size)
COUNT_SETTER(setWebHookTimeoutSecs, webhook_timeout_sec)
COUNT_SETTER(setHistoryQueueSize, history_queue_size)

static int l_setNumReportThreads(lua_State *L)
{
        if (is_g(L))
                log_info("setNumReportThreads() is deprecated and has no effect.");
        return 0;
}

static int l_setLuaMemoryLimit(lua_State *L)
{
        unsigned mib;

        if (check_count(L, 1, "setLuaMemoryLimit", &mib) && is_g(L))
                S(L)->rt->config.lua_memory_limit = (size_t)mib * 1024 * 1024;
        return 0;
}

static int l_setLuaInstructionLimit(lua_State *L)
{
        lua_Integer n = luaL_checkinteger(L, 1);

        if (n < 10000)
                return config_problem(L, "setLuaInstructionLimit: %lld is less than 10000",
                                      (long long)n);
        if (is_g(L))
                S(L)->rt->config.lua_instruction_limit = (uint64_t)n;
        return 0;
}

/* Wall-clock milliseconds per call into Lua (report, custom endpoint, background function,
 * console line); 0 for none. */
static int l_setLuaTimeLimit(lua_State *L)
{
        lua_Integer ms = luaL_checkinteger(L, 1);

        if (ms < 0 || ms > 24LL * 3600 * 1000)
                return config_problem(L, "setLuaTimeLimit: %lld is not 0-86400000 ms",
                                      (long long)ms);
        if (is_g(L))
                S(L)->rt->config.lua_time_limit_usec = (uint64_t)ms * 1000ULL;
        return 0;
}

static int l_disableCurlPeerVerification(lua_State *L)
{
        if (is_g(L))
                S(L)->rt->config.curl_no_peer_verify = true;
        return 0;
}

static int l_disableCurlHostVerification(lua_State *L)
{
        if (is_g(L))
                S(L)->rt->config.curl_no_host_verify = true;
        return 0;
}

static int l_setCurlCABundleFile(lua_State *L)
{
        const char *s = luaL_checkstring(L, 1);

        if (is_g(L) && set_string(&S(L)->rt->config.curl_ca_bundle, s) < 0)
                return luaL_error(L, "out of memory");
        return 0;
}

static int l_setCurlClientCertAndKey(lua_State *L)
{
        const char *cert = luaL_checkstring(L, 1), *key = luaL_checkstring(L, 2);
        TaConfig *c = &S(L)->rt->config;

        if (is_g(L) && (set_string(&c->curl_client_cert, cert) < 0 ||
                        set_string(&c->curl_client_key, key) < 0))
                return luaL_error(L, "out of memory");
        return 0;
}

static int l_shutdown(lua_State *L)
{
        log_notice("shutdown() called from Lua, exiting.");
        ta_runtime_request_shutdown(S(L)->rt);
        return 0;
}

/* ---- policy hooks */

static int l_setReport(lua_State *L)
{
        TaState *s = S(L);

        luaL_checktype(L, 1, LUA_TFUNCTION);
        if (s->global)
                return 0;
        luaL_unref(L, LUA_REGISTRYINDEX, s->report_ref);
        lua_pushvalue(L, 1);
        s->report_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        return 0;
}

static void registry_table_set(lua_State *L, const char *table, const char *name, int value)
{
        if (lua_getfield(L, LUA_REGISTRYINDEX, table) != LUA_TTABLE) {
                lua_pop(L, 1);
                lua_newtable(L);
                lua_pushvalue(L, -1);
                lua_setfield(L, LUA_REGISTRYINDEX, table);
        }
        lua_pushvalue(L, value);
        lua_setfield(L, -2, name);
        lua_pop(L, 1);
}

static int l_setBackground(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1);

        luaL_checktype(L, 2, LUA_TFUNCTION);
        if (!is_g(L))
                registry_table_set(L, REG_BACKGROUND, name, 2);
        return 0;
}

static int l_cronScheduleBackgroundFunc(lua_State *L)
{
        const char *spec = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
        TaRuntime *rt = S(L)->rt;
        TaCron c;

        if (ta_cron_parse(spec, &c) < 0)
                return config_problem(L,
                                      "cronScheduleBackgroundFunc: bad schedule '%s' (5 fields, "
                                      "each '*' or one number)",
                                      spec);
        if (!is_g(L) || rt->client_mode || !rt->sched)
                return 0;
        if (ta_sched_add_cron(rt->sched, &c, name) < 0)
                return luaL_error(L, "cronScheduleBackgroundFunc: cannot add '%s'", name);
        return 0;
}

static int l_intervalScheduleBackgroundFunc(lua_State *L)
{
        const char *spec = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
        TaRuntime *rt = S(L)->rt;
        uint64_t usec;

        if (ta_interval_parse(spec, &usec) < 0 || usec == 0)
                return config_problem(L,
                                      "intervalScheduleBackgroundFunc: bad duration '%s' "
                                      "(h[h][:mm][:ss])",
                                      spec);
        if (!is_g(L) || rt->client_mode || !rt->sched)
                return 0;
        if (ta_sched_add_interval(rt->sched, usec, name) < 0)
                return luaL_error(L, "intervalScheduleBackgroundFunc: cannot add '%s'", name);
        return 0;
}

static int l_durationToSeconds(lua_State *L)
{
        const char *spec = luaL_checkstring(L, 1);
        uint64_t usec, sec;

        /* The original's format first ("10" is ten hours, "00:00:30" thirty seconds), then
         * durations with units ("1h", "30min", "7d", "1h 30min"). The original returned 0 for
         * anything else, which a policy cannot tell from a real 0: here it is an error. */
        if (ta_interval_parse(spec, &usec) >= 0)
                sec = usec / 1000000ULL;
        else if (strpbrk(spec, "abcdefghijklmnopqrstuvwxyz") && parse_timespan_sec(spec, &sec) >= 0)
                ;
        else
                return luaL_error(L,
                                  "durationToSeconds: '%s' is not a duration (h[h][:mm][:ss] as "
                                  "the original, or with units: \"90s\", \"30min\", \"1h\", "
                                  "\"7d\")",
                                  spec);
        lua_pushinteger(L, (lua_Integer)sec);
        return 1;
}

static int l_setCustomEndpoint(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1);
        TaRuntime *rt = S(L)->rt;
        int fn = lua_isfunction(L, 2) ? 2 : 3; /* also accept (name, bool, func) of wforce */

        luaL_checktype(L, fn, LUA_TFUNCTION);
        if (!*name || strlen(name) >= TA_STATS_NAME_MAX || strpbrk(name, "/?&# "))
                return config_problem(L, "setCustomEndpoint: bad name '%s'", name);
        registry_table_set(L, REG_ENDPOINTS, name, fn);
        if (is_g(L) && !rt->client_mode) {
                if (streq(name, "report") || streq(name, "stats") || streq(name, "readyz") ||
                    streq(name, "livez"))
                        return config_problem(L, "setCustomEndpoint: '%s' is a built-in command",
                                              name);
                if (ta_counter_set_add(rt->endpoints, name) < 0 ||
                    ta_counter_set_add(&rt->stats->commands, name) < 0)
                        return luaL_error(L, "setCustomEndpoint: too many endpoints");
        }
        return 0;
}

static int endpoint_cmp(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* As the original: a heading and the names sorted, each padded (and cut) to 30 columns and
 * followed by a space. */
static int l_showCustomEndpoints(lua_State *L)
{
        TaCounterSet *e = S(L)->rt->endpoints;
        size_t n = ta_counter_set_size(e);
        const char **names;

        if (!is_g(L))
                return 0;
        names = lua_newuserdatauv(L, (n ? n : 1) * sizeof(char *), 0);
        for (size_t i = 0; i < n; i++)
                names[i] = e->items[i].name;
        qsort(names, n, sizeof(char *), endpoint_cmp);
        output(L, "%-30.30s \n", "Custom Endpoint");
        for (size_t i = 0; i < n; i++)
                output(L, "%-30.30s \n", names[i]);
        lua_pop(L, 1);
        return 0;
}

/* ---- stats */

static int l_addCustomStat(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1);

        if (is_g(L) && ta_counter_set_add(&S(L)->rt->stats->custom, name) < 0)
                return luaL_error(L, "addCustomStat: cannot add '%s'", name);
        return 0;
}

static int l_incCustomStat(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1);

        if (!is_g(L))
                (void)ta_stats_custom_inc(S(L)->rt->stats, name);
        return 0;
}

static int l_stats(lua_State *L)
{
        if (is_g(L))
                output(L, "%llu reports\n",
                       (unsigned long long)__atomic_load_n(&S(L)->rt->stats->reports,
                                                           __ATOMIC_RELAXED));
        return 0;
}

static int show_text(lua_State *L, void (*fn)(TaStats *, TaBuf *))
{
        TaBuf b = {};

        if (!is_g(L))
                return 0;
        fn(S(L)->rt->stats, &b);
        if (b.data)
                ta_buf_add(&S(L)->output, b.data, b.len);
        ta_buf_done(&b);
        return 0;
}

static int l_showPerfStats(lua_State *L)
{
        return show_text(L, ta_stats_perf_text);
}

static int l_showCommandStats(lua_State *L)
{
        return show_text(L, ta_stats_commands_text);
}

static int l_showCustomStats(lua_State *L)
{
        return show_text(L, ta_stats_custom_text);
}

static int l_showVersion(lua_State *L)
{
        if (is_g(L))
                output(L, "trackalert %s\n", PROJECT_VERSION);
        return 0;
}

/* ---- webhooks */

static int l_addCustomWebHook(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1);
        TaRuntime *rt = S(L)->rt;
        TaKvList opts = {};
        const char *err = NULL;
        int r;

        luaL_checktype(L, 2, LUA_TTABLE);
        if (!is_g(L) || rt->client_mode || !rt->webhooks)
                return 0;
        lua_pushnil(L);
        while (lua_next(L, 2) != 0) {
                if (lua_type(L, -2) == LUA_TSTRING && lua_isstring(L, -1))
                        (void)ta_kv_list_add(&opts, lua_tostring(L, -2), lua_tostring(L, -1));
                lua_pop(L, 1);
        }
        r = ta_webhooks_add(rt->webhooks, name, &opts, &err);
        ta_kv_list_done(&opts);
        if (r < 0)
                return config_problem(L, "addCustomWebHook: %s", err ?: "cannot add the webhook");
        return 0;
}

static int l_runCustomWebHook(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1);
        size_t len;
        const char *data = luaL_checklstring(L, 2, &len);
        TaRuntime *rt = S(L)->rt;
        int r;

        if (is_g(L) || !rt->webhooks)
                return 0;
        r = ta_webhooks_run(rt->webhooks, name, data, len);
        if (r == -ENOENT)
                log_error("runCustomWebHook: no custom webhook named '%s'.", name);
        else if (r == -EAGAIN)
                log_error("runCustomWebHook: the webhook queue is full, dropping the event for "
                          "'%s'.",
                          name);
        return 0;
}

static int l_showCustomWebHooks(lua_State *L)
{
        TaRuntime *rt = S(L)->rt;
        TaBuf b = {};

        if (!is_g(L) || !rt->webhooks)
                return 0;
        ta_webhooks_show(rt->webhooks, &b);
        if (b.data)
                ta_buf_add(&S(L)->output, b.data, b.len);
        ta_buf_done(&b);
        return 0;
}

/* ---- GeoIP2 */

static void push_geodb(lua_State *L, TaGeoDB *db)
{
        TaGeoDB **u = lua_newuserdatauv(L, sizeof(TaGeoDB *), 0);

        *u = db;
        luaL_setmetatable(L, MT_GEODB);
}

static int l_newGeoIP2DB(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1), *file = luaL_checkstring(L, 2);
        TaRuntime *rt = S(L)->rt;
        _cleanup_free_ char *err = NULL;

        if (!is_g(L) || rt->client_mode || !rt->geoip)
                return 0;
        if (ta_geoip_open(rt->geoip, name, file, &err) < 0)
                return config_problem(L, "newGeoIP2DB: %s", err ?: "cannot open the database");
        push_geodb(L, ta_geoip_get(rt->geoip, name));
        return 1;
}

static int l_getGeoIP2DB(lua_State *L)
{
        const char *name = luaL_checkstring(L, 1);
        TaRuntime *rt = S(L)->rt;
        TaGeoDB *db = rt->geoip ? ta_geoip_get(rt->geoip, name) : NULL;

        if (!db)
                log_error("getGeoIP2DB: no GeoIP2 database named '%s'.", name);
        push_geodb(L, db);
        return 1;
}

static TaGeoDB *check_geodb(lua_State *L, TaAddr *ret)
{
        TaGeoDB *db = *(TaGeoDB **)luaL_checkudata(L, 1, MT_GEODB);

        *ret = *check_ca(L, 2);
        ta_addr_unmap(ret);
        return db;
}

static int geo_country(lua_State *L)
{
        char buf[64] = "";
        TaAddr a;
        TaGeoDB *db = check_geodb(L, &a);

        if (db)
                (void)ta_geodb_country(db, &a, buf, sizeof(buf));
        lua_pushstring(L, buf);
        return 1;
}

static int geo_isp(lua_State *L)
{
        char buf[256] = "";
        TaAddr a;
        TaGeoDB *db = check_geodb(L, &a);

        if (db)
                (void)ta_geodb_isp(db, &a, buf, sizeof(buf));
        lua_pushstring(L, buf);
        return 1;
}

static int geo_city(lua_State *L)
{
        TaGeoCity c = {};
        TaAddr a;
        TaGeoDB *db = check_geodb(L, &a);

        if (db)
                (void)ta_geodb_city(db, &a, &c);
        lua_createtable(L, 0, 8);
#define F(k) (lua_pushstring(L, c.k), lua_setfield(L, -2, #k))
        F(country_code);
        F(country_name);
        F(region);
        F(city);
        F(postal_code);
        F(continent_code);
#undef F
        lua_pushnumber(L, c.latitude);
        lua_setfield(L, -2, "latitude");
        lua_pushnumber(L, c.longitude);
        lua_setfield(L, -2, "longitude");
        return 1;
}

static int geo_value(lua_State *L, TaGeoValue type)
{
        const char *path[17] = {};
        char sbuf[512] = "";
        uint64_t u = 0;
        bool b = false;
        double d = 0;
        size_t n = 0;
        TaAddr a;
        TaGeoDB *db = check_geodb(L, &a);

        luaL_checktype(L, 3, LUA_TTABLE);
        for (lua_Integer i = 1; n + 1 < ELEMENTSOF(path); i++) {
                if (lua_rawgeti(L, 3, i) == LUA_TNIL) {
                        lua_pop(L, 1);
                        break;
                }
                path[n++] = lua_tostring(L, -1); /* stays referenced by the table */
                lua_pop(L, 1);
        }
        if (db && n > 0)
                (void)ta_geodb_value(db, &a, path, type, sbuf, sizeof(sbuf), &u, &b, &d);
        switch (type) {
        case TA_GEO_STRING:
                lua_pushstring(L, sbuf);
                break;
        case TA_GEO_UINT:
                lua_pushinteger(L, (lua_Integer)u);
                break;
        case TA_GEO_BOOL:
                lua_pushboolean(L, b);
                break;
        case TA_GEO_DOUBLE:
                lua_pushnumber(L, d);
                break;
        }
        return 1;
}

static int geo_string(lua_State *L)
{
        return geo_value(L, TA_GEO_STRING);
}

static int geo_uint(lua_State *L)
{
        return geo_value(L, TA_GEO_UINT);
}

static int geo_bool(lua_State *L)
{
        return geo_value(L, TA_GEO_BOOL);
}

static int geo_double(lua_State *L)
{
        return geo_value(L, TA_GEO_DOUBLE);
}

static int l_reloadGeoIPDBs(lua_State *L)
{
        TaRuntime *rt = S(L)->rt;
        TaBuf b = {};
        int r;

        if (!is_g(L) || !rt->geoip)
                return 0;
        r = ta_geoip_reload(rt->geoip, &b);
        if (b.data)
                ta_buf_add(&S(L)->output, b.data, b.len);
        ta_buf_done(&b);
        output(L, "%s\n", r < 0 ? "reloadGeoIPDBs() failed" : "reloadGeoIPDBs() successful");
        return 0;
}

/* ---- history (beyond the original) */

static int l_setHistoryFile(lua_State *L)
{
        const char *s = luaL_checkstring(L, 1);

        if (is_g(L) && set_string(&S(L)->rt->config.history_path, s) < 0)
                return luaL_error(L, "out of memory");
        return 0;
}

static uint64_t check_duration(lua_State *L, int arg)
{
        uint64_t sec;

        if (lua_type(L, arg) == LUA_TNUMBER) {
                lua_Number n = lua_tonumber(L, arg);
                luaL_argcheck(L, n >= 0 && n < 1e12, arg, "bad duration");
                return (uint64_t)n;
        }
        if (parse_timespan_sec(luaL_checkstring(L, arg), &sec) < 0)
                luaL_argerror(L, arg, "bad duration (e.g. 3600, \"12h\", \"7d\")");
        return sec;
}

static int l_setHistoryRetention(lua_State *L)
{
        uint64_t sec;

        if (lua_type(L, 1) == LUA_TNUMBER ? !(lua_tonumber(L, 1) >= 0 && lua_tonumber(L, 1) < 1e12)
                                          : parse_timespan_sec(luaL_checkstring(L, 1), &sec) < 0)
                return config_problem(L,
                                      "setHistoryRetention: '%s' is not a duration (e.g. 3600, "
                                      "\"12h\", \"90d\")",
                                      luaL_tolstring(L, 1, NULL));
        sec = check_duration(L, 1);
        if (is_g(L))
                S(L)->rt->config.history_retention_sec = sec;
        return 0;
}

static int l_disableHistory(lua_State *L)
{
        if (is_g(L))
                S(L)->rt->config.history_enabled = false;
        return 0;
}

static int l_setHistoryGeoIPDB(lua_State *L)
{
        const char *s = luaL_checkstring(L, 1);

        if (is_g(L) && set_string(&S(L)->rt->config.history_geoip_db, s) < 0)
                return luaL_error(L, "out of memory");
        return 0;
}

static sqlite3 *history_db(lua_State *L)
{
        TaState *s = S(L);
        sqlite3 *db = NULL;

        if (s->history_db)
                return s->history_db;
        if (!s->rt->history)
                return NULL;
        if (ta_history_open_reader(ta_history_path(s->rt->history), &db) < 0)
                return NULL;
        s->history_db = db;
        return db;
}

static void check_range(lua_State *L, int arg, uint8_t lo[16], uint8_t hi[16])
{
        TaNetmask m;

        if (luaL_testudata(L, arg, MT_NETMASK))
                m = *(TaNetmask *)lua_touserdata(L, arg);
        else {
                TaAddr a;
                if (lua_type(L, arg) == LUA_TSTRING) {
                        if (ta_addr_parse(lua_tostring(L, arg), &a) < 0)
                                luaL_argerror(L, arg, "not an address");
                } else
                        a = *check_ca(L, arg);
                ta_addr_unmap(&a);
                (void)ta_netmask_from_addr(&a, a.family == AF_INET ? 32 : 128, &m);
        }
        ta_netmask_range(&m, lo, hi);
}

static double since(lua_State *L, int arg)
{
        return (double)ta_now_realtime_usec() / 1e6 - (double)check_duration(L, arg);
}

static int history_failed(lua_State *L, int r, bool boolean)
{
        if (r < 0)
                log_warning_errno(r, "History query failed, answering %s: %m",
                                  boolean ? "false" : "0");
        return 0;
}

static int l_historySeenAddress(lua_State *L)
{
        const char *login = luaL_checkstring(L, 1);
        uint8_t lo[16], hi[16];
        sqlite3 *db = history_db(L);
        bool seen = false;

        check_range(L, 2, lo, hi);
        if (db)
                history_failed(L, ta_history_seen_range(db, login, lo, hi, &seen), true);
        lua_pushboolean(L, seen);
        return 1;
}

static int l_historySeenNetwork(lua_State *L)
{
        const char *login = luaL_checkstring(L, 1);
        uint8_t lo[16], hi[16];
        sqlite3 *db = history_db(L);
        bool seen = false;

        if (luaL_testudata(L, 2, MT_NETMASK))
                check_range(L, 2, lo, hi);
        else {
                TaAddr a = *check_ca(L, 2);
                lua_Integer bits = luaL_optinteger(L, 3, -1);
                TaNetmask m;

                ta_addr_unmap(&a);
                if (bits < 0)
                        bits = a.family == AF_INET ? 24 : 64;
                if (ta_netmask_from_addr(&a, (unsigned)bits, &m) < 0)
                        return luaL_argerror(L, 3, "bad prefix length");
                ta_netmask_range(&m, lo, hi);
        }
        if (db)
                history_failed(L, ta_history_seen_range(db, login, lo, hi, &seen), true);
        lua_pushboolean(L, seen);
        return 1;
}

static int seen_column(lua_State *L, const char *column)
{
        const char *login = luaL_checkstring(L, 1), *value = luaL_checkstring(L, 2);
        sqlite3 *db = history_db(L);
        bool seen = false;

        if (db)
                history_failed(L, ta_history_seen_column(db, login, column, value, &seen), true);
        lua_pushboolean(L, seen);
        return 1;
}

static int l_historySeenCountry(lua_State *L)
{
        return seen_column(L, "country");
}

static int l_historySeenDevice(lua_State *L)
{
        return seen_column(L, "device_id");
}

static int l_historyFailures(lua_State *L)
{
        const char *login = luaL_checkstring(L, 1);
        double t = since(L, 2);
        sqlite3 *db = history_db(L);
        uint64_t n = 0;

        if (db)
                history_failed(L, ta_history_failures_login(db, login, t, &n), false);
        lua_pushinteger(L, (lua_Integer)n);
        return 1;
}

static int count_range(lua_State *L, bool failures, bool logins)
{
        uint8_t lo[16], hi[16];
        double t;
        sqlite3 *db;
        uint64_t n = 0;

        check_range(L, 1, lo, hi);
        t = since(L, 2);
        db = history_db(L);
        if (db)
                history_failed(L, ta_history_count_range(db, lo, hi, t, failures, logins, &n),
                               false);
        lua_pushinteger(L, (lua_Integer)n);
        return 1;
}

static int l_historyAddressFailures(lua_State *L)
{
        return count_range(L, true, false);
}

static int l_historyAddressReports(lua_State *L)
{
        return count_range(L, false, false);
}

static int l_historyDistinctLogins(lua_State *L)
{
        return count_range(L, false, true);
}

/* ---- registration */

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc,
                      lua_CFunction index, lua_CFunction tostring, lua_CFunction eq)
{
        luaL_newmetatable(L, name);
        if (index) {
                lua_pushcfunction(L, index);
                lua_setfield(L, -2, "__index");
        } else {
                lua_newtable(L);
                luaL_setfuncs(L, methods, 0);
                lua_setfield(L, -2, "__index");
        }
        if (gc) {
                lua_pushcfunction(L, gc);
                lua_setfield(L, -2, "__gc");
        }
        if (tostring) {
                lua_pushcfunction(L, tostring);
                lua_setfield(L, -2, "__tostring");
        }
        if (eq) {
                lua_pushcfunction(L, eq);
                lua_setfield(L, -2, "__eq");
        }
        lua_pushstring(L, name);
        lua_setfield(L, -2, "__name");
        lua_pop(L, 1);
}

void ta_luaapi_register(lua_State *L)
{
        static const luaL_Reg ca_methods[] = {
                {"tostring", ca_tostring},
                {"toString", ca_tostring},
                {"tostringWithPort", ca_tostring_port},
                {"toStringWithPort", ca_tostring_port},
                {"isIPv4", ca_is_v4},
                {"isIPv6", ca_is_v6},
                {"isMappedIPv4", ca_is_mapped},
                {NULL, NULL},
        };
        static const luaL_Reg nm_methods[] = {
                {"toStringNetwork", nm_network},
                {"tostring", nm_tostring},
                {"toString", nm_tostring},
                {"match", nm_match},
                {NULL, NULL},
        };
        static const luaL_Reg nmg_methods[] = {
                {"addMask", nmg_add}, {"match", nmg_match}, {"size", nmg_size},
                {"clear", nmg_clear}, {NULL, NULL},
        };
        static const luaL_Reg geo_methods[] = {
                {"lookupCountry", geo_country},    {"lookupISP", geo_isp},
                {"lookupCity", geo_city},          {"lookupStringValue", geo_string},
                {"lookupUIntValue", geo_uint},     {"lookupBoolValue", geo_bool},
                {"lookupDoubleValue", geo_double}, {NULL, NULL},
        };
        static const luaL_Reg functions[] = {
                {"newCA", l_newCA},
                {"newNetmask", l_newNetmask},
                {"newNetmaskFromCA", l_newNetmaskFromCA},
                {"newNetmaskGroup", l_newNetmaskGroup},
                {"infoLog", l_infoLog},
                {"warnLog", l_warnLog},
                {"errorLog", l_errorLog},
                {"debugLog", l_debugLog},
                {"vinfoLog", l_vinfoLog},
                {"addListener", l_addListener},
                {"webserver", l_webserver},
                {"setWebserverPassword", l_setWebserverPassword},
                {"setMetricsNoPassword", l_setMetricsNoPassword},
                {"addACL", l_addACL},
                {"setACL", l_setACL},
                {"showACL", l_showACL},
                {"controlSocket", l_controlSocket},
                {"setKey", l_setKey},
                {"makeKey", l_makeKey},
                {"testCrypto", l_testCrypto},
                {"setNumLuaStates", l_setNumLuaStates},
                {"setNumWorkerThreads", l_setNumWorkerThreads},
                {"setMaxWebserverConns", l_setMaxWebserverConns},
                {"setNumReportThreads", l_setNumReportThreads},
                {"setNumSchedulerThreads", l_setNumSchedulerThreads},
                {"setNumWebHookThreads", l_setNumWebHookThreads},
                {"setNumWebHookConnsPerThread", l_setNumWebHookConnsPerThread},
                {"setWebHookQueueSize", l_setWebHookQueueSize},
                {"setWebHookTimeoutSecs", l_setWebHookTimeoutSecs},
                {"disableCurlPeerVerification", l_disableCurlPeerVerification},
                {"disableCurlHostVerification", l_disableCurlHostVerification},
                {"setCurlCABundleFile", l_setCurlCABundleFile},
                {"setCurlClientCertAndKey", l_setCurlClientCertAndKey},
                {"shutdown", l_shutdown},
                {"setReport", l_setReport},
                {"setBackground", l_setBackground},
                {"cronScheduleBackgroundFunc", l_cronScheduleBackgroundFunc},
                {"intervalScheduleBackgroundFunc", l_intervalScheduleBackgroundFunc},
                {"durationToSeconds", l_durationToSeconds},
                {"setCustomEndpoint", l_setCustomEndpoint},
                {"showCustomEndpoints", l_showCustomEndpoints},
                {"addCustomStat", l_addCustomStat},
                {"incCustomStat", l_incCustomStat},
                {"stats", l_stats},
                {"showPerfStats", l_showPerfStats},
                {"showCommandStats", l_showCommandStats},
                {"showCustomStats", l_showCustomStats},
                {"showVersion", l_showVersion},
                {"addCustomWebHook", l_addCustomWebHook},
                {"runCustomWebHook", l_runCustomWebHook},
                {"showCustomWebHooks", l_showCustomWebHooks},
                {"newGeoIP2DB", l_newGeoIP2DB},
                {"getGeoIP2DB", l_getGeoIP2DB},
                {"reloadGeoIPDBs", l_reloadGeoIPDBs},
                {"setLuaMemoryLimit", l_setLuaMemoryLimit},
                {"setLuaInstructionLimit", l_setLuaInstructionLimit},
                {"setLuaTimeLimit", l_setLuaTimeLimit},
                {"setHistoryFile", l_setHistoryFile},
                {"setHistoryRetention", l_setHistoryRetention},
                {"setHistoryQueueSize", l_setHistoryQueueSize},
                {"setHistoryGeoIPDB", l_setHistoryGeoIPDB},
                {"disableHistory", l_disableHistory},
                {"historySeenAddress", l_historySeenAddress},
                {"historySeenNetwork", l_historySeenNetwork},
                {"historySeenCountry", l_historySeenCountry},
                {"historySeenDevice", l_historySeenDevice},
                {"historyFailures", l_historyFailures},
                {"historyAddressFailures", l_historyAddressFailures},
                {"historyAddressReports", l_historyAddressReports},
                {"historyDistinctLogins", l_historyDistinctLogins},
                {NULL, NULL},
        };

        new_class(L, MT_CA, ca_methods, NULL, NULL, ca_tostring, ca_eq);
        new_class(L, MT_NETMASK, nm_methods, NULL, NULL, nm_tostring, NULL);
        new_class(L, MT_NMG, nmg_methods, nmg_gc, NULL, NULL, NULL);
        new_class(L, MT_TUPLE, NULL, NULL, tuple_index, NULL, NULL);
        new_class(L, MT_GEODB, geo_methods, NULL, NULL, NULL, NULL);
        for (const luaL_Reg *f = functions; f->name; f++)
                lua_register(L, f->name, f->func);
}
