"""Execute chapters with papermill and build the book with Jupyter Book 1.

Chapters are ``notebooks/<chapter>.ipynb``; each has one cell tagged ``parameters``. Their
executed copies go to ``_build/executed/<model>/<chapter>.ipynb`` (written only on success;
a failed run leaves ``<chapter>.failed.ipynb`` beside it for inspection).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import EmotionBookError, ParameterError
from .models import DEFAULT_MODEL
from .paths import build_dir, model_slug, repo_root


class ChapterFailed(EmotionBookError):
    def __init__(self, chapter: str, detail: str):
        super().__init__(f"chapter {chapter} failed: {detail}")
        self.chapter = chapter


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"


def chapters() -> list[str]:
    return sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))


def chapter_path(chapter: str) -> Path:
    path = notebooks_dir() / f"{chapter}.ipynb"
    if not path.exists():
        raise EmotionBookError(f"no chapter '{chapter}'; chapters are: {', '.join(chapters())}")
    return path


def chapter_defaults(chapter: str) -> dict[str, Any]:
    """The names and default values assigned in the chapter's ``parameters`` cell."""
    nb = json.loads(chapter_path(chapter).read_text())
    for cell in nb["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell["source"])
            out = {}
            for node in ast.parse(source).body:
                if isinstance(node, ast.Assign | ast.AnnAssign):
                    target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                    out[target.id] = ast.literal_eval(node.value)
            return out
    raise EmotionBookError(f"chapter {chapter} has no cell tagged 'parameters'")


def _coerce(name: str, raw: Any, default: Any) -> Any:
    """Convert a command-line string to the type of the parameter's default."""
    if not isinstance(raw, str):
        value = raw
    elif isinstance(default, bool):
        if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ParameterError(f"parameter {name} takes true/false, got {raw!r}")
        value = raw.lower() in ("true", "1", "yes")
    elif isinstance(default, int):
        try:
            value = int(raw)
        except ValueError:
            raise ParameterError(f"parameter {name} takes an integer, got {raw!r}") from None
    elif isinstance(default, float):
        try:
            value = float(raw)
        except ValueError:
            raise ParameterError(f"parameter {name} takes a number, got {raw!r}") from None
    elif isinstance(default, list | dict):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise ParameterError(f"parameter {name} takes JSON ({type(default).__name__}), got {raw!r}") from None
    elif default is None:  # optional: int if it looks like one, else the string
        if raw.lower() in ("none", "null", ""):
            return None
        try:
            return int(raw)
        except ValueError:
            return raw
    else:
        value = raw
    if default is not None and not isinstance(value, type(default)) and not (
            isinstance(default, float) and isinstance(value, int)):
        raise ParameterError(f"parameter {name} takes {type(default).__name__}, got {value!r}")
    return value


def validate_parameters(chapter: str, params: dict[str, Any]) -> dict[str, Any]:
    """Reject unknown names and wrong types before any model loads."""
    defaults = chapter_defaults(chapter)
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)} for {chapter}; "
                             f"it takes: {', '.join(sorted(defaults))}")
    return {name: _coerce(name, value, defaults[name]) for name, value in params.items()}


def executed_path(chapter: str, model: str) -> Path:
    return build_dir() / "executed" / model_slug(model) / f"{chapter}.ipynb"


@dataclass
class RunResult:
    chapter: str
    model: str
    seconds: float
    output: Path


def run_chapter(chapter: str, model: str = DEFAULT_MODEL, remote: bool = False,
                params: dict[str, Any] | None = None, progress: bool = True) -> RunResult:
    """Execute one chapter with papermill; raise ``ChapterFailed`` naming the failing cell."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    params = validate_parameters(chapter, {**(params or {}), "model": model, "remote": remote})
    out = executed_path(chapter, model)
    out.parent.mkdir(parents=True, exist_ok=True)
    failed = out.with_name(f"{chapter}.failed.ipynb")
    tmp = out.with_name(f"{chapter}.partial.ipynb")
    os.environ.setdefault("EMOTION_BOOK_ROOT", str(repo_root()))
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    start = time.time()
    try:
        pm.execute_notebook(str(chapter_path(chapter)), str(tmp), parameters=params,
                            kernel_name="python3", cwd=str(notebooks_dir()),
                            progress_bar=progress, log_output=False)
    except PapermillExecutionError as exc:
        tmp.replace(failed)
        raise ChapterFailed(chapter, f"cell {exc.exec_count} raised {exc.ename}: "
                                     f"{str(exc.evalue).splitlines()[0] if exc.evalue else ''} "
                                     f"(executed copy: {failed})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out)
    failed.unlink(missing_ok=True)
    return RunResult(chapter, model, time.time() - start, out)


# ---------------------------------------------------------------- the book


def stage_book(model: str = DEFAULT_MODEL) -> Path:
    """Assemble the book's sources (prose, executed chapters, generated summary) in
    ``_build/stage`` and return that folder."""
    from .records import read_records, summary_markdown

    root = repo_root()
    stage = build_dir() / "stage"
    if stage.exists():
        shutil.rmtree(stage)
    shutil.copytree(root / "book", stage / "book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, stage / name)
    (stage / "notebooks").mkdir()
    missing = []
    for chapter in chapters():
        executed = executed_path(chapter, model)
        if not executed.exists():
            missing.append(chapter)
            continue
        shutil.copy2(executed, stage / "notebooks" / f"{chapter}.ipynb")
    if missing:
        raise EmotionBookError(
            f"chapter(s) {', '.join(missing)} have not been run for {model}: "
            f"run `emotion-book run-all --model {model}` first")
    (stage / "book" / "_generated").mkdir(exist_ok=True)
    (stage / "book" / "_generated" / "summary.md").write_text(summary_markdown(read_records()))
    return stage


def build_book(model: str = DEFAULT_MODEL) -> Path:
    """Build the static HTML book into ``_build/html`` (offline) and return index.html."""
    stage = stage_book(model)
    target = build_dir() / "html"
    if target.exists():
        shutil.rmtree(target)
    jb = Path(sys.executable).parent / "jupyter-book"
    if not jb.exists():
        raise EmotionBookError(f"jupyter-book is not installed beside {sys.executable}: run `make venv`")
    cmd = [str(jb), "build", str(stage),
           "--path-output", str(build_dir() / "jb"), "--warningiserror", "--keep-going"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise EmotionBookError("jupyter-book build failed (see the log above)")
    shutil.copytree(build_dir() / "jb" / "_build" / "html", target)
    return target / "index.html"
