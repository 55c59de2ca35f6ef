# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. Steering sanity
#
# **Question.** Before any behaviour is steered, does adding an emotion's vector to the residual
# stream push the model towards that emotion at all? The paper's check
# {cite}`sofroniew2026emotions`: adding a vector while the model completes "He feels" raises the
# log-probability of that emotion's word and lowers the others (a figure, no number). We ask the
# same of the book's vectors ({doc}`01-emotion-vectors`) on {glue:text}`n_prompts` prompts that
# stop where an emotion word would come next: a person in a story ("... and right now he feels"),
# a first-person "I feel", and the Assistant describing its own state ("Right now I feel", after
# a user asks). Each emotion's vector is added at every prompt position at layer
# {glue:text}`layer` with strength {glue:text}`strength` times the layer's mean residual-stream
# norm ({glue:text}`residual_norm`, measured on the neutral dialogues). The read-out is the
# next-token log-probability of each of {glue:text}`n_words` emotion words
# ({glue:text}`readout_text`; all such words of the 171, whichever emotions are steered); a
# word's **gain** is its steered minus its unsteered
# log-probability, averaged over the prompts. For each steered emotion: does its own word gain
# the most of all the words (the **own-word rate**), and where does it rank?
#
# **What failure would look like.** The same read-out under {glue:text}`n_random` random
# directions of the same norm, at the same layer and strength. Replacing each emotion's vector by
# a random direction (drawn from the set, independently per emotion) and recomputing the own-word
# rate, many times, gives the rate a push unrelated to the words reaches; its 95th percentile is
# the control (about 1/{glue:text}`n_words` on average). A second null shuffles which vector is
# called which emotion. Per emotion, the own word's gain relative to the other words is set
# against the same word's relative gain under each random direction (95% range, z-score). A vector
# that moves text in general but not towards its emotion sits inside these ranges; so does one
# that pushes every emotion word alike.

# %% tags=["parameters", "hide-input"]
model: str = "smollm2-135m-instruct"  # offline alias, local folder or Hugging Face id
remote: bool | str = False  # False; "local" (simulate NDIF here); True (NDIF, needs NDIF_API_KEY)
dtype: str = "bfloat16"  # "float32" or "bfloat16"
layer: int | None = None  # None: the layer of the book's vectors (chapter 01's recipe)
strength: float = 0.1  # the headline strength, a fraction of the layer's mean residual norm
strengths: list[float] = [-0.5, -0.25, -0.1, 0.05, 0.25, 0.5]  # the strength curve (with the headline strength)
emotions: list[str] = []  # emotions whose vectors are built and steered (empty: all 171; those with a read-out word)
n_neutral: int = 0  # neutral dialogues for the vectors and the norm (0: all)
readout: str = "one_token"  # "one_token": words that are one token; "first_token": words with an unshared first token
kinds: list[str] = []  # prompt kinds (empty: all of third_person, first_person, assistant)
prompts_per_kind: int = 0  # the first n prompts of each kind (0: all)
n_random: int = 20  # random directions of the same norm
n_draws: int = 1000  # draws of the random-assignment and label-permutation nulls
sweep_step: int = 3  # layers swept: every sweep_step-th (and the chosen layer); 0: none
max_new_tokens: int = 16  # length of the steered continuations (degradation, examples)
n_sample_emotions: int = 8  # emotions whose continuations are generated at every strength and layer
batch_size: int = 32
seed: int = 0

# %% [markdown]
# ## Setup

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from emotion_concepts import corpus, load_model, plotting, write_record
from emotion_concepts.book.present import glue, parameter_count
from emotion_concepts.findings import steering_sanity as ss
from emotion_concepts.findings.emotion_vectors import settled_recipe, settled_vectors

plotting.use_house_style()
torch.manual_seed(seed)
m = load_model(model, remote=remote, dtype=dtype)
recipe, _ = settled_recipe(m, layer)
layer = recipe.layer
glue("model_size", parameter_count(m))
print(f"{m.alias} ({parameter_count(m)} parameters, {dtype}): {m.n_layers} layers, d={m.d_model}")

# %% tags=["hide-input"]
prompts = ss.load_feeling_prompts(kinds or None, per_kind=prompts_per_kind)
words = ss.readout_words(m.tokenizer, corpus.emotions(), readout)
sweep = ss.sweep_layers(m.n_layers, layer, sweep_step)
ss.warm_vector_cache(m, sweep, emotions or None, n_neutral, seed)
sv = settled_vectors(m, layer=layer, emotions=emotions or None, n_neutral=n_neutral, seed=seed)
steered = [e for e in sv.emotions if e in words.words]
norms = ss.neutral_norms(m, sweep, n_neutral, seed)
print(f"vectors: {len(sv.emotions)} emotions at layer {sv.layer}; recipe from {sv.source}")
print(f"read-out ({readout}): {len(words.words)} words; {len(words.excluded)} left out, e.g. "
      + ", ".join(f"{w} ({why})" for w, why in list(words.excluded.items())[:6]))
print(f"steered: {len(steered)} emotions (vector and read-out word); mean residual norm at layer {layer}: "
      f"{norms[layer]:.1f}")
glue("n_prompts", len(prompts))
glue("layer", layer)
glue("strength", strength, "g")
glue("residual_norm", norms[layer], ".0f")
glue("n_words", len(words.words))
glue("n_steered", len(steered))
glue("n_random", n_random)
glue("readout_text", "the words the tokenizer writes as one token after a space" if readout == "one_token"
     else "every word whose first token after a space no other emotion word shares, read from that token")
pd.DataFrame([{"id": p.id, "kind": p.kind, "prompt": p.text or f"[user] {p.user} [assistant] {p.assistant_prefix}"}
              for p in prompts]).set_index("id")

# %% [markdown]
# ## The own word against random directions
#
# Every prompt, unsteered, under each of the {glue:text}`n_steered` emotions' vectors and under
# each random direction, in one batched pass. {numref}`fig-06-own-rate` shows how often an emotion's
# own word gains the most of the {glue:text}`n_words` words (and how often it is among the five
# that gain most), with both nulls drawn over the bars.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Share of steered emotions whose own word gains the most log-probability among the emotion words (top 1) or is among the five that gain most (top 5), with the 95th percentile of the same share when every emotion's vector is replaced by a random direction of the same norm (dashed) or the vectors' labels are shuffled (dotted), and chance (dash-dot).", "name": "fig-06-own-rate"}, "image": {"alt": "Bar chart of the own-word top-1 and top-5 rates with random-direction, shuffled-label and chance lines"}}
vectors = {e: sv.vectors[e] for e in steered}
run = ss.measure_gains(m, prompts, vectors, words, layer=layer, strength=strength, norm=norms[layer],
                       n_random=n_random, seed=seed, batch_size=batch_size, progress="steering")
head = ss.summarise(run, n_draws=n_draws, seed=seed)
emo_g = run.mean_gains()[0]
perm_top5 = ss.permutation_null(emo_g, run.own, n_draws, seed)["top5"]
plotting.bar_with_controls(
    {"top 1": head["own_word_gain_rate"], "top 5": head["own_word_top5_rate"]},
    {"random directions, 95th pct": {"top 1": head["random_control_rate"], "top 5": head["random_top5_p95"]},
     "shuffled labels, 95th pct": {"top 1": head["permuted_rate_p95"], "top 5": float(np.quantile(perm_top5, 0.95))},
     "chance": {"top 1": head["chance_rate"], "top 5": min(1.0, 5 * head["chance_rate"])}},
    title=f"Own word gains most, layer {layer}, s = {strength:g}", ylabel="share of steered emotions")
plt.show()

# %% tags=["hide-input"]
glue("own_rate", head["own_word_gain_rate"], ".3f")
glue("random_rate", head["random_control_rate"], ".3f")
glue("own_top5", head["own_word_top5_rate"], ".3f")
glue("mean_rank", head["own_word_mean_rank"], ".1f")
glue("chance_rank", head["chance_mean_rank"], ".1f")
glue("random_rank_p05", head["random_mean_rank_p05"], ".1f")
print(f"own word gains most for {head['own_word_gain_rate']:.3f} of {len(steered)} emotions "
      f"(random directions: mean {head['random_rate_mean']:.3f}, 95th pct {head['random_control_rate']:.3f}; "
      f"shuffled labels 95th pct {head['permuted_rate_p95']:.3f}; chance {head['chance_rate']:.3f})")
print(f"own word's mean rank {head['own_word_mean_rank']:.1f} of {len(words.words)} (random directions: 5th pct "
      f"{head['random_mean_rank_p05']:.1f}; chance {head['chance_mean_rank']:.1f})")
by_kind = pd.DataFrame({k: ss.summarise(run, n_draws=n_draws, seed=seed, kind=k) for k in sorted(set(run.prompt_kinds))}).T
by_kind[["own_word_gain_rate", "random_control_rate", "own_word_top5_rate", "own_word_mean_rank",
         "random_mean_rank_p05"]].round(3)

# %% [markdown]
# The own word's mean rank is {glue:text}`mean_rank` (chance {glue:text}`chance_rank`; the 5th
# percentile under random directions {glue:text}`random_rank_p05`). The table above splits the
# prompts by kind: the third-person story, the first-person sentence and the Assistant's own
# reply.
#
# ## The matrix
#
# The mean gain of every read-out word (columns) under every steered emotion (rows), for the
# emotions with a human valence rating (Warriner et al., 2013), both axes ordered from the most
# negative to the most positive valence ({numref}`fig-06-gain-matrix`). Each row has its mean
# subtracted (the gain relative to the other words), so the diagonal stands out if a vector
# raises its own word more than the others.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Mean gain in log-probability relative to the row's mean (steered emotion x read-out word), for the steered emotions with a valence rating, ordered by valence on both axes.", "name": "fig-06-gain-matrix"}, "image": {"alt": "Heatmap of relative log-probability gain, steered emotion by read-out word, ordered by valence"}}
ratings = corpus.load_ratings()
rated = sorted([e for e in steered if e in ratings], key=lambda e: ratings[e]["valence"])
rel = pd.DataFrame(ss.relative_gains(emo_g), index=run.emotions, columns=run.words)
shown = rel.loc[rated, rated] if len(rated) >= 2 else rel
glue("n_rated", len(rated))
ax = plotting.heatmap(shown.values, list(shown.index), list(shown.columns), cmap="RdBu_r", center=0.0,
                      title=f"Relative gain, layer {layer}, s = {strength:g}", xlabel="read-out word (valence →)",
                      ylabel="steered emotion (valence →)", annotate=False)
plt.show()

# %% [markdown]
# ## Emotion by emotion
#
# For each steered emotion, its own word's relative gain against the same word's relative gain
# under each of the random directions ({numref}`fig-06-per-emotion`). The share above the random 95%
# range is {glue:text}`beyond_rate`.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Per steered emotion, the z-score of its own word's relative gain against the same word's relative gain under the random directions (sorted); the dashed lines mark z = ±1.96.", "name": "fig-06-per-emotion"}, "image": {"alt": "Sorted bar chart of per-emotion z-scores of the own word's gain against random directions"}}
per_emotion = ss.per_emotion_controls(run)
glue("beyond_rate", head["own_beyond_random_rate"], ".2f")
ordered = per_emotion.sort_values("z", ascending=False)
fig, ax = plt.subplots(figsize=(max(6, 0.08 * len(ordered) + 4), 3.6))
ax.bar(range(len(ordered)), ordered.z, color=[plotting.PALETTE[0] if b == "above" else "#b9b9b9"
                                               for b in ordered.beyond], width=0.85)
for y in (1.96, -1.96):
    ax.axhline(y, color="#222", ls="--", lw=1)
if len(ordered) <= 40:
    ax.set_xticks(range(len(ordered)), list(ordered.index), rotation=90, fontsize=7)
else:
    ax.set_xticks([])
ax.set(xlabel="steered emotion (sorted)", ylabel="z vs random directions",
       title="Own word's relative gain against random directions")
plt.show()

# %% tags=["hide-input", "hide-output"]
per_emotion.round(3)

# %% [markdown]
# ## Strength
#
# The same measure at strengths from {glue:text}`s_min` to {glue:text}`s_max` at layer
# {glue:text}`layer` ({numref}`fig-06-strength`), with the same random directions at each strength.
# At negative strength the prediction flips: the own word should *fall* most (drawn as the share
# ranked last). Beside it, degradation: the median perplexity, under the unsteered model, of
# {glue:text}`max_new_tokens`-token greedy continuations steered by {glue:text}`n_sample`
# emotions and {glue:text}`n_sample` random directions, over the unsteered continuations' median.

# %% tags=["hide-input"]
sample = ss.sample_emotions(steered, n_sample_emotions, seed, prefer=ss.QUICK_EMOTIONS)
common = {"sample": sample, "n_random": n_random, "n_sample_random": min(n_sample_emotions, n_random),
          "n_draws": n_draws, "seed": seed, "max_new_tokens": max_new_tokens, "batch_size": batch_size}
curve = {s: ss.measure_setting(m, prompts, vectors, words, layer=layer, strength=s, norm=norms[layer],
                               run=run if s == strength else None, **common)
         for s in sorted({*strengths, strength})}
curve_table = ss.settings_table(curve, "strength")
glue("n_sample", len(sample))
glue("max_new_tokens", max_new_tokens)
glue("s_min", min(curve), "g")
glue("s_max", max(curve), "g")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Against strength (layer fixed). Left: the share of emotions whose own word gains most (solid) and falls most (dashed), each with the random directions' 95th percentile (grey). Middle: the own word's mean rank among the words' gains (1 = gains most) with the random directions' 5th to 95th percentiles (band) and chance (dotted). Right: the median perplexity of steered continuations over the unsteered ones, for emotion vectors and random directions.", "name": "fig-06-strength"}, "image": {"alt": "Three panels: own-word rates, own-word mean rank and perplexity ratio against strength, each with the random-direction control"}}
fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13, 3.6))
x = curve_table.index.to_numpy(dtype=float)
ax1.plot(x, curve_table.own_word_gain_rate, marker="o", color=plotting.PALETTE[0], label="own word gains most")
ax1.plot(x, curve_table.random_control_rate, color="#8a8a8a", lw=1, label="random, 95th pct (gains most)")
ax1.plot(x, curve_table.own_word_drop_rate, marker="s", ls="--", color=plotting.PALETTE[1], label="own word falls most")
ax1.plot(x, curve_table.random_drop_p95, color="#8a8a8a", lw=1, ls="--", label="random, 95th pct (falls most)")
ax1.axvline(0, color="#444", lw=0.6)
ax1.set(xlabel="strength (fraction of the mean residual norm)", ylabel="share of steered emotions",
        title=f"Own word by strength, layer {layer}")
ax1.legend(fontsize=7, frameon=True)
ax2.fill_between(x, curve_table.random_mean_rank_p05, curve_table.random_mean_rank_p95, color="#d0d0d0",
                 label="random, 5th-95th pct")
ax2.plot(x, curve_table.own_word_mean_rank, marker="o", color=plotting.PALETTE[0], label="own word")
ax2.axhline(curve_table.chance_mean_rank.iloc[0], color="#444", lw=0.8, ls=":", label="chance")
ax2.axvline(0, color="#444", lw=0.6)
ax2.set(xlabel="strength", ylabel="mean rank of the own word's gain", title="Own word's rank (1 = gains most)")
ax2.invert_yaxis()
ax2.legend(fontsize=7, frameon=True)
ax3.plot(x, curve_table.perplexity_emotion / curve_table.perplexity_unsteered, marker="o", color=plotting.PALETTE[0],
         label="emotion vectors")
ax3.plot(x, curve_table.perplexity_random / curve_table.perplexity_unsteered, marker="^", color="#8a8a8a",
         label="random directions")
ax3.axhline(1, color="#444", lw=0.6, ls=":")
ax3.set(xlabel="strength", ylabel="median perplexity / unsteered", title="Degradation", yscale="log")
ax3.legend(fontsize=7, frameon=True)
plt.show()

# %% tags=["hide-input", "hide-output"]
curve_table[["own_word_gain_rate", "random_control_rate", "own_word_drop_rate", "random_drop_p95",
             "own_word_mean_rank", "median_z", "perplexity_emotion", "perplexity_random",
             "perplexity_unsteered"]].round(3)

# %% [markdown]
# ## Across layers
#
# Vectors built at each swept layer (chapter 01's recipe, that layer) and steered there at
# strength {glue:text}`strength` ({numref}`fig-06-layers`), each against its own random directions
# and with its own degradation.

# %% tags=["hide-input"]
by_layer = {}
for L in sweep:
    if L == layer:
        by_layer[L] = curve[strength]
        continue
    sv_L = settled_vectors(m, layer=L, emotions=emotions or None, n_neutral=n_neutral, seed=seed)
    by_layer[L] = ss.measure_setting(m, prompts, {e: sv_L.vectors[e] for e in steered}, words, layer=L,
                                     strength=strength, norm=norms[L], **common)
layer_table = ss.settings_table(by_layer, "layer")
best_layer = int(ss.best_setting(layer_table))
glue("best_layer", best_layer)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Across layers at the headline strength: the share of emotions whose own word gains most with the random directions' 95th percentile (left) and the median perplexity of steered continuations over the unsteered ones (right); the vertical line marks the book's layer.", "name": "fig-06-layers"}, "image": {"alt": "Two panels: own-word rate by layer with the random-direction control, and perplexity ratio by layer"}}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
x = layer_table.index.to_numpy(dtype=int)
ax1.plot(x, layer_table.own_word_gain_rate, marker="o", color=plotting.PALETTE[0], label="own word gains most")
ax1.plot(x, layer_table.random_control_rate, color="#8a8a8a", lw=1, label="random, 95th pct")
ax1.plot(x, layer_table.own_word_top5_rate, marker="s", ls="--", color=plotting.PALETTE[2], label="own word in top 5")
ax1.plot(x, layer_table.random_top5_p95, color="#8a8a8a", lw=1, ls="--", label="random, 95th pct (top 5)")
ax1.axvline(layer, color="#6b6b6b", lw=0.8)
ax1.set(xlabel="layer", ylabel="share of steered emotions", title=f"Own word by layer, s = {strength:g}")
ax1.legend(fontsize=7, frameon=True)
ax2.plot(x, layer_table.perplexity_emotion / layer_table.perplexity_unsteered, marker="o", color=plotting.PALETTE[0],
         label="emotion vectors")
ax2.plot(x, layer_table.perplexity_random / layer_table.perplexity_unsteered, marker="^", color="#8a8a8a",
         label="random directions")
ax2.axhline(1, color="#444", lw=0.6, ls=":")
ax2.axvline(layer, color="#6b6b6b", lw=0.8)
ax2.set(xlabel="layer", ylabel="median perplexity / unsteered", title="Degradation", yscale="log")
ax2.legend(fontsize=7, frameon=True)
plt.show()

# %% tags=["hide-input", "hide-output"]
layer_table[["own_word_gain_rate", "random_control_rate", "own_word_top5_rate", "own_word_mean_rank",
             "random_mean_rank_p05", "median_z", "perplexity_emotion", "perplexity_random"]].round(3)

# %% [markdown]
# The own-word rate is highest at layer {glue:text}`best_layer` of those swept.
#
# ## What the steered model writes
#
# The read-out above is a next-token probability. A sampled measure comes second: in the greedy
# continuations at layer {glue:text}`layer`, strength {glue:text}`strength`, how often does the
# steered emotion's word (any inflection) appear, against the same word in the continuations of
# the same prompts under random directions and unsteered? The counts are small (one continuation
# per prompt and emotion); examples follow.

# %% tags=["hide-input"]
head_samples = curve[strength].samples
rates = ss.mention_rates(head_samples)
print(f"own word named in {rates.steered.mean():.3f} of steered continuations; the same words under random "
      f"directions {rates.random.mean():.3f}, unsteered {rates.unsteered.mean():.3f}")
rates.round(3)

# %% tags=["hide-input"]
examples = head_samples[head_samples.prompt == ss.one_prompt_per_kind(prompts)[-1].id]
pd.set_option("display.max_colwidth", 120)
examples[["label", "kind", "completion", "perplexity"]].set_index("label").round(1)

# %% [markdown]
# ## Caveats
#
# - The model has {glue:text}`model_size` parameters; the paper's check was on a far larger
#   model, and it gives no number for it.
# - The read-out covers only the emotion words it can read from one next-token probability
#   ({glue:text}`readout_text`); a word is a token here, and a token can also begin or belong to
#   other words.
# - The vectors are centred on the grand mean of the emotions they are built from; with a subset
#   of emotions (a quick run), that mean differs from the full set's.
# - Steering adds the vector at every position of the prompt, including the chat template's
#   system text; other position choices may give other rates.
# - The own-word rate ranks gains within a row: a word that many vectors raise (a common word
#   with low baseline probability) can win rows that are not its own. The shuffled-label null and
#   the per-emotion comparison with random directions address this in different ways.
# - Degradation is judged from {glue:text}`n_sample` emotions and as many random directions on
#   one prompt of each kind, at {glue:text}`max_new_tokens` tokens: a coarse guide to where the
#   text breaks, not a measure of fluency.

# %% [markdown]
# ## Record

# %% tags=["hide-input"]
strongest = curve_table.loc[max(curve_table.index)]
metrics = {
    **{k: head[k] for k in ("own_word_gain_rate", "random_control_rate", "own_word_top5_rate", "own_word_mean_rank",
                            "own_word_drop_rate", "random_rate_mean", "random_top5_p95", "random_mean_rank_p05",
                            "permuted_rate_p95", "permuted_mean_rank_p05", "chance_rate", "chance_mean_rank",
                            "own_beyond_random_rate", "own_below_random_rate", "median_z")},
    "n_words": len(words.words), "n_emotions": len(steered), "n_prompts": len(prompts), "n_random": n_random,
    "layer": layer, "strength": strength, "residual_norm": norms[layer],
    **{k: curve[strength].summary[k] for k in ("perplexity_ratio", "perplexity_unsteered", "perplexity_emotion",
                                        "perplexity_random")},
    "best_layer": best_layer, "best_layer_rate": float(layer_table.loc[best_layer, "own_word_gain_rate"]),
    "strongest_strength": float(strongest.name), "strongest_perplexity_ratio": float(strongest.perplexity_ratio),
    "own_word_mention_rate": float(rates.steered.mean()), "random_mention_rate": float(rates.random.mean()),
    "by_kind": {k: {c: float(v) for c, v in row.items()} for k, row in
                by_kind[["own_word_gain_rate", "random_control_rate", "own_word_mean_rank"]].iterrows()},
    "by_strength": {f"{s:g}": {c: float(curve_table.loc[s, c]) for c in ("own_word_gain_rate", "random_control_rate",
                                                                       "own_word_drop_rate", "perplexity_ratio")}
                    for s in curve_table.index},
    "by_layer": {str(L): {c: float(layer_table.loc[L, c]) for c in ("own_word_gain_rate", "random_control_rate",
                                                                   "perplexity_ratio")} for L in layer_table.index},
    "n_traces": m.n_traces,
}
params = {"model": model, "remote": remote, "dtype": dtype, "layer": layer, "strength": strength,
          "strengths": sorted({*strengths, strength}), "n_emotions_vectors": len(sv.emotions), "n_neutral": n_neutral,
          "readout": readout, "kinds": sorted({p.kind for p in prompts}), "n_random": n_random, "n_draws": n_draws,
          "sweep": sweep, "max_new_tokens": max_new_tokens, "sample_emotions": sample, "seed": seed,
          "recipe_source": sv.source}
print(f"wrote {write_record('06-steering-sanity', m.alias, params, metrics)}")
