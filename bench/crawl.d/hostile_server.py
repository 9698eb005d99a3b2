#!/usr/bin/python3
"""hostile_server.py PORT_FILE — a loopback server whose bodies never end, for bench/crawl's RSS check.

Binds 127.0.0.1 on a free port, writes "http://127.0.0.1:PORT/" to PORT_FILE
once it accepts connections, and serves until SIGTERM:

  /                 an HTML page linking to every path below (img src and a href)
  /endless.png      a PNG signature, then zero bytes forever; no Content-Length
                    (close-delimited), so only the client's body cap ends it
  /huge.png         a PNG signature, then zeros up to a declared 1 GiB Content-Length
  /endless.html     "<html><body>" then spaces forever (a page that never ends)
  /bomb.png         Content-Encoding: gzip; about 1 MiB on the wire that inflates
                    to 1 GiB of zeros after a PNG signature (a gzip bomb)
  /bomb.html        the same bomb as a text/html page

Each request is served on its own thread; a body stops when the client closes
the connection (BrokenPipeError / ConnectionResetError end the thread quietly).
Run it with /usr/bin/python3. Exit status 0 on SIGTERM, 2 on bad arguments.
"""

import http.server
import os
import signal
import socketserver
import sys
import zlib

GIB = 1 << 30
CHUNK = b"\0" * (256 << 10)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def gzip_bomb(total):
    """Returns a gzip member (RFC 1952) inflating to PNG_SIGNATURE + zeros, `total` bytes in all."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [comp.compress(PNG_SIGNATURE)]
    big = b"\0" * (16 << 20)
    left = total - len(PNG_SIGNATURE)
    while left > 0:
        n = min(left, len(big))
        parts.append(comp.compress(big[:n]))
        left -= n
    parts.append(comp.flush())
    return b"".join(parts)


BOMB = gzip_bomb(GIB)

PAGE = b"""<!DOCTYPE html><html><head><title>hostile</title></head><body>
<img src="/endless.png"><img src="/huge.png"><img src="/bomb.png">
<a href="/endless.html">endless</a> <a href="/bomb.html">bomb</a>
</body></html>
"""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the benchmark prints its own summary
        pass

    def send(self, ctype, length=None, encoding=None):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        if length is None:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def stream(self, head, total=None):
        """Writes head, then zeros: forever, or until `total` bytes were sent."""
        self.wfile.write(head)
        sent = len(head)
        while total is None or sent < total:
            n = len(CHUNK) if total is None else min(len(CHUNK), total - sent)
            self.wfile.write(CHUNK[:n])
            sent += n

    def do_GET(self):
        try:
            if self.path == "/":
                self.send("text/html", len(PAGE))
                self.wfile.write(PAGE)
            elif self.path == "/endless.png":
                self.send("image/png")
                self.stream(PNG_SIGNATURE)
            elif self.path == "/huge.png":
                self.send("image/png", GIB)
                self.stream(PNG_SIGNATURE, GIB)
            elif self.path == "/endless.html":
                self.send("text/html")
                self.wfile.write(b"<html><body>")
                while True:
                    self.wfile.write(b" " * len(CHUNK))
            elif self.path in ("/bomb.png", "/bomb.html"):
                self.send("image/png" if self.path.endswith(".png") else "text/html", len(BOMB), "gzip")
                self.wfile.write(BOMB)
            else:
                self.send_error(404)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that hangs up mid-request is the expected end of a capped body: no traceback."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main(argv):
    if len(argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    server = Server(("127.0.0.1", 0), Handler)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    tmp = argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write("http://127.0.0.1:%d/\n" % server.server_address[1])
    os.rename(tmp, argv[1])
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
