"""Errors of the services on the pages keep their status: a hub that cannot use its database
answers 503 as an HTML page with the pages' headers (not a 500 page, and a sign-in is not told
that its token is invalid), and Retry-After goes along when the service gives one."""

from __future__ import annotations

import os
from pathlib import Path

from hub.common.errors import Unavailable
from hub.web import CSP
from tests.harness import HubUnderTest
from tests.web.conftest import BASE, browser


def _moved(web: HubUnderTest) -> tuple[Path, Path]:
    db = Path(web.hub.store.url.removeprefix("sqlite:///"))
    return db, db.with_name("hub.db.moved")


def test_a_database_moved_away_is_a_503_page_and_the_pages_come_back_with_it(web: HubUnderTest) -> None:
    signed_in = browser(web, "alice")
    stranger = browser(web)
    stranger.get("/web/signin")
    db, aside = _moved(web)
    os.rename(db, aside)
    try:
        page = signed_in.get("/web/collections")
        assert page.status_code == 503, page.get_data(as_text=True)
        assert page.mimetype == "text/html"
        assert "was moved or deleted" in page.get_data(as_text=True)
        assert page.headers["Content-Security-Policy"] == CSP and page.headers["Cache-Control"] == "no-store"
        # A sign-in with a valid token: the hub cannot answer, which is not "that token is not valid".
        refused = stranger.post("/web/signin", {"token": web.tokens["bob"]})
        assert refused.status_code == 503
        assert "not valid" not in refused.get_data(as_text=True)
    finally:
        os.rename(aside, db)
    assert signed_in.get("/web/collections").status_code == 200


def test_a_503_with_a_time_to_retry_says_when(web: HubUnderTest) -> None:
    with web.app.test_request_context("/web/collections", base_url=BASE):
        web.app.preprocess_request()
        resp = web.app.make_response(web.app.handle_user_exception(
            Unavailable("the database is being restored", details={"retry_after": 30})))
    assert resp.status_code == 503 and resp.mimetype == "text/html"
    assert resp.headers["Retry-After"] == "30"
    assert "the database is being restored" in resp.get_data(as_text=True)
