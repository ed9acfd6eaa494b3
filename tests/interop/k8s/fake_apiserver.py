#!/usr/bin/python3
"""A stand-in for the Kubernetes API server, for the EndpointSlice discovery test.

Serves GET /apis/discovery.k8s.io/v1/namespaces/<ns>/endpointslices?labelSelector=<sel> over
HTTPS (certificate and key given), answering with the JSON in --state-file as it is at the time
of the request (the test rewrites it between polls to simulate pod churn). Requires
"Authorization: Bearer <token>" (401 otherwise, with a Status object like the real server).
Writes the bound port to --port-file. Chunked transfer coding with --chunked.
"""
import argparse
import http.server
import json
import os
import ssl
import sys
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--selector", required=True)
    ap.add_argument("--state-file", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--chunked", action="store_true")
    a = ap.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("apiserver: " + (fmt % args) + "\n")

        def reply(self, code, body):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            if a.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                half = len(data) // 2
                for part in (data[:half], data[half:]):
                    if part:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            self.close_connection = True

        def status(self, code, reason, message):
            self.reply(code, json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                         "message": message, "reason": reason, "code": code}))

        def do_GET(self):
            if self.headers.get("Authorization") != "Bearer " + a.token:
                return self.status(401, "Unauthorized", "Unauthorized")
            url = urllib.parse.urlsplit(self.path)
            want = "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices" % a.namespace
            query = urllib.parse.parse_qs(url.query)
            if url.path != want or query.get("labelSelector") != [a.selector]:
                return self.status(404, "NotFound", "no such path " + self.path)
            with open(a.state_file) as f:
                body = f.read()
            self.reply(200, body)

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, a.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
