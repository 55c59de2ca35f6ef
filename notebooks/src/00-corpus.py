# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 0. The corpus
#
# **Question.** What are the emotion vectors built from, and could the chapter's model have
# written it? The paper's emotion vectors come from stories its model wrote to a fixed prompt
# {cite}`sofroniew2026emotions`. Small open models write poor stories, and who writes the stories
# decides how usable the vectors are, so this project ships a corpus written with care
# (`data/stories/`) and a generator for readers with larger models. This chapter describes the
# corpus, shows what the validator checks, and runs the generator on the chapter's model.
#
# **Who wrote them, and in what voices.** The texts were written for this project by instances
# of an Anthropic Claude model working as writers to shared briefs (the topic and person of each
# slot, and the rules below), then checked by the validator. There are five **voices**, each its
# own brief and register: the paper's one-paragraph stories (*narrative*), private *diary*
# entries, *dialogue*-only scenes, *messages* the person writes to someone, and plain
# third-person *reports*. A corpus in one voice teaches the vectors that voice as much as the
# emotion; chapter 1 tests them on a voice they were not built from. Like the paper's corpus,
# all of it is synthetic text from one family of model: its style, and any stereotypes in how it
# shows an emotion, are part of what the vectors measure.
#
# **Rules every text obeys** (checked by `emotion-book corpus check`,
# `corpus.validator.check_stories`): a length band; a topic from the paper's list of 100; a
# person who feels the emotion, shown through actions, body sensations, dialogue, thoughts and
# the situation; and **never** the emotion word or one of its listed direct synonyms
# (`data/synonyms/synonyms.json`), in any inflection, whole-word and case-insensitive. Exact and
# near duplicates ({glue:text}`near_dup` or more of their five-word phrases shared) are rejected, and so is
# looping text (under {glue:text}`min_distinct` of its word trigrams distinct, the failure of
# small generators). Whole topics are held out for testing.
#
# **What failure would look like.** For the corpus: validator problems, emotions short of
# stories, held-out topics leaking into training. For the generator: stories that break the
# rules; its rejection rate on this model is the measurement.

# %% tags=["parameters", "hide-input"]
model: str = "smollm2-135m-instruct"  # the model the generator is run on
remote: bool | str = False  # False; "local" (simulate NDIF here); True (NDIF)
dtype: str = "bfloat16"
generate_emotions: list[str] = ["calm", "afraid", "desperate", "happy"]  # generator demo; empty: skip it
generate_topics: int = 1  # topics per emotion for the generator demo
generate_per_topic: int = 3  # stories asked for per prompt
max_new_tokens: int = 700
seed: int = 0

# %% [markdown]
# ## Setup

# %% tags=["hide-input"]
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from emotion_concepts import corpus, load_model, model_name, plotting, story_corpus, write_record
from emotion_concepts.book.present import glue
from emotion_concepts.corpus.rules import MIN_DISTINCT_TRIGRAMS
from emotion_concepts.corpus.validator import NEAR_DUPLICATE_JACCARD

plotting.use_house_style()
glue("min_distinct", MIN_DISTINCT_TRIGRAMS, ".0%")
glue("near_dup", NEAR_DUPLICATE_JACCARD, ".0%")
stories, problems = corpus.check_corpus()
df = story_corpus.stories_frame(stories)
emotion_list = corpus.emotions()
print(f"{len(df)} texts, {df.emotion.nunique()} emotions, {df.voice.nunique()} voice(s), "
      f"{df.topic.nunique()} topics; validator problems: {len(problems)}")

# %% [markdown]
# ## Counts, splits and voices
#
# The texts per voice, their lengths and the topics they use ({numref}`fig-corpus-lengths`).

# %% tags=["hide-input"]
per_emotion = df.groupby("emotion").split.value_counts().unstack(fill_value=0).reindex(emotion_list)
summary = pd.Series({
    "texts": len(df),
    "emotions": df.emotion.nunique(),
    "texts per emotion (min)": int(per_emotion.sum(axis=1).min()),
    "test texts per emotion (min)": int(per_emotion["test"].min()),
    "train / test": f"{(df.split == 'train').sum()} / {(df.split == 'test').sum()}",
    "first person": f"{(df.person == 'first').mean():.0%}",
    "topics used": f"{df.topic.nunique()} of {len(corpus.topics())}",
    "held-out topics": df[df.split == "test"].topic.nunique(),
})
summary.to_frame("value")

# %% tags=["hide-input"]
story_corpus.voice_table(df)

# %% [markdown]
# Each voice has its own brief, length band and checkable features (`corpus.voices`): a diary
# entry is in the first person with short sentences; a dialogue is only `Name: words` lines; a
# message addresses its reader; a report has no first-person words and no quotation marks. How
# distinct the voices are shows in {numref}`fig-voice-rules`: the share of each voice's texts
# that would pass another voice's rules.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Share of each voice's texts (rows) that pass each voice's length band and features (columns). The diagonal is 1: every text passes its own voice's rules.", "name": "fig-voice-rules"}, "image": {"alt": "Heatmap of the share of texts of each voice passing each voice's rules"}}
rules = story_corpus.voice_rule_matrix(df)
plotting.heatmap(rules.values, list(rules.index), list(rules.columns), title="Texts passing each voice's rules",
                 xlabel="rules of voice", ylabel="texts of voice", annotate=True, cmap="mako_r")
plt.show()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: text length in words per voice, with each voice's band. Right: how often each topic is used; held-out (test) topics in orange.", "name": "fig-corpus-lengths"}, "image": {"alt": "Histogram of text lengths and bar chart of topic use"}}
fig, ax = plt.subplots(1, 2, figsize=(11, 3.6))
for i, (voice, g) in enumerate(df.groupby("voice", sort=False)):
    ax[0].hist(g.words, bins=30, alpha=0.6, color=plotting.PALETTE[i % len(plotting.PALETTE)], label=voice)
ax[0].set(title="Text length", xlabel="words", ylabel="texts")
ax[0].legend(frameon=False, fontsize=8)
topic_use = df.topic_id.value_counts().sort_index()
test_topics = set(df[df.split == "test"].topic_id)
ax[1].bar(topic_use.index, topic_use.values,
          color=[plotting.PALETTE[1] if t in test_topics else plotting.PALETTE[0] for t in topic_use.index])
ax[1].set(title="Topic coverage (orange: held out for test)", xlabel="topic index", ylabel="texts")
plt.show()

# %% [markdown]
# ## Examples
#
# Chosen at random (seeded); the emotion is in the heading, never in the text.

# %% tags=["hide-input"]
rng = np.random.default_rng(seed)
for voice, g in df.groupby("voice", sort=False):
    row = g.iloc[int(rng.integers(len(g)))]
    print(f"--- {voice}: {row.emotion} ({row.person}, {row.split}; topic: {row.topic})\n{row.text}\n")

# %% [markdown]
# ## Human ratings
#
# Valence, arousal and dominance norms from {cite}`warriner2013norms` (1-9 scale), for the emotion
# words found there verbatim (`data/ratings/`, rebuilt by `emotion-book ratings`). Later chapters
# compare the vectors' geometry with them ({numref}`fig-ratings`).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Human valence and arousal norms of the emotion words found verbatim in Warriner et al. (2013); a few words labelled.", "name": "fig-ratings"}, "image": {"alt": "Scatter plot of valence against arousal for the rated emotion words"}}
ratings = pd.DataFrame(corpus.load_ratings()).T
print(f"{len(ratings)} of {len(emotion_list)} emotion words rated; missing: "
      f"{', '.join(e for e in emotion_list if e not in ratings.index)}")
ax = ratings.plot.scatter(x="valence", y="arousal", figsize=(6, 4.5), color=plotting.PALETTE[0])
for name in ["happy", "calm", "sad", "afraid", "angry", "desperate", "bored", "ecstatic", "serene"]:
    if name in ratings.index:
        ax.annotate(name, (ratings.loc[name, "valence"], ratings.loc[name, "arousal"]), fontsize=8)
ax.set_title("Human norms of the emotion words")
plt.show()

# %% [markdown]
# ## The generator on this model
#
# `emotion-book corpus generate` asks the model for stories with the paper's prompt through its
# chat template and puts every reply through the same rules. The rejection rate is the
# measurement. Completions are seeded and cached (content-addressed, in `.cache/generations/`),
# so a rebuild with nothing changed does not sample again.

# %% tags=["hide-input"]
gen_metrics = {}
if generate_emotions:
    from emotion_concepts.corpus.generator import generate_corpus

    out_dir = Path(tempfile.mkdtemp(prefix="generated-")) / "corpus"
    report = generate_corpus(load_model(model, remote=remote, dtype=dtype), emotions=generate_emotions,
                             n_topics=generate_topics,
                             stories_per_topic=generate_per_topic, out_dir=out_dir, seed=seed,
                             max_new_tokens=max_new_tokens)
    print(report.summary())
    rejected = pd.read_json(out_dir / "rejected.jsonl", lines=True) if report.rejected else pd.DataFrame()
    if len(rejected):
        first = rejected.iloc[0]
        print(f"\nA rejected story ({first.emotion}; {', '.join(first.reasons)}):\n{first.text[:700]}")
    accepted = corpus.load_stories(out_dir) if report.accepted else []
    for story in accepted[:2]:  # passing the mechanical rules is not the same as a good story: read it
        print(f"\nAn accepted story ({story.emotion}):\n{story.text}")
    gen_metrics = {"generator_requested": report.requested, "generator_parsed": report.parsed,
                   "generator_accepted": report.accepted,
                   "generator_rejection_rate": report.rejected / report.requested,
                   "generator_reasons": dict(report.reasons)}

# %% [markdown]
# ## Caveats
#
# - The corpus is synthetic and written by one family of model: vectors built from it may carry
#   that family's way of showing an emotion.
# - The validator checks mechanical rules (forbidden words, length, voice features,
#   duplicates); it cannot check that a text conveys its emotion well. The examples above are
#   there to be read.
# - The generator demo is tiny and its rejection rate is specific to this model and prompt.

# %% [markdown]
# ## Record

# %% tags=["hide-input"]
metrics = {"n_stories": len(df), "n_emotions": int(df.emotion.nunique()), "n_voices": int(df.voice.nunique()),
           "min_stories_per_emotion": int(per_emotion.sum(axis=1).min()),
           "min_test_per_emotion": int(per_emotion["test"].min()),
           "share_first_person": float((df.person == "first").mean()),
           "median_words": float(df.words.median()), "validator_problems": len(problems),
           "n_rated_words": len(ratings), **gen_metrics}
params = {"model": model, "generate_emotions": generate_emotions, "generate_topics": generate_topics,
          "generate_per_topic": generate_per_topic, "seed": seed, "corpus_hash": corpus.corpus_hash(stories)}
print(f"wrote {write_record('00-corpus', model_name(model), params, metrics)}")
