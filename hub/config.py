"""One typed configuration object, built once: defaults, then the TOML file, then ``HUB_*``.

Nothing else in the hub reads ``os.environ``. Every bad value is reported with its source and
what is expected, all at once, at start-up: one line for one bad value, a line each for several.

Environment variables: ``HUB_HOME`` chooses the home folder; ``HUB_<KEY>`` overrides a key of
the ``[hub]`` table and ``HUB_<TABLE>_<KEY>`` a key of another table, e.g.
``HUB_DATABASE_URL``, ``HUB_TAXII_MAX_PAGE_SIZE`` or ``HUB_PSEUDONYMS_PER_MINUTE``.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hub.common.errors import ConfigError

CONFIG_FILE = "hub.toml"
DEFAULT_HOME = "./var/hub"


@dataclass(frozen=True)
class TaxiiConfig:
    """TAXII behaviour: paging and size limits, advertised in the API root."""

    default_page_size: int = 100
    max_page_size: int = 1000
    max_content_length: int = 16 * 1024 * 1024
    status_retention_hours: int = 168
    public_discovery: bool = True
    api_root: str = "api"


@dataclass(frozen=True)
class ServerConfig:
    """Where and how ``abusehub serve`` listens."""

    host: str = "127.0.0.1"
    port: int = 6100
    workers: int = 2
    threads: int = 4
    timeout: int = 60
    #: Addresses (or networks, ``10.0.0.0/8``) of the reverse proxies whose ``X-Forwarded-For``,
    #: ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` headers are believed; from anyone else
    #: those headers are ignored. Empty: believed from nobody.
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetricsConfig:
    """``GET /metrics`` (Prometheus): who may read it."""

    enabled: bool = True
    #: Source addresses (or networks) allowed to read /metrics; empty: any address (then set a
    #: token_file).
    allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    #: A file holding a bearer token /metrics asks for (relative to the home); empty: none.
    token_file: str = ""
    #: Where the server processes keep their metric files (relative to the home); emptied at
    #: each start. Empty: "metrics" in the home.
    multiproc_dir: str = ""


@dataclass(frozen=True)
class LimitsConfig:
    """Limits every server process shares (counted in the database)."""

    #: Failed authentications from one address, or for one claimed party, per window; beyond
    #: it a failing request is answered 429 instead of 401.
    auth_failures: int = 20
    auth_window_seconds: int = 300


@dataclass(frozen=True)
class PseudonymsConfig:
    """The pseudonym endpoint: how many values a party may turn into pseudonyms, and how."""

    #: Values per minute and party (a token bucket in the database, shared by every process).
    per_minute: int = 600
    #: ISO 3166-1 alpha-2 region for phone numbers given without "+<country code>"; empty:
    #: such numbers are refused.
    default_region: str = ""
    #: Whether ``POST pseudonyms/`` answers: that endpoint SEES the raw personal values (it
    #: makes ``hmac-sha256:`` pseudonyms from them). Providers' tools use the oblivious
    #: ``POST pseudonyms/evaluate`` instead, which sees blinded elements only. ``abusehub init``
    #: writes ``false``; a hub.toml without the key (a hub set up before oblivious pseudonyms)
    #: keeps answering, so that its providers' older tools go on working until the operator
    #: turns it off.
    accept_raw_values: bool = True


@dataclass(frozen=True)
class WebConfig:
    """The analysts' web pages (:mod:`hub.web`): how long a session lasts and what signs it."""

    #: Minutes without a request after which a web session ends and the analyst signs in again.
    session_idle_minutes: int = 30
    #: The file holding the key that signs session cookies (created, mode 0600, on first use);
    #: relative to the home. Every process serving one hub must read the same file.
    secret_key_file: str = "web-secret.key"
    #: Send session cookies only over HTTPS (turn off only for a hub on loopback without TLS).
    secure_cookies: bool = True
    #: Second sources the filing page checks this hub's submission token key against before it
    #: fetches or redeems tokens (docs/WEB.md, "Filing with a token"): URLs of peer hubs' copies
    #: (``https://peer.example/api/anonymity/token-keys/copies/?issuer=<this hub's issuer>``) or
    #: of this hub's directory by another route; their origins are added to the pages'
    #: ``connect-src``. Empty: the page refuses to fetch or redeem tokens and points to the command line.
    token_key_sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class FederationConfig:
    """``abusehub federate``: how this hub pulls from and pushes to its peers."""

    #: Objects asked for per page when pulling, and sent per envelope when pushing.
    page_size: int = 500
    #: Seconds to wait for a peer's answer to one request.
    timeout: int = 30
    #: Seconds to follow a pushed envelope's status until the peer has judged every object.
    status_wait: int = 120
    #: Attempts of one request on 429/503 before the link's turn ends with an error.
    max_retries: int = 3
    #: The longest wait (seconds) before a failing link is tried again; waits double from 1 s.
    max_backoff: int = 300
    #: The largest answer (bytes) taken from a peer; a larger one fails that link only.
    max_response_bytes: int = 64 * 1024 * 1024
    #: Seconds between two copies of a peer's token keys by its links' turns (0: every turn); a
    #: peer whose current epoch ended since its last copy is copied at once.
    token_keys_interval: int = 3600


@dataclass(frozen=True)
class AnonymityConfig:
    """Anonymous filing (docs/ANONYMITY.md): the oversight key and the publication window."""

    #: The oversight body's HPKE public key (PEM, ``abusehub escrow keygen --public``), relative
    #: to the home: every anonymous report's submitter record is sealed to it. Empty: the hub
    #: refuses anonymous filings.
    oversight_public_key_file: str = ""
    #: Anonymous reports are published in batches at random moments within this many seconds
    #: after filing (0: at once), so that their date_added does not sit beside their
    #: submitter's other requests.
    publish_window_seconds: int = 3600
    #: Submission tokens (token mode): each epoch, this many days long, has one token key for
    #: every provider; a token is redeemed in the epoch it was issued for.
    token_epoch_days: int = 7
    #: Tokens issued to one party per epoch, at most.
    tokens_per_epoch: int = 100
    #: Hours before an epoch begins that its key is published and issued (at most half an epoch;
    #: 0: not ahead), so that tokens fetched late in an epoch can be redeemed through the next.
    token_next_key_hours: int = 24


@dataclass(frozen=True)
class HubConfig:
    """The whole configuration of one hub."""

    home: Path
    title: str = "abusehub"
    description: str = "Sharing hub for reports of abused IaaS accounts"
    contact: str = ""
    #: Where clients reach the hub, e.g. ``https://hub.example``: discovery names the API root
    #: under it. Empty: discovery answers with a relative URL (``/api/``).
    public_url: str = ""
    database_url: str = ""
    #: PostgreSQL hot standbys of the database at ``database_url`` that serve polls
    #: (docs/OPERATIONS.md, "Streaming standbys"); empty: every read goes to the primary.
    database_read_urls: tuple[str, ...] = ()
    #: Seconds a standby may be behind the primary and still serve polls.
    database_read_max_lag: int = 10
    #: Read records a process holds on disk (under the home) while the primary cannot be written
    #: to; when they are this many, reads are refused (503) rather than a record lost.
    database_read_spool_records: int = 100_000
    log_level: str = "info"
    #: The server's log lines: "json" (one JSON object per line) or "text".
    log_format: str = "json"
    taxii: TaxiiConfig = field(default_factory=TaxiiConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    pseudonyms: PseudonymsConfig = field(default_factory=PseudonymsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    anonymity: AnonymityConfig = field(default_factory=AnonymityConfig)

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file under the home."""
        return self.database_url or f"sqlite:///{(self.home / 'hub.db').resolve()}"


_SECTIONS: dict[str, type] = {"taxii": TaxiiConfig, "server": ServerConfig, "pseudonyms": PseudonymsConfig,
                              "metrics": MetricsConfig, "limits": LimitsConfig, "web": WebConfig,
                              "federation": FederationConfig, "anonymity": AnonymityConfig}
_LOG_FORMATS = {"json", "text"}
_LOG_LEVELS = {"debug", "info", "warning", "error"}


def _coerce(value: Any, kind: type, where: str, errors: list[str]) -> Any:
    if kind is tuple:
        # A TOML array of strings, or (from the environment) a comma-separated string.
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(v.strip() for v in value)
        errors.append(f"{where}: expected a list of strings, got {value!r}")
        return None
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            return value.lower() in {"1", "true", "yes", "on"}
        errors.append(f"{where}: expected true or false, got {value!r}")
        return None
    if kind is int:
        if isinstance(value, bool):
            errors.append(f"{where}: expected a whole number, got {value!r}")
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        errors.append(f"{where}: expected a whole number, got {value!r}")
        return None
    if not isinstance(value, str):
        errors.append(f"{where}: expected a string, got {value!r}")
        return None
    return value


def _apply(obj: Any, values: Mapping[str, Any], source: str, errors: list[str]) -> Any:
    known = {f.name: f for f in fields(obj) if f.name != "home"}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        where = f"{source}{key.upper()}" if source.startswith("HUB_") else f"{source}{key}"
        f = known.get(key)
        if f is None or key in _SECTIONS:
            errors.append(f"{where}: unknown setting")
            continue
        kind = {"int": int, "bool": bool, "str": str, "tuple[str, ...]": tuple}.get(str(f.type), str)
        coerced = _coerce(value, kind, where, errors)
        if coerced is not None:
            changes[key] = coerced
    return replace(obj, **changes)


def _phone_regions() -> frozenset[str]:
    import phonenumbers

    return frozenset(phonenumbers.SUPPORTED_REGIONS)


def _check_hub(cfg: HubConfig, errors: list[str]) -> None:
    """The ``[hub]`` table: log level and format, the public URL, the database URL."""
    if cfg.log_level not in _LOG_LEVELS:
        errors.append(f"log_level: must be one of {', '.join(sorted(_LOG_LEVELS))}")
    if cfg.log_format not in _LOG_FORMATS:
        errors.append(f"log_format: must be one of {', '.join(sorted(_LOG_FORMATS))}")
    if cfg.public_url:
        problem = _public_url_problem(cfg.public_url)
        if problem:
            errors.append(f"public_url: {problem}, e.g. 'https://hub.example'")
    url = cfg.database_url
    if url and not (url.startswith("sqlite:") or url.startswith("postgresql")):
        errors.append("database_url: only sqlite:/// and postgresql+psycopg:// URLs are supported")
    _check_read_urls(cfg, errors)


def _check_read_urls(cfg: HubConfig, errors: list[str]) -> None:
    """``database_read_urls``: PostgreSQL standbys of a PostgreSQL primary; their lag limit and spool."""
    for i, read_url in enumerate(cfg.database_read_urls, 1):
        if not read_url.startswith(("postgresql", "postgres:")):
            errors.append(f"database_read_urls: entry {i} is not a postgresql:// URL (standbys are PostgreSQL hot standbys)")
    if cfg.database_read_urls and not cfg.database_url.startswith(("postgresql", "postgres:")):
        errors.append("database_read_urls: standbys need a PostgreSQL database_url (their primary)")
    if not 1 <= cfg.database_read_max_lag <= 86_400:
        errors.append("database_read_max_lag: must be between 1 and 86400 seconds")
    if not 100 <= cfg.database_read_spool_records <= 100_000_000:
        errors.append("database_read_spool_records: must be between 100 and 100000000")


def _check_taxii(t: TaxiiConfig, errors: list[str]) -> None:
    if t.default_page_size < 1:
        errors.append("taxii.default_page_size: must be at least 1")
    if t.max_page_size < t.default_page_size:
        errors.append("taxii.max_page_size: must be at least taxii.default_page_size")
    if t.max_content_length < 1024:
        errors.append("taxii.max_content_length: must be at least 1024 bytes")
    if t.status_retention_hours < 24:
        errors.append("taxii.status_retention_hours: must be at least 24 (TAXII interoperability asks for 24 h)")
    # The hub's own first path segments: discovery, the web pages, the operations endpoints.
    if not t.api_root or "/" in t.api_root.strip("/") or t.api_root.strip("/") in (
            "taxii2", "web", "healthz", "readyz", "metrics"):
        errors.append("taxii.api_root: must be one path segment other than the hub's own "
                      "(taxii2, web, healthz, readyz, metrics)")


def _check_networks(name: str, values: tuple[str, ...], errors: list[str]) -> None:
    """Each of ``values`` (the setting ``name``) must be an IP address or network."""
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            errors.append(f"{name}: {value!r} is not an IP address or network")


def _check_server(s: ServerConfig, errors: list[str]) -> None:
    if not 0 <= s.port <= 65535:
        errors.append("server.port: must be between 0 and 65535")
    if s.workers < 1 or s.threads < 1:
        errors.append("server.workers and server.threads: must be at least 1")
    _check_networks("server.trusted_proxies", s.trusted_proxies, errors)


def _check_pseudonyms(p: PseudonymsConfig, errors: list[str]) -> None:
    if not 1 <= p.per_minute <= 1_000_000:
        errors.append("pseudonyms.per_minute: must be between 1 and 1000000")
    if p.default_region and p.default_region not in _phone_regions():
        errors.append("pseudonyms.default_region: must be empty or an ISO 3166-1 alpha-2 region code "
                      "in upper case, such as 'DE'")


def _check_web(w: WebConfig, errors: list[str]) -> None:
    if not 1 <= w.session_idle_minutes <= 24 * 60:
        errors.append("web.session_idle_minutes: must be between 1 and 1440")
    if not w.secret_key_file.strip():
        errors.append("web.secret_key_file: must name a file")
    for url in w.token_key_sources:
        problem = _token_source_problem(url)
        if problem:
            errors.append(f"web.token_key_sources: {url!r}: {problem}")


def _token_source_problem(url: str) -> str:
    """Why ``url`` cannot be a second source of the filing page ("" when it can): an https URL
    (http only on loopback) with nothing a Content-Security-Policy would read as its own syntax."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL"
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
        return "must be https (http only on loopback)"
    if any(c.isspace() or c in ";,'\"" for c in url):
        return "must not hold white space, ';', ',' or quotes"
    return ""


def _check_metrics(m: MetricsConfig, errors: list[str]) -> None:
    _check_networks("metrics.allow", m.allow, errors)


def _check_limits(lim: LimitsConfig, errors: list[str]) -> None:
    if not 1 <= lim.auth_failures <= 1_000_000:
        errors.append("limits.auth_failures: must be between 1 and 1000000")
    if not 1 <= lim.auth_window_seconds <= 86_400:
        errors.append("limits.auth_window_seconds: must be between 1 and 86400")


def _check_federation(fed: FederationConfig, errors: list[str]) -> None:
    if not 1 <= fed.page_size <= 100_000 or fed.timeout < 1 or fed.status_wait < 0 or fed.max_retries < 0 \
            or fed.max_backoff < 1 or fed.max_response_bytes < 1024:
        errors.append("federation: page_size must be 1 to 100000, timeout and max_backoff at least 1, "
                      "status_wait and max_retries not negative, max_response_bytes at least 1024")
    if fed.token_keys_interval < 0:
        errors.append("federation.token_keys_interval: must not be negative")


def _check(cfg: HubConfig, errors: list[str]) -> None:
    """Check the loaded values, a table at a time; each problem is one entry of ``errors``."""
    _check_hub(cfg, errors)
    _check_taxii(cfg.taxii, errors)
    _check_server(cfg.server, errors)
    _check_pseudonyms(cfg.pseudonyms, errors)
    _check_web(cfg.web, errors)
    _check_metrics(cfg.metrics, errors)
    _check_limits(cfg.limits, errors)
    _check_federation(cfg.federation, errors)
    if not 0 <= cfg.anonymity.publish_window_seconds <= 7 * 86_400:
        errors.append("anonymity.publish_window_seconds: must be between 0 and 604800")
    if not 1 <= cfg.anonymity.token_epoch_days <= 366:
        errors.append("anonymity.token_epoch_days: must be between 1 and 366")
    if not 1 <= cfg.anonymity.tokens_per_epoch <= 1_000_000:
        errors.append("anonymity.tokens_per_epoch: must be between 1 and 1000000")
    if not 0 <= cfg.anonymity.token_next_key_hours <= 366 * 24:
        errors.append("anonymity.token_next_key_hours: must be between 0 and 8784")


def _public_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as the hub's public URL, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return "is not a valid URL (a port must be a number from 0 to 65535)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host name"
    if parts.username is not None or parts.password is not None:
        return "must not contain credentials"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return "must not contain a query or a fragment"
    if any(not c.isprintable() or c.isspace() for c in url):
        return "must not contain spaces or control characters"
    return None


def load_config(home: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> HubConfig:
    """Build the configuration: defaults, then ``<home>/hub.toml``, then ``HUB_*`` variables.

    Raises :class:`ConfigError` listing every bad value.
    """
    env = os.environ if environ is None else environ
    home_path = Path(home or env.get("HUB_HOME") or DEFAULT_HOME)
    errors: list[str] = []
    cfg = HubConfig(home=home_path)
    file_path = home_path / CONFIG_FILE
    data: dict[str, Any] = {}
    if file_path.exists():
        try:
            data = tomllib.loads(file_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file_path}: not valid TOML: {exc}") from None
    hub_table = dict(data.pop("hub", {}))
    cfg = _apply(cfg, hub_table, "hub.", errors)
    for name in _SECTIONS:
        table = data.pop(name, {})
        if not isinstance(table, dict):
            errors.append(f"{name}: must be a table")
            continue
        cfg = replace(cfg, **{name: _apply(getattr(cfg, name), table, f"{name}.", errors)})
    for name in data:
        errors.append(f"{name}: unknown table in {file_path}")

    env_hub: dict[str, Any] = {}
    env_sections: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    for key, value in env.items():
        if not key.startswith("HUB_") or key == "HUB_HOME" or key.startswith("HUB_TEST_"):
            continue
        rest = key[4:].lower()
        section, _, sub = rest.partition("_")
        if section in _SECTIONS and sub:
            env_sections[section][sub] = value
        else:
            env_hub[rest] = value
    cfg = _apply(cfg, env_hub, "HUB_", errors)
    for name, values in env_sections.items():
        if values:
            cfg = replace(cfg, **{name: _apply(getattr(cfg, name), values, f"HUB_{name.upper()}_", errors)})
    _check(cfg, errors)
    if len(errors) == 1:
        raise ConfigError(f"bad configuration: {errors[0]}")
    if errors:
        raise ConfigError(f"bad configuration ({len(errors)} problems):\n  " + "\n  ".join(errors))
    return cfg


DEFAULT_CONFIG_TEXT = """\
# abusehub configuration. Every key may be overridden by an environment variable:
# HUB_<KEY> for [hub], HUB_<TABLE>_<KEY> for the others (e.g. HUB_TAXII_MAX_PAGE_SIZE).

[hub]
title = "abusehub"
description = "Sharing hub for reports of abused IaaS accounts"
contact = ""
# Where clients reach this hub (e.g. "https://hub.example"): discovery (/taxii2/) names the API
# root under it. Empty: discovery names the API root by a relative URL ("/api/").
public_url = ""
# Empty: the embedded SQLite database hub.db in this folder.
# PostgreSQL: "postgresql+psycopg://user@host:5432/dbname"
database_url = ""
# PostgreSQL hot standbys of database_url that serve polls (docs/OPERATIONS.md), e.g.
# ["postgresql+psycopg://hub@standby1:5432/hub"]; a standby more than database_read_max_lag
# seconds behind, or down, is skipped and its reads go to the primary.
database_read_urls = []
database_read_max_lag = 10
# Read records held on disk while the primary cannot be written to; when full, reads get 503.
database_read_spool_records = 100000
log_level = "info"
# "json": one JSON object per log line (time, level, request id, method, endpoint, status,
# duration, party, collection); "text": the same as plain text. Never tokens, bodies or
# query values.
log_format = "json"

[taxii]
api_root = "api"
default_page_size = 100
max_page_size = 1000
max_content_length = 16777216
status_retention_hours = 168
public_discovery = true

[server]
host = "127.0.0.1"
port = 6100
workers = 2
threads = 4
# Reverse proxies (addresses or networks) whose X-Forwarded-For/-Proto/-Host headers are
# believed, e.g. ["127.0.0.1"]; from any other address those headers are ignored.
trusted_proxies = []

[pseudonyms]
# Personal values a party may turn into pseudonyms per minute (POST /<api_root>/pseudonyms/
# and /<api_root>/pseudonyms/evaluate, one per blinded value).
# Counted in the database: every server process draws on the same allowance.
per_minute = 600
# Region for phone numbers written without "+<country code>" (e.g. "DE"); empty: refuse them.
default_region = ""
# Whether POST /<api_root>/pseudonyms/ answers: that endpoint SEES the raw personal values.
# Providers' tools make oblivious pseudonyms through POST /<api_root>/pseudonyms/evaluate,
# which sees blinded values only; turn this on only for older tools that need it.
accept_raw_values = false
# The pseudonym keys (an HMAC secret and a POPRF seed per version) live in pseudonym-keys.json
# in this folder (mode 0600), created by 'abusehub init'. Keep it secret and back it up:
# without it, new reports stop matching old ones. Several machines serving one hub must share
# the same file.

[metrics]
# GET /metrics (Prometheus text format) answers only these addresses or networks...
# Behind a reverse proxy, set [server] trusted_proxies (or refuse /metrics at the proxy):
# otherwise every request it forwards comes from the proxy's own address.
enabled = true
allow = ["127.0.0.1/32", "::1/128"]
# ...and, when set, only requests bearing the token in this file ("Authorization: Bearer ...").
token_file = ""

[limits]
# Failed authentications per source address (and per party named in HTTP Basic credentials)
# within the window; beyond that, failing requests get 429 with Retry-After.
auth_failures = 20
auth_window_seconds = 300

[web]
# The analysts' web pages (/web/): a session ends after this many idle minutes.
session_idle_minutes = 30
# The key that signs session cookies (in this folder, mode 0600, made on first use); every
# process and machine serving the hub must share it.
secret_key_file = "web-secret.key"
# Session cookies over HTTPS only; turn off only for a hub on loopback without TLS.
secure_cookies = true

[federation]
# 'abusehub federate': how this hub pulls from and pushes to its peers ('abusehub peer add').
# Objects asked for per page when pulling, and sent per envelope when pushing.
page_size = 500
# Seconds to wait for a peer's answer to one request.
timeout = 30
# Seconds to follow a pushed envelope's status until the peer has judged every object.
status_wait = 120
# Attempts of one request on 429/503 before the link's turn ends with an error.
max_retries = 3
# The longest wait (seconds) before a failing link is tried again; waits double from 1 s.
max_backoff = 300
# The largest answer (bytes) taken from a peer; a larger one fails that link only.
max_response_bytes = 67108864
# Each turn of a link copies the peer's token keys (the second source its providers check),
# at most once in this many seconds (0: every turn), at once when the peer's epoch changed.
token_keys_interval = 3600

[anonymity]
# Anonymous filing (docs/ANONYMITY.md). The oversight body's public key (PEM, from
# 'abusehub escrow keygen'), relative to this folder; empty: anonymous filings are refused.
oversight_public_key_file = ""
# Anonymous reports are published at random moments within this many seconds after filing.
publish_window_seconds = 3600
# Submission tokens: one token key per epoch of this many days for every provider, and at most
# tokens_per_epoch tokens issued to a party in one epoch.
token_epoch_days = 7
tokens_per_epoch = 100
# The next epoch's key is published (and issued) this many hours before the epoch begins (at
# most half an epoch; 0: not ahead), so tokens fetched late in an epoch last through the next.
token_next_key_hours = 24
"""
