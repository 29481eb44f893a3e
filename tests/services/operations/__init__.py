"""Tests of hub.services.operations."""
