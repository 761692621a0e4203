#include "expect.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <criterion/criterion.h>

static const char *const os_columns[] = {"linux", "freebsd", "netbsd", "openbsd", "darwin"};
#define FIRST_OS_COLUMN 2
#define SOURCE_COLUMN 7

const char *expect_os(void)
{
    static char os[64];
    struct utsname u;
    if (os[0])
        return os;
    const char *forced = getenv("SOCKSPEC_OS");
    if (forced && *forced)
        snprintf(os, sizeof os, "%s", forced);
    else if (uname(&u) == 0)
        snprintf(os, sizeof os, "%.*s", (int)sizeof os - 1, u.sysname);
    else
        snprintf(os, sizeof os, "unknown");
    for (char *p = os; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return os;
}

static int os_column(void)
{
    if (getenv("SOCKSPEC_OBSERVE_ONLY"))
        return -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(expect_os(), os_columns[i]) == 0)
            return FIRST_OS_COLUMN + i;
    return -1;
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

/* Row "cat.name" lives in <dir>/cat.tsv. */
static void table_path(const char *id, char *path, size_t len)
{
    const char *dir = getenv("SOCKSPEC_EXPECTATIONS");
    snprintf(path, len, "%s/%.*s.tsv", dir && *dir ? dir : SOCKSPEC_EXPECTATIONS_DIR,
             (int)strcspn(id, "."), id);
}

void expect_lookup(const char *id, struct expect_cell *cell)
{
    char line[2048], *f[SOURCE_COLUMN + 1], path[512];
    table_path(id, path, sizeof path);
    FILE *fp = fopen(path, "r");
    cr_assert(fp != NULL, "cannot open %s: %s", path, strerror(errno));
    int col = os_column(), found = 0;
    while (!found && fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || split(line, f, SOURCE_COLUMN + 1) != SOURCE_COLUMN + 1)
            continue;
        if (strcmp(f[0], id) != 0)
            continue;
        found = 1;
        snprintf(cell->value, sizeof cell->value, "%s", col < 0 ? "?" : f[col]);
        snprintf(cell->os, sizeof cell->os, "%s", expect_os());
        snprintf(cell->statement, sizeof cell->statement, "%s", f[1]);
        snprintf(cell->source, sizeof cell->source, "%s", f[SOURCE_COLUMN]);
    }
    fclose(fp);
    cr_assert(found, "no row \"%s\" in %s", id, path);
}

int expect_cell_unsupported(const struct expect_cell *cell)
{
    return strncmp(cell->value, "unsupported:", 12) == 0;
}

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

enum verdict expect_judge(const struct expect_cell *cell, const char *observed)
{
    if (strcmp(cell->value, "?") == 0)
        return VERDICT_OBSERVE;
    for (const char *p = cell->value;;) {
        size_t len = strcspn(p, "|");
        if (alternative_matches(p, len, observed))
            return VERDICT_PASS;
        if (p[len] == '\0')
            return VERDICT_FAIL;
        p += len + 1;
    }
}

const char *verdict_name(enum verdict v)
{
    return v == VERDICT_PASS ? "pass" : v == VERDICT_FAIL ? "FAIL" : "observe";
}
