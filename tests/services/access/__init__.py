"""Tests of hub.services.access."""
