"""Telling "out of memory" from any other crash, by exit status and the usual messages.

Out of memory is the expected end of a batch-size probe: the batch no longer
fits in accelerator (or host) memory. Any other non-zero exit is a crash that
the user has to fix, and must never be mistaken for the memory limit.
"""

from __future__ import annotations

import re
import signal

# Messages frameworks print when an allocation fails (matched case-insensitively).
OUT_OF_MEMORY_PATTERNS = (
    r"out of memory",                       # CUDA / HIP / MPS: "CUDA out of memory", "CUDA error: out of memory"
    r"OutOfMemoryError",                    # torch.OutOfMemoryError, torch.cuda.OutOfMemoryError
    r"\bMemoryError\b",                     # Python's MemoryError (host memory)
    r"RESOURCE_EXHAUSTED",                  # XLA (JAX, TensorFlow on TPU/GPU)
    r"ResourceExhaustedError",              # TensorFlow
    r"CUBLAS_STATUS_ALLOC_FAILED",          # cuBLAS could not allocate its workspace
    r"CUDNN_STATUS_(?:ALLOC_FAILED|NOT_ENOUGH_WORKSPACE)",
    r"std::bad_alloc",                      # C++ allocation failure
    r"Cannot allocate memory",              # ENOMEM from the OS
)
_OUT_OF_MEMORY = re.compile("|".join(OUT_OF_MEMORY_PATTERNS), re.IGNORECASE)

# A shell reports a child killed by signal N as 128 + N.
_SIGKILL_STATUSES = (-signal.SIGKILL, 128 + signal.SIGKILL)


def killed(exit_code: int | None) -> bool:
    """True for SIGKILL, seen directly (-9) or through a shell (137): the kernel's OOM killer's signal."""
    return exit_code in _SIGKILL_STATUSES


def is_out_of_memory(exit_code: int | None, output: str) -> bool:
    """Did a run that exited with ``exit_code`` run out of memory?

    A run that exited 0 did not, whatever it printed. A non-zero exit did when
    ``output`` (its stdout and stderr) holds one of the usual messages, or
    when it was SIGKILLed (by the kernel's OOM killer, unless someone else
    killed it: the probe never counts its own kills here).
    """
    if not exit_code:
        return False
    return killed(exit_code) or _OUT_OF_MEMORY.search(output) is not None
