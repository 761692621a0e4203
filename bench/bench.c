/* sockspec-bench: frame against the IPC a user would otherwise pick, side by side in one run.
 * Each configuration runs several times; within a repetition every other run is the baseline
 * (A B A C A D ... A), so a drift in machine speed hits all of them. Figures are medians over the
 * repetitions, ratios are to the baseline runs around each run. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "series.h"

static const size_t tp_payloads[] = {16, 64, 256, 4096, 65536, 1048576};
static const size_t lat_payloads[] = {64, 4096};
static const size_t fd_payloads[] = {64};
static const size_t dec_payloads[] = {16, 64, 256, 4096};

#define MAX_JOBS 16
#define BIG_PAYLOAD 1048576

struct opts {
    int full, reps, timeout_s;
    double target_s; /* seconds per run in full mode */
    const char *tsv, *only, *benches;
    const char *notes[8]; /* KEY=VALUE lines for the summary header */
    int nnotes;
    size_t payload; /* 0: all */
};

struct ctx {
    struct opts o;
    int failures;
    char skipped[2048];
};

static const char *const kind_name[KIND_COUNT] = {"throughput", "latency", "fdpass"};

static int selected(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p != NULL && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return list == NULL;
}

static uint64_t quick_count(enum bench_kind kind, size_t payload)
{
    uint64_t n = (2u << 20) / payload;

    if (kind == KIND_LATENCY)
        return 200;
    return n < 16 ? 16 : n > 4000 ? 4000 : n;
}

static void note_skip(struct ctx *c, const struct job *job, const char *why)
{
    size_t used = strlen(c->skipped);

    snprintf(c->skipped + used, sizeof c->skipped - used, "%s%s %s %zu B (%s)", used ? "; " : "",
             kind_name[job->kind], job->t->name, job->payload, why);
    fprintf(stderr, "  skipped %s %s %zu B: %s\n", kind_name[job->kind], job->t->name, job->payload,
            why);
}

/* Runs once: 1 ok, 0 skipped (the link cannot carry the message), -1 failed. */
static int run(struct ctx *c, const struct job *job, struct run_result *r)
{
    proc_run(job, c->o.timeout_s, r);
    if (r->ok)
        return 1;
    if (strstr(r->err, strerror(EMSGSIZE)) != NULL && strncmp(r->err, "prepare", 7) == 0) {
        note_skip(c, job, r->err);
        return 0;
    }
    fprintf(stderr, "FAIL %s %s %zu B: %s\n", kind_name[job->kind], job->t->name, job->payload,
            r->err);
    c->failures++;
    return -1;
}

/* Full mode: grows the count until a run takes long enough to time, then scales it. */
static int calibrate(struct ctx *c, struct job *job)
{
    struct run_result r;
    int st;

    job->count = quick_count(job->kind, job->payload);
    if (!c->o.full)
        return run(c, job, &r);
    for (;;) {
        if ((st = run(c, job, &r)) != 1)
            return st;
        if (r.seconds >= 0.05 || job->count >= 1u << 30)
            break;
        job->count *= 8;
    }
    job->count = (uint64_t)((double)job->count * c->o.target_s / r.seconds) + 1;
    return 1;
}

/* The figures one run yields, in a fixed order for its kind and payload. */
struct figure {
    const char *bench, *metric;
    double v;
};

static size_t figures(const struct job *job, const struct run_result *r, struct figure *f)
{
    double msgs = (double)job->count / r->seconds;
    size_t n = 0;

    if (job->kind == KIND_LATENCY) {
        f[n++] = (struct figure){"latency", "rtt_p50_us", r->rtt_p50_ns / 1e3};
        f[n++] = (struct figure){"latency", "rtt_p99_us", r->rtt_p99_ns / 1e3};
        return n;
    }
    f[n++] = (struct figure){kind_name[job->kind], "msgs_per_s", msgs};
    if (job->kind != KIND_THROUGHPUT)
        return n;
    f[n++] = (struct figure){"throughput", "MB_per_s", msgs * (double)job->payload / 1e6};
    if (job->payload == BIG_PAYLOAD) {
        f[n++] = (struct figure){"memory", "maxrss_sender_KiB", (double)r->rss_tx_kib};
        f[n++] = (struct figure){"memory", "maxrss_receiver_KiB", (double)r->rss_rx_kib};
    }
    return n;
}

/* Records a run; with the baseline runs just before and after it, also its ratio to their mean. */
static void record(const struct job *job, const struct run_result *r, const struct job *base,
                   const struct run_result *before, const struct run_result *after)
{
    struct figure f[4], b1[4], b2[4];
    size_t n = figures(job, r, f);
    int paired = base != NULL && before != NULL && after != NULL;

    if (paired) {
        (void)figures(base, before, b1);
        (void)figures(base, after, b2);
    }
    for (size_t i = 0; i < n; i++) {
        series_add(f[i].bench, job->t->name, job->payload, f[i].metric, f[i].v);
        if (paired && b1[i].v + b2[i].v > 0)
            series_add_ratio(f[i].bench, job->t->name, job->payload, f[i].metric,
                             f[i].v / ((b1[i].v + b2[i].v) / 2));
    }
}

static unsigned cap_of(enum bench_kind kind)
{
    return kind == KIND_THROUGHPUT ? TCAP_THROUGHPUT
           : kind == KIND_LATENCY  ? TCAP_LATENCY
                                   : TCAP_FDS;
}

/* Without the baseline: each repetition starts one transport later, so none always runs
 * first; ratios pair the runs of one repetition. */
static void rotated_reps(struct ctx *c, struct job *jobs, size_t n)
{
    for (int rep = 0; rep < c->o.reps; rep++) {
        for (size_t i = 0; i < n; i++) {
            struct job *j = &jobs[(i + (size_t)rep) % n];
            struct run_result r;
            if (run(c, j, &r) == 1)
                record(j, &r, NULL, NULL, NULL);
        }
        fprintf(stderr, " %d", rep + 1);
    }
}

/* With the baseline jobs[0]: every other run is the baseline (A B A C A D ... A), so each
 * transport's ratio is to the mean of the baseline runs right before and after it, and a
 * drift in machine speed cancels out. The others rotate from one repetition to the next. */
static void bracketed_reps(struct ctx *c, struct job *jobs, size_t n)
{
    for (int rep = 0; rep < c->o.reps; rep++) {
        struct run_result before, after, r;
        if (run(c, &jobs[0], &before) != 1)
            return;
        record(&jobs[0], &before, NULL, NULL, NULL);
        for (size_t i = 0; i + 1 < n; i++) {
            struct job *j = &jobs[1 + (i + (size_t)rep) % (n - 1)];
            int ok = run(c, j, &r) == 1;
            if (run(c, &jobs[0], &after) != 1)
                return;
            record(&jobs[0], &after, NULL, NULL, NULL);
            if (ok)
                record(j, &r, &jobs[0], &before, &after);
            before = after;
        }
        fprintf(stderr, " %d", rep + 1);
    }
}

/* One (benchmark, payload): every transport, then the repetitions interleaved. */
static void phase(struct ctx *c, enum bench_kind kind, size_t payload)
{
    struct job jobs[MAX_JOBS];
    size_t n = 0;

    fprintf(stderr, "%s %zu B:", kind_name[kind], payload);
    for (size_t i = 0; bench_transports[i] != NULL && n < MAX_JOBS; i++) {
        const struct transport *t = bench_transports[i];
        struct job *j = &jobs[n];
        if (!(t->caps & cap_of(kind)) || !selected(c->o.only, t->name))
            continue;
        memset(j, 0, sizeof *j);
        j->t = t;
        j->kind = kind;
        j->payload = payload;
        j->warmup = kind == KIND_LATENCY ? (c->o.full ? 1000 : 20) : 0;
        if (calibrate(c, j) == 1)
            n++;
    }
    if (n > 0 && strcmp(jobs[0].t->name, series_baseline("throughput")) == 0)
        bracketed_reps(c, jobs, n);
    else
        rotated_reps(c, jobs, n);
    fprintf(stderr, "\n");
}

static void decode_phase(struct ctx *c, size_t payload)
{
    double target = c->o.full ? c->o.target_s : 0.01;

    fprintf(stderr, "decode %zu B:", payload);
    for (int rep = 0; rep < c->o.reps; rep++) {
        for (int k = 0; k < DECODE_MODES; k++) {
            enum decode_mode mode = (enum decode_mode)((k + rep) % DECODE_MODES); /* rotate */
            const char *name = decode_mode_name[mode];
            struct decode_result r;
            decode_run(mode, payload, target, &r);
            if (!r.ok) {
                fprintf(stderr, "FAIL decode %s %zu B: %s\n", name, payload, r.err);
                c->failures++;
                continue;
            }
            series_add("decode", name, payload, "frames_per_s", r.frames_per_s);
            series_add("decode", name, payload, "MB_per_s", r.mb_per_s);
        }
        fprintf(stderr, " %d", rep + 1);
    }
    fprintf(stderr, "\n");
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void run_payloads(struct ctx *c, enum bench_kind kind, const size_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (c->o.payload == 0 || c->o.payload == p[i])
            phase(c, kind, p[i]);
}

static void run_all(struct ctx *c)
{
    if (selected(c->o.benches, "throughput"))
        run_payloads(c, KIND_THROUGHPUT, tp_payloads, NELEM(tp_payloads));
    if (selected(c->o.benches, "latency"))
        run_payloads(c, KIND_LATENCY, lat_payloads, NELEM(lat_payloads));
    if (selected(c->o.benches, "fdpass"))
        run_payloads(c, KIND_FDPASS, fd_payloads, NELEM(fd_payloads));
    for (size_t i = 0; i < NELEM(dec_payloads) && selected(c->o.benches, "decode"); i++)
        if (c->o.payload == 0 || c->o.payload == dec_payloads[i])
            decode_phase(c, dec_payloads[i]);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: sockspec-bench [--quick | --full] [--reps N] [--seconds S] [--tsv FILE]\n"
            "                      [--only T1,T2] [--bench throughput,latency,fdpass,decode]\n"
            "                      [--payload BYTES] [--note KEY=VALUE]...\n"
            "  --quick   every configuration once or twice with tiny counts: checks delivery\n"
            "  --full    calibrated runs of about --seconds (0.3) each, --reps (7) times\n");
    exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->reps = 0;
    o->target_s = 0.3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0)
            o->full = 0;
        else if (strcmp(a, "--full") == 0)
            o->full = 1;
        else if (v != NULL && strcmp(a, "--reps") == 0 && ++i)
            o->reps = (int)strtol(v, NULL, 10);
        else if (v != NULL && strcmp(a, "--seconds") == 0 && ++i)
            o->target_s = strtod(v, NULL);
        else if (v != NULL && strcmp(a, "--tsv") == 0 && ++i)
            o->tsv = v;
        else if (v != NULL && strcmp(a, "--only") == 0 && ++i)
            o->only = v;
        else if (v != NULL && strcmp(a, "--bench") == 0 && ++i)
            o->benches = v;
        else if (v != NULL && strcmp(a, "--note") == 0 && strchr(v, '=') && o->nnotes < 8 && ++i)
            o->notes[o->nnotes++] = v;
        else if (v != NULL && strcmp(a, "--payload") == 0 && ++i)
            o->payload = (size_t)strtoul(v, NULL, 10);
        else
            usage();
    }
    if (o->reps <= 0)
        o->reps = o->full ? 7 : 2;
    if (o->reps > SERIES_MAX_REPS)
        o->reps = SERIES_MAX_REPS;
    o->timeout_s = o->full ? 120 : 30;
}

int main(int argc, char **argv)
{
    struct ctx c;
    struct meta m;

    memset(&c, 0, sizeof c);
    parse(argc, argv, &c.o);
    (void)signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    run_all(&c);
    series_sort();
    report_table(stdout);
    if (c.o.full)
        report_targets(stdout);
    m.mode = c.o.full ? "full" : "quick";
    m.reps = c.o.reps;
    m.notes = c.o.notes;
    m.nnotes = c.o.nnotes;
    if (c.failures == 0 && c.o.tsv != NULL && report_tsv(c.o.tsv, &m, c.skipped) == -1) {
        fprintf(stderr, "%s: %s\n", c.o.tsv, strerror(errno));
        c.failures++;
    }
    if (c.failures > 0)
        fprintf(stderr, "%d failure(s): summary not written\n", c.failures);
    return c.failures > 0;
}
