"""One table of where things live inside each supported architecture.

Every module that needs the decoder blocks, the final norm or the unembedding asks this table
(through :func:`architecture_of`), never a list of its own. A row names dotted attribute paths
from the top-level causal-LM module; they resolve the same way on the transformers module and
on its nnsight wrapper (whose attributes mirror the module tree).

Tested on tiny randomly initialised models of each family (``tests/test_architecture.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..errors import ModelSpecError


@dataclass(frozen=True)
class Architecture:
    """Paths and conventions of one family of decoder-only models."""

    name: str
    model_types: tuple[str, ...]  # values of ``config.model_type`` this row serves
    layers: str  # the list of decoder blocks; block i's output is the residual stream after it
    final_norm: str  # the norm applied before the unembedding
    unembed: str  # the output projection to the vocabulary ("a|b": the first that exists)
    embed: str  # the token embedding
    norm_kind: str  # "rms" (x / rms * w), "rms_offset" (x / rms * (1 + w), Gemma), "layer" (LayerNorm)

    def norm_gain(self, norm: Any) -> torch.Tensor | float:
        """The final norm's elementwise gain as the unembedding sees it (1 if it has none)."""
        weight = getattr(norm, "weight", None)
        if weight is None:
            return 1.0
        weight = weight.detach().float()
        return weight + 1.0 if self.norm_kind == "rms_offset" else weight

    def lens_input(self, directions: torch.Tensor, norm: Any) -> torch.Tensor:
        """What the unembedding multiplies when a direction is read through the final norm.

        The norm's 1/RMS (or 1/std) factor is a positive scale per row and cannot change a
        token ranking, so it is left out; a LayerNorm also removes the row's mean. Biases are
        left out: they add the same logits whatever the direction."""
        x = directions.float()
        if self.norm_kind == "layer":
            x = x - x.mean(dim=-1, keepdim=True)
        return x * self.norm_gain(norm)


ARCHITECTURES: tuple[Architecture, ...] = (
    Architecture("llama", ("llama", "mistral", "olmo2"), "model.layers", "model.norm", "lm_head",
                 "model.embed_tokens", "rms"),
    Architecture("qwen2", ("qwen2", "qwen3"), "model.layers", "model.norm", "lm_head",
                 "model.embed_tokens", "rms"),
    Architecture("gemma", ("gemma", "gemma2", "gemma3_text"), "model.layers", "model.norm", "lm_head",
                 "model.embed_tokens", "rms_offset"),
    Architecture("gemma3-multimodal", ("gemma3",), "model.language_model.layers",
                 "model.language_model.norm", "lm_head", "model.language_model.embed_tokens", "rms_offset"),
    Architecture("gpt_neox", ("gpt_neox",), "gpt_neox.layers", "gpt_neox.final_layer_norm", "lm_head|embed_out",
                 "gpt_neox.embed_in", "layer"),
    Architecture("gpt2", ("gpt2",), "transformer.h", "transformer.ln_f", "lm_head", "transformer.wte", "layer"),
)


def resolve(root: Any, path: str) -> Any:
    """``root.a.b.c`` for ``path = "a.b.c"``; alternatives separated by ``|`` are tried in order
    (module names change across transformers versions). AttributeError if none resolves."""
    for candidate in path.split("|"):
        obj = root
        try:
            for part in candidate.split("."):
                obj = getattr(obj, part)
            return obj
        except AttributeError:
            continue
    raise AttributeError(f"{type(root).__name__} has no {path}")


def _has(root: Any, path: str) -> bool:
    try:
        resolve(root, path)
        return True
    except AttributeError:
        return False


def architecture_of(module: Any) -> Architecture:
    """The row for a transformers causal-LM module (or its nnsight wrapper): by
    ``config.model_type`` when the table knows it, else the first row whose paths all exist."""
    config = getattr(module, "config", None)
    model_type = getattr(config, "model_type", None)
    for arch in ARCHITECTURES:
        if model_type in arch.model_types and _has(module, arch.layers):
            return arch
    for arch in ARCHITECTURES:
        if all(_has(module, p) for p in (arch.layers, arch.final_norm, arch.unembed)):
            return arch
    known = ", ".join(t for a in ARCHITECTURES for t in a.model_types)
    raise ModelSpecError(
        f"unsupported architecture {type(module).__name__} (model_type {model_type!r}): "
        f"add a row to models/architecture.py (known model types: {known})"
    )


def block_output(output: Any) -> Any:
    """A decoder block's residual-stream output (some architectures return a tuple)."""
    return output[0] if isinstance(output, tuple) else output
