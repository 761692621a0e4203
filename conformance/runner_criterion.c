/*
 * sockspec-conformance: Criterion's runner (its options: --filter, --jobs, --list, -q, ...)
 * with sockspec's (runner.h).
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "runner.h"

static struct results run = {.runner = "criterion"};

/* Tests Criterion started and has not reported the end of. One left here when the run is over
 * is named and recorded, not dropped; what can leave one (a worker lost before it reports?)
 * was never seen, only a failed run with an instance missing. */
static const struct criterion_test **started;
static size_t nstarted, started_cap;
static struct criterion_global_stats totals;

ReportHook(PRE_TEST)(struct criterion_test *test)
{
    if (nstarted == started_cap) {
        started_cap = started_cap ? 2 * started_cap : 256;
        /* an array of pointers, not of tests */
        // NOLINTNEXTLINE(bugprone-sizeof-expression)
        started = realloc(started, started_cap * sizeof *started);
        if (!started) {
            perror("sockspec-conformance");
            abort();
        }
    }
    started[nstarted++] = test;
}

static void forget_started(const struct criterion_test *test)
{
    for (size_t i = nstarted; i-- > 0;)
        if (started[i] == test) {
            started[i] = started[--nstarted];
            return;
        }
}

ReportHook(POST_TEST)(struct criterion_test_stats *stats)
{
    const char *status = stats->timed_out                          ? "timeout"
                         : stats->crashed                          ? "crash"
                         : stats->test_status == CR_STATUS_PASSED  ? "pass"
                         : stats->test_status == CR_STATUS_SKIPPED ? "skip"
                                                                   : "fail";
    forget_started(stats->test);
    results_add(&run, stats->test->category, stats->test->name, status);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    totals = *stats;
}

/* Records the tests that started without a reported end, and says why a run Criterion calls
 * failed has no failing instance; returns how many there were. */
static size_t account_unreported(int ok)
{
    size_t lost = nstarted;

    for (size_t i = 0; i < nstarted; i++) {
        fprintf(stderr, "sockspec-conformance: %s/%s started; Criterion reported no end\n",
                started[i]->category, started[i]->name);
        results_add(&run, started[i]->category, started[i]->name, "no-report");
    }
    if (!ok && nstarted == 0)
        fprintf(stderr,
                "sockspec-conformance: Criterion says the run failed: %zu tests, %zu failed, "
                "%zu crashed, %zu errors; %zu instances reported an end\n",
                totals.nb_tests, totals.tests_failed, totals.tests_crashed, totals.errors,
                run.count);
    free(started);
    started = NULL;
    nstarted = started_cap = 0;
    return lost;
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
    size_t lost = account_unreported(ok);
    return runner_finish(&run, elapsed, &o, ok && lost == 0 ? 0 : 1, obs);
}
