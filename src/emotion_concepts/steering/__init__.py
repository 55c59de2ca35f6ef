"""Steering: adding (or ablating) a direction in the residual stream, inside a trace.

``Steer`` is one edit (layer, direction, strength as a fraction of the layer's mean residual
norm, positions, operator); ``steered_logprobs`` and ``steered_generate`` run prompts with one
tuple of edits per prompt; ``mean_residual_norm`` measures the scale; ``measures`` turns steered
runs into effects judged against random directions of equal norm."""

from .edits import Steer
from .norms import mean_residual_norm
from .run import steered_generate, steered_logprobs

__all__ = ["Steer", "mean_residual_norm", "steered_generate", "steered_logprobs"]
