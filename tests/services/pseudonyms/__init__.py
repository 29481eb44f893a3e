"""Tests of hub.services.pseudonyms."""
