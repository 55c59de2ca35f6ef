"""The runner: parameters are checked before any model loads; failures name the cell."""

from __future__ import annotations

import json
import shutil

import pytest

from emotion_concepts import runner
from emotion_concepts.cli import main
from emotion_concepts.errors import ParameterError
from emotion_concepts.records import read_records, summary_markdown, write_record


def test_chapter_defaults_are_read_from_the_parameters_cell():
    defaults = runner.chapter_defaults("01-emotion-vectors")
    assert defaults["model"] == "smollm2-135m-instruct" and defaults["layer"] is None
    assert defaults["start_token"] == 50


def test_parameters_are_coerced_and_checked():
    ok = runner.validate_parameters("01-emotion-vectors", {"layer": "12", "neutral_variance": "0.4",
                                                           "remote": "false", "emotions": '["sad"]'})
    assert ok == {"layer": 12, "neutral_variance": 0.4, "remote": False, "emotions": ["sad"]}
    with pytest.raises(ParameterError, match="unknown parameter"):
        runner.validate_parameters("01-emotion-vectors", {"layr": "12"})
    with pytest.raises(ParameterError, match="integer"):
        runner.validate_parameters("01-emotion-vectors", {"start_token": "fifty"})


def test_cli_rejects_bad_parameters_before_loading(monkeypatch, capsys):
    import emotion_concepts.models as models

    monkeypatch.setattr(models, "load_model", lambda *a, **k: pytest.fail("model loaded"))
    assert main(["run", "01-emotion-vectors", "-p", "batch_size", "big"]) == 1
    assert "batch_size" in capsys.readouterr().err
    assert main(["run", "no-such-chapter"]) == 1
    assert "no chapter" in capsys.readouterr().err


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
    with pytest.raises(runner.ChapterFailed, match=r"99-fails failed: cell \d+ raised ValueError: deliberate"):
        runner.run_chapter("99-fails", progress=False)
    out = runner.executed_path("99-fails", "smollm2-135m-instruct")
    assert not out.exists()  # nothing half-written
    assert out.with_name("99-fails.failed.ipynb").exists()


def test_records_and_summary(tmp_path):
    metrics = {"heldout_top1": 0.5, "heldout_top5": 0.9, "chance_top1": 0.1, "chance_top5": 0.5,
               "shuffled_top1_p95": 0.2, "shuffled_top5_p95": 0.6, "n_emotions": 10,
               "logit_lens_hit_rate": 0.0, "logit_lens_random_hit_rate": 0.0, "logit_lens_random_hit_rate_p95": 0.0,
               "logit_lens_last_layer": 29, "logit_lens_last_hit_rate": 0.1, "logit_lens_last_random_hit_rate": 0.02,
               "logit_lens_last_random_hit_rate_p95": 0.1}
    path = write_record("01-emotion-vectors", "org/model", {"layer": 3}, metrics, root=tmp_path)
    assert path == tmp_path / "org--model" / "01-emotion-vectors.json"
    rec = read_records(tmp_path)[0]
    assert set(rec) == {"chapter", "model", "params", "metrics", "versions", "created"}
    table = summary_markdown([rec])
    assert "replicates (above control)" in table and "does not replicate" in table
    lens_rows = [row for row in table.splitlines() if "Logit lens" in row]
    # above the random directions' mean but not above their 95th percentile: not a replication
    assert all("does not replicate" in row for row in lens_rows), lens_rows
    assert "missing metric" in table  # cluster metrics absent from this record: said, not crashed
