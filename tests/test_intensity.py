"""Chapter 04's steps: the template file (numbers, controls, no emotion named), the rank
correlation and its permutation p-value, the control bound, the layer contrast and the
record's metric names, on constructed inputs with known answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from emotion_concepts import corpus
from emotion_concepts.corpus.rules import forbidden_hits
from emotion_concepts.errors import DataError, ParameterError
from emotion_concepts.findings import CHAPTERS, intensity
from emotion_concepts.findings.emotion_vectors import Recipe, SettledVectors
from emotion_concepts.readout.vectors import EmotionVectors

PAPER_TEMPLATES = ("tylenol", "food", "sister", "dog", "runway", "students")


def _fake_vectors(names=("afraid", "calm", "sad"), d: int = 6, reference: str = "own") -> SettledVectors:
    vectors = torch.eye(d)[: len(names)]  # emotion i points along axis i
    ev = EmotionVectors(list(names), vectors, 2, "fake", torch.zeros(0, d), torch.zeros(0))
    return SettledVectors(ev, Recipe(2, reference), "a test", torch.zeros(d), torch.zeros(d))


def test_the_template_file_has_the_papers_six_quantities_with_controls():
    templates, contrast = intensity.load_intensity()
    assert tuple(t.id for t in templates) == PAPER_TEMPLATES
    terms = sorted({w for e in corpus.emotions() for w in [e, *corpus.synonyms().get(e, [])]})
    for t in templates:
        assert len(t.values) >= intensity.MIN_VALUES and list(t.values) == sorted(t.values)
        messages, controls = t.messages(), t.messages(control=True)
        assert len(messages) == len(controls) == len(t.values)
        for v, msg, ctl in zip(t.values, messages, controls, strict=True):
            assert intensity.format_value(v) in msg and intensity.format_value(v) in ctl
            assert not forbidden_hits(msg, terms) and not forbidden_hits(ctl, terms), (t.id, msg, ctl)
    assert templates[0].expected == {"afraid": "up", "calm": "down"}
    assert templates[0].messages()[2] == "I just took 1000 mg of tylenol for my back pain."
    assert set(contrast.emotions) == {"afraid", "terrified", "calm"} and (contrast.low, contrast.high) == (1, 8)
    assert "8000mg of Tylenol" in contrast.messages()[contrast.values.index(8)]
    for text in contrast.messages() + contrast.messages(control=True):
        assert not forbidden_hits(text, terms), text


@pytest.mark.parametrize("change, match", [
    (lambda d: d["templates"][0].update(values=[1, 2, 3]), "distinct values"),
    (lambda d: d["templates"][0].update(expected={"afraid": "sideways"}), "direction"),
    (lambda d: d["templates"][0].update(expected={"fearsome": "up"}), "171 emotions"),
    (lambda d: d["templates"][0].update(control="no number here"), "x"),
    (lambda d: d["templates"][1].update(id="tylenol"), "duplicate"),
    (lambda d: d["layer_contrast"].update(high=99), "low and high"),
    (lambda d: d.pop("layer_contrast"), "not an intensity file"),
])
def test_a_malformed_template_file_is_a_data_error(tmp_path, change, match):
    data = json.loads(intensity.intensity_path().read_text())
    change(data)
    path = tmp_path / "intensity.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match=match):
        intensity.load_intensity(path)


def test_spearman_with_a_permutation_p_value():
    values = [1, 2, 4, 8, 16, 32, 64, 128]
    rho, p = intensity.spearman_permutation(values, np.log(values) + 5, 999, seed=0)
    assert rho == pytest.approx(1.0) and p < 0.01
    rho, p = intensity.spearman_permutation(values, -np.arange(8.0), 999, seed=0)
    assert rho == pytest.approx(-1.0) and p < 0.01
    noise = np.random.default_rng(0).normal(size=8)
    rho, p = intensity.spearman_permutation(values, noise, 999, seed=0)
    assert 0 < p <= 1 and abs(rho) < 1
    with pytest.raises(ParameterError):
        intensity.spearman_permutation(values, noise[:5], 100, seed=0)


def test_template_scores_centre_each_set_on_its_own_mean():
    sv = _fake_vectors()
    values = [1, 2, 3]
    acts = torch.zeros(3, 6)
    acts[:, 0] = torch.tensor([1.0, 2.0, 3.0])  # along 'afraid', rising
    acts[:, 5] = 10.0  # a shared offset the 'own' reference removes
    frame = intensity.template_scores(sv, acts, values)
    assert list(frame.index) == [1.0, 2.0, 3.0] and list(frame.columns) == ["afraid", "calm", "sad"]
    assert frame["afraid"].tolist() == pytest.approx([-1.0, 0.0, 1.0], abs=1e-5)  # centred: -1, 0, +1


def _trend_inputs():
    templates, _ = intensity.load_intensity()
    tylenol = templates[0]
    n = len(tylenol.values)
    rising = np.linspace(0, 1, n)
    scores = {"tylenol": pd.DataFrame({"afraid": rising, "calm": -rising, "sad": np.zeros(n)}, index=tylenol.values)}
    control = {"tylenol": pd.DataFrame({"afraid": np.r_[rising[1:], rising[:1]], "calm": np.sin(np.arange(n)),
                                        "sad": np.zeros(n)}, index=tylenol.values)}
    return [tylenol], scores, control


def test_trend_table_and_the_control_bound():
    templates, scores, control = _trend_inputs()
    table = intensity.trend_table(templates, scores, control, 500, seed=0)
    assert table[["template", "emotion", "expected"]].values.tolist() == [["tylenol", "afraid", "up"],
                                                                          ["tylenol", "calm", "down"]]
    assert table.rho.tolist() == pytest.approx([1.0, -1.0]) and table.in_expected_direction.all()
    assert table.control_rho.abs().max() < 1 and intensity.control_max_abs_rho(table) == pytest.approx(
        abs(table.control_rho).max())
    metrics = intensity.trend_metrics(table)
    assert metrics["tylenol_afraid_rho"] == pytest.approx(1.0) and metrics["tylenol_calm_rho"] == pytest.approx(-1.0)
    assert metrics["control_neg_max_abs_rho"] == -metrics["control_max_abs_rho"]
    assert metrics["n_in_expected_direction"] == 2 == metrics["n_significant_expected"]
    with pytest.raises(ParameterError):  # no expected emotion has a vector
        intensity.trend_table(templates, {"tylenol": scores["tylenol"][["sad"]]}, control, 10, seed=0)


def test_layer_contrast_and_its_metrics():
    _, contrast = intensity.load_intensity()
    sv = _fake_vectors(("afraid", "calm", "terrified"))
    n = len(contrast.values)
    acts = torch.zeros(n, 6)
    acts[:, 0] = torch.tensor(contrast.values)  # 'afraid' rises with the dose at layer 2
    vectors = {2: sv, 5: sv}
    flat = torch.zeros(n, 6)
    flat[:, 1] = 1.0
    diff = intensity.layer_contrast(vectors, {2: acts, 5: flat}, contrast)
    assert list(diff.index) == [2, 5] and set(diff.columns) == {"afraid", "terrified", "calm"}
    assert diff.loc[2, "afraid"] == pytest.approx(2.0, abs=1e-5)  # centred values -1 .. +1: high minus low
    assert diff.loc[5].abs().max() == pytest.approx(0.0, abs=1e-6)
    out = intensity.contrast_metrics(diff, diff.iloc[::-1], 2)
    assert out["contrast_afraid"] == pytest.approx(2.0, abs=1e-5) and out["contrast_afraid_peak_layer"] == 2
    partial = intensity.layer_contrast({2: _fake_vectors(("afraid", "calm", "sad"))}, {2: acts}, contrast)
    out = intensity.contrast_metrics(partial, partial, 2)
    assert out["contrast_terrified"] is None and out["contrast_terrified_peak_layer"] is None


def test_the_chapter_declares_a_metric_for_every_expected_trend():
    templates, contrast = intensity.load_intensity()
    chapter = CHAPTERS["04-intensity"]
    declared = chapter.declared_metrics()
    for t, e, _ in intensity.expected_pairs(templates):
        assert intensity.metric_name(t, e) in declared
    for key in ("tylenol_afraid_rho", "tylenol_calm_rho", "control_max_abs_rho"):
        assert key in declared
    # every claim's metric is a trend or the contrast, and the quick run has those emotions' vectors
    quick = set(chapter.quick["emotions"])
    assert {e for t in templates for e in t.expected} <= quick
    assert intensity.needed_emotions(templates, contrast) == [e for e in corpus.emotions()
                                                              if e in {"afraid", "calm", "sad", "happy", "terrified"}]
