# Sourced by tests/registry/test_*.sh: the integration helpers
# (tests/integration/lib.sh: $T, $DSBUILD, assertions, run/ok/expect_exit,
# make_busybox_base ...) plus real registries, a token server and a fault
# proxy on 127.0.0.1, on ports the test picks, each stopped by PID when the
# test ends.
#
#   start_registry MODE [NAME]   MODE: noauth | htpasswd | tls | token
#                                sets REG (host:port), REG_LOG, REG_DIR
#   start_proxy RULES_JSON       a fault proxy in front of $REG: sets PROXY
#   make_test_image DIR TAG      busybox base (umoci) + an app layer (dsbuild)
#   reg_requests METHOD REGEX    how many such requests the registry served
#
# Users: testuser/testpass (htpasswd, tls, token).

. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

REG_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REG_USER=testuser
REG_PASS=testpass
# The registry tests wait on retries: keep the backoff short.
export DSBUILD_RETRY_BASE_MS=${DSBUILD_RETRY_BASE_MS:-50}

need docker-registry docker-registry
need curl curl
need jq jq
need skopeo skopeo

# free_port: a port nothing listens on now.
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT PID: until something accepts on 127.0.0.1:PORT (or PID dies).
wait_port() {
	local port=$1 pid=$2 i
	for i in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# bg_start NAME LOG CMD...: starts CMD in the background, remembers its PID to
# kill (TERM, then KILL) when the test ends; sets BG_PID.
bg_start() {
	local name=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1 &
	BG_PID=$!
	at_exit "kill $BG_PID; sleep 0.2; kill -9 $BG_PID"
}

_reg_tls_material() {
	local d=$1
	[ -f "$d/ca.crt" ] && return 0
	need openssl openssl
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dsbuild test CA" \
		-keyout "$d/ca.key" -out "$d/ca.crt" >/dev/null 2>&1 || fail "openssl: test CA"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$d/registry.key" -out "$d/registry.csr" >/dev/null 2>&1 || fail "openssl: csr"
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$d/ext.cnf"
	openssl x509 -req -in "$d/registry.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
		-CAcreateserial -days 2 -extfile "$d/ext.cnf" -out "$d/registry.crt" >/dev/null 2>&1 ||
		fail "openssl: sign the registry's certificate"
}

_reg_htpasswd() {
	need htpasswd apache2-utils
	htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$1" 2>/dev/null || fail "htpasswd"
}

# start_token_server DIR: TOKEN_PORT, TOKEN_LOG, TOKEN_DIR (key/cert).
start_token_server() {
	local d=$1
	need openssl openssl
	/usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null ||
		fail "the token server needs python3-jwt and python3-cryptography (apt-get install python3-jwt python3-cryptography)"
	mkdir -p "$d"
	if [ ! -f "$d/token.crt" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dsbuild token" \
			-keyout "$d/token.key" -out "$d/token.crt" >/dev/null 2>&1 || fail "openssl: token key"
	fi
	TOKEN_PORT=$(free_port)
	TOKEN_LOG=$d/token.log
	TOKEN_DIR=$d
	bg_start token "$TOKEN_LOG" /usr/bin/python3 "$REG_TESTS_DIR/token_server.py" \
		"$d/token.key" "$d/token.crt" "$TOKEN_PORT"
	TOKEN_PID=$BG_PID
	wait_port "$TOKEN_PORT" "$TOKEN_PID" || fail "token server did not start: $(cat "$TOKEN_LOG")"
}

# start_registry MODE [NAME]
start_registry() {
	local mode=$1 name=${2:-reg} d port auth="" tls="" scheme=http try
	d=$T/$name
	mkdir -p "$d/data"
	case "$mode" in
	noauth) ;;
	htpasswd | tls)
		_reg_htpasswd "$d/htpasswd"
		auth="auth:
  htpasswd:
    realm: dsbuild-test
    path: $d/htpasswd"
		;;
	token)
		start_token_server "$d/token"
		auth="auth:
  token:
    realm: http://127.0.0.1:$TOKEN_PORT/token
    service: dsbuild-test-registry
    issuer: dsbuild-test-issuer
    rootcertbundle: $d/token/token.crt"
		;;
	*) fail "start_registry: unknown mode '$mode'" ;;
	esac
	if [ "$mode" = tls ]; then
		_reg_tls_material "$T/tls"
		tls="  tls:
    certificate: $T/tls/registry.crt
    key: $T/tls/registry.key"
		scheme=https
	fi
	for try in 1 2 3; do
		port=$(free_port)
		cat >"$d/config.yml" <<-EOF
		version: 0.1
		log:
		  level: info
		  formatter: text
		  accesslog:
		    disabled: false
		storage:
		  filesystem:
		    rootdirectory: $d/data
		  delete:
		    enabled: true
		$auth
		http:
		  addr: 127.0.0.1:$port
		  secret: dsbuild-test-secret
		$tls
		health:
		  storagedriver:
		    enabled: false
		EOF
		bg_start registry "$d/registry.log" docker-registry serve "$d/config.yml"
		REG_PID=$BG_PID
		if wait_port "$port" "$REG_PID"; then
			break
		fi
		[ $try = 3 ] && fail "docker-registry did not start: $(tail -20 "$d/registry.log")"
	done
	REG=127.0.0.1:$port
	REG_LOG=$d/registry.log
	REG_DIR=$d
	REG_SCHEME=$scheme
}

# start_proxy RULES_JSON: a fault proxy to $REG; sets PROXY and PROXY_LOG.
start_proxy() {
	local rules=$1 port
	port=$(free_port)
	PROXY_LOG=$T/proxy.$port.log
	: >"$PROXY_LOG"
	bg_start proxy "$T/proxy.$port.out" /usr/bin/python3 "$REG_TESTS_DIR/faultproxy.py" \
		--listen "$port" --target "$REG" --log "$PROXY_LOG" --rules "$rules" --lifetime 600
	PROXY_PID=$BG_PID
	wait_port "$port" "$PROXY_PID" || fail "fault proxy did not start: $(cat "$T/proxy.$port.out")"
	PROXY=127.0.0.1:$port
}

# proxy_count JQ-FILTER: log entries of the proxy matching a jq condition.
proxy_count() {
	jq -c "select($1)" "$PROXY_LOG" | wc -l
}

# reg_requests METHOD REGEX: requests the registry answered (its access log).
reg_requests() {
	grep -E "\"$1 [^\"]*$2" "$REG_LOG" | wc -l || true
}

# make_test_image DIR TAG [SIZE_KB]: busybox base made by umoci plus an app
# layer with SIZE_KB (default 2048) of random data made by dsbuild.
make_test_image() {
	local dir=$1 tag=$2 kb=${3:-2048} src
	[ -d "$T/bb-base" ] || make_busybox_base "$T/bb-base" latest
	src=$T/src.$RANDOM
	mkdir -p "$src"
	head -c $((kb * 1024)) /dev/urandom >"$src/data.bin"
	echo "app $RANDOM" >"$src/app.txt"
	ok "$DSBUILD" build -q "$src" --base "oci:$T/bb-base:latest" --cmd 'cat /workspace/app.txt' \
		-o "oci:$dir:$tag"
	rm -rf "$src"
}

# skopeo_digest REF [skopeo options]: the manifest digest skopeo sees.
skopeo_digest() {
	local ref=$1
	shift
	skopeo inspect "$@" "$ref" | jq -r .Digest
}

# dsbuild_supports_push: fail clearly when the binary has no push command.
require_push_command() {
	run "$DSBUILD" push --help
	[ "$rc" = 0 ] || fail "this dsbuild has no 'push' command (cmd/main.c must list push, copy, login, logout)"
}
