"""Tests of hub.services.ingest."""
