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


def accuracy_by_layer(by_layer, *, chosen_layer: int, n_classes: int, ax=None):
    """Held-out top-1/top-5 per layer (a DataFrame indexed by layer with columns top1, top5 and
    optional shuffled_top1_p95, shuffled_top5_p95), with chance lines and the chosen layer."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.6))
    for col, color, k in (("top1", PALETTE[0], 1), ("top5", PALETTE[1], 5)):
        ax.plot(by_layer.index, by_layer[col], marker="o", color=color, label=f"top-{k}")
        null = f"shuffled_top{k}_p95"
        if null in by_layer:
            ax.plot(by_layer.index, by_layer[null], ls=":", color=color, label=f"shuffled labels, top-{k} (95th pct)")
        ax.axhline(min(k, n_classes) / n_classes, color=color, ls="--", lw=0.9, alpha=0.7, label=f"chance, top-{k}")
    ax.axvline(chosen_layer, color="#6b6b6b", lw=0.8)
    ax.annotate(f"chapter's layer ({chosen_layer})", (chosen_layer, ax.get_ylim()[1]), ha="left", va="top",
                fontsize=8, xytext=(3, -2), textcoords="offset points", color="#444444")
    ax.set(xlabel="layer", ylabel="held-out accuracy", title="Held-out accuracy by layer")
    ax.legend(frameon=True, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax
