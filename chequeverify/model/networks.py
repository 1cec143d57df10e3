"""Embedding networks ``f``: a signature image → an L2-normalised embedding.

A registry of architectures (sigver's habit) so that a checkpoint names its
architecture and the loader rebuilds it without unpickling code. Every
network takes ``N×1×H×W float32`` (ink = 1) and returns ``N×D float32``
with unit L2 norm; both sides of the twin network go through the same
weights.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F


def conv_bn_relu(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    ]


class GeneralisedMeanPool(nn.Module):
    """GeM pooling: ``N×C×H×W → N×C``; p = 1 is average, p → ∞ is max.

    Signatures are sparse: a learnt p between the two keeps the evidence
    of thin, rare strokes that an average would wash out.
    """

    def __init__(self, p: float = 3.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.tensor(float(p)))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.p.clamp(1.0, 8.0)
        return x.clamp(min=self.eps).pow(p).mean(dim=(2, 3)).pow(1.0 / p)


class SigNetLite(nn.Module):
    """A VGG-style CNN sized for a 2-core CPU.

    ``widths`` are the channels of the four stages. The stem is a 5×5
    stride-2 convolution (signature strokes are a few pixels wide at the
    input resolution); each later stage halves the resolution. The head is
    GeM pooling, a linear projection and L2 normalisation.
    """

    def __init__(
        self, widths: tuple[int, int, int, int] = (24, 48, 96, 160), embedding_dim: int = 128, dropout: float = 0.0
    ) -> None:
        super().__init__()
        a, b, c, d = widths
        layers: list[nn.Module] = []
        layers += conv_bn_relu(1, a, 5, 2)
        layers += conv_bn_relu(a, b) + [nn.MaxPool2d(2)]
        layers += conv_bn_relu(b, b) + conv_bn_relu(b, c) + [nn.MaxPool2d(2)]
        layers += conv_bn_relu(c, c) + conv_bn_relu(c, d) + [nn.MaxPool2d(2)]
        layers += conv_bn_relu(d, d)
        self.features = nn.Sequential(*layers)
        self.pool = GeneralisedMeanPool()
        # dropout only acts while training (regularises against memorising the training writers)
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Linear(d, embedding_dim)
        self.embedding_dim = embedding_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``N×1×H×W float32`` (ink = 1) → ``N×D`` unit-norm embeddings."""
        return self.embed_features(self.features(x))

    def embed_features(self, maps: torch.Tensor) -> torch.Tensor:
        """Feature maps ``N×C×h×w`` (from :attr:`features`) → ``N×D`` unit-norm embeddings."""
        z = self.project(self.dropout(self.pool(maps)))
        return F.normalize(z.float(), dim=1)


#: name → constructor; a checkpoint stores the name and the keyword arguments
ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "signet-lite": SigNetLite,
}


def build_network(architecture: str, **kwargs) -> nn.Module:
    """Build a registered architecture (raises ``KeyError`` with the known names)."""
    try:
        factory = ARCHITECTURES[architecture]
    except KeyError:
        raise KeyError(f"unknown architecture {architecture!r}; known: {sorted(ARCHITECTURES)}") from None
    return factory(**kwargs)
