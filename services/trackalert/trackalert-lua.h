/* trackalert-lua.h - Lua 5.4 states: the configuration state and a pool of policy states, each
 * with a memory limit and an instruction budget per call. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "trackalert-runtime.h"
#include "trackalert-tuple.h"

#define TA_LUA_HOOK_COUNT 1000
#define TA_LUA_CONFIG_BUDGET_MIN (100ULL * 1000 * 1000)
#define TA_CONFIG_MAX (16 * 1024 * 1024)
/* The most steps a pattern match may take in its worst case (see pattern_guard()): about a
 * second of matching. */
#define TA_LUA_PATTERN_STEPS_MAX 1e8

struct TaState {
        lua_State *L;
        TaRuntime *rt;
        bool global; /* the configuration state ("G"); else a pool state ("P") */
        unsigned index;
        size_t mem, mem_limit;
        int64_t instr_left;
        uint64_t instr_budget;
        uint64_t time_limit_usec, deadline_usec; /* deadline_usec 0: none (the configuration) */
        bool budget_exceeded, memory_exceeded;
        bool loading; /* running the configuration file: bad values are warned about */
        pthread_mutex_t lock;
        TaBuf output; /* what show*() and friends print, for the console */
        int report_ref;
        void *history_db; /* a read-only SQLite connection of this state, opened on demand */
};

int ta_state_new(TaRuntime *rt, bool global, unsigned index, TaState **ret);
TaState *ta_state_free(TaState *s);
TaState *ta_state_from_lua(lua_State *L);

/* Run the configuration file in the state. On error *ret_error is "file:line: message". */
int ta_state_load_config(TaState *s, const char *path, char **ret_error);
/* lua_pcall with the budget armed; the function and nargs arguments are on the stack. On a Lua
 * error returns -EBADMSG (-ENOMEM for the memory limit, -ETIME for the budget) and, if asked,
 * a malloc'd message; the stack is left with nresults values only on success. */
int ta_state_pcall(TaState *s, int nargs, int nresults, char **ret_error);

typedef struct TaPool TaPool;
/* Create n pool states, each running the configuration file. */
int ta_pool_new(TaRuntime *rt, unsigned n, const char *config_path, char **ret_error, TaPool **ret);
TaPool *ta_pool_free(TaPool *p);
/* Blocks while every state is busy (the original indexed an empty vector). */
TaState *ta_pool_borrow(TaPool *p);
void ta_pool_return(TaPool *p, TaState *s);
size_t ta_pool_size(const TaPool *p);
TaState *ta_pool_state(TaPool *p, size_t i);

/* The entry points of the server into Lua. Errors are logged here. */
int ta_lua_report(TaRuntime *rt, const TaTuple *t);
int ta_lua_custom(TaRuntime *rt, const char *name, const TaKvList *attrs, const TaKvList *attrs_mv,
                  bool *ret_found, bool *ret_success, TaKvList *ret_attrs, char **ret_error);
int ta_lua_background(TaRuntime *rt, const char *name);
/* A console line: run in every pool state, then in the global state, whose answer is returned
 * (a returned string plus "\n", else what was printed, else "Error: ..."). */
int ta_lua_console(TaRuntime *rt, const char *code, size_t len, char **ret_response);

/* Reload: next's configuration state and pool become rt's (their states now refer to rt), and
 * rt's old ones go to next, to be freed with it; waits for the Lua calls in progress. */
int ta_lua_swap(TaRuntime *rt, TaRuntime *next);

/* Registers the trackalert API (trackalert-luaapi.c). */
void ta_luaapi_register(lua_State *L);
/* Pushes objects for Lua (trackalert-luaapi.c). */
void ta_luaapi_push_tuple(lua_State *L, const TaTuple *t);
void ta_luaapi_push_kv(lua_State *L, const TaKvList *l);
void ta_luaapi_push_kv_mv(lua_State *L, const TaKvList *l);
