# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7. Preferences
#
# **Question.** Do the emotion vectors bear on what the model *chooses*? The paper
# {cite}`sofroniew2026emotions` offered its model 64 activities in 8 categories, from being
# trusted with something important to clearly harmful acts, as forced choices between every two
# of them ("Would you prefer to (A) ... or (B) ...?", read from the A/B logits, both orders),
# and rated each activity with Elo (range about 520 to 2885). The activation of some emotion
# vectors while the model read "How would you feel about {activity}?" correlated with that
# rating: *blissful* r = 0.71, *hostile* r = -0.74. Steering half of the activities at strength
# 0.5 of the residual norm moved their Elo: blissful +212, hostile -303; and over 35 vectors, how
# far a vector moved Elo tracked its correlation with Elo (r = 0.85). We ask the same of the
# model here with our own {glue:text}`n_activities` activities
# ({glue:text}`n_categories` categories).
#
# **What failure would look like.** The correlations are judged against the same correlation
# with the Elo ratings permuted over activities ({glue:text}`n_permutations` permutations; the
# 95th percentile for a positive claim, the 5th for a negative one). A steering effect is judged
# against {glue:text}`n_random` random directions of the same norm added at the same layer,
# strength and tokens: an emotion replicates if its Elo change lies beyond the 95th percentile of
# the random directions' |Elo change|, in the paper's direction. The Elo ratings themselves are
# only as good as the answers: if the model picks a letter whatever the options, the two orders
# of a pair disagree and every activity sits near the mean, which the chapter shows first.

# %% tags=["parameters", "hide-input"]
model: str = "smollm2-135m-instruct"  # offline alias, local folder or Hugging Face id
remote: bool | str = False  # False; "local" (simulate NDIF here); True (NDIF, needs NDIF_API_KEY)
dtype: str = "bfloat16"  # "float32" or "bfloat16"
layer: int | None = None  # None: the layer chapter 01 settled on (read-out and steering)
emotions: list[str] = []  # empty: all 171; a subset for a quick run (must include blissful and hostile)
n_neutral: int = 0  # neutral dialogues for the vectors' projection (0: all)
per_category: int = 8  # activities per category (8: all 64)
strength: float = 0.5  # steering strength, a fraction of the layer's mean residual norm (the paper's 0.5)
n_steer: int = 35  # emotions steered, spread over the correlation ranking (blissful and hostile always)
n_opponents: int = 4  # unsteered opponents of each steered activity in the steering runs
n_random: int = 20  # random directions of the same norm (the control)
n_bootstrap: int = 200  # bootstrap resamples of the pairs for the Elo intervals
n_permutations: int = 1000  # permutations for the correlation nulls
curve_strengths: list[float] = [-0.5, -0.25, 0.25, 1.0]  # strength curve for blissful and hostile (and 0.5 above)
curve_random: int = 4  # random directions at each strength of the curve
sweep_step: int = 6  # layers swept: every sweep_step-th (0: none)
sweep_random: int = 4  # random directions at each swept layer
batch_size: int = 16
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
from emotion_concepts.findings import preferences as prefs
from emotion_concepts.findings.emotion_vectors import sweep_layers
from emotion_concepts.steering import mean_residual_norm

plotting.use_house_style()
torch.manual_seed(seed)
m = load_model(model, remote=remote, dtype=dtype)
missing = [e for e in prefs.PAPER_EMOTIONS if emotions and e not in emotions]
if missing:
    raise ValueError(f"the emotion subset must include {', '.join(prefs.PAPER_EMOTIONS)}; missing {missing}")
activities = prefs.load_activities(per_category)
n = len(activities)
sv = prefs.chapter_vectors(m, layer=layer, emotion_subset=emotions, n_neutral=n_neutral, seed=seed)
L = sv.layer
dialogues = corpus.sample_neutral(corpus.load_neutral(), n_neutral, seed)
neutral_texts = [corpus.format_dialogue(m.tokenizer, d) for d in dialogues]
sweep = sweep_layers(m.n_layers, L, sweep_step)
norms = mean_residual_norm(m, neutral_texts, sorted({L, *sweep}))
glue("model_size", parameter_count(m))
glue("n_activities", n)
glue("n_categories", len(prefs.categories(activities)))
glue("n_permutations", n_permutations)
glue("n_random", n_random)
glue("layer", L)
glue("strength", strength)
glue("residual_norm", norms[L], ".0f")
glue("n_emotions", len(sv.emotions))
print(f"{m.alias} ({parameter_count(m)} parameters, {dtype}): {m.n_layers} layers, d={m.d_model}")
print(f"vectors: {len(sv.emotions)} emotions at layer {L}; recipe from {sv.source}")
print(f"mean residual norm at layer {L} over {len(neutral_texts)} neutral dialogues: {norms[L]:.1f}")
pd.DataFrame([a.__dict__ for a in activities]).groupby("category", sort=False).activity.apply(
    lambda s: "; ".join(s.iloc[:2]) + (" ..." if len(s) > 2 else "")).to_frame("examples")

# %% [markdown]
# ## Preferences by forced choice
#
# Every unordered pair of activities is asked in both orders ("Which would you prefer to do?",
# the two activities as options (A) and (B), "Answer with the letter of one option only.", the
# reply prefilled with "("). The probability of each activity is read from the two letters'
# logits, renormalised over A and B. These continuous outcomes are the data of a Bradley-Terry
# model (one strength per activity; P(i chosen over j) = 1 / (1 + exp(θ_j − θ_i))), fitted with
# choix and put on the Elo scale (400 / ln 10 Elo per unit of θ, mean 1500). The intervals come
# from {glue:text}`n_bootstrap` bootstrap resamples of the pairs ({numref}`fig-07-elo`).

# %% tags=["hide-input"]
pairs = prefs.all_pairs(n)
prompts = prefs.pair_prompts(m, activities, pairs)
outcomes = prefs.pair_probabilities(m, prompts, batch_size=batch_size, progress="forced choices")
elo = prefs.elo_from_outcomes(outcomes, n)
elo_lo, elo_hi = prefs.elo_intervals(outcomes, n, n_resamples=n_bootstrap, seed=seed)
table = prefs.elo_table(activities, elo, elo_lo, elo_hi)
agreement = prefs.order_agreement(outcomes)
glue("n_prompts", len(prompts))
glue("n_bootstrap", n_bootstrap)
glue("letter_mass", float(outcomes.letter_mass.mean()), ".2f")
glue("mean_p_a", agreement["mean_p_a"], ".2f")
glue("order_consistency", agreement["order_consistency"], ".0%")
glue("elo_min", float(elo.min()), ".0f")
glue("elo_max", float(elo.max()), ".0f")
print(f"{len(prompts)} prompts ({len(pairs)} pairs x 2 orders); mean probability on A or B at all: "
      f"{outcomes.letter_mass.mean():.3f}; mean P(A): {agreement['mean_p_a']:.3f}; pairs with the same preferred "
      f"activity in both orders: {agreement['order_consistency']:.1%}")
print(f"Elo from {elo.min():.0f} to {elo.max():.0f}; mean 95% interval width "
      f"{np.mean(elo_hi - elo_lo):.0f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Elo of every activity from the Bradley-Terry fit to the forced choices (both orders of every pair), with 95% bootstrap intervals (pairs resampled), coloured by category; the dashed line is the mean (1500).", "name": "fig-07-elo"}, "image": {"alt": "Horizontal dot plot of each activity's Elo with interval bars, coloured by category"}}
cats = prefs.categories(activities)
colour = {c: plotting.PALETTE[k % len(plotting.PALETTE)] for k, c in enumerate(cats)}
shown = table.iloc[::-1]
fig, ax = plt.subplots(figsize=(9, max(3.5, 0.17 * n + 1)))
ax.hlines(range(n), shown.elo_lo, shown.elo_hi, color=[colour[c] for c in shown.category], lw=1.5)
ax.scatter(shown.elo, range(n), c=[colour[c] for c in shown.category], s=18, zorder=3)
ax.set_yticks(range(n), [a if len(a) <= 48 else a[:46] + "…" for a in shown.activity], fontsize=6 if n > 24 else 8)
ax.axvline(prefs.ELO_MEAN, color="#444", ls="--", lw=0.8)
for c in cats:
    ax.scatter([], [], c=colour[c], label=c)
ax.set(xlabel="Elo", title=f"Preference Elo of {n} activities")
ax.legend(frameon=True, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()

# %% [markdown]
# The ratings run from {glue:text}`elo_min` to {glue:text}`elo_max` (the paper's: about 520 to
# 2885). The model put {glue:text}`letter_mass` of its next-token probability on the letters A
# and B; its mean P(A) was {glue:text}`mean_p_a` (0.5 would be no letter preference), and the
# same activity was preferred in both orders in {glue:text}`order_consistency` of the pairs. The
# mean Elo per category:

# %% tags=["hide-input"]
by_category = table.groupby("category", sort=False).elo.agg(["mean", "min", "max"]).reindex(cats)
by_category.round(0)

# %% tags=["hide-input", "hide-output"]
table.round(0)

# %% [markdown]
# ## What the model reads: emotion activations against Elo
#
# Each activity is put to the model as "How would you feel about {activity}?" in its chat
# template; the residual stream at layer {glue:text}`layer` is averaged over the activity's own
# tokens and scored against the {glue:text}`n_emotions` emotion vectors (cosine after the
# recipe's reference mean, computed over the {glue:text}`n_activities` activities together).
# Each emotion's score is correlated with Elo over the activities ({numref}`fig-07-correlations`,
# {numref}`fig-07-scatter`).

# %% tags=["hide-input"]
feel_texts, feel_spans = prefs.feel_prompts(m, activities)
feel_acts = prefs.span_mean_activations(m, feel_texts, feel_spans, sorted({L, *sweep}), batch_size=batch_size)
scores = sv.frame(feel_acts[L], index=[a.id for a in activities])
corr = prefs.elo_correlations(scores.to_numpy(), sv.emotions, elo, n_permutations=n_permutations, seed=seed)
by_emotion = corr.set_index("emotion")
top_pos, top_neg = corr.iloc[0], corr.iloc[-1]
for e in prefs.PAPER_EMOTIONS:
    glue(f"r_{e}", by_emotion.loc[e, "r"], ".2f")
    row = by_emotion.loc[e]
    print(f"{e}: r = {row.r:.3f} (Elo permuted: 5th pct {row.null_p05:.3f}, 95th pct {row.null_p95:.3f}; "
          f"p = {row.p:.3g})")
glue("top_positive", f"{top_pos.emotion} (r = {top_pos.r:.2f})")
glue("top_negative", f"{top_neg.emotion} (r = {top_neg.r:.2f})")
print(f"most positive: {top_pos.emotion} r = {top_pos.r:.3f}; most negative: {top_neg.emotion} r = {top_neg.r:.3f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Correlation over activities between each emotion's activation (reading 'How would you feel about {activity}?') and the activity's Elo: the most positive and most negative emotions, with the permutation null's 5th-95th percentile band (Elo permuted over activities). Blissful and hostile, the paper's two, are outlined.", "name": "fig-07-correlations"}, "image": {"alt": "Bar chart of the emotions with the highest and lowest correlation with Elo, with a shaded null band"}}
k_show = min(12, len(corr) // 2)
picked = pd.concat([corr.head(k_show), corr.tail(k_show)]).drop_duplicates("emotion")
for e in prefs.PAPER_EMOTIONS:
    if e not in set(picked.emotion):
        picked = pd.concat([picked, corr[corr.emotion == e]])
picked = picked.sort_values("r", ascending=False)
fig, ax = plt.subplots(figsize=(max(6, 0.32 * len(picked) + 2), 3.8))
x = np.arange(len(picked))
ax.bar(x, picked.r, color=[plotting.PALETTE[0] if r > 0 else plotting.PALETTE[1] for r in picked.r],
       edgecolor=["black" if e in prefs.PAPER_EMOTIONS else "none" for e in picked.emotion], lw=1.5)
ax.fill_between(x, picked.null_p05, picked.null_p95, color="#999", alpha=0.3, step="mid",
                label="Elo permuted, 5th-95th pct")
ax.set_xticks(x, picked.emotion, rotation=60, ha="right", fontsize=8)
ax.set(ylabel="Pearson r with Elo", title=f"Emotion activation vs Elo, layer {L}")
ax.legend(frameon=True, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Each activity's Elo against its blissful and hostile activations (cosine score), coloured by category, with the correlation.", "name": "fig-07-scatter"}, "image": {"alt": "Two scatter plots of Elo against the blissful and the hostile activation of each activity"}}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
for ax, e in zip(axes, prefs.PAPER_EMOTIONS, strict=True):
    ax.scatter(scores[e], elo, c=[colour[a.category] for a in activities], s=22)
    ax.set(xlabel=f"{e} activation (cosine)", title=f"{e}: r = {by_emotion.loc[e, 'r']:.2f}")
axes[0].set_ylabel("Elo")
for c in cats:
    axes[1].scatter([], [], c=colour[c], label=c)
axes[1].legend(frameon=True, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()

# %% [markdown]
# Blissful: r = {glue:text}`r_blissful` (paper 0.71); hostile: r = {glue:text}`r_hostile` (paper
# -0.74). Over all {glue:text}`n_emotions` emotions, the most positive correlation is
# {glue:text}`top_positive` and the most negative {glue:text}`top_negative`; with this many
# emotions some exceed the null by chance, so only the two named in advance are judged.

# %% tags=["hide-input", "hide-output"]
corr.round(3)

# %% [markdown]
# ## Steering half the activities
#
# Within each category, half of the activities (drawn with the seed) are **steered**: wherever
# one of them appears as an option, a vector is added to the residual stream at layer
# {glue:text}`layer` on that activity's tokens only, at strength {glue:text}`strength` of the
# layer's mean residual norm ({glue:text}`residual_norm`, measured over neutral dialogues); the
# other half and the rest of the prompt are untouched. Rating every pair under every vector
# would take too long on a CPU, so each steered activity meets {glue:text}`n_opponents` fixed
# opponents from the unsteered half (both orders), the same pairs for every condition and for
# the unsteered baseline. A Bradley-Terry fit to those pairs gives the gap between the halves'
# mean Elo; the **Elo change** of a vector is that gap under steering minus the gap unsteered
# (the steered half's change with the unsteered half held fixed, since Elo fixes only
# differences). We steer with {glue:text}`n_steer_emotions` emotions spread over the ranking of
# {numref}`fig-07-correlations` (blissful and hostile always) and with {glue:text}`n_random` random
# directions of the same norm ({numref}`fig-07-steering`).

# %% tags=["hide-input"]
steered, unsteered = prefs.split_halves(activities, seed)
steer_pair_list = prefs.steering_pairs(steered, unsteered, n_opponents, seed)
steer_prompts = prefs.pair_prompts(m, activities, steer_pair_list)
steer_names = prefs.steer_emotion_choice(corr, n_steer)
emotion_dirs = [prefs.Direction(e, "emotion", {L: sv.vectors[e]}) for e in steer_names]
random_dirs = prefs.random_directions(n_random, [L], m.d_model, seed)
runs = prefs.steering_runs(m, steer_prompts, steered, [prefs.SteerCondition(d, strength) for d in emotion_dirs + random_dirs],
                           norms, batch_size=batch_size, progress="steering")
deltas = prefs.steering_deltas(runs, n, steered, unsteered)
null = prefs.random_null(deltas[deltas.kind == "random"].delta_elo)
emo = deltas[deltas.kind == "emotion"].set_index("label")
emo["r_elo"] = by_emotion.loc[emo.index, "r"]
emo["z"] = [null.z(d) for d in emo.delta_elo]
steer_corr = prefs.steer_vs_correlation(emo.delta_elo, emo.r_elo, n_permutations=n_permutations, seed=seed)
glue("n_steer_emotions", len(steer_names))
glue("n_opponents", n_opponents)
glue("n_steer_prompts", len(steer_prompts))
for e in prefs.PAPER_EMOTIONS:
    glue(f"delta_{e}", emo.loc[e, "delta_elo"], "+.0f")
glue("random_p95", null.p95_abs, ".0f")
glue("r_steer_vs_corr", steer_corr["r"], ".2f")
print(f"{len(steered)} steered and {len(unsteered)} unsteered activities; {len(steer_pair_list)} pairs, "
      f"{len(steer_prompts)} prompts per condition")
for e in prefs.PAPER_EMOTIONS:
    print(f"{e}: Elo change {emo.loc[e, 'delta_elo']:+.1f} (z = {emo.loc[e, 'z']:.2f})")
print(f"random directions (n = {n_random}): mean {null.mean:+.1f}, 95% range [{null.lo:+.1f}, {null.hi:+.1f}], "
      f"95th pct of |change| {null.p95_abs:.1f}")
print(f"steering effect vs correlation over {steer_corr['n']} emotions: r = {steer_corr['r']:.3f} "
      f"(changes permuted: 95th pct {steer_corr['null_p95']:.3f}, p = {steer_corr['p']:.3g})")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: the Elo change of the steered half under each emotion vector (sorted; blue: the emotion correlates positively with Elo, orange: negatively), blissful and hostile outlined, with the random directions' values (grey ticks) and the band of ±their 95th percentile of |change|. Right: each vector's Elo change against its correlation with Elo (from the read-out), with the fitted line.", "name": "fig-07-steering"}, "image": {"alt": "Bar chart of Elo change per steered emotion with a random-direction band, and a scatter of Elo change against correlation"}}
order = emo.sort_values("delta_elo", ascending=False)
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [2, 1]})
x = np.arange(len(order))
ax.axhspan(-null.p95_abs, null.p95_abs, color="#999", alpha=0.25, label="random, ±95th pct of |change|")
ax.bar(x, order.delta_elo, color=[plotting.PALETTE[0] if r > 0 else plotting.PALETTE[1] for r in order.r_elo],
       edgecolor=["black" if e in prefs.PAPER_EMOTIONS else "none" for e in order.index], lw=1.5)
ax.scatter(np.full(len(null.deltas), len(order) + 0.5), null.deltas, marker="_", color="#555", s=120,
           label="random directions")
ax.set_xticks(x, order.index, rotation=60, ha="right", fontsize=8)
ax.set(ylabel="Elo change of the steered half", title=f"Steering at s = {strength}, layer {L}")
ax.legend(frameon=True, fontsize=8, loc="upper right")
ax2.scatter(emo.r_elo, emo.delta_elo, color=plotting.PALETTE[3], s=22)
for e in prefs.PAPER_EMOTIONS:
    ax2.annotate(e, (emo.loc[e, "r_elo"], emo.loc[e, "delta_elo"]), fontsize=8, xytext=(3, 3),
                 textcoords="offset points")
fit = np.polyfit(emo.r_elo, emo.delta_elo, 1)
grid_r = np.linspace(emo.r_elo.min(), emo.r_elo.max(), 20)
ax2.plot(grid_r, np.polyval(fit, grid_r), color="#444", lw=1)
ax2.axhspan(-null.p95_abs, null.p95_abs, color="#999", alpha=0.25)
ax2.set(xlabel="correlation of the vector with Elo", ylabel="Elo change",
        title=f"r = {steer_corr['r']:.2f} over {steer_corr['n']} vectors")
plt.show()

# %% [markdown]
# Blissful moved the steered half by {glue:text}`delta_blissful` Elo (paper +212) and hostile by
# {glue:text}`delta_hostile` (paper -303); the random directions' 95th percentile of |change| is
# {glue:text}`random_p95`. Across the steered emotions, Elo change against correlation:
# r = {glue:text}`r_steer_vs_corr` (paper 0.85).

# %% tags=["hide-input", "hide-output"]
emo[["delta_elo", "z", "r_elo", "letter_mass"]].sort_values("delta_elo", ascending=False).round(3)

# %% [markdown]
# ## Strength curve
#
# Blissful and hostile from negative to positive strengths on the same pairs, each strength
# with {glue:text}`curve_random` random directions of its own ({numref}`fig-07-curve`). A forced
# choice generates no text, so degradation is measured as the probability the model still puts
# on the letters A and B at all (right): a steered answer that leaves the question's format has
# no meaning.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: Elo change of the steered half against strength for blissful and hostile, with the range of the random directions at each strength (grey). Right: the mean probability on the letters A or B (1: the model answers in the question's format), the degradation measure.", "name": "fig-07-curve"}, "image": {"alt": "Line charts of Elo change and letter probability against steering strength for blissful, hostile and random directions"}}
curve_s = sorted({*curve_strengths, strength})
extra = [s for s in curve_s if s != strength]
curve_randoms = prefs.random_directions(curve_random, [L], m.d_model, seed + 1) if curve_random else []
paper_dirs = [d for d in emotion_dirs if d.label in prefs.PAPER_EMOTIONS]
if extra:
    curve_runs = prefs.steering_runs(m, steer_prompts, steered,
                                     [prefs.SteerCondition(d, s) for s in extra for d in paper_dirs + curve_randoms],
                                     norms, batch_size=batch_size, progress="strength curve")
    curve = pd.concat([prefs.steering_deltas(curve_runs, n, steered, unsteered),
                       deltas[deltas.label.isin(prefs.PAPER_EMOTIONS) | deltas.label.isin([d.label for d in curve_randoms])]])
else:
    curve = deltas[deltas.label.isin(prefs.PAPER_EMOTIONS)].copy()
glue("curve_random", curve_random)
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
rand = curve[curve.kind == "random"].groupby("strength").delta_elo.agg(["min", "max"])
mass_rand = curve[curve.kind == "random"].groupby("strength").letter_mass.mean()
if len(rand):
    ax.fill_between(rand.index, rand["min"], rand["max"], color="#999", alpha=0.3, label="random directions")
    ax2.plot(mass_rand.index, mass_rand, color="#777", marker=".", label="random (mean)")
for k, e in enumerate(prefs.PAPER_EMOTIONS):
    g = curve[curve.label == e].sort_values("strength")
    ax.plot(g.strength, g.delta_elo, marker="o", color=plotting.PALETTE[k], label=e)
    ax2.plot(g.strength, g.letter_mass, marker="o", color=plotting.PALETTE[k], label=e)
ax.axhline(0, color="#444", lw=0.8)
ax.set(xlabel="strength (fraction of the residual norm)", ylabel="Elo change of the steered half",
       title=f"Strength curve, layer {L}")
ax2.set(xlabel="strength", ylabel="P(A or B)", title="Degradation: probability on the letters", ylim=(0, 1.02))
ax.legend(frameon=True, fontsize=8)
ax2.legend(frameon=True, fontsize=8)
plt.show()

# %% [markdown]
# ## Across layers
#
# The paper reports that the correlation holds at every layer while steering works only in
# middle layers. At every swept layer, the vectors of that layer (chapter 01's recipe, read from
# the cache when chapter 01 swept the layer): the blissful and hostile correlations with Elo
# (the activations of the same prompts at that layer), and the Elo changes when steering there
# at strength {glue:text}`strength` (norm of that layer), with {glue:text}`sweep_random` random
# directions per layer ({numref}`fig-07-layers`).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "By layer: left, the correlation of blissful and hostile activations with Elo (the permutation null's 5th-95th percentile band in grey); right, the Elo change when steering with them at that layer, with the range of the random directions (grey). The vertical line marks the chapter's layer.", "name": "fig-07-layers"}, "image": {"alt": "Two line charts against layer: correlation with Elo, and steering Elo change, for blissful and hostile with random ranges"}}
layer_rows = []
for Lx in sweep:
    svx = sv if Lx == L else prefs.chapter_vectors(m, layer=Lx, emotion_subset=emotions, n_neutral=n_neutral, seed=seed)
    sub = [e for e in prefs.PAPER_EMOTIONS]
    sc = svx.frame(feel_acts[Lx])[sub].to_numpy()
    cx = prefs.elo_correlations(sc, sub, elo, n_permutations=n_permutations, seed=seed).set_index("emotion")
    if Lx == L:
        dx = deltas[deltas.label.isin(sub) | deltas.label.isin([d.label for d in random_dirs[:sweep_random]])]
    else:
        dirs = [prefs.Direction(e, "emotion", {Lx: svx.vectors[e]}) for e in sub]
        dirs += prefs.random_directions(sweep_random, [Lx], m.d_model, seed)
        rx = prefs.steering_runs(m, steer_prompts, steered, [prefs.SteerCondition(d, strength) for d in dirs], norms,
                                 batch_size=batch_size, progress=f"layer {Lx}")
        dx = prefs.steering_deltas(rx, n, steered, unsteered)
    rnd = dx[dx.kind == "random"].delta_elo
    for e in sub:
        layer_rows.append({"layer": Lx, "emotion": e, "r": cx.loc[e, "r"], "null_p05": cx.loc[e, "null_p05"],
                           "null_p95": cx.loc[e, "null_p95"],
                           "delta_elo": float(dx[dx.label == e].delta_elo.iloc[0]),
                           "random_min": float(rnd.min()) if len(rnd) else np.nan,
                           "random_max": float(rnd.max()) if len(rnd) else np.nan})
by_layer = pd.DataFrame(layer_rows)
glue("sweep_random", sweep_random)
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
if len(by_layer):
    band = by_layer.groupby("layer")[["null_p05", "null_p95", "random_min", "random_max"]].mean()
    ax.fill_between(band.index, band.null_p05, band.null_p95, color="#999", alpha=0.3, label="Elo permuted")
    ax2.fill_between(band.index, band.random_min, band.random_max, color="#999", alpha=0.3, label="random directions")
    for k, e in enumerate(prefs.PAPER_EMOTIONS):
        g = by_layer[by_layer.emotion == e]
        ax.plot(g.layer, g.r, marker="o", color=plotting.PALETTE[k], label=e)
        ax2.plot(g.layer, g.delta_elo, marker="o", color=plotting.PALETTE[k], label=e)
for a in (ax, ax2):
    a.axvline(L, color="#6b6b6b", lw=0.8)
    a.legend(frameon=True, fontsize=8)
ax.set(xlabel="layer", ylabel="r with Elo", title="Read-out correlation by layer")
ax2.set(xlabel="layer", ylabel="Elo change", title=f"Steering at s = {strength} by layer")
plt.show()

# %% tags=["hide-input", "hide-output"]
by_layer.round(3)

# %% [markdown]
# ## Against the paper
#
# Each of the paper's claims beside our number and its control; a claim replicates only if our
# number lies beyond the control in the paper's direction.

# %% tags=["hide-input"]
r_of = {e: float(by_emotion.loc[e, "r"]) for e in prefs.PAPER_EMOTIONS}
metrics = {
    "n_activities": n, "n_categories": len(cats), "n_pairs_rated": len(pairs), "layer": L, "strength": strength,
    "residual_norm": norms[L], "letter_mass": float(outcomes.letter_mass.mean()),
    "mean_p_a": agreement["mean_p_a"], "order_consistency": agreement["order_consistency"],
    "elo_min": float(elo.min()), "elo_max": float(elo.max()), "elo_ci_width_mean": float(np.mean(elo_hi - elo_lo)),
    "r_blissful_elo": r_of["blissful"], "r_blissful_null_p95": float(by_emotion.loc["blissful", "null_p95"]),
    "r_blissful_p": float(by_emotion.loc["blissful", "p"]),
    "r_hostile_elo": r_of["hostile"], "r_hostile_null_p05": float(by_emotion.loc["hostile", "null_p05"]),
    "r_hostile_p": float(by_emotion.loc["hostile", "p"]),
    "top_positive_emotion": str(top_pos.emotion), "top_positive_r": float(top_pos.r),
    "top_negative_emotion": str(top_neg.emotion), "top_negative_r": float(top_neg.r),
    "n_emotions": len(sv.emotions), "n_steer_emotions": len(steer_names), "n_steer_pairs": len(steer_pair_list),
    "n_random": n_random,
    "delta_elo_blissful": float(emo.loc["blissful", "delta_elo"]),
    "delta_elo_hostile": float(emo.loc["hostile", "delta_elo"]),
    "z_blissful": float(emo.loc["blissful", "z"]), "z_hostile": float(emo.loc["hostile", "z"]),
    "random_delta_elo_p95": null.p95_abs, "random_delta_elo_neg_p95": -null.p95_abs,
    "random_delta_elo_mean": null.mean, "random_delta_elo_sd": null.sd,
    "steer_letter_mass_min": float(deltas.letter_mass.min()),
    "r_steer_vs_corr": steer_corr["r"], "r_steer_vs_corr_null_p95": steer_corr["null_p95"],
    "r_steer_vs_corr_p": steer_corr["p"],
    "n_traces": m.n_traces,
    "elo_by_category": {c: float(v) for c, v in by_category["mean"].items()},
    "by_layer": {f"{int(r.layer)}:{r.emotion}": {"r": float(r.r), "delta_elo": float(r.delta_elo)}
                 for r in by_layer.itertuples()},
}
pd.DataFrame([{"finding": c.finding, "paper": c.paper, "ours": c.cell(metrics), "control": c.control_label,
               "verdict": c.verdict(metrics)} for c in prefs.CHAPTER.claims]).set_index("finding")

# %% [markdown]
# ## Caveats
#
# - The model has {glue:text}`model_size` parameters, orders of magnitude fewer than the paper's.
#   Its forced choices carry a letter preference (mean P(A) {glue:text}`mean_p_a`; the same
#   activity preferred in both orders in {glue:text}`order_consistency` of the pairs); averaging
#   both orders removes the letter from the Elo but not the noise it adds.
# - The activities, their wording and their categories are ours, written for this book, not the
#   paper's; the question is asked with the options on their own lines rather than inline.
# - The activation is the mean over the activity's own tokens at one layer; the paper does not
#   fix every detail of the read-out.
# - The steering runs rate each steered activity against {glue:text}`n_opponents` unsteered
#   opponents, not against every activity, so the steered Elo is that of a smaller comparison
#   graph; the baseline uses the same pairs.
# - The emotions steered were chosen by their correlation with Elo (spread over the ranking), so
#   the steering-versus-correlation test is over a set that spans the range by design.
# - Elo measures preference on the model's own scale: a model close to indifference between
#   most activities gives a narrow Elo range, and steering effects on that scale are small in
#   absolute terms. The random directions are measured on the same scale, so the verdicts do not
#   depend on it, but the paper's Elo numbers cannot be compared with ours one to one.
# - With a subset of emotions (a quick run), the vectors are centred on that subset's mean, and
#   "which emotions correlate most" is asked of that subset only; a quick run also has fewer
#   activities and random directions, and its record says which parameters it overrode.

# %% [markdown]
# ## Record

# %% tags=["hide-input"]
params = {"model": model, "remote": remote, "dtype": dtype, "layer": L, "emotions": sv.emotions if emotions else "all",
          "n_neutral": len(dialogues), "per_category": per_category, "strength": strength, "n_steer": n_steer,
          "steer_emotions": steer_names, "n_opponents": n_opponents, "n_random": n_random, "n_bootstrap": n_bootstrap,
          "n_permutations": n_permutations, "curve_strengths": curve_s, "curve_random": curve_random,
          "sweep": sweep, "sweep_random": sweep_random, "steered": [activities[k].id for k in steered],
          "seed": seed, "recipe_source": sv.source}
print(f"wrote {write_record('07-preferences', m.alias, params, metrics)}")
