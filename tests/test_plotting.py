"""House-style figures: the controls a reader compares against are drawn where they belong."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from emotion_concepts.book import plotting  # noqa: E402


def test_bar_with_controls_draws_each_control_over_its_bar():
    ax = plotting.bar_with_controls({"top-1": 0.3, "top-5": 0.6},
                                    {"chance": {"top-1": 0.01, "top-5": 0.05}, "null": {"top-5": 0.08}},
                                    title="t", ylabel="y")
    segments = [(seg[0][0], seg[0][1]) for coll in ax.collections for seg in coll.get_segments()]
    assert sorted(round(y, 3) for _, y in segments) == [0.01, 0.05, 0.08]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["chance", "null"]
    plt.close("all")


def test_accuracy_by_layer_marks_chance_and_chosen_layer():
    df = pd.DataFrame({"layer": [2, 5], "top1": [0.2, 0.3], "top5": [0.5, 0.6],
                       "shuffled_top1_p95": [0.01, 0.01], "shuffled_top5_p95": [0.04, 0.04]}).set_index("layer")
    ax = plotting.accuracy_by_layer(df, chosen_layer=5, n_classes=10)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "chance, top-1" in labels and "shuffled labels, top-5 (95th pct)" in labels
    horizontal = sorted(line.get_ydata()[0] for line in ax.get_lines() if len(set(line.get_ydata())) == 1
                        and line.get_xdata()[0] == 0)
    assert horizontal == [0.1, 0.5]  # chance: 1/10 and 5/10
    plt.close("all")
