#!/usr/bin/env python3
"""Runs the detection cases of tests/cases/ against a dsbuild binary.

A case is a folder:

  tree/                the project (copied to a temp dir before each run)
  expected.json        a subset of `dsbuild detect --json` that must match, or
  expected-error.txt   "exit N" on one line, then substrings stderr must hold
                       (one a line; blank lines and lines starting '#' skipped)
  args                 optional: flags for detect and build (shell words)
  generate             optional: "PATH SIZE" lines: files made in the copy at
                       test time (sparse, zero bytes), for sizes too big to commit

The comparison (match()): objects by the keys present in expected (the value
"$absent" means the key must not be there), arrays exactly (same length, each
element compared by these rules), other values with ==.

A case that expects a plan also runs `dsbuild detect` (text) and wants exit 0.
An error case runs `dsbuild detect --json`, `dsbuild detect` and `dsbuild build
-o oci:TMP/out:latest`: each must exit N with the substrings on stderr, print
nothing on stdout (detect) and leave no TMP/out behind (build).

usage: run_case.py DSBUILD CASEDIR...
       run_case.py --self-test
       run_case.py --check-list CASESDIR NAME...   (every case folder is listed)
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

ABSENT = "$absent"


def match(expected, actual, path="$"):
    """The list of differences (strings naming the JSON path) between the
    subset expected and actual."""
    diffs = []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return ["%s: expected an object, got %s" % (path, json.dumps(actual)[:200])]
        for k, v in expected.items():
            p = "%s.%s" % (path, k)
            if v == ABSENT:
                if k in actual:
                    diffs.append("%s: expected no such key, got %s" %
                                 (p, json.dumps(actual[k])[:200]))
            elif k not in actual:
                diffs.append("%s: missing (expected %s)" % (p, json.dumps(v)[:200]))
            else:
                diffs.extend(match(v, actual[k], p))
        return diffs
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return ["%s: expected an array, got %s" % (path, json.dumps(actual)[:200])]
        if len(expected) != len(actual):
            diffs.append("%s: expected %d elements, got %d: %s" %
                         (path, len(expected), len(actual), json.dumps(actual)[:600]))
        for i, (e, a) in enumerate(zip(expected, actual)):
            diffs.extend(match(e, a, "%s[%d]" % (path, i)))
        return diffs
    # bool is an int in Python: true must not match 1
    if type(expected) is not type(actual) and not (
            isinstance(expected, (int, float)) and isinstance(actual, (int, float)) and
            not isinstance(expected, bool) and not isinstance(actual, bool)):
        return ["%s: expected %s, got %s" % (path, json.dumps(expected), json.dumps(actual))]
    if expected != actual:
        return ["%s: expected %s, got %s" % (path, json.dumps(expected), json.dumps(actual))]
    return []


def self_test():
    """The checker finds what it must find (a checker that passes everything
    would make every case pass)."""
    act = {"a": 1, "b": [1, {"x": 1, "y": 2}], "c": {"d": None, "e": True}, "f": "s"}
    good = [
        {}, {"a": 1}, {"b": [1, {"x": 1}]}, {"c": {"d": None}}, {"c": {"e": True}},
        {"z": ABSENT}, {"c": {"q": ABSENT}}, act,
    ]
    bad = [
        {"a": 2}, {"a": "1"}, {"b": [1]}, {"b": [1, {"x": 1}, 3]}, {"b": [{"x": 1}, 1]},
        {"b": [1, {"x": 2}]}, {"c": {"d": 0}}, {"c": {"e": 1}}, {"a": True},
        {"f": ABSENT}, {"g": 1}, {"c": []}, {"b": {}}, {"f": None},
    ]
    failed = 0
    for e in good:
        d = match(e, act)
        if d:
            print("self-test: %s should match: %s" % (json.dumps(e), d))
            failed += 1
    for e in bad:
        if not match(e, act):
            print("self-test: %s should not match %s" % (json.dumps(e), json.dumps(act)))
            failed += 1
    if match({"x": 1}, {"x": 1.0}):
        print("self-test: 1 and 1.0 should match")
        failed += 1
    print("self-test: %d checks, %d failed" % (len(good) + len(bad) + 1, failed))
    return 1 if failed else 0


def read_error_spec(path):
    want_exit, subs = None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.startswith("exit ") and want_exit is None:
                want_exit = int(line[5:])
                continue
            subs.append(line)
    if want_exit is None or want_exit == 0:
        raise SystemExit("%s: no 'exit N' line with N > 0" % path)
    if not subs:
        raise SystemExit("%s: no substrings to look for" % path)
    return want_exit, subs


class Case:
    def __init__(self, dsbuild, casedir):
        self.dsbuild = dsbuild
        self.dir = os.path.abspath(casedir)
        self.name = os.path.basename(self.dir.rstrip("/"))
        self.failures = []

    def fail(self, msg):
        self.failures.append(msg)

    def prepare(self, tmp):
        tree = os.path.join(tmp, "tree")
        src = os.path.join(self.dir, "tree")
        if not os.path.isdir(src):
            raise SystemExit("%s: no tree/ folder" % self.dir)
        shutil.copytree(src, tree, symlinks=True)
        gen = os.path.join(self.dir, "generate")
        if os.path.exists(gen):
            with open(gen, encoding="utf-8") as f:
                for line in f:
                    if not line.strip() or line.startswith("#"):
                        continue
                    rel, size = line.split()
                    p = os.path.join(tree, rel)
                    os.makedirs(os.path.dirname(p), exist_ok=True)
                    with open(p, "wb") as g:
                        g.truncate(int(size))
        return tree

    def args(self):
        p = os.path.join(self.dir, "args")
        if not os.path.exists(p):
            return []
        with open(p, encoding="utf-8") as f:
            return shlex.split(f.read(), comments=True)

    def run(self, tmp, argv):
        env = dict(os.environ)
        # the cases are about the default base choice: $DSBUILD_BASE would win
        env.pop("DSBUILD_BASE", None)
        env["DSBUILD_CACHE"] = os.path.join(tmp, "cache")
        env["HOME"] = os.path.join(tmp, "home")
        env["XDG_CACHE_HOME"] = os.path.join(tmp, "xdg")
        env["LC_ALL"] = "C.UTF-8"
        os.makedirs(env["HOME"], exist_ok=True)
        p = subprocess.run(argv, env=env, cwd=tmp, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=300)
        return p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace")

    def show(self, argv, rc, out, err):
        return "  command: %s\n  exit: %d\n  stdout: %s\n  stderr: %s" % (
            " ".join(shlex.quote(a) for a in argv), rc,
            out[:3000].replace("\n", "\n    | "), err[:3000].replace("\n", "\n    | "))

    def check_plan(self, tmp, tree, args):
        with open(os.path.join(self.dir, "expected.json"), encoding="utf-8") as f:
            expected = json.load(f)
        argv = [self.dsbuild, "detect", "--json"] + args + [tree]
        rc, out, err = self.run(tmp, argv)
        if rc != 0:
            self.fail("detect --json exited %d, expected 0\n%s" %
                      (rc, self.show(argv, rc, out, err)))
            return
        try:
            plan = json.loads(out)
        except ValueError as e:
            self.fail("detect --json printed no JSON (%s)\n%s" % (e, self.show(argv, rc, out, err)))
            return
        diffs = match(expected, plan)
        if diffs:
            self.fail("the plan differs from expected.json:\n  " + "\n  ".join(diffs) +
                      "\n  the plan (buildpacks without their names):\n    " +
                      json.dumps(trim(plan), indent=1, sort_keys=True)[:12000]
                      .replace("\n", "\n    "))
        if "Traceback" in err or "error:" in err:
            self.fail("detect --json printed an error on success:\n%s" %
                      self.show(argv, rc, out, err))
        argv = [self.dsbuild, "detect"] + args + [tree]
        rc, out, err = self.run(tmp, argv)
        if rc != 0 or not out.startswith("project:"):
            self.fail("detect (text) failed\n%s" % self.show(argv, rc, out, err))

    def check_error(self, tmp, tree, args):
        want, subs = read_error_spec(os.path.join(self.dir, "expected-error.txt"))
        out_dir = os.path.join(tmp, "out")
        runs = [
            ("detect --json", [self.dsbuild, "detect", "--json"] + args + [tree], True),
            ("detect", [self.dsbuild, "detect"] + args + [tree], True),
            ("build", [self.dsbuild, "build"] + args +
             [tree, "-o", "oci:%s:latest" % out_dir, "--cache-dir", os.path.join(tmp, "cache")],
             False),
        ]
        for what, argv, quiet in runs:
            rc, out, err = self.run(tmp, argv)
            if rc != want:
                self.fail("%s exited %d, expected %d\n%s" % (what, rc, want,
                                                           self.show(argv, rc, out, err)))
            if "error: " not in err:
                self.fail("%s: no 'error: ' line on stderr\n%s" %
                          (what, self.show(argv, rc, out, err)))
            for s in subs:
                if s not in err:
                    self.fail("%s: stderr does not hold %r\n%s" %
                              (what, s, self.show(argv, rc, out, err)))
            if "Traceback" in err:
                self.fail("%s: a traceback\n%s" % (what, self.show(argv, rc, out, err)))
            if quiet and out.strip():
                self.fail("%s printed on stdout after an error\n%s" %
                          (what, self.show(argv, rc, out, err)))
            if os.path.lexists(out_dir):
                self.fail("%s left '%s' behind: %s" % (what, out_dir, os.listdir(out_dir)
                                                       if os.path.isdir(out_dir) else "a file"))
                shutil.rmtree(out_dir, ignore_errors=True)

    def execute(self):
        has_plan = os.path.exists(os.path.join(self.dir, "expected.json"))
        has_err = os.path.exists(os.path.join(self.dir, "expected-error.txt"))
        if has_plan == has_err:
            self.fail("needs exactly one of expected.json and expected-error.txt")
            return
        tmp = tempfile.mkdtemp(prefix="dsbuild-case-%s." % self.name)
        try:
            tree = self.prepare(tmp)
            if has_plan:
                self.check_plan(tmp, tree, self.args())
            else:
                self.check_error(tmp, tree, self.args())
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def trim(plan):
    """The plan as shown on a failure: the parts the cases look at."""
    p = dict(plan)
    for k in ("source",):
        p.pop(k, None)
    p["buildpacks"] = [{"id": b.get("id"), "detected": b.get("detected"), "why": b.get("why")}
                       for b in plan.get("buildpacks", [])]
    return p


def check_list(casesdir, names):
    have = sorted(d for d in os.listdir(casesdir)
                  if os.path.isdir(os.path.join(casesdir, d, "tree")))
    missing = sorted(set(have) - set(names))
    extra = sorted(set(names) - set(have))
    for m in missing:
        print("FAIL: tests/cases/%s is not listed in tests/cases/meson.build" % m)
    for m in extra:
        print("FAIL: tests/cases/meson.build lists '%s', which has no tree/" % m)
    print("%d case folders, %d listed" % (len(have), len(names)))
    return 1 if missing or extra else 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) >= 3 and argv[1] == "--check-list":
        return check_list(argv[2], argv[3:])
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    dsbuild = os.path.abspath(argv[1])
    if not os.access(dsbuild, os.X_OK):
        print("FAIL: %s is not an executable" % dsbuild, file=sys.stderr)
        return 1
    failed = 0
    for d in argv[2:]:
        c = Case(dsbuild, d)
        c.execute()
        if c.failures:
            failed += 1
            for f in c.failures:
                print("FAIL: %s: %s" % (c.name, f))
        else:
            print("ok: %s" % c.name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
