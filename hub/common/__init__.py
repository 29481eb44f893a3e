"""The bottom layer: what every other part of the hub and of its clients shares.

It imports only the standard library and small pure libraries (orjson, rfc8785), never another
package of the hub, so that the parties' tools can use it without a hub:

- :mod:`hub.common.errors`: the one error tree (:class:`HubError` and its HTTP-status kinds);
- :mod:`hub.common.problems`: structured problems found in submitted data;
- :mod:`hub.common.ids`: the STIX 2.1 identifier and type-name grammar;
- :mod:`hub.common.timestamps`: the STIX 2.1 timestamp grammar, its parser and formatter;
- :mod:`hub.common.canonical`: RFC 8785 canonical JSON and base64url;
- :mod:`hub.common.quoting`: how a message describes a value a user sent;
- :mod:`hub.common.files`: atomic and private file writes.
"""
