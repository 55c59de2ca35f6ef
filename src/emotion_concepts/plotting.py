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


def bar_with_controls(values: dict[str, float], controls: dict[str, float], *, title: str,
                      ylabel: str, ax=None):
    """Bars for measured values, with horizontal lines for chance/null levels."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    names = list(values)
    ax.bar(names, [values[k] for k in names], color=PALETTE[: len(names)])
    styles = ["--", ":", "-."]
    for i, (label, level) in enumerate(controls.items()):
        ax.axhline(level, color="#444444", linestyle=styles[i % 3], linewidth=1.2, label=label)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=8)
    return ax
