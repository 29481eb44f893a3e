"""Anonymous filing: a provider's report published under a per-report anonymous identity, with
the hub's attestation signature instead of the provider's (docs/ANONYMITY.md).

One pipeline publishes every anonymous report, whichever way its submitter was checked:

``AnonymousFilingService.file_attested(principal, collection_id, body) -> FilingReceipt``
    The attested mode. ``principal`` is the authenticated party; the objects of ``body`` must
    carry that party's trusted signature (checked as on ingest). The hub seals the submitter ↔
    report record to the oversight key itself.

``AnonymousFilingService.file_redeemed(collection_id, body, *, sealed_record, attests,
in_transaction=None) -> FilingReceipt``
    The token mode: the caller has already verified the submission token (nobody is
    authenticated). ``sealed_record`` is the escrow record the submitter's client sealed
    (a JSON object as :func:`hub.anonymity.escrow.seal` writes it; stored as it came, the hub
    cannot open it); ``attests`` is the attestation's claim (:data:`ATTESTS_TOKEN`);
    ``in_transaction(tx)`` runs inside the transaction that accepts the filing (to record the
    token as spent, with the filing or not at all). The objects carry no provider signature.

``body`` is the same in both modes (the request of ``POST <api root>/collections/{id}/anonymous/``)::

    {"objects": [... the report's objects, as a TAXII envelope's ...],
     "withdrawal_commitment": "sha256:<64 hex>"}

Both return a :class:`FilingReceipt` (the report's published id and object ids, chosen by the
hub now, published later) or raise :class:`hub.common.errors.HubError` (a 400/403/404 error body
whose reason names no party) having stored nothing. ``withdraw(collection_id, report_id,
secret)`` withdraws a report whose commitment the secret opens; ``flush_due()`` publishes the
filings whose random publication time has come.
"""
