#!/usr/bin/env python3
"""Tests of buildpacks/launcher/launch, the process launcher shipped in images.

Runs the launcher as a subprocess (with $DSBUILD_TEST_PYTHON, else this
interpreter) against process lists written to a temp dir, with a fake PATH that
holds a 'printargs' program which prints what it was started with as JSON.
"""

import ast
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCH = os.path.join(HERE, "..", "..", "buildpacks", "launcher", "launch")
PYTHON = os.environ.get("DSBUILD_TEST_PYTHON") or sys.executable

PRINTARGS = """#!{python}
import json, os, sys
print(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(), "pid": os.getpid(),
                  "env": dict(os.environ)}}))
"""


class LaunchTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test_launch.")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.bin = os.path.join(self.tmp, "bin")
        os.mkdir(self.bin)
        self.tool("printargs", PRINTARGS.format(python=sys.executable))
        self.processes = os.path.join(self.tmp, "processes.json")

    def tool(self, name, text, mode=0o755):
        path = os.path.join(self.bin, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def write_processes(self, doc):
        with open(self.processes, "w") as f:
            if isinstance(doc, str):
                f.write(doc)
            else:
                json.dump(doc, f)

    def launch(self, *args, env=None, path=None, processes=None):
        """Runs the launcher; returns (status, stdout, stderr, pid)."""
        e = {"PATH": path if path is not None else self.bin,
             "DSBUILD_PROCESSES": processes or self.processes,
             "HOME": "/home/test"}
        if env:
            e.update(env)
        p = subprocess.Popen([PYTHON, LAUNCH] + list(args), env=e, cwd=self.tmp,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        out, err = p.communicate(timeout=60)
        self.assertNotIn("Traceback", err)
        return p.returncode, out, err, p.pid

    def launch_ok(self, *args, **kw):
        status, out, err, pid = self.launch(*args, **kw)
        self.assertEqual(status, 0, "stderr: " + err)
        doc = json.loads(out)
        doc["launcher_pid"] = pid
        return doc

    def launch_fails(self, status, *args, **kw):
        got, out, err, _ = self.launch(*args, **kw)
        self.assertEqual(got, status, "stdout: %s\nstderr: %s" % (out, err))
        self.assertTrue(err.startswith("dsbuild-launch: "), err)
        return err

    # ---------------------------------------------------------------- choosing

    def test_default_process_with_port(self):
        self.write_processes({"default": "web", "processes": {
            "web": {"command": ["printargs", "--bind", "0.0.0.0:${PORT}", "api:app"]},
            "other": {"command": ["printargs", "other"]}}})
        doc = self.launch_ok()
        self.assertEqual(doc["argv"], ["--bind", "0.0.0.0:8080", "api:app"])
        self.assertEqual(doc["env"]["PORT"], "8080")
        doc = self.launch_ok(env={"PORT": "9000"})
        self.assertEqual(doc["argv"], ["--bind", "0.0.0.0:9000", "api:app"])

    def test_exec_replaces_the_launcher(self):
        self.write_processes({"default": "web", "processes": {"web": {"command": ["printargs"]}}})
        doc = self.launch_ok()
        # Same PID: the command replaced the launcher, so it gets the container's signals.
        self.assertEqual(doc["pid"], doc["launcher_pid"])
        doc = self.launch_ok("printargs", "x")
        self.assertEqual(doc["pid"], doc["launcher_pid"])

    def test_by_name_appends_args_unexpanded(self):
        self.write_processes({"default": "web", "processes": {
            "web": {"command": ["printargs", "web"]},
            "job": {"command": ["printargs", "job", "$HOME"]}}})
        doc = self.launch_ok("job", "--lr", "$HOME", "a b")
        self.assertEqual(doc["argv"], ["job", "/home/test", "--lr", "$HOME", "a b"])

    def test_passthrough_runs_other_commands_verbatim(self):
        self.write_processes({"default": "web", "processes": {"web": {"command": ["printargs"]}}})
        doc = self.launch_ok("printargs", "$HOME", "${PORT}", "")
        self.assertEqual(doc["argv"], ["$HOME", "${PORT}", ""])
        # A process name wins over a command of the same name; '--' does not change that.
        self.write_processes({"processes": {"printargs": {"command": ["printargs", "proc"]}}})
        self.assertEqual(self.launch_ok("printargs", "x")["argv"], ["proc", "x"])
        self.assertEqual(self.launch_ok("--", "printargs", "x")["argv"], ["proc", "x"])

    def test_passthrough_without_process_file(self):
        doc = self.launch_ok("printargs", "a", processes=os.path.join(self.tmp, "none.json"))
        self.assertEqual(doc["argv"], ["a"])
        self.assertEqual(doc["env"]["PORT"], "8080")

    def test_missing_file_without_command(self):
        missing = os.path.join(self.tmp, "none.json")
        err = self.launch_fails(2, processes=missing)
        self.assertIn("cannot read '%s'" % missing, err)
        err = self.launch_fails(2, "--list", processes=missing)
        self.assertIn("'%s'" % missing, err)
        err = self.launch_fails(127, "web", processes=missing)
        self.assertIn("'web': command not found", err)
        self.assertIn("there is no '%s'" % missing, err)

    def test_no_default_process(self):
        self.write_processes({"processes": {"a": {"command": ["printargs"]},
                                            "b": {"command": ["printargs"]}}})
        err = self.launch_fails(2)
        self.assertIn("'%s' names no default process" % self.processes, err)
        self.assertIn("processes: a, b", err)

    # ---------------------------------------------------------------- expansion

    def test_expansion(self):
        self.write_processes({"default": "x", "processes": {"x": {"command": [
            "printargs", "$A", "${A}", "pre-${A}-post", "$A.$B", "${UNSET:-dflt}", "${EMPTY:-dflt}",
            "${A:-dflt}", "${UNSET:-${A}x}", "$UNSET", "a$$b", "$1", "cost$", "${UNSET:-}",
            "$A$A", "${UNSET:-a b}"]}}})
        doc = self.launch_ok(env={"A": "va", "B": "vb", "EMPTY": ""})
        self.assertEqual(doc["argv"], [
            "va", "va", "pre-va-post", "va.vb", "dflt", "dflt", "va", "vax", "", "a$b", "$1",
            "cost$", "", "vava", "a b"])

    def test_unsupported_expansions(self):
        for word, what in (("${A", "unterminated '${'"),
                           ("${A:=x}", "unsupported expansion '${A:=x}'"),
                           ("${1}", "unsupported expansion '${1}'"),
                           ("${}", "unsupported expansion '${}'")):
            self.write_processes({"default": "x", "processes": {"x": {"command": ["printargs",
                                                                                  word]}}})
            err = self.launch_fails(2)
            self.assertIn("process 'x': " + what, err)

    def test_env_and_workdir(self):
        work = os.path.join(self.tmp, "work")
        os.mkdir(work)
        self.write_processes({"default": "job", "processes": {"job": {
            "command": "printargs --lr $LR --dir ${DIR}",
            "env": {"LR": "0.$DIGIT", "DIR": "${HOME}/d", "PORT": "7000"},
            "workdir": work}}})
        doc = self.launch_ok(env={"DIGIT": "5"})
        self.assertEqual(doc["argv"], ["--lr", "0.5", "--dir", "/home/test/d"])
        self.assertEqual(doc["cwd"], os.path.realpath(work))
        self.assertEqual(doc["env"]["LR"], "0.5")
        self.assertEqual(doc["env"]["PORT"], "7000")

    def test_bad_workdir(self):
        missing = os.path.join(self.tmp, "nowhere")
        self.write_processes({"default": "job", "processes": {"job": {
            "command": ["printargs"], "workdir": missing}}})
        err = self.launch_fails(2)
        self.assertIn("process 'job': cannot change to workdir '%s'" % missing, err)

    # ---------------------------------------------------------------- strings and shells

    def test_string_command_without_shell(self):
        # Quotes and backslashes as in sh: no expansion inside '...' or after a backslash.
        self.write_processes({"default": "x", "processes": {"x": {
            "command": "printargs 'a b' \"c $V\"  d\\ e $V 'lit $V' \\$V \"\\$V \\\" \\x\" "
                       "'' x''y\t${W:-a b}"}}})
        doc = self.launch_ok("x", "extra", env={"V": "v"})
        self.assertEqual(doc["argv"], ["a b", "c v", "d e", "v", "lit $V", "$V", "$V \" \\x", "",
                                       "xy", "a b", "extra"])
        for command, message in (("printargs 'a", "unterminated '"),
                                 ("printargs \"a", "unterminated \""),
                                 ("printargs a\\", "trailing backslash in")):
            self.write_processes({"default": "x", "processes": {"x": {"command": command}}})
            err = self.launch_fails(2)
            self.assertIn("process 'x': " + message, err)

    def test_string_command_with_shell(self):
        if not os.path.exists("/bin/sh"):
            self.fail("/bin/sh is missing: install dash")
        out_file = os.path.join(self.tmp, "out.json")
        self.write_processes({"default": "x", "processes": {"x": {
            "command": "printargs \"$V\" 'lit $V' > %s && echo done" % out_file}}})
        status, out, err, _ = self.launch(env={"V": "v w"}, path=self.bin + ":/usr/bin:/bin")
        self.assertEqual(status, 0, err)
        self.assertEqual(out, "done\n")
        with open(out_file) as f:
            self.assertEqual(json.load(f)["argv"], ["v w", "lit $V"])
        # Appended arguments reach the last command, each one word.
        self.write_processes({"default": "x", "processes": {"x": {"command": "true; printargs a"}}})
        doc = self.launch_ok("x", "b c", "$V", path=self.bin + ":/usr/bin:/bin")
        self.assertEqual(doc["argv"], ["a", "b c", "$V"])

    def test_shell_needed_without_sh(self):
        for command in ("printargs | printargs", "printargs *.py", "printargs $(date)",
                        "printargs ~", "a\nb", "printargs > f"):
            self.write_processes({"default": "job", "processes": {"job": {"command": command}}})
            err = self.launch_fails(127)
            self.assertIn("process 'job' needs a shell, and there is no 'sh' on PATH", err)
            self.assertIn("add dash to apt.txt", err)

    # ---------------------------------------------------------------- failures to run

    def test_not_found(self):
        self.write_processes({"default": "web", "processes": {"web": {"command": ["nosuch", "a"]}}})
        err = self.launch_fails(127)
        self.assertEqual(err.splitlines()[0], "dsbuild-launch: 'nosuch': command not found")
        err = self.launch_fails(127, "othercmd")
        self.assertEqual(err.splitlines()[0], "dsbuild-launch: 'othercmd': command not found")
        self.assertIn("processes: web", err)
        err = self.launch_fails(127, "./nosuch")
        self.assertEqual(err.splitlines()[0], "dsbuild-launch: './nosuch': no such file")
        # An empty PATH finds nothing either.
        err = self.launch_fails(127, "printargs", path="")
        self.assertIn("'printargs': command not found", err)

    def test_not_executable(self):
        self.tool("plain", "data\n", mode=0o644)
        self.write_processes({"processes": {}})
        err = self.launch_fails(126, os.path.join(self.bin, "plain"))
        self.assertIn("permission denied", err)

    # ---------------------------------------------------------------- listing and help

    def test_list(self):
        self.write_processes({"default": "web", "processes": {
            "web": {"command": ["gunicorn", "--bind", "0.0.0.0:${PORT}", "api:app"]},
            "job": {"command": "python train.py --lr $LR"},
            "quoted": {"command": ["echo", "a b", ""]}}})
        status, out, err, _ = self.launch("--list")
        self.assertEqual(status, 0, err)
        self.assertEqual(out.splitlines(), [
            "job     python train.py --lr $LR",
            "quoted  echo 'a b' ''",
            "web     gunicorn --bind 0.0.0.0:${PORT} api:app  (default)"])
        err = self.launch_fails(2, "--list", "x")
        self.assertIn("--list takes no arguments", err)

    def test_list_into_closed_pipe(self):
        self.write_processes({"processes": dict(("p%04d" % i, {"command": ["x"] * 50})
                                                for i in range(800))})
        p = subprocess.Popen([PYTHON, LAUNCH, "--list"], env={"DSBUILD_PROCESSES": self.processes},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdout.close()
        err = p.stderr.read().decode()
        p.stderr.close()
        self.assertEqual(p.wait(60), 1)
        self.assertEqual(err, "")

    def test_help(self):
        for flag in ("--help", "-h"):
            status, out, err, _ = self.launch(flag, processes=os.path.join(self.tmp, "none"))
            self.assertEqual(status, 0, err)
            self.assertIn("usage: launch", out)
            self.assertIn("${VAR:-default}", out)
            self.assertIn("/workspace/.dsbuild/processes.json", out)

    # ---------------------------------------------------------------- bad process lists

    def test_malformed_process_lists(self):
        cases = [
            ("{", "is not valid JSON"),
            ("[1]", "must hold a JSON object, not a list"),
            ("\xff", "is not UTF-8"),
            ("[" * 100000 + "]" * 100000, "nested too deeply"),
            ({"processes": []}, "\"processes\" must be an object, not a list"),
            ({"processes": {"web": "gunicorn"}}, "process 'web' must be an object, not a string"),
            ({"processes": {"web": {}}}, "process 'web' has no \"command\""),
            ({"processes": {"web": {"command": []}}}, "process 'web' has an empty command"),
            ({"processes": {"web": {"command": "  "}}}, "process 'web' has an empty command"),
            ({"processes": {"web": {"command": 3}}},
             "process 'web' command must be a list of strings or a string, not a number"),
            ({"processes": {"web": {"command": ["a", 1]}}},
             "process 'web' command word 2 must be a string, not a number"),
            ({"processes": {"web": {"command": ["a"], "env": []}}},
             "process 'web' env must be an object, not a list"),
            ({"processes": {"web": {"command": ["a"], "env": {"A=B": "x"}}}},
             "process 'web' env has an invalid name 'A=B'"),
            ({"processes": {"web": {"command": ["a"], "env": {"A": 1}}}},
             "process 'web' env 'A' must be a string, not a number"),
            ({"processes": {"web": {"command": ["a"], "workdir": 5}}},
             "process 'web' workdir must be a string, not a number"),
            ({"processes": {"-x": {"command": ["a"]}}}, "invalid process name '-x'"),
            ({"default": "nope", "processes": {"web": {"command": ["a"]}}},
             "the default process 'nope' is not in \"processes\""),
            ({"processes": {"web": {"command": ["a\u0000b"]}}}, "contains a NUL character"),
        ]
        for doc, message in cases:
            with self.subTest(message=message):
                if isinstance(doc, str):
                    with open(self.processes, "wb") as f:
                        f.write(doc.encode("latin-1"))
                else:
                    self.write_processes(doc)
                err = self.launch_fails(2, "web")
                self.assertIn("'%s'" % self.processes, err)
                self.assertIn(message, err)

    def test_process_list_size_is_bounded(self):
        self.write_processes({"processes": {"web": {"command": ["a", "x" * (1 << 20)]}}})
        err = self.launch_fails(2)
        self.assertIn("'%s' is larger than 1048576 bytes" % self.processes, err)

    def test_expansion_size_is_bounded(self):
        # One word, many words, a string command: the whole command is bounded.
        for command in (["printargs", "$A" * 20], ["printargs"] + ["$A"] * 20, "printargs" +
                        " $A" * 20, "printargs" + " \"$A\"" * 20):
            self.write_processes({"default": "x", "processes": {"x": {"command": command}}})
            err = self.launch_fails(2, env={"A": "y" * 100000})
            self.assertIn("expands to more than", err)
        self.write_processes({"default": "x", "processes": {"x": {"command": "p" + " a" * 5000}}})
        err = self.launch_fails(2)
        self.assertIn("process 'x' has more than 4096 command words", err)

    def test_runs_on_python_37(self):
        with open(LAUNCH) as f:
            ast.parse(f.read(), LAUNCH, feature_version=(3, 7))
        self.assertTrue(os.stat(LAUNCH).st_mode & stat.S_IXUSR, "launch is not executable")
        with open(LAUNCH) as f:
            self.assertEqual(f.readline(), "#!/usr/bin/env python3\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
