"""Finding 6: the geometry of emotion space (chapter 02).

The book's emotion vectors (chapter 01's settled recipe) as a point cloud: their cosine
similarities ordered by hierarchical clustering, k-means clusters, and a PCA whose first two
components are compared with human valence and arousal ratings. The same comparison at every
swept layer, the similarity of the geometry between layers, and the shuffled-label control:
the same PCA and correlation on vectors rebuilt from permuted story labels
(``readout.scoring.relabelled_null``).

Sign convention: a principal component's sign is arbitrary, so each is oriented by a fixed rule
that never looks at the ratings (``ORIENTATION``): PC1 so that "happy" scores positive, PC2 so
that "calm" scores negative; where the anchor emotion is not among the vectors, so that the
emotion with the largest absolute score is positive. Correlations are reported with that
orientation; the shuffled-label null takes |r|, which can only make it stricter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..corpus.stories import Story, emotions, split_indices
from ..errors import ParameterError
from ..readout.scoring import kmeans_groups, relabelled_null
from ..readout.vectors import vector_recipe
from .base import Chapter, Claim, Param
from .emotion_vectors import Recipe, recipe_components

N_CLUSTERS = 10  # the paper's k-means k
N_COMPONENTS = 5  # principal components kept for the tables
ORIENTATION: tuple[tuple[str, float], ...] = (("happy", 1.0), ("calm", -1.0))  # (anchor, sign of its score) per PC

# ---------------------------------------------------------------- similarity and clusters


def cluster_count(n_emotions: int) -> int:
    """k for k-means: the paper's 10, or fewer for a small subset so that a cluster holds three
    emotions on average (n // 3, at least 2)."""
    if n_emotions < 3:
        raise ParameterError(f"the geometry needs at least 3 emotions, got {n_emotions}")
    return max(2, min(N_CLUSTERS, n_emotions // 3))


def unit_rows(vectors: torch.Tensor) -> np.ndarray:
    v = vectors.double().numpy()
    return v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)


def cosine_similarities(vectors: torch.Tensor) -> np.ndarray:
    """[n, n] cosine similarity between every pair of vectors."""
    unit = unit_rows(vectors)
    return unit @ unit.T


def hierarchical_order(vectors: torch.Tensor) -> list[int]:
    """Row order of the dendrogram leaves: average-linkage clustering on cosine distance, leaves
    in optimal order (neighbours most similar)."""
    from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering
    from scipy.spatial.distance import pdist

    distances = np.clip(pdist(unit_rows(vectors), metric="cosine"), 0.0, None)
    tree = optimal_leaf_ordering(linkage(distances, method="average"), distances)
    return leaves_list(tree).tolist()


def cluster_table(vectors: torch.Tensor, names: Sequence[str], k: int, seed: int,
                  valence: Mapping[str, float] | None = None,
                  arousal: Mapping[str, float] | None = None) -> pd.DataFrame:
    """k-means clusters of the unit vectors (``scoring.kmeans_groups``, the same clustering as
    chapter 01's cluster-level accuracy): one row per cluster with its members (nearest its
    centre first) and, where given, the mean human rating of its rated members. Rows ordered by
    mean valence when given (for reading only), else by size."""
    groups = np.array(kmeans_groups(vectors, k, seed))
    unit = unit_rows(vectors)
    rows = []
    for g in sorted(set(groups.tolist())):
        members = np.flatnonzero(groups == g)
        centre = unit[members].mean(0)
        ranked = members[np.argsort(-(unit[members] @ centre), kind="stable")]
        row: dict[str, object] = {"n": len(members), "members": ", ".join(names[i] for i in ranked)}
        for label, ratings in (("valence", valence), ("arousal", arousal)):
            if ratings is not None:
                rated = [ratings[names[i]] for i in members if names[i] in ratings]
                row[f"mean_{label}"] = float(np.mean(rated)) if rated else np.nan
                row[f"n_rated_{label}"] = len(rated)
        rows.append(row)
    table = pd.DataFrame(rows)
    table = table.sort_values("mean_valence", ascending=False, na_position="last", kind="stable") \
        if valence is not None else table.sort_values("n", ascending=False, kind="stable")
    table.index = pd.RangeIndex(1, len(table) + 1, name="cluster")
    return table


# ---------------------------------------------------------------- principal components


@dataclass
class EmotionPCA:
    """Principal components of a set of emotion vectors, each oriented by ``ORIENTATION``."""

    emotions: list[str]
    scores: np.ndarray  # [n_emotions, k] each emotion's coordinate on each PC
    explained: np.ndarray  # [k] share of the vectors' variance
    components: np.ndarray  # [k, d] unit directions
    anchors: list[str]  # the emotion that fixed each PC's sign

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.scores, index=self.emotions,
                            columns=[f"PC{j + 1}" for j in range(self.scores.shape[1])])


def orient(scores: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Flip each column of ``scores`` so that its anchor emotion (``ORIENTATION``) has the
    anchor's sign; a PC with no anchor present (or past the listed ones) is flipped so that the
    emotion with the largest absolute score is positive. Never looks at ratings."""
    scores = scores.copy()
    anchors = []
    for j in range(scores.shape[1]):
        anchor, sign = ORIENTATION[j] if j < len(ORIENTATION) else (None, 1.0)
        if anchor in names:
            i = list(names).index(anchor)
        else:
            i, sign = int(np.argmax(np.abs(scores[:, j]))), 1.0
            anchor = names[i]
        if np.sign(scores[i, j]) == -sign:
            scores[:, j] *= -1
        anchors.append(str(anchor))
    return scores, anchors


def emotion_pca(vectors: torch.Tensor, names: Sequence[str], n_components: int = N_COMPONENTS) -> EmotionPCA:
    """PCA of the vectors as built (not normalised; sklearn centres them), oriented by ``orient``."""
    from sklearn.decomposition import PCA

    if len(names) != vectors.shape[0]:
        raise ParameterError(f"{len(names)} names for {vectors.shape[0]} vectors")
    k = min(n_components, vectors.shape[0] - 1, vectors.shape[1])
    pca = PCA(n_components=k, svd_solver="full").fit(vectors.double().numpy())
    scores, anchors = orient(pca.transform(vectors.double().numpy()), names)
    return EmotionPCA(list(names), scores, pca.explained_variance_ratio_.copy(), pca.components_.copy(), anchors)


# ---------------------------------------------------------------- against human ratings


def rated_pairs(names: Sequence[str], ratings: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """(row indices of the rated emotions among ``names``, their ratings)."""
    index = np.array([i for i, e in enumerate(names) if e in ratings], dtype=int)
    return index, np.array([float(ratings[names[i]]) for i in index])


def _pearson(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    from scipy.stats import pearsonr

    return pearsonr(x, y, axis=axis).statistic


@dataclass(frozen=True)
class RatingCorrelation:
    """A PC's scores against human ratings over the rated emotions: Pearson r, Spearman rho and
    the one-sided permutation p-value of r (ratings permuted among the emotions; the PC's
    orientation is fixed beforehand, so 'greater' is the paper's direction)."""

    n: int
    pearson_r: float
    spearman_rho: float
    perm_p: float


def rating_correlation(scores: np.ndarray, ratings: np.ndarray, n_permutations: int, seed: int) -> RatingCorrelation:
    from scipy.stats import permutation_test, spearmanr

    scores, ratings = np.asarray(scores, float), np.asarray(ratings, float)
    if scores.shape != ratings.shape or scores.ndim != 1 or len(scores) < 3:
        raise ParameterError(f"need matching 1-d scores and ratings of length >= 3, got {scores.shape} and "
                             f"{ratings.shape}")
    test = permutation_test((scores, ratings), _pearson, permutation_type="pairings", vectorized=True,
                            n_resamples=n_permutations, alternative="greater", random_state=seed)
    return RatingCorrelation(len(scores), float(test.statistic), float(spearmanr(scores, ratings).statistic),
                             float(test.pvalue))


def pc_correlation(pca: EmotionPCA, pc: int, ratings: Mapping[str, float], n_permutations: int,
                   seed: int) -> RatingCorrelation:
    """``rating_correlation`` of PC ``pc`` (0-based) with ``ratings`` over the rated emotions."""
    index, values = rated_pairs(pca.emotions, ratings)
    return rating_correlation(pca.scores[index, pc], values, n_permutations, seed)


def pc_rating_table(pca: EmotionPCA, ratings: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """Pearson r of every kept PC with every rating dimension ({dimension: {emotion: value}})."""
    rows = {}
    for dim, values in ratings.items():
        index, y = rated_pairs(pca.emotions, values)
        rows[f"r with {dim} (n = {len(index)})"] = [float(_pearson(pca.scores[index, j], y))
                                                     for j in range(pca.scores.shape[1])]
    table = pd.DataFrame(rows, index=[f"PC{j + 1}" for j in range(pca.scores.shape[1])]).T
    table.loc["variance share"] = pca.explained
    return table


def source_table(pca: EmotionPCA, extended: pd.DataFrame, combined: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """PC1 against valence and PC2 against arousal, per source of human ratings (each over every
    emotion that source rates verbatim, on its own scale: a Pearson r does not depend on a
    linear rescaling) and pooled (``combined``: one rating per word, Warriner first, the others
    put on Warriner's scale; ``corpus.ratings.combined_ratings``)."""
    from scipy.stats import spearmanr

    sets: list[tuple[str, str, dict[str, float]]] = []
    for source, rows in extended.groupby("source", sort=False):
        for dim in ("valence", "arousal"):
            rated = rows.dropna(subset=[dim])
            if len(rated):
                sets.append((str(source), dim, dict(zip(rated.emotion, rated[f"{dim}_native"], strict=True))))
    for dim, table in combined.items():
        sets.append(("all sources (Warriner first)", dim, dict(zip(table.index, table.value, strict=True))))
    rows = []
    for source, dim, ratings in sets:
        index, y = rated_pairs(pca.emotions, ratings)
        pc = 0 if dim == "valence" else 1
        if len(index) < 3:
            continue
        rows.append({"source": source, "comparison": f"PC{pc + 1} vs {dim}", "n": len(index),
                     "pearson_r": float(_pearson(pca.scores[index, pc], y)),
                     "spearman_rho": float(spearmanr(pca.scores[index, pc], y).statistic)})
    return pd.DataFrame(rows)


def axis_statistic(names: Sequence[str], valence: Mapping[str, float],
                   arousal: Mapping[str, float]) -> Callable[[torch.Tensor], dict[str, float]]:
    """The chapter's statistics of one set of vectors: PC1's Pearson r with valence, PC2's with
    arousal, and the two PCs' variance shares. Applied to the real vectors and to every
    shuffled-label rebuild, so the null is the null of the numbers reported."""
    v_index, v_values = rated_pairs(names, valence)
    a_index, a_values = rated_pairs(names, arousal)

    def statistic(vectors: torch.Tensor) -> dict[str, float]:
        pca = emotion_pca(vectors, names, 2)
        return {"pc1_valence_r": float(_pearson(pca.scores[v_index, 0], v_values)),
                "pc2_arousal_r": float(_pearson(pca.scores[a_index, 1], a_values)),
                "pc1_var": float(pca.explained[0]), "pc2_var": float(pca.explained[1])}

    return statistic


# ---------------------------------------------------------------- vectors at a layer, and their null


def _training(acts: torch.Tensor, stories: Sequence[Story], neutral_acts: torch.Tensor,
              recipe: Recipe) -> tuple[torch.Tensor, list[str], torch.Tensor]:
    """(training activations, their emotion labels, the components the recipe projects out)."""
    train, _ = split_indices(stories)
    train_acts = acts.float()[train]
    components, _ = recipe_components(train_acts, [stories[i].voice for i in train], neutral_acts.float(), recipe)
    return train_acts, [stories[i].emotion for i in train], components


def recipe_vectors(acts: torch.Tensor, stories: Sequence[Story], neutral_acts: torch.Tensor,
                   names: Sequence[str], recipe: Recipe) -> torch.Tensor:
    """[n_emotions, d] the book's vectors at ``acts``' layer (``emotion_vectors.book_vectors``'s
    recipe: every voice's training texts, the recipe's components projected out)."""
    train_acts, labels, components = _training(acts, stories, neutral_acts, recipe)
    return vector_recipe(train_acts, labels, names, components)[0]


def shuffled_label_null(acts: torch.Tensor, stories: Sequence[Story], neutral_acts: torch.Tensor,
                        names: Sequence[str], recipe: Recipe, statistic: Callable[[torch.Tensor], dict[str, float]],
                        seed: int, n_shuffles: int) -> dict[str, np.ndarray]:
    """``statistic`` on vectors rebuilt by the same recipe (same projected components) from the
    training texts with their emotion labels permuted, ``n_shuffles`` times ({name: values})."""
    train_acts, labels, components = _training(acts, stories, neutral_acts, recipe)
    return relabelled_null(train_acts, labels, names, components, statistic, seed, n_shuffles)


def p95_abs(values: np.ndarray) -> float:
    return float(np.quantile(np.abs(values), 0.95))


def layer_table(acts: Mapping[int, torch.Tensor], stories: Sequence[Story], neutral_acts: Mapping[int, torch.Tensor],
                names: Sequence[str], recipe: Recipe, valence: Mapping[str, float], arousal: Mapping[str, float],
                seed: int, n_shuffles: int) -> tuple[pd.DataFrame, dict[int, torch.Tensor]]:
    """For every layer in ``acts``: the vectors with ``recipe`` at that layer, their statistics
    (``axis_statistic``) and the 95th percentile of the shuffled-label null of |r| and of the
    variance shares. Returns (table indexed by layer, {layer: vectors})."""
    statistic = axis_statistic(names, valence, arousal)
    rows, vectors = [], {}
    for layer in sorted(acts):
        here = Recipe(layer, recipe.reference, recipe.style, recipe.neutral_variance)
        train_acts, labels, components = _training(acts[layer], stories, neutral_acts[layer], here)
        vectors[layer] = vector_recipe(train_acts, labels, names, components)[0]
        row = {"layer": layer, **statistic(vectors[layer])}
        if n_shuffles:
            null = relabelled_null(train_acts, labels, names, components, statistic, seed, n_shuffles)
            row |= {"shuffled_pc1_valence_r_p95": p95_abs(null["pc1_valence_r"]),
                    "shuffled_pc2_arousal_r_p95": p95_abs(null["pc2_arousal_r"]),
                    "shuffled_pc1_var_p95": float(np.quantile(null["pc1_var"], 0.95))}
        rows.append(row)
    return pd.DataFrame(rows).set_index("layer"), vectors


def representational_similarity(vectors: Mapping[int, torch.Tensor]) -> pd.DataFrame:
    """[layer, layer] Spearman correlation between the layers' cosine-similarity matrices (their
    upper triangles): 1 when two layers order every pair of emotions alike."""
    from scipy.stats import spearmanr

    layers = sorted(vectors)
    n = vectors[layers[0]].shape[0]
    upper = np.triu_indices(n, k=1)
    flat = {L: cosine_similarities(vectors[L])[upper] for L in layers}
    rho = np.array([[1.0 if a == b else float(spearmanr(flat[a], flat[b]).statistic) for b in layers] for a in layers])
    return pd.DataFrame(rho, index=pd.Index(layers, name="layer"), columns=layers)


def _all_emotions() -> list[str]:
    return emotions()


# ---------------------------------------------------------------- the chapter

CHAPTER = Chapter(
    id="02-geometry",
    title="The geometry of emotion space",
    params={
        "layer": Param(layer=True),
        "emotions": Param(choices=_all_emotions),
        "n_neutral": Param(min=0),
        "sweep_step": Param(min=0),
        "n_shuffles": Param(min=1),
        "n_permutations": Param(min=1),
        "seed": Param(min=0),
    },
    metrics=("pc1_valence_r", "pc2_arousal_r", "pc1_var", "pc2_var", "n_rated", "best_layer",
             "best_layer_pc1_valence_r", "perm_p_valence", "shuffled_pc1_valence_r_p95", "pc1_valence_rho",
             "pc2_arousal_rho", "perm_p_arousal", "n_rated_arousal", "n_emotions", "layer", "n_clusters",
             "pc1_valence_r_all_sources", "n_rated_all_sources", "pc2_arousal_r_all_sources",
             "n_rated_arousal_all_sources", "rsa_mean_offdiagonal", "shuffled_pc1_var_p95"),
    claims=(
        Claim("PC1 of the emotion vectors tracks human valence (Pearson r)", "r = 0.81 (n = 45)", "pc1_valence_r",
              "shuffled_pc1_valence_r_p95", "shuffled story labels, 95th pct of |r|",
              note=lambda m: f"Warriner, n = {m['n_rated']}; layer {m['layer']}; permutation p = "
                             f"{m['perm_p_valence']:.3g}"),
        Claim("PC2 tracks human arousal (Pearson r)", "r = 0.66 (n = 45)", "pc2_arousal_r",
              "shuffled_pc2_arousal_r_p95", "shuffled story labels, 95th pct of |r|",
              note=lambda m: f"n = {m['n_rated_arousal']}; permutation p = {m['perm_p_arousal']:.3g}"),
        Claim("PC1's share of the vectors' variance", "26% (PC2 15%)", "pc1_var", fmt=".1%",
              note=lambda m: f"PC2 {m['pc2_var']:.1%}; shuffled labels, PC1 95th pct {m['shuffled_pc1_var_p95']:.1%}"),
        Claim("PC1 ~ valence at the best swept layer", "stable from early-middle to late layers",
              "best_layer_pc1_valence_r", "best_layer_shuffled_pc1_valence_r_p95",
              "shuffled story labels at that layer, 95th pct of |r|",
              note=lambda m: f"|r|, layer {m['best_layer']}, the best of the swept layers"),
    ),
    quick={"emotions": ["happy", "sad", "afraid", "angry", "calm", "desperate", "disgusted", "proud",
                        "ashamed", "loving", "bored", "content"],
           "sweep_step": 10, "n_shuffles": 20, "n_permutations": 200, "n_neutral": 48},
)
