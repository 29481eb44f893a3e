"""Tests of hub.services.metrics."""
