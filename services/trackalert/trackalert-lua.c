/* trackalert-lua.c - Lua states with limits, the pool, and the calls into Lua. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "log.h"
#include "macro.h"
#include "trackalert-history.h"
#include "trackalert-ids.h"
#include "trackalert-lua.h"

struct TaPool {
        TaState **states;
        size_t n;
        TaState **free;
        size_t n_free;
        pthread_mutex_t lock;
        pthread_cond_t cond;
};

static RateLimit lua_error_log = {.interval_usec = 10ULL * 1000000ULL, .burst = 20};
static pthread_mutex_t lua_error_log_lock = PTHREAD_MUTEX_INITIALIZER;

TaState *ta_state_from_lua(lua_State *L)
{
        return *(TaState **)lua_getextraspace(L);
}

static void *state_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
        TaState *s = ud;
        size_t old = ptr ? osize : 0;
        void *p;

        if (nsize == 0) {
                free(ptr);
                s->mem -= old;
                return NULL;
        }
        if (nsize > old && s->mem_limit > 0 && s->mem + (nsize - old) > s->mem_limit) {
                s->memory_exceeded = true;
                return NULL;
        }
        p = realloc(ptr, nsize);
        if (!p)
                return NULL;
        s->mem = s->mem - old + nsize;
        return p;
}

/* Why a call must end now, or NULL. The wall clock is read every TA_LUA_HOOK_COUNT
 * instructions: C functions (string.find() on a long subject, say) do not count instructions,
 * but the deadline is seen as soon as they return to Lua. */
static const char *state_must_stop(TaState *s)
{
        if (ta_runtime_stopping(s->rt))
                return "trackalert is stopping";
        if (s->instr_left < 0)
                return "instruction budget exceeded";
        if (s->deadline_usec > 0 && ta_now_usec() > s->deadline_usec)
                return "time limit exceeded";
        return NULL;
}

static void state_hook(lua_State *L, lua_Debug *ar)
{
        TaState *s = ta_state_from_lua(L);
        const char *why;

        s->instr_left -= TA_LUA_HOOK_COUNT;
        why = state_must_stop(s);
        if (why) {
                /* From now on every instruction fails, so a pcall() in the policy cannot
                 * catch the error and carry on: the caller of the pcall fails at once. */
                if (!s->budget_exceeded)
                        lua_sethook(L, state_hook, LUA_MASKCOUNT, 1);
                s->budget_exceeded = true;
                /* Level 0 in a hook is the interrupted Lua function: name its line. */
                luaL_where(L, 0);
                if (s->instr_left < 0)
                        lua_pushfstring(L, "instruction budget of %I exceeded",
                                        (lua_Integer)s->instr_budget);
                else if (streq(why, "time limit exceeded"))
                        lua_pushfstring(L, "time limit of %I ms exceeded",
                                        (lua_Integer)(s->time_limit_usec / 1000));
                else
                        lua_pushstring(L, why);
                lua_concat(L, 2);
                lua_error(L);
        }
}

static int state_panic(lua_State *L)
{
        const char *m = lua_tostring(L, -1);
        log_error("Unprotected Lua error, aborting: %s", strempty(m));
        abort();
}

/* ---- pattern matching with a bound
 *
 * The instruction hook does not run inside C functions, and Lua's pattern matcher backtracks:
 * string.find(s, "[%w%.]+@[%w%.]+") takes time quadratic in #s, so a hostile 1 MB login would
 * hold a Lua state (and a thread) for hours and ignore the time limit and SIGTERM. The
 * pattern functions are wrapped: before the match, the worst case is estimated from the
 * pattern's shape, and a match that could exceed TA_LUA_PATTERN_STEPS_MAX fails with a Lua
 * error instead of running. Linear cases (plain searches, patterns without a repetition that
 * something follows, anchored patterns with one) are never refused. */

/* Skips one single-character class at p (p < end); returns the position after it. */
static const char *pattern_class_end(const char *p, const char *end)
{
        if (*p == '%')
                return p + 1 < end ? p + 2 : end;
        if (*p == '[') {
                p++;
                if (p < end && *p == '^')
                        p++;
                do { /* a ']' first is a member */
                        if (p >= end)
                                return end;
                        if (*p == '%' && p + 1 < end)
                                p++;
                        p++;
                } while (p < end && *p != ']');
                return p < end ? p + 1 : end;
        }
        return p + 1;
}

/* The exponent of the worst-case number of steps in the subject's length. */
static unsigned pattern_degree(const char *p, size_t len, bool anchorable)
{
        const char *end = p + len;
        unsigned degree = 0;
        bool anchored = anchorable && len > 0 && *p == '^';
        bool pending = false; /* a repetition that something after it can make backtrack */

        if (anchored)
                p++;
        while (p < end) {
                bool repeats = false;

                if (*p == '(' || *p == ')') {
                        p++;
                        continue;
                }
                if (*p == '$' && p + 1 == end)
                        break; /* the end anchor can fail: counts as something after */
                if (*p == '%' && p + 1 < end && p[1] == 'b') {
                        p = MIN(p + 4, end);
                        repeats = true; /* scans for the closing character */
                } else if (*p == '%' && p + 1 < end && p[1] == 'f') {
                        p = pattern_class_end(p + 2, end);
                } else if (*p == '%' && p + 1 < end && p[1] >= '0' && p[1] <= '9') {
                        p += 2;
                        repeats = true; /* a back-reference compares a capture */
                } else {
                        p = pattern_class_end(p, end);
                        if (p < end && (*p == '*' || *p == '+' || *p == '-')) {
                                p++;
                                repeats = true;
                        } else if (p < end && *p == '?')
                                p++;
                }
                if (pending)
                        degree++;
                pending = repeats;
        }
        if (pending && p < end) /* followed by '$' */
                degree++;
        return degree + (anchored ? 0 : 1);
}

static bool pattern_special(const char *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (strchr("^$*+?.([%-", p[i]))
                        return true;
        return false;
}

static int pattern_guard(lua_State *L)
{
        size_t slen, plen;
        const char *subject = luaL_checklstring(L, 1, &slen);
        const char *pattern = luaL_checklstring(L, 2, &plen);
        const char *name = lua_tostring(L, lua_upvalueindex(2));
        bool plain = streq(name, "find") && lua_toboolean(L, 4);
        double steps;
        size_t n;
        unsigned degree;

        (void)subject;
        if (streq(name, "find") || streq(name, "match")) {
                lua_Integer init = luaL_optinteger(L, 3, 1);

                /* only the part from init on is searched */
                if (init < 0)
                        n = (size_t)-init <= slen ? (size_t)-init : slen;
                else
                        n = init >= 1 && (size_t)init <= slen ? slen - (size_t)init + 1 : 0;
        } else
                n = slen;
        if (!plain && pattern_special(pattern, plen)) {
                degree = pattern_degree(pattern, plen, !streq(name, "gmatch"));
                steps = 1;
                for (unsigned i = 0; i < degree && steps <= TA_LUA_PATTERN_STEPS_MAX; i++)
                        steps *= (double)MAX(n, (size_t)1);
                if (steps > TA_LUA_PATTERN_STEPS_MAX) {
                        char msg[256];

                        snprintf(msg, sizeof(msg),
                                 "string.%s: pattern '%.64s' on %zu bytes could take %.0e "
                                 "steps (at most %.0e are allowed): shorten the subject or "
                                 "anchor the pattern",
                                 name, pattern, n, steps, (double)TA_LUA_PATTERN_STEPS_MAX);
                        return luaL_error(L, "%s", msg);
                }
        }
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
        return lua_gettop(L);
}

/* Replaces string.find/match/gmatch/gsub (and so the methods of strings) by guarded ones. */
static void guard_string_patterns(lua_State *L)
{
        static const char *const names[] = {"find", "match", "gmatch", "gsub"};

        lua_getglobal(L, "string");
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                lua_getfield(L, -1, names[i]);
                lua_pushstring(L, names[i]);
                lua_pushcclosure(L, pattern_guard, 2);
                lua_setfield(L, -2, names[i]);
        }
        lua_pop(L, 1);
}

int ta_state_new(TaRuntime *rt, bool global, unsigned index, TaState **ret)
{
        TaState *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->rt = rt;
        s->global = global;
        s->index = index;
        s->mem_limit = rt->config.lua_memory_limit;
        s->report_ref = LUA_NOREF;
        pthread_mutex_init(&s->lock, NULL);
        s->L = lua_newstate(state_alloc, s);
        if (!s->L) {
                free(s);
                return -ENOMEM;
        }
        *(TaState **)lua_getextraspace(s->L) = s;
        lua_atpanic(s->L, state_panic);
        /* Standard libraries and our API under a generous budget of their own. */
        s->mem_limit = 0;
        luaL_openlibs(s->L);
        guard_string_patterns(s->L);
        ta_luaapi_register(s->L);
        s->mem_limit = rt->config.lua_memory_limit;
        lua_sethook(s->L, state_hook, LUA_MASKCOUNT, TA_LUA_HOOK_COUNT);
        *ret = s;
        return 0;
}

TaState *ta_state_free(TaState *s)
{
        if (!s)
                return NULL;
        lua_close(s->L);
        ta_history_close_reader(s->history_db);
        ta_buf_done(&s->output);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
}

static int state_pcall(TaState *s, int nargs, int nresults, uint64_t budget,
                       uint64_t time_limit_usec, char **ret_error)
{
        int rc, r = 0;

        if (s->budget_exceeded)
                lua_sethook(s->L, state_hook, LUA_MASKCOUNT, TA_LUA_HOOK_COUNT);
        s->instr_budget = budget;
        s->instr_left = (int64_t)s->instr_budget;
        s->time_limit_usec = time_limit_usec;
        s->deadline_usec = time_limit_usec > 0 ? ta_now_usec() + time_limit_usec : 0;
        s->budget_exceeded = s->memory_exceeded = false;
        rc = lua_pcall(s->L, nargs, nresults, 0);
        if (rc == LUA_OK)
                return 0;
        r = s->budget_exceeded                         ? -ETIME
            : (rc == LUA_ERRMEM || s->memory_exceeded) ? -ENOMEM
                                                       : -EBADMSG;
        if (ret_error) {
                const char *m = lua_tostring(s->L, -1);
                if (r == -ENOMEM && (!m || !strstr(m, "memory")))
                        m = "not enough memory";
                *ret_error = strdup(m ?: "(error object is not a string)");
        }
        lua_pop(s->L, 1);
        if (r == -ENOMEM)
                lua_gc(s->L, LUA_GCCOLLECT); /* give back what the runaway call held */
        return r;
}

int ta_state_pcall(TaState *s, int nargs, int nresults, char **ret_error)
{
        return state_pcall(s, nargs, nresults, s->rt->config.lua_instruction_limit,
                           s->rt->config.lua_time_limit_usec, ret_error);
}

int ta_state_load_config(TaState *s, const char *path, char **ret_error)
{
        _cleanup_free_ char *chunkname = NULL, *text = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        /* Messages name the file the administrator edits (--config-name), not the copy read. */
        if (asprintf(&chunkname, "@%s", s->rt->config_name ?: path) < 0)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f) {
                r = negative_errno();
                if (asprintf(ret_error, "%s: cannot open: %s", path, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        text = malloc(TA_CONFIG_MAX + 1);
        if (text)
                len = fread(text, 1, TA_CONFIG_MAX + 1, f);
        fclose(f);
        if (!text)
                return -ENOMEM;
        if (len > TA_CONFIG_MAX) {
                if (asprintf(ret_error, "%s: file too large", path) < 0)
                        *ret_error = NULL;
                return -EFBIG;
        }
        if (luaL_loadbufferx(s->L, text, len, chunkname, "t") != LUA_OK) {
                *ret_error = strdup(lua_tostring(s->L, -1) ?: "cannot load");
                lua_pop(s->L, 1);
                return -EINVAL;
        }
        /* A configuration may legitimately do more work than one policy call. */
        s->loading = true;
        r = state_pcall(s, 0, 0, MAX(s->rt->config.lua_instruction_limit, TA_LUA_CONFIG_BUDGET_MIN),
                        0, ret_error);
        s->loading = false;
        s->mem_limit = s->rt->config.lua_memory_limit;
        return r < 0 ? -EINVAL : 0;
}

/* ---- the pool */

int ta_pool_new(TaRuntime *rt, unsigned n, const char *config_path, char **ret_error, TaPool **ret)
{
        TaPool *p;
        int r;

        if (n == 0)
                n = 1;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->cond, NULL);
        p->states = calloc(n, sizeof(TaState *));
        p->free = calloc(n, sizeof(TaState *));
        if (!p->states || !p->free) {
                ta_pool_free(p);
                return -ENOMEM;
        }
        for (unsigned i = 0; i < n; i++) {
                TaState *s;

                r = ta_state_new(rt, false, i, &s);
                if (r < 0) {
                        ta_pool_free(p);
                        return r;
                }
                p->states[p->n++] = s;
                if (config_path) {
                        r = ta_state_load_config(s, config_path, ret_error);
                        if (r < 0) {
                                ta_pool_free(p);
                                return r;
                        }
                }
                p->free[p->n_free++] = s;
        }
        *ret = p;
        return 0;
}

TaPool *ta_pool_free(TaPool *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n; i++)
                ta_state_free(p->states[i]);
        free(p->states);
        free(p->free);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->cond);
        free(p);
        return NULL;
}

TaState *ta_pool_borrow(TaPool *p)
{
        TaState *s;

        pthread_mutex_lock(&p->lock);
        while (p->n_free == 0)
                pthread_cond_wait(&p->cond, &p->lock);
        s = p->free[--p->n_free]; /* LIFO like the original: a serial client keeps its state */
        pthread_mutex_unlock(&p->lock);
        pthread_mutex_lock(&s->lock);
        return s;
}

void ta_pool_return(TaPool *p, TaState *s)
{
        pthread_mutex_unlock(&s->lock);
        pthread_mutex_lock(&p->lock);
        p->free[p->n_free++] = s;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
}

size_t ta_pool_size(const TaPool *p)
{
        return p ? p->n : 0;
}

TaState *ta_pool_state(TaPool *p, size_t i)
{
        return i < p->n ? p->states[i] : NULL;
}

/* ---- calls */

static void log_lua_failure(TaState *s, const char *what, int r, const char *raw)
{
        /* A Lua error message may quote report data (error(lt.login)): escaped, item 9 */
        _cleanup_free_ char *msg = ta_log_text(raw, false);
        char state[16];
        bool show;
        unsigned long long suppressed = 0;
        const LogField fields[] = {
                {"TRACKALERT_LUA_FUNCTION", what},
                {"TRACKALERT_LUA_STATE", state},
                {"TRACKALERT_LUA_ERROR", strempty(msg)},
        };

        snprintf(state, sizeof(state), "%u", s->index);
        pthread_mutex_lock(&lua_error_log_lock);
        show = ratelimit_below(&lua_error_log, ta_now_usec(), &suppressed);
        pthread_mutex_unlock(&lua_error_log_lock);
        if (suppressed > 0)
                log_warning("Suppressed %llu messages about Lua errors.", suppressed);
        if (!show)
                return;
        if (r == -ETIME || r == -ENOMEM)
                log_fields(LOG_WARNING, TRACKALERT_MID_LUA_RUNAWAY, fields, ELEMENTSOF(fields),
                           "Lua %s stopped: %s", what, strempty(msg));
        else
                log_fields(LOG_ERR, TRACKALERT_MID_LUA_ERROR, fields, ELEMENTSOF(fields),
                           "Lua %s failed: %s", what, strempty(msg));
}

/* Everything that allocates in Lua (the tuple, the argument tables) happens inside the
 * protected call, so that hitting the memory limit there is an error like any other and not a
 * panic. */
static int report_trampoline(lua_State *L)
{
        const TaTuple *t = lua_touserdata(L, 1);

        lua_rawgeti(L, LUA_REGISTRYINDEX, ta_state_from_lua(L)->report_ref);
        ta_luaapi_push_tuple(L, t);
        lua_call(L, 1, 0);
        return 0;
}

int ta_lua_report(TaRuntime *rt, const TaTuple *t)
{
        TaState *s;
        _cleanup_free_ char *err = NULL;
        int r = 0;

        pthread_rwlock_rdlock(&rt->lua_lock);
        if (!rt->pool) {
                pthread_rwlock_unlock(&rt->lua_lock);
                return 0;
        }
        s = ta_pool_borrow(rt->pool);
        if (s->report_ref != LUA_NOREF && s->report_ref != LUA_REFNIL) {
                lua_pushcfunction(s->L, report_trampoline);
                lua_pushlightuserdata(s->L, (void *)t);
                r = ta_state_pcall(s, 1, 0, &err);
                if (r < 0)
                        log_lua_failure(s, "report function", r, err);
        }
        ta_pool_return(rt->pool, s);
        pthread_rwlock_unlock(&rt->lua_lock);
        return r;
}

typedef struct CustomCall {
        const char *name;
        const TaKvList *attrs, *attrs_mv;
} CustomCall;

/* Returns (found, success, r_attrs table or nil). */
static int custom_trampoline(lua_State *L)
{
        const CustomCall *cc = lua_touserdata(L, 1);

        lua_getfield(L, LUA_REGISTRYINDEX, "trackalert.endpoints");
        if (lua_istable(L, -1))
                lua_getfield(L, -1, cc->name);
        else
                lua_pushnil(L);
        if (!lua_isfunction(L, -1)) {
                lua_pushboolean(L, false);
                lua_pushboolean(L, false);
                lua_pushnil(L);
                return 3;
        }
        lua_createtable(L, 0, 2);
        ta_luaapi_push_kv(L, cc->attrs);
        lua_setfield(L, -2, "attrs");
        ta_luaapi_push_kv_mv(L, cc->attrs_mv);
        lua_setfield(L, -2, "attrs_mv");
        lua_call(L, 1, 2);
        lua_pushboolean(L, true);
        lua_insert(L, -3);
        return 3;
}

int ta_lua_custom(TaRuntime *rt, const char *name, const TaKvList *attrs, const TaKvList *attrs_mv,
                  bool *ret_found, bool *ret_success, TaKvList *ret_attrs, char **ret_error)
{
        CustomCall cc = {name, attrs, attrs_mv};
        TaState *s;
        char what[160];
        int r = 0;

        *ret_found = false;
        pthread_rwlock_rdlock(&rt->lua_lock);
        if (!rt->pool) {
                pthread_rwlock_unlock(&rt->lua_lock);
                return 0;
        }
        snprintf(what, sizeof(what), "custom endpoint '%s'", name);
        s = ta_pool_borrow(rt->pool);
        lua_pushcfunction(s->L, custom_trampoline);
        lua_pushlightuserdata(s->L, &cc);
        r = ta_state_pcall(s, 1, 3, ret_error);
        if (r < 0)
                log_lua_failure(s, what, r, *ret_error);
        else {
                *ret_found = lua_toboolean(s->L, -3);
                *ret_success = lua_toboolean(s->L, -2);
                if (lua_istable(s->L, -1)) {
                        lua_pushnil(s->L);
                        while (r >= 0 && lua_next(s->L, -2) != 0) {
                                /* Keys and values should be strings; numbers are converted
                                 * (lua_tostring() on a copy: it must not change the key
                                 * lua_next() goes on from), other types skipped. */
                                int kt = lua_type(s->L, -2), vt = lua_type(s->L, -1);

                                if (kt == LUA_TSTRING && (vt == LUA_TSTRING || vt == LUA_TNUMBER)) {
                                        lua_pushvalue(s->L, -1);
                                        r = ta_kv_list_add(ret_attrs, lua_tostring(s->L, -3),
                                                           lua_tostring(s->L, -1));
                                        lua_pop(s->L, 1);
                                } else if (kt == LUA_TSTRING && vt == LUA_TBOOLEAN)
                                        r = ta_kv_list_add(ret_attrs, lua_tostring(s->L, -2),
                                                           lua_toboolean(s->L, -1) ? "true"
                                                                                   : "false");
                                lua_pop(s->L, 1);
                        }
                }
        }
        lua_settop(s->L, 0);
        ta_pool_return(rt->pool, s);
        pthread_rwlock_unlock(&rt->lua_lock);
        return r;
}

int ta_lua_background(TaRuntime *rt, const char *name)
{
        _cleanup_free_ char *err = NULL;
        char what[160];
        TaState *s;
        int r = 0;

        pthread_rwlock_rdlock(&rt->lua_lock);
        if (!rt->pool) {
                pthread_rwlock_unlock(&rt->lua_lock);
                return 0;
        }
        snprintf(what, sizeof(what), "background function [%s]", name);
        s = ta_pool_borrow(rt->pool);
        lua_getfield(s->L, LUA_REGISTRYINDEX, "trackalert.background");
        if (lua_istable(s->L, -1))
                lua_getfield(s->L, -1, name);
        else
                lua_pushnil(s->L);
        if (lua_isfunction(s->L, -1)) {
                r = ta_state_pcall(s, 0, 0, &err);
                if (r < 0)
                        log_lua_failure(s, what, r, err);
        } else
                r = -ENOENT; /* the original skips an unknown name silently */
        lua_settop(s->L, 0);
        ta_pool_return(rt->pool, s);
        pthread_rwlock_unlock(&rt->lua_lock);
        return r;
}

/* Run code in one state; with ret_response, build the console's answer. */
static int console_run(TaState *s, const char *code, size_t len, char **ret_response)
{
        _cleanup_free_ char *err = NULL;
        TaBuf out = {};
        int r;

        s->output.len = 0;
        if (s->output.data)
                s->output.data[0] = '\0';
        if (luaL_loadbufferx(s->L, code, len, "console", "t") != LUA_OK) {
                err = strdup(lua_tostring(s->L, -1) ?: "syntax error");
                lua_settop(s->L, 0);
                r = -EBADMSG;
        } else
                r = ta_state_pcall(s, 0, 1, &err);
        if (!ret_response) {
                lua_settop(s->L, 0);
                return r;
        }
        if (r < 0)
                ta_buf_printf(&out, "Error: %s\n", strempty(err));
        else if (lua_type(s->L, -1) == LUA_TSTRING || lua_type(s->L, -1) == LUA_TNUMBER) {
                ta_buf_puts(&out, lua_tostring(s->L, -1));
                ta_buf_puts(&out, "\n");
        } else if (lua_isnil(s->L, -1))
                ta_buf_add(&out, s->output.data ?: "", s->output.len);
        else
                ta_buf_printf(&out, "Command returned an object we can't print: %s\n",
                              luaL_typename(s->L, -1));
        lua_settop(s->L, 0);
        if (out.oom) {
                ta_buf_done(&out);
                return -ENOMEM;
        }
        *ret_response = out.data ? out.data : strdup("");
        return *ret_response ? 0 : -ENOMEM;
}

int ta_lua_console(TaRuntime *rt, const char *code, size_t len, char **ret_response)
{
        int r;

        /* Every pool state first, so that e.g. setReport(newfn) reaches them all. */
        pthread_rwlock_rdlock(&rt->lua_lock);
        for (size_t i = 0; i < ta_pool_size(rt->pool); i++) {
                TaState *s = ta_pool_state(rt->pool, i);

                pthread_mutex_lock(&s->lock);
                (void)console_run(s, code, len, NULL);
                pthread_mutex_unlock(&s->lock);
        }
        pthread_mutex_lock(&rt->global->lock);
        r = console_run(rt->global, code, len, ret_response);
        pthread_mutex_unlock(&rt->global->lock);
        pthread_rwlock_unlock(&rt->lua_lock);
        return r;
}

int ta_lua_swap(TaRuntime *rt, TaRuntime *next)
{
        TaState *g;
        TaPool *p;

        pthread_rwlock_wrlock(&rt->lua_lock);
        g = rt->global;
        p = rt->pool;
        rt->global = next->global;
        rt->pool = next->pool;
        next->global = g;
        next->pool = p;
        rt->global->rt = rt;
        for (size_t i = 0; i < ta_pool_size(rt->pool); i++)
                ta_pool_state(rt->pool, i)->rt = rt;
        rt->config.lua_memory_limit = next->config.lua_memory_limit;
        rt->config.lua_instruction_limit = next->config.lua_instruction_limit;
        rt->config.lua_time_limit_usec = next->config.lua_time_limit_usec;
        pthread_rwlock_unlock(&rt->lua_lock);
        return 0;
}
