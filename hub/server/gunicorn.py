"""Production serving: gunicorn with threaded workers, each building its own app and store."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from hub.config import HubConfig


class HubServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured from the hub's config rather than from gunicorn's command line."""

    def __init__(self, config: HubConfig, host: str, port: int, workers: int, threads: int) -> None:
        self.hub_config = config
        self.options = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": config.server.timeout,
            "graceful_timeout": 20,
            "keepalive": 5,
            "accesslog": "-",
            "errorlog": "-",
            "loglevel": config.log_level,
            "proc_name": "abusehub",
            # Which forwarded headers to believe is decided by [server] trusted_proxies in the
            # app (hub.server.TrustedProxies); gunicorn's own default would let any client on
            # 127.0.0.1 switch the request scheme with X-Forwarded-Proto.
            "secure_scheme_headers": {},
            "forwarded_allow_ips": "",
            # Each worker opens its own database connections: no app preloading across fork.
            "preload_app": False,
        }
        if "control_socket_disable" in self._known_settings():
            # gunicorn >= 23 opens a control socket at one shared path: several hubs on one
            # machine would collide on it, and the hub is managed by signals anyway.
            self.options["control_socket_disable"] = True
        super().__init__()

    @staticmethod
    def _known_settings() -> set[str]:
        from gunicorn.config import KNOWN_SETTINGS

        return {s.name for s in KNOWN_SETTINGS}

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from hub.server import create_app

        return create_app(self.hub_config)


def serve(config: HubConfig, host: str, port: int, workers: int, threads: int) -> None:
    """Run the hub in the foreground until SIGTERM or SIGINT."""
    HubServer(config, host, port, workers, threads).run()
