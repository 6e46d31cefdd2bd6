"""The charlm task shared by ``train.py`` and the tests: data, model, batches, evaluation.

Data: the text of the Deep Learning Tuning Playbook (``data/playbook.md``,
CC-BY 4.0, see ``data/NOTICE.md``), read as characters. The vocabulary is
every character of the whole file (so the validation text has no unknown
characters); the first 90 % of the characters are the training text and the
last 10 % the held-out validation text.

Model: a small decoder-only transformer with **post-LayerNorm** residual
blocks, ``Norm(x + f(x))``: the arrangement the playbook says is "known to
cause issues" ("Potential fixes for common instability patterns"). With Adam
and no learning rate warmup it becomes unstable at rates that a warmup makes
usable. ``norm="pre"`` gives the playbook's recommended ``x + f(Norm(x))``
arrangement for comparison.

Nothing here knows about tunebook.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

TEXT_PATH = Path(__file__).resolve().parent / "data" / "playbook.md"
VALID_FRACTION = 0.1
NORMS = ("post", "pre")


class Corpus:
    """The playbook's characters as token ids: ``train`` and ``valid`` 1-D int64 tensors."""

    def __init__(self, text: str, valid_fraction: float = VALID_FRACTION) -> None:
        if not 0.0 < valid_fraction < 1.0:
            raise ValueError(f"valid_fraction must be in (0, 1), got {valid_fraction!r}")
        self.chars = sorted(set(text))
        index = {c: i for i, c in enumerate(self.chars)}
        ids = torch.tensor([index[c] for c in text], dtype=torch.long)
        cut = len(ids) - int(len(ids) * valid_fraction)
        self.train, self.valid = ids[:cut], ids[cut:]

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def decode(self, ids: torch.Tensor) -> str:
        return "".join(self.chars[i] for i in ids.tolist())


def load_corpus() -> Corpus:
    """The playbook text split into training and validation characters."""
    return Corpus(TEXT_PATH.read_text(encoding="utf-8"))


class Block(nn.Module):
    """Causal self-attention then an MLP, each a residual branch normalized ``post`` or ``pre``."""

    def __init__(self, d_model: int, num_heads: int, dropout: float, norm: str) -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        if d_model % num_heads:
            raise ValueError(f"d_model must be a multiple of num_heads, got d_model={d_model} num_heads={num_heads}")
        self.norm, self.num_heads, self.dropout = norm, num_heads, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.num_heads, width // self.num_heads).unbind(dim=2)
        out = nn.functional.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True,
            dropout_p=self.dropout if self.training else 0.0,
        )
        return self.drop(self.proj(out.transpose(1, 2).reshape(batch, length, width)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm == "post":  # Norm(x + f(x))
            x = self.norm1(x + self.attend(x))
            return self.norm2(x + self.drop(self.mlp(x)))
        x = x + self.attend(self.norm1(x))  # x + f(Norm(x))
        return x + self.drop(self.mlp(self.norm2(x)))


class CharTransformer(nn.Module):
    """A decoder-only transformer over characters: ids (batch, length) -> logits (batch, length, vocab)."""

    def __init__(
        self, vocab_size: int, context: int, d_model: int, num_layers: int, num_heads: int,
        dropout: float = 0.0, norm: str = "post",
    ) -> None:
        super().__init__()
        self.context = context
        self.embed = nn.Embedding(vocab_size, d_model)
        self.position = nn.Parameter(torch.zeros(context, d_model))
        nn.init.normal_(self.position, std=0.02)
        self.blocks = nn.ModuleList(Block(d_model, num_heads, dropout, norm) for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(d_model) if norm == "pre" else nn.Identity()
        self.head = nn.Linear(d_model, vocab_size)
        self.drop = nn.Dropout(dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if ids.shape[1] > self.context:
            raise ValueError(f"at most {self.context} characters of context, got {ids.shape[1]}")
        x = self.drop(self.embed(ids) + self.position[: ids.shape[1]])
        for block in self.blocks:
            x = block(x)
        return self.head(self.final_norm(x))


def build_model(vocab_size: int, params: dict) -> CharTransformer:
    """The transformer sized by ``context``, ``d_model``, ``num_layers``, ``num_heads``, ``dropout``, ``norm``."""
    return CharTransformer(
        vocab_size, context=int(params["context"]), d_model=int(params["d_model"]),
        num_layers=int(params["num_layers"]), num_heads=int(params["num_heads"]),
        dropout=float(params.get("dropout", 0.0)), norm=str(params.get("norm", "post")),
    )


def batch_at(ids: torch.Tensor, step: int, batch_size: int, context: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets) of training step ``step``: ``batch_size`` random windows of ``context`` characters.

    A pure function of (seed, step), so a run resumed at any step sees exactly
    the batches the uninterrupted run would have seen.
    """
    generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
    starts = torch.randint(0, len(ids) - context, (batch_size,), generator=generator)
    windows = torch.stack([ids[s:s + context + 1] for s in starts.tolist()])
    return windows[:, :-1], windows[:, 1:]


def loss_of(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-character cross-entropy (nats)."""
    logits = model(inputs)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


@torch.no_grad()
def evaluate(model: nn.Module, ids: torch.Tensor, context: int, batch_size: int = 64) -> float:
    """Mean next-character cross-entropy over ``ids`` cut into consecutive windows, in eval mode.

    Every window of ``context`` characters (the last, partial one dropped) is
    scored once; the same windows every call, so evaluations are comparable.
    """
    model.eval()
    usable = (len(ids) - 1) // context * context
    inputs = ids[:usable].view(-1, context)
    targets = ids[1:usable + 1].view(-1, context)
    total = 0.0
    for start in range(0, len(inputs), batch_size):
        chunk = slice(start, start + batch_size)
        total += loss_of(model, inputs[chunk], targets[chunk]).item() * len(inputs[chunk])
    model.train()
    return total / len(inputs)
