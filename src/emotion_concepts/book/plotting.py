"""One house style for every figure in the book."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

PALETTE = ["#2f5d8a", "#c4512d", "#5b8c5a", "#8a6bb1", "#c79a2b", "#4a9bb0", "#a03e6b", "#6b6b6b"]


def use_house_style() -> None:
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE, font_scale=0.95)
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 110, "axes.titleweight": "bold",
                         "axes.spines.top": False, "axes.spines.right": False,
                         "figure.autolayout": True})


def heatmap(matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str], *,
            title: str, xlabel: str, ylabel: str, cmap: str = "mako_r", center: float | None = None,
            annotate: bool | None = None, ax=None):
    import seaborn as sns

    n = max(len(row_labels), len(col_labels))
    show_labels = n <= 40
    if ax is None:
        size = min(4 + 0.32 * n, 14) if show_labels else 9
        _, ax = plt.subplots(figsize=(size, size * 0.85))
    sns.heatmap(matrix, ax=ax, cmap=cmap, center=center, square=True,
                xticklabels=list(col_labels) if show_labels else False,
                yticklabels=list(row_labels) if show_labels else False,
                annot=(n <= 15) if annotate is None else annotate, fmt=".2g",
                cbar_kws={"shrink": 0.7})
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def bar_with_controls(values: dict[str, float], controls: dict[str, dict[str, float]], *, title: str,
                      ylabel: str, ax=None):
    """Bars for measured values; each control (chance, a null's 95th percentile) is drawn as a
    line across the bar it belongs to. ``controls[label][bar]`` is that control's level for a bar."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2 + 1.2 * len(values), 3.6))  # room for the legend
    names = list(values)
    ax.bar(names, [values[k] for k in names], color=PALETTE[: len(names)], width=0.6)
    styles = ["--", ":", "-."]
    for i, (label, levels) in enumerate(controls.items()):
        bars = [j for j, name in enumerate(names) if name in levels]
        for j in bars:
            ax.hlines(levels[names[j]], j - 0.42, j + 0.42, color="#222222", linestyle=styles[i % 3],
                      linewidth=1.4, label=label if j == bars[0] else None)  # one legend entry a control
    for j, name in enumerate(names):
        ax.annotate(f"{values[name]:.3f}", (j, values[name]), ha="center", va="bottom", fontsize=9,
                    xytext=(0, 2), textcoords="offset points")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.legend(frameon=True, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def grouped_bars_with_null(table, stats: Sequence[str], *, chance: dict[str, float] | None = None, title: str,
                           ylabel: str, xlabel: str = "", ax=None):
    """Grouped bars: one group per row of ``table`` (a DataFrame indexed by group), one bar per
    statistic in ``stats``; where the table has ``shuffled_<stat>_p95`` that null is drawn as a
    black line over its bar, and ``chance[stat]`` as a dotted line across the plot."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5 + 1.1 * len(table), 3.8))
    width = 0.8 / len(stats)
    x = np.arange(len(table))
    for k, stat in enumerate(stats):
        pos = x - 0.4 + width * (k + 0.5)
        ax.bar(pos, table[stat], width=width * 0.9, color=PALETTE[k % len(PALETTE)], label=stat)
        null = f"shuffled_{stat}_p95"
        if null in table:
            ax.hlines(table[null], pos - width * 0.45, pos + width * 0.45, color="#222222", lw=1.6,
                      label="shuffled labels, 95th pct" if k == 0 else None)
        if chance and stat in chance:
            ax.axhline(chance[stat], color=PALETTE[k % len(PALETTE)], ls=":", lw=1, label=f"chance, {stat}")
    ax.set_xticks(x, list(table.index))
    ax.set(title=title, ylabel=ylabel, xlabel=xlabel)
    ax.legend(frameon=True, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax
