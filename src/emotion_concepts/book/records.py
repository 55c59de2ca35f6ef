"""Per-chapter result records and the book's summary of findings.

Each executed chapter writes ``results/<model>/<chapter>.json``::

    {"chapter": "01-emotion-vectors", "model": "smollm2-135m-instruct",
     "params": {...}, "metrics": {...}, "versions": {...}, "created": "2026-...Z"}

A record must carry every metric its chapter declares (``findings.<module>.CHAPTER``), each a
number; a missing one fails the chapter rather than leaving a gap in the summary. The summary
is a matrix: one row per claim of the paper, one column per model, each cell our number against
the chapter's own control with its verdict.
"""

from __future__ import annotations

import json
import math
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import EmotionBookError
from ..files import atomic_write_json
from ..paths import model_slug, results_dir


class RecordError(EmotionBookError):
    """A chapter's record lacks a declared metric, or one is not a number."""


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("emotion-concepts", "torch", "transformers", "nnsight"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _plain(value: Any) -> Any:
    """JSON-safe copy (tensors and numpy scalars become numbers or lists)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def record_path(chapter: str, model: str, root: Path | None = None) -> Path:
    return (root or results_dir()) / model_slug(model) / f"{chapter}.json"


def check_metrics(chapter: str, metrics: dict[str, Any]) -> None:
    """Every metric the chapter declares is present; those its claims compare are finite numbers,
    the others numbers, strings or ``None`` (a statistic that could not be computed, and the
    notebook says why)."""
    from ..findings import CHAPTERS

    if chapter not in CHAPTERS:
        return
    declared = CHAPTERS[chapter].declared_metrics()
    missing = [k for k in declared if k not in metrics]
    if missing:
        raise RecordError(f"the {chapter} record lacks declared metric(s): {', '.join(missing)}")
    compared = {k for claim in CHAPTERS[chapter].claims for k in claim.metric_keys()}

    def acceptable(key: str) -> bool:
        value = metrics[key]
        if key in compared:  # a claim's verdict compares it: a finite number
            return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return value is None or isinstance(value, str | int | float)

    bad = [k for k in declared if not acceptable(k)]
    if bad:
        raise RecordError(f"the {chapter} record has non-numeric metric(s): "
                          + ", ".join(f"{k}={metrics[k]!r}" for k in bad))


def write_record(chapter: str, model: str, params: dict, metrics: dict, root: Path | None = None) -> Path:
    metrics = _plain(metrics)
    check_metrics(chapter, metrics)
    record = {"chapter": chapter, "model": model, "params": _plain(params), "metrics": metrics,
              "versions": versions(), "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return atomic_write_json(record_path(chapter, model, root), record)


def read_records(root: Path | None = None) -> list[dict]:
    folder = root or results_dir()
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*/*.json"))]
