#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
Tests of `dmabufctl export`: the built binary ($DMABUFCTL, or argv[1]) on a
fake cgroupfs tree in a temporary directory.

The output is parsed by a strict parser of the Prometheus text exposition
format (version 0.0.4, what node_exporter's textfile collector reads):

  - every line is "# HELP name text", "# TYPE name type" or a sample
    "name{label="value",...} value", with no timestamp (the collector
    refuses them) and no blank or other comment line;
  - a metric's HELP and TYPE come once each, before its samples, and its
    samples come together (a family is never split);
  - names and label names match the format's grammar; label values use only
    the escapes \\\\, \\" and \\n, and are valid UTF-8; no series twice;
  - counters end in _total, gauges do not; values are integers or +Inf;

and its content must equal the fake tree's files, read here on their own,
every series and nothing more. If promtool (Debian: package prometheus) is
there ($PROMTOOL, else in PATH), `promtool check metrics` must find nothing
either.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

CTL = os.environ.get("DMABUFCTL") or (sys.argv.pop(1) if len(sys.argv) > 1 else None)
UNLIMITED = (1 << 64) - 1

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = r'"((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(rf"({NAME})(?:\{{((?:{LABEL}={VALUE},?)*)\}})? (\S+)$")
LABEL_PAIR = re.compile(rf"({LABEL})={VALUE}(,|$)")

FAMILIES = {  # name: (type, file or field)
    "dmabuf_pinned_bytes": "gauge",
    "dmabuf_pinned_peak_bytes": "gauge",
    "dmabuf_pinned_max_bytes": "gauge",
    "dmabuf_pinned_refusals_total": "counter",
    "dmabuf_pinned_refusals_local_total": "counter",
    "dmabuf_pins": "gauge",
    "dmabuf_pins_refused_total": "counter",
    "dmabuf_pool_capacity_bytes": "gauge",
}


def unescape(v):
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


def parse(text):
    """The families of an exposition: {name: {"type", "help", "samples"}}, in
    order; samples are (labels dict, value text). Raises on any error."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # strict: UnicodeDecodeError if not UTF-8
    if text and not text.endswith("\n"):
        raise ValueError("the last line has no newline")
    fams, current, series = {}, None, set()
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}: {line!r}"
        if line.startswith("#"):
            m = re.match(rf"# (HELP|TYPE) ({NAME}) (.*)$", line)
            if not m:
                raise ValueError(f"{where}: a comment that is not HELP or TYPE")
            kind, name, rest = m.groups()
            f = fams.setdefault(name, {"type": None, "help": None, "samples": []})
            if f["samples"]:
                raise ValueError(f"{where}: {kind} after the samples of {name}")
            if current not in (None, name) and (f["type"] or f["help"]):
                raise ValueError(f"{where}: {name} split by {current}")
            key = kind.lower()
            if f[key] is not None:
                raise ValueError(f"{where}: second {kind} of {name}")
            if kind == "TYPE" and rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
                raise ValueError(f"{where}: bad type")
            if kind == "HELP" and re.search(r"\\[^\\n]", rest):
                raise ValueError(f"{where}: bad escape in HELP")
            f[key] = rest
            current = name
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f"{where}: not a sample (or a timestamp, or a bad escape)")
        name, labels, value = m.group(1), m.group(2) or "", m.group(4)
        if name != current or name not in fams:
            raise ValueError(f"{where}: a sample of {name} not right after its HELP/TYPE and samples")
        f = fams[name]
        if f["type"] is None or f["help"] is None:
            raise ValueError(f"{where}: {name} without HELP or TYPE")
        d, pos = {}, 0
        for lm in LABEL_PAIR.finditer(labels):
            if lm.start() != pos:
                raise ValueError(f"{where}: bad label list")
            if lm.group(1) in d:
                raise ValueError(f"{where}: label {lm.group(1)} twice")
            d[lm.group(1)] = unescape(lm.group(2))
            pos = lm.end()
        if pos != len(labels) or labels.endswith(","):
            raise ValueError(f"{where}: bad label list")
        if value != "+Inf" and not re.fullmatch(r"0|[1-9][0-9]*", value):
            raise ValueError(f"{where}: value {value} is not an integer or +Inf")
        key = (name, tuple(sorted(d.items())))
        if key in series:
            raise ValueError(f"{where}: a series twice")
        series.add(key)
        f["samples"].append((d, value))
    for name, f in fams.items():
        if f["type"] == "counter" and not name.endswith("_total"):
            raise ValueError(f"counter {name} does not end in _total")
        if f["type"] != "counter" and name.endswith("_total"):
            raise ValueError(f"{f['type']} {name} ends in _total")
        if not f["samples"]:
            raise ValueError(f"{name} has no samples")
    return fams


def label_text(b):
    """A cgroup or pool name (bytes) as export writes it: UTF-8 as is,
    other bytes and control bytes but newline as the text \\xNN."""
    s = b.decode("utf-8", "backslashreplace")
    return "".join(f"\\x{ord(c):02x}" if (ord(c) < 0x20 and c != "\n") or c == "\x7f" else c for c in s)


def nested(path):
    """A nested-keyed file: {pool (bytes): rest of the line (str)}."""
    with open(path, "rb") as f:
        return {l.split(b" ", 1)[0]: l.split(b" ", 1)[1].decode() for l in f.read().splitlines() if b" " in l}


def num(v):
    v = v.strip()
    return "+Inf" if v == "max" else str(int(v))


def expected(root):
    """Every series the tree's files give, read here without dmabufctl."""
    root = os.fsencode(root)
    want = {}
    for pool, v in nested(os.path.join(root, b"dmabuf.capacity")).items():
        want[("dmabuf_pool_capacity_bytes", (("pool", label_text(pool)),))] = num(v)
    for d, dirs, files in os.walk(root):
        if b"dmabuf.pinned.current" not in files:
            continue
        rel = os.path.relpath(d, root)
        cg = "/" if rel == b"." else "/" + label_text(rel)

        def put(metric, pool, v):
            want[(metric, tuple(sorted((("cgroup", cg), ("pool", label_text(pool))))))] = v

        for pool, v in nested(os.path.join(d, b"dmabuf.pinned.current")).items():
            put("dmabuf_pinned_bytes", pool, num(v))
        if cg == "/":
            continue
        for fname, metric in ((b"dmabuf.pinned.peak", "dmabuf_pinned_peak_bytes"),
                              (b"dmabuf.pinned.max", "dmabuf_pinned_max_bytes")):
            for pool, v in nested(os.path.join(d, fname)).items():
                put(metric, pool, num(v))
        for fname, metric in ((b"dmabuf.pinned.events", "dmabuf_pinned_refusals_total"),
                              (b"dmabuf.pinned.events.local", "dmabuf_pinned_refusals_local_total")):
            for pool, v in nested(os.path.join(d, fname)).items():
                put(metric, pool, num(v.removeprefix("max=")))
        for pool, v in nested(os.path.join(d, b"dmabuf.pinned.stat")).items():
            kv = dict(w.split("=") for w in v.split())
            put("dmabuf_pins", pool, num(kv["pins"]))
            put("dmabuf_pins_refused_total", pool, num(kv["refused"]))
    return want


def series_of(fams):
    return {(name, tuple(sorted(d.items()))): v for name, f in fams.items() for d, v in f["samples"]}


POOLS = [b"udmabuf", b"dma_heap/system", b"drm/0000:03:00.0/vram0"]
WEIRD = b'we"ird\\name\nwith \x01 \xff \xe2\x82 \xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80'


class Export(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dmabufctl-export.")
        self.root = os.path.join(self.tmp, "cg")
        r = os.fsencode(self.root)
        self.put(r, b"cgroup.controllers", b"cpu memory dmabuf\n")
        self.put(r, b"dmabuf.capacity", b"udmabuf max\ndma_heap/system 1073741824\n"
                 b"drm/0000:03:00.0/vram0 17179869184\n")
        self.put(r, b"dmabuf.pinned.current", b"udmabuf 8388608\ndma_heap/system 4096\n"
                 b"drm/0000:03:00.0/vram0 0\n")
        seed = 1
        for cg in (b"job", b"job/a", b"job/a/b", b"other", b"user.slice",
                   b"user.slice/user-1000.slice", b"other/" + WEIRD, b"big"):
            d = os.path.join(r, cg)
            cur, peak, mx, ev, evl, st = [], [], [], [], [], []
            for i, pool in enumerate(POOLS):
                seed += 1
                cur.append(b"%s %d" % (pool, seed * 4096))
                peak.append(b"%s %d" % (pool, seed * 8192))
                mx.append(b"%s max" % pool if i == 0 else b"%s %d" % (pool, seed << 20))
                ev.append(b"%s max=%d" % (pool, seed + 100))
                evl.append(b"%s max=%d" % (pool, seed + 200))
                st.append(b"%s pins=%d refused=%d registered=1" % (pool, seed + 300, seed + 400))
            if cg == b"big":  # values beyond 2^53, printed exactly
                cur[0] = b"udmabuf %d" % (UNLIMITED - 1)
                ev[0] = b"udmabuf max=%d" % (UNLIMITED - 2)
                peak[0] = b"udmabuf %d" % UNLIMITED  # a number, not +Inf
            self.put(d, b"cgroup.controllers", b"dmabuf\n")
            for name, lines in ((b"dmabuf.pinned.current", cur), (b"dmabuf.pinned.peak", peak),
                                (b"dmabuf.pinned.max", mx), (b"dmabuf.pinned.events", ev),
                                (b"dmabuf.pinned.events.local", evl), (b"dmabuf.pinned.stat", st)):
                self.put(d, name, b"\n".join(lines) + b"\n")
        # no controller: left out, its children still walked
        self.put(os.path.join(r, b"job/a/plain"), b"cgroup.controllers", b"cpu\n")
        self.put(os.path.join(r, b"nodmabuf"), b"cgroup.controllers", b"cpu\n")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    @staticmethod
    def put(d, name, content):
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(content)

    def run_ctl(self, *args, status=0):
        p = subprocess.run([CTL, "--cgroup-root", self.root, *args], capture_output=True)
        self.assertEqual(p.returncode, status, f"stdout: {p.stdout!r}\nstderr: {p.stderr!r}")
        return p

    def check(self, out):
        fams = parse(out)
        self.assertEqual(list(fams), list(FAMILIES))  # all of them, in this order
        for name, typ in FAMILIES.items():
            self.assertEqual(fams[name]["type"], typ, name)
        got, want = series_of(fams), expected(self.root)
        self.assertEqual(set(got) - set(want), set(), "series that are not in the tree")
        self.assertEqual(set(want) - set(got), set(), "series of the tree missing")
        for k in want:
            self.assertEqual(got[k], want[k], k)
        return fams

    def test_stdout(self):
        p = self.run_ctl("export")
        self.assertEqual(p.stderr, b"")
        fams = self.check(p.stdout)
        # depth first, children in byte order, the root first
        cgs = []
        for d, _ in fams["dmabuf_pinned_bytes"]["samples"]:
            if d["cgroup"] not in cgs:
                cgs.append(d["cgroup"])
        self.assertEqual(cgs, ["/", "/big", "/job", "/job/a", "/job/a/b", "/other",
                               "/other/" + label_text(WEIRD), "/user.slice",
                               "/user.slice/user-1000.slice"])
        # the escaping, as bytes in the file
        self.assertIn(b'cgroup="/other/we\\"ird\\\\name\\nwith \\\\x01 \\\\xff \\\\xe2\\\\x82 '
                      b'\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80",pool="udmabuf"}', p.stdout)
        self.assertIn(b'dmabuf_pinned_bytes{cgroup="/big",pool="udmabuf"} 18446744073709551614\n', p.stdout)
        self.assertIn(b'dmabuf_pinned_max_bytes{cgroup="/job",pool="udmabuf"} +Inf\n', p.stdout)
        self.assertIn(b'dmabuf_pinned_peak_bytes{cgroup="/big",pool="udmabuf"} 18446744073709551615\n',
                      p.stdout)
        self.assertIn(b'dmabuf_pool_capacity_bytes{pool="udmabuf"} +Inf\n', p.stdout)
        self.assertNotIn(b"plain", p.stdout)
        self.assertNotIn(b"nodmabuf", p.stdout)

    def test_global_options_around(self):
        a = self.run_ctl("export").stdout
        self.assertEqual(self.run_ctl("-b", "export").stdout, a)
        self.assertEqual(self.run_ctl("export", "-b").stdout, a)
        env = dict(os.environ, DMABUFCTL_CGROUP_ROOT=self.root)
        p = subprocess.run([CTL, "export"], capture_output=True, env=env)
        self.assertEqual((p.returncode, p.stdout), (0, a))

    def test_promtool(self):
        promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
        if not promtool:
            self.skipTest("no promtool: make promtool, or Debian's package prometheus")
        out = self.run_ctl("export").stdout
        p = subprocess.run([promtool, "check", "metrics"], input=out, capture_output=True)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, b""))

    def test_textfile(self):
        d = os.path.join(self.tmp, "textfile")
        os.mkdir(d)
        f = os.path.join(d, "dmabuf.prom")
        with open(f, "w") as old:
            old.write("old\n")
        ino = os.stat(f).st_ino
        old_umask = os.umask(0o022)
        try:
            p = self.run_ctl("export", "--textfile", f)
        finally:
            os.umask(old_umask)
        self.assertEqual((p.stdout, p.stderr), (b"", b""))
        with open(f, "rb") as fh:
            content = fh.read()
        self.assertEqual(content, self.run_ctl("export").stdout)
        self.check(content)
        st = os.stat(f)
        self.assertNotEqual(st.st_ino, ino, "not replaced by rename()")
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o644)
        self.assertEqual(os.listdir(d), ["dmabuf.prom"], "a temporary file left")
        p = self.run_ctl(f"--textfile={f}", status=1)  # global position: not an option there
        p = self.run_ctl("export", f"--textfile={f}")
        self.assertEqual(os.listdir(d), ["dmabuf.prom"])

    def test_textfile_not_prom(self):
        f = os.path.join(self.tmp, "dmabuf.txt")
        p = self.run_ctl("export", "--textfile", f)
        self.assertIn(b"reads only files named *.prom", p.stderr)
        with open(f, "rb") as fh:
            self.check(fh.read())

    def test_errors(self):
        f = os.path.join(self.tmp, "missing", "dmabuf.prom")
        p = self.run_ctl("export", "--textfile", f, status=2)
        self.assertIn(b"cannot create " + os.fsencode(f) + b".tmp.", p.stderr)
        self.assertIn(b"/var/lib/prometheus/node-exporter", p.stderr)
        self.assertEqual(p.stdout, b"")
        p = self.run_ctl("export", "extra", status=1)
        self.assertIn(b"unexpected argument 'extra'", p.stderr)
        p = self.run_ctl("export", "--textfile", status=1)
        self.assertIn(b"needs a value", p.stderr)
        p = self.run_ctl("export", "--textfile", "", status=1)
        p = self.run_ctl("export", "--bogus", status=1)
        self.assertIn(b"unknown option '--bogus'", p.stderr)
        p = self.run_ctl("-j", "export", status=1)
        self.assertIn(b'"status":1', p.stdout)
        self.assertIn(b"not JSON", p.stderr)
        self.assertIn(b"usage: dmabufctl export", self.run_ctl("export", "--help").stdout)
        with open("/dev/full", "wb") as full:
            p = subprocess.run([CTL, "--cgroup-root", self.root, "export"], stdout=full,
                               stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"cannot write the metrics", p.stderr)
        os.unlink(os.path.join(self.root, "dmabuf.capacity"))
        p = self.run_ctl("export", status=2)
        self.assertIn(b"dmabuf.capacity", p.stderr)

    def test_read_error_fails(self):
        # not a cgroup without the controller (ENOENT): an error, no output
        f = os.path.join(self.root, "job", "dmabuf.pinned.max")
        os.unlink(f)
        os.mkdir(f)  # EISDIR, for root too
        p = self.run_ctl("export", status=2)
        self.assertIn(b"job", p.stderr)
        self.assertEqual(p.stdout, b"")


class Parser(unittest.TestCase):
    """The parser refuses what the format does not allow."""
    OK = '# HELP a_total x\n# TYPE a_total counter\na_total{l="v\\"\\\\\\n"} 1\n'

    def test_ok(self):
        f = parse(self.OK)
        self.assertEqual(f["a_total"]["samples"], [({"l": 'v"\\\n'}, "1")])

    def test_bad(self):
        h = "# HELP a x\n# TYPE a gauge\n"
        for bad in ('a 1\n',                                   # no HELP/TYPE
                    h + 'a{l="\\x"} 1\n',                     # bad escape
                    h + 'a{l="v"} 1 1700000000\n',            # a timestamp
                    h + 'a{l="v",l="w"} 1\n',                 # a label twice
                    h + 'a{l="v"} 1\na{l="v"} 2\n',           # a series twice
                    h + 'a{l="v"} 1\n# HELP b x\n# TYPE b gauge\nb 1\na{l="w"} 1\n',  # split
                    h + 'a{l="v"} 1',                         # no last newline
                    h + 'a{l="v"} 1.5\n',                     # not an integer
                    h + '\na 1\n',                            # blank line
                    '# HELP a_total x\n# TYPE a_total gauge\na_total 1\n',  # gauge _total
                    '# HELP a x\n# TYPE a counter\na 1\n',    # counter without _total
                    h.encode() + b'a{l="\xff"} 1\n'):         # not UTF-8
            with self.subTest(bad=bad), self.assertRaises((ValueError, UnicodeDecodeError)):
                parse(bad)


if __name__ == "__main__":
    if not CTL:
        sys.exit("usage: test_export.py DMABUFCTL (or $DMABUFCTL)")
    unittest.main(verbosity=2)
