#include "results.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "expect.h"

static char *dup_or_die(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        perror("sockspec-conformance");
        exit(2);
    }
    return d;
}

/* Test "name__kind" in suite "category" is instance "category.name/kind". */
void results_add(struct results *r, const char *category, const char *test, const char *status)
{
    if (r->count == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 512;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        if (!r->v) {
            perror("sockspec-conformance");
            exit(2);
        }
    }
    struct result *e = &r->v[r->count++];
    const char *sep = strstr(test, "__");
    size_t n = sep ? (size_t)(sep - test) : strlen(test);
    size_t len = strlen(category) + 1 + n + 1;
    e->check = malloc(len);
    if (!e->check) {
        perror("sockspec-conformance");
        exit(2);
    }
    snprintf(e->check, len, "%s.%.*s", category, (int)n, test);
    e->kind = dup_or_die(sep ? sep + 2 : "-");
    e->status = dup_or_die(status);
    e->verdict = dup_or_die("-");
    e->observed = dup_or_die("-");
    e->expected = dup_or_die("-");
}

static struct result *find(struct results *r, const char *instance)
{
    const char *slash = strrchr(instance, '/');
    if (!slash)
        return NULL;
    size_t n = (size_t)(slash - instance);
    for (size_t i = 0; i < r->count; i++)
        if (strlen(r->v[i].check) == n && strncmp(r->v[i].check, instance, n) == 0 &&
            strcmp(r->v[i].kind, slash + 1) == 0)
            return &r->v[i];
    return NULL;
}

static void replace(char **field, const char *value)
{
    free(*field);
    *field = dup_or_die(value);
}

static int result_cmp(const void *a, const void *b)
{
    const struct result *x = a, *y = b;
    int c = strcmp(x->check, y->check);
    return c ? c : strcmp(x->kind, y->kind);
}

/* Also sorts by instance: Criterion finishes tests in any order, results must not vary. */
void results_merge_observations(struct results *r, const char *obs_path)
{
    if (r->count)
        qsort(r->v, r->count, sizeof *r->v, result_cmp);
    char line[1024];
    FILE *fp = fopen(obs_path, "r");
    if (!fp)
        return;
    while (fgets(line, sizeof line, fp)) {
        char *f[4], *p = line;
        line[strcspn(line, "\n")] = '\0';
        for (int i = 0; i < 4; i++) {
            f[i] = p;
            p = p ? strchr(p, '\t') : NULL;
            if (p)
                *p++ = '\0';
        }
        struct result *e = find(r, f[0]);
        if (!e || !f[3])
            continue;
        replace(&e->verdict, f[1]);
        replace(&e->observed, f[2]);
        replace(&e->expected, f[3]);
    }
    fclose(fp);
}

static int category_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void results_print_summary(const struct results *r, double seconds, FILE *out)
{
    char **cats = calloc(r->count + 1, sizeof *cats);
    size_t ncat = 0, failed = 0, observed = 0;
    for (size_t i = 0; i < r->count; i++) {
        cats[ncat++] = r->v[i].check;
        failed += strcmp(r->v[i].status, "pass") != 0;
        observed += strcmp(r->v[i].verdict, "observe") == 0;
    }
    qsort(cats, ncat, sizeof *cats, category_cmp);
    fprintf(out, "\nsockspec conformance on %s: per category\n", expect_os());
    for (size_t i = 0; i < ncat;) {
        size_t clen = strcspn(cats[i], "."), pass = 0, fail = 0;
        for (size_t k = 0; k < r->count; k++) {
            if (strncmp(r->v[k].check, cats[i], clen) != 0 || r->v[k].check[clen] != '.')
                continue;
            if (strcmp(r->v[k].status, "pass") == 0)
                pass++;
            else
                fail++;
        }
        fprintf(out, "  %-12.*s %5zu passed %5zu failed\n", (int)clen, cats[i], pass, fail);
        size_t j = i;
        while (j < ncat && strncmp(cats[j], cats[i], clen) == 0 && cats[j][clen] == '.')
            j++;
        i = j;
    }
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->v[i].status, "pass") != 0)
            fprintf(out, "  FAILED %s/%s: %s, observed \"%s\", expected \"%s\"\n", r->v[i].check,
                    r->v[i].kind, r->v[i].status, r->v[i].observed, r->v[i].expected);
    fprintf(out, "%zu instances: %zu passed, %zu failed (%zu observed only) in %.1f s\n", r->count,
            r->count - failed, failed, observed, seconds);
    free(cats);
}

int results_write(const struct results *r, const char *path, double seconds)
{
    struct utsname u;
    char date[32];
    time_t t = time(NULL);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    uname(&u);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    fprintf(fp, "# os\t%s\n# release\t%s\n# version\t%s\n# arch\t%s\n# date\t%s\n", expect_os(),
            u.release, u.version, u.machine, date);
    fprintf(fp, "# seconds\t%.1f\n", seconds);
    fprintf(fp, "instance\tcheck\tkind\tstatus\tverdict\tobserved\texpected\n");
    for (size_t i = 0; i < r->count; i++) {
        const struct result *e = &r->v[i];
        fprintf(fp, "%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e->check, e->kind, e->check, e->kind,
                e->status, e->verdict, e->observed, e->expected);
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
        free(e->verdict);
        free(e->observed);
        free(e->expected);
    }
    free(r->v);
    memset(r, 0, sizeof *r);
}
