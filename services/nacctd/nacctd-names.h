/* nacctd-names.h - interned, reference-counted strings (interface and user names): flow records
 * carry a small id instead of a strdup() per record, and a name no record uses is freed, so
 * interface and user churn over months does not grow memory. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define NACCT_NAME_NONE UINT32_MAX
#define NACCT_NAME_LEN_MAX 255

typedef struct NacctNames NacctNames;

/* At most max names at a time (ids are below max). */
int nacct_names_new(uint32_t max, NacctNames **ret);
NacctNames *nacct_names_free(NacctNames *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(NacctNames *, nacct_names_free)

/* Find or add name and take a reference. -E2BIG if max names are in use, -EINVAL if name is
 * empty or longer than NACCT_NAME_LEN_MAX. */
int nacct_names_ref(NacctNames *n, const char *name, uint32_t *ret_id);
/* Another reference to a name in use. */
void nacct_names_ref_id(NacctNames *n, uint32_t id);
/* Drop a reference; NACCT_NAME_NONE is ignored. */
void nacct_names_unref(NacctNames *n, uint32_t id);

/* The name of an id in use. */
const char *nacct_names_get(const NacctNames *n, uint32_t id);
uint32_t nacct_names_refs(const NacctNames *n, uint32_t id);
size_t nacct_names_count(const NacctNames *n);
