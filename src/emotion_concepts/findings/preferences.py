"""Finding 5: what the model prefers to do tracks its emotion vectors, and steering them moves
the preference (chapter 07).

The steps: load the activities (``load_activities``); ask every unordered pair as a forced
choice in both orders (``pair_prompts``: "Which would you prefer to do? (A) ... (B) ...", the
reply prefilled with "("), read P(each activity) from the option letters' logits
(``pair_probabilities``) and fit one Bradley-Terry strength per activity to those continuous
outcomes (``win_matrix``, ``bradley_terry_elo``, with choix), shown on the Elo scale with
intervals from resampling the pairs (``elo_intervals``). Read each activity's emotion
activations while the model reads "How would you feel about {activity}?" (the mean over the
activity's own tokens, ``feel_prompts`` and ``span_mean_activations``) and correlate each emotion
with Elo over activities against a permutation null (``elo_correlations``). Then steer: split the
activities in halves by category (``split_halves``), pit each steered-half activity against a
few fixed unsteered-half opponents (``steering_pairs``), add a vector on the steered activity's
tokens only (``span_edits``) and measure the change of the steered half's Elo relative to the
unsteered half (``steering_deltas``), against random directions of the same norm on the same
tokens; across emotions, correlate each vector's Elo change with its correlation
(``steer_vs_correlation``)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..corpus.stories import emotions
from ..errors import DataError, ParameterError
from ..models.loading import LoadedModel
from ..paths import data_dir
from ..readout.tokens import span_reads, token_spans, tokens_in_span
from ..steering.edits import Steer
from ..steering.measures import LETTERS, ChoiceItem, choice_prompts, option_probabilities, random_conditions
from .base import Chapter, Claim, Param
from .emotion_vectors import SettledVectors

QUESTION = "Which would you prefer to do?"
FEEL = "How would you feel about {gerund}?"
ELO_SCALE = 400 / math.log(10)  # Elo points per unit of Bradley-Terry log-strength
ELO_MEAN = 1500.0  # the mean Elo over the rated activities (Elo fixes only differences)
BT_ALPHA = 1e-3  # choix's regularisation: keeps the fit finite if an activity wins every comparison
PAPER_EMOTIONS = ("blissful", "hostile")  # the two vectors the paper reports


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Activity:
    """Something the model could do: ``activity`` completes "Would you prefer to ...",
    ``gerund`` completes "How would you feel about ..."."""

    id: str
    category: str
    activity: str
    gerund: str


def activities_path() -> Path:
    return data_dir() / "preferences" / "activities.jsonl"


def load_activities(per_category: int | None = None, path: Path | None = None) -> list[Activity]:
    """The activities in file order; with ``per_category``, the first that many of each category.
    Raises ``DataError`` for a missing file or a row lacking a field."""
    path = path or activities_path()
    if not path.exists():
        raise DataError(f"no activities file at {path}")
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append(Activity(*(str(row[f]) for f in ("id", "category", "activity", "gerund"))))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"{path}:{n}: not an activity row ({type(exc).__name__}: {exc})") from exc
    if len({a.id for a in rows}) != len(rows):
        raise DataError(f"{path}: activity ids are not unique")
    if per_category is None:
        return rows
    if per_category < 1:
        raise ParameterError(f"per_category must be >= 1, got {per_category}")
    seen: dict[str, int] = {}
    out = []
    for a in rows:
        seen[a.category] = seen.get(a.category, 0) + 1
        if seen[a.category] <= per_category:
            out.append(a)
    return out


def categories(activities: Sequence[Activity]) -> list[str]:
    """The categories in order of first appearance."""
    return list(dict.fromkeys(a.category for a in activities))


def chapter_vectors(model: LoadedModel, *, layer: int | None = None, emotion_subset: Sequence[str] | None = None,
                    n_neutral: int = 0, seed: int = 0, batch_size: int = 8) -> SettledVectors:
    """The book's vectors (``settled_vectors``: chapter 01's recipe) for all emotions or a subset.
    For a subset that holds the paper's two emotions and others, the two emotions' stories are
    read apart from the rest: the same vectors (built from the same stories with the same
    recipe), but a subset that adds them to another chapter's subset reuses that chapter's cached
    activations (the cache is keyed by the whole list of texts read together)."""
    from ..corpus.neutral import load_neutral, sample_neutral
    from ..corpus.stories import load_stories, split_indices
    from .emotion_vectors import book_vectors, neutral_activations, settled_recipe, settled_vectors, story_activations

    chosen = list(emotion_subset or [])
    own = [e for e in chosen if e not in PAPER_EMOTIONS]
    extra = [e for e in PAPER_EMOTIONS if e in chosen]
    if not own or not extra:
        return settled_vectors(model, layer=layer, emotions=chosen or None, n_neutral=n_neutral, seed=seed,
                               batch_size=batch_size)
    recipe, source = settled_recipe(model, layer)
    groups = [load_stories(emotions_subset=own), load_stories(emotions_subset=extra)]
    stories = [s for group in groups for s in group]
    acts = torch.cat([story_activations(model, group, [recipe.layer], batch_size=batch_size)[recipe.layer]
                      for group in groups])
    names = [e for e in emotions() if e in set(chosen)]
    dialogues = sample_neutral(load_neutral(), n_neutral, seed)
    neutral = neutral_activations(model, dialogues, [recipe.layer], batch_size=batch_size)[recipe.layer]
    vectors = book_vectors(model, stories, acts, neutral, names, recipe,
                           params={"start_token": 49, "recipe_source": source})
    train, _ = split_indices(stories)
    return SettledVectors(vectors, recipe, source, acts[train].float().mean(0), neutral.float().mean(0))


# ---------------------------------------------------------------- token spans


def text_token_span(model: LoadedModel, text: str, char_start: int, char_end: int) -> tuple[int, int]:
    """(start, end) real-token indices of the tokens of ``text`` overlapping the characters
    [char_start, char_end), as every read tokenizes it (the indices ``Steer`` takes)."""
    _, spans = token_spans(model, text)
    inside = tokens_in_span(spans, char_start, char_end)
    if not inside:
        raise DataError(f"no token covers characters {char_start}-{char_end} of the prompt")
    return inside[0], inside[-1] + 1


# ---------------------------------------------------------------- forced choices


@dataclass(frozen=True)
class PairPrompt:
    """One forced choice between activities ``i`` and ``j`` (indices into the activity list):
    ``first`` is the one shown as (A); ``spans[k]`` the (start, end) token span of activity k's
    text in the prompt."""

    i: int
    j: int
    first: int
    text: str
    spans: Mapping[int, tuple[int, int]] = field(repr=False)


def all_pairs(n: int) -> list[tuple[int, int]]:
    """Every unordered pair (i < j) of ``n`` items."""
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def pair_prompts(model: LoadedModel, activities: Sequence[Activity],
                 pairs: Sequence[tuple[int, int]]) -> list[PairPrompt]:
    """Each pair in both orders (two rotations of the options), chat-rendered with the reply
    prefilled with "(", with each activity's token span."""
    items = [ChoiceItem(f"{i}-{j}", QUESTION, {"x": activities[i].activity, "y": activities[j].activity})
             for i, j in pairs]
    out = []
    for p in choice_prompts(model, items, n_rotations=2):
        i, j = (int(k) for k in p.item.split("-"))
        index = {"x": i, "y": j}
        spans = {}
        for pos, key in enumerate(p.order):
            label = f"({LETTERS[pos]}) "
            start = p.text.rindex(f"{label}{activities[index[key]].activity}\n") + len(label)
            spans[index[key]] = text_token_span(model, p.text, start, start + len(activities[index[key]].activity))
        out.append(PairPrompt(i, j, index[p.order[0]], p.text, spans))
    return out


def pair_probabilities(model: LoadedModel, prompts: Sequence[PairPrompt],
                       edits: Sequence[Sequence[Steer]] | None = None, *, batch_size: int = 16,
                       progress: bool | str = False) -> pd.DataFrame:
    """One row per prompt: i, j, first, p_i (the probability of choosing activity i, from the
    letter logits renormalised over A and B) and letter_mass (the probability of A or B at all)."""
    from ..steering.measures import ChoicePrompt

    as_choice = [ChoicePrompt(f"{p.i}-{p.j}", ("x", "y") if p.first == p.i else ("y", "x"), p.text) for p in prompts]
    result = option_probabilities(model, as_choice, edits, batch_size=batch_size, progress=progress)
    return pd.DataFrame({"i": [p.i for p in prompts], "j": [p.j for p in prompts], "first": [p.first for p in prompts],
                         "p_i": result.probs[:, result.keys.index("x")].numpy().astype(float),
                         "letter_mass": result.letter_mass.numpy().astype(float)})


# ---------------------------------------------------------------- Bradley-Terry and Elo


def win_matrix(outcomes: pd.DataFrame, n: int) -> np.ndarray:
    """[n, n] soft win counts: ``W[i, j]`` sums P(i chosen over j) over the prompts pitting them."""
    w = np.zeros((n, n))
    i, j, p = outcomes.i.to_numpy(int), outcomes.j.to_numpy(int), outcomes.p_i.to_numpy(float)
    np.add.at(w, (i, j), p)
    np.add.at(w, (j, i), 1.0 - p)
    return w


def bradley_terry_elo(wins: np.ndarray, alpha: float = BT_ALPHA) -> np.ndarray:
    """[n] Elo ratings: the Bradley-Terry maximum-likelihood log-strengths of the soft win counts
    (choix's iterative Luce spectral ranking), times 400/ln 10, with mean ``ELO_MEAN``. An
    Elo difference d means P(win) = 1 / (1 + 10^(-d/400))."""
    import choix

    theta = choix.ilsr_pairwise_dense(np.asarray(wins, dtype=float), alpha=alpha, max_iter=1000)
    return ELO_MEAN + ELO_SCALE * (theta - theta.mean())


def elo_from_outcomes(outcomes: pd.DataFrame, n: int) -> np.ndarray:
    return bradley_terry_elo(win_matrix(outcomes, n))


def elo_intervals(outcomes: pd.DataFrame, n: int, *, n_resamples: int = 200, confidence: float = 0.95,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap intervals of each activity's Elo, resampling the pairs (both orders
    of a pair together) with replacement (``scipy.stats.bootstrap``)."""
    from scipy.stats import bootstrap

    pair_of = outcomes.groupby(["i", "j"], sort=False).ngroup().to_numpy()
    rows_of = [np.flatnonzero(pair_of == k) for k in range(pair_of.max() + 1)]
    i, j, p = outcomes.i.to_numpy(int), outcomes.j.to_numpy(int), outcomes.p_i.to_numpy(float)

    def statistic(pairs: np.ndarray) -> np.ndarray:
        rows = np.concatenate([rows_of[int(k)] for k in pairs])
        w = np.zeros((n, n))
        np.add.at(w, (i[rows], j[rows]), p[rows])
        np.add.at(w, (j[rows], i[rows]), 1.0 - p[rows])
        return bradley_terry_elo(w)

    res = bootstrap((np.arange(len(rows_of)),), statistic, n_resamples=n_resamples, confidence_level=confidence,
                    method="percentile", vectorized=False, rng=np.random.default_rng(seed))
    return np.asarray(res.confidence_interval.low), np.asarray(res.confidence_interval.high)


def elo_table(activities: Sequence[Activity], elo: np.ndarray, lo: np.ndarray | None = None,
              hi: np.ndarray | None = None) -> pd.DataFrame:
    """Activities with their Elo (and interval), best first."""
    frame = pd.DataFrame({"id": [a.id for a in activities], "category": [a.category for a in activities],
                          "activity": [a.activity for a in activities], "elo": elo})
    if lo is not None and hi is not None:
        frame["elo_lo"], frame["elo_hi"] = lo, hi
    return frame.sort_values("elo", ascending=False).reset_index(drop=True)


def order_agreement(outcomes: pd.DataFrame) -> dict[str, float]:
    """How much the answer depends on the option order: the mean P(A) over all prompts (0.5: no
    letter bias), and the share of pairs whose preferred activity is the same in both orders."""
    p_a = np.where(outcomes["first"] == outcomes.i, outcomes.p_i, 1 - outcomes.p_i)
    both = outcomes.assign(win=outcomes.p_i > 0.5).groupby(["i", "j"]).win.agg(["min", "max"])
    return {"mean_p_a": float(p_a.mean()), "order_consistency": float((both["min"] == both["max"]).mean())}


# ---------------------------------------------------------------- what the model feels reading an activity


def feel_prompts(model: LoadedModel, activities: Sequence[Activity]) -> tuple[list[str], list[tuple[int, int]]]:
    """Each activity as the user message "How would you feel about {gerund}?" in the chat
    template, and the character span of the gerund phrase in it."""
    texts, spans = [], []
    for a in activities:
        text = model.chat(FEEL.format(gerund=a.gerund))
        start = text.rindex(a.gerund)
        texts.append(text)
        spans.append((start, start + len(a.gerund)))
    return texts, spans


def span_mean_activations(model: LoadedModel, texts: Sequence[str], spans: Sequence[tuple[int, int]],
                          layers: Sequence[int], *, batch_size: int = 8) -> dict[int, torch.Tensor]:
    """{layer: [n, d]} each text's residual stream after block ``layer``, averaged over the tokens
    overlapping its character span (``readout.tokens.span_reads``, cached)."""
    if len(texts) != len(spans):
        raise ParameterError(f"{len(texts)} texts but {len(spans)} spans")
    reads = span_reads(model, list(texts), [[(a, b, "mean")] for a, b in spans], layers, batch_size=batch_size)
    return {layer: value[:, 0] for layer, value in reads.items()}


def elo_correlations(scores: np.ndarray, emotion_names: Sequence[str], elo: np.ndarray, *,
                     n_permutations: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Per emotion, Pearson r over activities between its score and Elo, with the 5th and 95th
    percentiles of r when Elo is permuted over activities (``scipy.stats.permutation_test``) and
    the two-sided permutation p-value. Sorted by r, highest first."""
    from scipy.stats import pearsonr, permutation_test

    scores = np.asarray(scores, dtype=float)
    elo = np.asarray(elo, dtype=float)
    if scores.shape != (len(elo), len(emotion_names)):
        raise ParameterError(f"scores of shape {scores.shape} for {len(elo)} activities and "
                             f"{len(emotion_names)} emotions")

    def statistic(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
        return pearsonr(x, y, axis=axis).statistic

    rows = []
    for k, name in enumerate(emotion_names):
        res = permutation_test((scores[:, k], elo), statistic, permutation_type="pairings", vectorized=True,
                               n_resamples=n_permutations, rng=np.random.default_rng(seed))
        lo, hi = np.percentile(res.null_distribution, [5, 95])
        rows.append({"emotion": name, "r": float(res.statistic), "null_p05": float(lo), "null_p95": float(hi),
                     "p": float(res.pvalue)})
    return pd.DataFrame(rows).sort_values("r", ascending=False).reset_index(drop=True)


# ---------------------------------------------------------------- steering half the activities


def split_halves(activities: Sequence[Activity], seed: int = 0) -> tuple[list[int], list[int]]:
    """(steered, unsteered) activity indices: within each category, a seeded shuffle, the first
    half steered (the larger half unsteered when a category has an odd count)."""
    rng = np.random.default_rng(seed)
    steered, unsteered = [], []
    for cat in categories(activities):
        members = [k for k, a in enumerate(activities) if a.category == cat]
        members = [members[k] for k in rng.permutation(len(members))]
        steered += sorted(members[:len(members) // 2])
        unsteered += sorted(members[len(members) // 2:])
    if not steered:
        raise ParameterError("every category has one activity: no half to steer")
    return sorted(steered), sorted(unsteered)


def steering_pairs(steered: Sequence[int], unsteered: Sequence[int], n_opponents: int,
                   seed: int = 0) -> list[tuple[int, int]]:
    """Each steered activity against ``n_opponents`` unsteered ones: consecutive entries (cyclic)
    of a seeded shuffle of the unsteered half, starting at the steered activity's position, so
    every unsteered activity is used about equally often and the comparison graph is connected
    (for ``n_opponents`` >= 2). Pairs are (min, max) index."""
    if not 2 <= n_opponents <= len(unsteered):
        raise ParameterError(f"n_opponents must be between 2 and {len(unsteered)} (the unsteered half), "
                             f"got {n_opponents}")
    shuffled = [unsteered[k] for k in np.random.default_rng(seed).permutation(len(unsteered))]
    pairs = []
    for pos, s in enumerate(steered):
        for step in range(n_opponents):
            u = shuffled[(pos + step) % len(shuffled)]
            pairs.append((min(s, u), max(s, u)))
    return pairs


@dataclass(frozen=True)
class Direction:
    """A direction to steer with: an emotion vector or a random control, per layer."""

    label: str
    kind: str  # "emotion" or "random"
    vectors: Mapping[int, torch.Tensor] = field(repr=False)


def random_directions(n: int, layers: Sequence[int], d_model: int, seed: int) -> list[Direction]:
    """``n`` random Gaussian directions (a fresh one per layer), drawn as the book's causal
    chapters draw them (``steering.measures.random_conditions``)."""
    conds = random_conditions(n, layers, d_model, 1.0, {L: 1.0 for L in layers}, seed=seed)
    return [Direction(c.label, "random", {e.layer: e.direction for e in c.edits}) for c in conds]


def span_edits(prompt: PairPrompt, steered: set[int], direction: Direction, strength: float,
               norms: Mapping[int, float]) -> tuple[Steer, ...]:
    """The edits of one prompt: ``direction`` added (strength x the layer's norm) on the tokens
    of each of its activities that belongs to the steered half, at every layer of the direction."""
    return tuple(Steer(L, v, strength, norms[L], positions="prompt", start=prompt.spans[k][0], end=prompt.spans[k][1],
                       label=direction.label)
                 for k in (prompt.i, prompt.j) if k in steered for L, v in sorted(direction.vectors.items()))


@dataclass(frozen=True)
class SteerCondition:
    direction: Direction
    strength: float


def steering_runs(model: LoadedModel, prompts: Sequence[PairPrompt], steered: Sequence[int],
                  conditions: Sequence[SteerCondition], norms: Mapping[int, float], *, batch_size: int = 16,
                  progress: bool | str = False) -> pd.DataFrame:
    """Every prompt unsteered and under every condition, in one batched run: one row per
    (condition, prompt) with label, kind, strength, layers and ``pair_probabilities``' columns.
    The unsteered rows have label "baseline"."""
    steered_set = set(steered)
    rows_prompts, rows_edits, meta = [], [], []
    for c in [None, *conditions]:
        for p in prompts:
            rows_prompts.append(p)
            if c is None:
                rows_edits.append(())
                meta.append(("baseline", "baseline", 0.0, ""))
            else:
                rows_edits.append(span_edits(p, steered_set, c.direction, c.strength, norms))
                meta.append((c.direction.label, c.direction.kind, float(c.strength),
                             ",".join(map(str, sorted(c.direction.vectors)))))
    result = pair_probabilities(model, rows_prompts, rows_edits, batch_size=batch_size, progress=progress)
    return pd.concat([pd.DataFrame(meta, columns=["label", "kind", "strength", "layers"]), result], axis=1)


def half_gap(elo: np.ndarray, steered: Sequence[int], unsteered: Sequence[int]) -> float:
    """Mean Elo of the steered half minus that of the unsteered half."""
    return float(np.mean(elo[list(steered)]) - np.mean(elo[list(unsteered)]))


def steering_deltas(runs: pd.DataFrame, n: int, steered: Sequence[int], unsteered: Sequence[int]) -> pd.DataFrame:
    """Per condition: the steered half's Elo change, with the unsteered half's mean Elo held at
    its unsteered value (Elo fixes only differences): the gap between the halves under the
    condition minus the gap unsteered, each from a Bradley-Terry fit to the same pairs. Also the
    mean letter mass (does the model still answer with a letter?)."""
    base = runs[runs.label == "baseline"]
    base_gap = half_gap(elo_from_outcomes(base, n), steered, unsteered)
    rows = []
    for (label, kind, strength, layers), group in runs[runs.label != "baseline"].groupby(
            ["label", "kind", "strength", "layers"], sort=False):
        gap = half_gap(elo_from_outcomes(group, n), steered, unsteered)
        rows.append({"label": label, "kind": kind, "strength": strength, "layers": layers, "delta_elo": gap - base_gap,
                     "letter_mass": float(group.letter_mass.mean())})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class RandomNull:
    """The Elo changes of random directions: ``p95_abs`` is the 95th percentile of |delta|."""

    deltas: np.ndarray
    mean: float
    sd: float
    p95_abs: float
    lo: float  # 2.5th percentile
    hi: float  # 97.5th percentile

    def z(self, effect: float) -> float:
        return (effect - self.mean) / self.sd if self.sd > 0 else float("nan")


def random_null(deltas: Sequence[float]) -> RandomNull:
    d = np.asarray(deltas, dtype=float)
    if d.size < 2:
        raise ParameterError("the random-direction control needs at least 2 random directions")
    lo, hi = np.percentile(d, [2.5, 97.5])
    return RandomNull(d, float(d.mean()), float(d.std(ddof=1)), float(np.percentile(np.abs(d), 95)), float(lo),
                      float(hi))


def steer_vs_correlation(deltas: pd.Series, correlations: pd.Series, *, n_permutations: int = 1000,
                         seed: int = 0) -> dict[str, float]:
    """Pearson r over emotions between each vector's Elo change and its correlation with Elo,
    with the 95th percentile of r when the changes are permuted over emotions and the one-sided
    permutation p-value (``scipy.stats.permutation_test``)."""
    from scipy.stats import pearsonr, permutation_test

    names = [e for e in deltas.index if e in correlations.index]
    if len(names) < 3:
        raise ParameterError(f"need at least 3 steered emotions with a correlation, got {len(names)}")
    x = deltas.loc[names].to_numpy(float)
    y = correlations.loc[names].to_numpy(float)

    def statistic(a: np.ndarray, b: np.ndarray, axis: int) -> np.ndarray:
        return pearsonr(a, b, axis=axis).statistic

    res = permutation_test((x, y), statistic, permutation_type="pairings", vectorized=True, alternative="greater",
                           n_resamples=n_permutations, rng=np.random.default_rng(seed))
    return {"r": float(res.statistic), "null_p95": float(np.percentile(res.null_distribution, 95)),
            "p": float(res.pvalue), "n": len(names)}


def steer_emotion_choice(correlations: pd.DataFrame, n_steer: int,
                         always: Sequence[str] = PAPER_EMOTIONS) -> list[str]:
    """The emotions to steer with: ``always`` plus emotions evenly spaced over the ranking by
    correlation with Elo (so the steered set spans strongly negative to strongly positive),
    ``n_steer`` in all (or every emotion when there are fewer)."""
    ranked = list(correlations.sort_values("r", ascending=False).emotion)
    chosen = [e for e in always if e in ranked]
    rest = [e for e in ranked if e not in chosen]
    k = max(0, min(n_steer - len(chosen), len(rest)))
    if k:
        picks = np.unique(np.round(np.linspace(0, len(rest) - 1, k)).astype(int))
        chosen += [rest[p] for p in picks]
    return [e for e in ranked if e in chosen]


# ---------------------------------------------------------------- the chapter


def _note_corr(m: dict) -> str:
    return f"{m['n_activities']} activities, layer {m['layer']}"


def _note_steer(m: dict) -> str:
    return (f"s = {m['strength']}, {m['n_random']} random directions, "
            f"{m['n_steer_pairs']} steered-vs-unsteered pairs")


CHAPTER = Chapter(
    id="07-preferences",
    title="Preferences",
    params={
        "layer": Param(layer=True),
        "emotions": Param(choices=emotions),
        "n_neutral": Param(min=0),
        "per_category": Param(min=1, max=8),
        "strength": Param(min=-5.0, max=5.0),
        "n_steer": Param(min=3),
        "n_opponents": Param(min=2),
        "n_random": Param(min=2),
        "n_bootstrap": Param(min=10),
        "n_permutations": Param(min=10),
        "curve_strengths": Param(min=-5.0, max=5.0),
        "curve_random": Param(min=0),
        "sweep_step": Param(min=0),
        "sweep_random": Param(min=0),
        "batch_size": Param(min=1, max=256),
        "seed": Param(min=0),
    },
    metrics=("n_activities", "n_categories", "n_pairs_rated", "layer", "strength", "residual_norm", "letter_mass",
             "mean_p_a", "order_consistency", "elo_min", "elo_max", "elo_ci_width_mean", "r_blissful_p",
             "r_hostile_p", "top_positive_emotion", "top_positive_r", "top_negative_emotion", "top_negative_r",
             "n_emotions", "n_steer_emotions", "n_steer_pairs", "n_random", "z_blissful", "z_hostile",
             "random_delta_elo_mean", "random_delta_elo_sd", "steer_letter_mass_min", "r_steer_vs_corr_p",
             "n_traces"),
    claims=(
        Claim("Blissful activation while reading an activity correlates with its Elo", "r = 0.71", "r_blissful_elo",
              "r_blissful_null_p95", "Elo permuted over activities, 95th pct", note=_note_corr),
        Claim("Hostile activation correlates negatively with Elo", "r = -0.74", "r_hostile_elo", "r_hostile_null_p05",
              "Elo permuted over activities, 5th pct", sense="less", note=_note_corr),
        Claim("Steering the activity's tokens with blissful raises its Elo", "+212 Elo (s = 0.5)",
              "delta_elo_blissful", "random_delta_elo_p95", "random directions, 95th pct of |Elo change|",
              fmt=".0f", note=_note_steer),
        Claim("Steering with hostile lowers it", "-303 Elo (s = 0.5)", "delta_elo_hostile",
              "random_delta_elo_neg_p95", "minus the random directions' 95th pct of |Elo change|", sense="less",
              fmt=".0f", note=_note_steer),
        Claim("Across vectors, the Elo change tracks the vector's correlation with Elo", "r = 0.85 (35 vectors)",
              "r_steer_vs_corr", "r_steer_vs_corr_null_p95", "changes permuted over emotions, 95th pct",
              note=lambda m: f"{m['n_steer_emotions']} vectors"),
    ),
    quick={"emotions": ["happy", "sad", "afraid", "angry", "calm", "desperate", "disgusted", "proud", "ashamed",
                        "loving", "bored", "content", "blissful", "hostile"],
           "n_neutral": 48, "per_category": 2, "n_opponents": 2, "n_random": 6, "n_bootstrap": 50,
           "n_permutations": 200, "curve_strengths": [], "sweep_step": 0},
)

