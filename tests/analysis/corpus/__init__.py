"""The labeled corpus of real training curves that every check is measured against (see harness)."""
