"""Identifiers of the hub's own STIX extensions, fixed forever once published.

The extension-definition objects themselves are shipped in ``schemas/``. The signature
extension's id belongs to the signing library (:data:`hub.signing.SIGNATURE_EXTENSION_ID`),
which signs objects of any type.
"""

from __future__ import annotations

#: Property-extension on ``user-account`` describing an abused IaaS account.
IAAS_ACCOUNT_EXTENSION_ID = "extension-definition--fb58b9f0-c9ba-4a99-b48f-608c6df23240"

#: Property-extension on any object naming who may read it: TLP:RED's ``recipients`` (identity
#: ids) and the ``organisations`` whose hubs may receive TLP:AMBER (see hub.stix.sharing).
SHARING_EXTENSION_ID = "extension-definition--deb16679-6467-4ef5-9596-531bca71ab9b"

#: New SDO ``abusehub-notice``: an agency's notice to the providers (hub.stix.notice).
NOTICE_EXTENSION_ID = "extension-definition--ba51cd6f-246f-46f5-9f75-f7ccdd0519cf"

#: New SDO ``abusehub-notice-ack``: a provider's signed answer to a notice (hub.stix.notice).
NOTICE_ACK_EXTENSION_ID = "extension-definition--ec76e58a-eaf3-43f3-b353-07a26d22c98a"
