"""Errors a user can act on. Each carries one clear line; the CLI prints it and exits 1."""


class EmotionBookError(Exception):
    """Base class: a problem with the user's input or environment, not a bug."""


class ModelSpecError(EmotionBookError):
    """Unknown model, missing model package, hash mismatch, unreachable remote."""


class LayerError(EmotionBookError):
    """A layer index outside the model."""


class DataError(EmotionBookError):
    """Missing or malformed data files."""


class ParameterError(EmotionBookError):
    """A chapter parameter with an unknown name or a wrong type."""


class RemoteTraceError(EmotionBookError):
    """A trace that could not run where it was sent (NDIF, or its local simulation)."""
