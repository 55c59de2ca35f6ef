"""Per-chapter result records and the book's summary table.

Each executed chapter writes ``results/<model>/<chapter>.json``::

    {"chapter": "01-emotion-vectors", "model": "smollm2-135m-instruct",
     "params": {...}, "metrics": {...}, "versions": {...}, "created": "2026-...Z"}

``FINDINGS`` maps each chapter's metrics to a row of the summary table (finding, the paper's
number, ours, verdict). A verdict compares our number with the chapter's own control, never
with a hand-picked threshold.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .paths import model_slug, results_dir


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


def write_record(chapter: str, model: str, params: dict, metrics: dict, root: Path | None = None) -> Path:
    path = record_path(chapter, model, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"chapter": chapter, "model": model, "params": _plain(params),
              "metrics": _plain(metrics), "versions": versions(),
              "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)
    return path


def read_records(root: Path | None = None) -> list[dict]:
    folder = root or results_dir()
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*/*.json"))]


@dataclass(frozen=True)
class Finding:
    chapter: str
    finding: str
    paper: str
    ours: Callable[[dict], str]
    verdict: Callable[[dict], str]


def _above(value: float, control: float) -> str:
    """Verdict against a control threshold (a 95th percentile or a chance rate)."""
    return "replicates (above control)" if value > control else "does not replicate (not above control)"


FINDINGS: list[Finding] = [
    Finding("01-emotion-vectors", "Held-out stories: nearest emotion vector is the story's emotion (top-1)",
            "qualitative (vectors track the emotion)",
            lambda m: f"{m['heldout_top1']:.3f} ({m['n_emotions']}-way; chance {m['chance_top1']:.3f}, "
                      f"shuffled-label 95th pct {m['shuffled_top1_p95']:.3f})",
            lambda m: _above(m["heldout_top1"], m["shuffled_top1_p95"])),
    Finding("01-emotion-vectors", "Held-out stories: top-5", "-",
            lambda m: f"{m['heldout_top5']:.3f} (chance {m['chance_top5']:.3f})",
            lambda m: _above(m["heldout_top5"], m["shuffled_top5_p95"])),
    Finding("01-emotion-vectors", "Held-out stories, cluster level (k-means, k = 10)", "-",
            lambda m: f"{m['cluster_top1']:.3f} (chance {m['cluster_chance']:.3f})",
            lambda m: _above(m["cluster_top1"], m["cluster_chance"])),
    Finding("01-emotion-vectors", "Logit lens: a vector's top tokens relate to its emotion",
            "desperate -> desperate, urgent, bankrupt",
            lambda m: f"{m['logit_lens_hit_rate']:.3f} of vectors have a related word in their top 20 "
                      f"(random directions: mean {m['logit_lens_random_hit_rate']:.3f}, "
                      f"95th pct {m['logit_lens_random_hit_rate_p95']:.3f})",
            lambda m: _above(m["logit_lens_hit_rate"], m["logit_lens_random_hit_rate_p95"])),
    Finding("01-emotion-vectors", "Logit lens at the deepest layer swept", "-",
            lambda m: f"{m['logit_lens_last_hit_rate']:.3f} at layer {m['logit_lens_last_layer']} "
                      f"(random directions: mean {m['logit_lens_last_random_hit_rate']:.3f}, "
                      f"95th pct {m['logit_lens_last_random_hit_rate_p95']:.3f})",
            lambda m: _above(m["logit_lens_last_hit_rate"], m["logit_lens_last_random_hit_rate_p95"])),
]


def summary_markdown(records: list[dict]) -> str:
    """The intro page's table, one row per (finding, model) with a record."""
    rows = ["| Chapter | Finding | Paper | Model | Ours | Verdict |", "|---|---|---|---|---|---|"]
    for rec in records:
        for f in FINDINGS:
            if f.chapter != rec["chapter"]:
                continue
            try:
                ours, verdict = f.ours(rec["metrics"]), f.verdict(rec["metrics"])
            except (KeyError, TypeError) as exc:
                ours, verdict = f"missing metric {exc}", "not measured"
            rows.append(f"| {rec['chapter']} | {f.finding} | {f.paper} | `{rec['model']}` | {ours} | {verdict} |")
    if len(rows) == 2:
        rows.append("| - | no chapter has been run yet | | | | |")
    return "\n".join(rows) + "\n"
