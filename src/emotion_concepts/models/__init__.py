"""Models: the offline registry, loading by spec, where traces run, and one table of
architecture paths (decoder blocks, final norm, unembedding)."""

from .architecture import ARCHITECTURES, Architecture, architecture_of
from .loading import (
    DEFAULT_DTYPE,
    DTYPES,
    LoadedModel,
    check_layer,
    check_remote,
    default_layer,
    describe_spec,
    format_chat,
    load_model,
    model_name,
    simulated,
    wrap_module,
)
from .registry import DEFAULT_MODEL, GGUF_MODELS, GGUFModel, gguf_path

__all__ = [
    "ARCHITECTURES", "Architecture", "architecture_of", "DEFAULT_DTYPE", "DTYPES", "LoadedModel",
    "check_layer", "check_remote", "default_layer", "describe_spec", "format_chat", "load_model", "model_name",
    "simulated", "wrap_module",
    "DEFAULT_MODEL", "GGUF_MODELS", "GGUFModel", "gguf_path",
]
