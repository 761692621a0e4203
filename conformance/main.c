/*
 * sockspec-conformance: Criterion's runner plus
 *   --results=FILE   write the machine-readable results of this run (see results.h)
 *   --observe-only   record outcomes without judging them against expectations/
 *   --allow-empty    succeed even when the filter selects no test
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "results.h"

static struct results run;

ReportHook(POST_TEST)(struct criterion_test_stats *stats)
{
    const char *status = stats->timed_out                          ? "timeout"
                         : stats->crashed                          ? "crash"
                         : stats->test_status == CR_STATUS_PASSED  ? "pass"
                         : stats->test_status == CR_STATUS_SKIPPED ? "skip"
                                                                   : "fail";
    results_add(&run, stats->test->category, stats->test->name, status);
}

static int take_flag(int *argc, char **argv, const char *prefix, const char **value)
{
    size_t n = strlen(prefix);
    for (int i = 1; i < *argc; i++) {
        if (strncmp(argv[i], prefix, n) != 0 || (argv[i][n] != '\0' && argv[i][n] != '='))
            continue;
        *value = argv[i][n] == '=' ? argv[i] + n + 1 : "";
        memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof *argv);
        (*argc)--;
        return 1;
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *results_path = NULL, *unused;
    int allow_empty = take_flag(&argc, argv, "--allow-empty", &unused);
    if (take_flag(&argc, argv, "--observe-only", &unused))
        setenv("SOCKSPEC_OBSERVE_ONLY", "1", 1);
    take_flag(&argc, argv, "--results", &results_path);

    char obs[] = "/tmp/sockspec-obs.XXXXXX";
    int fd = mkstemp(obs);
    if (fd < 0) {
        perror("sockspec-conformance: mkstemp");
        return 2;
    }
    close(fd);
    setenv("SOCKSPEC_OBS_FILE", obs, 1);

    struct criterion_test_set *tests = criterion_initialize();
    int ok = 1;
    double start = now();
    if (criterion_handle_args(argc, argv, true))
        ok = criterion_run_all_tests(tests);
    else
        run.listing_only = 1;
    double elapsed = now() - start;
    criterion_finalize(tests);

    int rc = ok ? 0 : 1;
    if (!run.listing_only) {
        results_merge_observations(&run, obs);
        results_print_summary(&run, elapsed, stderr);
        if (run.count == 0 && !allow_empty) {
            fprintf(stderr, "sockspec-conformance: no test matched; failing (--allow-empty to "
                            "accept)\n");
            rc = 2;
        }
        if (results_path && results_write(&run, results_path, elapsed) < 0) {
            fprintf(stderr, "sockspec-conformance: %s: %s\n", results_path, strerror(errno));
            rc = 2;
        }
    }
    unlink(obs);
    results_free(&run);
    return rc;
}
