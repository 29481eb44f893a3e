"""Tests of hub.services.federation."""
