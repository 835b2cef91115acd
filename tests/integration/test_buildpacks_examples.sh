#!/bin/bash
# The buildpack pipeline end to end, on the examples that need no PyPI, on the
# default Debian base, run under podman:
#  - examples/model-api: the `predict` process (dsbuild's KServe V1 server)
#    with a published port: its predictions are those of the model itself
#    (model.pkl loaded by the host's Python), /v1/models/model, /healthz, and
#    bad input is a 400 JSON error without a traceback; the image config
#    (entrypoint = launcher, Cmd = default process, port, /data volume, user,
#    env, the io.dsbuild.metadata label) and its layers;
#  - examples/training-job: the notebook as the `job` process, its parameters
#    from the environment, result.json written to a /data volume;
#  - the launcher: `--list`, a process by name, any other command as given.
. "$(dirname "$0")/lib-buildpacks.sh"
HOSTPY=/usr/bin/python3
[ -x "$HOSTPY" ] || fail "missing /usr/bin/python3: apt-get install python3"

# ------------------------------------------------------------------ model-api
step "model-api: detect"
ok "$DSBUILD" detect --json "$EXAMPLES/model-api"
json_is "$out" '.default_process == "predict" and
	([.processes[].type] == ["predict", "job"]) and
	(.models == [{"path": "model.pkl", "size": 506, "format": "pickle"}])' "model-api plan"

step "model-api: build"
img=$T/model-api
bp_build "$EXAMPLES/model-api" "$img"
b=$(last_json)
json_is "$b" '[.processes[] | {type, default}] == [{"type": "predict", "default": true},
	{"type": "job", "default": false}]' "build --json processes"
json_is "$b" '[.buildpacks[].id] == ["dsbuild/python", "dsbuild/models", "dsbuild/predict",
	"dsbuild/job", "dsbuild/launcher"]' "build --json buildpacks"
validate_image "$img" latest
bundle=$VALIDATED_BUNDLE

step "model-api: image config"
c=$(cfg "$img")
json_is "$c" '.config.Entrypoint == ["/usr/bin/python3.11", "/opt/dsbuild/launch"]' Entrypoint
json_is "$c" '.config.Cmd == ["predict"]' Cmd
json_is "$c" '.config.ExposedPorts == {"8080/tcp": {}}' ExposedPorts
json_is "$c" '.config.Volumes == {"/data": {}}' Volumes
json_is "$c" '.config.User == "1000:1000"' User
json_is "$c" '.config.WorkingDir == "/workspace"' WorkingDir
for e in PYTHONUNBUFFERED=1 PORT=8080 HOME=/home/app; do
	json_is "$c" "any(.config.Env[]; . == \"$e\")" "Env $e"
done
meta=$(printf '%s' "$c" | jq -r '.config.Labels["io.dsbuild.metadata"]')
json_is "$meta" '[.buildpacks[].id] == ["dsbuild/python", "dsbuild/models", "dsbuild/predict",
	"dsbuild/job", "dsbuild/launcher"]' "metadata label: buildpacks"
json_is "$meta" '.default_process == "predict" and
	([.processes[] | [.type, .default, .buildpack]] ==
	 [["predict", true, "dsbuild/predict"], ["job", false, "dsbuild/job"]]) and
	(.processes[0].command == ["python3", "/opt/dsbuild/predict/server.py", "--port", "${PORT}",
	                           "model.pkl"])' "metadata label: processes"

step "model-api: layers (base..., runtime, models, app)"
json_is "$b" '.layers | length >= 4' "layer count"
json_is "$b" '.layers[-3].created_by | test("buildpack runtime")' "runtime layer third from last"
json_is "$b" '.layers[-2].created_by | test("model files")' "models layer second from last"
json_is "$b" '.layers[-1].created_by | test("app source")' "app layer last"
runtime=$(layer_list "$img" latest -3)
models=$(layer_list "$img" latest -2)
app=$(layer_list "$img" latest -1)
assert_match "$runtime" '^-rwxr-xr-x 0/0 .* opt/dsbuild/launch$' "the launcher, 0755 root"
assert_match "$runtime" '^-rw-r--r-- 0/0 .* opt/dsbuild/predict/server\.py$' "the predict server"
assert_match "$runtime" '^d[rwx-]{9} 1000/1000 .* data/?$' "/data owned by 1000"
assert_match "$models" ' workspace/model\.pkl$' "model.pkl in the models layer"
assert_eq 1 "$(printf '%s\n' "$models" | grep -c '^-')" "files in the models layer"
assert_not_contains "$app" "model.pkl" "the app layer holds model.pkl"
assert_match "$app" '^-[rwx-]{9} 1000/1000 .* workspace/model\.py$' "model.py in the app layer"
assert_match "$app" ' workspace/\.dsbuild/processes\.json$' "processes.json in the app layer"
procs=$(cat "$bundle/rootfs/workspace/.dsbuild/processes.json")
json_is "$procs" '.default == "predict" and (.processes | keys == ["job", "predict"]) and
	.processes.predict.command == ["python3", "/opt/dsbuild/predict/server.py", "--port",
	"${PORT}", "model.pkl"]' "processes.json"
# the image holds exactly the committed files of the example (+ .dsbuild)
want=$(cd "$EXAMPLES/model-api" && find . -type f ! -path './__pycache__/*' | sed 's|^\./||' | sort)
have=$(cd "$bundle/rootfs/workspace" && find . -type f ! -path './.dsbuild/*' | sed 's|^\./||' | sort)
assert_eq "$want" "$have" "files in /workspace"

step "model-api: the launcher"
prun "oci:$img:latest" --list
[ "$rc" = 0 ] || fail "--list: exit $rc: $err"
assert_match "$out" 'predict.*\(default\)' "--list marks predict as the default"
assert_match "$out" '^ *job\b|job ' "--list names job"
prun "oci:$img:latest" python3 -c 'import os, sys; print(os.getcwd(), os.getuid(), sys.prefix)'
[ "$rc" = 0 ] || fail "a command that is not a process does not run as given: $err"
assert_eq "/workspace 1000 /usr" "$out" "pass-through command"
prun "oci:$img:latest" no-such-program
assert_eq 127 "$rc" "unknown command: exit"
assert_contains "$err" "'no-such-program': command not found" "unknown command message"

step "model-api: expected predictions from the model itself (host Python)"
instances='[[5.1, 3.5, 1.4, 0.2], [5.9, 3.0, 4.2, 1.5], [6.7, 3.0, 5.2, 2.3], [6.3, 2.8, 5.1, 1.5]]'
expected=$(cd "$EXAMPLES/model-api" && "$HOSTPY" -B -c '
import json, pickle, sys
sys.path.insert(0, ".")
m = pickle.load(open("model.pkl", "rb"))
print(json.dumps(list(m.predict(json.loads(sys.argv[1])))))' "$instances") ||
	fail "the host cannot load model.pkl"
assert_eq '["setosa", "versicolor", "virginica", "versicolor"]' "$expected" \
	"the model's own predictions (examples/model-api/README.md)"

step "model-api: predict with a published port"
port=$(free_port)
start_published ma-predict "oci:$img:latest" "$port" 8080 -- predict
base=http://127.0.0.1:$port
wait_http ma-predict "$base/healthz"
http "$base/healthz"
assert_eq 200 "$code" "/healthz status"
json_is "$body" '. == {"status": "ok"}' "/healthz"
http "$base/v1/models"
assert_eq 200 "$code" "/v1/models status"
json_is "$body" '. == {"models": ["model"]}' "/v1/models"
http "$base/v1/models/model"
assert_eq 200 "$code" "/v1/models/model status"
json_is "$body" '.name == "model" and .ready == true' "/v1/models/model"
post_json "$base/v1/models/model:predict" "{\"instances\": $instances}"
assert_eq 200 "$code" "predict status ($body)"
json_is "$body" ".predictions == $expected" "predictions equal the model's"
post_json "$base/v1/models/model:predict" "{\"inputs\": [[5.1, 3.5, 1.4, 0.2]]}"
json_is "$body" '.predictions == ["setosa"]' "\"inputs\" instead of \"instances\""

step "model-api: bad requests are JSON errors without a traceback"
# check_error STATUS BODY: $code is STATUS and $body a JSON {"error": ...} without a traceback
check_error() {
	assert_eq "$1" "$code" "status for $2 (body: $body)"
	json_is "$body" '(.error | type == "string") and (.error | length > 0)' "error JSON for $2"
	assert_not_contains "$body" "Traceback" "a traceback sent to the client for $2"
	assert_not_contains "$body" 'File "' "a traceback sent to the client for $2"
}
post_json "$base/v1/models/model:predict" '{"instances": [[1, 2]]}'
check_error 400 "a row of 2 features"
post_json "$base/v1/models/model:predict" '{"instances": [[5.1, 3.5, 1.4, 0.2]'
check_error 400 "broken JSON"
post_json "$base/v1/models/model:predict" '{"rows": [[5.1, 3.5, 1.4, 0.2]]}'
check_error 400 "no instances"
post_json "$base/v1/models/nope:predict" "{\"instances\": $instances}"
check_error 404 "an unknown model"
http "$base/v1/models/model:predict"
check_error 405 "GET on :predict"
run podman logs ma-predict
assert_contains "$out$err" "Traceback" "the server logs the failed prediction's traceback"
run podman inspect -f '{{.State.Running}}' ma-predict
assert_eq true "$out" "the server survives bad requests"
podman rm -f -t 0 ma-predict >/dev/null

step "model-api: PORT from the environment"
port=$(free_port)
start_published ma-port "oci:$img:latest" "$port" 9000 -e PORT=9000 --
wait_http ma-port "http://127.0.0.1:$port/healthz"
post_json "http://127.0.0.1:$port/v1/models/model:predict" "{\"instances\": $instances}"
json_is "$body" ".predictions == $expected" "predictions on PORT=9000 (the default process)"
podman rm -f -t 0 ma-port >/dev/null

# --------------------------------------------------------------- training-job
step "training-job: build"
img=$T/training-job
bp_build "$EXAMPLES/training-job" "$img"
b=$(last_json)
validate_image "$img" latest
bundle=$VALIDATED_BUNDLE
c=$(cfg "$img")
json_is "$c" '.config.Entrypoint == ["/usr/bin/python3.11", "/opt/dsbuild/launch"]' Entrypoint
json_is "$c" '.config.Cmd == ["job"]' Cmd
json_is "$c" '.config.Volumes == {"/data": {}}' Volumes
json_is "$c" '.config.User == "1000:1000"' User
json_is "$c" '(.config.ExposedPorts // {}) == {}' "no ports for a job"
json_is "$c" 'any(.config.Env[]; . == "PYTHONUNBUFFERED=1")' "Env PYTHONUNBUFFERED"
meta=$(printf '%s' "$c" | jq -r '.config.Labels["io.dsbuild.metadata"]')
json_is "$meta" '.default_process == "job" and ([.processes[].type] == ["job"]) and
	.processes[0].command == ["python3", "/workspace/.dsbuild/jobs/train.py"] and
	([.buildpacks[].id] == ["dsbuild/python", "dsbuild/job", "dsbuild/launcher"])' \
	"metadata label"
app=$(layer_list "$img" latest -1)
assert_match "$app" '^-[rwx-]{9} 1000/1000 .* workspace/\.dsbuild/jobs/train\.py$' \
	"the converted notebook in the app layer"
assert_match "$app" ' workspace/train\.ipynb$' "the notebook itself in the app layer"
script=$(cat "$bundle/rootfs/workspace/.dsbuild/jobs/train.py")
assert_contains "$script" "_ds_param" "the job script reads its parameters from the environment"
assert_not_contains "$script" "%time" "an IPython magic left in the job script"

step "training-job: --list"
prun "oci:$img:latest" --list
[ "$rc" = 0 ] || fail "--list: exit $rc: $err"
assert_match "$out" 'job.*\(default\)' "--list"

step "training-job: job with parameters from the environment, /data a volume"
mkdir -p "$T/out"
run podman run --rm --network none -v "$T/out:/data:U" -e LEARNING_RATE=0.05 -e EPOCHS=50 \
	"oci:$img:latest" job
[ "$rc" = 0 ] || fail "the job failed (exit $rc): $err $out"
assert_file "$T/out/result.json"
r=$(cat "$T/out/result.json")
json_is "$r" '.parameters == {"epochs": 50, "learning_rate": 0.05, "output_dir": "/data",
	"seed": 0}' "result.json parameters"
# the numbers examples/training-job/README.md shows
json_is "$r" '.loss == 0.351727 and .weights == [0.626785, 0.639293] and .bias == 0.026277 and
	.train_accuracy == 0.925 and .test_accuracy == 1.0' "result.json (README's numbers)"
assert_eq 1000 "$(stat -c %u "$T/out/result.json")" "result.json owner (the image's user)"

step "training-job: the defaults (the image's Cmd), lower-case names too"
rm -rf "$T/out2"
mkdir -p "$T/out2"
run podman run --rm --network none -v "$T/out2:/data:U" "oci:$img:latest"
[ "$rc" = 0 ] || fail "the default process failed (exit $rc): $err $out"
r=$(cat "$T/out2/result.json")
json_is "$r" '.parameters == {"epochs": 20, "learning_rate": 0.1, "output_dir": "/data",
	"seed": 0} and .loss == 0.380852' "result.json with the defaults"
rm -rf "$T/out3"
mkdir -p "$T/out3"
run podman run --rm --network none -v "$T/out3:/data:U" -e seed=1 "oci:$img:latest" job
[ "$rc" = 0 ] || fail "the job with seed=1 failed (exit $rc): $err $out"
r=$(cat "$T/out3/result.json")
json_is "$r" '.parameters.seed == 1 and .train_accuracy == 0.95 and .test_accuracy == 0.9' \
	"result.json with seed=1 (README)"
