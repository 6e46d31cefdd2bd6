"""Real training runs of the project's examples, configured to show one pathology (or none) each.

Three models of different kinds, all trained here on one CPU thread:

- ``mlp``: the digits example's MLP (``examples/digits/digits_mlp.py``, two hidden layers);
- ``cnn``: a small CNN on the same 8x8 digits (``examples/digits_cnn/digits_cnn.py``);
- ``charlm``: the post-LayerNorm character transformer (``examples/charlm``), shrunk so a run takes seconds.

``train_run(config)`` returns ``{metric: (steps, values)}``: ``train/loss``
(the loss of the batch that update used, every ``log_every`` steps) and the
validation curves every ``eval_every`` steps (``valid/loss``, and
``valid/error`` for the digits models). The switches that make a pathology:

- ``train_size`` / ``valid_size``: keep only that many training / validation examples (a small
  training set overfits; a small validation set is a noisy one);
- ``shuffle=False``: the training examples sorted by class (digits) or read in
  order (charlm), the same order every epoch: the deliberately unshuffled loader;
- ``bug``: a deliberate bug in the loss of the examples of classes 0 and 1
  (digits) or of the space character (charlm); the logged ``train/loss`` stays
  the true cross-entropy. ``"ascent"``: their cross-entropy is ascended
  (weighted ``-bug_weight``): unbounded, the loss explodes. ``"sign"``: the
  update descends ``bug_weight`` times their probability of the right answer
  (a sign error in a likelihood term): the model is steadily pushed away
  from them while the push fades as that probability nears 0, so the training
  loss falls at first and then rises gradually, without exploding;
- ``lr_jump=(step, factor)``: the learning rate multiplied by ``factor`` from that step on;
- ``schedule="cosine"`` decays the learning rate to zero; ``warmup`` steps of linear warmup.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
Curves = dict[str, tuple[np.ndarray, np.ndarray]]

DEFAULTS: dict[str, Any] = {
    "model": "mlp", "optimizer": "adam", "lr": 1e-3, "steps": 1000, "batch_size": 64, "train_size": None,
    "valid_size": None, "eval_every": 10, "log_every": 1, "seed": 0, "shuffle": True, "bug": None,
    "bug_weight": 1.0, "lr_jump": None, "schedule": "constant", "warmup": 0, "dropout": 0.0, "weight_decay": 0.0,
    "momentum": 0.0, "norm": "post", "context": 32, "d_model": 32,
}


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=None)
def _example(name: str):
    paths = {"digits_mlp": EXAMPLES / "digits" / "digits_mlp.py",
             "digits_cnn": EXAMPLES / "digits_cnn" / "digits_cnn.py",
             "charlm": EXAMPLES / "charlm" / "charlm.py"}
    return _module(name, paths[name])


def train_run(config: Mapping[str, Any]) -> Curves:
    """Train one configuration (``DEFAULTS`` overridden by ``config``) and return its curves."""
    import torch

    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown run setting(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    cfg = {**DEFAULTS, **config}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(cfg["seed"])
        task = _CharTask(cfg) if cfg["model"] == "charlm" else _DigitsTask(cfg)
        return _loop(task, cfg)
    finally:
        torch.set_num_threads(threads)


def _lr_at(cfg: Mapping[str, Any], step: int) -> float:
    """The learning rate of update ``step`` (1-based): warmup, then constant or cosine, times any jump."""
    lr = cfg["lr"]
    if cfg["warmup"] and step <= cfg["warmup"]:
        lr *= step / cfg["warmup"]
    elif cfg["schedule"] == "cosine":
        done = (step - 1 - cfg["warmup"]) / max(cfg["steps"] - cfg["warmup"], 1)
        lr *= 0.5 * (1 + math.cos(math.pi * done))
    if cfg["lr_jump"] and step >= cfg["lr_jump"][0]:
        lr *= cfg["lr_jump"][1]
    return lr


def _loop(task: "_DigitsTask | _CharTask", cfg: Mapping[str, Any]) -> Curves:
    import torch

    model = task.model
    decay = cfg["weight_decay"]
    if cfg["optimizer"] == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=decay)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"], weight_decay=decay)
    logged: dict[str, list[tuple[int, float]]] = {}
    for step in range(1, cfg["steps"] + 1):
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(cfg, step)
        true_loss, trained_loss = task.losses(step)
        optimizer.zero_grad()
        trained_loss.backward()
        optimizer.step()
        if step % cfg["log_every"] == 0:
            logged.setdefault("train/loss", []).append((step, true_loss.item()))
        if step % cfg["eval_every"] == 0:
            for metric, value in task.evaluate().items():
                logged.setdefault(metric, []).append((step, value))
    return {m: (np.array([s for s, _ in p]), np.array([v for _, v in p])) for m, p in logged.items()}


def _trained_loss(cross_entropy, buggy, bug: str | None, weight: float):
    """The loss the update descends: the mean ``cross_entropy``, or its ``bug`` on the ``buggy`` examples."""
    import torch

    if bug is None:
        return cross_entropy.mean()
    if bug == "ascent":
        wrong = -weight * cross_entropy
    elif bug == "sign":
        wrong = weight * torch.exp(-cross_entropy)  # the probability of the right answer, descended
    else:
        raise ValueError(f"bug must be None, 'ascent' or 'sign', got {bug!r}")
    return torch.where(buggy, wrong, cross_entropy).mean()


class _DigitsTask:
    """The digits images, the MLP or CNN, its batches (shuffled per epoch or sorted by class) and evaluation."""

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        import torch

        x_train, y_train, x_valid, y_valid = _example("digits_mlp").load_split()
        self.x, self.y = x_train[:cfg["train_size"]], y_train[:cfg["train_size"]]
        self.x_valid, self.y_valid = x_valid[:cfg["valid_size"]], y_valid[:cfg["valid_size"]]
        if cfg["model"] == "cnn":
            self.model = _example("digits_cnn").build_model(dropout=cfg["dropout"])
        else:
            self.model = _example("digits_mlp").build_model(2)
        self.batch_size = min(cfg["batch_size"], len(self.y))
        self.per_epoch = len(self.y) // self.batch_size
        self.seed, self.shuffle, self.bug, self.bug_weight = cfg["seed"], cfg["shuffle"], cfg["bug"], cfg["bug_weight"]
        self.by_class = torch.argsort(self.y, stable=True)

    def _order(self, epoch: int):
        import torch

        if not self.shuffle:
            return self.by_class
        return torch.randperm(len(self.y), generator=torch.Generator().manual_seed(self.seed * 1_000_003 + epoch))

    def losses(self, step: int):
        """(the batch's true mean cross-entropy, the loss the update descends: the same unless buggy)."""
        from torch import nn

        epoch, k = divmod(step - 1, self.per_epoch)
        index = self._order(epoch)[k * self.batch_size:(k + 1) * self.batch_size]
        per_example = nn.functional.cross_entropy(self.model(self.x[index]), self.y[index], reduction="none")
        return per_example.mean(), _trained_loss(per_example, self.y[index] <= 1, self.bug, self.bug_weight)

    def evaluate(self) -> dict[str, float]:
        loss, error = _example("digits_mlp").evaluate(self.model, self.x_valid, self.y_valid)
        return {"valid/loss": loss, "valid/error": error}


class _CharTask:
    """The playbook's characters, a small post-LN transformer, random or in-order windows, a fixed eval slice."""

    VALID_CHARS = 4096  # the first characters of the held-out text, scored at every evaluation

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        self.lm = _example("charlm")
        corpus = self.lm.load_corpus()
        self.train_ids = corpus.train[:cfg["train_size"]]
        self.valid_ids = corpus.valid[:cfg["valid_size"] or self.VALID_CHARS]
        self.space = corpus.chars.index(" ")
        self.context, self.batch_size = cfg["context"], cfg["batch_size"]
        self.seed, self.shuffle, self.bug, self.bug_weight = cfg["seed"], cfg["shuffle"], cfg["bug"], cfg["bug_weight"]
        self.model = self.lm.build_model(corpus.vocab_size, {
            "context": cfg["context"], "d_model": cfg["d_model"], "num_layers": 2, "num_heads": 4,
            "dropout": cfg["dropout"], "norm": cfg["norm"]})

    def _batch(self, step: int):
        import torch

        if self.shuffle:
            return self.lm.batch_at(self.train_ids, step, self.batch_size, self.context, self.seed)
        # in order: consecutive windows through the text, epoch after epoch
        per_epoch = (len(self.train_ids) - 1) // (self.context * self.batch_size)
        first = ((step - 1) % per_epoch) * self.batch_size
        starts = [(first + b) * self.context for b in range(self.batch_size)]
        windows = torch.stack([self.train_ids[s:s + self.context + 1] for s in starts])
        return windows[:, :-1], windows[:, 1:]

    def losses(self, step: int):
        from torch import nn

        inputs, targets = self._batch(step)
        logits = self.model(inputs)
        per_token = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                                reduction="none")
        return per_token.mean(), _trained_loss(per_token, targets.reshape(-1) == self.space, self.bug, self.bug_weight)

    def evaluate(self) -> dict[str, float]:
        return {"valid/loss": self.lm.evaluate(self.model, self.valid_ids, self.context)}
