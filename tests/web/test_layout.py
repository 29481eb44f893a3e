"""The web layer is built like the TAXII layer: each page family's module has a blueprint that
register_web registers under /web/, and every page but sign-in asks for a session first."""

from __future__ import annotations

import importlib
import pkgutil

from flask import Blueprint

import hub.web
from tests.harness import HubUnderTest
from tests.web.conftest import browser


def test_every_page_module_is_registered_under_web(web: HubUnderTest) -> None:
    families = []
    for info in pkgutil.iter_modules(hub.web.__path__):
        module = importlib.import_module(f"hub.web.{info.name}")
        if isinstance(getattr(module, "bp", None), Blueprint):
            families.append(module.bp.name)
    assert {"signin", "collections", "file", "operators", "pseudonyms"} <= set(families)
    assert {f"web.{name}" for name in families} <= set(web.app.blueprints)
    for rule in web.app.url_map.iter_rules():
        if rule.endpoint.startswith("web."):
            assert rule.rule.startswith("/web/"), rule


def test_every_page_but_sign_in_needs_a_session(web: HubUnderTest) -> None:
    anonymous = browser(web)
    checked = 0
    for rule in web.app.url_map.iter_rules():
        family = rule.endpoint.split(".")[1] if rule.endpoint.startswith("web.") else None
        if family in (None, "static", "signin") or "GET" not in (rule.methods or ()):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "x")
        resp = anonymous.get(path)
        assert resp.status_code == 302 and "/web/signin" in resp.headers["Location"], (rule, resp.status_code)
        checked += 1
    assert checked >= 8
