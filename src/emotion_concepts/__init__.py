"""emotion-concepts: a re-executable replication of *Emotion Concepts and their Function in a
Large Language Model* (Sofroniew et al., 2026) on open-weight models.

A chapter imports what it needs from here::

    from emotion_concepts import load_model, corpus, emotion_vectors, plotting, write_record
"""

from . import corpus
from .book import plotting
from .book.records import write_record
from .findings import CHAPTERS, emotion_vectors, story_corpus
from .models import DEFAULT_MODEL, LoadedModel, load_model, model_name
from .paths import model_slug, results_dir
from .readout import EmotionVectors, lens, residual_means, residuals_at, scoring

__version__ = "0.1.0"

__all__ = [
    "CHAPTERS", "DEFAULT_MODEL", "EmotionVectors", "LoadedModel", "corpus", "emotion_vectors", "lens",
    "load_model", "model_name", "model_slug", "plotting", "residual_means", "residuals_at", "results_dir", "scoring",
    "story_corpus", "write_record",
]
