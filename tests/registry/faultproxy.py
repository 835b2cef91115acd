#!/usr/bin/python3
"""A fault-injecting HTTP/1.1 proxy for the registry tests (stdlib only).

Sits between a client and a registry on 127.0.0.1, understands just enough
HTTP/1.1 framing (Content-Length, chunked, HEAD/204/304) to act on single
requests of a keep-alive connection, and applies rules to requests whose
"METHOD PATH?QUERY[ Content-Range: A-B]" matches a regular expression:

  {"match": "PATCH /v2/.*/blobs/uploads/", "skip": 0, "times": 1,
   "action": "cut_request", "after": 1000000}

actions:
  status        answer without forwarding: "code", optional "headers" {..}
                and "body"; the request body is read and dropped
  cut_request   forward the head and "after" bytes of the body, then drop
                both connections (the upload is cut in the middle)
  cut_response  forward the request, relay "after" bytes of the answer's
                body, then drop both connections
  stall         wait "seconds" before forwarding (the client may give up)
"skip" lets that many matches through first; "times" is how many matches
the rule then applies to (default 1).  Every request is logged as one JSON
line to --log.  The proxy binds 127.0.0.1 only and exits by itself after
--lifetime seconds.

usage: faultproxy.py --listen PORT --target HOST:PORT --log FILE
                     [--rules JSON | --rules-file FILE] [--lifetime S]
"""
import argparse
import asyncio
import json
import re
import sys
import time

MAX_HEAD = 65536


class Rule:
    def __init__(self, d):
        self.match = re.compile(d["match"])
        self.skip = int(d.get("skip", 0))
        self.times = int(d.get("times", 1))
        self.action = d["action"]
        self.d = d
        self.seen = 0
        self.applied = 0

    def take(self, line):
        if not self.match.search(line):
            return False
        self.seen += 1
        if self.seen <= self.skip or self.applied >= self.times:
            return False
        self.applied += 1
        return True


class Proxy:
    def __init__(self, target, rules, log):
        self.host, port = target.rsplit(":", 1)
        self.port = int(port)
        self.rules = rules
        self.log = log
        self.n = 0

    def write_log(self, entry):
        self.log.write(json.dumps(entry, sort_keys=True) + "\n")
        self.log.flush()

    async def read_head(self, reader, prefix=b""):
        data = prefix + await reader.readuntil(b"\r\n\r\n")
        if len(data) > MAX_HEAD:
            raise ValueError("head too large")
        lines = data.decode("latin-1").split("\r\n")
        headers = {}
        for l in lines[1:]:
            if ":" in l:
                k, v = l.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        return data, lines[0], headers

    async def relay_body(self, reader, writer, headers, limit=None, no_body=False):
        """Relays one message body; returns bytes relayed, stops after limit."""
        if no_body:
            return 0
        sent = 0

        async def put(chunk):
            nonlocal sent
            if limit is not None and sent + len(chunk) > limit:
                chunk = chunk[: limit - sent]
            if writer is not None and chunk:
                writer.write(chunk)
                await writer.drain()
            sent += len(chunk)
            return limit is not None and sent >= limit

        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                line = await reader.readuntil(b"\r\n")
                size = int(line.split(b";")[0].strip(), 16)
                if await put(line):
                    return sent
                data = await reader.readexactly(size + 2)
                if await put(data):
                    return sent
                if size == 0:
                    return sent
        if "content-length" in headers:
            left = int(headers["content-length"])
            while left:
                data = await reader.read(min(left, 65536))
                if not data:
                    raise ConnectionError("body cut short")
                left -= len(data)
                if await put(data):
                    return sent
            return sent
        return None  # no framing: caller decides (requests: no body)

    async def handle(self, creader, cwriter):
        ureader = uwriter = None
        try:
            # Not HTTP (a TLS ClientHello): hang up, as a plain HTTP server would.
            first = await creader.read(1)
            if not first or not (65 <= first[0] <= 90):
                return
            prefix = first
            while True:
                try:
                    head, reqline, h = await self.read_head(creader, prefix)
                    prefix = b""
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                parts = reqline.split(" ")
                method, path = parts[0], parts[1] if len(parts) > 1 else ""
                line = method + " " + path
                if "content-range" in h:
                    line += " Content-Range: " + h["content-range"]
                rule = next((r for r in self.rules if r.take(line)), None)
                self.n += 1
                entry = {"n": self.n, "method": method, "path": path, "time": time.time(),
                         "content_range": h.get("content-range"), "range": h.get("range"),
                         "action": rule.action if rule else None}
                if rule and rule.action == "status":
                    body_len = await self.relay_body(creader, None, h)
                    code = int(rule.d["code"])
                    body = rule.d.get("body", "").encode()
                    resp = "HTTP/1.1 %d Injected\r\n" % code
                    extra = rule.d.get("headers", {})
                    # a HEAD answer need not say a length (its body is never sent)
                    if method != "HEAD" and "Content-Length" not in extra:
                        resp += "Content-Length: %d\r\n" % len(body)
                    for k, v in extra.items():
                        resp += "%s: %s\r\n" % (k, v)
                    resp += "\r\n"
                    cwriter.write(resp.encode() + (body if method != "HEAD" else b""))
                    await cwriter.drain()
                    entry.update(status=code, req_bytes=body_len)
                    self.write_log(entry)
                    if rule.d.get("close"):
                        return
                    continue
                if rule and rule.action == "stall":
                    await asyncio.sleep(float(rule.d.get("seconds", 5)))
                if ureader is None:
                    ureader, uwriter = await asyncio.open_connection(self.host, self.port)
                uwriter.write(head)
                await uwriter.drain()
                limit = int(rule.d["after"]) if rule and rule.action == "cut_request" else None
                sent = await self.relay_body(creader, uwriter, h, limit=limit)
                entry["req_bytes"] = sent or 0
                if limit is not None and (sent or 0) >= limit:
                    self.write_log(entry)
                    return  # cut: drop both sides
                rhead, status, rh = await self.read_head(ureader)
                code = int(status.split(" ")[1])
                entry["status"] = code
                cwriter.write(rhead)
                await cwriter.drain()
                no_body = method == "HEAD" or code in (204, 304) or 100 <= code < 200
                limit = int(rule.d["after"]) if rule and rule.action == "cut_response" else None
                got = await self.relay_body(ureader, cwriter, rh, limit=limit, no_body=no_body)
                entry["resp_bytes"] = got
                self.write_log(entry)
                if limit is not None:
                    return
                if got is None:
                    # close-delimited answer
                    while True:
                        data = await ureader.read(65536)
                        if not data:
                            return
                        cwriter.write(data)
                        await cwriter.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as e:
            self.write_log({"n": self.n, "error": str(e)})
        finally:
            for w in (cwriter, uwriter):
                if w is not None:
                    try:
                        w.close()
                    except Exception:
                        pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--rules", default="[]")
    ap.add_argument("--rules-file")
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args()
    if not a.target.startswith("127.0.0.1:"):
        sys.exit("faultproxy: the target must be on 127.0.0.1")
    rules = json.load(open(a.rules_file)) if a.rules_file else json.loads(a.rules)
    p = Proxy(a.target, [Rule(r) for r in rules], open(a.log, "a"))
    server = await asyncio.start_server(p.handle, "127.0.0.1", a.listen)
    print("listening", a.listen, flush=True)
    async with server:
        try:
            await asyncio.wait_for(server.serve_forever(), timeout=a.lifetime)
        except asyncio.TimeoutError:
            pass


if __name__ == "__main__":
    asyncio.run(main())
