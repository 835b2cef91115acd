#!/usr/bin/env python3
"""dsbuild-predict: serve pickled models over HTTP with the KServe V1 protocol.

    python server.py [--port N] [--host H] MODEL_FILE...

Installed in images as /opt/dsbuild/predict/server.py.  Each MODEL_FILE (.pkl,
.pickle or .joblib) is loaded at startup and served under its file stem:

    GET  /                          this server's endpoints and models
    GET  /healthz                   {"status": "ok"}
    GET  /v1/models                 {"models": [NAME, ...]}
    GET  /v1/models/NAME            {"name": NAME, "ready": true}
    POST /v1/models/NAME:predict    {"instances": [...]} -> {"predictions": [...]}

Errors are JSON {"error": "..."}; tracebacks go to stderr only, one log line per
request too.  Standard library only (joblib when a .joblib model is served);
runs on Python 3.7 and later.
"""

import argparse
import json
import math
import os
import pickle
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

PROG = "dsbuild-predict"
DEFAULT_PORT = 8080
DEFAULT_HOST = "0.0.0.0"
DEFAULT_MAX_BODY = 16 << 20
DEFAULT_MAX_CONNECTIONS = 64
# An idle or slow client loses its connection after this many seconds.
IDLE_TIMEOUT = 60
# After refusing a request body, read and drop it for at most this long / this much.
LINGER_TIME = 2
LINGER_BYTES = 256 << 20
# On SIGTERM, requests in progress get this long to finish.
SHUTDOWN_GRACE = 10
# The longest exception message sent back to a client.
MAX_ERROR_TEXT = 2000
# The deepest nesting of a prediction result that is converted to JSON.
MAX_RESULT_DEPTH = 64
MODEL_SUFFIXES = (".pkl", ".pickle", ".joblib")

ENDPOINTS = {
    "GET /": "this index",
    "GET /healthz": "liveness: {\"status\": \"ok\"}",
    "GET /v1/models": "the model names: {\"models\": [...]}",
    "GET /v1/models/{name}": "one model's status: {\"name\": ..., \"ready\": true}",
    "POST /v1/models/{name}:predict":
        "{\"instances\": [...]} (or \"inputs\") -> {\"predictions\": [...]}",
}

_log_lock = threading.Lock()


def log(line):
    """Writes one line to stderr in a single write, so threads do not interleave."""
    with _log_lock:
        try:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def log_traceback(header):
    log(header + "\n" + traceback.format_exc().rstrip("\n"))


class StartupError(Exception):
    def __init__(self, message, hint=None):
        Exception.__init__(self, message)
        self.message = message
        self.hint = hint


def _short(text, limit=MAX_ERROR_TEXT):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."


def _type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# ---------------------------------------------------------------- models

_IMPORT_HINT = ("the model's classes must be importable when it loads: put their module in the "
                "working directory ({cwd}) or add their package to requirements.txt")


def _load_pickle(path):
    with open(path, "rb") as f:
        try:
            return pickle.load(f)
        except (ImportError, AttributeError) as e:
            raise StartupError("'%s': cannot load the model: %s" % (path, _short(e, 500)),
                               hint=_IMPORT_HINT.format(cwd=os.getcwd()))
        except Exception as e:
            raise StartupError("'%s' is not a valid pickle file (%s: %s)"
                               % (path, type(e).__name__, _short(e, 500)),
                               hint="expected a model saved with pickle.dump(model, file)")


def _load_joblib(path):
    try:
        import joblib
    except ImportError:
        raise StartupError("'%s' needs joblib: add joblib to requirements.txt" % path)
    # joblib.load opens the file itself; check it first for a plain message.
    with open(path, "rb"):
        pass
    try:
        return joblib.load(path)
    except (ImportError, AttributeError) as e:
        raise StartupError("'%s': cannot load the model: %s" % (path, _short(e, 500)),
                           hint=_IMPORT_HINT.format(cwd=os.getcwd()))
    except Exception as e:
        raise StartupError("'%s' is not a valid joblib file (%s: %s)"
                           % (path, type(e).__name__, _short(e, 500)),
                           hint="expected a model saved with joblib.dump(model, path)")


def model_name(path):
    base = os.path.basename(path)
    stem, suffix = os.path.splitext(base)
    return stem, suffix.lower()


class Model(object):
    def __init__(self, name, path, obj):
        self.name = name
        self.path = path
        self.obj = obj
        predict = getattr(obj, "predict", None)
        if callable(predict):
            self.fn = predict
        elif callable(obj):
            self.fn = obj
        else:
            raise StartupError("'%s' holds a '%s', which has no predict() method and is not "
                               "callable" % (path, type(obj).__name__),
                               hint="save the fitted model itself, e.g. pickle.dump(model, file)")
        # Pickled objects are not all thread-safe: one prediction at a time per model.
        self.lock = threading.Lock()

    def predict(self, instances):
        with self.lock:
            return self.fn(instances)


def load_models(paths):
    models = {}
    for path in paths:
        name, suffix = model_name(path)
        if suffix not in MODEL_SUFFIXES or not name:
            raise StartupError("'%s': unsupported model file (expected .pkl, .pickle or .joblib)"
                               % path)
        if name in models:
            raise StartupError("'%s' and '%s' would both be served as model '%s'"
                               % (models[name].path, path, name),
                               hint="rename one of the files: a model's name is its file stem")
        try:
            if suffix == ".joblib":
                obj = _load_joblib(path)
            else:
                obj = _load_pickle(path)
        except OSError as e:
            raise StartupError("cannot read '%s': %s" % (path, e.strerror or e))
        models[name] = Model(name, path, obj)
    return models


def to_json(value, depth=0):
    """Converts a prediction to plain JSON values (numpy arrays and scalars included).

    Non-finite floats become null, as JSON has no NaN or Infinity.
    """
    if depth > MAX_RESULT_DEPTH:
        raise ValueError("nested more than %d levels deep" % MAX_RESULT_DEPTH)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [to_json(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return dict((k if isinstance(k, str) else str(to_json(k, depth + 1)), to_json(v, depth + 1))
                    for k, v in value.items())
    # numpy arrays and scalars, pandas Series: tolist(); DataFrames: to_numpy().
    for method in ("tolist", "to_numpy", "item"):
        fn = getattr(value, method, None)
        if callable(fn):
            converted = fn()
            if converted is not value:
                return to_json(converted, depth + 1)
    raise TypeError("cannot encode %s as JSON" % type(value).__name__)


# ------------------------------------------------------------------ HTTP

_CONTENT_LENGTH = re.compile(r"[0-9]{1,19}")


class HTTPError(Exception):
    def __init__(self, code, message, headers=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.headers = headers or {}


def _printable(text, limit=300):
    out = []
    for c in text[:limit]:
        out.append(c if " " <= c < "\x7f" else "\\x%02x" % (ord(c) & 0xff))
    return "".join(out) + ("..." if len(text) > limit else "")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return PROG

    def setup(self):
        self.timeout = self.server.idle_timeout
        BaseHTTPRequestHandler.setup(self)

    def parse_request(self):
        self._start = time.monotonic()
        self._body_read = False
        self._replied = False
        return BaseHTTPRequestHandler.parse_request(self)

    # Unknown methods get 405 (or 404 for an unknown path), not the base class's 501.
    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self):
        server = self.server
        server.enter()
        try:
            self._handle()
        except HTTPError as e:
            self.reply(e.code, {"error": e.message}, e.headers)
        except (ConnectionError, socket.timeout):
            raise  # the client went away: Server.handle_error logs one line
        except Exception:
            log_traceback("%s: internal error on %s" % (PROG, _printable(self.requestline)))
            if not self._replied:
                self.reply(500, {"error": "internal error; the server log has the details"})
        finally:
            server.leave()

    do_GET = do_HEAD = do_POST = _dispatch

    def _path(self):
        if self.path.startswith("/"):
            return self.path.split("?", 1)[0].split("#", 1)[0]
        return urlsplit(self.path).path  # an absolute URI

    def _route(self):
        """Returns (endpoint, model name, allowed methods)."""
        path = self._path()
        if len(path) > 1:
            path = path.rstrip("/")
        if path in ("", "/"):
            return "index", None, ("GET", "HEAD")
        if path == "/healthz":
            return "health", None, ("GET", "HEAD")
        if path == "/v1/models":
            return "models", None, ("GET", "HEAD")
        prefix = "/v1/models/"
        if path.startswith(prefix) and "/" not in path[len(prefix):]:
            rest = unquote(path[len(prefix):])
            if rest in self.server.models:
                return "model", rest, ("GET", "HEAD")
            if rest.endswith(":predict"):
                return "predict", rest[:-len(":predict")], ("POST",)
            if ":" in rest:
                raise HTTPError(404, "unknown verb ':%s' (this server only has :predict)"
                                % _short(rest.rpartition(":")[2], 100))
            return "model", rest, ("GET", "HEAD")
        raise HTTPError(404, "no endpoint '%s'; GET / lists the endpoints" % _short(path, 200))

    def _model(self, name):
        model = self.server.models.get(name)
        if model is None:
            raise HTTPError(404, "model '%s' not found; models: %s"
                            % (_short(name, 200), ", ".join(sorted(self.server.models))))
        return model

    def _handle(self):
        endpoint, name, allowed = self._route()
        if self.command not in allowed:
            raise HTTPError(405, "method %s is not allowed on %s; use %s"
                            % (_short(self.command, 20), _short(self._path(), 200),
                               " or ".join(allowed)),
                            {"Allow": ", ".join(allowed)})
        models = self.server.models
        if endpoint == "index":
            self.reply(200, {"server": PROG, "models": sorted(models), "endpoints": ENDPOINTS})
        elif endpoint == "health":
            self.reply(200, {"status": "ok"})
        elif endpoint == "models":
            self.reply(200, {"models": sorted(models)})
        elif endpoint == "model":
            model = self._model(name)
            self.reply(200, {"name": model.name, "ready": True})
        else:
            model = self._model(name)
            instances = self._instances(self._read_body())
            self.reply(200, {"predictions": self._predict(model, instances)})

    def _check_length(self):
        """Returns the body's length from Content-Length, or raises HTTPError."""
        if self.headers.get("Transfer-Encoding") is not None:
            raise HTTPError(411, "chunked request bodies are not supported; send Content-Length")
        values = self.headers.get_all("Content-Length") or []
        if not values:
            raise HTTPError(411, "a Content-Length header is required")
        values = set(v.strip() for v in values)
        if len(values) != 1:
            raise HTTPError(400, "conflicting Content-Length headers")
        value = values.pop()
        if not _CONTENT_LENGTH.fullmatch(value):
            raise HTTPError(400, "invalid Content-Length '%s'" % _short(value, 40))
        length = int(value)
        limit = self.server.max_body
        if length > limit:
            raise HTTPError(413, "request body is %d bytes, more than the limit of %d "
                            "(DSBUILD_PREDICT_MAX_BODY)" % (length, limit))
        return length

    def handle_expect_100(self):
        # Refuse a body we would refuse anyway before the client sends it.
        if self.command == "POST":
            try:
                self._check_length()
            except HTTPError as e:
                self.reply(e.code, {"error": e.message}, e.headers)
                return False
        return BaseHTTPRequestHandler.handle_expect_100(self)

    def _read_body(self):
        try:
            length = self._check_length()
        except HTTPError:
            # Where this request's body ends is unknown, so where the next request starts is too.
            self.close_connection = True
            raise
        data = self.rfile.read(length)
        self._body_read = True
        if len(data) != length:
            self.close_connection = True
            raise HTTPError(400, "request body ended after %d of %d bytes" % (len(data), length))
        return data

    def _instances(self, body):
        example = "{\"instances\": [[1.0, 2.0], [3.0, 4.0]]}"
        try:
            doc = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise HTTPError(400, "request body is not UTF-8 text")
        except RecursionError:
            raise HTTPError(400, "request body is nested too deeply")
        except ValueError as e:
            raise HTTPError(400, "request body is not valid JSON: %s" % _short(e, 200))
        if not isinstance(doc, dict):
            raise HTTPError(400, "expected a JSON object like %s, not %s"
                            % (example, _type_name(doc)))
        keys = [k for k in ("instances", "inputs") if k in doc]
        if not keys:
            raise HTTPError(400, "expected \"instances\" (or \"inputs\") in the request, like %s"
                            % example)
        if len(keys) > 1:
            raise HTTPError(400, "give \"instances\" or \"inputs\", not both")
        instances = doc[keys[0]]
        if not isinstance(instances, list):
            raise HTTPError(400, "\"%s\" must be a list, not %s; like %s"
                            % (keys[0], _type_name(instances), example))
        if not instances:
            raise HTTPError(400, "\"%s\" is empty" % keys[0])
        return instances

    def _predict(self, model, instances):
        try:
            result = model.predict(instances)
        except (ValueError, TypeError) as e:
            # What models raise for input of the wrong shape or type (sklearn's
            # "X has 3 features, but ... is expecting 4"): the client's to fix.
            log_traceback("%s: model '%s': prediction failed" % (PROG, model.name))
            raise HTTPError(400, "prediction failed: %s: %s" % (type(e).__name__, _short(e)))
        except Exception as e:
            log_traceback("%s: model '%s': prediction failed" % (PROG, model.name))
            raise HTTPError(500, "prediction failed: %s: %s" % (type(e).__name__, _short(e)))
        try:
            return to_json(result)
        except (TypeError, ValueError, RecursionError) as e:
            log_traceback("%s: model '%s': cannot encode the prediction" % (PROG, model.name))
            raise HTTPError(500, "prediction failed: the model returned %s, which cannot be "
                            "sent as JSON: %s" % (type(result).__name__, _short(e, 200)))

    def reply(self, code, doc, headers=None):
        body = (json.dumps(doc, allow_nan=False) + "\n").encode("utf-8")
        unread = not self._body_read and self._may_have_body()
        if unread:
            # The unread body would be taken for the next request.
            self.close_connection = True
        if getattr(self, "request_version", None) == "HTTP/0.9":
            # Not a real HTTP/0.9 client but an unparsable request line: answer with headers.
            self.request_version = "HTTP/1.0"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._replied = True
        if unread:
            self._linger()
        elapsed = (time.monotonic() - getattr(self, "_start", time.monotonic())) * 1000
        log('%s "%s" %d %d %.1fms' % (self.client_address[0], _printable(self.requestline),
                                      code, len(body), elapsed))

    def _linger(self):
        """Reads and drops what the client still sends, for a while, before closing.

        Closing a socket with unread input resets the connection, and the client
        would lose the reply it has not read yet.
        """
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_TIME
            dropped = 0
            while dropped < LINGER_BYTES:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.connection.settimeout(left)
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                dropped += len(chunk)
        except OSError:
            pass

    def _may_have_body(self):
        headers = getattr(self, "headers", None)
        if headers is None:
            return True
        if headers.get("Transfer-Encoding") is not None:
            return True
        length = headers.get("Content-Length")
        return length is not None and length.strip() != "0"

    def send_error(self, code, message=None, explain=None):
        # The base class's errors (bad request line, headers too long...) as JSON too.
        self.close_connection = True
        if not hasattr(self, "_body_read"):
            self._start = time.monotonic()
            self._body_read = False
        if not message:
            message = self.responses.get(code, ("error",))[0]
        self.reply(code, {"error": message[:1].lower() + message[1:]})

    def log_request(self, code="-", size="-"):
        pass  # reply() logs, with the time taken

    def log_message(self, format, *args):
        message = format % args
        if message.startswith("Request timed out"):
            return  # an idle keep-alive connection closing
        log("%s: %s %s" % (PROG, self.client_address[0], _printable(message)))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, models, max_body, max_connections, ipv6=False):
        self.models = models
        self.max_body = max_body
        self.max_connections = max_connections
        self.idle_timeout = IDLE_TIMEOUT
        self._lock = threading.Lock()
        self._connections = 0
        self._busy = 0
        if ipv6:
            self.address_family = socket.AF_INET6
        ThreadingHTTPServer.__init__(self, address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind would look the host up in DNS; nothing here needs its name.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    def process_request(self, request, client_address):
        with self._lock:
            full = self._connections >= self.max_connections
            if not full:
                self._connections += 1
        if full:
            body = (json.dumps({"error": "too many connections (%d); try again later"
                                % self.max_connections}) + "\n").encode()
            try:
                request.settimeout(1)
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\n"
                                b"Content-Type: application/json\r\n"
                                b"Content-Length: " + str(len(body)).encode() + b"\r\n"
                                b"Connection: close\r\n\r\n" + body)
            except OSError:
                pass
            log("%s: %s refused: %d connections open" % (PROG, client_address[0],
                                                         self.max_connections))
            self.shutdown_request(request)
            return
        try:
            ThreadingHTTPServer.process_request(self, request, client_address)
        except Exception:
            self._leave_connection()
            raise

    def process_request_thread(self, request, client_address):
        try:
            ThreadingHTTPServer.process_request_thread(self, request, client_address)
        finally:
            self._leave_connection()

    def _leave_connection(self):
        with self._lock:
            self._connections -= 1

    def enter(self):
        with self._lock:
            self._busy += 1

    def leave(self):
        with self._lock:
            self._busy -= 1

    def busy(self):
        with self._lock:
            return self._busy

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout)):
            log("%s: %s: connection lost: %s" % (PROG, client_address[0], exc))
        else:
            log_traceback("%s: error serving %s" % (PROG, client_address[0]))


# ------------------------------------------------------------------ main

def _env_int(name, default, minimum):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if not re.fullmatch(r"[0-9]{1,19}", value.strip()) or int(value) < minimum:
        raise StartupError("invalid %s '%s': expected a whole number of at least %d"
                           % (name, _short(value, 40), minimum))
    return int(value)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Serve pickled models with the KServe V1 protocol.",
        epilog="Endpoints: " + "; ".join(sorted(ENDPOINTS)) + ". Environment: PORT (default "
               "port), DSBUILD_PREDICT_MAX_BODY (request body limit in bytes, default %d), "
               "DSBUILD_PREDICT_MAX_CONNECTIONS (default %d)."
               % (DEFAULT_MAX_BODY, DEFAULT_MAX_CONNECTIONS))
    parser.add_argument("--port", type=int, default=None,
                        help="port to listen on (default: $PORT, else %d)" % DEFAULT_PORT)
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="address to listen on (default: %s)" % DEFAULT_HOST)
    parser.add_argument("models", nargs="+", metavar="MODEL_FILE",
                        help="a model saved with pickle (.pkl, .pickle) or joblib (.joblib)")
    args = parser.parse_args(argv)
    if args.port is None:
        args.port = _env_int("PORT", DEFAULT_PORT, 0)
    if not 0 <= args.port <= 65535:
        raise StartupError("invalid port %d: expected 0 to 65535" % args.port)
    return args


def _stop_now(signum, frame):
    raise SystemExit(0)


def serve(argv):
    # Until the server runs, a SIGTERM ends the process at once (as PID 1 it would be ignored).
    signal.signal(signal.SIGTERM, _stop_now)
    args = parse_args(argv)
    max_body = _env_int("DSBUILD_PREDICT_MAX_BODY", DEFAULT_MAX_BODY, 1)
    max_connections = _env_int("DSBUILD_PREDICT_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS, 1)

    # Custom classes a model was pickled with live in the project (/workspace).
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    models = load_models(args.models)

    try:
        server = Server((args.host, args.port), models, max_body, max_connections,
                        ipv6=":" in args.host)
    except (OSError, OverflowError) as e:
        raise StartupError("cannot listen on %s port %d: %s"
                           % (args.host, args.port, getattr(e, "strerror", None) or e))

    stopping = threading.Event()

    def stop(signum, frame):
        if not stopping.is_set():
            stopping.set()
            # shutdown() waits for serve_forever(), which runs in this (the main) thread.
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    host, port = server.server_address[:2]
    shown = "[%s]" % host if ":" in host else host
    log("%s: serving %s on http://%s:%d" % (
        PROG, ", ".join("'%s' (%s)" % (m.name, m.path) for _, m in sorted(models.items())),
        shown, port))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    deadline = time.monotonic() + SHUTDOWN_GRACE
    while server.busy() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = server.busy()
    if left:
        log("%s: stopping with %d request(s) unfinished" % (PROG, left))
    else:
        log("%s: stopped" % PROG)
    return 0


def main(argv):
    try:
        return serve(argv)
    except StartupError as e:
        log("%s: %s" % (PROG, e.message))
        if e.hint:
            log("hint: %s" % e.hint)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
