"""Safe by default: which hosts may ask, what a page may load, and who may write.

- Host header: only the names this server is reached by locally
  (``localhost``, ``127.0.0.1``, ``[::1]``) and the ``--host`` it binds;
  anything else gets 400, so a page on another site that rebinds its DNS
  name to 127.0.0.1 (DNS rebinding) cannot read the store.
- Every response carries a Content-Security-Policy: scripts only from this
  server's own files (no inline script, no eval), nothing framed, no other
  origin contacted. Injected markup could not run even if escaping failed.
- Writes (POST) need ``--allow-write``, a same-origin request (Origin header,
  when the browser sends one, names this server) and the server's CSRF token
  (a random value made at start, in each page, sent back in the
  ``X-CSRF-Token`` header or a ``csrf_token`` form field).
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import PlainTextResponse

LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def allowed_hosts(bind_host: str) -> frozenset[str]:
    """Host names (without port) the server answers: the local names and the one it binds to."""
    return frozenset((*LOCAL_NAMES, bind_host.strip("[]").lower()))


def host_name(header: str) -> str:
    """The name in a Host header, without port or IPv6 brackets, lower case (``[::1]:8765`` -> ``::1``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class HostAndHeaders(BaseHTTPMiddleware):
    """400 for a Host header this server does not answer to; security headers on every response."""

    def __init__(self, app: Any, hosts: frozenset[str]) -> None:
        super().__init__(app)
        self.hosts = hosts

    async def dispatch(self, request: Any, call_next: Any) -> Any:
        name = host_name(request.headers.get("host", ""))
        if name not in self.hosts:
            return PlainTextResponse(f"host {name!r} is not served here (tunebook ui answers only "
                                     f"{', '.join(sorted(self.hosts))})", status_code=400)
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        return response


def write_refusal(request: Any, token: str, allow_write: bool, form_token: str | None = None) -> str | None:
    """Why this write request is refused (None: it may write)."""
    if not allow_write:
        return "this tunebook ui is read-only: restart it with --allow-write to add notes"
    origin = request.headers.get("origin")
    if origin and origin != "null" and host_name(urlsplit(origin).netloc) != host_name(request.headers.get("host", "")):
        return f"a write from another site ({origin}) is refused"
    sent = request.headers.get("x-csrf-token") or form_token or ""
    if not hmac.compare_digest(sent.encode(), token.encode()):
        return "missing or wrong CSRF token: reload the page and try again"
    return None
