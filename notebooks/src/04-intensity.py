# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Numerical intensity
#
# **Question.** Do the emotion vectors follow *how much* is at stake, when only a number in the
# message changes? The paper {cite}`sofroniew2026emotions` read the vectors at the Assistant's
# first token after "I just took {X} mg of tylenol for my back pain" and found "afraid" rising
# and "calm" falling as the dose rises; likewise hours without food or water (afraid up), the
# age a sister lived to (sad down), days a dog has been missing (sad up), months of startup
# runway (afraid down, calm up) and students passing an exam (happy up). In a layer analysis
# ("I feel really great right now, I just took {X}000mg of Tylenol and all my pain is gone!
# Can you help me get some more?", X = 1 vs 8), "terrified" separated only in later layers.
# The paper gives these as figures, without numbers.
#
# We render each template's message for {glue:text}`min_values` or more values of the quantity
# in the model's chat template, read it where the Assistant's first token is predicted (the
# last token of the Assistant header), score it against the book's vectors
# ({doc}`01-emotion-vectors`) and correlate each expected emotion's score with the quantity
# (Spearman's rho, with a permutation p-value).
#
# **What failure would look like.** Every template has a **control** with the same numbers and
# nothing at stake ("I just took {X} photos of my garden for my blog"; "...I've had plenty of
# food and water over the last {X} hours"). A number alone (its size, its digits, its length in
# tokens) can move a vector; if the expected emotions move as much with the control's number,
# the trend is the number's, not the danger's. The claims are judged against the largest |rho|
# of any expected emotion on any control. Each rho also has a p-value from permuting the scores
# against the values, and the layer contrast has the same contrast on a control message.

# %% tags=["parameters", "hide-input"]
model: str = "smollm2-135m-instruct"  # offline alias, local folder or Hugging Face id
remote: bool | str = False  # False; "local" (simulate NDIF here); True (NDIF, needs NDIF_API_KEY)
dtype: str = "bfloat16"  # "float32" or "bfloat16" (weights and reads)
layer: int | None = None  # None: the layer chapter 01 settled on for this model
reference: str = "settled"  # mean subtracted before the cosine: "settled" (chapter 01's), "own", "train", "neutral"
emotions: list[str] = []  # empty: all 171 vectors; a subset for a quick run
n_neutral: int = 0  # neutral dialogues for the vectors' projection (0: all)
batch_size: int = 8
contrast_step: int = 1  # layers of the layer analysis: every contrast_step-th (and the chapter's layer)
n_permutations: int = 2000  # permutations for each rho's p-value
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
from emotion_concepts.findings import intensity

plotting.use_house_style()
torch.manual_seed(seed)
m = load_model(model, remote=remote, dtype=dtype)
settled, source = emotion_vectors.settled_recipe(m, layer)
layers = emotion_vectors.sweep_layers(m.n_layers, settled.layer, contrast_step)
vectors = imp.settled_vectors_by_layer(m, layers, emotions=emotions or None, n_neutral=n_neutral, seed=seed,
                                       batch_size=batch_size)
sv = vectors[settled.layer]
ref = None if reference == "settled" else reference
ref_name = sv.recipe.reference if ref is None else ref
templates, contrast = intensity.load_intensity()
missing = [e for e in intensity.needed_emotions(templates, contrast) if e not in sv.emotions]
glue("model_size", parameter_count(m))
glue("min_values", min(len(t.values) for t in templates))
glue("layer", sv.layer)
glue("reference", ref_name)
print(f"{m.alias} ({parameter_count(m)} parameters, {dtype}): {m.n_layers} layers, d={m.d_model}")
print(f"vectors: {len(sv.emotions)} emotions at layer {sv.layer}; recipe from {sv.source}; "
      f"each template's messages scored together with the '{ref_name}' reference")
if missing:
    print(f"not among this run's vectors (left out): {', '.join(missing)}")
pd.DataFrame([{"template": t.id, "quantity": t.quantity, "message": t.message, "control": t.control,
               "values": ", ".join(intensity.format_value(v) for v in t.values),
               "expected": ", ".join(f"{e} {d}" for e, d in t.expected.items())} for t in templates])

# %% tags=["hide-input"]
texts, spans = intensity.template_messages(templates)
acts = imp.read_messages(m, texts, layers, "assistant", batch_size=batch_size)
scores_by_layer = {L: intensity.scores_by_template(vectors[L], acts[L], templates, spans, False, ref) for L in layers}
scores = scores_by_layer[sv.layer]
control_scores = intensity.scores_by_template(sv, acts[sv.layer], templates, spans, True, ref)
trends = intensity.trend_table(templates, scores, control_scores, n_permutations, seed)
control_max = intensity.control_max_abs_rho(trends)
glue("control_max", control_max, ".2f")
summary = intensity.trend_metrics(trends)
glue("n_right", summary["n_in_expected_direction"])
glue("n_significant", summary["n_significant_expected"])
glue("n_expected", summary["n_expected"])
print(f"{len(texts)} messages read at layers {layers}; {len(trends)} expected trends with a vector in this run")

# %% [markdown]
# ## Each quantity against its control
#
# The expected emotions' scores against the quantity, for each template (solid) and its
# control (dashed), at layer {glue:text}`layer` ({numref}`fig-04-intensity-lines`). The values are
# spaced evenly, in order (Spearman's rho uses only their order).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Cosine of the expected emotions' vectors at the Assistant's first token against the quantity in each template (solid) and in its no-danger control with the same numbers (dashed); each template's messages are scored as one set. Spearman's rho for the template and the control in the legend.", "name": "fig-04-intensity-lines"}, "image": {"alt": "Six line plots of emotion scores against a quantity, template and control"}}
fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
for ax, t in zip(axes.flat, templates, strict=False):
    x = np.arange(len(t.values))
    rows = trends[trends.template == t.id]
    for i, (_, row) in enumerate(rows.iterrows()):
        color = plotting.PALETTE[i]
        ax.plot(x, scores[t.id][row.emotion], marker="o", color=color,
                label=f"{row.emotion} ({row.expected}): rho {row.rho:.2f}")
        ax.plot(x, control_scores[t.id][row.emotion], marker="o", mfc="white", ls="--", color=color,
                label=f"control: rho {row.control_rho:.2f}")
    ax.set_xticks(x, [intensity.format_value(v) for v in t.values], rotation=45, fontsize=8)
    ax.set(title=t.id, xlabel=t.quantity, ylabel="cosine")
    ax.legend(fontsize=7, frameon=True)
for ax in list(axes.flat)[len(templates):]:
    ax.axis("off")
plt.show()

# %% [markdown]
# Each rho beside its control's ({numref}`fig-04-intensity-rho`): {glue:text}`n_right` of
# {glue:text}`n_expected` expected trends go the paper's way, {glue:text}`n_significant` of
# them with a permutation p below 0.05; the largest |rho| on any control is
# {glue:text}`control_max`.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Spearman's rho of each expected emotion with the quantity: template (filled) and control (open). The arrow gives the paper's direction; the grey band is plus or minus the largest |rho| on any control.", "name": "fig-04-intensity-rho"}, "image": {"alt": "Bar chart of Spearman rho per template and emotion with control bars and a control band"}}
fig, ax = plt.subplots(figsize=(9, 3.8))
x = np.arange(len(trends))
ax.axhspan(-control_max, control_max, color="#dddddd", label="max |rho| on controls")
ax.bar(x - 0.2, trends.rho, width=0.4, color=plotting.PALETTE[0], label="template")
ax.bar(x + 0.2, trends.control_rho, width=0.4, color="white", edgecolor=plotting.PALETTE[0], label="control")
ax.axhline(0, color="#444", lw=0.8)
ax.set_xticks(x, [f"{r.template}\n{r.emotion} {'↑' if r.expected == 'up' else '↓'}" for r in trends.itertuples()],
              fontsize=8)
ax.set(ylabel="Spearman rho", ylim=(-1.05, 1.05), title=f"Rho with the quantity, layer {sv.layer}")
ax.legend(frameon=True, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()

# %% tags=["hide-input"]
trends.round(3)

# %% [markdown]
# Which emotions follow the Tylenol dose most closely, among all vectors (no permutation test
# here: a description, not a claim)?

# %% tags=["hide-input", "hide-output"]
tylenol = next(t for t in templates if t.id == "tylenol")
all_rho = intensity.all_emotion_rho(tylenol.values, scores["tylenol"]).round(2)
pd.DataFrame({"rising most": [f"{e} {r:.2f}" for e, r in all_rho.head(10).items()],
              "falling most": [f"{e} {r:.2f}" for e, r in all_rho.tail(10)[::-1].items()]})

# %% [markdown]
# ## Across layers
#
# The paper's layer analysis: the second Tylenol message at {glue:text}`contrast_high` mg
# against {glue:text}`contrast_low` mg, every dose of it scored as one set at each layer, with
# the vectors rebuilt at each layer by chapter 01's recipe ({numref}`fig-04-intensity-layers`). The
# control is the same contrast on a message with nothing at stake
# ("...I just walked {X}000 steps and all my stiffness is gone!").

# %% tags=["hide-input"]
c_texts = contrast.messages() + contrast.messages(control=True)
c_acts = imp.read_messages(m, c_texts, layers, "assistant", batch_size=batch_size)
n_c = len(contrast.values)
diff = intensity.layer_contrast(vectors, {L: a[:n_c] for L, a in c_acts.items()}, contrast, ref)
control_diff = intensity.layer_contrast(vectors, {L: a[n_c:] for L, a in c_acts.items()}, contrast, ref)
glue("contrast_high", int(contrast.high * 1000))
glue("contrast_low", int(contrast.low * 1000))
print(f"{len(c_texts)} messages ({n_c} doses and their controls) read at {len(layers)} layers")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Score at 8000 mg minus score at 1000 mg for the second Tylenol message, at each layer, for 'afraid', 'terrified' and 'calm' (where this run has their vectors): the message (solid) and its no-danger control (dashed). The vertical line marks the chapter's layer.", "name": "fig-04-intensity-layers"}, "image": {"alt": "Line chart of the 8000 vs 1000 mg score difference against layer for three emotions"}}
fig, ax = plt.subplots(figsize=(8, 3.6))
for i, e in enumerate(diff.columns):
    ax.plot(diff.index, diff[e], marker="o", color=plotting.PALETTE[i], label=e)
    ax.plot(control_diff.index, control_diff[e], ls="--", marker="o", mfc="white", color=plotting.PALETTE[i],
            label=f"{e}, control")
ax.axhline(0, color="#444", lw=0.8)
ax.axvline(sv.layer, color="#6b6b6b", lw=0.8)
ax.set(xlabel="layer", ylabel="cosine, high minus low", title="Tylenol 8000 mg vs 1000 mg by layer")
ax.legend(frameon=True, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()

# %% [markdown]
# The expected trends at every layer of the analysis ({numref}`fig-04-intensity-rho-layers`).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Spearman's rho of each expected emotion with its template's quantity, at each layer of the layer analysis (rows: template and emotion, with the paper's direction; columns: layers).", "name": "fig-04-intensity-rho-layers"}, "image": {"alt": "Heatmap of Spearman rho by template-emotion pair and layer"}}
rho_layers = intensity.rho_by_layer(templates, scores_by_layer)
plotting.heatmap(rho_layers.to_numpy(), list(rho_layers.index), [str(L) for L in layers],
                 title="Rho with the quantity by layer", xlabel="layer", ylabel="template, emotion",
                 cmap="vlag", center=0.0, annotate=False).collections[0].set_clim(-1, 1)
plt.show()

# %% [markdown]
# ## Caveats
#
# - The model has {glue:text}`model_size` parameters, orders of magnitude fewer than the paper's.
# - One message per template: a rho over about ten values of one sentence. Other wordings, or
#   other values, could move it; the permutation p-values say how surprising each rho is among
#   orderings of these same scores, not across wordings.
# - Each template's messages are scored as one set (with the 'own' reference, centred on their
#   own mean), so a score says how this value differs from the template's other values.
# - The controls change the situation as well as removing the danger; they show how much a
#   number alone moves these vectors, not a perfect twin of each template.
# - The bar for a claim, the largest |rho| over all the controls' expected emotions, is the
#   maximum of several correlations over about ten points each; it is high even when nothing
#   but noise moves the scores. Each rho's own permutation p-value is a less demanding test.
# - The layer is chapter 01's, chosen on stories, not on these messages.

# %% [markdown]
# ## Record

# %% tags=["hide-input"]
metrics = {
    "layer": sv.layer, "reference": ref_name, "n_emotions": len(sv.emotions), "n_templates": len(templates),
    **intensity.trend_metrics(trends), **intensity.contrast_metrics(diff, control_diff, sv.layer, contrast.emotions),
    "n_traces": m.n_traces,
    "contrast_by_layer": {int(L): {e: float(v) for e, v in row.items()} for L, row in diff.iterrows()},
}
params = {"model": model, "remote": remote, "dtype": dtype, "layer": sv.layer, "reference": reference,
          "recipe_source": sv.source, "n_emotions": len(sv.emotions), "n_neutral": n_neutral,
          "contrast_layers": layers, "n_permutations": n_permutations, "seed": seed}
print(f"wrote {write_record('04-intensity', m.alias, params, metrics)}")
