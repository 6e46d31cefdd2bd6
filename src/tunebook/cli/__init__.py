"""The ``tunebook`` command line. Nothing imports it."""
