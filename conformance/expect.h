/*
 * The expectations model: what each OS documents, and what each implementation is known to do
 * differently. All of it is data; adding an OS or an implementation adds rows, not code.
 *
 * platforms.tsv: one row per OS or implementation:
 *   id  name  class  sysname  judged_as  description
 *   class is "os" or "implementation"; an implementation (gVisor, the 32-bit ABI, ...) is judged
 *   against the cells of the OS it stands in for (judged_as); an OS is judged against its own.
 *   sysname is what uname(2) reports for an OS ("-" for implementations, which are named with
 *   --platform).
 *
 * expectations/<category>.tsv: one row per cell:
 *   check  kinds  os  versions  value  basis  source
 *   check: "<category>.<name>"; kinds: "*" or attributes joined with "+" (kinds.h: a cell
 *   applies to the kinds having every attribute; the most specific matching cell wins, and two
 *   equally specific matches are an error); os: a platforms.tsv id of class os; versions: the
 *   OS versions the cell describes ("14.3,15.0"): a run uses the newest version not above its
 *   own, else the newest; value: see expect_judge; basis: how the value is known (source, test,
 *   man, header, run, open); source: a public reference a reader can open.
 *
 * known/deviations.tsv: known deviations of an implementation from the OS it stands in for:
 *   platform  check  kinds  observed  cause
 * known/causes.tsv: one row per root cause:
 *   platform  cause  summary  reference  fixed_in
 */
#ifndef SOCKSPEC_EXPECT_H
#define SOCKSPEC_EXPECT_H

#include <stddef.h>

#include "kinds.h"

struct platform {
    char id[32];        /* "gvisor" */
    char name[64];      /* "gVisor" */
    char class_[16];    /* "os" or "implementation" */
    char judged_as[32]; /* the OS whose cells apply: "linux" */
    char version[64];   /* the running version: "15.0", "6.18.44", "20221219" */
};

/* The platform of this run: --platform / SOCKSPEC_PLATFORM, else the platforms.tsv row whose
 * sysname is uname's; version from SOCKSPEC_PLATFORM_VERSION, else uname's release. A
 * platform without a row is its own OS, with no cells: everything is observed. */
const struct platform *platform_current(void);

struct cell {
    char value[160];
    char os[32];
    char versions[64];
    char kinds[96];
    char basis[16];
    char source[512];
};

/* The cell for check on kind k on this run's platform: 0, or -1 with errno ENOENT (no cell:
 * judged as "?") or EINVAL (two equally specific cells: *why says which). */
int expect_cell(const char *check, const struct kind *k, struct cell *out, char *why, size_t n);

/* The same for a given OS and running version (the lint walks every OS). */
int expect_cell_for(const char *check, const struct kind *k, const char *os, const char *running,
                    struct cell *out, char *why, size_t n);
/* Calls fn for each data row of a TSV under the data directory (comments, blank lines and the
 * header row skipped; rows with fewer than want fields skipped): 0, or -1 with errno. */
int expect_each_row(const char *rel, int want, void (*fn)(char **f, void *arg), void *arg);

enum verdict { VERDICT_PASS, VERDICT_FAIL, VERDICT_OBSERVE, VERDICT_KNOWN };

/*
 * A cell value is one of, or alternatives joined with "|":
 *   a literal outcome; "PREFIX*" (any outcome starting with PREFIX); ">=N" or ">N" (a count);
 *   "*" alone (any value: the OS leaves it open; recorded, passes); "?" (not known: observed,
 *   not judged). Outcomes therefore never contain "|": flags are joined with "+".
 */
enum verdict expect_judge(const struct cell *cell, const char *observed);
/* 1 if value (cell syntax) admits observed. */
int expect_value_matches(const char *value, const char *observed);
int expect_cell_unsupported(const struct cell *cell);
const char *verdict_name(enum verdict v);

/* A known deviation of this run's implementation matching (check, k, observed): 1 and its
 * cause id in cause, else 0. */
int expect_known_deviation(const char *check, const struct kind *k, const char *observed,
                           char *cause, size_t n);

/* 1 if kinds ("*" or "attr+attr") applies to k; *specificity is its number of attributes. */
int expect_kinds_match(const char *kinds, const struct kind *k, int *specificity);

/* The path of a data file under the conformance data directory (SOCKSPEC_DATA overrides). */
void expect_data_path(const char *rel, char *path, size_t n);

#endif
