#include "expect.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define MAX_FIELDS 8

void expect_data_path(const char *rel, char *path, size_t n)
{
    const char *dir = getenv("SOCKSPEC_DATA");
    snprintf(path, n, "%s/%s", dir && *dir ? dir : SOCKSPEC_DATA_DIR, rel);
}

/* Splits line in place at tabs; returns the number of fields. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < max; p++) {
        f[n++] = p;
        p = strchr(p, '\t');
        if (!p)
            break;
        *p = '\0';
    }
    return n;
}

/* Calls fn for each data row of a TSV file (comments, blank lines and the header skipped):
 * 0, or -1 with errno when the file cannot be read. */
int expect_each_row(const char *rel, int want, void (*fn)(char **f, void *arg), void *arg)
{
    char path[512], line[2048], *f[MAX_FIELDS];
    expect_data_path(rel, path, sizeof path);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    int header = 1;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (split(line, f, MAX_FIELDS) < want)
            continue;
        if (header) { /* the first row names the columns */
            header = 0;
            continue;
        }
        fn(f, arg);
    }
    fclose(fp);
    return 0;
}

/* Copies s into d[n], truncating: the tables' fields are short by design. */
static void copy(char *d, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len >= n)
        len = n - 1;
    memcpy(d, s, len);
    d[len] = '\0';
}

/* ---- platforms ------------------------------------------------------------------------- */

struct platform_search {
    const char *id, *sysname;
    struct platform *p;
    int found;
};

static void platform_row(char **f, void *arg)
{
    struct platform_search *s = arg;
    if (s->found || (s->id ? strcmp(f[0], s->id) : strcmp(f[3], s->sysname)) != 0)
        return;
    s->found = 1;
    copy(s->p->id, sizeof s->p->id, f[0]);
    copy(s->p->name, sizeof s->p->name, f[1]);
    copy(s->p->class_, sizeof s->p->class_, f[2]);
    copy(s->p->judged_as, sizeof s->p->judged_as, strcmp(f[4], "-") == 0 ? f[0] : f[4]);
}

const struct platform *platform_current(void)
{
    static struct platform p;
    static int done;
    struct utsname u;
    if (done)
        return &p;
    done = 1;
    if (uname(&u) != 0)
        memset(&u, 0, sizeof u);
    const char *id = getenv("SOCKSPEC_PLATFORM");
    struct platform_search s = {id && *id ? id : NULL, u.sysname, &p, 0};
    (void)expect_each_row("platforms.tsv", 5, platform_row, &s);
    if (!s.found) {
        copy(p.id, sizeof p.id, s.id ? s.id : u.sysname);
        for (char *c = p.id; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        copy(p.name, sizeof p.name, s.id ? s.id : u.sysname);
        copy(p.class_, sizeof p.class_, "os");
        copy(p.judged_as, sizeof p.judged_as, p.id);
    }
    const char *v = getenv("SOCKSPEC_PLATFORM_VERSION");
    copy(p.version, sizeof p.version, v && *v ? v : u.release);
    return &p;
}

/* ---- cells ----------------------------------------------------------------------------- */

/* Version "15.0-RELEASE" as numbers {15, 0}; missing components are 0. */
static void version_parse(const char *s, long v[4])
{
    for (int i = 0; i < 4; i++) {
        v[i] = 0;
        if (!isdigit((unsigned char)*s))
            continue;
        v[i] = strtol(s, (char **)&s, 10);
        if (*s == '.')
            s++;
        else
            s = "";
    }
}

static int version_cmp(const char *a, const char *b)
{
    long x[4], y[4];
    version_parse(a, x);
    version_parse(b, y);
    for (int i = 0; i < 4; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

/* 1 if the comma list contains version v exactly. */
static int list_has(const char *list, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, v, n) == 0)
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

int expect_kinds_match(const char *kinds, const struct kind *k, int *specificity)
{
    *specificity = 0;
    if (strcmp(kinds, "*") == 0)
        return 1;
    for (const char *p = kinds; *p;) {
        size_t len = strcspn(p, "+");
        int found = 0;
        for (const char *a = k->attributes; *a && !found;) {
            size_t alen = strcspn(a, " ");
            found = alen == len && strncmp(a, p, len) == 0;
            a += alen + (a[alen] == ' ');
        }
        if (!found)
            return 0;
        (*specificity)++;
        p += len + (p[len] == '+');
    }
    return 1;
}

#define MAX_ROWS 64

struct cell_search {
    const char *check, *os;
    const struct kind *k;
    struct cell rows[MAX_ROWS];
    int n;
};

static void cell_row(char **f, void *arg)
{
    struct cell_search *s = arg;
    int spec;
    if (s->n == MAX_ROWS || strcmp(f[0], s->check) != 0 || strcmp(f[2], s->os) != 0 ||
        !expect_kinds_match(f[1], s->k, &spec))
        return;
    struct cell *c = &s->rows[s->n++];
    copy(c->kinds, sizeof c->kinds, f[1]);
    copy(c->os, sizeof c->os, f[2]);
    copy(c->versions, sizeof c->versions, f[3]);
    copy(c->value, sizeof c->value, f[4]);
    copy(c->basis, sizeof c->basis, f[5]);
    copy(c->source, sizeof c->source, f[6]);
}

/* The version whose cells apply: the newest listed not above the running one, else the
 * newest listed. */
static void pick_version(const struct cell_search *s, const char *running, char *out, size_t n)
{
    char best_below[32] = "", newest[32] = "";
    for (int i = 0; i < s->n; i++)
        for (const char *p = s->rows[i].versions; *p;) {
            size_t len = strcspn(p, ",");
            char v[32];
            snprintf(v, sizeof v, "%.*s", (int)len, p);
            if (!newest[0] || version_cmp(v, newest) > 0)
                snprintf(newest, sizeof newest, "%s", v);
            if (version_cmp(v, running) <= 0 && (!best_below[0] || version_cmp(v, best_below) > 0))
                snprintf(best_below, sizeof best_below, "%s", v);
            p += len + (p[len] == ',');
        }
    snprintf(out, n, "%s", best_below[0] ? best_below : newest);
}

int expect_cell_for(const char *check, const struct kind *k, const char *os, const char *running,
                    struct cell *out, char *why, size_t n)
{
    static struct cell_search s;
    char rel[128], version[32];
    snprintf(rel, sizeof rel, "expectations/%.*s.tsv", (int)strcspn(check, "."), check);
    s.check = check;
    s.os = os;
    s.k = k;
    s.n = 0;
    if (expect_each_row(rel, 7, cell_row, &s) < 0)
        return -1;
    pick_version(&s, running, version, sizeof version);
    int best = -1, best_spec = -1, tie = 0;
    for (int i = 0; i < s.n; i++) {
        int spec;
        if (!list_has(s.rows[i].versions, version))
            continue;
        expect_kinds_match(s.rows[i].kinds, k, &spec);
        if (spec > best_spec) {
            best = i;
            best_spec = spec;
            tie = 0;
        } else if (spec == best_spec) {
            tie = i;
        }
    }
    if (best < 0) {
        errno = ENOENT;
        return -1;
    }
    if (tie) {
        snprintf(why, n, "%s on %s: cells \"%s\" and \"%s\" both match %s", check, s.os,
                 s.rows[best].kinds, s.rows[tie].kinds, k->name);
        errno = EINVAL;
        return -1;
    }
    *out = s.rows[best];
    snprintf(out->versions, sizeof out->versions, "%s", version);
    return 0;
}

int expect_cell(const char *check, const struct kind *k, struct cell *out, char *why, size_t n)
{
    const struct platform *p = platform_current();
    if (getenv("SOCKSPEC_OBSERVE_ONLY")) {
        errno = ENOENT;
        return -1;
    }
    return expect_cell_for(check, k, p->judged_as, p->version, out, why, n);
}

/* ---- judging --------------------------------------------------------------------------- */

static int number(const char *s, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno == 0 && end != s && *end == '\0';
}

static int alternative_matches(const char *alt, size_t len, const char *observed)
{
    char a[160];
    long long want, got;
    snprintf(a, sizeof a, "%.*s", (int)len, alt);
    if (len > 0 && a[len - 1] == '*')
        return strncmp(a, observed, len - 1) == 0;
    if (strncmp(a, ">=", 2) == 0)
        return number(a + 2, &want) && number(observed, &got) && got >= want;
    if (a[0] == '>')
        return number(a + 1, &want) && number(observed, &got) && got > want;
    return strcmp(a, observed) == 0;
}

int expect_value_matches(const char *value, const char *observed)
{
    for (const char *p = value;;) {
        size_t len = strcspn(p, "|");
        if (alternative_matches(p, len, observed))
            return 1;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

enum verdict expect_judge(const struct cell *cell, const char *observed)
{
    /* A precondition that failed measured nothing: no cell but an explicit one admits it. */
    if (strncmp(observed, "precondition:", 13) == 0 &&
        strncmp(cell->value, "precondition", 12) != 0)
        return VERDICT_FAIL;
    if (strcmp(cell->value, "?") == 0)
        return VERDICT_OBSERVE;
    return expect_value_matches(cell->value, observed) ? VERDICT_PASS : VERDICT_FAIL;
}

int expect_cell_unsupported(const struct cell *cell)
{
    return strncmp(cell->value, "unsupported:", 12) == 0;
}

const char *verdict_name(enum verdict v)
{
    static const char *const names[] = {"pass", "FAIL", "observe", "known"};
    return names[v];
}

/* ---- known deviations ------------------------------------------------------------------- */

struct known_search {
    const char *platform, *check, *observed;
    const struct kind *k;
    char *cause;
    size_t n;
    int found;
};

static void known_row(char **f, void *arg)
{
    struct known_search *s = arg;
    int spec;
    if (s->found || strcmp(f[0], s->platform) != 0 || strcmp(f[1], s->check) != 0 ||
        !expect_kinds_match(f[2], s->k, &spec) || !expect_value_matches(f[3], s->observed))
        return;
    s->found = 1;
    snprintf(s->cause, s->n, "%s", f[4]);
}

int expect_known_deviation(const char *check, const struct kind *k, const char *observed,
                           char *cause, size_t n)
{
    struct known_search s = {platform_current()->id, check, observed, k, cause, n, 0};
    (void)expect_each_row("known/deviations.tsv", 5, known_row, &s);
    return s.found;
}
