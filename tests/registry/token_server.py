#!/usr/bin/python3
"""Tiny registry token server for distribution's `auth: token:` (the flow of
Docker Hub, GHCR, Harbor).  Needs python3-jwt and python3-cryptography.

GET /token?service=...&scope=repository:NAME:pull,push[&scope=...] with HTTP
Basic auth -> {"token", "access_token", "expires_in", "issued_at"}.
POST /token (OAuth2 form: grant_type=password|refresh_token) -> the same plus
"refresh_token".  JWTs are RS256 with `kid` = the libtrust fingerprint of the
key (the registry's rootcertbundle holds the certificate).

Environment: USERS "u1:p1,u2:p2" (default testuser:testpass); ANON_PULL=1 lets
anonymous requests pull; TOKEN_TTL seconds a token is valid for (default 300;
negative = already expired); EXPIRES_IN what the answer claims (default
TOKEN_TTL) so a test can make the registry refuse a token the client thinks
is fresh.  Binds 127.0.0.1 only; exits by itself after LIFETIME seconds
(default 900).

usage: token_server.py KEY.pem CERT.pem PORT [ISSUER]
"""
import base64, datetime, hashlib, json, os, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

KEY, CERT, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
ISSUER = sys.argv[4] if len(sys.argv) > 4 else "dsbuild-test-issuer"
USERS = dict(u.split(":", 1) for u in os.environ.get("USERS", "testuser:testpass").split(","))
ANON_PULL = os.environ.get("ANON_PULL") == "1"
TTL = int(os.environ.get("TOKEN_TTL", "300"))
EXPIRES_IN = int(os.environ.get("EXPIRES_IN", str(TTL if TTL > 0 else 300)))
LIFETIME = float(os.environ.get("LIFETIME", "900"))
REFRESH = {}  # refresh token -> user

priv = open(KEY, "rb").read()
cert = x509.load_pem_x509_certificate(open(CERT, "rb").read())
der = cert.public_key().public_bytes(serialization.Encoding.DER,
                                     serialization.PublicFormat.SubjectPublicKeyInfo)
b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
KID = ":".join(b32[i:i + 4] for i in range(0, 48, 4))


def parse_scope(s):
    typ, rest = s.split(":", 1)
    name, _, actions = rest.rpartition(":")
    return typ, name, [a for a in actions.split(",") if a]


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        sys.stderr.write("token: " + (fmt % a) + "\n")

    def _send(self, code, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _deny(self, why):
        self._send(401, {"errors": [{"code": "UNAUTHORIZED", "message": why}]},
                   {"WWW-Authenticate": 'Basic realm="token"'})

    def _issue(self, user, scopes, service, with_refresh=False):
        access = []
        for s in scopes:
            for one in s.split(" "):
                if not one:
                    continue
                try:
                    typ, name, actions = parse_scope(one)
                except ValueError:
                    continue
                if user:
                    granted = [a for a in actions if a in ("pull", "push", "delete", "*")]
                else:
                    granted = [a for a in actions if a == "pull"] if ANON_PULL else []
                access.append({"type": typ, "name": name, "actions": granted})
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": user or "", "aud": service, "exp": now + TTL,
                  "nbf": now - 10 if TTL > 0 else now + TTL - 10, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        tok = jwt.encode(claims, priv, algorithm="RS256", headers={"kid": KID, "typ": "JWT"})
        out = {"token": tok, "access_token": tok, "expires_in": EXPIRES_IN,
               "issued_at": datetime.datetime.utcfromtimestamp(now).strftime("%Y-%m-%dT%H:%M:%SZ")}
        if with_refresh and user:
            rt = uuid.uuid4().hex
            REFRESH[rt] = user
            out["refresh_token"] = rt
        self._send(200, out)

    def _basic_user(self):
        ah = self.headers.get("Authorization", "")
        if not ah.startswith("Basic "):
            return None, True
        try:
            user, pw = base64.b64decode(ah[6:]).decode().split(":", 1)
        except Exception:
            return None, False
        return (user, True) if USERS.get(user) == pw else (None, False)

    def do_GET(self):
        u = urlparse(self.path)
        if u.path != "/token":
            return self._send(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
        q = parse_qs(u.query)
        user, good = self._basic_user()
        if not good:
            return self._deny("bad credentials")
        self._issue(user, q.get("scope", []), q.get("service", [""])[0])

    def do_POST(self):
        u = urlparse(self.path)
        n = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(n).decode())
        if u.path != "/token":
            return self._send(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
        grant = form.get("grant_type", [""])[0]
        user = None
        if grant == "refresh_token":
            user = REFRESH.get(form.get("refresh_token", [""])[0])
            if not user:
                return self._deny("unknown refresh token")
        elif grant == "password":
            user = form.get("username", [""])[0]
            if USERS.get(user) != form.get("password", [""])[0]:
                return self._deny("bad credentials")
        else:
            return self._send(400, {"errors": [{"code": "UNSUPPORTED", "message": grant}]})
        scopes = form.get("scope", [""])[0].split(" ")
        self._issue(user, scopes, form.get("service", [""])[0], with_refresh=True)


srv = ThreadingHTTPServer(("127.0.0.1", PORT), H)
_t = threading.Timer(LIFETIME, srv.shutdown)
_t.daemon = True
_t.start()
print("kid", KID, flush=True)
srv.serve_forever()
