"""The digits MLP as a plain command-line script that knows nothing of tunebook.

It stands for the training script you already have: flags in, lines of text
out. tunebook runs it through ``run.command`` in spec-command.yaml and reads
its progress with the ``run.metrics`` regex from lines like::

    step 100 train loss: 0.4123 valid error: 0.0833

It prints a line at step 1 (so an exploding loss has a baseline to be compared
with) and every ``--eval-every`` steps. Like most scripts it does not check
for divergence: a run that blows up keeps going and prints ``nan`` (or huge
numbers), then exits 0. tunebook sees the NaN or the explosion in the parsed
curves and records the trial as infeasible, not failed.

    python train_script.py --num-layers 2 --optimizer sgd --learning-rate 0.1 --momentum 0.9
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

from digits_mlp import HIDDEN_WIDTH, batches, build_model, build_optimizer, evaluate, load_split


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--hidden-width", type=int, default=HIDDEN_WIDTH)
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--beta1", type=float, default=0.9, help="adam only")
    parser.add_argument("--momentum", type=float, default=0.0, help="sgd only")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-train-steps", type=int, default=1000)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    x_train, y_train, x_valid, y_valid = load_split()
    model = build_model(args.num_layers, width=args.hidden_width)
    optimizer = build_optimizer(model, vars(args))
    for step, index in batches(len(x_train), args.batch_size, args.seed):
        if step > args.max_train_steps:
            break
        loss = nn.functional.cross_entropy(model(x_train[index]), y_train[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step == 1 or step % args.eval_every == 0 or step == args.max_train_steps:
            _, error = evaluate(model, x_valid, y_valid)
            print(f"step {step} train loss: {loss.item():.4f} valid error: {error:.4f}", flush=True)


if __name__ == "__main__":
    main()
