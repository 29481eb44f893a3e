"""The TAXII 2.1 HTTP layer: parse a request, call a service, answer. It never touches the store.

:func:`register_taxii` adds the discovery endpoint, the API root and the error handlers to an
application (:func:`hub.server.create_app` builds it).
"""

from __future__ import annotations

from flask import Flask

from hub.config import HubConfig

__all__ = ["register_taxii"]


def register_taxii(app: Flask, config: HubConfig) -> None:
    """Register the TAXII endpoints and error handlers on ``app``."""
    from hub.taxii.views import make_blueprint, register_error_handlers

    app.register_blueprint(make_blueprint(config.taxii.api_root))
    register_error_handlers(app)
