"""Finding 2: user messages that imply an emotion without naming it activate that emotion's
vector (chapter 03).

The steps: load the scenarios (``load_scenarios``: each message with a neutralised twin in
which the emotional fact is swapped for a neutral one); render each in the model's chat
template and read the residual stream where the Assistant's first token is predicted (the
last token of the Assistant header, ``assistant_prompts``) and, for comparison, at the user's
last token (``user_last_prompts``); score the emotional and neutralised messages together
against the book's vectors (``score_sets``); rank each message's intended emotion among all
vectors (``intended_ranks``) and measure the scenario x intended-emotion diagonal
(``diagonal_gap``), each against a null that permutes the intended labels across messages
(``label_permutation_test``) and against the neutralised twins."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..corpus.neutral import load_neutral, sample_neutral
from ..corpus.stories import emotions, load_stories
from ..errors import DataError, ParameterError
from ..models.loading import LoadedModel, format_chat
from ..paths import data_dir
from ..readout.activations import residuals_at
from ..readout.scoring import chance_topk
from .base import Chapter, Claim, Param
from .emotion_vectors import REFERENCES, SettledVectors, neutral_activations, settled_vectors, story_activations

TOP_K = 5
POSITIONS = ("assistant", "user")  # where a message is read: the Assistant's first token, the user's last


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Scenario:
    """A user message implying ``intended`` without naming it, and its neutralised twin (the
    same message with ``emotional_fact`` replaced by ``neutral_fact``)."""

    id: str
    intended: str
    message: str
    neutralised: str
    emotional_fact: str
    neutral_fact: str


def scenarios_path() -> Path:
    return data_dir() / "scenarios" / "implicit.jsonl"


def load_scenarios(path: Path | None = None) -> list[Scenario]:
    """The implicit scenarios, in file order. Raises ``DataError`` for a missing file, a row
    lacking a field, an unknown emotion or a twin that is not the message with its fact swapped."""
    path = path or scenarios_path()
    if not path.exists():
        raise DataError(f"no scenario file at {path}")
    known = set(emotions())
    fields = ("id", "intended", "message", "neutralised", "emotional_fact", "neutral_fact")
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            scenario = Scenario(**{f: str(row[f]) for f in fields})
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"{path}:{n}: not a scenario row ({type(exc).__name__}: {exc})") from exc
        if scenario.intended not in known:
            raise DataError(f"{path}:{n}: {scenario.intended!r} is not one of the 171 emotions")
        if scenario.message.replace(scenario.emotional_fact, scenario.neutral_fact) != scenario.neutralised:
            raise DataError(f"{path}:{n}: the neutralised message is not the message with its emotional fact swapped")
        out.append(scenario)
    if not out:
        raise DataError(f"{path} holds no scenarios")
    return out


def usable_scenarios(scenarios: Sequence[Scenario], emotion_names: Sequence[str]) -> list[Scenario]:
    """The scenarios whose intended emotion has a vector (a quick run builds only some vectors).
    Raises ``ParameterError`` when fewer than two intended emotions are left (no off-diagonal)."""
    names = set(emotion_names)
    kept = [s for s in scenarios if s.intended in names]
    if len({s.intended for s in kept}) < 2:
        raise ParameterError(f"only {len({s.intended for s in kept})} of the scenarios' intended emotions have a "
                             f"vector among the {len(names)} built; add emotions (or use all 171)")
    return kept


# ---------------------------------------------------------------- rendering and reading


def assistant_prompts(model: LoadedModel, messages: Sequence[str]) -> list[str]:
    """Each message as the user's turn in the model's chat template, with the generation prompt:
    the text ends with the Assistant header, whose last token is where the model predicts the
    Assistant's first token (the paper's 'Assistant:' colon). Read at position -1."""
    return [model.chat(message) for message in messages]


def user_last_prompts(model: LoadedModel, messages: Sequence[str]) -> list[str]:
    """The same rendered chats cut after the user's message: read at position -1, this is the
    user's last token (the model is causal, so what follows does not change it)."""
    out = []
    for message in messages:
        rendered = format_chat(model.tokenizer, [("user", message)])
        end = rendered.rfind(message)
        if end < 0:
            raise DataError(f"the chat template does not contain the message verbatim: {message[:60]!r}")
        out.append(rendered[:end + len(message)])
    return out


def position_prompts(model: LoadedModel, messages: Sequence[str], position: str) -> list[str]:
    if position == "assistant":
        return assistant_prompts(model, messages)
    if position == "user":
        return user_last_prompts(model, messages)
    raise ParameterError(f"position must be one of {', '.join(POSITIONS)}, got {position!r}")


def read_messages(model: LoadedModel, messages: Sequence[str], layers: Sequence[int], position: str, *,
                  batch_size: int = 8) -> dict[int, torch.Tensor]:
    """{layer: [n_messages, d]} residual stream at the read position (``position_prompts``)."""
    return residuals_at(model, position_prompts(model, messages, position), layers, position=-1,
                        batch_size=batch_size, progress=False)


def settled_vectors_by_layer(model: LoadedModel, layers: Sequence[int], *, emotions: Sequence[str] | None = None,
                             n_neutral: int = 0, seed: int = 0, batch_size: int = 8) -> dict[int, SettledVectors]:
    """The book's vectors (chapter 01's recipe) at each of ``layers``. The stories and neutral
    dialogues are read once for all layers (one pass, cached per layer), so building the vectors
    layer by layer then reads nothing again."""
    stories = load_stories(emotions_subset=list(emotions) if emotions else None)
    story_activations(model, stories, layers, batch_size=batch_size)
    neutral_activations(model, sample_neutral(load_neutral(), n_neutral, seed), layers, batch_size=batch_size)
    return {int(layer): settled_vectors(model, layer=int(layer), emotions=emotions, n_neutral=n_neutral, seed=seed,
                                        batch_size=batch_size) for layer in sorted(set(layers))}


# ---------------------------------------------------------------- scores and statistics


def score_sets(vectors: SettledVectors, emotional: torch.Tensor, neutralised: torch.Tensor,
               reference: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """([n, n_emotions], [n, n_emotions]) cosines of the emotional and the neutralised messages.
    Both sets are scored as one: with the 'own' reference the mean subtracted is that of all
    2n messages, so the control shares the result's reference."""
    scores = vectors.scores(torch.cat([emotional, neutralised]), reference).numpy()
    n = emotional.shape[0]
    return scores[:n], scores[n:]


def intended_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Rank (1 = highest) of each row's target column among all columns; ties count against
    the target (rank = 1 + number of columns scoring at least as high, other than the target)."""
    scores = np.asarray(scores)
    targets = np.asarray(targets, dtype=int)
    own = scores[np.arange(len(targets)), targets][:, None]
    return (scores >= own).sum(axis=1)  # the target itself, plus every other column at least as high


def top_k_rate(ranks: np.ndarray, k: int = TOP_K) -> float:
    return float(np.mean(np.asarray(ranks) <= k))


def diagonal_gap(scores: np.ndarray, targets: np.ndarray, columns: Sequence[int]) -> float:
    """The heatmap's diagonal against the rest: for each message, its intended emotion's score
    minus the mean score of the other intended emotions (``columns``: the intended emotions'
    column indices), averaged over messages."""
    block = np.asarray(scores)[:, list(columns)]
    where = {c: j for j, c in enumerate(columns)}
    own_j = np.array([where[int(t)] for t in targets])
    own = block[np.arange(len(own_j)), own_j]
    others = (block.sum(axis=1) - own) / (block.shape[1] - 1)
    return float(np.mean(own - others))


def summarise(emotional: np.ndarray, neutralised: np.ndarray, targets: np.ndarray, columns: Sequence[int],
              k: int = TOP_K) -> dict[str, float]:
    """The chapter's statistics for one read (a layer and a position)."""
    r_emo, r_neu = intended_ranks(emotional, targets), intended_ranks(neutralised, targets)
    return {"intended_top5_rate": top_k_rate(r_emo, k), "intended_mean_rank": float(r_emo.mean()),
            "neutralised_top5_rate": top_k_rate(r_neu, k), "neutralised_mean_rank": float(r_neu.mean()),
            "mean_diagonal_minus_offdiagonal": diagonal_gap(emotional, targets, columns),
            "neutralised_diagonal_minus_offdiagonal": diagonal_gap(neutralised, targets, columns)}


@dataclass
class PermutationResult:
    statistic: float
    p_value: float
    null: np.ndarray

    @property
    def null_p95(self) -> float:
        return float(np.quantile(self.null, 0.95))


def label_permutation_test(statistic: Callable[[np.ndarray], float], targets: np.ndarray, n_resamples: int,
                           seed: int) -> PermutationResult:
    """``statistic(targets)`` against its values with the intended labels permuted across
    messages (scipy's permutation test, one sample, 'pairings'), one-sided (greater)."""
    from scipy.stats import permutation_test

    if n_resamples < 1:
        raise ParameterError(f"n_resamples must be >= 1, got {n_resamples}")
    res = permutation_test((np.asarray(targets, dtype=int),), lambda t: statistic(t), permutation_type="pairings",
                           n_resamples=n_resamples, alternative="greater", vectorized=False,
                           rng=np.random.default_rng(seed))
    return PermutationResult(float(res.statistic), float(res.pvalue), np.asarray(res.null_distribution))


def paired_gain_test(emotional: np.ndarray, neutralised: np.ndarray, n_resamples: int, seed: int) -> PermutationResult:
    """Mean of (emotional - neutralised) intended-emotion scores over the pairs, against random
    swaps within each pair (scipy's permutation test, 'samples'), one-sided (greater)."""
    from scipy.stats import permutation_test

    res = permutation_test((np.asarray(emotional), np.asarray(neutralised)),
                           lambda x, y, axis: np.mean(x - y, axis=axis), permutation_type="samples",
                           n_resamples=n_resamples, alternative="greater", vectorized=True,
                           rng=np.random.default_rng(seed))
    return PermutationResult(float(res.statistic), float(res.pvalue), np.asarray(res.null_distribution))


def mean_rank_chance(n_emotions: int) -> float:
    """Expected rank of a class under a uniformly random ranking of ``n_emotions``."""
    return (n_emotions + 1) / 2


def top5_chance(n_emotions: int) -> float:
    return chance_topk(n_emotions, TOP_K)


# ---------------------------------------------------------------- tables


def intended_columns(scenarios: Sequence[Scenario], emotion_names: Sequence[str]) -> list[int]:
    """Column index of each distinct intended emotion, in order of first appearance."""
    seen = list(dict.fromkeys(s.intended for s in scenarios))
    return [list(emotion_names).index(e) for e in seen]


def target_indices(scenarios: Sequence[Scenario], emotion_names: Sequence[str]) -> np.ndarray:
    names = list(emotion_names)
    return np.array([names.index(s.intended) for s in scenarios])


def rank_table(scenarios: Sequence[Scenario], emotion_names: Sequence[str], emotional: np.ndarray,
               neutralised: np.ndarray, n_top: int = 3) -> pd.DataFrame:
    """Per scenario: the intended emotion, its rank in the emotional and the neutralised
    message, and the emotions scoring highest on the emotional message."""
    targets = target_indices(scenarios, emotion_names)
    r_emo, r_neu = intended_ranks(emotional, targets), intended_ranks(neutralised, targets)
    names = np.array(emotion_names)
    top = [", ".join(names[np.argsort(-row)[:n_top]]) for row in emotional]
    return pd.DataFrame({"intended": [s.intended for s in scenarios], "rank": r_emo, "rank_neutralised": r_neu,
                         "top": top}, index=[s.id for s in scenarios])


def mean_top_emotions(emotional: np.ndarray, emotion_names: Sequence[str], n: int = 10) -> pd.Series:
    """The emotions with the highest mean score over all the emotional messages (the paper saw
    'loving' rise in every scenario)."""
    return pd.Series(np.asarray(emotional).mean(0), index=list(emotion_names)).sort_values(ascending=False).head(n)


# ---------------------------------------------------------------- the chapter

CHAPTER = Chapter(
    id="03-implicit-scenarios",
    title="Implicit scenarios",
    params={
        "layer": Param(layer=True),
        "reference": Param(choices=("settled", *REFERENCES)),
        "emotions": Param(choices=emotions),
        "n_neutral": Param(min=0),
        "batch_size": Param(min=1, max=256),
        "sweep_step": Param(min=0),
        "n_permutations": Param(min=1),
        "seed": Param(min=0),
    },
    metrics=("n_scenarios", "n_intended_emotions", "n_emotions", "layer", "reference", "chance_top5",
             "chance_mean_rank", "intended_mean_rank", "neutralised_mean_rank", "top5_null_p95", "top5_p_value",
             "diagonal_gap_p_value", "neutralised_diagonal_minus_offdiagonal", "paired_gain", "paired_gain_p_value",
             "user_intended_mean_rank", "user_neutralised_top5_rate", "user_mean_diagonal_minus_offdiagonal",
             "best_layer_intended_top5", "best_layer_intended_top5_value"),
    claims=(
        Claim("Messages implying an emotion: the intended emotion is among the 5 highest vectors (Assistant's first "
              "token)", "12 prompts: a strong diagonal in the scenario x emotion heatmap (fig)", "intended_top5_rate",
              "neutralised_top5_rate", "same messages, emotional fact neutralised",
              note=lambda m: f"{m['n_scenarios']} messages, {m['n_emotions']}-way, chance {m['chance_top5']:.3f}"),
        Claim("Scenario x emotion heatmap: intended emotion minus the other intended emotions",
              "a strong diagonal; 'loving' rises in all (fig)",
              "mean_diagonal_minus_offdiagonal", "diagonal_gap_null_p95", "intended labels permuted, 95th pct",
              note=lambda m: f"p = {m['diagonal_gap_p_value']:.3g}; layer {m['layer']}"),
        Claim("Intended emotion in the top 5, against permuted labels", "-", "intended_top5_rate", "top5_null_p95",
              "intended labels permuted, 95th pct", note=lambda m: f"p = {m['top5_p_value']:.3g}"),
        Claim("At the user's last token (for comparison): intended emotion in the top 5", "-",
              "user_intended_top5_rate",
              note=lambda m: f"neutralised {m['user_neutralised_top5_rate']:.3f}; at the Assistant's first token "
                             f"{m['intended_top5_rate']:.3f}"),
    ),
    quick={"emotions": ["happy", "sad", "afraid", "angry", "calm", "desperate", "disgusted", "proud",
                        "ashamed", "loving", "bored", "content"],
           "n_neutral": 48, "sweep_step": 10, "n_permutations": 200},
)
