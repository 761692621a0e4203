/*
 * The results of one run, as a TSV file that the report generator reads:
 *   "# key<TAB>value" header lines: platform, platform_name, platform_class, judged_as,
 *   platform_version, os, release, version, arch, host_kernel (the kernel under an
 *   implementation, as ci/conformance saw it), abi, runner, date, seconds;
 *   then one row per instance:
 *   instance  check  kind  status  verdict  observed  expected  against  cause  problems
 * status is the runner's (pass, fail, crash, timeout, skip); verdict is the harness's
 * judgement of the observed outcome (pass, FAIL, observe, known, or "-" when the instance
 * recorded nothing); against is the cell's OS and version ("freebsd 15.0"); cause is the root
 * cause of a known deviation; problems lists what else failed the instance (a leaked
 * descriptor, a failed EXPECT, ...).
 */
#ifndef SOCKSPEC_RESULTS_H
#define SOCKSPEC_RESULTS_H

#include <stdio.h>

#define RESULT_FIELDS 7 /* from verdict on: verdict observed expected against cause problems */

struct result {
    char *check, *kind, *status;
    char *obs[RESULT_FIELDS - 1]; /* verdict, observed, expected, against, cause, problems */
};

struct results {
    struct result *v;
    size_t count, cap;
    const char *runner; /* "criterion" or "plain" */
};

/* Test "name__kind" in suite "category" is instance "category.name/kind". */
void results_add(struct results *r, const char *category, const char *test, const char *status);
/* Sorts by instance and fills each instance's observation from the harness's file. */
void results_merge_observations(struct results *r, const char *obs_path);
void results_print_summary(const struct results *r, double seconds, FILE *out);
int results_write(const struct results *r, const char *path, double seconds);
void results_free(struct results *r);

/* The catalogue: every check with its statement and kinds, every kind with its description. */
int results_write_catalogue(const char *path);

#endif
