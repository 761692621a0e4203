#!/usr/bin/env python3
"""Tests of tools/report.py: its copy of conformance/expect.c's rules, how outcomes read, and
that planted contradictions are caught. Run by `ci/report --check`; alone:

    python3 tools/report_test.py [-v]
"""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "report_testdata")


def kind(name, attributes):
    return report.Kind(name, name, frozenset(attributes.split()), 0)


def cell(kinds, os_id, versions, value, line=1):
    return report.Cell("x.tsv", line, "c.x", kinds, os_id, tuple(versions.split(",")), value,
                       "source", "s", "")


def cells(*rows):
    out = {}
    for r in rows:
        out.setdefault((r.check, r.os), []).append(r)
    return out


SP_DGRAM = kind("sp_dgram", "unix socketpair dgram")
FS_DGRAM = kind("fs_dgram", "unix fs dgram")
SP_STREAM = kind("sp_stream", "unix socketpair stream")


class Resolve(unittest.TestCase):
    """The cell that applies, as conformance/expect.c expect_cell_for chooses it."""

    def test_most_specific_selector_wins(self):
        table = cells(cell("*", "bsd", "1", "A", 1), cell("dgram", "bsd", "1", "B", 2),
                      cell("socketpair+dgram", "bsd", "1", "C", 3))
        self.assertEqual(report.resolve(table, "c.x", SP_DGRAM, "bsd", "1").value, "C")
        self.assertEqual(report.resolve(table, "c.x", FS_DGRAM, "bsd", "1").value, "B")
        self.assertEqual(report.resolve(table, "c.x", SP_STREAM, "bsd", "1").value, "A")

    def test_equally_specific_cells_are_an_error(self):
        table = cells(cell("dgram", "bsd", "1", "B", 1), cell("socketpair", "bsd", "1", "C", 2))
        with self.assertRaises(report.Tie):
            report.resolve(table, "c.x", SP_DGRAM, "bsd", "1")
        self.assertEqual(report.resolve(table, "c.x", FS_DGRAM, "bsd", "1").value, "B")

    def test_newest_version_not_above_the_running_one(self):
        table = cells(cell("*", "bsd", "14.3", "old", 1), cell("*", "bsd", "15.0", "new", 2))
        pick = lambda running: report.resolve(table, "c.x", SP_DGRAM, "bsd", running).value
        self.assertEqual(pick("15.0-RELEASE"), "new")
        self.assertEqual(pick("14.3"), "old")
        self.assertEqual(pick("14.9"), "old")
        self.assertEqual(pick("16.0"), "new")
        self.assertEqual(pick("13.0"), "new")  # below every listed version: the newest

    def test_the_version_is_chosen_before_the_kinds(self):
        # the newest version's generic cell beats an older version's specific one
        table = cells(cell("socketpair+dgram", "bsd", "14.3", "old", 1),
                      cell("*", "bsd", "15.0", "new", 2))
        self.assertEqual(report.resolve(table, "c.x", SP_DGRAM, "bsd", "15.0").value, "new")

    def test_no_cell(self):
        self.assertIsNone(report.resolve(cells(cell("stream", "bsd", "1", "A")), "c.x", SP_DGRAM,
                                         "bsd", "1"))

    def test_version_key_reads_like_version_parse(self):
        self.assertEqual(report.version_key("6.18.44-fc-v1272"), (6, 18, 44, 0))
        self.assertEqual(report.version_key("15.0-RELEASE"), (15, 0, 0, 0))
        self.assertEqual(report.version_key("20250512"), (20250512, 0, 0, 0))
        self.assertEqual(report.version_key("release"), (0, 0, 0, 0))


class Values(unittest.TestCase):
    def test_value_matches(self):
        m = report.value_matches
        self.assertTrue(m("EAGAIN|ENOBUFS", "ENOBUFS"))
        self.assertFalse(m("EAGAIN|ENOBUFS", "EINTR"))
        self.assertTrue(m("holds*", "holds: detail"))
        self.assertTrue(m(">=253", "254"))
        self.assertFalse(m(">253", "253"))
        self.assertFalse(m(">=1", "ok"))

    def test_compare(self):
        v = lambda value, origin="src": report.Val(value, origin)
        self.assertEqual(report.compare(v("EAGAIN", "run"), v("EAGAIN")), "same")
        self.assertEqual(report.compare(v("EAGAIN", "run"), v("ENOBUFS")), "differs")
        self.assertEqual(report.compare(v("4096", "run"), v("ENOBUFS|4096")), "unknown")
        self.assertEqual(report.compare(v("4096", "run"), v("ENOBUFS|EMSGSIZE")), "differs")
        self.assertEqual(report.compare(v("1", "run"), v("?")), "unknown")
        self.assertEqual(report.compare(v("1", "run"), v("*")), "unknown")
        self.assertEqual(report.compare(v("match", "run"), v("unsupported: SO_PEERCRED")),
                         "differs")

    def test_words(self):
        words = report.parse_words("holds*=yes|fails*=no")
        self.assertEqual(report.word_of("fails: EBADF", words), "no")
        self.assertEqual(report.word_of("holds", words), "yes")
        self.assertEqual(report.word_of("ENOBUFS|4096", report.parse_words("4096=blocks")),
                         "ENOBUFS or blocks")
        self.assertEqual(report.word_of("unsupported: EPROTONOSUPPORT", []),
                         "unsupported (EPROTONOSUPPORT)")
        self.assertEqual(report.word_of("?", words), "unknown")
        self.assertEqual(report.word_of("*", words), "open")

    def test_bookkeeping_is_stripped_from_notes(self):
        s = report.strip_bookkeeping
        self.assertEqual(s("CHANGED from ?: why it is so"), "why it is so")
        self.assertEqual(s("CHANGED from fails: the read end write gives EBADF: fd[0] is rw"),
                         "fd[0] is rw")
        self.assertEqual(s("CHANGED from EPIPE+none|unsupported: MSG_NOSIGNAL (made exact): "
                           "the header defines it"), "the header defines it")
        self.assertEqual(s("CHANGED from ?"), "")
        self.assertEqual(s("a plain note"), "a plain note")


class Planted(unittest.TestCase):
    """The fixture (tools/report_testdata: a Linux run, an implementation's run with a known
    deviation, a BSD known by its cells at two versions, without SEQPACKET) with one thing
    planted: the report must say so. The fixture, not the live tables, so that editing
    conformance/expectations/ cannot break these tests."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="report-test.")
        shutil.copytree(FIXTURE, os.path.join(self.root, "in"))
        self.root = os.path.join(self.root, "in")
        self.out = os.path.join(os.path.dirname(self.root), "out")

    def tearDown(self):
        shutil.rmtree(os.path.dirname(self.root))

    def replace(self, rel, old, new):
        path = os.path.join(self.root, rel)
        text = report.read(path)
        self.assertIn(old, text)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, 1))

    def generate(self):
        return report.generate(self.root, os.path.join(self.root, "results"), self.out)

    def answer(self, qid, table=0):
        """A question's row in the answers table (0: OSes, 1: implementations), as cells."""
        text = report.read(os.path.join(self.out, "REPORT.md"))
        row = [l for l in text.splitlines() if "][%s]" % qid in l][table]
        return [c.strip() for c in row.split("|")[3:-1]]

    def test_fixture_is_clean(self):
        model = self.generate()
        self.assertEqual(model.errors, [])
        self.assertEqual(self.answer("pipe-bidir"),
                         ["[no][1a] (run)", "[no][1b] (src 2.0)", "[yes][1c] (src 3.0)"])
        self.assertEqual(self.answer("seqpacket-boundaries")[1:],
                         ["[no SEQPACKET][2b] (src 2.0)", "[no SEQPACKET][2c] (src 3.0)"])

    def test_claim_for_a_kind_that_cannot_be_built(self):
        # issue 14: "holds" for SEQPACKET where the kind row says it does not exist
        self.replace("conformance/expectations/claims.tsv",
                     "claims.keeps_boundaries\tseqpacket\tbsd\t2.0,3.0\tunsupported: "
                     "EPROTONOSUPPORT", "claims.keeps_boundaries\tseqpacket\tbsd\t2.0,3.0\tholds")
        model = self.generate()
        self.assertTrue(any("claims.keeps_boundaries on SomeBSD 2.0 says 'holds'" in e
                            for e in model.errors), model.errors)
        # and the answer still reads as the kind row: never "holds"
        self.assertEqual(self.answer("seqpacket-boundaries")[1], "[no SEQPACKET][2b] (src 2.0)")

    def test_observed_outcome_its_cell_does_not_admit(self):
        self.replace("conformance/expectations/claims.tsv",
                     "claims.pipe_bidirectional\t*\tlinux\t1.0\tfails: the read end write gives "
                     "EBADF", "claims.pipe_bidirectional\t*\tlinux\t1.0\tholds")
        model = self.generate()
        self.assertTrue(any("claims.pipe_bidirectional/none on Linux 1.0: observed" in e
                            for e in model.errors), model.errors)
        self.assertEqual(self.answer("pipe-bidir")[0], "[no][1a] (run failed)")

    def test_checks_of_one_question_disagree(self):
        self.replace("conformance/expectations/bidir.tsv",
                     "bidir.pipe_write_read_end\t*\tbsd\t3.0\tok",
                     "bidir.pipe_write_read_end\t*\tbsd\t3.0\tEBADF")
        model = self.generate()
        self.assertIn("question pipe-bidir on SomeBSD 3.0: claims.pipe_bidirectional says "
                      "'yes', bidir.pipe_write_read_end says 'no'", model.errors)
        self.assertEqual(self.answer("pipe-bidir")[2], "[yes][1c] (src 3.0, checks disagree)")

    def test_failed_run(self):
        self.replace("results/conformance-linux-1.0-x86_64.tsv",
                     "close.reset/sp_seqpacket\tclose.reset\tsp_seqpacket\tpass\tpass\t"
                     "ECONNRESET,0", "close.reset/sp_seqpacket\tclose.reset\tsp_seqpacket\t"
                     "fail\tFAIL\t0,0")
        model = self.generate()
        self.assertTrue(any("close.reset/sp_seqpacket on Linux 1.0: the run failed" in e
                            for e in model.errors), model.errors)

    def test_known_deviation_by_root_cause(self):
        model = self.generate()
        self.assertEqual(model.errors, [])
        page = report.read(os.path.join(self.out, "report/impl.md"))
        self.assertIn("### `impl-no-reset`: AnImpl never resets a socketpair", page)
        self.assertIn("AnImpl observes `0,0`; seen in", page)
        self.assertEqual(self.answer("reset", 1),
                         ["[DGRAM: EOF; SEQPACKET: ECONNRESET][3d] (run, known deviation)"])
        self.assertEqual(self.answer("pipe-bidir", 1), ["[as Linux][1d] (run)"])

    def test_unexplained_deviation_of_an_implementation(self):
        self.replace("conformance/known/deviations.tsv", "impl\tclose.reset\tdgram\t0,0",
                     "impl\tclose.reset\tdgram\t1,1")
        model = self.generate()
        self.assertTrue(any("close.reset/sp_dgram on AnImpl 7: observed '0,0'" in e
                            for e in model.errors), model.errors)
        self.assertEqual(self.answer("reset", 1),
                         ["[DGRAM: EOF; SEQPACKET: ECONNRESET][3d] (run failed)"])

    def test_output_does_not_depend_on_the_run(self):
        self.generate()
        first = {n: report.read(os.path.join(self.out, n)) for n in report.outputs(self.out)}
        shutil.rmtree(self.out)
        self.generate()
        second = {n: report.read(os.path.join(self.out, n)) for n in report.outputs(self.out)}
        self.assertEqual(first, second)


if __name__ == "__main__":
    unittest.main()
