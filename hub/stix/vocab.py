"""Closed vocabularies, enumerations and fixed objects the validator checks against.

Closed vocabularies (enums) reject anything else; open vocabularies (``-ov``) only suggest values,
so the validator never rejects a value for being outside them (STIX 2.1 section 10: open
vocabularies "SHOULD" be used). The open vocabularies listed here are kept for builders and
for the hub's own ``abuse-type-ov``.
"""

from __future__ import annotations

from hub.stix.markings import TLP1_CREATED, TLP1_IDS, TLP2_EXTENSION_ID, TLP2_IDS

__all__ = [
    "ABUSED_RESOURCE_TYPES", "ABUSE_TYPE_OV", "ACQUISITION_ENUM", "ACTION_TAKEN_ENUM",
    "EXTENSION_TYPES", "IDENTITY_CLASS_OV", "INDICATOR_TYPE_OV", "INFRASTRUCTURE_TYPE_OV",
    "ISO3166_ALPHA2", "KYC_STATUS_ENUM", "PATTERN_TYPE_OV", "REPORT_TYPE_OV", "TLP1_CREATED",
    "TLP1_MARKINGS", "TLP2_EXTENSION_ID", "TLP2_MARKINGS",
]

# STIX 2.1 section 7.3, extension-type-enum.
EXTENSION_TYPES = frozenset(
    {"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"}
)

# The TLP marking definitions are fixed objects (TLP 1.0: STIX 2.1 section 7.2.1.4; TLP 2.0: the
# OASIS property-extension in cti-stix-common-objects), each id bound to one level; their ids
# and names are written once, in hub.stix.markings. Here: id -> name.
TLP1_MARKINGS: dict[str, str] = {mid: name for name, mid in TLP1_IDS.items()}
TLP2_MARKINGS: dict[str, str] = {mid: name for name, mid in TLP2_IDS.items()}

# Open vocabularies used by report objects (STIX 2.1 section 10); informative only.
IDENTITY_CLASS_OV = ("individual", "group", "system", "organization", "class", "unknown")
INFRASTRUCTURE_TYPE_OV = (
    "amplification", "anonymization", "botnet", "command-and-control", "control-system",
    "exfiltration", "firewall", "hosting-malware", "hosting-target-lists", "phishing",
    "reconnaissance", "routers-switches", "staging", "workstation", "unknown",
)
INDICATOR_TYPE_OV = (
    "anomalous-activity", "anonymization", "benign", "compromised", "malicious-activity",
    "attribution", "unknown",
)
PATTERN_TYPE_OV = ("stix", "pcre", "sigma", "snort", "suricata", "yara")
REPORT_TYPE_OV = (
    "attack-pattern", "campaign", "identity", "indicator", "intrusion-set", "malware",
    "observed-data", "threat-actor", "threat-report", "tool", "vulnerability",
)

# The hub's IaaS-account extension (schemas/iaas-account/iaas-account.schema.json).
ACQUISITION_ENUM = ("direct-signup", "reseller", "compromised")
KYC_STATUS_ENUM = ("verified", "unverified", "failed", "pending", "exempt")
ACTION_TAKEN_ENUM = ("none", "suspended", "terminated", "resources-reclaimed", "referred")
ABUSED_RESOURCE_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url")
ABUSE_TYPE_OV = (
    "command-and-control", "phishing", "malware-hosting", "scanning", "proxy-anonymisation",
    "credential-stuffing", "spam", "ddos", "cryptomining", "data-exfiltration", "fraud", "other",
)

# ISO 3166-1 alpha-2: the 249 officially assigned codes (as in the tz database's iso3166.tab).
ISO3166_ALPHA2 = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()
)
