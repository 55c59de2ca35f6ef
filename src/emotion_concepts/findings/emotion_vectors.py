"""Finding 1: emotion vectors exist and track the emotion of a text (chapter 01).

The steps: read the corpus's and the neutral dialogues' activations; build vectors with the
paper's recipe from some texts and score others (``evaluate_fold``): leave one voice out, voice
by voice, same voice; choose the recipe (layer, reference mean, style removal) on validation
texts (``recipe_grid``, ``choose_recipe``); build the book's vectors (``book_vectors``); read
them through the logit lens. Every accuracy comes with the same statistic under shuffled
training labels (``readout.scoring.relabelled_null``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..corpus.neutral import Dialogue, format_dialogue
from ..corpus.stories import Story, corpus_hash, emotions, split_indices
from ..corpus.voices import VOICES
from ..models.loading import LoadedModel
from ..readout.activations import residual_means
from ..readout.scoring import (
    confusion,
    cosine_matrix,
    group_accuracy,
    group_chance,
    kmeans_groups,
    label_indices,
    relabelled_null,
    topk_accuracy,
)
from ..readout.vectors import EmotionVectors
from .base import Chapter, Claim, Param

N_CLUSTERS = 10  # the paper's k-means k

# ---------------------------------------------------------------- steps


def story_activations(model: LoadedModel, stories: Sequence[Story], layers: Sequence[int], *,
                      start_token: int = 49, batch_size: int = 8) -> dict[int, torch.Tensor]:
    """{layer: [n_stories, d]} mean residual stream of each story from token index ``start_token`` on."""
    return residual_means(model, [s.text for s in stories], layers, start_token=start_token,
                          batch_size=batch_size, progress="stories")


def neutral_activations(model: LoadedModel, dialogues: Sequence[Dialogue], layers: Sequence[int], *,
                        start_token: int = 1, batch_size: int = 8) -> dict[int, torch.Tensor]:
    """{layer: [n_dialogues, d]} mean residual stream of each neutral dialogue, rendered in the
    model's chat template."""
    texts = [format_dialogue(model.tokenizer, d) for d in dialogues]
    return residual_means(model, texts, layers, start_token=start_token, batch_size=batch_size,
                          progress="neutral dialogues")


def heldout_statistic(test_acts: torch.Tensor, targets: torch.Tensor, reference: torch.Tensor,
                      cluster_k: int | None, seed: int) -> Callable[[torch.Tensor], dict[str, float]]:
    """The held-out statistics of a set of vectors: top-1, top-5 and, unless ``cluster_k`` is None,
    cluster-level top-1 (clusters found by k-means on those same vectors). One function, applied
    to the real vectors and to every relabelled null, so the null is the null of the statistic
    reported."""

    def statistic(vectors: torch.Tensor) -> dict[str, float]:
        scores = cosine_matrix(test_acts, vectors, reference)
        out = {"top1": topk_accuracy(scores, targets, 1), "top5": topk_accuracy(scores, targets, 5)}
        if cluster_k is not None:
            groups = kmeans_groups(vectors, cluster_k, seed)
            out["cluster_top1"] = group_accuracy(scores, targets, groups)
            out["cluster_chance"] = group_chance(targets, groups)
        return out

    return statistic


def sweep_layers(n_layers: int, layer: int, step: int) -> list[int]:
    """The chapter's layer plus every ``step``-th layer (none when ``step`` is 0)."""
    return sorted({layer, *(range(step - 1, n_layers, step) if step else [])})


# ---------------------------------------------------------------- transfer across voices

REFERENCES = ("train", "neutral", "own")  # the mean subtracted from a text's activation before the cosine


def orthonormal_span(*blocks: torch.Tensor) -> torch.Tensor:
    """[k, d] orthonormal rows spanning the rows of all ``blocks`` (k = their rank)."""
    rows = [b.double() for b in blocks if b.numel()]
    if not rows:
        d = blocks[0].shape[-1]
        return torch.zeros(0, d)
    _, sv, vh = torch.linalg.svd(torch.cat(rows), full_matrices=False)
    rank = int((sv > sv.max() * 1e-6).sum())
    return vh[:rank].float()


def voice_directions(acts: torch.Tensor, voices: Sequence[str]) -> torch.Tensor:
    """[k, d] orthonormal directions along which the voices' mean activations differ (k = number
    of voices - 1). Every voice covers every emotion equally often, so these are differences of
    style, not of emotion."""
    names = sorted(set(voices))
    means = torch.stack([acts[[i for i, v in enumerate(voices) if v == name]].mean(0) for name in names])
    return orthonormal_span(means - means.mean(0)) if len(names) > 1 else torch.zeros(0, acts.shape[-1])


@dataclass(frozen=True)
class Fold:
    """Train on some stories, test on others: ``name`` says which (e.g. the left-out voice)."""

    name: str
    train: tuple[int, ...]
    test: tuple[int, ...]


def lovo_folds(stories: Sequence[Story], split: str = "test") -> list[Fold]:
    """Leave one voice out: train on the training-topic texts of every other voice, test on the
    left-out voice's texts of ``split`` ("test": held-out topics, the reported number; "train":
    training topics, never trained on in this fold, used to choose the recipe)."""
    voices = sorted({s.voice for s in stories})
    return [Fold(v, tuple(i for i, s in enumerate(stories) if s.split == "train" and s.voice != v),
                 tuple(i for i, s in enumerate(stories) if s.voice == v and s.split == split))
            for v in voices]


def voice_pair_folds(stories: Sequence[Story], split: str = "test") -> list[Fold]:
    """Train on one voice, test on another (or the same): every ordered pair, named 'a->b'."""
    voices = sorted({s.voice for s in stories})
    return [Fold(f"{a}->{b}", tuple(i for i, s in enumerate(stories) if s.split == "train" and s.voice == a),
                 tuple(i for i, s in enumerate(stories) if s.voice == b and s.split == split))
            for a in voices for b in voices]


@dataclass(frozen=True)
class Recipe:
    """How the book's vectors are built and how a text is scored against them: the layer, the
    reference mean subtracted before the cosine, whether the directions separating the training
    voices are projected out (``style``) with the neutral components, and the neutral share."""

    layer: int
    reference: str = "own"
    style: bool = False
    neutral_variance: float = 0.5


def reference_mean(kind: str, train_acts: torch.Tensor, neutral_acts: torch.Tensor,
                   scored_acts: torch.Tensor) -> torch.Tensor:
    """The mean subtracted from every scored activation: the training texts' ("train"), the
    neutral dialogues' ("neutral") or the scored set's own ("own")."""
    if kind == "train":
        return train_acts.mean(0)
    if kind == "neutral":
        return neutral_acts.mean(0)
    if kind == "own":
        return scored_acts.mean(0)
    raise ValueError(f"reference must be one of {', '.join(REFERENCES)}, got {kind!r}")


def recipe_components(train_acts: torch.Tensor, train_voices: Sequence[str], neutral_acts: torch.Tensor,
                      recipe: Recipe) -> tuple[torch.Tensor, torch.Tensor]:
    """What a recipe projects out of the vectors, as one orthonormal basis: the neutral PCs and,
    with ``recipe.style``, the directions separating the training voices. Also returns the
    neutral PCs' explained variance shares."""
    from ..readout.vectors import principal_components

    neutral_components, explained = principal_components(neutral_acts, recipe.neutral_variance)
    extra = [voice_directions(train_acts, train_voices)] if recipe.style else []
    return orthonormal_span(neutral_components, *extra), explained


@dataclass
class FoldResult:
    fold: Fold
    observed: dict[str, float]
    null: dict[str, np.ndarray]


def evaluate_fold(acts: torch.Tensor, stories: Sequence[Story], fold: Fold, neutral_acts: torch.Tensor,
                  emotion_names: Sequence[str], recipe: Recipe, *, seed: int = 0, n_shuffles: int = 0,
                  cluster_k: int | None = N_CLUSTERS) -> FoldResult:
    """Build vectors from the fold's training texts with ``recipe`` and score its test texts:
    top-1, top-5 (and cluster level unless ``cluster_k`` is None), with the same statistics under
    ``n_shuffles`` shufflings of the training labels when asked."""
    from ..readout.vectors import vector_recipe

    train, test = list(fold.train), list(fold.test)
    labels = [stories[i].emotion for i in train]
    components, _ = recipe_components(acts[train], [stories[i].voice for i in train], neutral_acts, recipe)
    ref = reference_mean(recipe.reference, acts[train], neutral_acts, acts[test])
    targets = label_indices([stories[i].emotion for i in test], emotion_names)
    statistic = heldout_statistic(acts[test], targets, ref, cluster_k, seed)
    vectors, _ = vector_recipe(acts[train], labels, emotion_names, components)
    null = relabelled_null(acts[train], labels, emotion_names, components, statistic, seed, n_shuffles) \
        if n_shuffles else {}
    return FoldResult(fold, statistic(vectors), null)


def summarise_folds(results: Sequence[FoldResult]) -> dict[str, float]:
    """Means over folds of each statistic, and the 95th percentile of the null of that mean (each
    fold's shuffles averaged across folds)."""
    out: dict[str, float] = {}
    for name in results[0].observed:
        out[name] = float(np.mean([r.observed[name] for r in results]))
        if results[0].null:
            out[f"shuffled_{name}_p95"] = float(np.quantile(np.mean([r.null[name] for r in results], axis=0), 0.95))
    return out


def fold_table(results: Sequence[FoldResult]) -> pd.DataFrame:
    rows = []
    for r in results:
        row = {"fold": r.fold.name, "n_train": len(r.fold.train), "n_test": len(r.fold.test), **r.observed}
        for name, values in r.null.items():
            row[f"shuffled_{name}_p95"] = float(np.quantile(values, 0.95))
        rows.append(row)
    return pd.DataFrame(rows).set_index("fold")


def recipe_grid(acts: dict[int, torch.Tensor], stories: Sequence[Story], neutral_acts: dict[int, torch.Tensor],
                emotion_names: Sequence[str], *, neutral_variance: float = 0.5, split: str = "train",
                references: Sequence[str] = REFERENCES, styles: Sequence[bool] = (False, True)) -> pd.DataFrame:
    """Leave-one-voice-out top-1/top-5 (means over left-out voices) for every layer, reference
    and style choice. With ``split="train"`` the test texts are the left-out voice's texts on
    training topics: a validation set on which the recipe is chosen before any held-out topic is
    scored."""
    folds = lovo_folds(stories, split)
    rows = []
    for layer in sorted(acts):
        for reference in references:
            for style in styles:
                recipe = Recipe(layer, reference, style, neutral_variance)
                results = [evaluate_fold(acts[layer], stories, f, neutral_acts[layer], emotion_names, recipe,
                                         cluster_k=None) for f in folds]
                rows.append({"layer": layer, "reference": reference, "style": style, **summarise_folds(results)})
    return pd.DataFrame(rows)


def choose_recipe(grid: pd.DataFrame, neutral_variance: float = 0.5) -> Recipe:
    """The recipe with the best leave-one-voice-out top-5 on the validation grid (ties: top-1,
    then the earlier layer, the train reference, no style removal)."""
    order = {r: i for i, r in enumerate(REFERENCES)}
    ranked = grid.assign(_ref=grid.reference.map(order)).sort_values(
        ["top5", "top1", "layer", "_ref", "style"], ascending=[False, False, True, True, True])
    best = ranked.iloc[0]
    return Recipe(int(best.layer), str(best.reference), bool(best["style"]), neutral_variance)


def pooled_confusion(acts: torch.Tensor, stories: Sequence[Story], neutral_acts: torch.Tensor,
                     emotion_names: Sequence[str], recipe: Recipe) -> np.ndarray:
    """[true, predicted] counts of leave-one-voice-out top-1 predictions on held-out topics,
    summed over the left-out voices."""
    from ..readout.vectors import vector_recipe

    total = np.zeros((len(emotion_names), len(emotion_names)))
    for fold in lovo_folds(stories, "test"):
        train, test = list(fold.train), list(fold.test)
        components, _ = recipe_components(acts[train], [stories[i].voice for i in train], neutral_acts, recipe)
        vectors, _ = vector_recipe(acts[train], [stories[i].emotion for i in train], emotion_names, components)
        ref = reference_mean(recipe.reference, acts[train], neutral_acts, acts[test])
        targets = label_indices([stories[i].emotion for i in test], emotion_names)
        total += confusion(cosine_matrix(acts[test], vectors, ref), targets, len(emotion_names)).numpy()
    return total


def book_vectors(model: LoadedModel, stories: Sequence[Story], acts: torch.Tensor, neutral_acts: torch.Tensor,
                 emotion_names: Sequence[str], recipe: Recipe, params: dict | None = None) -> EmotionVectors:
    """The vectors the later chapters use: every voice's training texts at the recipe's layer,
    neutral components (and, with ``recipe.style``, the voice directions) projected out."""
    from ..readout.vectors import vector_recipe

    train, _ = split_indices(stories)
    components, explained = recipe_components(acts[train], [stories[i].voice for i in train], neutral_acts, recipe)
    vectors, raw = vector_recipe(acts[train], [stories[i].emotion for i in train], emotion_names, components)
    meta = {"recipe": recipe.__dict__, "corpus_hash": corpus_hash(stories), "model_identity": model.identity,
            "voices": sorted({s.voice for s in stories}), "n_stories": len(train), **(params or {})}
    return EmotionVectors(list(emotion_names), vectors, recipe.layer, model.alias, components, explained, raw, meta)


# ---------------------------------------------------------------- the chapter

CHAPTER = Chapter(
    id="01-emotion-vectors",
    title="Emotion vectors",
    params={
        "layer": Param(layer=True),
        "reference": Param(choices=("auto", *REFERENCES)),
        "style": Param(choices=("auto", True, False)),
        "start_token": Param(min=1),
        "neutral_start_token": Param(min=1),
        "batch_size": Param(min=1, max=256),
        "neutral_variance": Param(min=0.0, max=1.0),
        "n_neutral": Param(min=0),
        "emotions": Param(choices=emotions),
        "voices": Param(choices=lambda: tuple(VOICES)),
        "sweep_step": Param(min=0),
        "n_shuffles": Param(min=1),
        "n_permutations": Param(min=1),
        "seed": Param(min=0),
    },
    metrics=("n_emotions", "n_voices", "n_texts", "layer", "reference", "style_removed", "n_neutral_pcs",
             "chance_top1", "chance_top5", "lovo_cluster_chance", "same_voice_top1", "narrative_top1",
             "narrative_top5", "logit_lens_p", "logit_lens_last_layer", "best_layer_lovo_top5",
             "best_layer_lovo_top5_value"),
    claims=(
        Claim("Leave one voice out: the nearest emotion vector is the text's emotion (top-1)",
              "qualitative (vectors track the emotion)", "lovo_top1", "lovo_shuffled_top1_p95",
              "shuffled labels, 95th pct",
              note=lambda m: f"{m['n_emotions']}-way, {m['n_voices']} voices, chance {m['chance_top1']:.3f}"),
        Claim("Leave one voice out: top-5", "-", "lovo_top5", "lovo_shuffled_top5_p95", "shuffled labels, 95th pct",
              note=lambda m: f"chance {m['chance_top5']:.3f}; layer {m['layer']}, reference {m['reference']}"),
        Claim("Leave one voice out, cluster level (k-means, k = 10)", "-", "lovo_cluster_top1",
              "lovo_shuffled_cluster_top1_p95", "shuffled labels (clusters recomputed), 95th pct",
              note=lambda m: f"uniform chance {m['lovo_cluster_chance']:.3f}"),
        Claim("Same voice (train and test in one voice, held-out topics): top-5", "-", "same_voice_top5",
              "same_voice_shuffled_top5_p95", "shuffled labels, 95th pct",
              note=lambda m: "mean over voices"),
        Claim("Logit lens: a vector's top-20 tokens include its own emotion's word",
              "desperate -> desperate, urgent, bankrupt", "logit_lens_hit_rate", "logit_lens_null_p95",
              "word lists permuted, 95th pct", note=lambda m: f"layer {m['layer']}"),
        Claim("Logit lens at the deepest layer swept", "-", "logit_lens_last_hit_rate", "logit_lens_last_null_p95",
              "word lists permuted, 95th pct", note=lambda m: f"layer {m['logit_lens_last_layer']}"),
    ),
    quick={"emotions": ["happy", "sad", "afraid", "angry", "calm", "desperate", "disgusted", "proud",
                        "ashamed", "loving", "bored", "content"],
           "sweep_step": 10, "n_permutations": 50, "n_shuffles": 5, "n_neutral": 48},
)


# ---------------------------------------------------------------- the vectors later chapters use


@dataclass
class SettledVectors:
    """The book's emotion vectors for one model, built with the recipe chapter 01 settled on, and
    how to score activations against them.

    ``source`` says where the recipe came from (chapter 01's record for this model, or the
    default when there is none); ``scores`` subtracts the recipe's reference mean before the
    cosine ("own": the scored set's own mean, so score a set of texts, not one alone)."""

    vectors: EmotionVectors
    recipe: Recipe
    source: str
    train_mean: torch.Tensor  # [d] mean activation of the training texts
    neutral_mean: torch.Tensor  # [d] mean activation of the neutral dialogues

    @property
    def emotions(self) -> list[str]:
        return self.vectors.emotions

    @property
    def layer(self) -> int:
        return self.recipe.layer

    def reference(self, acts: torch.Tensor, kind: str | None = None) -> torch.Tensor:
        """The mean subtracted from ``acts`` [n, d] before scoring (``kind`` overrides the recipe's)."""
        return reference_mean(kind or self.recipe.reference, self.train_mean.unsqueeze(0),
                              self.neutral_mean.unsqueeze(0), acts)

    def scores(self, acts: torch.Tensor, reference: str | None = None) -> torch.Tensor:
        """[n, n_emotions] cosine of each centred activation with each emotion vector."""
        acts = acts.float()
        return cosine_matrix(acts, self.vectors.vectors.float(), self.reference(acts, reference))

    def frame(self, acts: torch.Tensor, index: Sequence[str] | None = None,
              reference: str | None = None) -> pd.DataFrame:
        """``scores`` as a table (rows: ``index``; columns: emotions)."""
        return pd.DataFrame(self.scores(acts, reference).numpy(), index=index, columns=self.emotions)


def settled_recipe(model: LoadedModel, layer: int | None = None) -> tuple[Recipe, str]:
    """The recipe chapter 01 chose for this model (its record's layer, reference and style), or,
    with no record, the model's default layer, the 'own' reference and no style removal.
    ``layer`` overrides the layer (checked against the model)."""
    import json

    from ..book.records import record_path

    path = record_path(CHAPTER.id, model.alias)
    if path.exists():
        rec = json.loads(path.read_text())
        m = rec["metrics"]
        overrides = rec.get("run", {}).get("overrides") or {}
        recipe = Recipe(int(m["layer"]), str(m["reference"]), bool(m["style_removed"]),
                        float(rec.get("params", {}).get("neutral_variance", 0.5)))
        source = f"chapter 01's record for {model.alias}" + (" (a partial run)" if overrides else "")
    else:
        recipe, source = Recipe(model.default_layer, "own", False), "the default (no chapter 01 record for this model)"
    if layer is not None:
        model.check_layer(layer)
        if layer != recipe.layer:
            recipe = Recipe(layer, recipe.reference, recipe.style, recipe.neutral_variance)
            source += f", layer set to {layer}"
    return recipe, source


def settled_vectors(model: LoadedModel, *, layer: int | None = None, emotions: Sequence[str] | None = None,
                    voices: Sequence[str] | None = None, n_neutral: int = 0, seed: int = 0, start_token: int = 49,
                    batch_size: int = 8) -> SettledVectors:
    """The book's vectors for ``model`` (all 171 emotions, or ``emotions``), built from every
    voice's training texts with chapter 01's recipe (``settled_recipe``). Activations come from
    the content-addressed cache when chapter 01 (or another chapter) read the same texts at the
    same layer, so the call is cheap after chapter 01 has run."""
    from ..corpus.neutral import load_neutral, sample_neutral
    from ..corpus.stories import load_stories

    recipe, source = settled_recipe(model, layer)
    stories = load_stories(emotions_subset=list(emotions) if emotions else None,
                           voices=list(voices) if voices else None)
    names = [e for e in _all_emotions() if e in {s.emotion for s in stories}]
    dialogues = sample_neutral(load_neutral(), n_neutral, seed)
    acts = story_activations(model, stories, [recipe.layer], start_token=start_token, batch_size=batch_size)
    neutral = neutral_activations(model, dialogues, [recipe.layer], batch_size=batch_size)
    vectors = book_vectors(model, stories, acts[recipe.layer], neutral[recipe.layer], names, recipe,
                           params={"start_token": start_token, "recipe_source": source})
    train, _ = split_indices(stories)
    return SettledVectors(vectors, recipe, source, acts[recipe.layer][train].float().mean(0),
                          neutral[recipe.layer].float().mean(0))


def _all_emotions() -> list[str]:
    return emotions()
