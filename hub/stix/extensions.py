"""Identifiers of the hub's own STIX extensions, fixed forever once published.

The extension-definition objects themselves are shipped in ``schemas/``.
"""

from __future__ import annotations

import re

#: Property-extension carrying JSON signatures inside a signed object (see SIGNING.md).
SIGNATURE_EXTENSION_ID = "extension-definition--9b39b729-aa66-40ae-aed8-53bbf528cf7a"

#: Property-extension on ``user-account`` describing an abused IaaS account.
IAAS_ACCOUNT_EXTENSION_ID = "extension-definition--fb58b9f0-c9ba-4a99-b48f-608c6df23240"

#: A keyed pseudonym of a personal value: HMAC-SHA256 under the hub secret of a key version.
#: Form: ``hmac-sha256:<key version>:<64 lower-case hex digits>``.
PSEUDONYM_RE = re.compile(r"^hmac-sha256:[A-Za-z0-9_.-]{1,32}:[0-9a-f]{64}$")
