"""The book's summary of findings: one row per claim of the paper, one column per model.

Each cell holds our number against the chapter's own control (a shuffled-label or permuted
null's 95th percentile, random directions, a neutralised prompt...) and the verdict the claim
computes from them; it links to that model's executed chapter. A run with non-default
parameters (fewer emotions, fewer dialogues...) is marked *partial* and never presented as the
finding's result; a chapter that failed on a model says so in that model's cell."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..findings import CHAPTERS
from ..paths import model_slug

# parameters that change where or how fast a run goes, not what it measures
NEUTRAL_PARAMS = ("model", "remote", "dtype", "batch_size")


def overrides(requested: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """The requested parameters that differ from the chapter's defaults and change what it measures."""
    return {k: v for k, v in requested.items() if k not in NEUTRAL_PARAMS and k in defaults and defaults[k] != v}


def chapter_page(chapter: str, model: str, primary: str) -> str:
    """The doc path of a model's executed chapter in the staged book."""
    if model == primary:
        return f"/notebooks/{chapter}"
    return f"/notebooks/models/{model_slug(model)}/{chapter}"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def summary_markdown(records: Sequence[dict], models: Sequence[str], failures: dict[tuple[str, str], str] | None = None,
                     primary: str | None = None) -> str:
    """The matrix (MyST markdown). ``records``: chapter records (each may carry a ``run`` entry
    with ``overrides``); ``models``: the columns, in order; ``failures``: {(chapter, model): why}."""
    failures = failures or {}
    primary = primary or (models[0] if models else "")
    by_key = {(r["chapter"], r["model"]): r for r in records}
    header = ["Chapter", "Finding", "Paper", "Control", *[f"`{m}`" for m in models]]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for chapter_id, chapter in CHAPTERS.items():
        for claim in chapter.claims:
            cells = [f"{{doc}}`{chapter_id} <{chapter_page(chapter_id, primary, primary)}>`", _escape(claim.finding),
                     _escape(claim.paper), _escape(claim.control_label or "-")]
            for model in models:
                cells.append(_cell(chapter_id, claim, model, by_key.get((chapter_id, model)),
                                   failures.get((chapter_id, model)), primary))
            rows.append("| " + " | ".join(cells) + " |")
    if not models:
        rows.append("| - | no chapter has been run yet | | |")
    return "\n".join(rows) + "\n"


def _cell(chapter_id: str, claim: Any, model: str, record: dict | None, failure: str | None, primary: str) -> str:
    if failure:
        return f"**failed**: {_escape(failure)}"
    if record is None:
        return "not run"
    metrics = record["metrics"]
    try:
        text, verdict = claim.cell(metrics), claim.verdict(metrics)
    except KeyError as exc:  # an old record from before a metric was declared
        return f"record lacks {exc}: re-run the chapter"
    page = chapter_page(chapter_id, model, primary)
    partial = record.get("run", {}).get("overrides")
    mark = f" *partial ({_escape(', '.join(sorted(partial)))})*" if partial else ""
    return f"{{doc}}`{_escape(text)} <{page}>`<br>{verdict}{mark}"


def status_markdown(records: Sequence[dict], models: Sequence[str], chapter_ids: Sequence[str],
                    failures: dict[tuple[str, str], str] | None = None) -> str:
    """The execution-status table: one row per (chapter, model) of this build."""
    failures = failures or {}
    by_key = {(r["chapter"], r["model"]): r for r in records}
    rows = ["| chapter | model | status | run time | ran on | parameters |", "|---|---|---|---|---|---|"]
    for model in models:
        for chapter in chapter_ids:
            record = by_key.get((chapter, model))
            if (chapter, model) in failures:
                rows.append(f"| {chapter} | `{model}` | failed | - | - | - |")
                continue
            if record is None:
                rows.append(f"| {chapter} | `{model}` | not run | - | - | - |")
                continue
            run = record.get("run", {})
            seconds = run.get("seconds")
            partial = run.get("overrides")
            params = "defaults" if not partial else "partial: " + _escape(", ".join(sorted(partial)))
            where = {False: "here", "local": "NDIF simulation", True: "NDIF"}.get(run.get("remote", False), "here")
            rows.append(f"| {chapter} | `{model}` | ok ({where}) | "
                        f"{'-' if seconds is None else f'{seconds:.0f} s'} | {record.get('created', '-')} | {params} |")
    return "\n".join(rows) + "\n"


CAUSAL_FROM = "06"  # chapters from this number on steer the model: the paper's causal findings


def verdicts_markdown(records: Sequence[dict], models: Sequence[str]) -> str:
    """What the intro says plainly, per model: which chapters ran in full (default parameters)
    and, among the claims of full runs, which replicate and which do not, the representational
    findings (chapters 01-05) apart from the causal ones (06 on). Partial runs are listed as such
    and never counted."""
    by_key = {(r["chapter"], r["model"]): r for r in records}
    lines: list[str] = []
    for model in models:
        full = [c for c in CHAPTERS if (c, model) in by_key and not by_key[(c, model)].get("run", {}).get("overrides")]
        partial = [c for c in CHAPTERS if (c, model) in by_key and c not in full]
        missing = [c for c in CHAPTERS if (c, model) not in by_key]
        lines.append(f"**`{model}`**: ran in full: {', '.join(full) or 'none'}"
                     + (f"; partial runs (not counted): {', '.join(partial)}" if partial else "")
                     + (f"; not run: {', '.join(missing)}" if missing else "") + ".")
        for label, causal in (("What the vectors represent", False), ("What the vectors do (steering)", True)):
            yes, no = [], []
            for chapter_id in full:
                if (chapter_id >= CAUSAL_FROM) != causal:
                    continue
                metrics = by_key[(chapter_id, model)]["metrics"]
                for claim in CHAPTERS[chapter_id].claims:
                    try:
                        verdict = claim.verdict(metrics)
                    except KeyError:
                        continue
                    name = f"{_escape(claim.finding)} ({chapter_id[:2]})"
                    if verdict == "replicates":
                        yes.append(name)
                    elif verdict in ("does not replicate", "not measured"):
                        no.append(name)
            if yes or no:
                lines.append(f"- {label}: replicates: {'; '.join(yes) or 'nothing'}. "
                             f"Does not replicate: {'; '.join(no) or 'nothing'}.")
        lines.append("")
    return "\n".join(lines) + "\n"
