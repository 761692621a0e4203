#!/usr/bin/env python3
"""Writes REPORT.md and report/ from the expectation cells, the catalogue, the results files and
the fuzz and bench summaries; ci/report runs it.

    tools/report.py [--check] [--root DIR] [--results DIR] [--out DIR]

  --root DIR     the repository (default: this file's parent's parent)
  --results DIR  where results files are (default: ROOT/results)
  --out DIR      where REPORT.md and report/ go (default: ROOT)
  --check        write nothing: regenerate into a scratch directory, fail if any output would
                 change, and fail on any contradiction in the data (exit 1)

Exit status: 0; 1 with --check for a stale output or a contradiction (without --check a
contradiction is printed and listed in REPORT.md, and the outputs are written); 2 for
unreadable input.

Python 3.6 or newer, standard library only. Output depends only on the input files: no clock,
and every listing is sorted, so that --check can compare bytes.
"""

import argparse
import collections
import difflib
import os
import re
import shutil
import sys
import tempfile

# ---------------------------------------------------------------------------------------------
# Reading TSV files


class InputError(Exception):
    """An input file the report cannot read (exit 2)."""


def tsv_rows(path, want=None):
    """Yields (line number, fields) for each data row: "#" lines, blank lines and the first
    remaining row (the header naming the columns) are skipped. Rows with fewer than want fields
    are an error."""
    header = True
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if line.startswith("#") or line == "":
                continue
            fields = line.split("\t")
            if header:
                header = False
                continue
            if want is not None and len(fields) < want:
                raise InputError("%s:%d: %d fields, want %d" % (path, number, len(fields), want))
            yield number, fields


def rel(root, path):
    return os.path.relpath(path, root).replace(os.sep, "/")


# ---------------------------------------------------------------------------------------------
# Platforms (conformance/platforms.tsv)

Platform = collections.namedtuple("Platform", "id name cls judged_as description order")


def load_platforms(path):
    platforms = collections.OrderedDict()
    for order, (_, f) in enumerate(tsv_rows(path, 6)):
        judged = f[0] if f[4] == "-" else f[4]
        platforms[f[0]] = Platform(f[0], f[1], f[2], judged, f[5], order)
    return platforms


# ---------------------------------------------------------------------------------------------
# The catalogue: checks (statement, kinds) and kinds (description, attributes)

Check = collections.namedtuple("Check", "id statement kinds")
Kind = collections.namedtuple("Kind", "name description attributes order")


def load_catalogue(path):
    checks = collections.OrderedDict()
    kinds = collections.OrderedDict()
    for number, f in tsv_rows(path, 4):
        if f[0] == "check":
            checks[f[1]] = Check(f[1], f[2], [k for k in f[3].split(",") if k])
        elif f[0] == "kind":
            kinds[f[1]] = Kind(f[1], f[2], frozenset(f[3].split()), len(kinds))
        else:
            raise InputError("%s:%d: record %r is neither check nor kind" % (path, number, f[0]))
    for c in checks.values():
        for k in c.kinds:
            if k not in kinds:
                raise InputError("%s: check %s runs on kind %s, which it does not describe"
                                 % (path, c.id, k))
    return checks, kinds


def category(check_id):
    return check_id.split(".", 1)[0]


# ---------------------------------------------------------------------------------------------
# Expectation cells and how one applies (the same rules as conformance/expect.c)

Cell = collections.namedtuple("Cell", "file line check kinds os versions value basis source note")


def load_cells(paths, root):
    cells = collections.defaultdict(list)  # (check, os) -> [Cell]
    for path in paths:
        for number, f in tsv_rows(path, 7):
            note = f[7] if len(f) > 7 else ""
            cell = Cell(rel(root, path), number, f[0], f[1], f[2], tuple(f[3].split(",")), f[4],
                        f[5], f[6], note)
            cells[(cell.check, cell.os)].append(cell)
    return cells


def version_key(v):
    """"15.0-RELEASE" -> (15, 0, 0, 0): up to four numbers, the rest 0 (expect.c version_parse)."""
    parts = []
    s = v
    for _ in range(4):
        m = re.match(r"\d+", s)
        if not m:
            parts.append(0)
            s = ""
            continue
        parts.append(int(m.group(0)))
        s = s[m.end():]
        s = s[1:] if s.startswith(".") else ""
    return tuple(parts)


def kinds_match(selector, kind):
    """(matches, specificity): "*" matches every kind; "a+b" the kinds with both attributes."""
    if selector == "*":
        return True, 0
    wanted = selector.split("+")
    return all(a in kind.attributes for a in wanted), len(wanted)


class Tie(Exception):
    pass


def pick_version(rows, running):
    """The newest listed version not above the running one, else the newest listed."""
    listed = sorted({v for r in rows for v in r.versions}, key=version_key)
    if not listed:
        return ""
    below = [v for v in listed if version_key(v) <= version_key(running)]
    return below[-1] if below else listed[-1]


def resolve(cells, check, kind, os_id, running):
    """The cell for check on kind on os at the running version, or None; Tie when two equally
    specific cells match."""
    rows = [r for r in cells.get((check, os_id), []) if kinds_match(r.kinds, kind)[0]]
    version = pick_version(rows, running)
    best, best_spec, tie = None, -1, None
    for r in rows:
        if version not in r.versions:
            continue
        spec = kinds_match(r.kinds, kind)[1]
        if spec > best_spec:
            best, best_spec, tie = r, spec, None
        elif spec == best_spec:
            tie = r
    if best is not None and tie is not None:
        raise Tie("%s on %s %s: cells %s (%s:%d) and %s (%s:%d) both match %s"
                  % (check, os_id, version, best.kinds, best.file, best.line, tie.kinds,
                     tie.file, tie.line, kind.name))
    if best is None:
        return None
    return best._replace(versions=(version,))


def alternatives(value):
    return value.split("|")


def alternative_matches(alt, observed):
    if alt.endswith("*"):
        return observed.startswith(alt[:-1])
    m = re.match(r"^(>=|>)(-?\d+)$", alt)
    if m:
        if not re.match(r"^-?\d+$", observed):
            return False
        want, got = int(m.group(2)), int(observed)
        return got >= want if m.group(1) == ">=" else got > want
    return alt == observed


def value_matches(value, observed):
    return any(alternative_matches(a, observed) for a in alternatives(value))


def is_pattern(alt):
    return alt.endswith("*") or alt.startswith(">")


def unsupported(value):
    return value.startswith("unsupported:")


def strip_bookkeeping(note):
    """A cell's note without its "CHANGED from <old value>[ (made exact)]:" prefix, which
    records how the cell was revised and says nothing about the OS."""
    if not note.startswith("CHANGED from "):
        return note
    rest = note[len("CHANGED from "):]
    keywords = ("unsupported", "fails", "holds", "setup fails", "setup-fails")
    start = 0
    while True:
        p = rest.find(": ", start)
        if p < 0:
            return ""
        old = re.sub(r" \((made exact|narrowed)\)$", "", rest[:p])
        last = old.split("|")[-1]
        if last not in keywords:
            return rest[p + 2:]
        start = p + 2


# ---------------------------------------------------------------------------------------------
# Results files (conformance/results.h)

RESULT_HEADER = ["instance", "check", "kind", "status", "verdict", "observed", "expected",
                 "against", "cause", "problems"]

Result = collections.namedtuple("Result", "file line instance check kind status verdict observed "
                                          "expected against cause problems")


class Run:
    def __init__(self, path, root):
        self.file = rel(root, path)
        self.meta = {}
        self.rows = []
        header = None
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if line.startswith("# "):
                    key, _, value = line[2:].partition("\t")
                    self.meta[key] = value
                    continue
                if line == "":
                    continue
                fields = line.split("\t")
                if header is None:
                    header = fields
                    if header != RESULT_HEADER:
                        raise InputError("%s:%d: not a results file (header row)" % (path, number))
                    continue
                if len(fields) != len(RESULT_HEADER):
                    raise InputError("%s:%d: %d fields, want %d"
                                     % (path, number, len(fields), len(RESULT_HEADER)))
                self.rows.append(Result(self.file, number, *fields))
        for key in ("platform", "platform_version"):
            if key not in self.meta:
                raise InputError("%s: no '# %s' line" % (path, key))
        self.by_instance = {(r.check, r.kind): r for r in self.rows}
        self.by_kind = collections.defaultdict(list)
        for r in self.rows:
            self.by_kind[r.kind].append(r)
        self.platform = self.meta["platform"]
        self.version = self.meta["platform_version"]
        self.resolver_agrees = 0  # instances whose cell is the one the run was judged against

    def failing(self):
        return [r for r in self.rows if row_failed(r)]


def row_failed(r):
    return r.status not in ("pass", "skip") or r.verdict == "FAIL"


Deviation = collections.namedtuple("Deviation", "file line platform check kinds observed cause")
Cause = collections.namedtuple("Cause", "file line platform cause summary reference fixed_in")


def load_known(root):
    dev_path = os.path.join(root, "conformance/known/deviations.tsv")
    cause_path = os.path.join(root, "conformance/known/causes.tsv")
    deviations = [Deviation(rel(root, dev_path), n, *f[:5]) for n, f in tsv_rows(dev_path, 5)]
    causes = collections.OrderedDict()
    for n, f in tsv_rows(cause_path, 4):
        f = f + [""] * (5 - len(f))
        causes[(f[0], f[1])] = Cause(rel(root, cause_path), n, *f[:5])
    return deviations, causes


# ---------------------------------------------------------------------------------------------
# Columns and the value of each (column, check, kind)


def short_version(v):
    m = re.match(r"^\d+(\.\d+)?", v)
    return m.group(0) if m else v


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


class Column:
    """One column of every table: a run (observed) or an OS version (derived from its cells)."""

    def __init__(self, platform, origin, version, run=None):
        self.platform = platform
        self.origin = origin  # "run" or "src"
        self.version = version  # src: the cells' version; run: the platform's running version
        self.run = run
        self.os = platform.judged_as
        if run is not None:
            self.id = slug(re.sub(r"^conformance-", "", os.path.basename(run.file)[:-4]))
            self.short = short_version(version)
        else:
            self.id = slug("%s-%s" % (platform.id, version))
            self.short = version
        self.label = "%s %s" % (platform.name, self.short)

    def is_implementation(self):
        return self.platform.cls == "implementation"

    def how(self):
        return "observed" if self.origin == "run" else "derived from source"

    def title(self):
        if self.origin == "run":
            return "%s (run)" % self.label
        return "%s (source)" % self.label


class Val:
    """What one column says about one check on one kind."""

    def __init__(self, value, origin, cell=None, rows=(), version=""):
        self.value = value
        self.origin = origin  # "run", "src" or "none" (an implementation's instance not run)
        self.cell = cell  # src: the cell that applies (None: no cell, "?")
        self.rows = list(rows)  # run: the results rows
        self.version = version  # src: the cells' version
        self.failed = any(row_failed(r) for r in self.rows)
        self.against = None  # the cell an observed value disagrees with, if the cells changed
        self.known_deviation = any(r.verdict == "known" for r in self.rows)
        self.cause = ",".join(sorted({r.cause for r in self.rows if r.cause not in ("", "-")}))

    def known(self):
        return self.origin != "none" and self.value not in ("?", "*", "-")


UNBUILT = re.compile(r"^unsupported: E[A-Z0-9]+$")


class Model:
    def __init__(self, root, results_dir):
        self.root = root
        self.errors = []  # contradictions and table errors: the report shows them, --check fails
        self.warnings = []
        self.dead = []  # cells that never apply: listed, not failing
        self.platforms = load_platforms(os.path.join(root, "conformance/platforms.tsv"))
        self.checks, self.kinds = load_catalogue(os.path.join(results_dir, "catalogue.tsv"))
        exp_dir = os.path.join(root, "conformance/expectations")
        self.expectation_files = sorted(os.path.join(exp_dir, n) for n in os.listdir(exp_dir)
                                        if n.endswith(".tsv"))
        self.cells = load_cells(self.expectation_files, root)
        self.deviations, self.causes = load_known(root)
        self.runs = []
        for name in sorted(os.listdir(results_dir)):
            if re.match(r"^conformance-.*\.tsv$", name):
                self.runs.append(Run(os.path.join(results_dir, name), root))
        self.results_dir = results_dir
        self._add_result_checks()
        self.columns = self._columns()
        self.reference = self._reference()
        self._vals = {}
        self._cells = {}
        used = {k for c in self.checks.values() for k in c.kinds}
        self.used_kinds = [k for k in self.kinds.values() if k.name in used]

    def _add_result_checks(self):
        for run in self.runs:
            if run.platform not in self.platforms:
                # like expect.c: a platform without a row is its own OS, with no cells
                m = run.meta
                self.platforms[run.platform] = Platform(
                    run.platform, m.get("platform_name", run.platform),
                    m.get("platform_class", "os"), m.get("judged_as", run.platform),
                    "not in conformance/platforms.tsv: no cells, every value observed",
                    len(self.platforms))
            for r in run.rows:
                if r.kind not in self.kinds:
                    raise InputError("%s:%d: kind %s is not in the catalogue"
                                     % (r.file, r.line, r.kind))
                if r.check not in self.checks:
                    self.checks[r.check] = Check(r.check, "(not in results/catalogue.tsv)", [])
                if r.kind not in self.checks[r.check].kinds:
                    self.checks[r.check].kinds.append(r.kind)

    def os_versions(self, os_id):
        return sorted({v for (check, o), rows in self.cells.items() if o == os_id
                       for r in rows for v in r.versions}, key=version_key)

    def _columns(self):
        # A run covers the cells' version of the OS it is judged as that its kernel release
        # selects (user-mode Linux 6.1 covers Linux's 6.1 cells): no "source" column for it.
        covered = collections.defaultdict(set)
        for run in self.runs:
            os_id = self.platforms[run.platform].judged_as
            listed = self.os_versions(os_id)
            release = run.meta.get("release", run.version)
            below = [v for v in listed if version_key(v) <= version_key(release)]
            if listed:
                covered[os_id].add(below[-1] if below else listed[-1])
        columns = [Column(self.platforms[r.platform], "run", r.version, r) for r in self.runs]
        for p in self.platforms.values():
            if p.cls == "os":
                columns += [Column(p, "src", v) for v in self.os_versions(p.id)
                            if v not in covered[p.id]]
        order = {p.id: p.order for p in self.platforms.values()}
        columns.sort(key=lambda c: (order[c.platform.id], version_key(c.version),
                                    c.origin, c.id))
        labels = collections.Counter(c.label for c in columns)
        for c in columns:
            if labels[c.label] > 1 and c.run is not None:
                c.label = "%s %s" % (c.label, c.run.meta.get("arch", c.id))
        return columns

    def _reference(self):
        linux = [c for c in self.columns if c.platform.id == "linux"]
        runs = [c for c in linux if c.origin == "run"]
        if runs:
            return runs[-1]
        if linux:
            return linux[-1]
        return self.columns[0] if self.columns else None

    def check_kinds(self, check_id):
        if check_id == "kind.builds":
            return self.used_kinds
        return [self.kinds[k] for k in self.checks[check_id].kinds]

    def statement(self, check_id):
        if check_id == "kind.builds":
            return "The channel kind can be built (every check on it runs)."
        return self.checks[check_id].statement

    def unbuilt(self, col, kind):
        """1 if the kind cannot be built in this column."""
        return unsupported(self.val(col, "kind.builds", kind).value)

    def derived(self, check_id, kind, os_id, version):
        """The cell that judges check on kind: kind.builds when the kind cannot be built there,
        else the check's own (conformance/harness.c judge)."""
        try:
            kb = resolve(self.cells, "kind.builds", kind, os_id, version)
        except Tie as e:
            self.error("expectations: %s" % e)
            kb = None
        if check_id == "kind.builds" or (kb is not None and unsupported(kb.value)):
            return kb
        try:
            return resolve(self.cells, check_id, kind, os_id, version)
        except Tie as e:
            self.error("expectations: %s" % e)
            return None

    def src_val(self, check_id, kind, os_id, version):
        cell = self.derived(check_id, kind, os_id, version)
        if cell is None:
            return Val("?", "src", None, version=version)
        return Val(cell.value, "src", cell, version=cell.versions[0])

    def val(self, col, check_id, kind):
        key = (col.id, check_id, kind.name)
        if key not in self._vals:
            self._vals[key] = self._val(col, check_id, kind)
        return self._vals[key]

    def _val(self, col, check_id, kind):
        if col.origin == "src":
            return self.src_val(check_id, kind, col.os, col.version)
        run = col.run
        v = None
        if check_id == "kind.builds":
            rows = run.by_kind.get(kind.name, [])
            if rows:
                outcomes = sorted({r.observed for r in rows})
                built = [o for o in outcomes if not UNBUILT.match(o)]
                value = "ok" if built else outcomes[0]
                shown = [r for r in rows if (r.observed in built) == bool(built)]
                v = Val(value, "run", rows=shown[:1])
                # the row is evidence that the kind was built, not a judgement of kind.builds
                v.failed = v.known_deviation = False
                v.cause = ""
        else:
            r = run.by_instance.get((check_id, kind.name))
            if r is not None:
                v = Val(r.observed, "run", rows=[r])
        if v is not None:
            self._judge(col, check_id, kind, v)
            return v
        if col.is_implementation():
            return Val("-", "none")
        return self.src_val(check_id, kind, col.os, col.version)

    def _judge(self, col, check_id, kind, v):
        """An observed value its cell (as the cells are now) does not admit reads as a known
        deviation if known/deviations.tsv lists it now, else as a failed run, whatever verdict
        the results file recorded."""
        if v.failed or v.value == "-":
            return
        cell = self.derived(check_id, kind, col.os, col.version)
        if cell is None or cell.value == "?" or value_matches(cell.value, v.value):
            return
        known = matching_deviation(self, col.run.platform, check_id, kind, v.value)
        if known is not None:
            v.known_deviation, v.cause = True, known.cause
            return
        v.failed, v.known_deviation, v.against = True, False, cell

    def os_name(self, os_id):
        return self.platforms[os_id].name if os_id in self.platforms else os_id

    def question_cell(self, col, qid, q):
        key = (col.id, qid)
        if key not in self._cells:
            self._cells[key] = QuestionCell(self, col, qid, q)
        return self._cells[key]

    def error(self, message):
        if message not in self.errors:
            self.errors.append(message)

    def dead_cell(self, message):
        if message not in self.dead:
            self.dead.append(message)


# ---------------------------------------------------------------------------------------------
# Comparing values and classifying a check on a column against the reference (Linux)


def compare(a, b):
    """same, differs or unknown: two values of one check on one kind."""
    if not a.known() or not b.known():
        return "unknown"
    if a.value == b.value:
        return "same"
    if unsupported(a.value) and unsupported(b.value):
        return "same"
    if unsupported(a.value) != unsupported(b.value):
        return "differs"
    xa, xb = alternatives(a.value), alternatives(b.value)
    plain = not any(is_pattern(x) for x in xa + xb)
    if len(xa) == 1 and len(xb) == 1 and plain:
        return "differs"
    if len(xa) == 1 and not is_pattern(xa[0]):
        return "unknown" if value_matches(b.value, xa[0]) else "differs"
    if len(xb) == 1 and not is_pattern(xb[0]):
        return "unknown" if value_matches(a.value, xb[0]) else "differs"
    if set(xa) & set(xb) or not plain:
        return "unknown"
    return "differs"


def kind_class(model, col, check_id, kind):
    """same, differs, unsupported or unknown: one check on one kind, against the reference."""
    v = model.val(col, check_id, kind)
    ref = model.reference
    if v.known() and unsupported(v.value):
        if col is ref or not unsupported(model.val(ref, check_id, kind).value):
            return "unsupported"
    if not v.known():
        return "unknown"
    if col is ref:
        return "same"
    return compare(v, model.val(ref, check_id, kind))


def behaviour_kinds(model, col, check_id):
    """The check's kinds that say something about the behaviour in this column: those that can
    be built there (a kind that cannot is one fact, told once by kind.builds)."""
    kinds = model.check_kinds(check_id)
    if check_id == "kind.builds":
        return kinds
    built = [k for k in kinds if not model.unbuilt(col, k)]
    return built


def check_class(model, col, check_id):
    """One colour for a check in a column: differs if some kind differs, else unsupported if
    some kind says unsupported, else unknown if some kind is unknown, else same."""
    kinds = behaviour_kinds(model, col, check_id)
    if not kinds:
        return "unsupported"
    classes = {kind_class(model, col, check_id, k) for k in kinds}
    for c in ("differs", "unsupported", "unknown"):
        if c in classes:
            return c
    return "same"


def matrix_class(model, check_id):
    """differs (two known values differ), same (every cell known and equal), partly (equal
    where known, unknown somewhere) or one (known on one OS only); kinds that cannot be built
    in a column are left out of that column."""
    known_platforms = set()
    every_known = True
    uncertain = False
    for k in model.check_kinds(check_id):
        # a kind that cannot be built in a column is told once, by kind.builds
        vals = [(c, model.val(c, check_id, k)) for c in model.columns
                if check_id == "kind.builds" or not model.unbuilt(c, k)]
        for c, v in vals:
            if v.known():
                known_platforms.add(c.platform.id)
            else:
                every_known = False
        for i, (_, a) in enumerate(vals):
            for _, b in vals[i + 1:]:
                r = compare(a, b)
                if r == "differs" or (r == "same" and a.value != b.value):
                    return "differs"  # the second: unsupported for different reasons
                if r == "unknown" and a.known() and b.known():
                    uncertain = True
    if len(known_platforms) <= 1:
        return "one"
    if every_known and not uncertain:
        return "same"
    return "partly"


# ---------------------------------------------------------------------------------------------
# Questions (tools/questions.tsv) and their answers

QRow = collections.namedtuple("QRow", "line id question show part check selector words")


def parse_words(text):
    words = []
    for item in text.split("|") if text else []:
        outcome, sep, word = item.rpartition("=")
        if not sep:
            raise InputError("tools/questions.tsv: %r is not outcome=word" % item)
        words.append((outcome, word))
    return words


def load_questions(path, model):
    questions = collections.OrderedDict()
    for n, f in tsv_rows(path, 6):
        f = f + [""] * (7 - len(f))
        row = QRow(n, f[0], f[1], f[2], f[3], f[4], f[5], parse_words(f[6]))
        if row.show not in ("word", "parts", "list"):
            raise InputError("%s:%d: show %r is not word, parts or list" % (path, n, row.show))
        if row.check != "kind.builds" and row.check not in model.checks:
            raise InputError("%s:%d: no check %s in the catalogue" % (path, n, row.check))
        if not [k for k in model.check_kinds(row.check) if kinds_match(row.selector, k)[0]]:
            raise InputError("%s:%d: %s runs on no kind %s" % (path, n, row.check, row.selector))
        q = questions.setdefault(row.id, {"question": row.question, "show": row.show,
                                          "parts": collections.OrderedDict()})
        q["parts"].setdefault(row.part, []).append(row)
    return questions


UNKNOWN_WORDS = ("unknown", "open", "not run", "no outcome")


def word_of(value, words):
    """How an outcome or a cell value reads in the answers table."""
    if value == "?":
        return "unknown"
    if value == "*":
        return "open"
    if value == "-":
        return "no outcome"
    out = []
    for alt in alternatives(value):
        w = None
        for outcome, word in words:
            if alternative_matches(outcome, alt):
                w = word
                break
        if w is None:
            w = "unsupported (%s)" % alt.split(":", 1)[1].strip() if unsupported(alt) else alt
        if w not in out:
            out.append(w)
    return " or ".join(out)


class Answer:
    """The answer of one check (a question's row) on one column."""

    def __init__(self, model, col, row):
        self.row = row
        self.items = []  # (kind, Val, word)
        for k in model.check_kinds(row.check):
            if kinds_match(row.selector, k)[0]:
                v = model.val(col, row.check, k)
                w = "not run" if v.origin == "none" else word_of(v.value, row.words)
                self.items.append((k, v, w))
        words = []
        for _, _, w in self.items:
            if w not in words:
                words.append(w)
        self.word = " / ".join(words)
        self.origins = sorted({v.origin for _, v, _ in self.items})
        self.failed = any(v.failed for _, v, _ in self.items)
        self.known_deviation = any(v.known_deviation for _, v, _ in self.items)
        self.versions = sorted({v.version for _, v, _ in self.items if v.origin == "src"},
                               key=version_key)

    def known(self):
        return all(w not in UNKNOWN_WORDS for w in self.word.split(" / "))


class PartAnswer:
    def __init__(self, model, col, qid, part, rows):
        self.part = part
        self.answers = [Answer(model, col, r) for r in rows]
        known = [a for a in self.answers if a.known()]
        self.primary = known[0] if known else self.answers[0]
        self.word = self.primary.word
        self.disagree = False
        for a in known[1:]:
            if a.word != self.primary.word:
                self.disagree = True
                model.error("question %s%s on %s: %s says %r, %s says %r" % (
                    qid, "" if part == "-" else " (%s)" % part, col.label, self.primary.row.check,
                    self.primary.word, a.row.check, a.word))


class QuestionCell:
    def __init__(self, model, col, qid, q):
        self.col = col
        self.qid = qid
        self.parts = [PartAnswer(model, col, qid, p, rows) for p, rows in q["parts"].items()]
        show = q["show"]
        if show == "word":
            self.text = self.parts[0].word
        elif show == "parts":
            words = {p.word for p in self.parts}
            if len(words) == 1:
                self.text = self.parts[0].word
            else:
                self.text = "; ".join("%s: %s" % (p.part, p.word) for p in self.parts)
        else:
            yes = [p.part for p in self.parts if p.word == "yes"]
            other = ["%s: %s" % (p.part, p.word) for p in self.parts if p.word not in ("yes", "no")]
            self.text = ", ".join(yes) if yes else "none"
            if other:
                self.text += " (%s)" % "; ".join(other)
        used = [p.primary for p in self.parts]
        origins = sorted({o for a in used for o in a.origins})
        versions = sorted({v for a in used for v in a.versions}, key=version_key)
        self.failed = any(a.failed for a in used)
        self.known_deviation = any(a.known_deviation for a in used)
        if origins == ["run"]:
            self.mark = "run"
        elif origins == ["src"]:
            self.mark = "src %s" % ",".join(versions)
        elif origins == ["none"]:
            self.mark = "no run"
        else:
            self.mark = "+".join("src %s" % ",".join(versions) if o == "src" else o
                                 for o in origins)
        if self.failed:
            self.mark = self.mark.replace("run", "run failed", 1)
        elif self.known_deviation:
            self.mark += ", known deviation"
        if any(p.disagree for p in self.parts):
            self.mark += ", checks disagree"


# ---------------------------------------------------------------------------------------------
# Contradictions: what --check recomputes independently of the rendering


def find_contradictions(model, questions):
    answering = {r.check for q in questions.values() for rows in q["parts"].values() for r in rows}
    unbuildable_cells(model, answering)
    observed_against_cells(model)
    for col in model.columns:
        for qid, q in questions.items():
            verify_cell(model, col, qid, q, model.question_cell(col, qid, q))


def unbuildable_cells(model, answering):
    """A cell that states a behaviour (not unsupported, ?, *) for kinds none of which can be
    built there contradicts the kind row (e.g. "holds" for SEQPACKET where it does not exist).
    For a claim (claims.*) or a check that answers a question it is a contradiction; for any
    other check the cell can never apply (kind.builds wins), and the report lists it."""
    for (check_id, os_id), rows in sorted(model.cells.items()):
        if check_id == "kind.builds" or check_id not in model.checks:
            continue
        for cell in rows:
            if unsupported(cell.value) or cell.value in ("?", "*"):
                continue
            for version in cell.versions:
                applies = []
                for k in model.check_kinds(check_id):
                    try:
                        won = resolve(model.cells, check_id, k, os_id, version)
                    except Tie:
                        continue
                    if won is not None and (won.file, won.line) == (cell.file, cell.line):
                        applies.append(k)
                if not applies:
                    continue
                builds = []
                for k in applies:
                    try:
                        builds.append(resolve(model.cells, "kind.builds", k, os_id, version))
                    except Tie:
                        builds.append(None)
                if all(b is not None and unsupported(b.value) for b in builds):
                    b = builds[0]
                    claim = check_id.startswith("claims.") or check_id in answering
                    report = model.error if claim else model.dead_cell
                    report("%s:%d: %s on %s %s says %r for %s (%s), but kind.builds says %r "
                           "(%s:%d): that kind cannot be built there" % (
                               cell.file, cell.line, check_id, model.os_name(os_id), version,
                               cell.value, describe_kinds(applies),
                               ", ".join(k.name for k in applies), b.value, b.file, b.line))


def matching_deviation(model, platform, check_id, kind, observed):
    """The known deviation (conformance/known/deviations.tsv) of platform that admits observed
    for check on kind, or None."""
    for d in model.deviations:
        if (d.platform == platform and d.check == check_id and kinds_match(d.kinds, kind)[0]
                and value_matches(d.observed, observed)):
            return d
    return None


def observed_against_cells(model):
    """Every observed instance must be admitted by the cell that applies to it now, or be a
    known deviation of its implementation; a run that failed is a contradiction too."""
    for col in model.columns:
        if col.origin != "run":
            continue
        run = col.run
        agree = 0
        for r in run.rows:
            kind = model.kinds[r.kind]
            cell = model.derived(r.check, kind, col.os, col.version)
            where = "%s:%d" % (r.file, r.line)
            if r.status == "skip":
                continue
            if row_failed(r):
                model.error("%s: %s on %s: the run failed (status %s, verdict %s): observed %r, "
                            "expected %r%s" % (where, r.instance, col.label, r.status, r.verdict,
                                               r.observed, r.expected,
                                               "" if r.problems == "-" else "; " + r.problems))
                continue
            expected = cell.value if cell is not None else "?"
            if expected == r.expected:
                agree += 1
            else:
                model.warnings.append("%s: %s: the run was judged against %r, the cells now say %r"
                                      % (where, r.instance, r.expected, expected))
            if cell is None or expected == "?":
                continue
            if value_matches(cell.value, r.observed):
                continue
            if matching_deviation(model, run.platform, r.check, kind, r.observed) is not None:
                continue
            model.error("%s: %s on %s: observed %r, but %s:%d (%s %s) says %r" % (
                where, r.instance, col.label, r.observed, cell.file, cell.line,
                model.os_name(cell.os), cell.versions[0], cell.value))
        run.resolver_agrees = agree


def verify_cell(model, col, qid, q, qc):
    """Recomputes one answers-table cell from the raw tables: a kind that cannot be built must
    read as unsupported (never as a behaviour), and an observed instance's outcome must be the
    one the answer used."""
    for part in qc.parts:
        for ans in part.answers:
            for kind, v, word in ans.items:
                row = ans.row
                if col.origin == "run":
                    r = col.run.by_instance.get((row.check, kind.name))
                    if row.check == "kind.builds":
                        rows = col.run.by_kind.get(kind.name, [])
                        r = rows[0] if rows else None
                    if r is not None and v.origin != "run":
                        model.error("answer %s on %s: %s ran (%s:%d) but the answer does not "
                                    "use the run" % (qid, col.label, r.instance, r.file, r.line))
                    if r is not None and row.check != "kind.builds" and v.value != r.observed:
                        model.error("answer %s on %s: %s observed %r (%s:%d), the answer uses %r"
                                    % (qid, col.label, r.instance, r.observed, r.file, r.line,
                                       v.value))
                    if r is not None:
                        continue
                if v.origin != "src":
                    continue
                try:
                    kb = resolve(model.cells, "kind.builds", kind, col.os, v.version or col.version)
                except Tie:
                    continue
                if kb is not None and unsupported(kb.value) and not unsupported(v.value):
                    model.error("answer %s on %s: %s cannot be built (%s:%d says %r) but the "
                                "answer reads %r" % (qid, col.label, kind.name, kb.file, kb.line,
                                                     kb.value, word))


# ---------------------------------------------------------------------------------------------
# Markdown helpers


def md(s):
    """Text in a table cell or a sentence: escape what would start markup or end a cell."""
    s = s.replace("\\", "\\\\")
    for ch in "|*_`[]":
        s = s.replace(ch, "\\" + ch)
    return s.replace("<", "&lt;")


def code(s):
    if s == "":
        return "(empty)"
    s = s.replace("|", "\\|")
    if "`" in s:
        return "`` %s ``" % s
    return "`%s`" % s


def table(header, rows, align=False):
    """A markdown table; align pads the columns so that the raw text lines up too."""
    lines = []
    if align:
        widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
        fmt = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
        lines.append(fmt(header))
        lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        lines.extend(fmt(r) for r in rows)
    else:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines.extend("| " + " | ".join(r) + " |" for r in rows)
    return lines


def anchor(text):
    return '<a id="%s"></a>' % text


def base_kind(kind):
    name = re.sub(r"(_nb)?(_sw)?$", "", kind.name)
    desc = kind.description.replace(", non-blocking", "").replace(", ends swapped", "")
    variant = kind.name[len(name):].lstrip("_") or "plain"
    return name, desc, variant


VARIANT_WORDS = collections.OrderedDict([("plain", "blocking"), ("nb", "non-blocking"),
                                         ("sw", "ends swapped"),
                                         ("nb_sw", "non-blocking, ends swapped")])


def describe_kinds(kinds):
    """Human descriptions of a set of kinds, variants folded into their base kind."""
    bases = collections.OrderedDict()
    for k in sorted(kinds, key=lambda k: k.order):
        name, desc, variant = base_kind(k)
        bases.setdefault(desc, []).append(variant)
    out = []
    for desc, variants in bases.items():
        if variants == ["plain"]:
            out.append(desc)
        elif set(variants) == set(VARIANT_WORDS):
            out.append("%s (every variant)" % desc)
        else:
            out.append("%s (%s)" % (desc, "; ".join(VARIANT_WORDS[v] for v in VARIANT_WORDS
                                                     if v in variants)))
    return "; ".join(out)


def results_link(r, up):
    return "[%s line %d](%s%s#L%d)" % (r.file, r.line, up, r.file, r.line)


def cell_link(cell, up):
    return "[%s line %d](%s%s#L%d)" % (cell.file, cell.line, up, cell.file, cell.line)


# ---------------------------------------------------------------------------------------------
# REPORT.md

LEGEND_SVG = ("as Linux", "differs", "unsupported", "unknown")


def split_columns(model):
    oses = [c for c in model.columns if not c.is_implementation()]
    impls = [c for c in model.columns if c.is_implementation()]
    return oses, impls


def answers_table(model, questions, cols, refs, number, implementation=False):
    header = ["#", "Question"] + [md(c.title()) for c in cols]
    rows = []
    for qi, (qid, q) in enumerate(questions.items(), 1):
        row = [str(qi), "[%s][%s]" % (md(q["question"]), qid)]
        if number == 0:
            refs.append("[%s]: report/answers.md#%s" % (qid, qid))
        for ci, col in enumerate(cols):
            qc = model.question_cell(col, qid, q)
            text = qc.text
            if implementation and model.reference is not None:
                ref = model.question_cell(model.reference, qid, q)
                if ref.text == qc.text and not qc.failed:
                    text = "as Linux"
            label = "%d%s" % (qi, chr(ord("a") + number + ci))
            refs.append("[%s]: report/answers.md#%s-%s" % (label, qid, col.id))
            row.append("[%s][%s] (%s)" % (md(text), label, qc.mark))
        rows.append(row)
    return table(header, rows, align=True)


def write_report(model, questions, out, summaries):
    oses, impls = split_columns(model)
    lines = ["# sockspec conformance report", ""]
    lines += [
        "What `socketpair()`, `socket()` and `pipe()` do on each OS and on other implementations",
        "of the same API. Generated by `ci/report` (`tools/report.py`); do not edit: run",
        "`ci/report`.",
        "",
        "## Answers",
        "",
    ]
    lines += wrap("Each cell: the answer, a link to its evidence, and how it is known: **run** = "
                  "observed by a run of the suite on that platform; **src V** = derived from that "
                  "OS's source (code, headers, tests or man pages) at version V, never run there. "
                  "Which checks answer which question: [report/answers.md](report/answers.md) "
                  "(from `tools/questions.tsv`).")
    lines.append("")
    refs = []
    lines += answers_table(model, questions, oses, refs, 0)
    lines.append("")
    if impls:
        lines += wrap("Other implementations of the Linux API, observed; \"as Linux\" where the "
                      "answer is the Linux run's; \"known deviation\": differs from Linux for a "
                      "recorded root cause (each page lists them), which does not fail the run:")
        lines.append("")
        lines += answers_table(model, questions, impls, refs, len(oses), implementation=True)
        lines.append("")
    not_run = [p for p in model.platforms.values() if p.cls == "implementation"
               and not any(c.platform.id == p.id for c in model.columns)]
    if not_run:
        lines += wrap("Not run yet (no results file): %s." % ", ".join(
            "[%s](report/%s.md)" % (md(p.name), p.id) for p in not_run))
        lines.append("")
    lines += ["## Every behaviour at a glance", ""]
    lines += wrap("One square per check, grouped by category; one row per column of the tables. "
                  "Solid squares were observed by a run, pale ones derived from source. "
                  "Per-platform pages say what differs, in sentences.")
    lines.append("")
    lines.append("![Checks by category and platform: as Linux, differs, unsupported, unknown]"
                 "(report/overview.svg)")
    lines.append("")
    lines += pages_section(model)
    lines += columns_section(model)
    lines += problems_section(model)
    lines += matrix_summary(model)
    for role, title in (("fuzz", "Fuzzing"), ("planted", "Fuzzing: time to find planted bugs"),
                        ("bench", "Benchmarks")):
        lines += summary_section(summaries.get(role), role, title)
    lines += ["<!-- The answers table's links (reference definitions render as nothing). -->", ""]
    lines += refs
    write(out, "REPORT.md", lines)


def wrap(text, width=96):
    """Prose lines no longer than width (markdown joins them again)."""
    out, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = word if not line else line + " " + word
    if line:
        out.append(line)
    return out


def pages_section(model):
    lines = ["## Per platform: what differs, in sentences", ""]
    for p in model.platforms.values():
        cols = [c for c in model.columns if c.platform.id == p.id]
        counts = []
        for c in cols:
            n = sum(1 for chk in sorted_checks(model) if check_class(model, c, chk) == "differs")
            counts.append("%s %s: %d of %d checks differ from Linux" % (
                c.short, "observed" if c.origin == "run" else "from source", n,
                len(sorted_checks(model))))
        if p.id == (model.reference.platform.id if model.reference else None):
            what = "the reference; where it differs from most other OSes"
        elif cols:
            what = "; ".join(counts)
        else:
            what = "no run yet; its known deviations"
        lines.append("- [%s](report/%s.md): %s" % (md(p.name), p.id, what))
    lines.append("")
    return lines


def columns_section(model):
    lines = ["## Where each column comes from", ""]
    runs = [c for c in model.columns if c.origin == "run"]
    if runs:
        header = ["Column", "Platform version", "Kernel", "Host kernel", "ABI", "Arch", "Runner",
                  "Ran at (UTC)", "Seconds", "Instances", "Failing", "Results file"]
        rows = []
        for c in runs:
            m = c.run.meta
            rows.append([md(c.label), md(m.get("platform_version", "")),
                         md("%s %s" % (m.get("os", ""), m.get("release", ""))),
                         md(m.get("host_kernel", "")), md(m.get("abi", "")), md(m.get("arch", "")),
                         md(m.get("runner", "")), md(m.get("date", "")), md(m.get("seconds", "")),
                         str(len(c.run.rows)), str(len(c.run.failing())),
                         "[%s](%s)" % (c.run.file, c.run.file)])
        lines += ["Observed, one column per results file:", ""]
        lines += table(header, rows)
        lines.append("")
    derived = [c for c in model.columns if c.origin == "src"]
    if derived:
        lines += wrap("Derived, never observed: each of these columns is what the expectation "
                      "cells (`conformance/expectations/`) derive from that OS's own source, "
                      "tests, headers or man pages at the version named; every cell cites its "
                      "source.")
        lines.append("")
        rows = []
        for c in derived:
            n = collections.Counter()
            for (chk, o), cells in model.cells.items():
                if o == c.os:
                    for cell in cells:
                        if c.version in cell.versions:
                            n[cell.basis] += 1
            rows.append([md(c.label), str(sum(n.values())),
                         ", ".join("%s %d" % (b, n[b]) for b in sorted(n))])
        lines += table(["Column", "Cells", "By basis (open: the value is `?`, not known)"], rows)
        lines.append("")
    return lines


def problems_section(model):
    lines = ["## Contradictions and failed runs", ""]
    if not model.errors:
        lines += wrap("None: every observed outcome is admitted by its cell (or is a known "
                      "deviation), no claim and no answer rests on a cell for a kind that cannot "
                      "be built, and the checks behind each answer agree. `ci/report --check` "
                      "fails otherwise.")
    else:
        lines += wrap("%d, listed here and by `ci/report --check` (which fails on them):"
                      % len(model.errors))
        lines.append("")
        lines += ["- %s" % md(e) for e in model.errors]
    lines.append("")
    if model.dead:
        lines += wrap("Cells that can never apply: they state a behaviour for kinds that cannot be "
                      "built there, so the kind row judges those instances instead. No claim or "
                      "answer uses them (that would fail `ci/report --check`); they should still "
                      "be corrected in `conformance/expectations/`:")
        lines.append("")
        lines += ["- %s" % md(e) for e in model.dead]
        lines.append("")
    return lines


def matrix_summary(model):
    counts = collections.Counter(matrix_class(model, c) for c in sorted_checks(model))
    lines = ["## Full matrix", ""]
    lines += wrap("[report/matrix.md](report/matrix.md): every check with its statement, on "
                  "every kind it runs on, in every column: %d differ between platforms, %d are "
                  "the same on every platform, %d agree where known but are unknown somewhere, "
                  "%d are known on one OS only." % (counts["differs"], counts["same"],
                                                    counts["partly"], counts["one"]))
    lines.append("")
    return lines


# ---------------------------------------------------------------------------------------------
# Fuzz and bench summaries: "# key<TAB>value" lines, a header row, rows, rendered as they come

SUMMARY_FILES = (("fuzz", "fuzz-summary.tsv"), ("planted", "fuzz-planted.tsv"),
                 ("bench", "bench-summary.tsv"))
COLUMN_NOTES = {
    "execs_per_s": "per wall-clock second of the run (per CPU second in `libfuzzer-bench` rows)",
    "coverage": "in edges (libFuzzer `cov:`, AFL++ `edges_found`)",
    "corpus_files": "the inputs the run added to `corpus/<target>` after minimising",
    "ratio": "the row's value over its baseline's, measured in the same run",
}


def load_summaries(results_dir, root):
    out = {}
    for role, name in SUMMARY_FILES:
        path = os.path.join(results_dir, name)
        if not os.path.exists(path):
            continue
        meta, header, rows = [], None, []
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\r\n")
                if line.startswith("# "):
                    k, _, v = line[2:].partition("\t")
                    meta.append((k, v))
                elif line == "" or line.startswith("#"):
                    continue
                elif header is None:
                    header = line.split("\t")
                else:
                    rows.append(line.split("\t"))
        out[role] = {"file": rel(root, path), "meta": meta, "header": header or [], "rows": rows,
                     "name": name}
    return out


def summary_section(s, role, title):
    lines = ["## %s" % title, ""]
    if s is None:
        lines += ["No `results/%s` yet." % dict(SUMMARY_FILES)[role], ""]
        return lines
    lines += ["From [%s](%s)." % (s["file"], s["file"]), ""]
    notes = ["`%s` %s" % (c, COLUMN_NOTES[c]) for c in s["header"] if c in COLUMN_NOTES]
    if role == "fuzz" and notes:
        lines += wrap("Columns: %s." % "; ".join(notes))
        lines.append("")
    if s["meta"]:
        lines += ["- %s: %s" % (md(k), md(v)) for k, v in s["meta"]]
        lines.append("")
    width = len(s["header"])
    rows = []
    for r in s["rows"]:
        r = (r + [""] * width)[:max(width, len(r))]
        cells = []
        for name, v in zip(s["header"] + [""] * (len(r) - width), r):
            v = md(v)
            if name == "crashes" and re.match(r"^[1-9]\d*$", v):
                v = "**%s**" % v  # a fuzz target that found crashes must not be missed
            cells.append(v)
        rows.append(cells)
    lines += table([md(h) for h in s["header"]], rows)
    lines.append("")
    return lines


# ---------------------------------------------------------------------------------------------
# report/answers.md: the evidence behind every answer


def evidence_lines(model, col, ans, up):
    """Where one check's answer on one column comes from, one line per distinct value."""
    lines = []
    groups = collections.OrderedDict()
    for kind, v, word in ans.items:
        key = (v.value, v.origin, v.cell.file if v.cell else "", v.cell.line if v.cell else 0)
        groups.setdefault(key, []).append((kind, v, word))
    for (value, origin, _, _), items in groups.items():
        kinds = describe_kinds([k for k, _, _ in items])
        v = items[0][1]
        word = items[0][2]
        if origin == "run":
            rows = [r for _, it, _ in items for r in it.rows[:1]]
            where = "%s of %s" % (", ".join("[line %d](%s%s#L%d)" % (r.line, up, r.file, r.line)
                                            for r in rows), rows[0].file) if rows else ""
            state = ""
            if v.failed:
                state = "; **the run failed**: the cell says %s" % code(
                    v.against.value if v.against else v.rows[0].expected)
            elif v.known_deviation:
                state = "; a known deviation (cause `%s`)" % v.cause
            if ans.row.check == "kind.builds" and value == "ok":
                lines.append("  - %s: observed: built, instances on it ran → **%s**%s; e.g. %s"
                             % (md(kinds), md(word), state, where))
            else:
                lines.append("  - %s: observed %s → **%s**%s; %s" % (
                    md(kinds), code(value), md(word), state, where))
        elif origin == "none":
            lines.append("  - %s: not run on %s" % (md(kinds), md(col.label)))
        elif v.cell is None:
            lines.append("  - %s: unknown: no cell for %s %s" % (md(kinds), col.os, v.version))
        else:
            c = v.cell
            src = "derived from %s %s %s" % (model.os_name(c.os), c.versions[0],
                                             "source" if c.basis == "source" else "(%s)" % c.basis)
            via = "" if c.check == ans.row.check else " (the kind row `kind.builds`)"
            note = strip_bookkeeping(c.note)
            lines.append("  - %s: %s %s → **%s**%s; %s; cell %s%s" % (
                md(kinds), src, code(value), md(word), via, md(c.source), cell_link(c, up),
                "; note: " + md(note) if note else ""))
    return lines


def write_answers(model, questions, out):
    lines = ["# The answers and their evidence", ""]
    lines += wrap("Generated by `ci/report` from `tools/questions.tsv`, the expectation cells and "
                  "the results files; do not edit. For each question: the checks that answer it, "
                  "then per column the answer and where it comes from: an observed outcome links "
                  "to its row in the results file, a derived one to the cell and the source it "
                  "cites. [Back to REPORT.md](../REPORT.md).")
    lines.append("")
    for qi, (qid, q) in enumerate(questions.items(), 1):
        lines.append("## %d. %s %s" % (qi, md(q["question"]), anchor(qid)))
        lines.append("")
        for part, rows in q["parts"].items():
            for r in rows:
                lines.append("- %s`%s` on %s: %s" % (
                    "" if part == "-" else "%s: " % md(part), r.check,
                    "every kind" if r.selector == "*" else "kinds with `%s`" % r.selector,
                    md(model.statement(r.check))))
        lines.append("")
        for col in model.columns:
            qc = model.question_cell(col, qid, q)
            lines.append("### %s: %s %s" % (md(col.title()), md(qc.text),
                                            anchor("%s-%s" % (qid, col.id))))
            lines.append("")
            for p in qc.parts:
                for ans in p.answers:
                    lines.append("- %s`%s`: %s" % ("" if p.part == "-" else "%s, " % md(p.part),
                                                   ans.row.check, md(ans.word)))
                    lines += evidence_lines(model, col, ans, "../")
            lines.append("")
    write(out, "report/answers.md", lines)


# ---------------------------------------------------------------------------------------------
# report/matrix.md


def sorted_checks(model):
    return ["kind.builds"] + sorted(model.checks)


def render_value(v, col):
    if v.origin == "none":
        return "not run"
    s = code(v.value)
    if v.origin == "src" and col.origin == "run":
        s += " (src %s)" % v.version
    if v.failed:
        s += " **✗ run failed**"
    elif v.known_deviation:
        s += " (known: %s)" % v.cause
    return s


def kind_groups(model, check_id):
    """The check's kinds grouped by identical values in every column."""
    groups = collections.OrderedDict()
    for k in model.check_kinds(check_id):
        key = tuple((model.val(c, check_id, k).value, model.val(c, check_id, k).origin,
                     model.val(c, check_id, k).failed) for c in model.columns)
        groups.setdefault(key, []).append(k)
    return list(groups.values())


MATRIX_CLASSES = (
    ("differs", "Differ between platforms"),
    ("same", "Same on every platform (every cell known; kinds that cannot be built left out)"),
    ("partly", "Same where known, unknown on some platform"),
    ("one", "Known on one OS only"),
)


def write_matrix(model, out):
    lines = ["# The full matrix", ""]
    lines += wrap("Generated by `ci/report`; do not edit. Every check with its statement, on the "
                  "kinds it runs on (kinds that behave alike in every column share a row), in "
                  "every column. Observed columns show what the run recorded; derived columns "
                  "what the cells derive from the OS's source at that version (never observed). "
                  "A cell is an outcome, alternatives `A|B`, a bound `>=N`, `unsupported: ...`, "
                  "`*` (the OS leaves it open) or `?` (unknown). `kind.builds` says whether a "
                  "kind can be built; where it cannot, every check on it reads as the kind row "
                  "does. [Back to REPORT.md](../REPORT.md).")
    lines.append("")
    lines += ["Columns: %s." % ", ".join("%s (%s)" % (md(c.label), c.how()) for c in model.columns),
              ""]
    by_class = collections.defaultdict(list)
    for chk in sorted_checks(model):
        by_class[matrix_class(model, chk)].append(chk)
    for cls, title in MATRIX_CLASSES:
        lines.append("## %s (%d checks) %s" % (title, len(by_class[cls]), anchor(cls)))
        lines.append("")
        if not by_class[cls]:
            lines += ["None.", ""]
            continue
        cats = collections.OrderedDict()
        for chk in by_class[cls]:
            cats.setdefault(category(chk), []).append(chk)
        for cat, chks in cats.items():
            lines.append("### %s: %s (%d)" % (md(title.split(" (")[0]), cat, len(chks)))
            lines.append("")
            header = ["Check", "Kinds"] + [md(c.title()) for c in model.columns]
            rows = []
            for chk in chks:
                for i, kinds in enumerate(kind_groups(model, chk)):
                    first = "%s `%s`" % (md(model.statement(chk)), chk) if i == 0 else "〃"
                    rows.append([first, md(describe_kinds(kinds))] +
                                [render_value(model.val(c, chk, kinds[0]), c)
                                 for c in model.columns])
            lines += table(header, rows)
            lines.append("")
    write(out, "report/matrix.md", lines)


# ---------------------------------------------------------------------------------------------
# report/<platform>.md


def value_sentence(model, col, check_id, kinds, up, label=None):
    """What one column does on the kinds: the value, how it is known, and its evidence."""
    label = label or md(col.label)
    v = model.val(col, check_id, kinds[0])
    what = code(v.value)
    if v.origin == "run":
        r = v.rows[0] if v.rows else None
        return "%s, observed: %s%s" % (label, what, ", " + results_link(r, up) if r else "")
    if v.origin == "none":
        return "%s: not run" % label
    if v.cell is None:
        return "%s: unknown (no cell)" % label
    c = v.cell
    note = strip_bookkeeping(c.note)
    return "%s, derived from source: %s; %s; cell %s%s" % (
        label, what, md(c.source), cell_link(c, up), "; why: %s" % md(note) if note else "")


def difference_entries(model, cols, check_id):
    """The check's kinds on which the columns differ from the reference, grouped by values;
    kinds that cannot be built in a column are left to its kind.builds row."""
    groups = collections.OrderedDict()
    for k in model.check_kinds(check_id):
        hits = [c for c in cols if not model.unbuilt(c, k)
                and kind_class(model, c, check_id, k) in ("differs", "unsupported")]
        if not hits:
            continue
        key = (tuple(model.val(c, check_id, k).value for c in cols),
               model.val(model.reference, check_id, k).value)
        groups.setdefault(key, []).append(k)
    return list(groups.values())


def platform_columns_sentences(model, cols, check_id, kinds, up):
    """One sentence per distinct value among the platform's columns ("14.3 and 15.0: ...")."""
    seen = collections.OrderedDict()
    for c in cols:
        v = model.val(c, check_id, kinds[0])
        key = (v.value, v.origin, v.cell.file if v.cell else "", v.cell.line if v.cell else 0)
        seen.setdefault(key, []).append(c)
    return [value_sentence(model, cs[0], check_id, kinds, up,
                           " and ".join(md(c.label) for c in cs)) for cs in seen.values()]


def write_platform(model, questions, p, out):
    cols = [c for c in model.columns if c.platform.id == p.id]
    ref = model.reference
    lines = ["# %s" % md(p.name), ""]
    lines += wrap("%s: %s. Generated by `ci/report`; do not edit. [Back to "
                  "REPORT.md](../REPORT.md)." % (md(p.name), md(p.description)))
    lines.append("")
    if not cols:
        lines += wrap("No run yet: no `results/conformance-%s-*.tsv`. Nothing about %s can be "
                      "derived from source: it is judged against the %s cells and only a run "
                      "observes it (`ci/conformance --on %s --record`)."
                      % (p.id, md(p.name), md(model.platforms[p.judged_as].name), p.id))
        lines.append("")
    for c in cols:
        if c.origin == "run":
            m = c.run.meta
            lines += wrap("**%s: observed** by the run in [%s](../%s): %s %s, kernel %s %s, host "
                          "kernel %s, %s, %s ABI, %s runner, %s; %d instances, %d failing." % (
                              md(c.label), c.run.file, c.run.file, md(p.name),
                              md(m.get("platform_version", "")), md(m.get("os", "")),
                              md(m.get("release", "")), md(m.get("host_kernel", "")),
                              md(m.get("arch", "")), md(m.get("abi", "")),
                              md(m.get("runner", "")), md(m.get("date", "")), len(c.run.rows),
                              len(c.run.failing())))
        else:
            lines += wrap("**%s: derived from source, never observed.** Every value below is what "
                          "the cells derive from %s %s's source (or its tests, headers, man "
                          "pages: each cites which), not a run." % (md(c.label), md(p.name),
                                                                  c.version))
        lines.append("")
    if cols:
        lines += platform_answers(model, questions, cols)
        lines += unsupported_section(model, cols)
    if p.cls == "implementation":
        lines += deviations_section(model, p, cols)
    if ref is not None and p.id == ref.platform.id:
        lines += majority_section(model, cols)
    elif cols:
        lines += differences_section(model, p, cols)
    if cols:
        lines += unknown_section(model, cols)
    write(out, "report/%s.md" % p.id, lines)


def platform_answers(model, questions, cols):
    lines = ["## Answers", ""]
    header = ["Question"] + [md(c.title()) for c in cols]
    rows = []
    for qid, q in questions.items():
        row = [md(q["question"])]
        for c in cols:
            qc = model.question_cell(c, qid, q)
            row.append("[%s](answers.md#%s-%s) (%s)" % (md(qc.text), qid, c.id, qc.mark))
        rows.append(row)
    lines += table(header, rows)
    lines.append("")
    return lines


def differences_section(model, p, cols):
    ref = model.reference
    lines = ["## Where %s differs from %s" % (md(p.name), md(ref.label)), ""]
    lines += wrap("Each entry: the behaviour (the check's statement and id), what %s does, then "
                  "what %s does, with the source or the results row. Kinds where both agree are "
                  "left out." % (md(p.name), md(ref.label)))
    lines.append("")
    n = 0
    for cat in categories(model):
        entries = []
        for chk in [c for c in sorted_checks(model) if category(c) == cat]:
            if chk == "kind.builds":
                continue
            for kinds in difference_entries(model, cols, chk):
                entries.append((chk, kinds))
        if not entries:
            continue
        lines += ["### %s" % cat, ""]
        for chk, kinds in entries:
            n += 1
            lines.append("- **%s** (`%s`; %s)" % (md(model.statement(chk)), chk,
                                                  md(describe_kinds(kinds))))
            for s in platform_columns_sentences(model, cols, chk, kinds, "../"):
                lines.append("  - %s" % s)
            lines.append("  - %s" % value_sentence(model, ref, chk, kinds, "../"))
        lines.append("")
    if n == 0:
        lines += ["No difference where both are known.", ""]
    return lines


def unsupported_section(model, cols):
    lines = ["## Kinds that cannot be built here", ""]
    seen = []
    for c in cols:
        bad = [k for k in model.kinds.values()
               if unsupported(model.val(c, "kind.builds", k).value)]
        if bad:
            groups = collections.OrderedDict()
            for k in bad:
                v = model.val(c, "kind.builds", k)
                groups.setdefault(v.value, []).append(k)
            for value, ks in groups.items():
                seen.append("- %s: %s: %s" % (md(c.label), md(describe_kinds(ks)), code(value)))
    lines += seen or ["None: every kind builds."]
    lines.append("")
    if seen:
        lines += wrap("Every check on such a kind reads as this kind row (unsupported, never a "
                      "behaviour), so the sections below leave these kinds out.")
        lines.append("")
    return lines


def unknown_section(model, cols):
    lines = ["## Not known", ""]
    for c in cols:
        unknown = [chk for chk in sorted_checks(model)
                   if all(not model.val(c, chk, k).known() for k in model.check_kinds(chk))]
        lines += wrap("%s: %d check%s with no known value on any kind%s" % (
            md(c.label), len(unknown), "" if len(unknown) == 1 else "s",
            (": " + ", ".join("`%s`" % u for u in unknown) + ".") if unknown else "."))
        lines.append("")
    return lines


def categories(model):
    return sorted({category(c) for c in sorted_checks(model)})


def majority_section(model, cols):
    """Linux, the reference: where it differs from what most other OSes do."""
    others = {}
    for c in model.columns:
        if c.platform.cls == "os" and c.platform.id != "linux":
            others[c.platform.id] = c  # the newest column of each OS
    lines = ["## Where Linux differs from most other OSes", ""]
    lines += wrap("The behaviours where a majority of the other OSes (%s; newest version of each) "
                  "agree on one value that is not Linux's." % ", ".join(
                      md(c.label) for c in others.values()))
    lines.append("")
    n = 0
    col = cols[-1] if cols else model.reference
    for cat in categories(model):
        entries = []
        for chk in [c for c in sorted_checks(model) if category(c) == cat]:
            groups = collections.OrderedDict()
            for k in model.check_kinds(chk):
                mine = model.val(col, chk, k)
                if not mine.known():
                    continue
                votes = collections.Counter()
                for o in others.values():
                    v = model.val(o, chk, k)
                    if v.known() and (chk == "kind.builds" or not model.unbuilt(o, k)):
                        votes[v.value] += 1
                if not votes:
                    continue
                value, count = sorted(votes.items(), key=lambda x: (-x[1], x[0]))[0]
                if count * 2 > len(others) and count >= 2 and \
                        compare(mine, Val(value, "src")) == "differs":
                    key = (mine.value, value)
                    groups.setdefault(key, []).append(k)
            for (mine, value), kinds in groups.items():
                entries.append((chk, kinds, value))
        if not entries:
            continue
        lines += ["### %s" % cat, ""]
        for chk, kinds, value in entries:
            n += 1
            agree = [o.label for o in others.values()
                     if model.val(o, chk, kinds[0]).value == value]
            lines.append("- **%s** (`%s`; %s)" % (md(model.statement(chk)), chk,
                                                  md(describe_kinds(kinds))))
            lines.append("  - %s" % value_sentence(model, col, chk, kinds, "../"))
            lines.append("  - %s (%s; their pages give the sources): %s" % (
                ", ".join(md(o.label) for o in others.values() if o.label in agree),
                "derived from source" if all(o.origin == "src" for o in others.values()
                                             if o.label in agree) else "observed or derived",
                code(value)))
        lines.append("")
    if n == 0:
        lines += ["None.", ""]
    return lines


def deviations_section(model, p, cols):
    lines = ["## Deviations from %s, by root cause" % md(model.platforms[p.judged_as].name), ""]
    causes = [c for (plat, _), c in model.causes.items() if plat == p.id]
    devs = [d for d in model.deviations if d.platform == p.id]
    observed = collections.defaultdict(list)
    unexplained = []
    for c in cols:
        if c.origin != "run":
            continue
        for r in c.run.rows:
            if r.verdict == "known":
                observed[r.cause].append(r)
            elif row_failed(r):
                unexplained.append(r)
    if not causes and not devs and not observed:
        lines += wrap("None recorded (`conformance/known/causes.tsv` and `deviations.tsv` have no "
                      "row for %s)." % p.id)
        lines.append("")
    for cause in causes:
        lines.append("### `%s`: %s" % (cause.cause, md(cause.summary)))
        lines.append("")
        lines.append("Upstream: %s%s." % (md(cause.reference), "; fixed in %s" % md(cause.fixed_in)
                                          if cause.fixed_in not in ("", "-") else ""))
        lines.append("")
        for d in devs:
            if d.cause == cause.cause:
                seen = observed.get(d.cause, [])
                seen = [r for r in seen if r.check == d.check]
                lines.append("- **%s** (`%s`, kinds `%s`): %s observes %s; %s" % (
                    md(model.statement(d.check)) if d.check in model.checks else "", d.check,
                    d.kinds, md(p.name), code(d.observed),
                    ("seen in %s" % ", ".join(results_link(r, "../") for r in seen[:3]))
                    if seen else "not seen in any run here"))
        lines.append("")
    orphans = [d for d in devs if (p.id, d.cause) not in model.causes]
    for d in orphans:
        model.error("%s:%d: deviation of %s names cause %s, which causes.tsv lacks"
                    % (d.file, d.line, d.check, d.cause))
    if unexplained:
        lines += ["### Unexplained: these fail the run", ""]
        for r in unexplained:
            lines.append("- `%s`: observed %s, expected %s; %s" % (
                r.instance, code(r.observed), code(r.expected), results_link(r, "../")))
        lines.append("")
    return lines


# ---------------------------------------------------------------------------------------------
# report/overview.svg

COLOURS = {"same": "#4c78a8", "differs": "#f58518", "unsupported": "#3b3b3b",
           "unknown": "#e8e8e8"}
PALE = {"same": "#b7cbe0", "differs": "#fbcf9e", "unsupported": "#9d9d9d",
        "unknown": "#f6f6f6"}
CLASS_WORDS = {"same": "as Linux", "differs": "differs", "unsupported": "unsupported",
               "unknown": "unknown"}


def svg_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


SVG_CELL_W, SVG_CELL_H, SVG_GAP, SVG_LABEL_W, SVG_WIDTH = 6, 12, 10, 150, 960


def svg_blocks(model):
    """(category, [(check, kind or None)]): one square per check, one per kind for kind.builds."""
    blocks = collections.OrderedDict()
    for chk in sorted_checks(model):
        if chk == "kind.builds":
            blocks["kind"] = [(chk, k) for k in model.check_kinds(chk)]
        else:
            blocks.setdefault(category(chk), []).append((chk, None))
    return list(blocks.items())


def svg_lines(blocks):
    """The blocks laid out left to right in lines no wider than the picture: [[(cat, items, x)]]."""
    lines, line, x = [], [], 0
    for cat, items in blocks:
        w = len(items) * SVG_CELL_W
        if line and SVG_LABEL_W + x + w > SVG_WIDTH:
            lines.append(line)
            line, x = [], 0
        line.append((cat, items, x))
        x += w + SVG_GAP
    return lines + [line] if line else lines


def svg_shade(model, col, check_id, kind):
    """The square's symbol: o (observed) or d (derived), and the class's first two letters."""
    if kind is None:
        cls = check_class(model, col, check_id)
        origins = {model.val(col, check_id, k).origin for k in model.check_kinds(check_id)}
    else:
        cls = kind_class(model, col, check_id, kind)
        origins = {model.val(col, check_id, kind).origin}
    return ("o" if origins == {"run"} else "d") + cls[:2]


def svg_legend(y):
    out, x = [], 0
    for cls in ("same", "differs", "unsupported", "unknown"):
        for dx, colour in ((0, COLOURS[cls]), (12, PALE[cls])):
            out.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>'
                       % (x + dx, y, colour))
        out.append('<text x="%d" y="%d">%s</text>' % (x + 26, y + 9, CLASS_WORDS[cls]))
        x += 120
    out.append('<text x="%d" y="%d">left square: observed by a run; right, pale: derived from '
               'source</text>' % (x, y + 9))
    return out


def write_svg(model, out):
    rows = model.columns
    row_h = SVG_CELL_H + 2
    block_h = 16 + len(rows) * row_h
    lines = svg_lines(svg_blocks(model))
    height = 28 + len(lines) * (block_h + 14) + 40
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           'width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="10">'
           % (SVG_WIDTH, height, SVG_WIDTH, height), "<defs>"]
    svg += ['<rect id="%s%s" width="%d" height="%d" fill="%s"/>'
            % (o, cls[:2], SVG_CELL_W - 1, SVG_CELL_H, (COLOURS if o == "o" else PALE)[cls])
            for o in "od" for cls in COLOURS]
    svg += ["</defs>", '<rect width="100%" height="100%" fill="#ffffff"/>',
            '<text x="0" y="14" font-size="12" font-weight="bold">Every check by category and '
            'platform, against %s</text>' % svg_text(model.reference.label
                                                  if model.reference else "Linux")]
    y0 = 28
    for line in lines:
        for i, c in enumerate(rows):
            svg.append('<text x="0" y="%d">%s</text>' % (
                y0 + 16 + i * row_h + SVG_CELL_H - 2,
                svg_text("%s (%s)" % (c.label, "run" if c.origin == "run" else "source"))))
        for cat, items, x in line:
            svg.append('<text x="%d" y="%d">%s (%d)</text>'
                       % (SVG_LABEL_W + x, y0 + 11, svg_text(cat), len(items)))
            for j, (chk, kind) in enumerate(items):
                for i, c in enumerate(rows):
                    svg.append('<use xlink:href="#%s" x="%d" y="%d"/>' % (
                        svg_shade(model, c, chk, kind), SVG_LABEL_W + x + j * SVG_CELL_W,
                        y0 + 16 + i * row_h))
        y0 += block_h + 14
    svg += svg_legend(y0 + 6)
    svg.append("</svg>")
    write(out, "report/overview.svg", svg)


# ---------------------------------------------------------------------------------------------
# Output


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(out, name, lines):
    path = os.path.join(out, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")


def generate(root, results_dir, out):
    model = Model(root, results_dir)
    questions = load_questions(os.path.join(root, "tools/questions.tsv"), model)
    summaries = load_summaries(results_dir, root)
    find_contradictions(model, questions)
    for p in model.platforms.values():
        write_platform(model, questions, p, out)
    write_answers(model, questions, out)
    write_matrix(model, out)
    write_svg(model, out)
    write_report(model, questions, out, summaries)
    return model


def outputs(directory):
    found = []
    if os.path.exists(os.path.join(directory, "REPORT.md")):
        found.append("REPORT.md")
    report = os.path.join(directory, "report")
    if os.path.isdir(report):
        found += sorted("report/" + n for n in os.listdir(report))
    return found


def print_findings(model, checking):
    """Warnings, how far the report's cells agree with each run's judgement, contradictions:
    the exit status (contradictions fail only a check: written, REPORT.md lists them)."""
    for w in model.warnings[:20]:
        print("tools/report.py: warning: %s" % w, file=sys.stderr)
    if len(model.warnings) > 20:
        print("tools/report.py: ... %d more warnings" % (len(model.warnings) - 20),
              file=sys.stderr)
    for run in model.runs:
        judged = sum(1 for r in run.rows if r.status != "skip" and not row_failed(r))
        print("tools/report.py: %s: the report's cells are the ones the run was judged against "
              "for %d of %d instances" % (run.file, run.resolver_agrees, judged))
    if not model.errors:
        return 0
    print("tools/report.py: %d contradiction%s:" % (
        len(model.errors), "" if len(model.errors) == 1 else "s"), file=sys.stderr)
    for e in model.errors:
        print("  %s" % e, file=sys.stderr)
    return 1 if checking else 0


def check_outputs(scratch, out):
    """0 if the outputs under out are the regenerated ones in scratch, else 1 (diffs shown)."""
    new, old = outputs(scratch), outputs(out)
    stale = set(old) ^ set(new)
    for name in sorted(set(old) & set(new)):
        a, b = read(os.path.join(out, name)), read(os.path.join(scratch, name))
        if a == b:
            continue
        stale.add(name)
        diff = list(difflib.unified_diff(a.splitlines(), b.splitlines(), "committed/" + name,
                                         "regenerated/" + name, lineterm="", n=1))
        print("\n".join(diff[:40]))
        if len(diff) > 40:
            print("... (%d more diff lines)" % (len(diff) - 40))
    if stale:
        print("ci/report --check: stale or missing: %s; run ci/report" % ", ".join(sorted(stale)),
              file=sys.stderr)
        return 1
    return 0


def install_outputs(scratch, out):
    new = outputs(scratch)
    for name in outputs(out):
        if name.startswith("report/") and name not in new:
            os.remove(os.path.join(out, name))
    for name in new:
        dest = os.path.join(out, name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(os.path.join(scratch, name), dest)
    print("ci/report: wrote REPORT.md and %d files under report/" % (len(new) - 1))


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description="Writes REPORT.md and report/.")
    ap.add_argument("--root", default=here)
    ap.add_argument("--results")
    ap.add_argument("--out")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    results_dir = os.path.abspath(args.results or os.path.join(root, "results"))
    out = os.path.abspath(args.out or root)
    scratch = tempfile.mkdtemp(prefix="report.")
    try:
        try:
            model = generate(root, results_dir, scratch)
        except (InputError, OSError, UnicodeDecodeError) as e:
            print("tools/report.py: %s" % e, file=sys.stderr)
            return 2
        status = print_findings(model, args.check)
        if not args.check:
            install_outputs(scratch, out)
            return status
        status = max(status, check_outputs(scratch, out))
        if status == 0:
            print("ci/report --check: %d files up to date, no contradiction"
                  % len(outputs(scratch)))
        return status
    finally:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    sys.exit(main())
