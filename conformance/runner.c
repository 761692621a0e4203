#include "runner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int take_flag(int *argc, char **argv, const char *name, const char **value)
{
    size_t n = strlen(name);
    for (int i = 1; i < *argc; i++) {
        if (strncmp(argv[i], name, n) != 0 || (argv[i][n] != '\0' && argv[i][n] != '='))
            continue;
        *value = argv[i][n] == '=' ? argv[i] + n + 1 : "";
        memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof *argv);
        (*argc)--;
        return 1;
    }
    return 0;
}

void runner_take_options(int *argc, char **argv, struct run_options *o)
{
    const char *v;
    memset(o, 0, sizeof *o);
    o->allow_empty = take_flag(argc, argv, "--allow-empty", &v);
    if (take_flag(argc, argv, "--observe-only", &v))
        setenv("SOCKSPEC_OBSERVE_ONLY", "1", 1);
    if (take_flag(argc, argv, "--platform", &v))
        setenv("SOCKSPEC_PLATFORM", v, 1);
    take_flag(argc, argv, "--results", &o->results);
    take_flag(argc, argv, "--catalogue", &o->catalogue);
    o->lint = take_flag(argc, argv, "--lint", &v);
}

const char *runner_obs_begin(void)
{
    static char obs[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(obs, sizeof obs, "%s/sockspec-obs.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(obs);
    if (fd < 0) {
        perror("sockspec-conformance: mkstemp");
        return NULL;
    }
    close(fd);
    setenv("SOCKSPEC_OBS_FILE", obs, 1);
    return obs;
}

int runner_special(const struct run_options *o)
{
    if (o->catalogue) {
        if (results_write_catalogue(o->catalogue[0] ? o->catalogue : "-") == 0)
            return 0;
        fprintf(stderr, "sockspec-conformance: %s: %s\n", o->catalogue, strerror(errno));
        return 2;
    }
    if (o->lint)
        return lint_run(stdout) == 0 ? 0 : 1;
    return -1;
}

int runner_finish(struct results *r, double seconds, const struct run_options *o, int rc,
                  const char *obs)
{
    results_merge_observations(r, obs);
    results_print_summary(r, seconds, stderr);
    if (r->count == 0 && !o->allow_empty) {
        fprintf(stderr, "sockspec-conformance: no instance matched; failing (--allow-empty to "
                        "accept)\n");
        rc = 2;
    }
    if (o->results && results_write(r, o->results, seconds) < 0) {
        fprintf(stderr, "sockspec-conformance: %s: %s\n", o->results, strerror(errno));
        rc = 2;
    }
    unlink(obs);
    results_free(r);
    return rc;
}

double runner_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
