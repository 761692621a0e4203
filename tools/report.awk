# Renders REPORT.md from the expectations table, the results files and the fuzz and bench
# summaries; ci/report passes the files and writes the output.
#   awk -f tools/report.awk conformance/expectations/*.tsv results/conformance-*.tsv \
#       [results/fuzz-summary.tsv] [results/fuzz-planted.tsv] [results/bench-summary.tsv]
# A file's role comes from its name. Output depends only on the input files: no clock, and every
# listing is sorted (run under LC_ALL=C so that string order is byte order).
BEGIN {
    FS = "\t"
    nexp = 0; ndoc = 0; ncol = 0; nchk = 0; status = 0
    X = "\034"
}

FNR == 1 {
    role = role_of(FILENAME)
    header = ""
    if (role == "results") {
        col = ++ncol
        colfile[col] = FILENAME
    }
}

role == "expect" { read_expect(); next }
role == "results" { read_result(); next }
role == "fuzz" || role == "planted" || role == "bench" { read_summary(role); next }

END {
    sort_strings(chk, nchk)
    doc_only_columns()
    classify()
    print_header()
    print_matrix()
    print_claims()
    print_failures()
    print_statements()
    print_summary("fuzz", "Fuzzing", "fuzz-summary.tsv")
    print_summary("planted", "Fuzzing: time to find planted bugs", "fuzz-planted.tsv")
    print_summary("bench", "Benchmarks", "bench-summary.tsv")
    exit status
}

function role_of(path) {
    if (path ~ /(^|\/)expectations\/[^\/]*\.tsv$/) return "expect"
    if (path ~ /(^|\/)conformance-[^\/]*\.tsv$/) return "results"
    if (path ~ /(^|\/)fuzz-summary\.tsv$/) return "fuzz"
    if (path ~ /(^|\/)fuzz-planted\.tsv$/) return "planted"
    if (path ~ /(^|\/)bench-summary\.tsv$/) return "bench"
    printf "report.awk: %s: not an input this report knows\n", path > "/dev/stderr"
    status = 2
    return "ignore"
}

function add_check(id) {
    if (!(id in known)) { known[id] = 1; chk[++nchk] = id }
}

# Expectations: "#" comment lines, a header row naming the columns, then one row per check.
# The OS columns are the ones between statement and source, in the header's order.
function read_expect(    i, id) {
    if ($0 ~ /^#/ || $0 == "") return
    if (header == "") {
        header = $0
        for (i = 1; i <= NF; i++) ecol[$i] = i
        if (!("id" in ecol) || !("statement" in ecol) || !("source" in ecol)) {
            printf "report.awk: %s: no id/statement/source header\n", FILENAME > "/dev/stderr"
            status = 2
        }
        for (i = ecol["statement"] + 1; i < ecol["source"]; i++)
            if (!($i in isdocos)) { isdocos[$i] = 1; docos[++ndoc] = $i }
        for (i = ecol["statement"] + 1; i < ecol["source"]; i++) ecolos[i] = $i
        efirst = ecol["statement"] + 1; elast = ecol["source"] - 1
        return
    }
    id = $(ecol["id"])
    add_check(id)
    statement[id] = $(ecol["statement"])
    source[id] = $(ecol["source"])
    for (i = efirst; i <= elast; i++) doc[id, ecolos[i]] = $i
}

# Results (conformance/results.h): "# key<TAB>value" lines, a header row, one row per instance.
function read_result(    key, id, obs, k) {
    if ($0 ~ /^# /) {
        key = substr($1, 3)
        meta[col, key] = $2
        return
    }
    if (header == "") {
        header = $0
        if ($0 != "instance\tcheck\tkind\tstatus\tverdict\tobserved\texpected") {
            printf "report.awk: %s: not a results file (header row)\n", FILENAME > "/dev/stderr"
            status = 2
        }
        return
    }
    if (NF != 7) {
        printf "report.awk: %s:%d: %d fields, want 7\n", FILENAME, FNR, NF > "/dev/stderr"
        status = 2
        return
    }
    id = $2; obs = $6
    add_check(id)
    k = col X id
    n[k]++
    ninst[col]++
    if ($4 == "skip") { skipped[k]++; return }
    if (($4 != "pass") || ($5 == "FAIL")) {
        failed[k]++
        nfail[col]++
        failrow[col, ++nfailrow[col]] = $1 X $4 X $6 X $7
    }
    if (obs ~ /^holds/) claimholds[k]++
    else if (obs ~ /^fails/) claimfails[k]++
    if (!((k, obs) in seenobs)) {
        seenobs[k, obs] = 1
        nobs[k]++
        obsval[k, nobs[k]] = obs
    }
}

# Fuzz and bench summaries: optional "# key<TAB>value" lines, a header row, rows (file order).
function read_summary(r,    i) {
    if ($0 ~ /^# /) {
        smeta[r, ++nsmeta[r]] = substr($1, 3) X $2
        return
    }
    if ($0 == "") return
    if (header == "") {
        header = $0
        sfile[r] = FILENAME
        scols[r] = NF
        for (i = 1; i <= NF; i++) scell[r, 0, i] = $i
        return
    }
    nsrow[r]++
    for (i = 1; i <= scols[r]; i++) scell[r, nsrow[r], i] = $i
}

# Documented OSes without any results file get a documented-only column.
function doc_only_columns(    i, c) {
    for (c = 1; c <= ncol; c++) observed_os[meta[c, "os"]] = 1
    ndonly = 0
    for (i = 1; i <= ndoc; i++)
        if (!(docos[i] in observed_os)) donly[++ndonly] = docos[i]
}

function cell_summary(c, id,    k, i, m, vals, s) {
    k = c X id
    if (!(k in n)) return ""
    m = 0
    for (i = 1; i <= nobs[k]; i++)
        if (obsval[k, i] != "-") vals[++m] = obsval[k, i]
    sort_strings(vals, m)
    s = ""
    for (i = 1; i <= m; i++) s = s (i > 1 ? X : "") vals[i]
    return s
}

# A row differs when two OSes document different values or when two runs observed different
# value sets.
function classify(    i, j, id, first, v, s, c, ref, differs) {
    ndiff = 0; nsame = 0
    for (i = 1; i <= nchk; i++) {
        id = chk[i]
        differs = 0
        first = 1
        for (j = 1; j <= ndoc; j++) {
            v = ((id, docos[j]) in doc) ? doc[id, docos[j]] : "?"
            # "?" (not documented) and "*" (left open) state no value to differ from.
            if (v == "?" || v == "*") continue
            if (first) { ref = v; first = 0 } else if (v != ref) differs = 1
        }
        first = 1
        for (c = 1; c <= ncol; c++) {
            if (!((c X id) in n)) continue
            s = cell_summary(c, id)
            if (first) { ref = s; first = 0 } else if (s != ref) differs = 1
        }
        if (differs) diffchk[++ndiff] = id
        else samechk[++nsame] = id
    }
}

function col_label(c,    r) {
    r = meta[c, "release"]
    if (match(r, /^[0-9]+(\.[0-9]+)?/)) r = substr(r, RSTART, RLENGTH)
    return meta[c, "os"] " " r " " meta[c, "arch"]
}

function print_header(    c, i, list) {
    print "# sockspec conformance report"
    print ""
    print "Generated by `ci/report` (`tools/report.awk`) from `results/` and"
    print "`conformance/expectations/`. Do not edit by hand: run `ci/report`."
    print ""
    print "## Where each column comes from"
    print ""
    if (ncol == 0) {
        print "No results file yet: every OS column below is documented, not observed."
    } else {
        print "Observed columns, one per results file:"
        print ""
        print "| Column | OS | Kernel release | Kernel version | Arch | Ran at (UTC) | Seconds | Instances | Failing | Results file |"
        print "|---|---|---|---|---|---|---|---|---|---|"
        for (c = 1; c <= ncol; c++)
            printf "| %s | %s | %s | %s | %s | %s | %s | %d | %d | `%s` |\n", md(col_label(c)),
                md(meta[c, "os"]), md(meta[c, "release"]), md(meta[c, "version"]),
                md(meta[c, "arch"]), md(meta[c, "date"]), md(meta[c, "seconds"]), ninst[c],
                nfail[c], colfile[c]
    }
    if (ndonly > 0) {
        list = ""
        for (i = 1; i <= ndonly; i++) list = list (i > 1 ? ", " : "") donly[i]
        print ""
        printf "Documented, not observed (no results file yet): %s. Their cells are the\n", list
        print "expectations table (`conformance/expectations/*.tsv`), not observations."
    }
    print ""
}

function matrix_head(    c, i, h, sep) {
    h = "| Check |"; sep = "|---|"
    for (c = 1; c <= ncol; c++) { h = h " " md(col_label(c)) " |"; sep = sep "---|" }
    for (i = 1; i <= ndonly; i++) {
        h = h " " md(donly[i]) " (documented, not observed) |"
        sep = sep "---|"
    }
    print h
    print sep
}

function matrix_row(id,    c, i, line) {
    line = "| [" code(id) "](#" anchor(id) ") |"
    for (c = 1; c <= ncol; c++) line = line " " observed_cell(c, id) " |"
    for (i = 1; i <= ndonly; i++) line = line " " doc_cell(id, donly[i]) " |"
    print line
}

function observed_cell(c, id,    k, s, m, i, vals, out) {
    k = c X id
    if (!(k in n)) return "not run yet"
    s = cell_summary(c, id)
    out = ""
    if (s != "") {
        m = split(s, vals, X)
        for (i = 1; i <= m; i++) out = out (i > 1 ? ", " : "") code(vals[i])
    } else if (skipped[k] < n[k]) {
        out = "no outcome recorded"
    }
    if (failed[k] > 0) out = out (out == "" ? "" : " ") "**✗ " failed[k] "/" n[k] " failing**"
    if (skipped[k] > 0) out = out (out == "" ? "" : " ") "(" skipped[k] "/" n[k] " skipped)"
    return out
}

function doc_cell(id, os) {
    if (!((id, os) in doc)) return "no row"
    return code(doc[id, os])
}

function print_matrix(    i) {
    print "## Conformance matrix"
    print ""
    print "One row per check; an observed cell lists the distinct outcomes its instances (one per"
    print "channel kind) recorded, with **✗ failing/instances** when some failed their check"
    print "(details under Failures). \"not run yet\": that run has no instance of the check."
    print "Documented-only columns show the expectations table's cell: a value, `A|B`, `>=N`,"
    print "`unsupported: ...`, `*` (left open) or `?` (not documented). Check ids link to their"
    print "statement and source."
    print ""
    printf "### Differences between OSes (%d checks)\n\n", ndiff
    print "Rows whose documented cells differ between OSes or whose observed outcomes differ"
    print "between runs."
    print ""
    if (ndiff == 0) print "None."
    else {
        matrix_head()
        for (i = 1; i <= ndiff; i++) matrix_row(diffchk[i])
    }
    print ""
    printf "### Same on every OS (%d checks)\n\n", nsame
    if (nsame == 0) print "None."
    else {
        matrix_head()
        for (i = 1; i <= nsame; i++) matrix_row(samechk[i])
    }
    print ""
}

# Claims checks record "holds", "holds: <detail>" or "fails: <why>" (conformance/checks/claims.c):
# the verdict comes from those outcomes, not from the judgement, since an OS can be documented
# as one where the claim fails. A failing judgement (outcome not as documented, crash, timeout)
# is marked beside the verdict.
function claim_verdict(c, id,    k, v, s, m, i, vals, why, detail) {
    k = c X id
    if (!(k in n)) return "not run yet"
    s = cell_summary(c, id)
    m = split(s, vals, X)
    why = ""; detail = ""
    for (i = 1; i <= m; i++) {
        if (vals[i] ~ /^fails/) why = why (why == "" ? "" : ", ") code(claim_detail(vals[i]))
        else if (vals[i] != "holds") detail = detail (detail == "" ? "" : ", ") code(claim_detail(vals[i]))
    }
    if (claimfails[k] > 0 && claimholds[k] > 0)
        v = "does not hold for " claimfails[k] " of " n[k] " instances: " why
    else if (claimfails[k] > 0)
        v = "does not hold: " why
    else if (claimholds[k] > 0)
        v = "holds" (detail == "" ? "" : " (" detail ")")
    else if (skipped[k] == n[k])
        v = "not run yet (skipped)"
    else
        v = "no verdict" (m > 0 ? " (observed " obs_list(c, id) ")" : "")
    if (failed[k] > 0) v = v " **✗ " failed[k] "/" n[k] " failing**"
    return v
}

# "fails: why" -> "why"; "holds: detail" -> "detail".
function claim_detail(s) {
    sub(/^(holds|fails):[ ]*/, "", s)
    return s
}

function obs_list(c, id,    s, m, i, vals, out) {
    s = cell_summary(c, id)
    m = split(s, vals, X)
    out = ""
    for (i = 1; i <= m; i++) out = out (i > 1 ? ", " : "") code(vals[i])
    return out
}

function print_claims(    i, c, j, id, line, m) {
    print "## Claims about sockets vs pipes"
    print ""
    m = 0
    for (i = 1; i <= nchk; i++) if (chk[i] ~ /^claims\./) m++
    if (m == 0) {
        print "No `claims.*` check in the expectations table or the results yet."
        print ""
        return
    }
    print "Verdict per run, from the outcomes the claims checks recorded: holds, does not hold,"
    print "or not run yet. **✗** marks instances whose outcome differs from the documented one (or"
    print "that crashed). OSes without a results file are not run yet; their documented outcome is"
    print "shown for reference, not as an observation."
    print ""
    line = "| Claim | Statement |"
    for (c = 1; c <= ncol; c++) line = line " " md(col_label(c)) " |"
    for (j = 1; j <= ndonly; j++) line = line " " md(donly[j]) " |"
    print line
    line = "|---|---|"
    for (c = 1; c <= ncol + ndonly; c++) line = line "---|"
    print line
    for (i = 1; i <= nchk; i++) {
        id = chk[i]
        if (id !~ /^claims\./) continue
        line = "| [" code(id) "](#" anchor(id) ") | " md(statement[id]) " |"
        for (c = 1; c <= ncol; c++) line = line " " claim_verdict(c, id) " |"
        for (j = 1; j <= ndonly; j++)
            line = line " not run yet (documented " doc_cell(id, donly[j]) ") |"
        print line
    }
    print ""
}

function print_failures(    c, i, f, total) {
    print "## Failures"
    print ""
    total = 0
    for (c = 1; c <= ncol; c++) total += nfailrow[c]
    if (total == 0) {
        print (ncol == 0 ? "No run yet." : "No instance failed in any run.")
        print ""
        return
    }
    for (c = 1; c <= ncol; c++) {
        if (nfailrow[c] == 0) continue
        printf "### %s (%d failing)\n\n", md(col_label(c)), nfailrow[c]
        print "| Instance | Status | Observed | Expected |"
        print "|---|---|---|---|"
        for (i = 1; i <= nfailrow[c]; i++) {
            split(failrow[c, i], f, X)
            printf "| %s | %s | %s | %s |\n", code(f[1]), md(f[2]), code(f[3]), code(f[4])
        }
        print ""
    }
}

function print_statements(    i, id) {
    print "## Checks: statements and sources"
    print ""
    print "| Check | Statement | Source |"
    print "|---|---|---|"
    for (i = 1; i <= nchk; i++) {
        id = chk[i]
        if (id in statement)
            printf "| <a name=\"%s\"></a>%s | %s | %s |\n", anchor(id), code(id),
                md(statement[id]), md(source[id])
        else
            printf "| <a name=\"%s\"></a>%s | (no row in the expectations table) | |\n",
                anchor(id), code(id)
    }
    print ""
}

function print_summary(r, title, name,    i, j, line, kv) {
    printf "## %s\n\n", title
    if (!(r in scols)) {
        printf "No `results/%s` yet.\n\n", name
        return
    }
    printf "From `%s`.\n\n", sfile[r]
    if (r == "fuzz")
        print "Columns: `execs_per_s` per wall-clock second of the run (per CPU second in `libfuzzer-bench` rows); `coverage` in edges (libFuzzer `cov:`, AFL++ `edges_found`); `corpus_files` the inputs the run added to `corpus/<target>` after minimising; `ratio` the bench row's exec/s over its baseline's, measured in the same run.\n"
    for (i = 1; i <= nsmeta[r]; i++) {
        split(smeta[r, i], kv, X)
        printf "- %s: %s\n", md(kv[1]), md(kv[2])
    }
    if (nsmeta[r] > 0) print ""
    line = "|"
    for (j = 1; j <= scols[r]; j++) line = line " " md(scell[r, 0, j]) " |"
    print line
    line = "|"
    for (j = 1; j <= scols[r]; j++) line = line "---|"
    print line
    for (i = 1; i <= nsrow[r]; i++) {
        line = "|"
        for (j = 1; j <= scols[r]; j++) line = line " " summary_cell(r, i, j) " |"
        print line
    }
    print ""
}

# A fuzz target that found crashes is the one line a reader must not miss.
function summary_cell(r, i, j,    v) {
    v = md(scell[r, i, j])
    if (r == "fuzz" && scell[r, 0, j] == "crashes" && scell[r, i, j] + 0 > 0) v = "**" v "**"
    return v
}

# Markdown text: escape what would start markup or end a table cell.
function md(s) {
    gsub(/\\/, "\\\\", s)
    gsub(/\|/, "\\|", s)
    gsub(/\*/, "\\*", s)
    gsub(/_/, "\\_", s)
    gsub(/`/, "\\`", s)
    gsub(/\[/, "\\[", s)
    gsub(/\]/, "\\]", s)
    gsub(/</, "\\&lt;", s)
    return s
}

# A literal value as a code span; in a table "|" still needs its backslash.
function code(s) {
    if (s == "") return "(empty)"
    gsub(/\|/, "\\|", s)
    if (index(s, "`")) return "`` " s " ``"
    return "`" s "`"
}

function anchor(id) {
    gsub(/[^A-Za-z0-9_.-]/, "-", id)
    return "check-" id
}

# Insertion sort of a[1..m] in byte order (LC_ALL=C); rows are few, inputs mostly sorted.
function sort_strings(a, m,    i, j, v) {
    for (i = 2; i <= m; i++) {
        v = a[i]
        for (j = i - 1; j >= 1 && (a[j] "") > (v ""); j--) a[j + 1] = a[j]
        a[j + 1] = v
    }
}
