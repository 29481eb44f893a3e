"""The server's log lines: one JSON object per line (or plain text), and one line per request.

Every line carries ``time``, ``level``, ``logger`` and ``message``; lines written while a
request is handled also carry its ``request_id``. The request's own line (logger
``abusehub.access``, written by :func:`install_request_log`) adds ``method``, ``endpoint`` (the
Flask endpoint name, never the raw path), ``status``, ``duration_ms``, ``party``, ``collection``
and ``params``: the NAMES of the query parameters, never their values (a ``match[id]`` may name
a report about a person). Nothing else of a request is logged: no token, no Authorization
header, no body, no path.

The request id comes from ``X-Request-Id`` when the client (or its proxy) sent a sane one, else
it is made here; the response echoes it in ``X-Request-Id``.

gunicorn's own access log is off (its request line would carry query values); its error log
goes through the same formatter (:func:`gunicorn_logconfig`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask, Response, g, has_request_context, request

from hub.common.ids import is_uuid_text
from hub.services.metrics import Metrics

__all__ = ["JsonFormatter", "TextFormatter", "gunicorn_logconfig", "install_request_log", "request_id_of"]

REQUEST_ID_HEADER = "X-Request-Id"
#: A request id we repeat: letters, digits and ``._:-``, at most 128 characters.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: What a query parameter name may be to be logged (TAXII's are like ``match[type]``).
_SANE_PARAM = re.compile(r"^[A-Za-z0-9_.\[\]-]{1,40}$")
#: The endpoints whose successful answers are polls (latency histogram).
POLL_ENDPOINTS = frozenset({"objects.get_objects", "objects.get_object", "manifest.get_manifest",
                            "versions.get_versions"})
#: The fields of a request's line, in order.
ACCESS_FIELDS = ("request_id", "method", "endpoint", "status", "duration_ms", "party", "collection", "params")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

access_log = logging.getLogger("abusehub.access")


def request_id_of(header: str | None) -> str:
    """The request id to use: the header's when it is a sane token, else a new one."""
    if header and _SANE_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


def _record_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ACCESS_FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            fields[name] = value
    if "request_id" not in fields and has_request_context():
        rid = getattr(g, "request_id", None)
        if rid:
            fields["request_id"] = rid
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_record_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """``time level logger message key=value ...``, one record per line."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        extra = " ".join(f"{k}={','.join(v) if isinstance(v, list) else v}"
                         for k, v in _record_fields(record).items())
        line = f"{when} {record.levelname.lower()} {record.name} {record.getMessage()}" + (f" {extra}" if extra else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def formatter_for(log_format: str) -> logging.Formatter:
    """The formatter of ``[hub] log_format``."""
    return JsonFormatter() if log_format == "json" else TextFormatter()


def gunicorn_logconfig(log_format: str, level: str) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: every logger (gunicorn's and the hub's) to standard error
    through the hub's formatter; gunicorn's access log silent (the app writes its own)."""
    formatter = "hub.server.logs.JsonFormatter" if log_format == "json" else "hub.server.logs.TextFormatter"
    lvl = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"hub": {"()": formatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "hub", "stream": "ext://sys.stderr"}},
        "root": {"level": lvl, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": lvl, "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }


def _collection(status: int) -> str | None:
    """The collection the request named, when it is safe to log: a collection id (a UUID), or
    any name that found a collection (then it is an alias the operator chose)."""
    value = (request.view_args or {}).get("collection_id")
    if not isinstance(value, str):
        return None
    if is_uuid_text(value) or (status < 400 and len(value) <= 100 and value.isprintable()):
        return value
    return None


def _param_names() -> list[str]:
    return sorted({name if _SANE_PARAM.match(name) else "(other)" for name in request.args})


def install_request_log(app: Flask, metrics: Metrics) -> None:
    """Give each request of ``app`` an id, count it in ``metrics``, and log one line for it."""

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        g.request_id = request_id_of(request.headers.get(REQUEST_ID_HEADER))

    @app.after_request
    def _finish(response: Response) -> Response:
        started = getattr(g, "started", None)
        seconds = time.perf_counter() - started if started is not None else 0.0
        rid = getattr(g, "request_id", None) or request_id_of(None)
        response.headers[REQUEST_ID_HEADER] = rid
        endpoint = request.endpoint or "unknown"
        status = response.status_code
        method = request.method if request.method in _METHODS else "OTHER"
        metrics.request(endpoint, method, status, seconds)
        if status < 300 and request.method == "GET" and endpoint in POLL_ENDPOINTS:
            metrics.poll(endpoint, seconds)
        fields = {"request_id": rid, "method": method, "endpoint": endpoint, "status": status,
                  "duration_ms": round(seconds * 1000, 3), "party": getattr(g, "party", None),
                  "collection": _collection(status), "params": _param_names() or None}
        access_log.info("%s %s %d", method, endpoint, status, extra=fields)
        return response
