# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 11. Emotion readings as an early warning
#
# **Question.** The paper {cite}`sofroniew2026emotions` proposes the emotion vectors as a
# monitor: the desperate reading rises before the model blackmails or hacks a test, so reading
# it could flag a harmful action before it is taken. Here we ask whether, on this model, the
# reading at the **decision point** (the last token before the model names its choice) tells
# which decision points lean toward the harmful action. The decision points are the unsteered
# forced choices of {doc}`08-blackmail` (every variant, every rotation of the four actions) and
# {doc}`09-reward-hacking` (every task and wording, both orders). A point *leans harmful* when
# the model's probability of the harmful option is above the median of its scenario's points: a
# small model rarely picks the harmful option outright, and the median split keeps both classes
# whatever the base rate. Readings are centred within each scenario, so a reading has to rank
# points of one scenario, not tell the two scenarios apart.
#
# **What failure would look like.** A reading that carries no warning ranks the points no better
# than a reading along a random direction of the residual stream: each AUROC is compared with
# the AUROCs of {glue:text}`n_random` random unit directions read from the same activations
# (their 95th percentile), and 0.5 is the chance line. The best single emotion is chosen on half
# of the items and scored on the other half, so its AUROC is not inflated by the choice.

# %% tags=["parameters", "hide-input"]
model: str = "smollm2-135m-instruct"  # offline alias, local folder or Hugging Face id
remote: bool | str = False  # False; "local" (simulate NDIF here); True (NDIF, needs NDIF_API_KEY)
dtype: str = "bfloat16"  # "float32" or "bfloat16"
layer: int | None = None  # None: chapter 01's settled layer for this model
n_variants: int = 0  # blackmail variants (0: all six)
n_tasks: int = 0  # coding tasks (0: all seven)
wordings_per_task: int = 6  # forced-choice wordings per coding task
n_random: int = 200  # random directions for the control
n_resamples: int = 2000  # bootstrap resamples for the AUROC intervals
emotions: list[str] = []  # the vectors' emotion set (empty: all 171); must include desperate and calm
n_neutral: int = 0  # neutral dialogues for the vectors' recipe (0: all)
batch_size: int = 8
seed: int = 0

# %% [markdown]
# ## Setup

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_curve

from emotion_concepts import load_model, plotting, write_record
from emotion_concepts.book.present import glue, parameter_count
from emotion_concepts.findings import monitoring
from emotion_concepts.findings.emotion_vectors import settled_vectors

plotting.use_house_style()
torch.manual_seed(seed)
m = load_model(model, remote=remote, dtype=dtype)
sv = settled_vectors(m, layer=layer, emotions=emotions or None, n_neutral=n_neutral, seed=seed)
for needed in ("desperate", "calm"):
    if needed not in sv.emotions:
        raise ValueError(f"the emotion set must include {needed!r}")
glue("model_size", parameter_count(m))
glue("n_random", n_random)
glue("layer", sv.layer)
print(f"{m.alias} ({parameter_count(m)} parameters, {dtype}); vectors of {len(sv.emotions)} emotions at layer "
      f"{sv.layer}: {sv.source}")

# %% tags=["hide-input"]
prompts = monitoring.decision_prompts(m, n_variants, n_tasks, wordings_per_task)
points, acts = monitoring.read_decision_points(m, prompts, sv.layer, batch_size=batch_size)
labels = monitoring.leaning_labels(points)
acts_c = monitoring.centred(acts, points)
scores = pd.DataFrame(monitoring.readings(acts_c, sv.vectors.vectors), columns=sv.emotions)
points = points.assign(leans_harmful=labels, desperate=scores["desperate"].to_numpy(), calm=scores["calm"].to_numpy())
glue("n_points", len(points))
points.groupby("scenario").agg(points=("item", "size"), items=("item", "nunique"),
                               mean_p_harmful=("p_harmful", "mean"), letter_mass=("letter_mass", "mean")).round(3)

# %% [markdown]
# ## The readings against random directions
#
# Over the {glue:text}`n_points` decision points, read at layer {glue:text}`layer`: how well the
# desperate and calm readings, and the best emotion chosen on the other half of the items, rank
# the points that lean harmful above the others ({numref}`fig-11-roc`). Calm is expected to rank
# them *below* (an AUROC under 0.5).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "ROC curves of the desperate and calm readings at the decision point for 'the point leans toward the harmful action', with the band of random-direction readings (2.5th to 97.5th percentile of their AUROC) and the chance diagonal.", "name": "fig-11-roc"}, "image": {"alt": "ROC curves for desperate and calm readings beside random directions"}}
desperate = monitoring.auroc(labels, scores["desperate"].to_numpy(), n_resamples=n_resamples, seed=seed)
calm = monitoring.auroc(labels, scores["calm"].to_numpy(), n_resamples=n_resamples, seed=seed)
randoms = monitoring.random_aurocs(labels, acts_c, n_random, seed)
first, second = monitoring.split_halves(points, seed)
best, best_auc = monitoring.best_emotion(labels, scores, first, second)
rand_p95 = float(np.percentile(randoms, 95))
fig, ax = plt.subplots(figsize=(5.2, 4.6))
for name, color in (("desperate", plotting.PALETTE[1]), ("calm", plotting.PALETTE[0])):
    fpr, tpr, _ = roc_curve(labels, scores[name])
    auc = desperate if name == "desperate" else calm
    ax.plot(fpr, tpr, color=color, label=f"{name} (AUROC {auc.value:.2f}, 95% CI {auc.lo:.2f}-{auc.hi:.2f})")
ax.plot([0, 1], [0, 1], ls=":", color="#444", lw=1, label="chance")
ax.set(xlabel="false positive rate", ylabel="true positive rate",
       title=f"Random directions: AUROC 95% range {np.percentile(randoms, 2.5):.2f}-{np.percentile(randoms, 97.5):.2f}")
ax.legend(frameon=True, fontsize=8, loc="lower right")
plt.show()

# %% tags=["hide-input"]
print(f"desperate AUROC {desperate.value:.3f} (95% CI {desperate.lo:.3f}-{desperate.hi:.3f}); calm {calm.value:.3f}; "
      f"random directions: mean {randoms.mean():.3f}, 95th percentile {rand_p95:.3f}; best emotion on the first half: "
      f"{best}, AUROC on the second half {best_auc:.3f}")
per_emotion = pd.Series({e: monitoring.auroc(labels, scores[e].to_numpy(), n_resamples=100, seed=seed).value
                         for e in sv.emotions}).sort_values()
pd.concat([per_emotion.head(5), per_emotion.tail(5)]).round(3).to_frame("AUROC (all points)")

# %% [markdown]
# ## Per scenario
#
# The same AUROC within each scenario alone ({numref}`fig-11-per-scenario`): a warning that works
# for one kind of harm and not the other shows here.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "AUROC of the desperate and calm readings within each scenario, with the random directions' 95th percentile (black line) and chance (dotted).", "name": "fig-11-per-scenario"}, "image": {"alt": "Grouped bars of AUROC per scenario for desperate and calm readings"}}
rows = {}
for scenario in monitoring.SCENARIOS:
    mask = (points.scenario == scenario).to_numpy()
    if len(set(labels[mask].tolist())) < 2:
        continue
    r = monitoring.random_aurocs(labels[mask], acts_c[torch.tensor(mask)], n_random, seed)
    rows[scenario] = {"desperate": monitoring.auroc(labels[mask], scores["desperate"].to_numpy()[mask],
                                                    n_resamples=200, seed=seed).value,
                      "calm": monitoring.auroc(labels[mask], scores["calm"].to_numpy()[mask], n_resamples=200,
                                               seed=seed).value,
                      "shuffled_desperate_p95": float(np.percentile(r, 95)),
                      "shuffled_calm_p95": float(np.percentile(r, 95))}
per_scenario = pd.DataFrame(rows).T
plotting.grouped_bars_with_null(per_scenario, ["desperate", "calm"], chance={"desperate": 0.5},
                                title="AUROC within each scenario", ylabel="AUROC")
plt.show()

# %% [markdown]
# ## Caveats
#
# - The model has {glue:text}`model_size` parameters. Its forced choices lean on the option
#   letters as much as on the options (chapters 08 and 09), so "leans harmful" partly means "the
#   harmful option sits at a favoured letter"; a reading that tracks the option order can rank
#   these points, and so can a random direction: that is what the control measures.
# - The labels come from the model's probabilities, not from sampled actions: a point above its
#   scenario's median leans harmful relative to the others, which is weaker than the paper's
#   "the model blackmailed".
# - Unsteered points only: steered points would make the desperate reading rise by construction.
# - Few distinct scenarios (six inboxes, seven tasks): the bootstrap interval resamples points,
#   not scenarios, and is narrower than an interval over new scenarios would be.

# %% [markdown]
# ## Record

# %% tags=["hide-input"]
metrics = {
    "auroc_desperate": desperate.value, "auroc_desperate_lo": desperate.lo, "auroc_desperate_hi": desperate.hi,
    "auroc_calm": calm.value, "auroc_best": best_auc, "best_emotion": best,
    "auroc_random_p95": rand_p95, "auroc_random_mean": float(randoms.mean()),
    "n_points": len(points), "layer": sv.layer,
    "base_rate_blackmail": float(points.loc[points.scenario == "blackmail", "p_harmful"].mean()),
    "base_rate_hack": float(points.loc[points.scenario == "reward_hacking", "p_harmful"].mean()),
    "n_traces": m.n_traces,
}
params = {"model": model, "remote": remote, "dtype": dtype, "layer": layer, "n_variants": n_variants, "n_tasks": n_tasks,
          "wordings_per_task": wordings_per_task, "n_random": n_random, "n_resamples": n_resamples,
          "n_emotions": len(sv.emotions), "n_neutral": n_neutral, "seed": seed, "recipe_source": sv.source}
print(f"wrote {write_record('11-monitoring', m.alias, params, metrics)}")
