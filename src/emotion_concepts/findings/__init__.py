"""One module per finding of the paper, each holding its steps, its result type, the paper's
claims it is judged on, its parameters' constraints and its quick test parameters.

``CHAPTERS`` maps each chapter (a notebook in ``notebooks/``) to its declaration."""

from . import emotion_vectors, story_corpus
from .base import Chapter, Claim, Param

CHAPTERS: dict[str, Chapter] = {c.id: c for c in (story_corpus.CHAPTER, emotion_vectors.CHAPTER)}

__all__ = ["CHAPTERS", "Chapter", "Claim", "Param", "emotion_vectors", "story_corpus"]
