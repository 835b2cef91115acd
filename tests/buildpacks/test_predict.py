#!/usr/bin/env python3
"""Tests of buildpacks/predict/server.py, the KServe V1 model server shipped in images.

Starts the server as a subprocess (with $DSBUILD_TEST_PYTHON, else this
interpreter) on a port the kernel picks (--port 0, read back from its log),
with models pickled from a module written to the server's working directory,
and with real scikit-learn models when an interpreter here has scikit-learn
(Debian's python3-sklearn under /usr/bin/python3).
"""

import ast
import http.client
import json
import os
import pickle
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "..", "..", "buildpacks", "predict", "server.py")
PYTHON = os.environ.get("DSBUILD_TEST_PYTHON") or sys.executable
START_TIMEOUT = 60

MODELS_MODULE = "dsb_test_models"
MODELS_SOURCE = '''
import time


class Doubler(object):
    def predict(self, rows):
        return [[2 * v for v in row] for row in rows]


class Boom(object):
    def predict(self, rows):
        raise ValueError("rows must have 3 columns, got %d" % len(rows[0]))


def plus_one(rows):
    return [r + 1 for r in rows]


class FakeArray(object):
    """Like a numpy array or scalar: has tolist()."""

    def __init__(self, value):
        self.value = value

    def tolist(self):
        return self.value


class FakeScalar(object):
    def __init__(self, value):
        self.value = value

    def item(self):
        return self.value


class ArrayModel(object):
    def predict(self, rows):
        return FakeArray([FakeScalar(len(r)) for r in rows])


class NanModel(object):
    def predict(self, rows):
        return [float("nan"), float("inf"), 1.5, {1: "one"}, (1, 2), None, True]


class Opaque(object):
    def predict(self, rows):
        return [object()]


class Slow(object):
    def predict(self, rows):
        open("slow-started", "w").close()
        time.sleep(rows[0])
        return ["done"]
'''


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server(object):
    """A running server.py; stderr is collected line by line."""

    LISTENING = re.compile(r"^dsbuild-predict: serving .* on http://127\.0\.0\.1:(\d+)$")

    def __init__(self, test, models, cwd, env=None, python=PYTHON, args=None):
        self.lines = []
        self.cond = threading.Condition()
        e = dict(os.environ)
        e.pop("PORT", None)
        e.pop("DSBUILD_PREDICT_MAX_BODY", None)
        e.update(env or {})
        cmd = [python, SERVER, "--host", "127.0.0.1"]
        cmd += (args if args is not None else ["--port", "0"]) + list(models)
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=e, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        test.addCleanup(self.kill)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.port = None
        deadline = time.monotonic() + START_TIMEOUT
        with self.cond:
            while self.port is None:
                for line in self.lines:
                    m = self.LISTENING.match(line)
                    if m:
                        self.port = int(m.group(1))
                if self.port is None:
                    if self.proc.poll() is not None and not self.reader.is_alive():
                        test.fail("server exited (%s) before listening:\n%s"
                                  % (self.proc.returncode, self.log()))
                    if time.monotonic() > deadline:
                        test.fail("server not listening after %ds:\n%s"
                                  % (START_TIMEOUT, self.log()))
                    self.cond.wait(0.1)

    def _read(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()

    def log(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_for_line(self, pattern, timeout=10):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if rx.search(line):
                        return line
                if time.monotonic() > deadline:
                    raise AssertionError("no log line matches %r in:\n%s" % (pattern, self.log()))
                self.cond.wait(0.1)

    def stop(self):
        """SIGTERM; returns the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        status = self.proc.wait(30)
        self.reader.join(10)
        return status

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(10)
        self.proc.stderr.close()

    def request(self, method, path, body=None, headers=None, conn=None):
        """Returns (status, parsed JSON body or None, response)."""
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
        finally:
            if conn is None:
                c.close()
        doc = json.loads(data.decode("utf-8")) if data else None
        return r.status, doc, r

    def raw(self, data):
        """Sends bytes as they are; returns what the server answers until it closes."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        try:
            s.sendall(data)
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            s.close()


def parse_raw(data):
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body.decode("utf-8"))


class PredictTestBase(unittest.TestCase):
    @classmethod
    def make_workdir(cls):
        tmp = tempfile.mkdtemp(prefix="test_predict.")
        with open(os.path.join(tmp, MODELS_MODULE + ".py"), "w") as f:
            f.write(MODELS_SOURCE)
        sys.path.insert(0, tmp)
        try:
            mod = __import__(MODELS_MODULE)
        finally:
            sys.path.remove(tmp)
        os.mkdir(os.path.join(tmp, "models"))
        for name, obj in (("doubler.pkl", mod.Doubler()), ("boom.pickle", mod.Boom()),
                          ("plus_one.pkl", mod.plus_one), ("array.pkl", mod.ArrayModel()),
                          ("nan.pkl", mod.NanModel()), ("opaque.pkl", mod.Opaque()),
                          ("slow.pkl", mod.Slow())):
            with open(os.path.join(tmp, "models", name), "wb") as f:
                pickle.dump(obj, f)
        sys.modules.pop(MODELS_MODULE, None)
        return tmp

    def setUp(self):
        self.tmp = self.make_workdir()
        self.addCleanup(shutil.rmtree, self.tmp)

    def start(self, models, **kw):
        return Server(self, [os.path.join("models", m) if "/" not in m else m for m in models],
                      kw.pop("cwd", self.tmp), **kw)

    def assert_error(self, got, status, text):
        code, doc, _ = got
        self.assertEqual(code, status, doc)
        self.assertEqual(list(doc), ["error"], doc)
        self.assertIn(text, doc["error"])
        self.assertNotIn("Traceback", doc["error"])


class EndpointTest(PredictTestBase):
    """One server with every stdlib test model."""

    MODELS = ["doubler.pkl", "boom.pickle", "plus_one.pkl", "array.pkl", "nan.pkl", "opaque.pkl"]

    def setUp(self):
        PredictTestBase.setUp(self)
        self.server = self.start(self.MODELS)

    def predict(self, name, doc, **kw):
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        return self.server.request("POST", "/v1/models/%s:predict" % name, body, **kw)

    def test_index(self):
        code, doc, r = self.server.request("GET", "/")
        self.assertEqual(code, 200)
        self.assertEqual(r.getheader("Content-Type"), "application/json")
        self.assertEqual(doc["models"], ["array", "boom", "doubler", "nan", "opaque", "plus_one"])
        self.assertIn("POST /v1/models/{name}:predict", doc["endpoints"])
        self.assertIn("GET /healthz", doc["endpoints"])

    def test_health_and_models(self):
        self.assertEqual(self.server.request("GET", "/healthz")[:2], (200, {"status": "ok"}))
        self.assertEqual(self.server.request("GET", "/v1/models")[:2], (200, {
            "models": ["array", "boom", "doubler", "nan", "opaque", "plus_one"]}))
        self.assertEqual(self.server.request("GET", "/v1/models/doubler")[:2],
                         (200, {"name": "doubler", "ready": True}))
        # Trailing slash and query string do not matter; HEAD has headers only.
        self.assertEqual(self.server.request("GET", "/v1/models/?x=1")[0], 200)
        code, doc, r = self.server.request("HEAD", "/healthz")
        self.assertEqual((code, doc), (200, None))
        self.assertEqual(r.getheader("Content-Length"), "17")

    def test_predict(self):
        self.assertEqual(self.predict("doubler", {"instances": [[1, 2], [3, 4.5]]})[:2],
                         (200, {"predictions": [[2, 4], [6, 9.0]]}))
        self.assertEqual(self.predict("doubler", {"inputs": [[1]]})[:2],
                         (200, {"predictions": [[2]]}))
        # A callable without predict() is called.
        self.assertEqual(self.predict("plus_one", {"instances": [1, 2]})[:2],
                         (200, {"predictions": [2, 3]}))

    def test_result_conversion(self):
        self.assertEqual(self.predict("array", {"instances": [[1, 2], [3]]})[:2],
                         (200, {"predictions": [2, 1]}))
        # NaN and Infinity are not JSON: they become null.
        self.assertEqual(self.predict("nan", {"instances": [1]})[:2], (200, {
            "predictions": [None, None, 1.5, {"1": "one"}, [1, 2], None, True]}))
        self.assert_error(self.predict("opaque", {"instances": [1]}), 500,
                          "prediction failed: the model returned list, which cannot be sent as "
                          "JSON: cannot encode object as JSON")

    def test_predict_exception(self):
        got = self.predict("boom", {"instances": [[1, 2]]})
        # ValueError/TypeError: bad input, the client's to fix (400).
        self.assert_error(got, 400, "prediction failed: ValueError")
        self.assertEqual(got[1]["error"],
                         "prediction failed: ValueError: rows must have 3 columns, got 2")
        self.server.wait_for_line(r"^dsbuild-predict: model 'boom': prediction failed$")
        self.server.wait_for_line(r"^Traceback \(most recent call last\):$")
        self.server.wait_for_line(r"^ValueError: rows must have 3 columns, got 2$")

    def test_bad_requests(self):
        cases = [
            (b"{bad", "request body is not valid JSON: Expecting property name"),
            (b"", "request body is not valid JSON"),
            (b"\xff\xfe", "request body is not UTF-8 text"),
            (b"[" * 100000 + b"]" * 100000, "request body is nested too deeply"),
            (b"[[1, 2]]", "expected a JSON object like {\"instances\": "),
            (b"\"x\"", "not a string"),
            (b"{\"rows\": [[1]]}", "expected \"instances\" (or \"inputs\") in the request"),
            (b"{\"instances\": [1], \"inputs\": [1]}",
             "give \"instances\" or \"inputs\", not both"),
            (b"{\"instances\": {\"a\": 1}}", "\"instances\" must be a list, not an object"),
            (b"{\"inputs\": 3}", "\"inputs\" must be a list, not a number"),
            (b"{\"instances\": []}", "\"instances\" is empty"),
        ]
        for body, message in cases:
            with self.subTest(message=message):
                self.assert_error(self.predict("doubler", body), 400, message)

    def test_unknown_model(self):
        self.assert_error(self.server.request("GET", "/v1/models/nope"), 404,
                          "model 'nope' not found; models: array, boom, doubler")
        self.assert_error(self.predict("nope", {"instances": [1]}), 404, "model 'nope' not found")
        self.assert_error(self.server.request("GET", "/v1/models/doubler:explain"), 404,
                          "unknown verb ':explain'")
        self.assert_error(self.server.request("GET", "/v2/models"), 404,
                          "no endpoint '/v2/models'; GET / lists the endpoints")

    def test_wrong_method(self):
        for method, path, allow in (("POST", "/healthz", "GET, HEAD"),
                                    ("DELETE", "/v1/models/doubler", "GET, HEAD"),
                                    ("GET", "/v1/models/doubler:predict", "POST"),
                                    ("PUT", "/v1/models/doubler:predict", "POST"),
                                    ("BREW", "/", "GET, HEAD")):
            with self.subTest(method=method, path=path):
                got = self.server.request(method, path, body=b"{}" if method != "GET" else None)
                self.assert_error(got, 405, "method %s is not allowed on %s" % (method, path))
                self.assertEqual(got[2].getheader("Allow"), allow)

    def test_content_length(self):
        path = b"/v1/models/doubler:predict"
        status, doc = parse_raw(self.server.raw(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n"))
        self.assertEqual((status, doc), (411, {"error": "a Content-Length header is required"}))
        status, doc = parse_raw(self.server.raw(
            b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\n{}\r\n0\r\n\r\n"))
        self.assertEqual(status, 411)
        self.assertIn("chunked request bodies are not supported", doc["error"])
        for value in (b"abc", b"-1", b"1e3", b"99999999999999999999999"):
            status, doc = parse_raw(self.server.raw(
                b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: " + value +
                b"\r\n\r\n"))
            self.assertEqual(status, 400, value)
            self.assertIn("invalid Content-Length", doc["error"])
        status, doc = parse_raw(self.server.raw(
            b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
            b"Content-Length: 3\r\n\r\n{}"))
        self.assertEqual((status, doc), (400, {"error": "conflicting Content-Length headers"}))
        # A body shorter than announced: the client gave up.
        status, doc = parse_raw(self._short_body(path))
        self.assertEqual(status, 400)
        self.assertIn("request body ended after 2 of 100 bytes", doc["error"])

    def _short_body(self, path):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        try:
            s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}")
            s.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data
                data += chunk
        finally:
            s.close()

    def test_huge_body(self):
        # Larger than the default limit of 16 MiB, sent without waiting: the reply still arrives.
        body = b"[" + b"1," * (8 << 20) + b"1]"
        got = self.predict("doubler", body)
        self.assert_error(got, 413, "request body is %d bytes, more than the limit of 16777216 "
                          "(DSBUILD_PREDICT_MAX_BODY)" % len(body))
        # With Expect: 100-continue the refusal comes before the body is sent.
        data = self.server.raw(b"POST /v1/models/doubler:predict HTTP/1.1\r\nHost: x\r\n"
                               b"Content-Length: 1000000000\r\nExpect: 100-continue\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.1 413 "), data[:100])
        # The server still works.
        self.assertEqual(self.predict("doubler", {"instances": [[1]]})[0], 200)

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        self.addCleanup(conn.close)
        for i in range(3):
            got = self.server.request("POST", "/v1/models/doubler:predict",
                                      json.dumps({"instances": [[i]]}).encode(), conn=conn)
            self.assertEqual(got[:2], (200, {"predictions": [[2 * i]]}))
        # An error with an unread body closes the connection, so the body is not read as a request.
        got = self.server.request("POST", "/healthz", b"GET /healthz HTTP/1.1\r\n\r\n", conn=conn)
        self.assertEqual(got[0], 405)
        self.assertEqual(got[2].getheader("Connection"), "close")

    def test_bad_request_line_is_json(self):
        status, doc = parse_raw(self.server.raw(b"GET / HTTP/1.1 extra\r\n\r\n"))
        self.assertEqual(status, 400)
        self.assertIn("bad request", doc["error"])

    def test_one_log_line_per_request(self):
        self.server.request("GET", "/healthz?probe=1")
        self.predict("doubler", {"instances": [[1]]})
        self.predict("nope", {"instances": [[1]]})
        self.server.wait_for_line(r'^127\.0\.0\.1 "GET /healthz\?probe=1 HTTP/1\.1" 200 17 '
                                  r'[0-9.]+ms$')
        self.server.wait_for_line(r'^127\.0\.0\.1 "POST /v1/models/doubler:predict HTTP/1\.1" 200 ')
        self.server.wait_for_line(r'^127\.0\.0\.1 "POST /v1/models/nope:predict HTTP/1\.1" 404 ')
        self.assertEqual(self.server.stop(), 0)
        requests = [l for l in self.server.lines if l.startswith("127.0.0.1 ")]
        self.assertEqual(len(requests), 3, self.server.log())

    def test_sigterm(self):
        self.assertEqual(self.server.stop(), 0)
        self.assertEqual(self.server.lines[-1], "dsbuild-predict: stopped")


class ServerTest(PredictTestBase):
    """Startup, limits and shutdown: a server per test."""

    def startup_error(self, models, message, env=None, cwd=None, args=None, python=PYTHON):
        e = dict(os.environ)
        e.pop("PORT", None)
        e.update(env or {})
        p = subprocess.run([python, SERVER, "--host", "127.0.0.1"] +
                           (args if args is not None else ["--port", "0"]) + models,
                           cwd=cwd or self.tmp, env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 2, err)
        self.assertIn(message, err)
        self.assertNotIn("Traceback", err)
        return err

    def write(self, name, data):
        path = os.path.join(self.tmp, "models", name)
        with open(path, "wb") as f:
            f.write(data)
        return os.path.join("models", name)

    def test_not_a_pickle(self):
        for name, data in (("text.pkl", b"hello, world\n"), ("empty.pkl", b""),
                           ("cut.pkl", pickle.dumps([1, 2, 3] * 100)[:50]),
                           ("zip.pickle", b"PK\x03\x04" + b"\0" * 40)):
            with self.subTest(name=name):
                path = self.write(name, data)
                err = self.startup_error([path], "dsbuild-predict: '%s' is not a valid pickle file"
                                         % path)
                self.assertIn("hint: expected a model saved with pickle.dump(model, file)", err)

    def test_not_a_model(self):
        path = self.write("table.pkl", pickle.dumps({"a": 1}))
        self.startup_error([path], "'%s' holds a 'dict', which has no predict() method and is not "
                           "callable" % path)

    def test_class_not_importable(self):
        other = tempfile.mkdtemp(prefix="test_predict.cwd.")
        self.addCleanup(shutil.rmtree, other)
        path = os.path.join(self.tmp, "models", "doubler.pkl")
        err = self.startup_error([path], "'%s': cannot load the model: No module named '%s'"
                                 % (path, MODELS_MODULE), cwd=other)
        self.assertIn("put their module in the working directory (%s)" % os.path.realpath(other),
                      err)

    def test_file_problems(self):
        self.startup_error(["models/none.pkl"], "cannot read 'models/none.pkl': No such file")
        self.write("model.onnx", b"x")
        self.startup_error(["models/model.onnx"], "'models/model.onnx': unsupported model file "
                           "(expected .pkl, .pickle or .joblib)")
        os.mkdir(os.path.join(self.tmp, "sub"))
        shutil.copy(os.path.join(self.tmp, "models", "doubler.pkl"), os.path.join(self.tmp, "sub"))
        self.startup_error(["models/doubler.pkl", "sub/doubler.pkl"], "'models/doubler.pkl' and "
                           "'sub/doubler.pkl' would both be served as model 'doubler'")

    def test_joblib_missing(self):
        # A joblib that cannot be imported, whatever this machine has installed.
        shadow = os.path.join(self.tmp, "shadow")
        os.mkdir(shadow)
        with open(os.path.join(shadow, "joblib.py"), "w") as f:
            f.write("raise ImportError(\"No module named 'joblib'\")\n")
        path = self.write("model.joblib", b"not used")
        err = self.startup_error([path], "dsbuild-predict: '%s' needs joblib: add joblib to "
                                 "requirements.txt" % path, env={"PYTHONPATH": shadow})
        self.assertEqual(len(err.splitlines()), 1, err)

    def test_usage_errors(self):
        err = self.startup_error([], "the following arguments are required: MODEL_FILE")
        self.assertIn("usage: dsbuild-predict", err)
        self.startup_error(["models/doubler.pkl"], "invalid PORT 'http': expected a whole number",
                           env={"PORT": "http"}, args=[])
        self.startup_error(["models/doubler.pkl"], "invalid port 70000", args=["--port", "70000"])
        self.startup_error(["models/doubler.pkl"], "invalid DSBUILD_PREDICT_MAX_BODY '0'",
                           env={"DSBUILD_PREDICT_MAX_BODY": "0"})
        self.startup_error(["models/doubler.pkl"], "invalid DSBUILD_PREDICT_MAX_BODY '1M'",
                           env={"DSBUILD_PREDICT_MAX_BODY": "1M"})

    def test_port_in_use(self):
        s = socket.socket()
        self.addCleanup(s.close)
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        self.startup_error(["models/doubler.pkl"], "cannot listen on 127.0.0.1 port %d: " % port,
                           args=["--port", str(port)])

    def test_port_from_environment(self):
        port = free_port()
        server = Server(self, ["models/doubler.pkl"], self.tmp, env={"PORT": str(port)}, args=[])
        self.assertEqual(server.port, port)
        self.assertEqual(server.request("GET", "/healthz")[0], 200)
        self.assertEqual(server.stop(), 0)

    def test_body_limit_from_environment(self):
        server = self.start(["doubler.pkl"], env={"DSBUILD_PREDICT_MAX_BODY": "100"})
        body = json.dumps({"instances": [[1] * 20]}).encode()
        self.assertEqual(len(body), 77)
        self.assertEqual(server.request("POST", "/v1/models/doubler:predict", body)[0], 200)
        body = json.dumps({"instances": [[1] * 40]}).encode()
        code, doc, _ = server.request("POST", "/v1/models/doubler:predict", body)
        self.assertEqual(code, 413)
        self.assertIn("more than the limit of 100", doc["error"])

    def test_connection_limit(self):
        server = self.start(["doubler.pkl"], env={"DSBUILD_PREDICT_MAX_CONNECTIONS": "2"})
        conns = []
        for _ in range(2):
            c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            self.addCleanup(c.close)
            self.assertEqual(server.request("GET", "/healthz", conn=c)[0], 200)
            conns.append(c)
        status, doc = parse_raw(server.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
        self.assertEqual(status, 503)
        self.assertIn("too many connections (2)", doc["error"])
        conns[0].close()
        deadline = time.monotonic() + 10
        while True:
            status = parse_raw(server.raw(b"GET /healthz HTTP/1.0\r\n\r\n"))[0]
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(status, 200)

    def test_sigterm_lets_requests_finish(self):
        server = self.start(["slow.pkl"])
        result = {}

        def slow_request():
            result["got"] = server.request("POST", "/v1/models/slow:predict", b'{"instances": [1]}')

        t = threading.Thread(target=slow_request)
        t.start()
        started = os.path.join(self.tmp, "slow-started")
        deadline = time.monotonic() + 30
        while not os.path.exists(started) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(os.path.exists(started), server.log())
        self.assertEqual(server.stop(), 0)
        t.join(10)
        self.assertEqual(result["got"][:2], (200, {"predictions": ["done"]}))
        self.assertEqual(server.lines[-1], "dsbuild-predict: stopped")

    def test_runs_on_python_37(self):
        with open(SERVER) as f:
            ast.parse(f.read(), SERVER, feature_version=(3, 7))


def sklearn_python():
    """An interpreter that imports scikit-learn and joblib, or None."""
    for python in (PYTHON, sys.executable, "/usr/bin/python3"):
        if os.path.exists(python) and subprocess.run(
                [python, "-c", "import sklearn, joblib"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL).returncode == 0:
            return python
    return None


TRAIN = '''
import json, pickle, sys
import joblib
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X = [[0, 0], [0, 1], [1, 0], [1, 1], [5, 5], [5, 6], [6, 5], [6, 6]]
y = [0, 0, 0, 0, 1, 1, 1, 1]
clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
reg = LinearRegression().fit(X, [2 * a + b for a, b in X])
with open("models/pipeline.pkl", "wb") as f:
    pickle.dump(clf, f)
joblib.dump(reg, "models/regression.joblib")
probe = [[0.5, 0.5], [5.5, 5.5], [9, 0]]
json.dump({"pipeline": clf.predict(probe).tolist(), "regression": reg.predict(probe).tolist(),
           "probe": probe}, sys.stdout)
'''


class SklearnTest(PredictTestBase):
    def test_sklearn_models(self):
        python = sklearn_python()
        if python is None:
            self.fail("no Python here imports scikit-learn and joblib: install python3-sklearn "
                      "(Debian's, for /usr/bin/python3)")
        p = subprocess.run([python, "-c", TRAIN], cwd=self.tmp, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        expected = json.loads(p.stdout.decode())
        server = Server(self, ["models/pipeline.pkl", "models/regression.joblib"], self.tmp,
                        python=python)
        self.assertEqual(server.request("GET", "/v1/models")[1],
                         {"models": ["pipeline", "regression"]})
        body = json.dumps({"instances": expected["probe"]}).encode()
        code, doc, _ = server.request("POST", "/v1/models/pipeline:predict", body)
        self.assertEqual((code, doc), (200, {"predictions": expected["pipeline"]}))
        self.assertEqual(expected["pipeline"], [0, 1, 1])
        code, doc, _ = server.request("POST", "/v1/models/regression:predict", body)
        self.assertEqual(code, 200)
        for got, want in zip(doc["predictions"], expected["regression"]):
            self.assertAlmostEqual(got, want, places=9)
        # A wrong shape is sklearn's ValueError, as a 400 without a traceback.
        code, doc, _ = server.request("POST", "/v1/models/pipeline:predict",
                                      b'{"instances": [[1, 2, 3]]}')
        self.assertEqual(code, 400)
        self.assertTrue(doc["error"].startswith("prediction failed: ValueError: X has 3 features"),
                        doc)
        self.assertNotIn("Traceback", doc["error"])
        self.assertEqual(server.stop(), 0)

    def test_joblib_not_a_joblib_file(self):
        python = sklearn_python()
        if python is None:
            self.fail("no Python here imports joblib: install python3-sklearn (Debian's, "
                      "for /usr/bin/python3)")
        with open(os.path.join(self.tmp, "models", "bad.joblib"), "wb") as f:
            f.write(b"hello, world\n")
        p = subprocess.run([python, SERVER, "--port", "0", "models/bad.joblib"], cwd=self.tmp,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 2, err)
        self.assertIn("dsbuild-predict: 'models/bad.joblib' is not a valid joblib file", err)
        self.assertIn("hint: expected a model saved with joblib.dump(model, path)", err)
        self.assertNotIn("Traceback", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
