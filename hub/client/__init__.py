"""The parties' side of a hub: a TAXII 2.1 client library that never touches a hub's database.

It imports only :mod:`hub.common`, :mod:`hub.pseudonyms`, :mod:`hub.signing` and
:mod:`hub.stix` (and httpx), so a provider can use it without running a hub. Each module is
imported when one of its names is first asked for (``from hub.client import X``, or
``hub.client.X``), not with the package, and the modules import the HTTP layer (and httpx)
when they make a request: a hub that uses the errors or the report checks only does not
import it. No module here prints, parses command lines or exits: the commands are in
:mod:`hub.cli`, and federation and the web page call the same functions. A provider's
tooling imports what it needs from here::

    from hub.client import ClientError, Poller, TaxiiClient, build_blocklist

The names below are the public API (``__all__``), by the module that defines them:

- :mod:`hub.client.taxii`: ``TaxiiClient``, TAXII 2.1 over an injected httpx transport
  (discovery, API root, collections, objects page by page with each object's exact text,
  manifest, add objects and follow the status), plus the hub's key set, pseudonym and
  correlation endpoints; what it returns: ``ObjectsPage``, ``ManifestPage``, ``ManifestEntry``,
  ``TombstonePage``, ``StatusResource``, and ``Outcome`` (``read_outcome`` sorts a status into
  stored, already stored, refused and pending); ``fetch_key_set`` fetches a published JWK set;
- :mod:`hub.client.oprf`: ``OprfClient``, the RFC 9497 POPRF protocol behind
  ``TaxiiClient.pseudonymise`` (values blinded here, the hub's proof checked against its
  published ``PseudonymKeys`` or pinned ones), with ``UnverifiableAnswer`` and
  ``NoObliviousPseudonyms``;
- :mod:`hub.client.envelope`: ``ExactObject``, an object with the exact text it was sent with;
- :mod:`hub.client.errors`: the error tree under ``ClientError`` (one line a person can act on):
  ``ConnectionFailed``, ``Redirected``, ``HubRefused`` (``AuthenticationFailed``,
  ``AccessDenied``, ``ResourceNotFound``, ``Busy``), ``ProtocolError`` (``NotTaxii``), and
  ``ResponseTooLarge`` from :mod:`hub.client.http`, whose ``HttpSession`` holds the rules every
  request follows (API root, token only there, no redirects, nothing from the environment,
  plain http only to this machine);
- :mod:`hub.client.retry`: ``RetryPolicy`` (429/503, ``Retry-After``, bounded backoff with
  jitter; ``NO_RETRY`` never retries) and the ``RetryNotice`` a caller hears of each wait;
- :mod:`hub.client.poll`: ``Poller`` and ``poll_collection``, incremental, resumable polling of
  one collection into a JSON-lines file, giving a ``PollResult`` or raising ``PollError``;
- :mod:`hub.client.cursor`: the ``Cursor`` that survives interruption (``load_cursor``,
  ``save_cursor``, ``default_cursor_path``, ``CursorError``);
- :mod:`hub.client.verify`: signatures checked page by page: ``ObjectVerifier`` with keys from a
  ``KeySource``, in a ``VerifyMode``, counting in a ``Tally``; each ``Failure`` is kept next to
  the file (``failed_path``, ``read_failures``);
- :mod:`hub.client.blocklist`: firewall and DNS-filter lists from such a file
  (``build_blocklist`` giving a ``BlocklistResult`` of ``Entry`` rows, ``write_blocklist``,
  ``render_plain``, ``render_csv``; ``pattern_entries`` reads one STIX pattern, or raises
  ``UnsupportedPattern``);
- :mod:`hub.client.reports`: filing a report of an abused account: the facts (``REPORT_TEMPLATE``,
  ``read_facts``, ``load_facts``, ``check_identity``), pseudonyms through the hub
  (``pseudonym_values``, ``MappedPseudonymiser`` for values pseudonymised elsewhere), build, sign
  and check (``load_signing_key``, ``prepare_report`` giving a ``PreparedReport``,
  ``local_problems`` and ``LocalProblems``), submit (``submit_report``, ``file_report``) and the
  outcome (``ReportResult``, its ``ReportState``).
- :mod:`hub.client.notices`: notices from agencies to providers: issue and withdraw
  (``NOTICE_TEMPLATE``, ``read_notice_facts``, ``issue_notice``, ``withdraw_notice``), read them
  (``fetch_notice``, ``fetch_notices``, ``read_notice_lines``, ``newest_versions``), match a
  provider's account file against those in force (``ACCOUNT_FIELDS``, ``read_accounts`` giving
  ``ProviderAccount`` rows and each ``RowProblem``, ``pseudonymise_accounts`` with a
  ``PseudonymCache`` kept per key version for ``CACHE_KEEPS_DAYS``, ``match_accounts`` giving a
  ``NoticeMatch`` per notice), answer one (``acknowledge``, ``respond`` with an answer read by
  ``read_answer``) and ask the hub who acted (``fetch_status``).
- :mod:`hub.client.anonymous`: filing a report anonymously in the attested mode: the report
  made anonymous (``anonymous_facts``, ``prepare_anonymous_report``), filed
  (``file_anonymous_report``, giving an ``AnonymousResult``) with its withdrawal secret kept
  (``write_secret_file``, ``read_secret_file``), and withdrawn by that secret
  (``withdraw_anonymous_report``).
- :mod:`hub.client.tokens`: submission tokens, to file anonymously without the hub learning
  who files: a hub's token key (``read_directory`` of ``fetch_directory`` gives a ``TokenKey``;
  ``read_next_key`` the next epoch's, published ahead), checked against a second source (``check_key_consistency``, raising ``KeyInconsistent``),
  tokens fetched blind (``fetch_tokens``) and kept (``TokenWallet`` of ``StoredToken``), the
  submitter's own sealed escrow record (``seal_submitter_record`` over ``filing_hash``) and
  the unauthenticated filing (``redeem_token``), and the oversight's check of an opened record
  (``submitter_record_problem``).

Everything else in the modules is theirs (tests/client/test_exported_members.py names it).
"""

import importlib
import typing

if typing.TYPE_CHECKING:
    from hub.client.anonymous import (
        AnonymousResult,
        anonymous_facts,
        file_anonymous_report,
        prepare_anonymous_report,
        read_secret_file,
        withdraw_anonymous_report,
        write_secret_file,
    )
    from hub.client.blocklist import (
        BlocklistResult,
        Entry,
        UnsupportedPattern,
        build_blocklist,
        pattern_entries,
        render_csv,
        render_plain,
        write_blocklist,
    )
    from hub.client.cursor import Cursor, CursorError, default_cursor_path, load_cursor, save_cursor
    from hub.client.envelope import ExactObject
    from hub.client.errors import (
        AccessDenied,
        AuthenticationFailed,
        Busy,
        ClientError,
        ConnectionFailed,
        HubRefused,
        NotTaxii,
        ProtocolError,
        Redirected,
        ResourceNotFound,
    )
    from hub.client.http import ResponseTooLarge
    from hub.client.notices import (
        ACCOUNT_FIELDS,
        CACHE_KEEPS_DAYS,
        NOTICE_TEMPLATE,
        NoticeMatch,
        ProviderAccount,
        PseudonymCache,
        RowProblem,
        acknowledge,
        fetch_notice,
        fetch_notices,
        fetch_status,
        issue_notice,
        match_accounts,
        newest_versions,
        pseudonymise_accounts,
        read_accounts,
        read_answer,
        read_notice_facts,
        read_notice_lines,
        respond,
        withdraw_notice,
    )
    from hub.client.oprf import NoObliviousPseudonyms, OprfClient, PseudonymKeys, UnverifiableAnswer
    from hub.client.poll import Poller, PollError, PollResult, poll_collection
    from hub.client.reports import (
        REPORT_TEMPLATE,
        LocalProblems,
        MappedPseudonymiser,
        PreparedReport,
        ReportResult,
        ReportState,
        check_identity,
        file_report,
        load_facts,
        load_signing_key,
        local_problems,
        prepare_report,
        pseudonym_values,
        read_facts,
        submit_report,
    )
    from hub.client.retry import NO_RETRY, RetryNotice, RetryPolicy
    from hub.client.taxii import (
        ManifestEntry,
        ManifestPage,
        ObjectsPage,
        Outcome,
        StatusResource,
        TaxiiClient,
        TombstonePage,
        fetch_key_set,
        read_outcome,
    )
    from hub.client.tokens import (
        KeyInconsistent,
        StoredToken,
        TokenKey,
        TokenWallet,
        check_key_consistency,
        fetch_directory,
        fetch_tokens,
        filing_hash,
        read_directory,
        read_next_key,
        redeem_token,
        seal_submitter_record,
        submitter_record_problem,
    )
    from hub.client.verify import (
        Failure,
        KeySource,
        ObjectVerifier,
        Tally,
        VerifyMode,
        failed_path,
        read_failures,
    )

__all__ = [
    "AccessDenied",
    "ACCOUNT_FIELDS",
    "acknowledge",
    "anonymous_facts",
    "AnonymousResult",
    "AuthenticationFailed",
    "BlocklistResult",
    "build_blocklist",
    "Busy",
    "CACHE_KEEPS_DAYS",
    "check_identity",
    "check_key_consistency",
    "ClientError",
    "ConnectionFailed",
    "Cursor",
    "CursorError",
    "default_cursor_path",
    "Entry",
    "ExactObject",
    "failed_path",
    "Failure",
    "fetch_directory",
    "fetch_key_set",
    "fetch_notice",
    "fetch_notices",
    "fetch_status",
    "fetch_tokens",
    "file_anonymous_report",
    "file_report",
    "filing_hash",
    "HubRefused",
    "issue_notice",
    "KeyInconsistent",
    "KeySource",
    "load_cursor",
    "load_facts",
    "load_signing_key",
    "local_problems",
    "LocalProblems",
    "ManifestEntry",
    "ManifestPage",
    "MappedPseudonymiser",
    "match_accounts",
    "newest_versions",
    "NO_RETRY",
    "NoObliviousPseudonyms",
    "NOTICE_TEMPLATE",
    "NoticeMatch",
    "NotTaxii",
    "ObjectsPage",
    "ObjectVerifier",
    "OprfClient",
    "Outcome",
    "pattern_entries",
    "poll_collection",
    "Poller",
    "PollError",
    "PollResult",
    "prepare_anonymous_report",
    "prepare_report",
    "PreparedReport",
    "ProtocolError",
    "ProviderAccount",
    "pseudonym_values",
    "PseudonymCache",
    "pseudonymise_accounts",
    "PseudonymKeys",
    "read_accounts",
    "read_answer",
    "read_directory",
    "read_facts",
    "read_failures",
    "read_next_key",
    "read_notice_facts",
    "read_notice_lines",
    "read_outcome",
    "read_secret_file",
    "redeem_token",
    "Redirected",
    "render_csv",
    "render_plain",
    "REPORT_TEMPLATE",
    "ReportResult",
    "ReportState",
    "ResourceNotFound",
    "respond",
    "ResponseTooLarge",
    "RetryNotice",
    "RetryPolicy",
    "RowProblem",
    "save_cursor",
    "seal_submitter_record",
    "StatusResource",
    "StoredToken",
    "submit_report",
    "submitter_record_problem",
    "Tally",
    "TaxiiClient",
    "TokenKey",
    "TokenWallet",
    "TombstonePage",
    "UnsupportedPattern",
    "UnverifiableAnswer",
    "VerifyMode",
    "withdraw_anonymous_report",
    "withdraw_notice",
    "write_blocklist",
    "write_secret_file",
]

#: Where each exported name is defined: the package imports a module the first time one of its
#: names is asked for (PEP 562), so that importing one module of the client (its errors, say)
#: does not import all of them, nor httpx with them, into a process that does not use them.
_HOMES: dict[str, tuple[str, ...]] = {
    "anonymous": ("AnonymousResult", "anonymous_facts", "file_anonymous_report", "prepare_anonymous_report",
                  "read_secret_file", "withdraw_anonymous_report", "write_secret_file"),
    "blocklist": ("BlocklistResult", "Entry", "UnsupportedPattern", "build_blocklist", "pattern_entries",
                  "render_csv", "render_plain", "write_blocklist"),
    "cursor": ("Cursor", "CursorError", "default_cursor_path", "load_cursor", "save_cursor"),
    "envelope": ("ExactObject",),
    "errors": ("AccessDenied", "AuthenticationFailed", "Busy", "ClientError", "ConnectionFailed",
               "HubRefused", "NotTaxii", "ProtocolError", "Redirected", "ResourceNotFound"),
    "http": ("ResponseTooLarge",),
    "notices": ("ACCOUNT_FIELDS", "CACHE_KEEPS_DAYS", "NOTICE_TEMPLATE", "NoticeMatch", "ProviderAccount",
                "PseudonymCache", "RowProblem", "acknowledge", "fetch_notice", "fetch_notices",
                "fetch_status", "issue_notice", "match_accounts", "newest_versions", "pseudonymise_accounts",
                "read_accounts", "read_answer", "read_notice_facts", "read_notice_lines", "respond",
                "withdraw_notice"),
    "oprf": ("NoObliviousPseudonyms", "OprfClient", "PseudonymKeys", "UnverifiableAnswer"),
    "poll": ("Poller", "PollError", "PollResult", "poll_collection"),
    "reports": ("REPORT_TEMPLATE", "LocalProblems", "MappedPseudonymiser", "PreparedReport", "ReportResult",
                "ReportState", "check_identity", "file_report", "load_facts", "load_signing_key",
                "local_problems", "prepare_report", "pseudonym_values", "read_facts", "submit_report"),
    "retry": ("NO_RETRY", "RetryNotice", "RetryPolicy"),
    "taxii": ("ManifestEntry", "ManifestPage", "ObjectsPage", "Outcome", "StatusResource", "TaxiiClient",
              "TombstonePage", "fetch_key_set", "read_outcome"),
    "tokens": ("KeyInconsistent", "StoredToken", "TokenKey", "TokenWallet", "check_key_consistency",
               "fetch_directory", "fetch_tokens", "filing_hash", "read_directory", "read_next_key",
               "redeem_token", "seal_submitter_record", "submitter_record_problem"),
    "verify": ("Failure", "KeySource", "ObjectVerifier", "Tally", "VerifyMode", "failed_path",
               "read_failures"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

if not typing.TYPE_CHECKING:  # mypy reads the imports above: an unknown name stays an error

    def __getattr__(name: str) -> object:
        """An exported name, from its module (imported now if it was not), or a submodule."""
        module = _HOME_OF.get(name)
        if module is not None:
            value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
            globals()[name] = value  # asked once: later lookups do not come here
            return value
        if name in _HOMES:  # ``hub.client.taxii`` after a plain ``import hub.client``
            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The package's names, those not imported yet included."""
    return sorted(set(globals()) | set(__all__))
