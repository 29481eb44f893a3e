"""STIX knowledge: the basic object rules, validation, markings, pseudonyms."""
