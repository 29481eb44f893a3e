"""The README's report round trip with oblivious pseudonyms, in-process: no raw personal value
reaches the hub, not even in a request body.

A hub set up with the configuration ``abusehub init`` writes (the raw-value endpoint off) is
served through a WSGI middleware that records every request body and every answer the hub's
application received and gave. Provider A files the example facts the README quotes with the
service behind ``abusehub report new`` (:func:`hub.client.reports.file_report`); party B polls
them. The example's raw values, as typed and normalised, are then searched for in every request
body, every answer, the hub's home (its database, keys, audit trail) and what B received.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hub.client.reports import file_report
from hub.client.taxii import TaxiiClient
from hub.config import DEFAULT_CONFIG_TEXT
from hub.pseudonyms import POPRF_PSEUDONYM_RE
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from tests.client.report_kit import RAW_FORMS, example_table, raw_in, raw_in_bytes
from tests.harness import HubUnderTest


@dataclass
class Recorder:
    """WSGI middleware: every request's method, path and body, and every answer's body."""

    app: Any
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)
    answers: list[tuple[str, str, bytes]] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        self.requests.append((method, path, body))
        answer = b"".join(self.app(environ, start_response))
        self.answers.append((method, path, answer))
        return [answer]


def test_no_raw_personal_value_reaches_the_hub(tmp_path: Path) -> None:
    h = HubUnderTest.build(tmp_path / "hub", parties={"acme": "provider", "nosy": "provider"},
                           grants={"reports": {"acme": (True, True), "nosy": (True, False)}},
                           signed={"reports": False}, keys_for=("acme",), toml=DEFAULT_CONFIG_TEXT)
    recorder = Recorder(h.app)
    try:
        facts = {**example_table(), "provider_identity_id": h.identities["acme"]}
        with TaxiiClient(h.url, h.tokens["acme"], transport=httpx.WSGITransport(app=recorder)) as a:
            result = file_report(a, h.collections["reports"], facts, h.keys["acme"], h.identities["acme"])
        assert result.state == "stored", result.refused
        with TaxiiClient(h.url, h.tokens["nosy"], transport=httpx.WSGITransport(app=recorder)) as b:
            polled = [o.text for page in b.pages(h.collections["reports"]) for o in page.objects]
        assert len(polled) == len(result.objects)

        # The pseudonyms were made obliviously: one evaluation, never the raw-value endpoint.
        calls = [(m, p) for m, p, _ in recorder.requests]
        assert calls.count(("POST", "/api/pseudonyms/evaluate")) == 1
        assert ("POST", "/api/pseudonyms/") not in calls
        (account,) = [o for o in result.objects if o["type"] == "user-account"]
        ext = account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
        assert all(POPRF_PSEUDONYM_RE.match(p) for p in ext["pseudonyms"].values())
        assert POPRF_PSEUDONYM_RE.match(ext["provider_account_pseudonym"])

        # Not in any request body the hub received (the evaluation's included)...
        assert len(RAW_FORMS) > 5
        for method, path, body in recorder.requests:
            assert raw_in_bytes(body) == [], (method, path)
        # ...nor in any answer, anything B polled, the hub's home (database, keys, audit).
        for method, path, body in recorder.answers:
            assert raw_in_bytes(body) == [], (method, path)
        assert raw_in("".join(polled)) == []
        h.hub.audit.flush()
        for path in h.home.rglob("*"):
            if path.is_file():
                assert raw_in_bytes(path.read_bytes()) == [], path
        # The check can find them: the facts A keeps hold them.
        assert raw_in(repr(facts)) != []
    finally:
        h.close()
