"""hub.client.http: the one place the client tools read --url, the token and the transport rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.cli import poll as poll_commands
from hub.cli import report as report_commands
from hub.client.errors import ClientError
from hub.client.http import (
    api_root,
    check_transport,
    is_loopback_url,
    read_token,
)


def test_both_tools_use_the_same_helpers() -> None:
    assert poll_commands.api_root is report_commands.api_root is api_root
    assert poll_commands.read_token is report_commands.read_token is read_token
    assert poll_commands.check_transport is report_commands.check_transport is check_transport


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
