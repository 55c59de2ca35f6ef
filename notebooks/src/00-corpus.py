# %% [markdown]
# # 0. The corpus
#
# The paper's emotion vectors come from stories its model wrote to a fixed prompt
# {cite}`sofroniew2026emotions`. Small open models write poor stories, and who writes the stories
# decides how usable the vectors are, so this project ships a corpus written with care
# (`data/stories/`) and a generator for readers with larger models. This chapter describes the
# corpus, shows what the validator checks, and runs the generator on the chapter's model to show
# how its output compares.
#
# **Who wrote them.** The stories were written for this project by instances of an Anthropic
# Claude model working as writers to a shared brief (the paper's prompt, the topic and person of
# each slot, and the rules below), then checked by the validator. Like the paper's corpus, it is
# synthetic text from one family of model: its style, and any stereotypes in how it shows an
# emotion, are part of what the vectors measure.
#
# **Rules every story obeys** (checked by `emotion-book corpus check`, `corpus.check_stories`):
# one paragraph inside the length band; a topic from the paper's list of 100; a character who
# feels the emotion, shown through actions, body sensations, dialogue, thoughts and the
# situation; and **never** the emotion word or one of its listed direct synonyms
# (`data/synonyms/synonyms.json`), in any inflection, whole-word and case-insensitive. Exact and near
# duplicates (half or more of their five-word phrases shared) are rejected, and so is looping
# text (under 80% of its word trigrams distinct, the failure of small generators). Whole topics are
# held out for testing.

# %% [parameters]
model = "smollm2-135m-instruct"  # the model the generator is run on
remote = False
generate_emotions = ["calm", "afraid", "desperate", "happy"]  # generator demo; empty: skip it
generate_topics = 1  # topics per emotion for the generator demo
generate_per_topic = 3  # stories asked for per prompt
max_new_tokens = 700
seed = 0

# %%
import tempfile
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from emotion_concepts import corpus, plotting, records
from emotion_concepts.corpus_rules import MAX_WORDS, MIN_WORDS, word_count
from emotion_concepts.ratings import load_ratings

plotting.use_house_style()
stories, problems = corpus.check_corpus()
df = pd.DataFrame([s.__dict__ for s in stories])
df["words"] = df["text"].map(word_count)
emotion_list = corpus.emotions()
print(f"{len(df)} stories, {df.emotion.nunique()} emotions, {df.topic.nunique()} topics; "
      f"validator problems: {len(problems)}")

# %% [markdown]
# ## Counts, splits and narration

# %%
per_emotion = df.groupby("emotion").split.value_counts().unstack(fill_value=0).reindex(emotion_list)
summary = pd.Series({
    "stories": len(df),
    "emotions": df.emotion.nunique(),
    "stories per emotion (min)": int(per_emotion.sum(axis=1).min()),
    "test stories per emotion (min)": int(per_emotion["test"].min()),
    "train / test": f"{(df.split == 'train').sum()} / {(df.split == 'test').sum()}",
    "first person": f"{(df.person == 'first').mean():.0%}",
    "topics used": f"{df.topic.nunique()} of {len(corpus.topics())}",
    "held-out topics": df[df.split == "test"].topic.nunique(),
})
summary.to_frame("value")

# %%
fig, ax = plt.subplots(1, 2, figsize=(11, 3.6))
ax[0].hist(df.words, bins=30, color=plotting.PALETTE[0])
ax[0].axvline(MIN_WORDS, color="#444", ls="--", lw=1, label=f"band {MIN_WORDS}-{MAX_WORDS}")
ax[0].axvline(MAX_WORDS, color="#444", ls="--", lw=1)
ax[0].set(title="Story length", xlabel="words", ylabel="stories")
ax[0].legend(frameon=False)
topic_use = df.topic_id.value_counts().sort_index()
ax[1].bar(topic_use.index, topic_use.values,
          color=[plotting.PALETTE[1] if t in set(df[df.split == "test"].topic_id) else plotting.PALETTE[0]
                 for t in topic_use.index])
ax[1].set(title="Topic coverage (orange: held out for test)", xlabel="topic index", ylabel="stories")
plt.show()

# %% [markdown]
# ## Three stories
#
# Chosen at random (seeded); the emotion is in the heading, never in the text.

# %%
rng = np.random.default_rng(seed)
for i in rng.choice(len(stories), size=3, replace=False):
    s = stories[i]
    print(f"--- {s.emotion} ({s.person} person, {s.split}; topic: {s.topic})\n{s.text}\n")

# %% [markdown]
# ## Human ratings
#
# Valence, arousal and dominance norms from {cite}`warriner2013norms` (1-9 scale), for the emotion
# words found there verbatim (`data/ratings/`, rebuilt by `emotion-book ratings`). Later chapters
# compare the vectors' geometry with them.

# %%
ratings = pd.DataFrame(load_ratings()).T
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
# chat template and puts every reply through the same rules. On a 135M model most replies are
# expected to fail them; the rejection rate is the measurement. Completions are seeded and cached
# (content-addressed, in `.cache/generations/`), so a rebuild with nothing changed does not sample
# again.

# %%
if generate_emotions:
    from emotion_concepts.generate import generate_corpus

    out_dir = tempfile.mkdtemp(prefix="generated-")
    report = generate_corpus(model, remote=remote, emotions=generate_emotions, n_topics=generate_topics,
                             stories_per_topic=generate_per_topic, out_dir=out_dir, seed=seed,
                             max_new_tokens=max_new_tokens)
    print(report.summary())
    rejected = pd.read_json(f"{out_dir}/rejected.jsonl", lines=True) if report.rejected else pd.DataFrame()
    if len(rejected):
        first = rejected.iloc[0]
        print(f"\nA rejected story ({first.emotion}; {', '.join(first.reasons)}):\n{first.text[:700]}")
    accepted = corpus.load_stories(Path(out_dir)) if report.accepted else []
    for story in accepted[:2]:  # passing the mechanical rules is not the same as a good story: read it
        print(f"\nAn accepted story ({story.emotion}):\n{story.text}")
    gen_metrics = {"generator_model": report.model, "generator_requested": report.requested,
                   "generator_parsed": report.parsed, "generator_accepted": report.accepted,
                   "generator_rejection_rate": report.rejected / report.requested,
                   "generator_reasons": dict(report.reasons)}
else:
    gen_metrics = {}

# %%
metrics = {"n_stories": len(df), "n_emotions": int(df.emotion.nunique()),
           "min_stories_per_emotion": int(per_emotion.sum(axis=1).min()),
           "min_test_per_emotion": int(per_emotion["test"].min()),
           "share_first_person": float((df.person == "first").mean()),
           "median_words": float(df.words.median()), "validator_problems": len(problems),
           "n_rated_words": len(ratings), **gen_metrics}
path = records.write_record("00-corpus", model, {"generate_emotions": generate_emotions,
                            "generate_topics": generate_topics, "generate_per_topic": generate_per_topic,
                            "seed": seed, "corpus_hash": corpus.corpus_hash(stories)}, metrics)
print(f"wrote {path}")
