/*
 * The results of one run, written as a TSV file that tools/report.awk reads:
 *   "# key<TAB>value" header lines (os, release, version, arch, date, seconds), then
 *   instance  check  kind  status  verdict  observed  expected
 * status is Criterion's (pass, fail, crash, timeout, skip); verdict is the harness's
 * judgement of the observed outcome (pass, FAIL, observe, or "-" when none was recorded).
 */
#ifndef SOCKSPEC_RESULTS_H
#define SOCKSPEC_RESULTS_H

#include <stdio.h>

struct result {
    char *check, *kind, *status, *verdict, *observed, *expected;
};

struct results {
    struct result *v;
    size_t count, cap;
    int listing_only;
};

void results_add(struct results *r, const char *category, const char *test, const char *status);
void results_merge_observations(struct results *r, const char *obs_path);
void results_print_summary(const struct results *r, double seconds, FILE *out);
int results_write(const struct results *r, const char *path, double seconds);
void results_free(struct results *r);

#endif
