/* nacctd-user.h - who a flow belongs to: `dynamicip` files named after an address (written by
 * ppp/slip login scripts) and `line` mappings through utmp. */
#pragma once

#include <stdint.h>

#include "macro.h"

#include "nacctd-names.h"

#define NACCT_USER_RECHECK_SEC 5   /* the original's FORCE_STAT_TIME */
#define NACCT_USER_CACHE_MAX 65536 /* addresses remembered; all are forgotten when full */
#define NACCT_USER_NAME_MAX 64

typedef struct NacctUsers NacctUsers;

int nacct_users_new(NacctNames *names, NacctUsers **ret);
NacctUsers *nacct_users_free(NacctUsers *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(NacctUsers *, nacct_users_free)

/* Forget every cached lookup (the configuration changed). */
void nacct_users_reset(NacctUsers *u);
/* Read utmp from path instead of _PATH_UTMP (tests). */
int nacct_users_set_utmp_path(NacctUsers *u, const char *path);

/* The user of address b according to the file dir/<address>: a names id carrying a new
 * reference, or NACCT_NAME_NONE. A file is re-examined (stat) at most every
 * NACCT_USER_RECHECK_SEC seconds of now, and re-read when it changed in any way. */
uint32_t nacct_users_dynamic(NacctUsers *u, const char *dir, uint8_t family, const uint8_t b[16],
                             int64_t now);

/* The user logged in on tty according to utmp (a new reference), or NACCT_NAME_NONE. */
uint32_t nacct_users_utmp(NacctUsers *u, const char *tty, int64_t now);

/* Check a user name from a file: printable UTF-8, no TAB or space, at most
 * NACCT_USER_NAME_MAX bytes. Returns its length after trimming the line, or -EINVAL. */
int nacct_user_name_check(const char *s, size_t len, size_t *ret_len);
