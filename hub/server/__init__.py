"""The WSGI application of one hub, and the process that serves it.

:func:`create_app` builds the Flask application from a configuration: the TAXII 2.1 API
(:mod:`hub.taxii`) over the hub's services. Each process builds its own app and its own store
connections; :mod:`hub.server.gunicorn` runs it in production.
"""

from __future__ import annotations

from flask import Flask

from hub.config import HubConfig
from hub.services.hub import Hub, open_hub

__all__ = ["create_app"]


def create_app(config: HubConfig, hub: Hub | None = None) -> Flask:
    """Build the WSGI application for one hub (on ``hub``'s services, or on new ones opened
    from ``config``). Each process builds its own."""
    from hub.taxii import register_taxii

    app = Flask("abusehub")
    app.url_map.strict_slashes = False  # serve both /path and /path/, no redirects (they break POST)
    app.config["MAX_CONTENT_LENGTH"] = config.taxii.max_content_length
    app.extensions["abusehub"] = hub if hub is not None else open_hub(config)
    register_taxii(app, config)
    return app
