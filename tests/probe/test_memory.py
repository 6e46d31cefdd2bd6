"""Out of memory versus any other crash, on the messages frameworks really print."""

from __future__ import annotations

import pytest

from tunebook.probe import is_out_of_memory

OOM_OUTPUTS = [
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 15.78 GiB total capacity)",
    "RuntimeError: CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported",
    "torch.cuda.OutOfMemoryError: CUDA out of memory.",
    "RuntimeError: MPS backend out of memory (MPS allocated: 17.00 GB)",
    "Traceback (most recent call last):\n  File \"train.py\", line 3\nMemoryError",
    "MemoryError: Unable to allocate 3.00 GiB for an array with shape (805306368,) and data type float32",
    "jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory while trying to allocate 1.0G",
    "tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM when allocating tensor",
    "RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
    "terminate called after throwing an instance of 'std::bad_alloc'",
]


@pytest.mark.parametrize("output", OOM_OUTPUTS)
def test_usual_out_of_memory_messages_with_a_failed_exit(output):
    assert is_out_of_memory(1, output)
    assert not is_out_of_memory(0, output)   # a program that recovered did not run out


@pytest.mark.parametrize("exit_code", [-9, 137])
def test_sigkill_is_the_oom_killer_directly_or_through_a_shell(exit_code):
    assert is_out_of_memory(exit_code, "")


@pytest.mark.parametrize("exit_code, output", [
    (1, "ValueError: shapes (4,16) and (3,) not aligned"),
    (1, "RuntimeError: CUDA error: device-side assert triggered"),
    (-15, ""),
    (2, "usage: train.py [-h] --batch-size BATCH_SIZE"),
])
def test_other_crashes_are_not_out_of_memory(exit_code, output):
    assert not is_out_of_memory(exit_code, output)
