/* trackalert-uap.h - device identifiers to device_attrs: uap-core's regexes.yaml for web user
 * agents, and the IMAP ID and mobile-app formats wforce parses. */
#pragma once

#include "trackalert-runtime.h"
#include "trackalert-tuple.h"

#define TA_UAP_DEFAULT "/usr/share/uap-core/regexes.yaml"
/* Only this much of a device_id is matched (the regexes are meant for user agents). */
#define TA_UAP_INPUT_MAX 2048
/* Parsed device_ids kept, so that a returning device costs a lookup and not ~1000 regexes. */
#define TA_UAP_CACHE_SIZE 4096

/* Load and compile every regex (with the PCRE2 JIT where the system allows executable memory).
 * On failure *ret_error says what is wrong, with "line N: " where the file is at fault. */
int ta_uap_load(const char *path, TaUap **ret, char **ret_error);
TaUap *ta_uap_free(TaUap *u);
void ta_uap_freep(TaUap **u);
/* How many rules each section has, and whether they are JIT-compiled. */
void ta_uap_info(const TaUap *u, size_t *ret_ua, size_t *ret_os, size_t *ret_device, bool *ret_jit);

/* The result of uap-core's three parsers; NULL where a value is not defined. The families are
 * "Other" when no rule matched. */
typedef struct TaUapResult {
        char *ua_family, *ua_major, *ua_minor, *ua_patch;
        char *os_family, *os_major, *os_minor, *os_patch, *os_patch_minor;
        char *device_family, *device_brand, *device_model;
} TaUapResult;
int ta_uap_parse_user_agent(TaUap *u, const char *user_agent, TaArena *arena, TaUapResult *ret);

/* What wforce does with a report's device_id, by protocol: "http"/"https" through
 * regexes.yaml (device.family, device.model, device.brand, os.family, os.major, os.minor,
 * browser.family, browser.major, browser.minor), "imap"/"imaps" as an IMAP ID string
 * (imapc.* and os.*), "mobileapi" as an OX mobile app id (app.*, os.*, device.family).
 * Other protocols add nothing. Values are "" where not known. */
int ta_uap_parse(TaUap *u, const char *protocol, const char *device_id, TaArena *arena,
                 TaKvList *attrs);
