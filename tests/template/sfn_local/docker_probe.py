"""Is there a Docker daemon answering on its socket? Checked with the socket
module alone (no docker/testcontainers import), so that a machine without a
container runtime skips the Step Functions Local tests with a clear reason.

The socket is DOCKER_HOST when that is a unix:// address, else
/var/run/docker.sock. Docker is usable only if connect() succeeds AND an HTTP
`GET /_ping` over the connection answers 200 with the body OK."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

DEFAULT_SOCKET = "/var/run/docker.sock"
TIMEOUT_SECONDS = 3.0
_MAX_RESPONSE = 64 * 1024


@dataclass(frozen=True)
class DockerStatus:
    ok: bool
    socket_path: str
    reason: str  # why the tests skip; for ok, what answered


def socket_path(environ: dict | None = None) -> str:
    environ = os.environ if environ is None else environ
    host = environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        return host[len("unix://"):]
    return DEFAULT_SOCKET


def _skip(path: str, what: str) -> DockerStatus:
    return DockerStatus(False, path, f"Step Functions Local tests need Docker: {what} (Docker socket {path})")


def probe(path: str | None = None, timeout: float = TIMEOUT_SECONDS) -> DockerStatus:
    path = socket_path() if path is None else path
    if not hasattr(socket, "AF_UNIX"):
        return _skip(path, "this platform has no unix sockets")
    if not os.path.exists(path):
        return _skip(path, "no such socket file")
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError as e:
        return _skip(path, f"cannot create a unix socket: {e}")
    with sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except OSError as e:  # refused, not a socket, permission denied, timeout
            return _skip(path, f"connect() failed: {type(e).__name__}: {e.strerror or e}")
        try:
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
            response = _read_response(sock)
        except OSError as e:
            return _skip(path, f"GET /_ping failed: {type(e).__name__}: {e.strerror or e}")
    head, _, body = response.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or parts[1] != "200":
        shown = status_line or "an empty response"
        return _skip(path, f"GET /_ping answered {shown!r}, not 200 OK")
    if _unchunk(head, body).strip() != b"OK":
        return _skip(path, f"GET /_ping answered 200 with body {body[:40]!r}, not OK")
    return DockerStatus(True, path, f"Docker answered GET /_ping on {path}")


def _read_response(sock: socket.socket) -> bytes:
    chunks, size = [], 0
    while size < _MAX_RESPONSE:
        chunk = sock.recv(4096)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        data = b"".join(chunks)
        if _complete(data):
            break
    return b"".join(chunks)


def _complete(data: bytes) -> bool:
    """Stop reading once the whole body is in, even if the peer keeps the connection."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return len(body) >= int(value.strip())
            except ValueError:
                return False
    return False  # no length: read to close (we asked for Connection: close)


def _unchunk(head: bytes, body: bytes) -> bytes:
    if b"transfer-encoding: chunked" not in head.lower():
        return body
    out, rest = b"", body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2:]
    return out
