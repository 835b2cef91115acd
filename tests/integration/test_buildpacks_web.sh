#!/bin/bash
# The buildpack pipeline on the examples that need packages, from a local index
# of real wheels (Debian bookworm's packages repackaged by tests/python/mkdswheels.sh
# and mkrealwheels.sh), on the default Debian base, run under podman with
# published ports:
#  - examples/flask-sklearn: the detected `web` process (gunicorn api:app)
#    answers POST /predict with the iris species, 400 on bad input; `predict`
#    is not a process of it (a web app serves the model); without api.py the
#    `predict` process serves pipeline.pkl (scikit-learn) over KServe V1;
#  - examples/notebooks: the `notebook` process (Jupyter on 8888, token from
#    $JUPYTER_TOKEN): /api answers, /api/contents with the token is 200 and
#    lists explore.ipynb, without it 403; the notebook as the `job`;
#  - examples/notebook-api: the `web` process serves the app made of the
#    notebook's "export" cells.
. "$(dirname "$0")/lib-buildpacks.sh"
need patchelf patchelf
need dpkg-deb dpkg
PYTESTS=$SRC_ROOT/tests/python
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_NO_INDEX PIP_CONFIG_FILE || true

step "wheels and the index"
bash "$PYTESTS/mkdswheels.sh" "$BPCACHE/pyds" || fail "cannot make the flask/notebook wheels"
bash "$PYTESTS/mkrealwheels.sh" "$BPCACHE/pyreal" || fail "cannot make the scikit-learn wheels"
mkdir -p "$T/wheels"
# both sets hold setuptools; the same file name is the same wheel
cp -n "$BPCACHE/pyds/wheels/"*.whl "$BPCACHE/pyreal/wheels/"*.whl "$T/wheels/"
python3 "$PYTESTS/pyindex.py" index "$T/wheels" "$T/idx" >/dev/null || fail "cannot make the index"
INDEX=
for _ in 1 2 3 4 5; do
	p=$(free_port)
	(cd "$T/idx" && exec python3 -m http.server --bind 127.0.0.1 "$p") >"$T/http.log" 2>&1 &
	pid=$!
	at_exit "kill $pid"
	for _ in $(seq 50); do
		if curl -fs -o /dev/null "http://127.0.0.1:$p/simple/"; then
			INDEX=http://127.0.0.1:$p/simple
			break 2
		fi
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	kill $pid 2>/dev/null || true
done
[ -n "$INDEX" ] || fail "cannot start python3 -m http.server: $(cat "$T/http.log")"

# ------------------------------------------------------------- flask-sklearn
step "flask-sklearn: build"
img=$T/flask-sklearn
bp_build "$EXAMPLES/flask-sklearn" "$img" --index-url "$INDEX"
b=$(last_json)
json_is "$b" '[.processes[] | {type, default}] == [{"type": "web", "default": true},
	{"type": "job", "default": false}]' "processes (web from api.py, job from train.py)"
json_is "$b" '[.python.packages[] | select(.name == "scikit-learn") | .version] == ["1.2.1"]' \
	"scikit-learn 1.2.1 installed"
validate_image "$img" latest
c=$(cfg "$img")
json_is "$c" '.config.Cmd == ["web"] and .config.ExposedPorts == {"8080/tcp": {}}' "Cmd and port"
meta=$(printf '%s' "$c" | jq -r '.config.Labels["io.dsbuild.metadata"]')
json_is "$meta" '.processes[0].command == ["gunicorn", "--bind", "0.0.0.0:${PORT}", "api:app"]' \
	"the web command"

step "flask-sklearn: web"
port=$(free_port)
start_published fs-web "oci:$img:latest" "$port" 8080 -- web
base=http://127.0.0.1:$port
wait_http fs-web "$base/health" 120
http "$base/health"
assert_eq 200 "$code" "/health (body: $body)"
json_is "$body" '. == {"status": "ok"}' "/health"
post_json "$base/predict" '{"features": [5.1, 3.5, 1.4, 0.2]}'
assert_eq 200 "$code" "POST /predict (body: $body)"
json_is "$body" '. == {"predictions": ["setosa"]}' "one flower"
post_json "$base/predict" '{"features": [[5.1, 3.5, 1.4, 0.2], [5.9, 3.0, 4.2, 1.5], [6.7, 3.0, 5.2, 2.3]]}'
json_is "$body" '. == {"predictions": ["setosa", "versicolor", "virginica"]}' "three flowers"
post_json "$base/predict" '{"features": [1, 2]}'
assert_eq 400 "$code" "bad input status (body: $body)"
json_is "$body" '.error | test("4 numbers")' "bad input error"
run podman logs fs-web
assert_contains "$out$err" "Booting worker" "gunicorn serves the app"
podman rm -f -t 0 fs-web >/dev/null

step "flask-sklearn: a web app, so no predict process"
# (tests/cases/model-and-web: the predict buildpack stays out when a web app serves the project)
prun "oci:$img:latest" predict
assert_eq 127 "$rc" "'predict' in an image whose web app serves the model"
assert_contains "$err" "'predict'" "the launcher names what it cannot run"
assert_contains "$err" "processes: job, web" "the launcher lists the processes"

step "flask-sklearn without api.py: the predict process serves pipeline.pkl (README)"
cp -r "$EXAMPLES/flask-sklearn" "$T/no-api"
rm -rf "$T/no-api/api.py" "$T/no-api/__pycache__"
img=$T/no-api-img
bp_build "$T/no-api" "$img" --index-url "$INDEX"
json_is "$(last_json)" '[.processes[] | {type, default}] == [{"type": "predict", "default": true},
	{"type": "job", "default": false}]' "processes without api.py"
json_is "$(cfg "$img")" '.config.Cmd == ["predict"]' "Cmd without api.py"
port=$(free_port)
start_published fs-predict "oci:$img:latest" "$port" 8080 --
base=http://127.0.0.1:$port
wait_http fs-predict "$base/healthz" 120
http "$base/v1/models"
json_is "$body" '. == {"models": ["pipeline"]}' "/v1/models"
post_json "$base/v1/models/pipeline:predict" '{"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'
assert_eq 200 "$code" "predict (body: $body)"
json_is "$body" '. == {"predictions": ["setosa", "virginica"]}' "KServe predictions of scikit-learn"
post_json "$base/v1/models/pipeline:predict" '{"instances": [[1, 2]]}'
assert_eq 400 "$code" "a row scikit-learn refuses (body: $body)"
assert_not_contains "$body" "Traceback" "a traceback sent to the client"
podman rm -f -t 0 fs-predict >/dev/null

# ----------------------------------------------------------------- notebooks
step "notebooks: build"
img=$T/notebooks
bp_build "$EXAMPLES/notebooks" "$img" --index-url "$INDEX"
b=$(last_json)
json_is "$b" '[.processes[] | {type, default}] == [{"type": "notebook", "default": true},
	{"type": "job", "default": false}]' "processes"
validate_image "$img" latest
c=$(cfg "$img")
json_is "$c" '.config.Cmd == ["notebook"] and .config.ExposedPorts == {"8888/tcp": {}} and
	.config.Volumes == {"/data": {}}' "Cmd, port, volume"

step "notebooks: Jupyter with a token"
port=$(free_port)
start_published nb-jupyter "oci:$img:latest" "$port" 8888 -e JUPYTER_TOKEN=change-me -- notebook
base=http://127.0.0.1:$port
wait_http nb-jupyter "$base/api" 180
http "$base/api"
assert_eq 200 "$code" "GET /api (body: $body)"
json_is "$body" '.version | type == "string"' "/api version"
http "$base/api/contents/explore.ipynb?content=0" -H 'Authorization: token change-me'
assert_eq 200 "$code" "GET /api/contents/explore.ipynb with the token (body: $body)"
json_is "$body" '.name == "explore.ipynb" and .type == "notebook"' "the notebook"
http "$base/api/contents"
assert_eq 403 "$code" "GET /api/contents without the token"
http "$base/api/contents" -H 'Authorization: token wrong'
assert_eq 403 "$code" "GET /api/contents with a wrong token"
run podman exec nb-jupyter /opt/venv/bin/python -c 'import os; print(os.getcwd(), os.getuid())'
assert_eq "/workspace 1000" "$out" "Jupyter's folder and user (err: $err)"
podman rm -f -t 0 nb-jupyter >/dev/null

step "notebooks: the notebook as a job"
prun "oci:$img:latest" job
[ "$rc" = 0 ] || fail "job: exit $rc: $err"
assert_contains "$out" "150" "the job's output (150 rows)"
assert_contains "$out" "3.76" "the job's output (mean petal length)"

# -------------------------------------------------------------- notebook-api
step "notebook-api: build"
img=$T/notebook-api
bp_build "$EXAMPLES/notebook-api" "$img" --index-url "$INDEX"
b=$(last_json)
json_is "$b" '.processes[0].type == "web" and .processes[0].default == true' "web process"
validate_image "$img" latest
bundle=$VALIDATED_BUNDLE
assert_file "$bundle/rootfs/workspace/.dsbuild/api/model.py" "the module of exported cells"
meta=$(cfg "$img" | jq -r '.config.Labels["io.dsbuild.metadata"]')
json_is "$meta" '.processes[0].command == ["gunicorn", "--bind", "0.0.0.0:${PORT}", "--pythonpath",
	"/workspace/.dsbuild/api", "model:app"]' "the web command"

step "notebook-api: web"
port=$(free_port)
start_published na-web "oci:$img:latest" "$port" 8080 --
base=http://127.0.0.1:$port
wait_http na-web "$base/health" 120
http "$base/health"
assert_eq 200 "$code" "/health (body: $body)"
json_is "$body" '. == {"status": "ok"}' "/health"
post_json "$base/predict" '{"features": [[5.1, 3.5, 1.4, 0.2], [5.9, 3.0, 4.2, 1.5], [6.7, 3.0, 5.2, 2.3]]}'
assert_eq 200 "$code" "POST /predict (body: $body)"
json_is "$body" '. == {"predictions": ["setosa", "versicolor", "virginica"]}' "three flowers"
post_json "$base/predict" '{"features": [1, 2, 3]}'
assert_eq 400 "$code" "bad input status (body: $body)"
json_is "$body" '.error | test("4 numbers")' "bad input error"
podman rm -f -t 0 na-web >/dev/null
