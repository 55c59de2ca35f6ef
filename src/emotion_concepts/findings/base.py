"""What every finding module declares: its chapter, its parameters' constraints, the metrics its
record must carry, the paper's claims it is judged on (rows of the book's summary), and the
quick parameters the book test runs it with."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ParameterError


@dataclass(frozen=True)
class Param:
    """Constraints on one chapter parameter beyond the type annotated in its ``parameters`` cell.

    ``choices`` (a tuple, or a function returning the allowed values, called only when checked)
    applies to the value or, for a list, to each element; ``layer`` marks a layer index (checked
    against the model's layer count when it is known before loading)."""

    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | Callable[[], Iterable[Any]] | None = None
    layer: bool = False
    nonempty: bool = False

    def check(self, name: str, value: Any, n_layers: int | None = None) -> None:
        if value is None:
            return
        items = value if isinstance(value, list) else [value]
        if self.nonempty and isinstance(value, list) and not value:
            raise ParameterError(f"parameter {name} must not be empty")
        for item in items:
            if isinstance(item, int | float) and not isinstance(item, bool):
                if self.min is not None and item < self.min:
                    raise ParameterError(f"parameter {name} must be >= {self.min}, got {item!r}")
                if self.max is not None and item > self.max:
                    raise ParameterError(f"parameter {name} must be <= {self.max}, got {item!r}")
            if self.choices is not None:
                allowed = tuple(self.choices() if callable(self.choices) else self.choices)
                if item not in allowed:
                    shown = ", ".join(map(str, allowed[:12])) + (" ..." if len(allowed) > 12 else "")
                    raise ParameterError(f"parameter {name}: {item!r} is not one of {shown}")
            if self.layer and n_layers is not None and isinstance(item, int):
                if not 0 <= item < n_layers:
                    raise ParameterError(f"parameter {name}: layer {item} is out of range; the model has "
                                         f"{n_layers} layers, 0..{n_layers - 1}")


@dataclass(frozen=True)
class Claim:
    """One row of the summary: a finding of the paper, the paper's number, our metric and the
    control our metric is judged against.

    The verdict is mechanical: "replicates" when ``metric`` lies beyond ``control`` in the
    paper's direction (``sense``: "greater" or "less"), and nothing else; with no control, the
    row reports the number without a verdict."""

    finding: str
    paper: str
    metric: str
    control: str | None = None
    control_label: str = ""
    sense: str = "greater"
    fmt: str = ".3f"
    note: Callable[[dict[str, Any]], str] | None = None  # extra context for the cell

    def metric_keys(self) -> tuple[str, ...]:
        return tuple(k for k in (self.metric, self.control) if k)

    def verdict(self, metrics: dict[str, Any]) -> str:
        if self.control is None:
            return "reported"
        value, control = metrics[self.metric], metrics[self.control]
        if value is None or control is None:
            return "not measured"
        beyond = value > control if self.sense == "greater" else value < control
        return "replicates" if beyond else "does not replicate"

    def cell(self, metrics: dict[str, Any]) -> str:
        value = metrics[self.metric]
        text = f"{value:{self.fmt}}" if isinstance(value, int | float) else str(value)
        if self.control:
            control = metrics[self.control]
            shown = f"{control:{self.fmt}}" if isinstance(control, int | float) else str(control)
            text += f" vs {shown}"
        if self.note:
            text += f" ({self.note(metrics)})"
        return text


@dataclass(frozen=True)
class Chapter:
    """A chapter of the book and the finding it reproduces."""

    id: str  # notebook name, e.g. "01-emotion-vectors"
    title: str
    params: dict[str, Param] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()  # every key the chapter's record must carry
    claims: tuple[Claim, ...] = ()
    quick: dict[str, Any] = field(default_factory=dict)  # parameters of the book test's quick run

    def declared_metrics(self) -> tuple[str, ...]:
        keys = list(self.metrics)
        for claim in self.claims:
            keys += [k for k in claim.metric_keys() if k not in keys]
        return tuple(keys)

    def missing_metrics(self, metrics: dict[str, Any]) -> list[str]:
        return [k for k in self.declared_metrics() if k not in metrics]
