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


def test_grouped_bars_draw_each_null_over_its_own_bar():
    df = pd.DataFrame({"top1": [0.2, 0.3], "top5": [0.5, 0.6], "shuffled_top1_p95": [0.01, 0.02],
                       "shuffled_top5_p95": [0.04, 0.05]}, index=["diary", "report"])
    ax = plotting.grouped_bars_with_null(df, ["top1", "top5"], chance={"top1": 0.1, "top5": 0.3}, title="t", ylabel="y")
    segments = sorted(round(float(seg[0][1]), 3) for coll in ax.collections for seg in coll.get_segments())
    assert segments == [0.01, 0.02, 0.04, 0.05]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "shuffled labels, 95th pct" in labels and "chance, top5" in labels
    assert [t.get_text() for t in ax.get_xticklabels()] == ["diary", "report"]
    plt.close("all")
