"""The rules of the hub, one sub-package per concept; the front ends (:mod:`hub.taxii`,
:mod:`hub.web`, :mod:`hub.cli`, :mod:`hub.server`) call these and never the store.

- :mod:`.hub`: the composition root, :class:`~hub.services.hub.Hub`, one per process: it builds
  every service over one :class:`~hub.store.base.Store` and its configuration;
- :mod:`.access`: who may see, read and write what (``AccessService``), credentials and the
  requesting principal (``auth``), client certificates, the limits every process shares
  (``limits``), the web pages' sessions (``websessions``);
- :mod:`.ingest`: the pipeline (``IngestService``), the check type (``checks``), the collection
  policies (``policy``), signatures and the countersignature (``signatures``), status resources
  (``statuses``);
- :mod:`.query`: the poll path (``QueryService``) and its ``next`` tokens (``paging``);
- :mod:`.pseudonyms`: oblivious and keyed pseudonyms, their rate limit, correlation;
- :mod:`.federation`: peers, links, the sync engine, deletions across hubs and the signed
  tombstone records (``tombstones``);
- :mod:`.operations`: what operators run on a hub as a whole: ``runtime`` (opening the database,
  start-up, readiness), ``backup`` and restore, ``retention``, sharing ``stats``, the ``demo``;
- :mod:`.metrics`: what the hub counts, behind one small interface;
- cross-cutting, at the top: :mod:`.audit` (the hash-chained trail), :mod:`.keys` (the key
  registry and the hub's own key), :mod:`.admin` (operator tasks on parties, tokens, collections
  and grants), :mod:`.clock` (time, so that tests can freeze it).

A sub-package's service lives in its ``__init__`` (``from hub.services.ingest import
IngestService``); its parts are modules beside it. Each service is given the one ``Store`` and
calls it as it is (``tests/services/test_no_store_downcasts.py``); database tools belong to the
store (:mod:`hub.store.dumps`).

Notices to the parties are in ``notices/`` (the ingest rules of notices and acknowledgements,
and who acted on a notice). Where coming work goes: anonymous filing in ``anonymity/``
(attestation, tokens, escrow); the marking and audience decisions (who may see an object under
its markings) in :mod:`.access`, beside ``AccessService``.
"""
