/* trackalert-uap.h - device identifiers to device_attrs with uap-core's regexes.yaml. */
#pragma once

#include "trackalert-runtime.h"
#include "trackalert-tuple.h"

#define TA_UAP_DEFAULT "/usr/share/uap-core/regexes.yaml"

int ta_uap_load(const char *path, TaUap **ret, char **ret_error);
TaUap *ta_uap_free(TaUap *u);
/* Fill os.*, browser.*, device.* into attrs (keys already present are kept). */
int ta_uap_parse(TaUap *u, const char *user_agent, TaKvList *attrs);
