"""Seeds for multi-host training: one initialization seed for all hosts, a data seed per host.

The playbook ("Considerations for multi-host pipelines"): "It is critical to
have RNG seeds that are the same across hosts (for model initialization), and
seeds that are different across hosts (for data shuffling/preprocessing)".

``Seeds.for_host(seed, host_index)`` derives both from the trial's ``seed``::

    init = H("init", seed)                # the same on every host
    data = H("data", seed, host_index)    # different on each host

where ``H`` is the first 8 bytes of SHA-256 over the words, as a 63-bit
integer (0 <= s < 2**63). The result depends on nothing but the inputs: the
same on every machine, process and Python version. 63-bit seeds suit
``torch.manual_seed``, ``random.seed``, ``numpy.random.default_rng`` and
``jax.random.PRNGKey``; for APIs limited to 32 bits (``numpy.random.seed``)
seed a ``numpy.random.default_rng(seeds.data)`` instead of truncating.
Pure Python: no torch needed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from tunebook.core.errors import SpecError

__all__ = ["SeedError", "Seeds", "seeds_for_host"]


class SeedError(SpecError):
    """A seed or host index is invalid; fix the named field."""

    subject = "invalid seed"


def _derive(*words: object) -> int:
    digest = hashlib.sha256(":".join(["tunebook.train.seeds", *map(str, words)]).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _non_negative_int(field: str, value: Any) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__") or int(value) < 0:
        raise SeedError([(field, f"must be an integer >= 0, got {value!r}")])
    return int(value)


@dataclass(frozen=True)
class Seeds:
    """The two seeds a host uses: ``init`` (model initialization) and ``data`` (shuffling, augmentation)."""

    init: int
    data: int

    @classmethod
    def for_host(cls, seed: int, host_index: int = 0) -> "Seeds":
        """The seeds of host ``host_index`` in a run seeded with ``seed`` (both integers >= 0)."""
        seed = _non_negative_int("seed", seed)
        host_index = _non_negative_int("host_index", host_index)
        return cls(init=_derive("init", seed), data=_derive("data", seed, host_index))


def seeds_for_host(seed: int, host_index: int = 0) -> Seeds:
    """Shorthand for ``Seeds.for_host(seed, host_index)``."""
    return Seeds.for_host(seed, host_index)
