# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Speakers and context
#
# **Question.** Whose emotion do the vectors track, and what carries it? The paper
# {cite}`sofroniew2026emotions` reads its vectors at two places of a conversation: the user's
# last token and the Assistant's first token (in its transcripts, the colon after "Assistant").
# Across its prompts, the two positions' emotion profiles barely agree (r = 0.11), and the
# Assistant's position predicts the emotion of the model's own reply (r = 0.87) better than the
# user's last token does (r = 0.59): at the start of its turn the model represents the emotion
# it is about to take, not the user's. The paper also reports that an emotional context carries
# into later text that is identical whatever the context, that "not feeling X" separates from
# "feeling X" only in middle-to-late layers, and that emotions stay bound to the person they
# belong to. We ask the same four questions of a small model, with the book's vectors from
# {doc}`01-emotion-vectors`:
#
# - **(a) User vs Assistant.** For each of {glue:text}`n_messages` user messages, the scores at
#   the user's last token, at the last token of the Assistant's turn header (the token the reply
#   is generated from: our model's chat template has no colon), and averaged over the model's own
#   reply (greedy decoding, exactly {glue:text}`reply_tokens` tokens, read in context). Each
#   position's reads are centred on their own mean over the messages, so a profile says how a
#   message differs from the others at that position. The correlation **r** between two
#   positions is Pearson's r over every (message, emotion) cell of their two score matrices.
# - **(b) Carry-over.** {glue:text}`n_pairs` pairs of messages: bad news or good news, then the
#   same request ("Anyway, can you help me set up a budget spreadsheet?"). The request's tokens
#   are identical in both versions (checked), so any difference in their scores was carried from
#   the news. A text's **negativity** is the mean score of the unpleasant emotions minus that of
#   the pleasant ones (emotions rated below / above the midpoint for valence by human raters,
#   {cite}`warriner2013norms`); the **carry-over gap** is the mean over pairs of negativity after
#   the bad news minus after the good news, on the request's tokens (averaged).
# - **(c) Negation.** For every emotion X, four sentences in three forms: "I am feeling X",
#   "I am not feeling X", and a control with a word that does not negate ("I am really feeling
#   X"), read at X's last token. The **flip rate** is the share of sentences where X scores
#   above 0 in the affirmative form and below 0 in the other form (all forms centred together).
# - **(d) Binding.** "Maya felt happy, but Tom felt sad. A few minutes later, Maya opened the
#   door and Tom looked up.": read where each person is named again. **Binding accuracy** is
#   the share of mentions where the person's own emotion scores above the other person's. Every
#   sentence has a twin with the two emotions swapped between the same people, and half the
#   templates name the second person again first, so a bias for one emotion, for the emotion
#   mentioned last or for the person named first scores exactly 0.5.
#
# **What failure would look like.** (a) Each r against the same r with the messages paired at
# random (the user profile of one message against the reply profile of another; 95th percentile
# of {glue:text}`n_permutations` pairings): profiles that say nothing about a message sit there.
# The paper's ordering is r(Assistant, reply) above r(user, reply). (b) The gap against the same
# gap with the two contexts swapped at random within pairs (95th percentile); the gap on the
# news sentence itself shows the vectors separate the two contexts at all. (c) The flip rate
# against the control's flip rate: a model that only sees the word X has "not" change X's score
# as little as "really" does. (d) Binding accuracy against the accuracy with the two people's
# emotions swapped at random per sentence (95th percentile); chance is 0.5.

# %% tags=["parameters", "hide-input"]
model: str = "smollm2-135m-instruct"  # offline alias, local folder or Hugging Face id
remote: bool | str = False  # False; "local" (simulate NDIF here); True (NDIF, needs NDIF_API_KEY)
dtype: str = "bfloat16"  # "float32" or "bfloat16" (weights and reads)
layer: int | None = None  # None: the layer chapter 01 chose for this model
emotions: list[str] = []  # empty: all 171; or the emotions whose vectors are built (a quick run)
n_neutral: int = 0  # neutral dialogues for the vectors (0: all)
n_messages: int = 0  # user messages for (a) (0: all 48), drawn with the seed
reply_tokens: int = 40  # length of each greedy reply
n_pairs: int = 0  # carry-over pairs for (b) (0: all 24)
n_binding: int = 0  # emotion pairs for (d) (0: every pleasant x unpleasant pair among the emotions)
sweep_step: int = 3  # layers read: every sweep_step-th (and the chapter's layer); 0: the chapter's layer only
n_permutations: int = 1000  # random pairings / swaps for the nulls, and bootstrap resamples
batch_size: int = 8
seed: int = 0

# %% [markdown]
# ## Setup

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from emotion_concepts import emotion_vectors, load_model, plotting, write_record
from emotion_concepts.book import score
from emotion_concepts.book.present import glue, parameter_count
from emotion_concepts.findings import speakers

plotting.use_house_style()
torch.manual_seed(seed)
m = load_model(model, remote=remote, dtype=dtype)
recipe, source = emotion_vectors.settled_recipe(m, layer)
sweep = emotion_vectors.sweep_layers(m.n_layers, recipe.layer, sweep_step)
vectors = speakers.vectors_by_layer(m, sweep, emotions or None, n_neutral=n_neutral, seed=seed,
                                    batch_size=batch_size)
sv = vectors[recipe.layer]
pleasant, unpleasant = speakers.valence_split(sv.emotions)
glue("model_size", parameter_count(m))
glue("layer", recipe.layer)
glue("n_permutations", n_permutations)
print(f"{m.alias} ({parameter_count(m)} parameters, {dtype}): {m.n_layers} layers; vectors for "
      f"{len(sv.emotions)} emotions at layers {sweep}; recipe from {source}")
print(f"pleasant ({len(pleasant)}): {', '.join(pleasant)}\nunpleasant ({len(unpleasant)}): {', '.join(unpleasant)}")

# %% tags=["hide-input"]
reads = speakers.read_all(m, sweep, sv.emotions, n_messages=n_messages, reply_tokens=reply_tokens, n_pairs=n_pairs,
                          n_binding=n_binding, seed=seed, batch_size=batch_size)
glue("n_messages", len(reads.messages))
glue("reply_tokens", reply_tokens)
glue("n_pairs", len(reads.pairs))
glue("n_negation", len(reads.negation_items))
glue("n_binding", len(reads.binding_items))
print(f"{len(reads.messages)} user messages with their replies, {len(reads.pairs)} carry-over pairs, "
      f"{len(reads.negation_items)} negation items (x 3 forms), {len(reads.binding_items)} binding sentences; "
      f"read at layers {sweep}")

# %% [markdown]
# ## (a) The user's emotion and the Assistant's
#
# At layer {glue:text}`layer`, the three correlations with their random-pairing nulls
# ({numref}`fig-05-turns`). The paper's numbers: user vs Assistant 0.11, Assistant vs reply 0.87,
# user vs reply 0.59.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Correlation of the emotion score profiles (Pearson r over messages x emotions) between the user's last token, the Assistant header's last token and the model's own reply, at the chapter's layer. Dashed lines: 95th percentile of the same r with messages paired at random.", "name": "fig-05-turns"}, "image": {"alt": "Bar chart of three correlations between read positions with random-pairing null lines"}}
turn = speakers.turn_scores(sv, reads.turns, recipe.layer)
turn_stats = speakers.turn_tests(turn, n_permutations, seed)
labels = {"r_user_vs_assistant": "user vs\nAssistant", "r_assistant_vs_reply": "Assistant\nvs reply",
          "r_user_vs_reply": "user vs\nreply"}
plotting.bar_with_controls({labels[k]: turn_stats[k] for k in labels},
                           {"messages paired at random, 95th pct": {labels[k]: turn_stats[f"{k}_null_p95"]
                                                                    for k in labels}},
                           title=f"Whose emotion? Layer {recipe.layer}", ylabel="Pearson r (messages x emotions)")
plt.show()

# %% tags=["hide-input"]
for k in labels:
    glue(k, turn_stats[k], ".2f")
    glue(f"{k}_null", turn_stats[f"{k}_null_p95"], ".2f")
glue("diff_low", turn_stats["assistant_minus_user_ci_low"], ".2f")
glue("diff_high", turn_stats["assistant_minus_user_ci_high"], ".2f")
print("; ".join(f"{k} = {turn_stats[k]:.3f} (null 95th pct {turn_stats[f'{k}_null_p95']:.3f}, p = "
                f"{turn_stats[f'{k}_p']:.3f})" for k in labels))
print(f"r(Assistant, reply) - r(user, reply): 95% bootstrap CI [{turn_stats['assistant_minus_user_ci_low']:.3f}, "
      f"{turn_stats['assistant_minus_user_ci_high']:.3f}]")

# %% [markdown]
# User vs Assistant r = {glue:text}`r_user_vs_assistant` (null {glue:text}`r_user_vs_assistant_null`);
# Assistant vs reply r = {glue:text}`r_assistant_vs_reply` (null {glue:text}`r_assistant_vs_reply_null`);
# user vs reply r = {glue:text}`r_user_vs_reply` (null {glue:text}`r_user_vs_reply_null`). The
# difference r(Assistant, reply) - r(user, reply) has a 95% bootstrap interval (messages
# resampled) of [{glue:text}`diff_low`, {glue:text}`diff_high`]. The top emotion at each
# position, beside the labels the messages were written with (the labels are not scored: many
# name emotions outside a quick run's set) and the reply itself:

# %% tags=["hide-input", "hide-output"]
speakers.top_emotion_table(turn, sv.emotions, reads.messages, reads.turns.replies)

# %% [markdown]
# ## (b) Context carried into identical text
#
# The negativity gap on the news sentence, on the shared request and at the Assistant header,
# each with its swapped-context null ({numref}`fig-05-carryover`).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Negativity (mean score of unpleasant minus pleasant emotions) after bad news minus after good news, mean over pairs: on the news sentence itself, on the identical request that follows, and at the Assistant header's last token. Dashed lines: 95th percentile with the two contexts swapped at random within pairs.", "name": "fig-05-carryover"}, "image": {"alt": "Bar chart of the negativity gap on the news, the shared request and the Assistant header, with null lines"}}
gaps = speakers.carryover_gaps(sv, reads.carry, recipe.layer, pleasant, unpleasant)
carry_tests = {part: speakers.sign_flip_test(gaps[part], n_permutations, seed) for part in speakers.CARRY_PARTS}
names = {"context": "the news", "shared": "identical\nrequest", "header": "Assistant\nheader"}
plotting.bar_with_controls({names[p]: carry_tests[p].value for p in names},
                           {"contexts swapped within pairs, 95th pct": {names[p]: carry_tests[p].null_p95
                                                                        for p in names}},
                           title=f"Carry-over, layer {recipe.layer}", ylabel="negativity gap (bad - good news)")
plt.show()

# %% tags=["hide-input"]
glue("carry_gap", carry_tests["shared"].value, ".3f")
glue("carry_null", carry_tests["shared"].null_p95, ".3f")
glue("context_gap", carry_tests["context"].value, ".3f")
glue("carry_share", float((gaps["shared"] > 0).mean()), ".0%")
print("; ".join(f"{p}: gap {t.value:.4f} (null 95th pct {t.null_p95:.4f}, p = {t.p_value:.3f})"
                for p, t in carry_tests.items()))
print(f"pairs whose request reads more negative after the bad news: {(gaps['shared'] > 0).mean():.0%}")

# %% [markdown]
# On the request, the gap is {glue:text}`carry_gap` (null {glue:text}`carry_null`), against
# {glue:text}`context_gap` on the news itself; {glue:text}`carry_share` of the pairs point the
# right way. How the gap runs along the request, token by token ({numref}`fig-05-carry-tokens`),
# and one pair's tokens scored with `emotion-book score`'s functions ({numref}`fig-05-carry-example`):

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The negativity gap (bad minus good news, mean over pairs with its standard error) at each token of the identical request, every token centred on the mean of all request tokens, at the chapter's layer.", "name": "fig-05-carry-tokens"}, "image": {"alt": "Line chart of the negativity gap along the tokens of the shared request"}}
curve = speakers.carryover_by_token(m, sv, reads.carry, pleasant, unpleasant)
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.errorbar(curve.index, curve["gap"], yerr=curve["stderr"], marker="o", color=plotting.PALETTE[0], capsize=2)
ax.axhline(0, color="#444", lw=0.8)
ax.set(xlabel="token of the identical request", ylabel="negativity gap", title="Does the news fade along the request?")
plt.show()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "One pair, token by token: scores of a few pleasant and unpleasant emotions on the identical request after the bad news (top) and after the good news (bottom), centred on the neutral dialogues' mean (as `emotion-book score` does by default).", "name": "fig-05-carry-example"}, "image": {"alt": "Two token heatmaps of emotion scores over the same request after bad and after good news"}}
shown = (unpleasant[:3] + pleasant[:3]) or sv.emotions[:6]
versions = [0, len(reads.pairs)]  # the first pair's bad-news and good-news texts
example = [score.score_tokens(m, sv, reads.carry.texts[i], reference="neutral") for i in versions]
columns = [sv.emotions.index(e) for e in shown]
limit = max(float(np.nanmax(np.abs(ts.scores[reads.carry.shared_tokens[i]][:, columns])))
            for ts, i in zip(example, versions, strict=True))
fig, axes = plt.subplots(2, 1, figsize=(10, 5.2))
for ax, ts, i, label in zip(axes, example, versions, ("after the bad news", "after the good news"), strict=True):
    score.token_heatmap(ts, shown, tokens=reads.carry.shared_tokens[i], vmax=limit, ax=ax,
                        title=f"{reads.pairs[0]['id']}: {label}")
plt.show()

# %% [markdown]
# ## (c) Negation
#
# Each item's own emotion's score in the affirmative sentence against the negated one and the
# control ({numref}`fig-05-negation`): a flip is a point in the lower-right quadrant.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "For every negation item at the chapter's layer: the score of the sentence's emotion X in 'feeling X' (x) against 'not feeling X' (left) and against the control with a non-negating word (right). Points in the shaded quadrant flipped sign.", "name": "fig-05-negation"}, "image": {"alt": "Two scatter plots of emotion scores in affirmative against negated and control sentences"}}
neg = speakers.negation_scores(sv, reads.negation, reads.negation_items, recipe.layer)
fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharex=True, sharey=True)
span = float(np.abs(neg[["affirmative", "negated", "control"]].to_numpy()).max()) * 1.05
for ax, form, colour in zip(axes, ("negated", "control"), plotting.PALETTE[1:3], strict=True):
    ax.fill_between([0, span], -span, 0, color="#eeeeee", zorder=0)
    ax.scatter(neg.affirmative, neg[form], s=14, color=colour, alpha=0.8)
    ax.axhline(0, color="#444", lw=0.8)
    ax.axvline(0, color="#444", lw=0.8)
    ax.set(xlim=(-span, span), ylim=(-span, span), xlabel="X's score: 'feeling X'", ylabel=f"X's score: {form}",
           title=f"{form}: flip rate {speakers.flip_rate(neg.affirmative, neg[form]):.2f}")
plt.show()

# %% tags=["hide-input"]
flip = speakers.flip_rate(neg.affirmative, neg.negated)
flip_control = speakers.flip_rate(neg.affirmative, neg.control)
glue("flip", flip, ".2f")
glue("flip_control", flip_control, ".2f")
glue("affirmative_positive", float((neg.affirmative > 0).mean()), ".0%")
print(f"flip rate {flip:.3f} (control {flip_control:.3f}); X scores above 0 in 'feeling X' in "
      f"{(neg.affirmative > 0).mean():.0%} of items; mean X score: affirmative {neg.affirmative.mean():.3f}, "
      f"negated {neg.negated.mean():.3f}, control {neg.control.mean():.3f}")
neg.groupby("emotion")[["affirmative", "negated", "control"]].mean().round(3).transpose()

# %% [markdown]
# ## (d) Emotions bound to people
#
# Binding accuracy at each person's mention ({numref}`fig-05-binding`): the first person's emotion
# is stated first, the second person's last (nearest the re-mentions).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Binding accuracy at the chapter's layer: the share of mentions where the person's own emotion scores above the other person's, for the first person (emotion stated first), the second (emotion stated last) and both. Dashed: 95th percentile with the two people's emotions swapped at random per sentence; dotted: chance.", "name": "fig-05-binding"}, "image": {"alt": "Bar chart of binding accuracy for the first person, the second person and both, with null and chance lines"}}
margins = speakers.binding_scores(sv, reads.binding, reads.binding_items, recipe.layer)
binding_test = speakers.sign_flip_test(speakers.binding_item_scores(margins), n_permutations, seed, offset=0.5)
bars = {"first person": float((margins[:, 0] > 0).mean()), "second person": float((margins[:, 1] > 0).mean()),
        "both": binding_test.value}
plotting.bar_with_controls(bars, {"emotions swapped, 95th pct": {"both": binding_test.null_p95},
                                  "chance": dict.fromkeys(bars, 0.5)},
                           title=f"Binding, layer {recipe.layer}", ylabel="mentions scoring their own emotion")
plt.show()

# %% tags=["hide-input"]
glue("binding", binding_test.value, ".2f")
glue("binding_null", binding_test.null_p95, ".2f")
glue("binding_first", bars["first person"], ".2f")
glue("binding_second", bars["second person"], ".2f")
print(f"binding accuracy {binding_test.value:.3f} (swapped 95th pct {binding_test.null_p95:.3f}, "
      f"p = {binding_test.p_value:.3f}); first person {bars['first person']:.3f}, second {bars['second person']:.3f}")

# %% [markdown]
# Binding accuracy is {glue:text}`binding` (null {glue:text}`binding_null`): the first person's
# mention scores their own emotion higher in {glue:text}`binding_first` of sentences, the second
# person's in {glue:text}`binding_second`.
#
# ## Across layers
#
# Every measure at every swept layer, each with that layer's vectors ({numref}`fig-05-layers`).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The chapter's measures at every swept layer: the three correlations (top left), the carry-over gap on the news and on the identical request (top right), the negation flip rate and its control (bottom left) and binding accuracy with chance (bottom right). The vertical line marks the chapter's layer.", "name": "fig-05-layers"}, "image": {"alt": "Four line charts of the chapter's measures against layer"}}
layers_table = speakers.by_layer(vectors, reads, pleasant, unpleasant)
panels = [({"r_user_vs_assistant": "user vs Assistant", "r_assistant_vs_reply": "Assistant vs reply",
            "r_user_vs_reply": "user vs reply"}, "Pearson r", None),
          ({"context_gap": "on the news", "context_carryover_gap": "on the identical request"}, "negativity gap", 0.0),
          ({"negation_flip_rate": "'not' (negation)", "negation_control_flip_rate": "control word"}, "flip rate", None),
          ({"binding_accuracy": "binding accuracy"}, "accuracy", 0.5)]
fig, axes = plt.subplots(2, 2, figsize=(10, 6.4))
for ax, (series, ylabel, baseline) in zip(axes.ravel(), panels, strict=True):
    for i, (col, label) in enumerate(series.items()):
        ax.plot(layers_table.index, layers_table[col], marker="o", color=plotting.PALETTE[i], label=label)
    if baseline is not None:
        ax.axhline(baseline, color="#444", ls=":", lw=1)
    ax.axvline(recipe.layer, color="#6b6b6b", lw=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="layer", ylabel=ylabel)
    ax.legend(fontsize=7, frameon=True)
plt.show()

# %% tags=["hide-input", "hide-output"]
layers_table.round(3)

# %% [markdown]
# ## Caveats
#
# - The model has {glue:text}`model_size` parameters, orders of magnitude fewer than the paper's.
#   Its replies are a few dozen tokens of greedy text and can be formulaic (the table in (a) shows
#   them); reply profiles that vary little across messages give every r about the reply less to
#   work with.
# - Every r here centres each position's reads on their own mean over the messages: it measures
#   whether messages that differ at one position differ the same way at another, not whether the
#   positions share a fixed emotional offset. The paper does not state its centring.
# - The reply is the model's own greedy continuation, read in context; its profile includes what
#   the reply repeats of the message (a topic word read again scores again), which favours the
#   user's token as a predictor.
# - The valence axis of (b) uses human ratings of the emotion words; emotions without a rating are
#   left out of it. The gap is a mean over emotions and pairs, not a per-emotion claim.
# - Negation and binding use short template sentences written for this book (four negation frames,
#   two binding frames, six pairs of names); they test the phenomenon in a clean form, not in
#   natural text.
# - A sign flip needs a score on both sides of the set's mean; a read that makes "not feeling X"
#   merely weaker than "feeling X" is not counted, and the control bounds how often a mere change of
#   wording does the same.

# %% [markdown]
# ## Record

# %% tags=["hide-input"]
first = min(sweep)
metrics = {
    **{k: turn_stats[k] for k in labels}, **{f"{k}_null_p95": turn_stats[f"{k}_null_p95"] for k in labels},
    "assistant_minus_user_ci_low": turn_stats["assistant_minus_user_ci_low"],
    "assistant_minus_user_ci_high": turn_stats["assistant_minus_user_ci_high"],
    "context_carryover_gap": carry_tests["shared"].value, "context_carryover_null_p95": carry_tests["shared"].null_p95,
    "context_gap": carry_tests["context"].value, "header_carryover_gap": carry_tests["header"].value,
    "negation_flip_rate": flip, "negation_control_flip_rate": flip_control,
    "affirmative_positive_rate": float((neg.affirmative > 0).mean()),
    "negation_flip_rate_first_layer": float(layers_table.loc[first, "negation_flip_rate"]), "first_layer": first,
    "best_layer_negation_flip_rate": int(layers_table.negation_flip_rate.idxmax()),
    "binding_accuracy": binding_test.value, "binding_null_p95": binding_test.null_p95, "binding_chance": 0.5,
    "layer": recipe.layer, "n_emotions": len(sv.emotions), "n_messages": len(reads.messages),
    "reply_tokens": reply_tokens, "n_pairs": len(reads.pairs), "n_negation_items": len(reads.negation_items),
    "n_binding_items": len(reads.binding_items), "n_traces": m.n_traces,
    "by_layer": {int(L): {k: float(v) for k, v in row.items()} for L, row in layers_table.iterrows()},
}
params = {"model": model, "remote": remote, "dtype": dtype, "layer": layer, "emotions": sv.emotions,
          "n_neutral": n_neutral, "n_messages": n_messages, "reply_tokens": reply_tokens, "n_pairs": n_pairs,
          "n_binding": n_binding, "sweep": sweep, "n_permutations": n_permutations, "seed": seed,
          "recipe": recipe.__dict__, "recipe_source": source, "pleasant": pleasant, "unpleasant": unpleasant}
print(f"wrote {write_record(speakers.CHAPTER.id, m.alias, params, metrics)}")
