"""Reusable test suites for tunebook's plug-in interfaces.

``tunebook.testing.storage.StoreConformance``: subclass it, give it a
``store_url`` fixture, and pytest checks the store against the ``Store``
contract (including real multi-process claims). These modules import pytest.
"""
