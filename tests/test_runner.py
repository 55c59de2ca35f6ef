"""The runner: every parameter and the model spec are checked before any kernel starts, a
refused run writes nothing, failures name the cell, records carry every declared metric, and
the summary is a findings x models matrix."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from emotion_concepts.book import runner
from emotion_concepts.book.cli import main
from emotion_concepts.book.parameters import coerce, declared_parameters
from emotion_concepts.book.records import RecordError, read_records, write_record
from emotion_concepts.book.summary import summary_markdown, verdicts_markdown
from emotion_concepts.errors import ParameterError
from emotion_concepts.findings import CHAPTERS


@pytest.fixture()
def no_kernel(monkeypatch, tmp_path):
    """Fail the test if papermill is asked to start a kernel; isolate the output folders."""
    import papermill

    def started(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", started)
    monkeypatch.setenv("EMOTION_BOOK_BUILD", str(tmp_path / "_build"))
    monkeypatch.setenv("EMOTION_BOOK_RESULTS", str(tmp_path / "results"))
    return tmp_path


def test_every_chapter_is_declared_and_every_parameter_annotated():
    assert set(runner.chapters()) == set(CHAPTERS)
    for chapter in runner.chapters():
        declared = runner.chapter_parameters(chapter)
        assert {"model", "remote", "dtype", "seed"} <= set(declared)
        assert set(CHAPTERS[chapter].params) <= set(declared), chapter
        assert set(CHAPTERS[chapter].quick) <= set(declared), chapter


def test_parameters_are_coerced_by_their_annotation():
    ok = runner.validate_parameters("01-emotion-vectors", {"layer": "12", "neutral_variance": "0.4",
                                                           "remote": "false", "emotions": '["sad"]'})
    assert ok == {"layer": 12, "neutral_variance": 0.4, "remote": False, "emotions": ["sad"]}
    assert runner.validate_parameters("01-emotion-vectors", {"layer": "none", "remote": "local"}) == {
        "layer": None, "remote": "local"}
    declared = declared_parameters("x: float = 1.0\nnames: list[str] = []\nflag: bool | str = False\n")
    assert coerce(declared["x"], 2) == 2.0 and isinstance(coerce(declared["x"], 2), float)
    assert coerce(declared["flag"], "true") is True and coerce(declared["flag"], "local") == "local"
    with pytest.raises(ParameterError, match="no type annotation"):
        declared_parameters("x = 1\n")


@pytest.mark.parametrize("name, value, message", [
    ("layer", "twelve", "layer takes int | None"),
    ("layer", "abc", "layer takes int | None"),
    ("layer", "30", "out of range; the model has 30 layers"),
    ("layer", "-1", "out of range"),
    ("emotions", '["hangry"]', "'hangry' is not one of"),
    ("emotions", '"sad"', "emotions takes list[str]"),
    ("neutral_variance", "7", "must be <= 1.0"),
    ("batch_size", "big", "batch_size takes int"),
    ("batch_size", "0", "must be >= 1"),
    ("dtype", "float16", "'float16' is not one of"),
    ("layr", "3", "unknown parameter"),
])
def test_bad_parameters_are_refused_before_any_kernel(no_kernel, capsys, name, value, message):
    start = time.time()
    assert main(["run", "01-emotion-vectors", "-p", name, value]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert time.time() - start < 5  # far below a model load
    assert not (no_kernel / "_build").exists() and not (no_kernel / "results").exists()  # nothing written


def test_bad_model_spec_is_refused_and_writes_nothing(no_kernel, capsys):
    assert main(["run", "01-emotion-vectors", "--model", "/no/such/dir"]) == 1
    assert "no model folder at '/no/such/dir'" in capsys.readouterr().err
    assert main(["run", "01-emotion-vectors", "--remote"]) == 1  # NDIF needs a Hugging Face id
    assert "offline GGUF alias" in capsys.readouterr().err
    assert main(["run", "no-such-chapter"]) == 1
    assert "no chapter" in capsys.readouterr().err
    assert not (no_kernel / "_build").exists() and not (no_kernel / "results").exists()


def test_run_all_checks_every_chapter_before_the_first_runs(no_kernel, capsys):
    assert main(["run-all", "-p", "batch_size", "big"]) == 1  # chapter 01's parameter; 00 would run first
    assert "batch_size takes int" in capsys.readouterr().err
    assert main(["run-all", "-p", "nobody_takes_this", "1"]) == 1
    assert "no chapter takes" in capsys.readouterr().err
    assert not (no_kernel / "_build").exists()


def test_failing_chapter_names_the_cell(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    nb = json.loads((runner.notebooks_dir() / "01-emotion-vectors.ipynb").read_text())
    params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    failing = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "id": "boom",
               "source": ["raise ValueError('deliberate failure')"]}
    nb["cells"] = [params, failing]
    (root / "notebooks" / "99-fails.ipynb").write_text(json.dumps(nb))
    shutil.copytree(runner.repo_root() / "data", root / "data", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("stories"))
    monkeypatch.setenv("EMOTION_BOOK_ROOT", str(root))
    monkeypatch.setenv("EMOTION_BOOK_BUILD", str(tmp_path / "build"))
    monkeypatch.setenv("EMOTION_BOOK_RESULTS", str(tmp_path / "results"))
    with pytest.raises(runner.ChapterFailed, match=r"99-fails failed: cell \d+ raised ValueError: deliberate"):
        runner.run_chapter("99-fails", progress=False)
    out = runner.executed_path("99-fails", "smollm2-135m-instruct")
    assert not out.exists()  # nothing half-written
    assert out.with_name("99-fails.failed.ipynb").exists()


def _metrics(chapter: str, value: float = 0.5) -> dict:
    return {k: value for k in CHAPTERS[chapter].declared_metrics()}


def test_a_record_must_carry_every_declared_metric(tmp_path):
    metrics = _metrics("01-emotion-vectors")
    path = write_record("01-emotion-vectors", "org/model", {"layer": 3}, metrics, root=tmp_path)
    assert path == tmp_path / "org--model" / "01-emotion-vectors.json"
    assert set(read_records(tmp_path)[0]) == {"chapter", "model", "params", "metrics", "versions", "created"}
    missing = {k: v for k, v in metrics.items() if k != "lovo_top5"}
    with pytest.raises(RecordError, match="lacks declared metric.*lovo_top5"):
        write_record("01-emotion-vectors", "org/model", {}, missing, root=tmp_path)
    with pytest.raises(RecordError, match="non-numeric"):  # a number a claim compares
        write_record("01-emotion-vectors", "org/model", {}, {**metrics, "lovo_top1": "high"}, root=tmp_path)
    write_record("01-emotion-vectors", "org/model", {}, {**metrics, "reference": "own"}, root=tmp_path)  # a label


def test_summary_is_a_matrix_with_verdicts_partial_runs_and_failures():
    full = _metrics("01-emotion-vectors", 0.1)
    full.update({"lovo_top1": 0.3, "lovo_shuffled_top1_p95": 0.01, "lovo_top5": 0.02, "lovo_shuffled_top5_p95": 0.05,
                 "n_emotions": 171, "n_voices": 5, "layer": 20, "reference": "own", "logit_lens_last_layer": 29})
    records = [{"chapter": "01-emotion-vectors", "model": "a", "metrics": full, "run": {"overrides": {}}},
               {"chapter": "01-emotion-vectors", "model": "b", "metrics": full,
                "run": {"overrides": {"emotions": ["sad"], "n_neutral": 48}}}]
    table = summary_markdown(records, ["a", "b", "c"], failures={("01-emotion-vectors", "c"): "cell 5 raised OSError"})
    header = table.splitlines()[0]
    assert header.count("|") == 8 and "`a`" in header and "`c`" in header  # one column per model
    top1 = next(row for row in table.splitlines() if "(top-1)" in row)
    assert top1.count("replicates") == 2 and "does not" not in top1
    assert "0.300 vs 0.010" in top1  # our number against the control the verdict uses
    assert "*partial (emotions, n_neutral)*" in top1 and top1.count("partial") == 1
    assert "**failed**: cell 5 raised OSError" in top1
    top5 = next(row for row in table.splitlines() if "Leave one voice out: top-5" in row)
    assert "0.020 vs 0.050" in top5 and "does not replicate" in top5
    rows = [r for r in table.splitlines()[2:] if r.startswith("| {doc}")]
    assert len(rows) == sum(len(c.claims) for c in CHAPTERS.values())  # one row per claim, not per model


def test_verdicts_say_which_chapters_ran_in_full_and_count_only_full_runs():
    full = _metrics("01-emotion-vectors", 0.1)
    full.update({"lovo_top1": 0.3, "lovo_shuffled_top1_p95": 0.01, "lovo_top5": 0.02, "lovo_shuffled_top5_p95": 0.05,
                 "n_emotions": 171, "n_voices": 5, "layer": 20, "reference": "own", "logit_lens_last_layer": 29})
    records = [{"chapter": "01-emotion-vectors", "model": "a", "metrics": full, "run": {"overrides": {}}},
               {"chapter": "01-emotion-vectors", "model": "b", "metrics": full,
                "run": {"overrides": {"emotions": ["sad"]}}}]
    text = verdicts_markdown(records, ["a", "b"])
    a, b = text.split("**`b`**")
    assert "ran in full: 01-emotion-vectors" in a and "not run: 00-corpus" in a
    assert "replicates: Leave one voice out: the nearest emotion vector" in a
    assert "Does not replicate: " in a and "Leave one voice out: top-5 (01)" in a.split("Does not replicate:")[1]
    assert "ran in full: none; partial runs (not counted): 01-emotion-vectors" in b
    assert "replicates:" not in b  # a partial run is never counted
