"""The TAXII 2.1 HTTP layer: parse a request, call a service, answer. It never touches the store.

One module per resource, each a blueprint whose views cite their section of TAXII 2.1:
:mod:`~hub.taxii.discovery` (4.1), :mod:`~hub.taxii.api_root` (4.2), :mod:`~hub.taxii.status`
(4.3), :mod:`~hub.taxii.collections` (5.1, 5.2), :mod:`~hub.taxii.manifest` (5.3),
:mod:`~hub.taxii.objects` (5.4 to 5.7), :mod:`~hub.taxii.versions` (5.8); and the hub's own
endpoints under the API root, :mod:`~hub.taxii.keys`, :mod:`~hub.taxii.pseudonyms` and
:mod:`~hub.taxii.tombstones` (a collection's signed deletions) and :mod:`~hub.taxii.notices` (the
status of a notice).
Around them: :mod:`~hub.taxii.negotiation` (media types), :mod:`~hub.taxii.params` (query
parameters), :mod:`~hub.taxii.responses` (resources and responses), :mod:`~hub.taxii.errors`
(error bodies) and :mod:`~hub.taxii.context` (the services and the authenticated party).

:func:`register_taxii` adds them to an application (:func:`hub.server.create_app` builds it).
"""

from __future__ import annotations

from flask import Flask

from hub.config import HubConfig

__all__ = ["register_taxii"]


def register_taxii(app: Flask, config: HubConfig) -> None:
    """Register discovery at ``/taxii2/``, the API root at ``/<config.taxii.api_root>/``, and the
    error handlers, on ``app``."""
    from hub.taxii import (
        anonymous,
        api_root,
        collections,
        discovery,
        keys,
        manifest,
        notices,
        objects,
        pseudonyms,
        status,
        tokens,
        tombstones,
        versions,
    )
    from hub.taxii.errors import register_error_handlers

    app.register_blueprint(discovery.bp)
    prefix = f"/{config.taxii.api_root.strip('/')}"
    for module in (api_root, status, collections, manifest, objects, versions, tombstones, notices, keys, pseudonyms,
                   anonymous, tokens):
        app.register_blueprint(module.bp, url_prefix=prefix)
    register_error_handlers(app)
