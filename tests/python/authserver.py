#!/usr/bin/env python3
"""authserver.py DIR PORT USER PASSWORD: serves DIR like `python3 -m http.server`,
but only to requests with HTTP Basic credentials USER:PASSWORD (401 otherwise),
and answers PEP 691 JSON (simple/<project>/index.json) when the Accept header
asks for application/vnd.pypi.simple.v1+json.  Logs each request's path and
whether it carried credentials to stderr."""
import base64, functools, http.server, os, sys

d, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
want = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        auth = self.headers.get("Authorization")
        sys.stderr.write(f"GET {self.path} auth={'yes' if auth else 'no'} "
                         f"accept={self.headers.get('Accept', '')}\n")
        if auth != want:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="idx"')
            self.end_headers()
            return
        p = self.translate_path(self.path)
        if "application/vnd.pypi.simple.v1+json" in self.headers.get("Accept", "") and \
                os.path.isfile(os.path.join(p, "index.json")):
            data = open(os.path.join(p, "index.json"), "rb").read()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                functools.partial(H, directory=d)).serve_forever()
