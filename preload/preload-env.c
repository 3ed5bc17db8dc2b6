/* preload-env.c - the environment a tracked process hands to its children.
 *
 * Every LD_PRELOAD= and TRACKLE_SESSION= entry is dropped; exactly one LD_PRELOAD= (ours first)
 * and one TRACKLE_SESSION= (the id from trackled's root-owned marker) are added. Entries of the
 * passed LD_PRELOAD that this process did not itself inherit were put there by the program
 * (sudo's sudo_noexec.so / sudo_intercept.so) and are kept after ours. In a set-uid process
 * ld.so has removed the user's LD_PRELOAD before any code ran, so there every entry the
 * program passes is its own; the user's list is never copied into a privileged child. */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS /* we define both open and open64 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "config.h"
#include "trackle-preload.h"

#define TP_ENV_MAX 65536u

static bool has_prefix(const char *s, const char *p)
{
        return strncmp(s, p, strlen(p)) == 0;
}

static bool is_sep(char c)
{
        return c == ' ' || c == ':' || c == '\t' || c == '\n';
}

/* Is the item [s, s+n) one of the items of the list? */
static bool list_has(const char *list, const char *s, size_t n)
{
        if (!list)
                return false;
        for (const char *p = list; *p;) {
                size_t m;

                while (is_sep(*p))
                        p++;
                for (m = 0; p[m] && !is_sep(p[m]); m++)
                        ;
                if (m == n && memcmp(p, s, n) == 0)
                        return true;
                p += m;
        }
        return false;
}

static bool is_ours(const char *s, size_t n, const char *ours)
{
        static const char name[] = TRACKLE_PRELOAD_NAME;
        size_t nl = sizeof(name) - 1;

        if (n == strlen(ours) && memcmp(s, ours, n) == 0)
                return true;
        /* any libtrackle.so, by bare name or path: we add ours anyway */
        return n >= nl && memcmp(s + n - nl, name, nl) == 0 && (n == nl || s[n - nl - 1] == '/');
}

/* Append the program's own entries of one LD_PRELOAD value; false if they do not fit. */
static bool add_extras(char *out, size_t size, size_t *len, const char *value, const char *own,
                       const char *ours)
{
        for (const char *p = value; *p;) {
                size_t n;

                while (is_sep(*p))
                        p++;
                for (n = 0; p[n] && !is_sep(p[n]); n++)
                        ;
                if (n > 0 && !is_ours(p, n, ours) && !list_has(own, p, n) && !list_has(out, p, n)) {
                        if (*len + 1 + n >= size)
                                return false;
                        out[(*len)++] = ' ';
                        memcpy(out + *len, p, n);
                        *len += n;
                        out[*len] = 0;
                }
                p += n;
        }
        return true;
}

char **tp_env_build(TpEnvBuf *b, const TpExecInfo *info, char *const envp[], char **vec, size_t cap,
                    char *ld_buf, size_t ld_size, bool may_map)
{
        static const char ldp[] = "LD_PRELOAD=", sess[] = "TRACKLE_SESSION=";
        const char *own = getenv("LD_PRELOAD");
        size_t count = 0, n = 0, len, ld_need, vec_bytes = 0;
        char *p;

        b->map = NULL;
        b->vec = NULL;
        /* what the new LD_PRELOAD= can need at most: ours and every passed entry */
        ld_need = sizeof(ldp) + strlen(info->preload);
        for (; envp && envp[count]; count++) {
                if (count >= TP_ENV_MAX)
                        return NULL;
                if (has_prefix(envp[count], ldp))
                        ld_need += 1 + strlen(envp[count]);
        }
        if (ld_need > TP_LDP_MAX)
                ld_need = TP_LDP_MAX; /* longer: add_extras() says it does not fit */
        if (count + 3 <= cap)
                b->vec = vec;
        else if (count + 3 <= TP_ENV_SMALL && !vec)
                b->vec = b->small;
        else
                vec_bytes = (count + 3) * sizeof(char *);
        b->ld_preload = b->ld_small;
        b->ld_size = sizeof(b->ld_small);
        if (ld_need > b->ld_size && ld_buf && ld_need <= ld_size) {
                b->ld_preload = ld_buf;
                b->ld_size = ld_size;
        }
        if (vec_bytes > 0 || ld_need > b->ld_size) {
                if (!may_map)
                        return NULL;
                b->map_len = vec_bytes + (ld_need > b->ld_size ? ld_need : 0);
                b->map = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                              -1, 0);
                if (b->map == MAP_FAILED) {
                        b->map = NULL;
                        return NULL;
                }
                if (vec_bytes > 0)
                        b->vec = b->map;
                if (ld_need > b->ld_size) {
                        b->ld_preload = (char *)b->map + vec_bytes;
                        b->ld_size = ld_need;
                }
        }

        len = strlen(ldp) + strlen(info->preload);
        if (len >= b->ld_size)
                goto fail;
        memcpy(b->ld_preload, ldp, sizeof(ldp) - 1);
        memcpy(b->ld_preload + sizeof(ldp) - 1, info->preload, strlen(info->preload) + 1);

        for (size_t i = 0; i < count; i++) {
                if (has_prefix(envp[i], ldp)) {
                        /* Extras that do not fit: pass the original environment rather than
                         * lose sudo's noexec. */
                        if (!add_extras(b->ld_preload, b->ld_size, &len, envp[i] + sizeof(ldp) - 1,
                                        own, info->preload))
                                goto fail;
                        continue;
                }
                if (has_prefix(envp[i], sess))
                        continue;
                b->vec[n++] = envp[i];
        }
        memcpy(b->session, sess, sizeof(sess) - 1);
        p = b->session + sizeof(sess) - 1;
        {
                char tmp[24];
                size_t k = 0;
                uint64_t v = info->session;

                do
                        tmp[k++] = (char)('0' + v % 10);
                while ((v /= 10) > 0);
                while (k > 0)
                        *p++ = tmp[--k];
                *p = 0;
        }
        b->vec[n++] = b->ld_preload;
        b->vec[n++] = b->session;
        b->vec[n] = NULL;
        return b->vec;
fail:
        tp_env_free(b);
        return NULL;
}

void tp_env_free(TpEnvBuf *b)
{
        if (b->map)
                munmap(b->map, b->map_len);
        b->map = NULL;
        b->vec = NULL;
}
