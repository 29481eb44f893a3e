"""hub.client.http: the one place the client tools read --url, the token and the transport rules."""

from __future__ import annotations

import ast
import http.server
import inspect
import threading
from pathlib import Path

import pytest

from hub.cli import poll as poll_commands
from hub.cli import report as report_commands
from hub.client.errors import ClientError
from hub.client.http import (
    Call,
    HttpSession,
    api_root,
    check_transport,
    is_loopback_url,
    read_token,
)


def test_both_tools_use_the_same_helpers() -> None:
    """Both commands take the helpers from hub.client.http (when they run: the command line is
    imported by the server too, which never imports the HTTP layer), and neither has its own."""
    helpers = {"api_root", "read_token", "check_transport"}
    for module in (poll_commands, report_commands):
        tree = ast.parse(inspect.getsource(module))
        taken = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and node.module == "hub.client.http" for alias in node.names}
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert helpers <= taken and not helpers & defined, module.__name__


def test_api_root() -> None:
    assert api_root(" http://127.0.0.1:6100/api ") == "http://127.0.0.1:6100/api/"
    assert api_root("https://hub.example/api//") == "https://hub.example/api/"
    for bad, fragment in [("ftp://hub/api/", "not an http"), ("http:///api/", "not an http"),
                          ("https://me:ahub_secret@hub.example/api/", "must not carry credentials"),
                          ("https://hub.example/api/?x=1", "without a query or fragment"),
                          ("https://hub.example/api/#top", "without a query or fragment")]:
        with pytest.raises(ClientError, match=fragment) as info:
            api_root(bad)
        assert "ahub_secret" not in str(info.value)


def test_plain_http_only_to_this_machine() -> None:
    for url in ("http://127.0.0.1:1/api/", "http://[::1]:1/api/", "http://localhost/api/",
                "https://hub.example/api/"):
        check_transport(url, False)
    with pytest.raises(ClientError, match="plain http to another machine: the token and more would"):
        check_transport("http://hub.example/api/", False, "the token and more")
    check_transport("http://hub.example/api/", True)
    assert not is_loopback_url("http://hub.example/") and not is_loopback_url("http://10.0.0.1/")


def test_read_token(tmp_path: Path) -> None:
    (tmp_path / "t").write_text("  ahub_one \n")
    (tmp_path / "two").write_text("ahub_a ahub_b\n")
    assert read_token("ahub_flag", str(tmp_path / "t")) == "ahub_one"  # the file wins
    assert read_token(" ahub_flag ", None) == "ahub_flag"
    for args, fragment in [((None, str(tmp_path / "two")), "must hold one token"),
                           ((None, str(tmp_path / "absent")), "cannot read token file"),
                           (("  ", None), "no token"), ((None, None), "no token")]:
        with pytest.raises(ClientError, match=fragment) as info:
            read_token(*args)
        assert "ahub_a" not in str(info.value)


def test_a_urls_own_query_travels_with_the_parameters_given() -> None:
    """A URL with a query of its own (a peer hub's token key copies, ``?issuer=``) keeps it,
    with or without parameters added: httpx replaces a URL's query with any ``params`` given."""
    seen: list[str] = []

    class Echo(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the handler's name)
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/api/"
        with HttpSession(base) as session:
            call = Call("reading a copy")
            session.request("GET", f"{base}copies/?issuer=peer%20hub", call, authenticated=False)
            session.request("GET", f"{base}copies/?issuer=peer", call, params=[("limit", "5")])
            session.request("GET", f"{base}objects/", call, params=[("match[type]", "a"), ("match[type]", "b")])
    finally:
        server.shutdown()
        server.server_close()
    assert seen == ["/api/copies/?issuer=peer%20hub", "/api/copies/?issuer=peer&limit=5",
                    "/api/objects/?match%5Btype%5D=a&match%5Btype%5D=b"]
