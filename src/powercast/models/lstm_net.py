"""The LSTM network and its Lightning training module (pinball loss over all steps and quantiles).

The network reads the last minutes of the machine's sensors (a sequence) and the derived feature row at the
issue time (a vector: calendar, shift, moving averages, machine attributes) and outputs, for every step,
the three quantiles (lo, median, hi) of the relative target. Outputs are sorted along the quantile axis so
the band never crosses the median.
"""

from __future__ import annotations

import copy

import lightning.pytorch as pl
import torch
from torch import nn


class SequenceQuantileNet(nn.Module):
    """LSTM over the history window + MLP over the feature row -> [batch, horizon, n_quantiles]."""

    def __init__(
        self,
        n_channels: int,
        n_features: int,
        horizon: int,
        n_quantiles: int = 3,
        hidden: int = 48,
        layers: int = 1,
        dropout: float = 0.1,
    ):
        super().__init__()
        self.horizon, self.n_quantiles = horizon, n_quantiles
        self.lstm = nn.LSTM(
            n_channels, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0
        )
        self.features = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Dropout(dropout))
        self.head = nn.Sequential(
            nn.Linear(2 * hidden, 2 * hidden), nn.ReLU(), nn.Linear(2 * hidden, horizon * n_quantiles)
        )

    def forward(self, sequence: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(sequence)
        joint = torch.cat([h[-1], self.features(features)], dim=1)
        out = self.head(joint).view(-1, self.horizon, self.n_quantiles)
        return torch.sort(out, dim=-1).values


def pinball_loss(pred: torch.Tensor, target: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Mean quantile (pinball) loss over the finite targets; pred [b, h, q], target [b, h], quantiles [q]."""
    mask = torch.isfinite(target)
    diff = torch.nan_to_num(target).unsqueeze(-1) - pred
    loss = torch.maximum(quantiles * diff, (quantiles - 1) * diff)
    loss = loss * mask.unsqueeze(-1)
    return loss.sum() / (mask.sum() * len(quantiles)).clamp(min=1)


class QuantileLightning(pl.LightningModule):
    """Trains a SequenceQuantileNet with Adam; remembers the weights of the best validation epoch."""

    def __init__(
        self, net: SequenceQuantileNet, quantiles: tuple[float, ...], lr: float = 3e-3, weight_decay: float = 1e-5
    ):
        super().__init__()
        self.net = net
        self.register_buffer("quantiles", torch.tensor(quantiles, dtype=torch.float32))
        self.lr, self.weight_decay = lr, weight_decay
        self.best_loss, self.best_state = float("inf"), None

    def training_step(self, batch, _):
        sequence, features, target = batch
        loss = pinball_loss(self.net(sequence, features), target, self.quantiles)
        self.log("train_loss", loss, prog_bar=False, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, _):
        sequence, features, target = batch
        self.log("val_loss", pinball_loss(self.net(sequence, features), target, self.quantiles), on_epoch=True)

    def on_validation_epoch_end(self) -> None:
        loss = float(self.trainer.callback_metrics.get("val_loss", float("inf")))
        if loss < self.best_loss and not self.trainer.sanity_checking:
            self.best_loss = loss
            self.best_state = copy.deepcopy({k: v.detach().cpu() for k, v in self.net.state_dict().items()})

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
