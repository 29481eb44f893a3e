"""The parties' side of a hub: a TAXII 2.1 client library that never touches a hub's database.

It imports only :mod:`hub.common`, :mod:`hub.pseudonyms`, :mod:`hub.signing` and
:mod:`hub.stix` (and httpx), so a provider can use it without running a hub. No module here
prints, parses command lines or exits: the commands are in :mod:`hub.cli`, and federation and
the web page call the same functions.

- :mod:`hub.client.taxii`: :class:`~hub.client.taxii.TaxiiClient`, TAXII 2.1 over an injected
  httpx transport (discovery, API root, collections, objects page by page with each object's
  exact text, manifest, add objects and follow the status), plus the hub's key set, pseudonym
  and correlation endpoints;
- :mod:`hub.client.http`: the rules every request follows (API root, token only there, no
  redirects, nothing from the environment, plain http only to this machine, one-line errors),
  with :mod:`hub.client.retry` (429/503, ``Retry-After``, bounded backoff with jitter);
- :mod:`hub.client.errors`: the error tree under :class:`~hub.client.errors.ClientError`;
- :mod:`hub.client.poll`: incremental, resumable polling of one collection into a JSON-lines
  file, with a cursor that survives interruption (:mod:`hub.client.cursor`), checking
  signatures page by page (:mod:`hub.client.verify`);
- :mod:`hub.client.blocklist`: firewall and DNS-filter lists from such a file;
- :mod:`hub.client.reports`: filing a report of an abused account (facts, pseudonyms through
  the hub, build, sign, validate, submit, outcome).
"""
