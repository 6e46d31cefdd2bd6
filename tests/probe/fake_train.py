"""A stand-in training program for the probe tests: real process, controlled timing.

Each step sleeps ``--base + --per-example * batch_size`` seconds and prints a
JSON step line (or a plain text line with ``--text``). Above ``--fits`` the
"device" runs out of memory, in the style chosen by ``--oom``. Standard
library only, so it starts fast.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--base", type=float, default=0.01, help="seconds per step at any batch size")
    p.add_argument("--per-example", type=float, default=0.0, help="extra seconds per example per step")
    p.add_argument("--fits", type=int, default=1 << 30, help="largest batch size that fits in memory")
    p.add_argument("--oom", choices=["python", "cuda", "xla", "sigkill", "crash"], default="python")
    p.add_argument("--startup", type=float, default=0.0, help="seconds before the first step")
    p.add_argument("--quiet", action="store_true", help="print no step lines")
    p.add_argument("--text", action="store_true", help="print 'step N loss: X' instead of JSON")
    p.add_argument("--pid-file", default=None, help="write this process's pid here")
    args = p.parse_args()
    batch_size = args.batch_size or int(os.environ["TUNEBOOK_PROBE_BATCH_SIZE"])
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write(str(os.getpid()))
    time.sleep(args.startup)
    if batch_size > args.fits:
        return out_of_memory(args.oom, batch_size)
    for step in range(1, args.steps + 1):
        time.sleep(args.base + args.per_example * batch_size)
        if args.quiet:
            continue
        if args.text:
            print(f"step {step} loss: {1.0 / step:.4f}")
        else:
            print(json.dumps({"step": step, "loss": 1.0 / step}))
    return 0


def out_of_memory(style: str, batch_size: int) -> int:
    if style == "python":
        raise MemoryError(f"cannot allocate activations for batch size {batch_size}")
    if style == "cuda":
        print("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB "
              "(GPU 0; 79.15 GiB total capacity)", file=sys.stderr)
        return 1
    if style == "xla":
        print("jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory while trying "
              "to allocate 8589934592 bytes.", file=sys.stderr)
        return 1
    if style == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    print("Traceback (most recent call last):", file=sys.stderr)
    print(f"ValueError: shapes (4,{batch_size}) and (3,) not aligned", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
