"""The TAXII 2.1 HTTP layer and the application factory."""

from __future__ import annotations

from flask import Flask

from hub.config import HubConfig
from hub.services.hub import Hub, open_hub


def create_app(config: HubConfig, hub: Hub | None = None) -> Flask:
    """Build the WSGI application for one hub. Each process builds its own (and its own store)."""
    from hub.taxii.views import make_blueprint, register_error_handlers

    app = Flask("abusehub")
    app.url_map.strict_slashes = False  # serve both /path and /path/, no redirects (they break POST)
    app.config["MAX_CONTENT_LENGTH"] = config.taxii.max_content_length
    app.extensions["abusehub"] = hub if hub is not None else open_hub(config)
    app.register_blueprint(make_blueprint(config.taxii.api_root))
    register_error_handlers(app)
    return app
