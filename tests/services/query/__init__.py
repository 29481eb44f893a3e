"""Tests of hub.services.query."""
