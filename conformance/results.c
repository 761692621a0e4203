#include "results.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "expect.h"
#include "harness.h"

enum { OBS_VERDICT, OBS_OBSERVED, OBS_EXPECTED, OBS_AGAINST, OBS_CAUSE, OBS_PROBLEMS };

static void *xalloc(void *p)
{
    if (!p) {
        perror("sockspec-conformance");
        exit(2);
    }
    return p;
}

static char *dup_or_die(const char *s)
{
    return xalloc(strdup(s));
}

void results_add(struct results *r, const char *category, const char *test, const char *status)
{
    if (r->count == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 1024;
        r->v = xalloc(realloc(r->v, r->cap * sizeof *r->v));
    }
    struct result *e = &r->v[r->count++];
    const char *sep = strstr(test, "__");
    size_t n = sep ? (size_t)(sep - test) : strlen(test);
    size_t len = strlen(category) + 1 + n + 1;
    e->check = xalloc(malloc(len));
    snprintf(e->check, len, "%s.%.*s", category, (int)n, test);
    e->kind = dup_or_die(sep ? sep + 2 : "-");
    e->status = dup_or_die(status);
    for (int i = 0; i < RESULT_FIELDS - 1; i++)
        e->obs[i] = dup_or_die("-");
}

static int result_cmp(const void *a, const void *b)
{
    const struct result *x = a, *y = b;
    int c = strcmp(x->check, y->check);
    return c ? c : strcmp(x->kind, y->kind);
}

static struct result *find(struct results *r, const char *instance)
{
    const char *slash = strrchr(instance, '/');
    if (!slash)
        return NULL;
    struct result key = {0};
    char check[256];
    snprintf(check, sizeof check, "%.*s", (int)(slash - instance), instance);
    key.check = check;
    key.kind = (char *)slash + 1;
    return bsearch(&key, r->v, r->count, sizeof *r->v, result_cmp);
}

void results_merge_observations(struct results *r, const char *obs_path)
{
    if (r->count)
        qsort(r->v, r->count, sizeof *r->v, result_cmp);
    char line[4096];
    FILE *fp = fopen(obs_path, "r");
    if (!fp)
        return;
    while (fgets(line, sizeof line, fp)) {
        char *f[RESULT_FIELDS], *p = line;
        line[strcspn(line, "\n")] = '\0';
        int n = 0;
        while (n < RESULT_FIELDS && p) {
            f[n++] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = '\0';
        }
        struct result *e = n == RESULT_FIELDS ? find(r, f[0]) : NULL;
        if (!e)
            continue;
        for (int i = 0; i < RESULT_FIELDS - 1; i++) {
            free(e->obs[i]);
            e->obs[i] = dup_or_die(f[i + 1]);
        }
    }
    fclose(fp);
}

static const char *kind_text(const char *name)
{
    const struct kind *k = kind_by_name(name);
    return k ? k->description : name;
}

static void print_categories(const struct results *r, FILE *out)
{
    for (size_t i = 0; i < r->count;) {
        size_t clen = strcspn(r->v[i].check, "."), pass = 0, fail = 0, j = i;
        for (; j < r->count && strncmp(r->v[j].check, r->v[i].check, clen) == 0 &&
               r->v[j].check[clen] == '.';
             j++)
            strcmp(r->v[j].status, "pass") == 0 ? pass++ : fail++;
        fprintf(out, "  %-12.*s %5zu passed %5zu failed\n", (int)clen, r->v[i].check, pass, fail);
        i = j;
    }
}

/* Known deviations, one line per cause with its instance count. */
static void print_known(const struct results *r, FILE *out)
{
    for (size_t i = 0; i < r->count; i++) {
        const char *cause = r->v[i].obs[OBS_CAUSE];
        if (strcmp(r->v[i].obs[OBS_VERDICT], "known") != 0)
            continue;
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(r->v[k].obs[OBS_VERDICT], "known") == 0 &&
                   strcmp(r->v[k].obs[OBS_CAUSE], cause) == 0;
        if (seen)
            continue;
        size_t n = 0;
        for (size_t k = i; k < r->count; k++)
            n += strcmp(r->v[k].obs[OBS_VERDICT], "known") == 0 &&
                 strcmp(r->v[k].obs[OBS_CAUSE], cause) == 0;
        fprintf(out, "  known deviation %-36s %4zu instances, e.g. %s on %s: \"%s\"\n", cause, n,
                r->v[i].check, kind_text(r->v[i].kind), r->v[i].obs[OBS_OBSERVED]);
    }
}

void results_print_summary(const struct results *r, double seconds, FILE *out)
{
    const struct platform *p = platform_current();
    size_t failed = 0, observed = 0, known = 0, precond = 0;
    fprintf(out, "\nsockspec conformance on %s %s (judged against %s cells), %s runner\n", p->name,
            p->version, p->judged_as, r->runner);
    print_categories(r, out);
    print_known(r, out);
    for (size_t i = 0; i < r->count; i++) {
        const struct result *e = &r->v[i];
        failed += strcmp(e->status, "pass") != 0;
        observed += strcmp(e->obs[OBS_VERDICT], "observe") == 0;
        known += strcmp(e->obs[OBS_VERDICT], "known") == 0;
        precond += strncmp(e->obs[OBS_OBSERVED], "precondition:", 13) == 0;
        if (strcmp(e->status, "pass") != 0)
            fprintf(out, "  FAILED %s on %s: %s, observed \"%s\", expected \"%s\"%s%s\n", e->check,
                    kind_text(e->kind), e->status, e->obs[OBS_OBSERVED], e->obs[OBS_EXPECTED],
                    strcmp(e->obs[OBS_PROBLEMS], "-") ? "; " : "",
                    strcmp(e->obs[OBS_PROBLEMS], "-") ? e->obs[OBS_PROBLEMS] : "");
    }
    fprintf(out,
            "%zu instances: %zu passed, %zu failed (%zu observed only, %zu known deviations, "
            "%zu preconditions) in %.1f s\n",
            r->count, r->count - failed, failed, observed, known, precond, seconds);
}

static const char *abi(void)
{
    return sizeof(void *) == 8 ? (sizeof(long) == 8 ? "lp64" : "llp64") : "ilp32";
}

int results_write(const struct results *r, const char *path, double seconds)
{
    const struct platform *p = platform_current();
    struct utsname u;
    char date[32];
    time_t t = time(NULL);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    if (uname(&u) != 0)
        memset(&u, 0, sizeof u);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    fprintf(fp, "# platform\t%s\n# platform_name\t%s\n# platform_class\t%s\n# judged_as\t%s\n",
            p->id, p->name, p->class_, p->judged_as);
    fprintf(fp, "# platform_version\t%s\n# os\t%s\n# release\t%s\n# version\t%s\n# arch\t%s\n",
            p->version, u.sysname, u.release, u.version, u.machine);
    const char *host = getenv("SOCKSPEC_HOST_KERNEL");
    fprintf(fp, "# host_kernel\t%s\n", host && *host ? host : "-");
    fprintf(fp, "# abi\t%s\n# runner\t%s\n# date\t%s\n# seconds\t%.1f\n", abi(), r->runner, date,
            seconds);
    fprintf(fp, "instance\tcheck\tkind\tstatus\tverdict\tobserved\texpected\tagainst\tcause\t"
                "problems\n");
    for (size_t i = 0; i < r->count; i++) {
        const struct result *e = &r->v[i];
        fprintf(fp, "%s/%s\t%s\t%s\t%s", e->check, e->kind, e->check, e->kind, e->status);
        for (int k = 0; k < RESULT_FIELDS - 1; k++)
            fprintf(fp, "\t%s", e->obs[k]);
        fputc('\n', fp);
    }
    return fclose(fp);
}

void results_free(struct results *r)
{
    for (size_t i = 0; i < r->count; i++) {
        struct result *e = &r->v[i];
        free(e->check);
        free(e->kind);
        free(e->status);
        for (int k = 0; k < RESULT_FIELDS - 1; k++)
            free(e->obs[k]);
    }
    free(r->v);
    memset(r, 0, sizeof *r);
}

int results_write_catalogue(const char *path)
{
    size_t n;
    const struct instance *in = registry_list(&n);
    FILE *fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!fp)
        return -1;
    fprintf(fp,
            "# The catalogue, written by sockspec-conformance --catalogue: every check with its\n"
            "# statement and the kinds it runs on, and every kind with its description.\n");
    fprintf(fp, "record\tid\ttext\tkinds\n");
    for (size_t i = 0; i < n;) {
        size_t j = i;
        fprintf(fp, "check\t%s\t%s\t", in[i].check->id, in[i].check->statement);
        for (; j < n && in[j].check == in[i].check; j++)
            fprintf(fp, "%s%s", j > i ? "," : "", in[j].kind->name);
        fputc('\n', fp);
        i = j;
    }
    for (const struct kind *const *k = kinds_all; *k; k++)
        fprintf(fp, "kind\t%s\t%s\t%s\n", (*k)->name, (*k)->description, (*k)->attributes);
    return fp == stdout ? fflush(fp) : fclose(fp);
}
