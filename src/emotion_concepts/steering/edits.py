"""A steering edit, and the tensors that carry it into a trace (pure tensor functions).

An edit adds ``strength x norm x unit(direction)`` to the residual stream after block ``layer``
(``operator="add"``), or removes the direction's component there (``operator="ablate"``), at the
selected token positions: the prompt's real tokens from index ``start`` (up to ``end``), the
generated tokens, or both. ``norm`` is the measured mean residual-stream norm at that layer, so
``strength`` is a fraction of it, as the paper states strengths.

Every row of a batch carries its own tuple of edits (empty: unsteered), so one trace can hold an
emotion, its random controls and the baseline side by side. The edits become per-layer tensors
here, outside the trace; inside, the trace only adds and projects (``steering.run``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ..readout.activations import real_token_index

POSITIONS = ("all", "prompt", "generated")
OPERATORS = ("add", "ablate")


@dataclass(frozen=True)
class Steer:
    """One edit of the residual stream after block ``layer``."""

    layer: int
    direction: torch.Tensor = field(repr=False)  # [d]; only its direction matters
    strength: float = 0.0  # fraction of ``norm``; may be negative
    norm: float = 1.0  # mean residual-stream norm at ``layer`` over ordinary text
    positions: str = "all"  # "all", "prompt" or "generated"
    start: int = 0  # first prompt token (real-token index) edited
    end: int | None = None  # prompt tokens edited stop before this index (None: to the end)
    operator: str = "add"  # "add" or "ablate"
    label: str = ""  # what the direction is ("desperate", "random 3"), for tables

    def __post_init__(self) -> None:
        if self.positions not in POSITIONS:
            raise ValueError(f"positions must be one of {POSITIONS}, got {self.positions!r}")
        if self.operator not in OPERATORS:
            raise ValueError(f"operator must be one of {OPERATORS}, got {self.operator!r}")
        if self.direction.dim() != 1 or not torch.isfinite(self.direction).all() or float(self.direction.norm()) == 0:
            raise ValueError("direction must be a finite, non-zero vector")
        if self.start < 0 or (self.end is not None and self.end <= self.start):
            raise ValueError(f"positions start {self.start} / end {self.end} are not a valid range")

    @property
    def unit(self) -> torch.Tensor:
        d = self.direction.float()
        return d / d.norm()

    @property
    def delta(self) -> torch.Tensor:
        """What is added at each edited position (zero for an ablation)."""
        if self.operator == "ablate":
            return torch.zeros_like(self.unit)
        return self.strength * self.norm * self.unit

    def key(self) -> dict:
        """A content description (for cache keys and records)."""
        digest = hashlib.sha256(self.direction.float().contiguous().numpy().tobytes()).hexdigest()[:16]
        return {"layer": self.layer, "direction": digest, "strength": float(self.strength), "norm": float(self.norm),
                "positions": self.positions, "start": self.start, "end": self.end, "operator": self.operator}


def spec_key(edits: Sequence[Steer]) -> str:
    return json.dumps([e.key() for e in edits], sort_keys=True)


def edited_layers(rows: Sequence[Sequence[Steer]]) -> list[int]:
    return sorted({e.layer for row in rows for e in row})


def prompt_position_mask(attention_mask: torch.Tensor, edit: Steer) -> torch.Tensor:
    """[seq] booleans for one row: the prompt's real tokens this edit touches."""
    if edit.positions == "generated":
        return torch.zeros_like(attention_mask, dtype=torch.bool)
    index = real_token_index(attention_mask.unsqueeze(0))[0]
    keep = index >= edit.start
    if edit.end is not None:
        keep &= index < edit.end
    return keep & attention_mask.bool()


@dataclass
class LayerEdit:
    """The tensors one layer's edit needs in a trace, for a batch of [batch, seq] prompts."""

    add_prompt: torch.Tensor  # [batch, seq, d] added at prompt positions
    add_generated: torch.Tensor  # [batch, d] added at each generated token
    ablate_units: torch.Tensor  # [batch, d] direction to remove (zero rows: none)
    ablate_prompt: torch.Tensor  # [batch, seq, 1] 1 where the prompt position is ablated
    ablate_generated: torch.Tensor  # [batch, 1, 1] 1 where generated tokens are ablated

    @property
    def has_ablation(self) -> bool:
        return bool(self.ablate_units.abs().sum() > 0)


def layer_edits(rows: Sequence[Sequence[Steer]], attention_mask: torch.Tensor, d_model: int) -> dict[int, LayerEdit]:
    """Per-layer tensors for a batch whose row b carries the edits ``rows[b]``. Two ablations of
    one row at one layer are refused (apply them as two layers or one direction)."""
    if len(rows) != attention_mask.shape[0]:
        raise ValueError(f"{len(rows)} rows of edits for a batch of {attention_mask.shape[0]}")
    batch, seq = attention_mask.shape
    out: dict[int, LayerEdit] = {}
    for layer in edited_layers(rows):
        e = LayerEdit(torch.zeros(batch, seq, d_model), torch.zeros(batch, d_model), torch.zeros(batch, d_model),
                      torch.zeros(batch, seq, 1), torch.zeros(batch, 1, 1))
        for b, row in enumerate(rows):
            for edit in (x for x in row if x.layer == layer):
                if edit.direction.shape[0] != d_model:
                    raise ValueError(f"direction of size {edit.direction.shape[0]} for a model with d={d_model}")
                mask = prompt_position_mask(attention_mask[b], edit)
                if edit.operator == "add":
                    e.add_prompt[b, mask] += edit.delta
                    if edit.positions in ("all", "generated"):
                        e.add_generated[b] += edit.delta
                else:
                    if e.ablate_units[b].abs().sum() > 0:
                        raise ValueError(f"row {b} ablates two directions at layer {layer}")
                    e.ablate_units[b] = edit.unit
                    e.ablate_prompt[b, mask] = 1.0
                    e.ablate_generated[b] = float(edit.positions in ("all", "generated"))
        out[layer] = e
    return out
