"""The corpus: stories in several voices, their plan and rules, the validator, neutral
dialogues, human ratings, and a generator for readers with larger models."""

from .neutral import Dialogue, format_dialogue, load_neutral, sample_neutral
from .plan import StorySlot, emotion_slug, held_out_topic_ids, plan_slots
from .ratings import load_ratings
from .stories import Story, check_emotion_names, corpus_hash, emotions, load_stories, split_indices, synonyms, topics
from .validator import Problem, check_corpus, check_stories, near_duplicates
from .voices import VOICES, Voice

__all__ = [
    "Dialogue", "format_dialogue", "load_neutral", "sample_neutral", "StorySlot", "emotion_slug",
    "held_out_topic_ids", "plan_slots", "load_ratings", "Story", "check_emotion_names", "corpus_hash",
    "emotions", "load_stories", "split_indices", "synonyms", "topics", "Problem", "check_corpus", "check_stories",
    "near_duplicates", "VOICES", "Voice",
]
