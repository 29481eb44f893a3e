"""Tools for the parties' side of a hub: TAXII clients that never touch a hub's database.

- :mod:`hub.client.commands`: ``abusehub poll`` mirrors one collection into a JSON-lines file
  with a cursor that survives interruption (:mod:`hub.client.cursor`), checking signatures;
  ``abusehub export blocklist`` turns such a file into firewall and DNS-filter lists.
- :mod:`hub.client.analyst`: ``abusehub report new`` builds a report of an abused account,
  pseudonymises its personal values through the hub, validates, signs, submits and follows it.

They talk to a hub (this one, or any TAXII 2.1 server that sends ``X-TAXII-Date-Added-Last``)
over HTTP.
"""
