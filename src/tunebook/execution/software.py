"""The software around a run: tunebook, Python, the platform, the host and the ML packages' versions."""

from __future__ import annotations

import importlib.metadata
import platform
import socket
import sys
from typing import Any

import tunebook

# distributions whose versions matter to a training result (importlib.metadata names, normalized)
ML_PACKAGES = (
    "torch", "torchvision", "torchaudio", "triton", "jax", "jaxlib", "flax", "optax", "tensorflow", "keras",
    "numpy", "scipy", "pandas", "scikit-learn", "transformers", "datasets", "tokenizers", "accelerate",
    "lightning", "pytorch-lightning", "timm", "xgboost", "lightgbm", "deepspeed", "botorch", "gpytorch", "optuna",
)


def software() -> dict[str, Any]:
    """tunebook's, Python's and the ML packages' versions, the platform and the host.

    Package versions come from ``importlib.metadata``, asked by name: nothing
    is imported, and only the wanted packages' metadata is read (a pass over
    every installed distribution took ~10x longer, at each run's start).
    """
    packages = {}
    for name in ML_PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {
        "tunebook": tunebook.__version__,
        "python": {"version": platform.python_version(), "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "packages": dict(sorted(packages.items())),
    }
