# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. Implicit scenarios
#
# **Question.** When a user's message implies an emotion without naming it (months without work
# and then an eviction notice; a child's first steps; a pet's diagnosis), does the model's
# representation at the start of its reply carry that emotion? The paper
# {cite}`sofroniew2026emotions` wrote 12 such prompts, read the emotion vectors' cosine at the
# token after "Assistant:", and reports a strong diagonal in the scenario x emotion heatmap
# (and "loving" rising in every scenario); it gives the result as a figure, without a number.
#
# We use {glue:text}`n_scenarios` user messages, two for each of {glue:text}`n_intended`
# intended emotions, none of which names an emotion or a listed synonym. Each message is
# rendered in the model's chat template and read at the last token of the Assistant header
# (for SmolLM2, the newline after `<|im_start|>assistant`): the position whose output predicts
# the Assistant's first token, the counterpart of the paper's "Assistant:" colon. For
# comparison we also read the user's last token. Against the book's vectors
# ({doc}`01-emotion-vectors`), we ask where the intended emotion ranks among all
# {glue:text}`n_emotions` vectors (is it in the top 5?) and whether the heatmap of messages
# against the intended emotions has a diagonal.
#
# **What failure would look like.** Three controls, stated before the result. (1) Each message
# has a **neutralised twin**, the same words with the emotional fact replaced by a neutral one
# ("trying the handle of my back door" becomes "reading the gas meter by my back door"): if the
# intended emotion ranks as high there, the vectors read the scenario's topic, not its emotion.
# (2) The intended labels **permuted across messages** (a null for the top-5 rate and for the
# diagonal gap; 95th percentile): an emotion that is high for every message sits at this null.
# (3) **Chance**: a random ranking puts the intended emotion in the top 5 with probability
# 5/{glue:text}`n_emotions` and gives it a mean rank of ({glue:text}`n_emotions` + 1)/2.

# %% tags=["parameters", "hide-input"]
model: str = "smollm2-135m-instruct"  # offline alias, local folder or Hugging Face id
remote: bool | str = False  # False; "local" (simulate NDIF here); True (NDIF, needs NDIF_API_KEY)
dtype: str = "bfloat16"  # "float32" or "bfloat16" (weights and reads)
layer: int | None = None  # None: the layer chapter 01 settled on for this model
reference: str = "settled"  # mean subtracted before the cosine: "settled" (chapter 01's), "own", "train", "neutral"
emotions: list[str] = []  # empty: all 171 vectors; a subset for a quick run (scenarios outside it are left out)
n_neutral: int = 0  # neutral dialogues for the vectors' projection (0: all)
batch_size: int = 8
sweep_step: int = 3  # layers swept: every sweep_step-th (and the chapter's layer); 0: none
n_permutations: int = 2000  # label permutations for the null
seed: int = 0

# %% [markdown]
# ## Setup

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from emotion_concepts import emotion_vectors, load_model, plotting, write_record
from emotion_concepts.book.present import glue, parameter_count
from emotion_concepts.findings import implicit_scenarios as imp

plotting.use_house_style()
torch.manual_seed(seed)
m = load_model(model, remote=remote, dtype=dtype)
settled, source = emotion_vectors.settled_recipe(m, layer)
sweep = emotion_vectors.sweep_layers(m.n_layers, settled.layer, sweep_step)
vectors = imp.settled_vectors_by_layer(m, sweep, emotions=emotions or None, n_neutral=n_neutral, seed=seed,
                                       batch_size=batch_size)
sv = vectors[settled.layer]
ref = None if reference == "settled" else reference
ref_name = sv.recipe.reference if ref is None else ref
emotion_names = sv.emotions
all_scenarios = imp.load_scenarios()
scenarios = imp.usable_scenarios(all_scenarios, emotion_names)
targets = imp.target_indices(scenarios, emotion_names)
columns = imp.intended_columns(scenarios, emotion_names)
chance5, chance_rank = imp.top5_chance(len(emotion_names)), imp.mean_rank_chance(len(emotion_names))
glue("model_size", parameter_count(m))
glue("n_scenarios", len(scenarios))
glue("n_intended", len(columns))
glue("n_emotions", len(emotion_names))
glue("layer", sv.layer)
glue("reference", ref_name)
print(f"{m.alias} ({parameter_count(m)} parameters, {dtype}): {m.n_layers} layers, d={m.d_model}")
print(f"vectors: {len(emotion_names)} emotions at layer {sv.layer}; recipe from {sv.source}; "
      f"scored with the '{ref_name}' reference")
if len(scenarios) < len(all_scenarios):
    print(f"{len(all_scenarios) - len(scenarios)} of {len(all_scenarios)} scenarios left out: their intended "
          f"emotion has no vector in this run")

# %% [markdown]
# What the model reads: one message and its twin, rendered in the chat template. The read is
# at the rendered text's last token (the Assistant header's) and, for comparison, at the last
# token of the user's message.

# %% tags=["hide-input"]
example = scenarios[0]
rendered = imp.assistant_prompts(m, [example.message])[0]
ids = m.tokenizer(rendered, add_special_tokens=False)["input_ids"]
user_ids = m.tokenizer(imp.user_last_prompts(m, [example.message])[0], add_special_tokens=False)["input_ids"]
print(rendered)
print(f"read at the Assistant's first token: token {len(ids) - 1} = {m.tokenizer.decode(ids[-1:])!r}; "
      f"at the user's last token: token {len(user_ids) - 1} = {m.tokenizer.decode(user_ids[-1:])!r}")
print(f"neutralised twin: {example.neutralised}")

# %% tags=["hide-input"]
emotional_msgs, neutral_msgs = [s.message for s in scenarios], [s.neutralised for s in scenarios]
reads = {pos: (imp.read_messages(m, emotional_msgs, sweep, pos, batch_size=batch_size),
               imp.read_messages(m, neutral_msgs, sweep, pos, batch_size=batch_size)) for pos in imp.POSITIONS}
scores = {(pos, L): imp.score_sets(vectors[L], reads[pos][0][L], reads[pos][1][L], ref)
          for pos in imp.POSITIONS for L in sweep}
emo, neu = scores[("assistant", sv.layer)]
stats = imp.summarise(emo, neu, targets, columns)
user_stats = imp.summarise(*scores[("user", sv.layer)], targets, columns)
top5_null = imp.label_permutation_test(lambda t: imp.top_k_rate(imp.intended_ranks(emo, t)), targets,
                                       n_permutations, seed)
gap_null = imp.label_permutation_test(lambda t: imp.diagonal_gap(emo, t, columns), targets, n_permutations, seed)
own_emo, own_neu = emo[np.arange(len(targets)), targets], neu[np.arange(len(targets)), targets]
paired = imp.paired_gain_test(own_emo, own_neu, n_permutations, seed)
glue("top5", stats["intended_top5_rate"], ".2f")
glue("top5_neutralised", stats["neutralised_top5_rate"], ".2f")
glue("top5_null", top5_null.null_p95, ".2f")
glue("chance5", chance5, ".3f")
glue("mean_rank", stats["intended_mean_rank"], ".1f")
glue("mean_rank_neutralised", stats["neutralised_mean_rank"], ".1f")
glue("chance_rank", chance_rank, ".1f")
glue("gap", stats["mean_diagonal_minus_offdiagonal"], ".3f")
glue("gap_null", gap_null.null_p95, ".3f")
glue("gap_p", gap_null.p_value, ".3g")
glue("paired_p", paired.p_value, ".3g")
glue("paired_gain", paired.statistic, ".4f")
glue("gap_neutralised", stats["neutralised_diagonal_minus_offdiagonal"], ".3f")
print(f"{len(scenarios)} messages and their twins read at layers {sweep}, scored against {len(emotion_names)} vectors")

# %% [markdown]
# ## The intended emotion's rank, against its controls
#
# At layer {glue:text}`layer`, the intended emotion is among the five highest of
# {glue:text}`n_emotions` vectors for {glue:text}`top5` of the messages, against
# {glue:text}`top5_neutralised` for their neutralised twins, {glue:text}`top5_null` at the
# 95th percentile of permuted labels, and {glue:text}`chance5` by chance
# ({numref}`fig-03-implicit-top5`). Its mean rank is {glue:text}`mean_rank` (neutralised twins:
# {glue:text}`mean_rank_neutralised`; chance {glue:text}`chance_rank`). Scenario by scenario
# ({numref}`fig-03-implicit-ranks`), each message's rank is drawn beside its twin's.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Share of messages whose intended emotion is among the five highest-scoring vectors, read at the Assistant's first token: the emotional messages and their neutralised twins, with chance (5/n) and the 95th percentile of the same rate with the intended labels permuted across messages.", "name": "fig-03-implicit-top5"}, "image": {"alt": "Bar chart of top-5 rate for emotional and neutralised messages with chance and permutation lines"}}
plotting.bar_with_controls(
    {"emotional": stats["intended_top5_rate"], "neutralised": stats["neutralised_top5_rate"]},
    {"chance (5/n)": {"emotional": chance5, "neutralised": chance5},
     "permuted labels, 95th pct": {"emotional": top5_null.null_p95}},
    title=f"Intended emotion in the top 5, layer {sv.layer}", ylabel="share of messages")
plt.show()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Rank of the intended emotion among all vectors for each message (filled) and its neutralised twin (open), read at the Assistant's first token; lower is better, the dotted line is the mean rank under a random ranking, the dashed line the top-5 boundary.", "name": "fig-03-implicit-ranks"}, "image": {"alt": "Dot plot of the intended emotion's rank per scenario for emotional and neutralised messages"}}
ranks = imp.rank_table(scenarios, emotion_names, emo, neu)
fig, ax = plt.subplots(figsize=(max(8, 0.28 * len(ranks)), 4))
x = np.arange(len(ranks))
ax.vlines(x, ranks["rank"], ranks["rank_neutralised"], color="#bbbbbb", lw=1)
ax.plot(x, ranks["rank"], "o", color=plotting.PALETTE[0], label="emotional message")
ax.plot(x, ranks["rank_neutralised"], "o", mfc="white", color=plotting.PALETTE[1], label="neutralised twin")
ax.axhline(chance_rank, color="#444", ls=":", lw=1, label="chance mean rank")
ax.axhline(imp.TOP_K + 0.5, color="#444", ls="--", lw=1, label="top-5 boundary")
ax.set_yscale("log")
ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 171) if t <= len(emotion_names)]
ax.set_yticks(ticks, [str(t) for t in ticks])
ax.set_ylim(len(emotion_names) * 1.1, 0.9)
ax.set_xticks(x, [f"{i.split('-')[-1]} {e}" for i, e in zip(ranks.index, ranks.intended, strict=True)],
              rotation=90, fontsize=8)
ax.set(ylabel=f"rank of the intended emotion (of {len(emotion_names)})", title="Rank per scenario")
ax.legend(frameon=True, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()

# %% tags=["hide-input", "hide-output"]
ranks.round(3)

# %% [markdown]
# ## The scenario x emotion heatmap
#
# Every message against every intended emotion, and each message minus its twin
# ({numref}`fig-03-implicit-heatmap`). The diagonal
# (each message's own intended emotion) exceeds the mean of the other intended emotions by
# {glue:text}`gap` on average; with the labels permuted across messages, the 95th percentile of
# that gap is {glue:text}`gap_null` (p = {glue:text}`gap_p`, {numref}`fig-03-implicit-null`); the
# neutralised twins' gap is {glue:text}`gap_neutralised`. The intended emotion's own score is
# higher in the emotional message than in its twin by {glue:text}`paired_gain` on average
# (sign flips within pairs: p = {glue:text}`paired_p`).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Cosine of each message (rows, grouped by intended emotion) with each intended emotion's vector (columns), read at the Assistant's first token: emotional messages (left) and their neutralised twins (middle), on one colour scale, and their difference (right, own scale): what the emotional fact adds. A diagonal of blocks is the paper's result.", "name": "fig-03-implicit-heatmap"}, "image": {"alt": "Three heatmaps of message by intended-emotion cosine: emotional, neutralised and their difference"}}
col_names = [emotion_names[c] for c in columns]
row_names = [f"{s.id.split('-')[-1]} {s.intended}" for s in scenarios]
limit = float(np.abs(np.concatenate([emo[:, columns], neu[:, columns]])).max())
fig, axes = plt.subplots(1, 3, figsize=(20, 0.3 * len(scenarios) + 3))
panels = ((emo, "emotional messages", limit), (neu, "neutralised twins", limit),
          (emo - neu, "emotional minus neutralised", float(np.abs((emo - neu)[:, columns]).max())))
for ax, (block, name, lim) in zip(axes, panels, strict=True):
    plotting.heatmap(block[:, columns], row_names, col_names, title=name, xlabel="emotion vector",
                     ylabel="message", cmap="vlag", center=0.0, annotate=False, ax=ax)
    ax.collections[0].set_clim(-lim, lim)
plt.show()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The diagonal gap (intended emotion minus the mean of the other intended emotions) against its null: the same gap with the intended labels permuted across messages. The gap of the neutralised twins is marked too.", "name": "fig-03-implicit-null"}, "image": {"alt": "Histogram of the permuted-label diagonal gap with the observed gaps marked"}}
fig, ax = plt.subplots(figsize=(7, 3.4))
ax.hist(gap_null.null, bins=40, color="#bbbbbb", label="permuted labels")
ax.axvline(gap_null.null_p95, color="#222", ls="--", lw=1, label="null 95th pct")
ax.axvline(stats["mean_diagonal_minus_offdiagonal"], color=plotting.PALETTE[0], lw=2, label="emotional messages")
ax.axvline(stats["neutralised_diagonal_minus_offdiagonal"], color=plotting.PALETTE[1], lw=2, ls=":",
           label="neutralised twins")
ax.set(xlabel="diagonal minus off-diagonal (cosine)", ylabel="permutations", title="Diagonal gap against its null")
ax.legend(frameon=True, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()

# %% tags=["hide-input"]
print(f"intended emotion's own score, emotional minus neutralised, mean over pairs: {paired.statistic:.4f} "
      f"(within-pair sign flips: p = {paired.p_value:.3g})")
print("emotions highest on average over the emotional messages (the paper saw 'loving' rise in all):")
imp.mean_top_emotions(emo, emotion_names).round(4).to_frame("mean cosine")

# %% [markdown]
# ## The user's last token, for comparison
#
# The same statistics read at the last token of the user's message, before the Assistant header.

# %% tags=["hide-input"]
pd.DataFrame({"Assistant's first token": stats, "user's last token": user_stats}).round(3)

# %% [markdown]
# ## Across layers
#
# The top-5 rate at every swept layer, with the vectors rebuilt at each layer by chapter 01's
# recipe, at both read positions and for both message sets ({numref}`fig-03-implicit-layers`).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Share of messages whose intended emotion is in the top 5, by layer: emotional messages (solid) and neutralised twins (dashed), read at the Assistant's first token and at the user's last token; chance dotted; the vertical line marks the chapter's layer.", "name": "fig-03-implicit-layers"}, "image": {"alt": "Line chart of top-5 rate against layer for two read positions and two message sets"}}
rows = []
for L in sweep:
    for pos in imp.POSITIONS:
        rows.append({"layer": L, "position": pos, **imp.summarise(*scores[(pos, L)], targets, columns)})
by_layer = pd.DataFrame(rows)
fig, ax = plt.subplots(figsize=(8, 3.6))
for i, pos in enumerate(imp.POSITIONS):
    g = by_layer[by_layer.position == pos]
    label = "Assistant's first token" if pos == "assistant" else "user's last token"
    ax.plot(g.layer, g.intended_top5_rate, marker="o", color=plotting.PALETTE[i], label=f"{label}, emotional")
    ax.plot(g.layer, g.neutralised_top5_rate, marker="o", mfc="white", ls="--", color=plotting.PALETTE[i],
            label=f"{label}, neutralised")
ax.axhline(chance5, color="#444", ls=":", lw=1, label="chance")
ax.axvline(sv.layer, color="#6b6b6b", lw=0.8)
ax.set(xlabel="layer", ylabel="intended emotion in top 5", title="Top-5 rate by layer")
ax.legend(frameon=True, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()

# %% tags=["hide-input", "hide-output"]
by_layer.round(3)

# %% [markdown]
# ## Caveats
#
# - The model has {glue:text}`model_size` parameters, orders of magnitude fewer than the paper's.
# - {glue:text}`n_scenarios` messages, two per intended emotion, written by one model family to a
#   brief; many emotions have near neighbours among the vectors (afraid, scared, terrified), so a
#   rank just outside the top 5 can still be the right region of the space.
# - The neutralised twin changes a few words; it removes the emotional fact but can leave cues
#   (a missing child's name, a bank, a deadline) that carry some of the emotion.
# - With the 'own' reference, the scored set's mean is subtracted: here all emotional and
#   neutralised messages together, so the control shares the result's reference. A message's
#   scores depend on which other messages are in the set.
# - The layer is chapter 01's, chosen on stories, not on these messages; the sweep shows the
#   other layers without choosing among them.

# %% [markdown]
# ## Record

# %% tags=["hide-input"]
best = by_layer[by_layer.position == "assistant"].set_index("layer").intended_top5_rate
metrics = {
    **stats,
    "top5_null_p95": top5_null.null_p95, "top5_p_value": top5_null.p_value,
    "diagonal_gap_null_p95": gap_null.null_p95, "diagonal_gap_p_value": gap_null.p_value,
    "paired_gain": paired.statistic, "paired_gain_p_value": paired.p_value,
    **{f"user_{k}": v for k, v in user_stats.items()},
    "chance_top5": chance5, "chance_mean_rank": chance_rank,
    "n_scenarios": len(scenarios), "n_intended_emotions": len(columns), "n_emotions": len(emotion_names),
    "layer": sv.layer, "reference": ref_name,
    "best_layer_intended_top5": int(best.idxmax()), "best_layer_intended_top5_value": float(best.max()),
    "n_traces": m.n_traces,
    "ranks": {i: {"intended": r.intended, "rank": int(r["rank"]), "rank_neutralised": int(r.rank_neutralised)}
              for i, r in ranks.iterrows()},
}
params = {"model": model, "remote": remote, "dtype": dtype, "layer": sv.layer, "reference": reference,
          "recipe_source": sv.source, "n_emotions": len(emotion_names), "n_neutral": n_neutral,
          "sweep": sweep, "n_permutations": n_permutations, "seed": seed}
print(f"wrote {write_record('03-implicit-scenarios', m.alias, params, metrics)}")
