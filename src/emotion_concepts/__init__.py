"""emotion-concepts: a re-executable replication of *Emotion Concepts and their Function in a
Large Language Model* (Sofroniew et al., 2026) on open-weight models."""

__version__ = "0.1.0"
