"""hub.client's public API is its ``__all__`` (as httpx's tests/test_exported_members.py holds
httpx's): every name in it is importable from the package and documented, the package exports
nothing else, and every public name of its modules is either exported or named below as the
module's own, so a new public name is a decision, not an accident."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import types
from typing import Any

import pytest

import hub.client

#: Public names of the modules that are not the package's API, and why.
MODULES_OWN: dict[str, str] = {
    # Media types, limits and hints the client applies itself.
    "hub.client.taxii.TAXII_21": "the media type every TAXII request and answer carries",
    "hub.client.taxii.JWK_SET_ACCEPT": "the Accept header of key set requests",
    "hub.client.taxii.MAX_CORRELATION_PSEUDONYMS": "correlations() splits longer queries itself",
    "hub.client.oprf.JSON": "the media type of the hub's plain-JSON endpoints",
    "hub.client.oprf.MAX_PSEUDONYMS_PER_REQUEST": "oblivious_pseudonyms() batches by it itself",
    "hub.client.http.API_ROOT_HINT": "a hint in messages",
    "hub.client.http.DEFAULT_TIMEOUT": "TaxiiClient's default",
    "hub.client.poll.DEFAULT_LIMIT": "Poller's default page size",
    "hub.client.verify.FAILED_SUFFIX": "failed_path() names the file",
    "hub.client.verify.POLL_KEYS_HINT": "a hint in messages",
    "hub.client.blocklist.CSV_COLUMNS": "render_csv() writes them",
    "hub.client.blocklist.ENTRY_TYPES": "Entry's kinds, for the blocklist module",
    "hub.client.blocklist.LIST_FILES": "write_blocklist() names the files",
    "hub.client.retry.RETRY_STATUSES": "RetryPolicy's statuses",
    # The HTTP rules, used by TaxiiClient and OprfClient; a caller gives a URL and a token.
    "hub.client.http.HttpSession": "TaxiiClient.http",
    "hub.client.http.Call": "how a request is named in messages",
    "hub.client.http.api_root": "TaxiiClient normalises its URL",
    "hub.client.http.check_transport": "TaxiiClient checks its URL",
    "hub.client.http.is_loopback_url": "check_transport()'s rule",
    "hub.client.http.read_token": "the commands' --token/--token-file",
    "hub.client.http.error_description": "refusal()'s reading of an error body",
    "hub.client.http.refusal": "the error of a refused request",
    "hub.client.http.not_taxii": "the error of an answer that is not TAXII",
    "hub.client.http.json_object": "reading an answer",
    "hub.client.retry.parse_retry_after": "RetryPolicy reads Retry-After",
    # Helpers of one module.
    "hub.client.envelope.split_envelope": "TaxiiClient keeps each object's exact text",
    "hub.client.envelope.envelope_bytes": "add_objects() writes the envelope",
    "hub.client.envelope.json_line": "the poller's line format",
    "hub.client.poll.split_envelope": "the same function as hub.client.envelope's",
    "hub.client.verify.append_failures": "the poller writes failures",
    "hub.client.verify.version_of": "an object's (id, modified) for the verifier",
}


def _is_module(value: Any) -> bool:
    return isinstance(value, types.ModuleType)


def _submodules() -> list[types.ModuleType]:
    return [importlib.import_module(f"hub.client.{m.name}") for m in pkgutil.iter_modules(hub.client.__path__)]


def _public_names(module: types.ModuleType) -> set[str]:
    """A module's public names: its ``__all__``, and the functions and classes it defines whose
    names do not start with an underscore."""
    names = set(getattr(module, "__all__", ()))
    for name, value in vars(module).items():
        if not name.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value)) \
                and value.__module__ == module.__name__:
            names.add(name)
    return names


def test_all_is_sorted_and_is_every_public_member() -> None:
    # dir(): the package imports its modules when their names are first asked for.
    members = [name for name in dir(hub.client)
               if not name.startswith("_") and not _is_module(getattr(hub.client, name))]
    assert hub.client.__all__ == sorted(members, key=str.casefold)


@pytest.mark.slow
def test_the_package_imports_a_module_when_one_of_its_names_is_asked_for() -> None:
    """``import hub.client`` imports none of its modules, the errors none of the HTTP layer; a name
    or a module asked for is there (the other names of its module too), an unknown one is not."""
    script = """
import sys
import hub.client
loaded = [m for m in sys.modules if m.startswith("hub.client.")]
assert loaded == [], loaded
from hub.client import ClientError
from hub.client.reports import local_problems
assert "httpx" not in sys.modules and "hub.client.http" not in sys.modules
assert hub.client.TaxiiClient.__module__ == "hub.client.taxii" and "httpx" in sys.modules
assert hub.client.verify.ObjectVerifier is hub.client.ObjectVerifier
try:
    hub.client.NoSuchName
except AttributeError as exc:
    assert "NoSuchName" in str(exc)
else:
    raise AssertionError("an unknown name was found")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", hub.client.__all__)
def test_exported_name_is_importable_and_documented(name: str) -> None:
    namespace: dict[str, Any] = {}
    exec(f"from hub.client import {name}", namespace)  # noqa: S102 - the import a user writes
    value = namespace[name]
    # The package's docstring, its guide, names every export.
    assert f"``{name}``" in (hub.client.__doc__ or ""), f"hub.client's docstring does not name {name}"
    if inspect.isclass(value) or inspect.isfunction(value):
        # Its own docstring, not one a dataclass writes (``Name(field, ...)``) or one inherited.
        doc = value.__dict__.get("__doc__") if inspect.isclass(value) else value.__doc__
        assert doc and doc.strip() and not doc.startswith(f"{name}("), f"{name} has no docstring"
        assert value.__module__.startswith("hub."), f"{name} comes from {value.__module__}"


@pytest.mark.parametrize("module", _submodules(), ids=lambda m: m.__name__)
def test_every_public_name_of_a_module_is_exported_or_its_own(module: types.ModuleType) -> None:
    exported = {id(getattr(hub.client, n)) for n in hub.client.__all__}

    def decided(name: str) -> bool:
        value = getattr(module, name)
        # A name a module takes from another (the same object under the same name) is decided
        # where it is defined.
        homes = [f"{m.__name__}.{name}" for m in _submodules() if getattr(m, name, None) is value]
        return id(value) in exported or any(home in MODULES_OWN for home in homes)

    undecided = sorted(name for name in _public_names(module) if not decided(name))
    assert undecided == [], (f"{module.__name__} has public names hub.client neither exports nor "
                             f"names as the module's own: {undecided}")


def test_names_kept_as_modules_own_exist() -> None:
    for dotted in MODULES_OWN:
        module, _, name = dotted.rpartition(".")
        assert hasattr(importlib.import_module(module), name), f"{dotted} is gone: drop it from MODULES_OWN"
        assert name not in hub.client.__all__, f"{dotted} is exported and named as the module's own"


def test_the_oprf_client_is_its_own_module() -> None:
    """The RFC 9497 protocol (blinding, batches, proofs) lives in hub.client.oprf; TaxiiClient's
    pseudonym methods call it, and the names that moved still import from hub.client.taxii."""
    from hub.client import oprf, taxii

    source = inspect.getsource(taxii)
    for protocol_word in ("PseudonymBatch", "VerifyError", "b64url_encode", "pseudonyms/evaluate\""):
        assert protocol_word not in source, f"hub.client.taxii still holds {protocol_word}"
    for name in ("NoObliviousPseudonyms", "UnverifiableAnswer", "PseudonymKeys", "JSON",
                 "MAX_PSEUDONYMS_PER_REQUEST"):
        assert getattr(taxii, name) is getattr(oprf, name)
    client = taxii.TaxiiClient("https://hub.example/api/", "token")
    try:
        assert isinstance(client.oprf, oprf.OprfClient) and client.oprf.http is client.http
    finally:
        client.close()
