"""abusehub: a TAXII 2.1 hub for signed STIX 2.1 reports of abused IaaS accounts."""

__version__ = "0.1.0"
