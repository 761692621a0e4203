/*
 * The data lint (--lint): the expectation data must judge every instance on every OS, and
 * every cell must say where it comes from.
 *   - every (instance, OS, version) resolves to exactly one cell, kind.builds included;
 *   - every row names a registered check, a known OS, a basis, and a source a reader can
 *     open; a non-Linux row names the versions it describes; "?" cells are basis "open";
 *   - every known deviation names a registered check and a cause of its implementation.
 * It prints the findings and, per OS, the cells and the share of "?".
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "harness.h"
#include "runner.h"

#define MAX_OS 16

struct lint {
    FILE *out;
    int findings;
    char os[MAX_OS][32];
    int nos;
    const char *file;
    /* per OS: cells and "?" cells */
    int cells[MAX_OS], open[MAX_OS];
    /* versions of the rows of one (check, os) */
    const char *check, *cur_os;
    char versions[256];
};

static void finding(struct lint *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finding(struct lint *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(l->out, "lint: ");
    vfprintf(l->out, fmt, ap);
    fputc('\n', l->out);
    va_end(ap);
    l->findings++;
}

static void platform_row(char **f, void *arg)
{
    struct lint *l = arg;
    if (strcmp(f[2], "os") == 0 && l->nos < MAX_OS)
        snprintf(l->os[l->nos++], sizeof l->os[0], "%s", f[0]);
}

static int os_index(const struct lint *l, const char *os)
{
    for (int i = 0; i < l->nos; i++)
        if (strcmp(l->os[i], os) == 0)
            return i;
    return -1;
}

static int check_registered(const char *id)
{
    size_t n;
    const struct instance *in = registry_list(&n);
    if (strcmp(id, "kind.builds") == 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(in[i].check->id, id) == 0)
            return 1;
    return 0;
}

static const char *const bases[] = {"source", "test", "man", "posix", "header", "run", "open"};

static int known_basis(const char *b)
{
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
        if (strcmp(b, bases[i]) == 0)
            return 1;
    return 0;
}

/* Citations of notes no reader can open. */
static int unopenable(const char *source)
{
    return strstr(source, "catalogue") || strstr(source, "cross-os") ||
           strstr(source, "shared/reference");
}

static void cell_row(char **f, void *arg)
{
    struct lint *l = arg;
    int os = os_index(l, f[2]);
    if (!check_registered(f[0]))
        finding(l, "%s: %s: no such check", l->file, f[0]);
    if (os < 0) {
        finding(l, "%s: %s: unknown OS \"%s\"", l->file, f[0], f[2]);
        return;
    }
    l->cells[os]++;
    l->open[os] += strcmp(f[4], "?") == 0;
    if (!known_basis(f[5]))
        finding(l, "%s: %s on %s: unknown basis \"%s\"", l->file, f[0], f[2], f[5]);
    if ((strcmp(f[4], "?") == 0) != (strcmp(f[5], "open") == 0))
        finding(l, "%s: %s on %s: \"?\" goes with basis open, and only it", l->file, f[0], f[2]);
    if (!f[6][0] || strcmp(f[6], "-") == 0)
        finding(l, "%s: %s on %s: no source", l->file, f[0], f[2]);
    else if (unopenable(f[6]))
        finding(l, "%s: %s on %s: cites notes a reader cannot open: %s", l->file, f[0], f[2], f[6]);
    if (strcmp(f[2], "linux") != 0 && (!f[3][0] || strcmp(f[3], "-") == 0))
        finding(l, "%s: %s on %s: no version", l->file, f[0], f[2]);
}

static void lint_rows(struct lint *l)
{
    char dir[512];
    expect_data_path("expectations", dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d) {
        finding(l, "%s: %s", dir, strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".tsv") != 0)
            continue;
        char rel[300];
        snprintf(rel, sizeof rel, "expectations/%s", e->d_name);
        l->file = rel;
        expect_each_row(rel, 7, cell_row, l);
    }
    closedir(d);
}

static void version_row(char **f, void *arg)
{
    struct lint *l = arg;
    if (strcmp(f[0], l->check) != 0 || strcmp(f[2], l->cur_os) != 0)
        return;
    size_t used = strlen(l->versions);
    snprintf(l->versions + used, sizeof l->versions - used, "%s%s", used ? "," : "", f[3]);
}

/* Every version any row of (check, os) names must judge kind k. */
static void lint_instance(struct lint *l, const char *check, const struct kind *k, const char *os)
{
    char rel[128], why[256];
    snprintf(rel, sizeof rel, "expectations/%.*s.tsv", (int)strcspn(check, "."), check);
    l->check = check;
    l->cur_os = os;
    l->versions[0] = '\0';
    expect_each_row(rel, 7, version_row, l);
    if (!l->versions[0]) {
        finding(l, "%s on %s: no cell", check, os);
        return;
    }
    for (char *p = l->versions; *p;) {
        size_t len = strcspn(p, ",");
        char v[32];
        struct cell c;
        snprintf(v, sizeof v, "%.*s", (int)len, p);
        if (expect_cell_for(check, k, os, v, &c, why, sizeof why) < 0)
            finding(l, "%s/%s on %s %s: %s", check, k->name, os, v,
                    errno == EINVAL ? why : "no cell for this kind");
        p += len + (p[len] == ',');
    }
}

/* 1 if every version's kind.builds cell on os says k cannot be built there (then the kind's
 * cell judges the instance, not the check's). */
static int kind_unbuildable(struct lint *l, const struct kind *k, const char *os)
{
    struct cell c;
    char why[256];
    l->check = "kind.builds";
    l->cur_os = os;
    l->versions[0] = '\0';
    expect_each_row("expectations/kind.tsv", 7, version_row, l);
    int any = 0;
    for (char *p = l->versions; *p;) {
        size_t len = strcspn(p, ",");
        char v[32];
        snprintf(v, sizeof v, "%.*s", (int)len, p);
        if (expect_cell_for("kind.builds", k, os, v, &c, why, sizeof why) < 0 ||
            !expect_cell_unsupported(&c))
            return 0;
        any = 1;
        p += len + (p[len] == ',');
    }
    return any;
}

static void lint_instances(struct lint *l)
{
    size_t n;
    const struct instance *in = registry_list(&n);
    for (int o = 0; o < l->nos; o++) {
        for (const struct kind *const *k = kinds_all; *k; k++)
            lint_instance(l, "kind.builds", *k, l->os[o]);
        for (size_t i = 0; i < n; i++)
            if (!kind_unbuildable(l, in[i].kind, l->os[o]))
                lint_instance(l, in[i].check->id, in[i].kind, l->os[o]);
    }
}

struct cause_search {
    const char *platform, *cause;
    int found;
};

static void cause_row(char **f, void *arg)
{
    struct cause_search *s = arg;
    s->found |= strcmp(f[0], s->platform) == 0 && strcmp(f[1], s->cause) == 0;
}

static void known_row(char **f, void *arg)
{
    struct lint *l = arg;
    struct cause_search s = {f[0], f[4], 0};
    if (!check_registered(f[1]))
        finding(l, "known/deviations.tsv: %s: no such check", f[1]);
    expect_each_row("known/causes.tsv", 5, cause_row, &s);
    if (!s.found)
        finding(l, "known/deviations.tsv: %s on %s: cause %s is not in known/causes.tsv", f[1],
                f[0], f[4]);
}

int lint_run(FILE *out)
{
    struct lint l;
    memset(&l, 0, sizeof l);
    l.out = out;
    if (expect_each_row("platforms.tsv", 5, platform_row, &l) < 0)
        finding(&l, "platforms.tsv: %s", strerror(errno));
    lint_rows(&l);
    lint_instances(&l);
    expect_each_row("known/deviations.tsv", 5, known_row, &l);
    for (int o = 0; o < l.nos; o++)
        fprintf(out, "lint: %-8s %5d cells, %4d \"?\" (%.1f%%)\n", l.os[o], l.cells[o], l.open[o],
                l.cells[o] ? 100.0 * l.open[o] / l.cells[o] : 0.0);
    fprintf(out, "lint: %d findings\n", l.findings);
    return l.findings ? -1 : 0;
}
