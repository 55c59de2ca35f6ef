"""Execute chapters with papermill and build the book with Jupyter Book 1.

Chapters are ``notebooks/<chapter>.ipynb`` (generated from their jupytext sources in
``notebooks/src/``); each has one cell tagged ``parameters``. Every parameter and the model spec
are checked before any kernel starts, and a refused run writes nothing. Executed copies go to
``_build/executed/<model>/<chapter>.ipynb`` (written only on success; a failed run leaves
``<chapter>.failed.ipynb`` beside it for inspection), and the chapter's record to
``results/<model>/<chapter>.json``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EmotionBookError, ParameterError
from ..files import atomic_write_json, atomic_write_text
from ..models.loading import check_remote, describe_spec, model_name
from ..models.registry import DEFAULT_MODEL
from ..paths import build_dir, model_slug, repo_root
from .parameters import COMMON, Declared, coerce, declared_parameters, parameters_cell
from .records import read_records, record_path


class ChapterFailed(EmotionBookError):
    def __init__(self, chapter: str, detail: str):
        super().__init__(f"chapter {chapter} failed: {detail}")
        self.chapter = chapter
        self.detail = detail


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"


def chapters() -> list[str]:
    return sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))


def chapter_path(chapter: str) -> Path:
    path = notebooks_dir() / f"{chapter}.ipynb"
    if not path.exists():
        raise EmotionBookError(f"no chapter '{chapter}'; chapters are: {', '.join(chapters())}")
    return path


def chapter_parameters(chapter: str) -> dict[str, Declared]:
    return declared_parameters(parameters_cell(chapter_path(chapter)))


def chapter_defaults(chapter: str) -> dict[str, Any]:
    """The names and default values of the chapter's ``parameters`` cell."""
    return {name: d.default for name, d in chapter_parameters(chapter).items()}


def validate_parameters(chapter: str, params: dict[str, Any], n_layers: int | None = None) -> dict[str, Any]:
    """Coerce and check ``params`` (names, annotated types, the finding's ranges and choices,
    layers against ``n_layers`` when known). Raises ``ParameterError`` with one clear line."""
    from ..findings import CHAPTERS

    declared = chapter_parameters(chapter)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)} for {chapter}; "
                             f"it takes: {', '.join(sorted(declared))}")
    constraints = {**COMMON, **(CHAPTERS[chapter].params if chapter in CHAPTERS else {})}
    out = {}
    for name, raw in params.items():
        value = coerce(declared[name], raw)
        if name in constraints:
            constraints[name].check(name, value, n_layers)
        out[name] = value
    return out


@dataclass(frozen=True)
class PlannedRun:
    """A run that passed every check: what papermill will be given."""

    chapter: str
    model: str  # the spec as given (alias, folder or Hugging Face id)
    name: str  # the model's name in paths and records (alias, folder name or Hugging Face id)
    params: dict[str, Any]  # complete: model and remote included
    overrides: dict[str, Any]  # the parameters that differ from the chapter's defaults


def plan_run(chapter: str, model: str = DEFAULT_MODEL, remote: Any = False,
             params: dict[str, Any] | None = None) -> PlannedRun:
    """Check the model spec and every parameter without loading anything; raise before any
    kernel starts or any file is written."""
    from .summary import overrides

    chapter_path(chapter)
    remote = check_remote(remote)
    spec = describe_spec(model, remote)
    checked = validate_parameters(chapter, {**(params or {}), "model": model, "remote": remote},
                                  n_layers=spec["n_layers"])
    return PlannedRun(chapter, model, spec["name"], checked, overrides(checked, chapter_defaults(chapter)))


def executed_path(chapter: str, model: str) -> Path:
    return build_dir() / "executed" / model_slug(model) / f"{chapter}.ipynb"


@dataclass
class RunResult:
    chapter: str
    model: str
    seconds: float
    output: Path


class _QuietPapermill(logging.Filter):
    """Papermill cannot parse ``x: int | None = ...`` annotations and warns that such a parameter
    is unknown; the runner has already checked every parameter against the cell itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Passed unknown parameter" not in record.getMessage()


def _kernel_environment() -> None:
    os.environ.setdefault("EMOTION_BOOK_ROOT", str(repo_root()))
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # tqdm.auto (imported by transformers) warns once that ipywidgets is absent: bars are text here
    os.environ.setdefault("PYTHONWARNINGS", "ignore:IProgress not found")
    logger = logging.getLogger("papermill")
    if not any(isinstance(f, _QuietPapermill) for f in logger.filters):
        logger.addFilter(_QuietPapermill())


def run_planned(run: PlannedRun, progress: bool = True) -> RunResult:
    """Execute a planned chapter run with papermill; raise ``ChapterFailed`` naming the failing cell.
    With ``progress``, the kernel's output (progress bars included) streams to this console."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = executed_path(run.chapter, run.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    failed = out.with_name(f"{run.chapter}.failed.ipynb")
    tmp = out.with_name(f".{run.chapter}.partial.ipynb")
    _kernel_environment()
    start = time.time()
    streams = {"stdout_file": sys.stdout, "stderr_file": sys.stderr} if progress else {}
    try:
        pm.execute_notebook(str(chapter_path(run.chapter)), str(tmp), parameters=run.params,
                            kernel_name="python3", cwd=str(notebooks_dir()), progress_bar=False,
                            log_output=False, extra_arguments=["--IPKernelApp.log_level=ERROR"], **streams)
    except PapermillExecutionError as exc:
        tmp.replace(failed)
        raise ChapterFailed(run.chapter, f"cell {exc.exec_count} raised {exc.ename}: "
                                         f"{str(exc.evalue).splitlines()[0] if exc.evalue else ''} "
                                         f"(executed copy: {failed})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    seconds = time.time() - start
    present_parameters(tmp, run)
    tmp.replace(out)
    failed.unlink(missing_ok=True)
    _note_run(run, seconds)
    return RunResult(run.chapter, run.name, seconds, out)


def run_chapter(chapter: str, model: str = DEFAULT_MODEL, remote: Any = False,
                params: dict[str, Any] | None = None, progress: bool = True) -> RunResult:
    return run_planned(plan_run(chapter, model, remote, params), progress)


def _note_run(run: PlannedRun, seconds: float) -> None:
    """Add how the chapter was run (parameters that differ from its defaults, time) to the
    record the chapter just wrote."""
    path = record_path(run.chapter, run.name)
    if not path.exists():
        raise ChapterFailed(run.chapter, f"it wrote no record at {path}")
    record = json.loads(path.read_text())
    record["run"] = {"overrides": run.overrides, "seconds": round(seconds, 1), "remote": run.params["remote"]}
    atomic_write_json(path, record)


def present_parameters(notebook: Path, run: PlannedRun) -> None:
    """Replace papermill's injected-parameters code cell with a compact table of the values this
    build used (changed values in bold), and collapse the defaults cell like other code."""
    nb = json.loads(notebook.read_text())
    defaults = chapter_defaults(run.chapter)
    cells = []
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            rows = ["| parameter | value |", "|---|---|"]
            for name, default in defaults.items():
                value = run.params.get(name, default)
                shown = f"`{json.dumps(value)}`"
                rows.append(f"| {name} | {'**' + shown + '**' if name in run.overrides else shown} |")
            source = ("**Parameters of this build** (values that differ from the defaults above in bold):\n\n"
                      + "\n".join(rows))
            cells.append({"cell_type": "markdown", "id": cell.get("id", "injected-parameters"),
                          "metadata": {"tags": ["injected-parameters"]}, "source": source})
            continue
        cells.append(cell)
    nb["cells"] = cells
    atomic_write_text(notebook, json.dumps(nb, indent=1) + "\n")


def run_many(models: Sequence[str], chapter_ids: Sequence[str] | None = None, remote: Any = False,
             params: dict[str, Any] | None = None, keep_going: bool = False, progress: bool = True,
             say: Callable[[str], None] = print) -> dict[tuple[str, str], str]:
    """Run chapters on models (every chapter on every model by default). Every run is planned
    (checked) before the first one starts. ``params`` go to the chapters that take them; a
    parameter no chapter takes is an error. Returns {(chapter, model): why} for failures (with
    ``keep_going``; otherwise the first failure raises). Failures are also written to
    ``_build/executed/failures.json`` for the book's summary."""
    names = list(chapter_ids or chapters())
    params = dict(params or {})
    takers = {name: [c for c in names if name in chapter_parameters(c)] for name in params}
    nobody = [name for name, cs in takers.items() if not cs]
    if nobody:
        raise ParameterError(f"no chapter takes parameter(s) {', '.join(nobody)}")
    plans = [plan_run(c, m, remote, {k: v for k, v in params.items() if c in takers[k]})
             for m in models for c in names]
    failures: dict[tuple[str, str], str] = {}
    start = time.time()
    for i, run in enumerate(plans, 1):
        tag = f"[{i}/{len(plans)}] {run.chapter} on {run.name}"
        say(f"{tag} ...")
        try:
            result = run_planned(run, progress=progress)
            say(f"{tag}: done in {result.seconds:.0f} s")
            failures.pop((run.chapter, run.name), None)
        except ChapterFailed as exc:
            failures[(run.chapter, run.name)] = exc.detail
            _save_failures(failures, plans)
            if not keep_going:
                raise
            say(f"{tag}: {exc}")
    _save_failures(failures, plans)
    say(f"ran {len(plans)} chapter run(s) in {time.time() - start:.0f} s")
    return failures


def failures_path() -> Path:
    return build_dir() / "executed" / "failures.json"


def _save_failures(failures: dict[tuple[str, str], str], plans: Sequence[PlannedRun]) -> None:
    """Merge this session's outcome into the failures file: runs that succeeded are cleared."""
    path = failures_path()
    known = json.loads(path.read_text()) if path.exists() else []
    ran = {(p.chapter, p.name) for p in plans}
    kept = [f for f in known if (f["chapter"], f["model"]) not in ran]
    kept += [{"chapter": c, "model": m, "why": why} for (c, m), why in failures.items()]
    atomic_write_json(path, kept)


def read_failures() -> dict[tuple[str, str], str]:
    path = failures_path()
    if not path.exists():
        return {}
    return {(f["chapter"], f["model"]): f["why"] for f in json.loads(path.read_text())}


# ---------------------------------------------------------------- the book


def stage_book(models: Sequence[str] = (DEFAULT_MODEL,)) -> Path:
    """Assemble the book's sources (prose, executed chapters, generated summary) in
    ``_build/stage`` and return that folder. The first model's chapters are the book's
    chapter pages; every other model's executed chapters become pages linked from the
    summary and from each chapter's page."""
    from .staging import stage

    models = [model_name(m) for m in models]
    if not models:
        raise EmotionBookError("no model to build the book for")
    return stage(models, chapters(), executed_path, read_records(), read_failures())


def build_book(models: Sequence[str] = (DEFAULT_MODEL,)) -> Path:
    """Build the static HTML book into ``_build/html`` (offline) and return index.html."""
    stage = stage_book(models)
    target = build_dir() / "html"
    jb = Path(sys.executable).parent / "jupyter-book"
    if not jb.exists():
        raise EmotionBookError(f"jupyter-book is not installed beside {sys.executable}: run `make venv`")
    cmd = [str(jb), "build", str(stage), "--path-output", str(build_dir() / "jb"), "--warningiserror", "--keep-going"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise EmotionBookError("jupyter-book build failed (see the log above)")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(build_dir() / "jb" / "_build" / "html", target)
    return target / "index.html"
