#!/usr/bin/env python3
# A receiver that takes every POST and answers 200 after a delay: with it, intake outpaces
# delivery and a backlog builds (docs/performance.md, "What a backlog holds in memory").
# Not a test; a tool for measuring memory and restarts under a backlog.
#
#   bench/backlog/slow_receiver.py PORT DELAY_SECONDS
import http.server
import socketserver
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(DELAY)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


PORT, DELAY = int(sys.argv[1]), float(sys.argv[2])
Server(("127.0.0.1", PORT), Handler).serve_forever()
