/*
 * sockspec-conformance: Criterion's runner (its options: --filter, --jobs, --list, -q, ...)
 * with sockspec's (runner.h).
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "runner.h"

static struct results run = {.runner = "criterion"};

ReportHook(POST_TEST)(struct criterion_test_stats *stats)
{
    const char *status = stats->timed_out                          ? "timeout"
                         : stats->crashed                          ? "crash"
                         : stats->test_status == CR_STATUS_PASSED  ? "pass"
                         : stats->test_status == CR_STATUS_SKIPPED ? "skip"
                                                                   : "fail";
    results_add(&run, stats->test->category, stats->test->name, status);
}

void runner_fail(const char *msg)
{
    cr_expect_fail("%s", msg);
}

int main(int argc, char **argv)
{
    struct run_options o;
    runner_take_options(&argc, argv, &o);
    int special = runner_special(&o);
    if (special >= 0)
        return special;
    const char *obs = runner_obs_begin();
    if (!obs)
        return 2;

    struct criterion_test_set *tests = criterion_initialize();
    int ok = 1, listing = 0;
    double start = runner_now();
    if (criterion_handle_args(argc, argv, true))
        ok = criterion_run_all_tests(tests);
    else
        listing = 1;
    double elapsed = runner_now() - start;
    criterion_finalize(tests);
    if (listing) {
        unlink(obs);
        results_free(&run);
        return 0;
    }
    return runner_finish(&run, elapsed, &o, ok ? 0 : 1, obs);
}
