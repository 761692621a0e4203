/*
 * sockspec-conformance-plain: the same instances without Criterion, for systems where
 * Criterion cannot run (NetBSD, OpenBSD, user-mode Linux, qemu-user). Each instance runs in a
 * child process of its own, as under Criterion, and is killed if it outlives its timeout.
 *   -j N, --jobs N      instances at a time (default: 2)
 *   --filter PATTERN    only instances whose "category/check__kind" matches (fnmatch(3), with
 *                       extended patterns where the C library has them)
 *   --list              print the instances and exit
 *   --timeout=S         seconds before an instance is killed (default SS_TIMEOUT)
 *   -q, --verbose       quiet (default) or one line per instance, with its seconds
 * plus sockspec's options (runner.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "runner.h"

/* Extended patterns ("@(a|b)", glibc) let ci/deviations name its subset in one filter. */
#ifdef FNM_EXTMATCH
#define FILTER_FLAGS FNM_EXTMATCH
#else
#define FILTER_FLAGS 0
#endif

static int instance_failed;

void runner_fail(const char *msg)
{
    fprintf(stderr, "  %s\n", msg);
    instance_failed = 1;
}

struct opts {
    int jobs, list, verbose;
    double timeout;
    const char *filter;
};

/* A whole positive number no larger than max, or -1 with a message. */
static int number_arg(const char *s, double max, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || v > max) {
        fprintf(stderr, "sockspec-conformance-plain: not a number in (0, %g]: %s\n", max, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int jobs_arg(const char *s, int *jobs)
{
    double v;
    if (number_arg(s, 1024, &v) < 0)
        return -1;
    *jobs = (int)v;
    return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){2, 0, 0, SS_TIMEOUT, NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int bad = 0;
        if ((strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) && i + 1 < argc)
            bad = jobs_arg(argv[++i], &o->jobs);
        else if (strncmp(a, "-j", 2) == 0 && a[2])
            bad = jobs_arg(a + 2, &o->jobs);
        else if (strncmp(a, "--jobs=", 7) == 0)
            bad = jobs_arg(a + 7, &o->jobs);
        else if (strncmp(a, "--filter=", 9) == 0)
            o->filter = a + 9;
        else if (strcmp(a, "--filter") == 0 && i + 1 < argc)
            o->filter = argv[++i];
        else if (strncmp(a, "--timeout=", 10) == 0)
            bad = number_arg(a + 10, 3600, &o->timeout);
        else if (strcmp(a, "--list") == 0)
            o->list = 1;
        else if (strcmp(a, "--verbose") == 0)
            o->verbose = 1;
        else if (strcmp(a, "-q") != 0 && strcmp(a, "--quiet") != 0) {
            fprintf(stderr, "sockspec-conformance-plain: unknown option %s\n", a);
            return -1;
        }
        if (bad)
            return -1;
    }
    return 0;
}

/* "category/check__kind", the name Criterion gives the same instance. */
static void test_name(const struct instance *in, char *buf, size_t n)
{
    const char *id = in->check->id, *dot = strchr(id, '.');
    snprintf(buf, n, "%.*s/%s__%s", (int)(dot - id), id, dot + 1, in->kind->name);
}

struct slot {
    pid_t pid;
    int fd; /* read end of a pipe the child holds open until it exits */
    double deadline;
    const struct instance *in;
};

/* In an instance's process: the end the runner waits on moves to the highest descriptor the
 * limit allows and every other descriptor above stderr closes, so that the low slots are free
 * as checks that count descriptors expect (Criterion's own descriptors sit high too). */
static void keep_only_status_fd(int fd)
{
    struct rlimit rl;
    int top = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)top)
        top = (int)rl.rlim_cur;
    int high = fcntl(fd, F_DUPFD, top - 1);
    if (high < 0)
        high = fd;
    for (int i = 3; i < top; i++)
        if (i != high)
            close(i);
}

static void start(struct slot *s, const struct instance *in, double timeout)
{
    int p[2];
    if (pipe(p) < 0) {
        perror("sockspec-conformance-plain: pipe");
        exit(2);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("sockspec-conformance-plain: fork");
        exit(2);
    }
    if (pid == 0) {
        keep_only_status_fd(p[1]);
        harness_run(in->check, in->kind);
        exit(instance_failed ? 1 : 0);
    }
    close(p[1]);
    *s = (struct slot){pid, p[0], runner_now() + timeout, in};
}

static const char *status_of(int st, int timed_out)
{
    if (timed_out)
        return "timeout";
    if (WIFSIGNALED(st))
        return "crash";
    return WEXITSTATUS(st) == 0 ? "pass" : "fail";
}

static const char *signal_name(int sig)
{
    static char other[32];
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGABRT:
        return "SIGABRT";
    case SIGILL:
        return "SIGILL";
    case SIGFPE:
        return "SIGFPE";
    case SIGKILL:
        return "SIGKILL";
    case SIGPIPE:
        return "SIGPIPE";
    default:
        snprintf(other, sizeof other, "signal %d", sig);
        return other;
    }
}

static void finish(struct slot *s, struct results *r, int timed_out, double timeout, int verbose)
{
    int st = 0;
    char name[256];
    if (timed_out)
        kill(s->pid, SIGKILL);
    while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
        ;
    close(s->fd);
    test_name(s->in, name, sizeof name);
    const char *status = status_of(st, timed_out);
    if (strcmp(status, "crash") == 0 || strcmp(status, "timeout") == 0) {
        char what[64];
        if (timed_out)
            snprintf(what, sizeof what, "killed after %.0f s", timeout);
        else
            snprintf(what, sizeof what, "crashed: %s", signal_name(WTERMSIG(st)));
        if (harness_record_death(s->in->check, s->in->kind, what))
            status = "pass"; /* a known deviation of this platform */
    }
    if (verbose || strcmp(status, "pass") != 0)
        fprintf(stderr, "[%s] %s (%.2f s)\n", status, name, runner_now() - (s->deadline - timeout));
    char *slash = strchr(name, '/');
    *slash = '\0';
    results_add(r, name, slash + 1, status);
    s->pid = 0;
}

/* Runs the selected instances, jobs at a time; 0 if every one passed. */
static int run_all(const struct instance **sel, size_t n, const struct opts *o, struct results *r)
{
    struct slot *slots = calloc((size_t)o->jobs, sizeof *slots);
    struct pollfd *pfd = calloc((size_t)o->jobs, sizeof *pfd);
    size_t next = 0, running = 0;
    if (!slots || !pfd) {
        perror("sockspec-conformance-plain");
        exit(2);
    }
    while (next < n || running > 0) {
        for (int i = 0; i < o->jobs && next < n; i++)
            if (slots[i].pid == 0) {
                start(&slots[i], sel[next++], o->timeout);
                running++;
            }
        double now = runner_now(), soonest = now + 60;
        for (int i = 0; i < o->jobs; i++) {
            pfd[i] = (struct pollfd){slots[i].pid ? slots[i].fd : -1, POLLIN, 0};
            if (slots[i].pid && slots[i].deadline < soonest)
                soonest = slots[i].deadline;
        }
        int wait_ms = soonest > now ? (int)((soonest - now) * 1000) + 1 : 0;
        if (poll(pfd, (nfds_t)o->jobs, wait_ms) < 0 && errno != EINTR) {
            perror("sockspec-conformance-plain: poll");
            exit(2);
        }
        now = runner_now();
        for (int i = 0; i < o->jobs; i++) {
            if (!slots[i].pid)
                continue;
            int ended = (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
            if (ended || now >= slots[i].deadline) {
                finish(&slots[i], r, !ended, o->timeout, o->verbose);
                running--;
            }
        }
    }
    free(slots);
    free(pfd);
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->v[i].status, "pass") != 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    struct run_options ro;
    struct opts o;
    runner_take_options(&argc, argv, &ro);
    if (parse(argc, argv, &o) < 0)
        return 2;
    int special = runner_special(&ro);
    if (special >= 0)
        return special;

    size_t n, nsel = 0;
    const struct instance *all = registry_list(&n);
    /* an array of pointers, not of instances */
    const struct instance **sel = calloc(n + 1, sizeof *sel); // NOLINT(bugprone-sizeof-expression)
    char name[256];
    if (!sel)
        return 2;
    for (size_t i = 0; i < n; i++) {
        test_name(&all[i], name, sizeof name);
        if (!o.filter || fnmatch(o.filter, name, FILTER_FLAGS) == 0)
            sel[nsel++] = &all[i];
    }
    if (o.list) {
        for (size_t i = 0; i < nsel; i++) {
            test_name(sel[i], name, sizeof name);
            printf("%s\n", name);
        }
        free(sel);
        return 0;
    }
    const char *obs = runner_obs_begin();
    if (!obs) {
        free(sel);
        return 2;
    }
    struct results r = {.runner = "plain"};
    double t0 = runner_now();
    int rc = run_all(sel, nsel, &o, &r);
    free(sel);
    return runner_finish(&r, runner_now() - t0, &ro, rc, obs);
}
