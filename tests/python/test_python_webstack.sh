#!/bin/bash
# Data-science web stacks from real wheels (Debian bookworm's packages repackaged by
# mkdswheels.sh) served from a local index, built on the default Debian base and run under
# podman with a published port:
#  (a) requirements `flask`, `gunicorn` and a small Flask app, `--cmd 'gunicorn ...'`: curl
#      gets JSON from it (GET and POST);
#  (b) requirement `notebook`: `jupyter notebook` as the image's user (1000) with
#      JUPYTER_TOKEN: /api answers, /api/status with the token is 200, without it 403; the
#      tree lists the app's notebook; the UI's static files are served; a kernel started
#      through the REST API runs code sent over the server's websocket.
# Each resolved set is the one Debian's pip picks from the same index.
. "$(dirname "$0")/lib-python.sh"
need patchelf patchelf
need dpkg-deb dpkg
need curl curl
podman_env
unset DSBUILD_BASE
py_cache
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || fail "no pip: apt-get install python3-pip"

step "wheels"
bash "$PYTESTS/mkdswheels.sh" "$PYCACHE/pyds" || fail "cannot make the wheels"
mkindex "$PYCACHE/pyds/wheels" "$T/idx"
serve "$T/idx"

# pip_set FILE: "name==version" lines Debian's pip picks for CPython 3.11 on glibc 2.36 x86_64.
# From the wheel folder, not the index: pip 23.0 compares a PEP 658 metadata file's Name with
# the project name without normalising ("expected 'flask', but metadata has 'Flask'").  With
# --pre: the set has one version of each project, and notebook's `Send2Trash>=1.8` is met only
# by Debian's 1.8.1b0, which PEP 440 (and dsbuild) accept as the only match but pip does not.
pip_set() {
	local plats="" i
	for i in $(seq 36 -1 17); do plats="$plats --platform manylinux_2_${i}_x86_64"; done
	rm -rf "$T/pip-target" "$T/report.json"
	PIP_CONFIG_FILE=/dev/null /usr/bin/python3 -m pip install --dry-run --report "$T/report.json" \
		--quiet --no-index --find-links "$PYCACHE/pyds/wheels" --pre --no-cache-dir --only-binary=:all: \
		--python-version 3.11 --implementation cp --abi cp311 $plats --platform linux_x86_64 \
		--target "$T/pip-target" --ignore-installed -r "$1" >"$T/pip.log" 2>&1 ||
		fail "pip failed on $(cat "$1"): $(cat "$T/pip.log")"
	jq -r '.install[] | "\(.metadata.name | ascii_downcase | gsub("[-_.]+"; "-"))==\(.metadata.version)"' \
		"$T/report.json" | sort
}

# same_as_pip SRC: the resolved set of the last build is pip's for SRC/requirements.txt
same_as_pip() {
	local p d
	p=$(pip_set "$1/requirements.txt")
	d=$(last_json | jq -r '.python.packages[] | "\(.name)==\(.version)"' | sort)
	[ "$p" = "$d" ] || fail "dsbuild and pip differ for $(tr '\n' ' ' <"$1/requirements.txt"):
pip:
$p
dsbuild:
$d"
	echo "resolved $(printf '%s\n' "$d" | wc -l) packages, as pip does"
}

# start NAME IMAGE PORT [podman run options]: runs IMAGE detached with 127.0.0.1:PORT -> 8080
# (or the container port given with -p in the options), removed when the test ends
start() {
	local name=$1 img=$2
	shift 2
	at_exit "podman rm -f -t 0 $name"
	run podman run -d --name "$name" "$@" "$img"
	[ "$rc" = 0 ] || fail "podman run $name: $err"
}

# wait_http NAME URL [SECONDS]: polls URL until it answers any HTTP status; fails (with the
# container's log) on timeout or when the container exits
wait_http() {
	local name=$1 url=$2 secs=${3:-90} code i
	for i in $(seq $((secs * 2))); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
		[ "$code" != 000 ] && return 0
		if [ "$(podman inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
			fail "$name exited before answering $url:
$(podman logs "$name" 2>&1 | tail -n 40)"
		fi
		sleep 0.5
	done
	fail "$name does not answer $url after ${secs}s:
$(podman logs "$name" 2>&1 | tail -n 40)"
}

# http URL [curl options]: sets $code and $body
http() {
	local url=$1
	shift
	code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$@" "$url" || true)
	body=$(cat "$T/body" 2>/dev/null || true)
}

# ------------------------------------------------------------------ (a) Flask + gunicorn
step "flask + gunicorn: build"
src=$T/flaskapp
mkdir -p "$src"
printf 'flask\ngunicorn\n' >"$src/requirements.txt"
cat >"$src/app.py" <<'PY'
import sys
import flask, gunicorn, jinja2, werkzeug
from flask import Flask, jsonify, render_template_string, request

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(app="webstack", prefix=sys.prefix, flask=flask.__version__,
                   gunicorn=gunicorn.__version__, werkzeug=werkzeug.__version__,
                   jinja2=jinja2.__version__, server=request.environ.get("SERVER_SOFTWARE"))


@app.post("/echo")
def echo():
    return jsonify(got=request.get_json(), hello=render_template_string("{{ x|upper }}", x="jinja"))
PY
build_json "$src" --cache-dir "$PYCACHE" --index-url "$INDEX/simple" -o "oci:$T/flask:latest" \
	--port 8080 --cmd 'gunicorn --bind 0.0.0.0:8080 --workers 2 app:app'
last_json | jq -e '[.python.packages[] | "\(.name)==\(.version)"] == ["click==8.1.3","flask==2.2.2","gunicorn==20.1.0","itsdangerous==2.1.2","jinja2==3.1.2","markupsafe==2.1.2","setuptools==66.1.1","werkzeug==2.2.2"]' >/dev/null ||
	fail "resolved set: $(last_json | jq -c '[.python.packages[] | "\(.name)==\(.version)"]')"
same_as_pip "$src"
validate_image "$T/flask" latest
config_of "$T/flask" latest | jq -e '.config.ExposedPorts | has("8080/tcp")' >/dev/null ||
	fail "no ExposedPorts 8080/tcp: $(config_of "$T/flask" latest | jq -c .config)"

step "flask + gunicorn: run and ask"
port=$(free_port)
start ws-flask "oci:$T/flask:latest" -p "127.0.0.1:$port:8080"
wait_http ws-flask "http://127.0.0.1:$port/" 60
http "http://127.0.0.1:$port/"
assert_eq 200 "$code" "GET / (body: $body)"
printf '%s' "$body" | jq -e '.app == "webstack" and .prefix == "/opt/venv" and .flask == "2.2.2"
	and .gunicorn == "20.1.0" and .werkzeug == "2.2.2" and .jinja2 == "3.1.2"
	and (.server | startswith("gunicorn/"))' >/dev/null || fail "GET / answered: $body"
http "http://127.0.0.1:$port/echo" -X POST -H 'Content-Type: application/json' -d '{"n": [1, 2]}'
assert_eq 200 "$code" "POST /echo (body: $body)"
assert_eq '{"got":{"n":[1,2]},"hello":"JINJA"}' "$(printf '%s' "$body" | jq -c -S .)" "POST /echo"
http "http://127.0.0.1:$port/nope"
assert_eq 404 "$code" "GET /nope"
run podman logs ws-flask
assert_contains "$out$err" "Booting worker with pid" "gunicorn's log"
podman rm -f -t 0 ws-flask >/dev/null

# ------------------------------------------------------------------ (b) Jupyter Notebook
step "notebook: build"
src=$T/nb
mkdir -p "$src"
printf 'notebook\n' >"$src/requirements.txt"
cat >"$src/hello.ipynb" <<'NB'
{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
  "source": ["print('hi')"]}],
 "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
NB
# a client of the kernel's websocket, with tornado (in the image as notebook's dependency)
cat >"$src/wsrun.py" <<'PY'
import asyncio, json, sys, uuid
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect


async def main(kid):
    ws = await websocket_connect(HTTPRequest(f"ws://127.0.0.1:8888/api/kernels/{kid}/channels",
                                             headers={"Authorization": "token secret"}))
    mid = uuid.uuid4().hex
    code = "import sys, zmq; print(6 * 7, sys.prefix, zmq.zmq_version())"
    ws.write_message(json.dumps({
        "header": {"msg_id": mid, "msg_type": "execute_request", "username": "test",
                   "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
    out = []
    while True:
        m = await asyncio.wait_for(ws.read_message(), 90)
        if m is None:
            sys.exit("websocket closed")
        m = json.loads(m)
        if m.get("parent_header", {}).get("msg_id") != mid:
            continue
        if m["msg_type"] == "stream":
            out.append(m["content"]["text"])
        elif m["msg_type"] == "error":
            sys.exit("error: %s: %s" % (m["content"]["ename"], m["content"]["evalue"]))
        elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    print("".join(out), end="")


asyncio.run(main(sys.argv[1]))
PY
build_json "$src" --cache-dir "$PYCACHE" --index-url "$INDEX/simple" -o "oci:$T/nbimg:latest" \
	--port 8888 --cmd 'jupyter notebook --ip=0.0.0.0 --port=8888 --no-browser'
assert_eq 61 "$(last_json | jq '.python.packages | length')" "packages notebook pulls in"
last_json | jq -e '[.python.packages[] | "\(.name)==\(.version)"] | contains(["notebook==6.4.12",
	"jupyter-client==7.4.9","jupyter-core==4.12.0","pyzmq==24.0.1","tornado==6.2","ipykernel==6.17.0",
	"argon2-cffi==21.1.0","cffi==1.15.1","terminado==0.17.0","send2trash==1.8.1b0","setuptools==66.1.1"])' \
	>/dev/null || fail "resolved set: $(last_json | jq -c '[.python.packages[] | "\(.name)==\(.version)"]')"
same_as_pip "$src"
validate_image "$T/nbimg" latest
last_json | jq -e '[.python.packages[] | select(.requested) | .name] == ["notebook"]' >/dev/null ||
	fail "requested: $(last_json | jq -c '[.python.packages[] | select(.requested) | .name]')"

step "notebook: run as the image's user with JUPYTER_TOKEN"
config_of "$T/nbimg" latest | jq -e '.config.User == "1000:1000"' >/dev/null ||
	fail "image user: $(config_of "$T/nbimg" latest | jq -c .config.User)"
port=$(free_port)
start ws-nb "oci:$T/nbimg:latest" -p "127.0.0.1:$port:8888" -e JUPYTER_TOKEN=secret
wait_http ws-nb "http://127.0.0.1:$port/api" 120
http "http://127.0.0.1:$port/api"
assert_eq 200 "$code" "GET /api (body: $body)"
printf '%s' "$body" | jq -e '.version == "6.4.12"' >/dev/null || fail "GET /api answered: $body"
http "http://127.0.0.1:$port/api/status?token=secret"
assert_eq 200 "$code" "GET /api/status?token=secret (body: $body)"
printf '%s' "$body" | jq -e 'has("started") and .kernels == 0' >/dev/null ||
	fail "GET /api/status answered: $body"
http "http://127.0.0.1:$port/api/status" -H 'Authorization: token secret'
assert_eq 200 "$code" "GET /api/status with an Authorization header"
http "http://127.0.0.1:$port/api/status"
assert_eq 403 "$code" "GET /api/status without the token (body: $body)"
http "http://127.0.0.1:$port/api/status?token=wrong"
assert_eq 403 "$code" "GET /api/status with a wrong token"
http "http://127.0.0.1:$port/api/contents?token=secret"
assert_eq 200 "$code" "GET /api/contents (body: $body)"
printf '%s' "$body" | jq -e '[.content[].name] | index("hello.ipynb") != null' >/dev/null ||
	fail "/api/contents does not list the tree's notebook: $body"
http "http://127.0.0.1:$port/api/kernelspecs?token=secret"
assert_eq 200 "$code" "GET /api/kernelspecs (body: $body)"
printf '%s' "$body" | jq -e '.kernelspecs.python3.spec.language == "python"' >/dev/null ||
	fail "no python3 kernel spec: $body"
run podman exec ws-nb python -c 'import re; s = open("/proc/1/status").read()
print(re.search(r"^Uid:\s+(\d+)", s, re.M)[1], re.search(r"^Gid:\s+(\d+)", s, re.M)[1], open("/proc/1/cmdline").read().split("\0")[1])'
assert_eq "1000 1000 /opt/venv/bin/jupyter-notebook" "$out" "the server's user and program (err: $err)"

step "notebook: the browser UI's files (Debian's libjs-* packed into the wheel)"
http "http://127.0.0.1:$port/tree?token=secret"
assert_eq 200 "$code" "GET /tree"
assert_contains "$body" "components/requirejs/require.js" "the tree page"
for f in components/jquery/jquery.min.js components/requirejs/require.js \
	components/codemirror/lib/codemirror.js components/font-awesome/fonts/fontawesome-webfont.woff \
	notebook/js/main.min.js tree/js/main.min.js; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/static/$f" || true)
	assert_eq 200 "$code" "GET /static/$f"
done

step "notebook: code runs in a kernel through the server's websocket (ipykernel, pyzmq, libzmq)"
http "http://127.0.0.1:$port/api/kernels" -X POST -H 'Authorization: token secret' -d '{"name":"python3"}'
assert_eq 201 "$code" "POST /api/kernels (body: $body)"
kid=$(printf '%s' "$body" | jq -r .id)
run podman exec ws-nb python /workspace/wsrun.py "$kid"
[ "$rc" = 0 ] || fail "wsrun.py: $err
$(podman logs ws-nb 2>&1 | tail -n 30)"
assert_eq "42 /opt/venv 4.3.4" "$out" "the cell's output"
# The cell's output above proves the kernel ran it.  Its execution_state is
# notebook 6's own bookkeeping, fed by status messages it may not see once the
# websocket is closed (it stayed "starting" in a loaded CI run): not checked.
http "http://127.0.0.1:$port/api/kernels/$kid" -H 'Authorization: token secret'
assert_eq 200 "$code" "GET the kernel"
printf '%s' "$body" | jq -e --arg k "$kid" '.id == $k and .name == "python3"' >/dev/null ||
	fail "kernel: $body"
http "http://127.0.0.1:$port/api/kernels/$kid" -X DELETE -H 'Authorization: token secret'
assert_eq 204 "$code" "DELETE the kernel"
run podman logs ws-nb
assert_not_contains "$out$err" "Traceback" "the server's log"
