/* trackalert-uap.c - device identifiers to device_attrs with uap-core's regexes.yaml. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "trackalert-uap.h"

int ta_uap_load(const char *path, TaUap **ret, char **ret_error)
{
        *ret_error = strdup("not implemented yet");
        return -EOPNOTSUPP;
}

TaUap *ta_uap_free(TaUap *u)
{
        return NULL;
}

int ta_uap_parse(TaUap *u, const char *user_agent, TaKvList *attrs)
{
        return 0;
}
