"""A small convolutional network on the digits example's 8x8 images: a model of a different kind.

Same data and split as ``examples/digits`` (``digits_mlp.load_split``: 1,797
images bundled with scikit-learn, fixed stratified 70/30 split); the flat 64
pixels are viewed as one 8x8 channel. Two 3x3 convolutions, a 2x2 max-pool
and a small dense head; ``dropout`` before the head's last layer.

Nothing here knows about tunebook.
"""

from __future__ import annotations

import torch
from torch import nn


class DigitsCNN(nn.Module):
    """conv3x3(``channels``) -> ReLU -> conv3x3(2 * ``channels``) -> ReLU -> maxpool 2 -> dense 64 -> 10."""

    def __init__(self, channels: int = 8, dropout: float = 0.0) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(2 * channels * 16, 64), nn.ReLU(), nn.Dropout(dropout), nn.Linear(64, 10),
        )

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Logits (batch, 10) of flat (batch, 64) or image (batch, 1, 8, 8) inputs."""
        return self.head(self.features(pixels.reshape(-1, 1, 8, 8)))


def build_model(channels: int = 8, dropout: float = 0.0) -> DigitsCNN:
    """The CNN with ``channels`` filters in its first convolution and ``dropout`` in its head."""
    if channels < 1:
        raise ValueError(f"channels must be >= 1, got {channels!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    return DigitsCNN(channels, dropout)
