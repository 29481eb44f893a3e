"""The parties' side of a hub: TAXII 2.1 client code that never touches a hub's database.

It imports only :mod:`hub.common`, :mod:`hub.pseudonyms`, :mod:`hub.signing` and
:mod:`hub.stix`, so a provider can use it without running a hub. No module here prints or
parses command lines: the commands are in :mod:`hub.cli`.

- :mod:`hub.client.poll`: incremental, resumable polling of one collection into a JSON-lines
  file, with a cursor that survives interruption (:mod:`hub.client.cursor`), checking
  signatures (:mod:`hub.client.verify`);
- :mod:`hub.client.blocklist`: firewall and DNS-filter lists from such a file;
- :mod:`hub.client.hubapi`: the hub endpoints the analyst's report uses.
"""
