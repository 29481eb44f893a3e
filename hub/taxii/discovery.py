"""Server discovery: ``GET /taxii2/`` (TAXII 2.1 section 4.1)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from hub.config import HubConfig
from hub.taxii.context import current_hub, current_principal
from hub.taxii.negotiation import taxii_accept
from hub.taxii.responses import taxii_response

bp = Blueprint("discovery", __name__)
bp.before_request(taxii_accept)


def api_root_url(config: HubConfig) -> str:
    """The URL of the API root as discovery names it.

    Built from the configured ``public_url``, never from the request's Host header (a client
    could make the hub advertise any host). Without ``public_url``, a relative URL: section
    4.1.1 allows "HTTPS absolute URLs or relative URLs" that "MUST begin with a single /".
    """
    path = f"/{config.taxii.api_root.strip('/')}/"
    return config.public_url.rstrip("/") + path if config.public_url else path


@bp.get("/taxii2/")
def discovery() -> Response:
    """The discovery resource (section 4.1.1): title, description, contact, the API root."""
    hub = current_hub()
    config = hub.config
    if not config.taxii.public_discovery:
        current_principal()
    url = api_root_url(config)
    body: dict[str, Any] = {"title": config.title, "description": config.description,
                            "default": url, "api_roots": [url]}
    if config.contact:
        body["contact"] = config.contact
    return taxii_response(body)
