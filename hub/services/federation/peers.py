"""Peers and links: who this hub federates with, and what it pulls from or pushes to each.

A peer is a TAXII 2.1 API root of another organisation's hub (or any TAXII 2.1 server) with the
credentials this hub uses there: a token, or a client certificate and key. Its secrets are
kept in files of mode 0600 under ``<home>/federation/``, named by the peer, never in the
database, never printed after ``peer add``, never logged. Each peer is also a party of kind
``peer``: what it relays enters through the same ingest rules, and the audit trail names it.

A link is one direction between a local and a remote collection: ``pull`` (remote into local)
or ``push`` (local to remote), optionally restricted to some STIX types and a TLP ceiling.
"""

from __future__ import annotations

import builtins
import logging
import re
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hub.client.errors import ClientError
from hub.client.retry import RetryNotice, RetryPolicy
from hub.common.errors import BadRequest, Conflict, NotFound
from hub.common.files import write_private
from hub.common.ids import is_stix_id, is_stix_type
from hub.config import FederationConfig
from hub.services.admin import TLP_NAMES
from hub.services.audit import AuditService
from hub.services.clock import Clock
from hub.store.base import DuplicateError, Store
from hub.store.federation import LinkRecord, PeerRecord
from hub.store.records import Party

if TYPE_CHECKING:  # imported by the first client a peer gets (:mod:`.transport`)
    import httpx

    from hub.client.taxii import TaxiiClient

log = logging.getLogger("abusehub.federation")

__all__ = ["DIRECTIONS", "PeerDirectory", "TransportFor"]

DIRECTIONS = ("pull", "push")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

#: Chooses the HTTP transport for a peer (None: the network). Tests and in-process federation
#: pass :class:`httpx.WSGITransport` of the peer's app.
TransportFor = Callable[[PeerRecord], "httpx.BaseTransport | None"]


def _network(_peer: PeerRecord) -> httpx.BaseTransport | None:
    return None


@dataclass(frozen=True)
class Credentials:
    """How this hub authenticates at a peer, before it is stored."""

    token: str | None = None
    cert: Path | None = None
    key: Path | None = None
    #: ``user:password`` for HTTP Basic (RFC 7617), for servers such as medallion.
    basic: str | None = None

    def __repr__(self) -> str:  # never the secrets
        return (f"Credentials(token={'…' if self.token else None}, basic={'…' if self.basic else None}, "
                f"cert={self.cert}, key={self.key})")



def _credential_kind(credentials: Credentials) -> tuple[str, str | None]:
    """How a peer is authenticated (``token``, ``basic`` or ``cert``) and its secret (the token or
    ``user:password``; None for a certificate), each checked for its one-line form."""
    if credentials.token is not None:
        if not credentials.token.strip() or any(c.isspace() for c in credentials.token.strip()):
            raise BadRequest("the token file must hold one token on one line")
        return "token", credentials.token
    if credentials.basic is not None:
        if ":" not in credentials.basic.strip() or "\n" in credentials.basic.strip():
            raise BadRequest("the basic-auth file must hold user:password on one line")
        return "basic", credentials.basic
    if credentials.cert is None or credentials.key is None:
        raise BadRequest("give a token file, or a client certificate and its key")
    return "cert", None

class PeerDirectory:
    """Adds, lists and removes peers and links; opens a client for a peer."""

    def __init__(self, store: Store, audit: AuditService, clock: Clock, home: Path,
                 config: FederationConfig, transport_for: TransportFor | None = None) -> None:
        self.store = store
        self.audit = audit
        self.clock = clock
        self.home = home
        self.config = config
        self.transport_for: TransportFor = transport_for or _network
        #: TLS contexts by what they load (see :meth:`_tls`): building one reads a CA bundle,
        #: about 30 ms of CPU, which a turn every few seconds would otherwise pay each time.
        self._contexts: dict[tuple[Any, ...], ssl.SSLContext] = {}
        self._contexts_lock = threading.Lock()

    @property
    def folder(self) -> Path:
        """Where peers' secrets are kept (mode 0700 folder, 0600 files)."""
        return self.home / "federation"

    # -- clients

    def client(self, peer: PeerRecord, *, on_retry: Callable[[RetryNotice], None] | None = None,
               max_retries: int | None = None) -> TaxiiClient:
        """A TAXII client of the peer's API root with this hub's credentials there."""
        secret = Path(peer.secret_path).read_text(encoding="utf-8").strip() if peer.secret_path else None
        retry = RetryPolicy(max_retries=self.config.max_retries if max_retries is None else max_retries,
                            backoff=1.0, max_backoff=min(30.0, float(self.config.max_backoff)))
        return self._open(peer, secret, retry, on_retry)

    def _open(self, peer: PeerRecord, secret: str | None, retry: RetryPolicy,
              on_retry: Callable[[RetryNotice], None] | None = None) -> TaxiiClient:
        from hub.services.federation.transport import peer_client

        return peer_client(peer, secret, self._tls(peer), self.transport_for(peer), self.config,
                           retry, on_retry)

    def _tls(self, peer: PeerRecord) -> ssl.SSLContext:
        """The TLS context for a peer, made once and shared by its clients (a context is safe
        to share between threads): certifi's bundle, as httpx checks by default; for a peer
        reached with a client certificate, the system's CAs and that certificate, made again
        when its certificate or key file changes (a renewed certificate is used next turn)."""
        key: tuple[Any, ...] = ("default",)
        if peer.auth == "cert" and peer.cert_path and peer.key_path:
            key = ("cert", peer.cert_path, peer.key_path, _changed(peer.cert_path), _changed(peer.key_path))
        with self._contexts_lock:
            context = self._contexts.get(key)
            if context is None:
                if key[0] == "cert":
                    context = ssl.create_default_context()
                    context.load_cert_chain(key[1], key[2])
                    # Only the newest context of a certificate is kept.
                    for old in [k for k in self._contexts if k[:3] == key[:3]]:
                        del self._contexts[old]
                else:
                    from hub.services.federation.transport import default_tls

                    context = default_tls()
                self._contexts[key] = context
            return context

    # -- peers

    def add(self, name: str, url: str, credentials: Credentials, *, check: bool = True) -> PeerRecord:
        """Add a peer: check the URL and (unless ``check`` is False) that the credentials work,
        then keep the secrets under the home, make or reuse the party of kind ``peer``, and pin
        the peer hub's own identity (from its published key set) to it."""
        if not _NAME_RE.match(name):
            raise BadRequest(f"peer name {name!r}: use letters, digits, '.', '_' or '-' (at most 100)")
        if self.store.get_peer(name) is not None:
            raise Conflict(f"a peer named {name!r} already exists")
        api = _check_url(url)
        party = self.store.get_party(name)
        if party is not None and party.kind != "peer":
            raise Conflict(f"a party named {name!r} exists and is a {party.kind}, not a peer: "
                           "choose another peer name")
        auth, secret = _credential_kind(credentials)
        draft = PeerRecord(0, name, 0, api, auth, None, str(credentials.cert) if credentials.cert else None,
                           str(credentials.key) if credentials.key else None, 0)
        identity = None
        if check:
            identity = self._check_credentials(draft, secret.strip() if secret else None)
        secret_path, cert_path, key_path = self._keep_secrets(name, auth, secret, credentials)
        now = self.clock()
        if party is None:
            party = self._make_party(name, identity, now)
        try:
            peer = self.store.add_peer(name, party.pk, api, auth, _str(secret_path), _str(cert_path),
                                     _str(key_path), now)
        except DuplicateError as exc:
            raise Conflict(str(exc)) from None
        # The peer hub's own identity is pinned to it: its countersigning key comes from it.
        for pinned in dict.fromkeys(i for i in (party.identity_id, identity) if i is not None):
            try:
                self.store.map_identity(peer.pk, pinned, now)
            except DuplicateError:
                pass  # pinned to another peer by the operator: left as it is
        self.audit.record("peer.add", name, url=api, auth=peer.auth, checked=check)
        return peer

    def _keep_secrets(self, name: str, auth: str, secret: str | None,
                      credentials: Credentials) -> tuple[Path | None, Path | None, Path | None]:
        """Write the peer's secret (or client certificate and key) into files of mode 0600 under
        the home, never into the database: their paths (secret, certificate, key)."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if secret is not None:
            secret_path = self.folder / f"{name}.{auth}"
            write_private(secret_path, secret.strip().encode("utf-8") + b"\n")
            return secret_path, None, None
        assert credentials.cert is not None and credentials.key is not None
        cert_path, key_path = self.folder / f"{name}.crt", self.folder / f"{name}.key"
        try:
            write_private(cert_path, credentials.cert.read_bytes())
            write_private(key_path, credentials.key.read_bytes())
        except OSError as exc:
            raise BadRequest(f"cannot read the client certificate or key: {exc.strerror}") from None
        return None, cert_path, key_path

    def _make_party(self, name: str, identity: str | None, now: int) -> Party:
        # The party's identity is the peer hub's own (its countersigning identity) when known:
        # then objects the peer hub created itself are its own, and its key is pinned to it.
        identity_id = identity or f"identity--{uuid.uuid4()}"
        try:
            party = self.store.create_party(name, "peer", identity_id, False, now)
        except DuplicateError:
            raise Conflict(f"identity {identity_id} of peer {name!r} belongs to another party here") from None
        self.audit.record("party.add", name, kind="peer", identity=identity_id, operator=False)
        return party

    def _check_credentials(self, peer: PeerRecord, token: str | None) -> str | None:  # token or user:pass
        """Ask the peer for its collections with the credentials; the peer hub's identity (from
        its published key set, the key of its party ``abusehub``) if it publishes one."""
        client = self._open(peer, token, RetryPolicy(max_retries=0))
        try:
            with client:
                client.collections()
                try:
                    keys = client.key_set().get("keys", [])
                except ClientError:
                    return None  # not an abusehub, or no key set: fine
        except ClientError as exc:
            raise BadRequest(f"peer {peer.name}: the credentials do not work at {peer.url}: "
                             f"{exc.description}") from None
        except (OSError, ssl.SSLError) as exc:
            raise BadRequest(f"peer {peer.name}: cannot use the client certificate: {exc}") from None
        for jwk in keys:
            if isinstance(jwk, dict) and jwk.get("party") == "abusehub" and is_stix_id(jwk.get("identity"), "identity"):
                return str(jwk["identity"])
        return None

    def get(self, name: str) -> PeerRecord:
        """The peer named ``name``; :class:`NotFound` otherwise."""
        peer = self.store.get_peer(name)
        if peer is None:
            raise NotFound(f"no peer named {name!r}")
        return peer

    def all(self) -> list[PeerRecord]:
        """Every peer, by name."""
        return self.store.list_peers()

    def remove(self, name: str) -> None:
        """Remove a peer, its links, pinned identities and quarantined objects, and its secret
        files. Its party stays (the objects it relayed and the audit trail name it)."""
        peer = self.get(name)
        self.store.remove_peer(peer.pk)
        for path in (peer.secret_path, peer.key_path, peer.cert_path):
            if path and Path(path).is_relative_to(self.folder):
                Path(path).unlink(missing_ok=True)
        self.audit.record("peer.remove", name)

    def map_identity(self, name: str, identity_id: str) -> bool:
        """Pin an identity to a peer: its keys are taken from that peer's key set only."""
        peer = self.get(name)
        if not is_stix_id(identity_id, "identity"):
            raise BadRequest(f"{identity_id!r} is not an identity id (identity--<uuid>)")
        try:
            added = self.store.map_identity(peer.pk, identity_id, self.clock())
        except DuplicateError as exc:
            raise Conflict(str(exc)) from None
        if added:
            self.audit.record("peer.map-identity", name, identity=identity_id)
        return added

    def identities(self, name: str) -> builtins.list[str]:
        """The identities pinned to the peer."""
        return self.store.identities_of(self.get(name).pk)

    # -- links

    def add_link(self, peer_name: str, direction: str, remote: str, local: str, *,
                 types: builtins.tuple[str, ...] = (), max_tlp: str | None = None, check: bool = True) -> LinkRecord:
        """Add a link; the local collection must exist here and (unless ``check`` is False) the
        remote one at the peer, readable for a pull, writable for a push."""
        peer = self.get(peer_name)
        if direction not in DIRECTIONS:
            raise BadRequest(f"link direction {direction!r}: must be pull or push")
        bad = [t for t in types if not is_stix_type(t)]
        if bad:
            raise BadRequest(f"--types: {', '.join(repr(t) for t in bad)} is not a STIX type")
        if max_tlp is not None:
            max_tlp = max_tlp.lower()
            if max_tlp == "white":
                max_tlp = "clear"
            if max_tlp not in TLP_NAMES:
                raise BadRequest(f"--max-tlp {max_tlp!r}: must be one of {', '.join(TLP_NAMES)}")
        if not remote.strip() or len(remote) > 100:
            raise BadRequest("the remote collection must be a collection id of at most 100 characters")
        col = self.store.get_collection(local)
        if col is None:
            raise BadRequest(f"no collection {local!r} here")
        if check:
            self._check_remote(peer, direction, remote)
        try:
            link = self.store.add_link(peer.pk, direction, remote, col.pk, types, max_tlp, self.clock())
        except DuplicateError:
            raise Conflict(f"that link to peer {peer_name} exists already") from None
        self.audit.record("link.add", peer_name, col.id, direction=direction, remote=remote,
                          types=list(types), max_tlp=max_tlp)
        return link

    def _check_remote(self, peer: PeerRecord, direction: str, remote: str) -> None:
        try:
            with self.client(peer, max_retries=0) as client:
                info: dict[str, Any] = client.collection(remote)
        except ClientError as exc:
            raise BadRequest(f"peer {peer.name}: collection {remote!r}: {exc.description}") from None
        right = "can_read" if direction == "pull" else "can_write"
        if info.get(right) is False:
            raise BadRequest(f"peer {peer.name}: collection {remote!r} is not "
                             f"{'readable' if direction == 'pull' else 'writable'} with this hub's credentials")

    def links(self, peer_name: str | None = None) -> builtins.list[LinkRecord]:
        """Every link (of one peer)."""
        return self.store.list_links(self.get(peer_name).pk if peer_name else None)

    def link(self, pk: int) -> LinkRecord:
        """One link by its number; :class:`NotFound` otherwise."""
        link = self.store.get_link(pk)
        if link is None:
            raise NotFound(f"no link {pk}")
        return link

    def remove_link(self, pk: int) -> None:
        """Remove a link (its quarantined objects stay, for the operator to release or drop)."""
        link = self.link(pk)
        self.store.remove_link(pk)
        self.audit.record("link.remove", link.peer_name, link.collection_id, direction=link.direction,
                          remote=link.remote_collection)


def _changed(path: str) -> tuple[int, int] | None:
    """When a file last changed, and its size (None if it cannot be read: loading it fails)."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _str(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def _check_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"peer URL {url!r}: must be the http(s) URL of a TAXII 2.1 API root")
    if parts.username is not None or parts.password is not None:
        raise BadRequest("the peer URL must not contain credentials: use --token-file or --cert/--key")
    return url if url.endswith("/") else url + "/"


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1")
