"""The logit lens: read a direction through the model's unembedding.

A direction v is scaled by the final norm's gain (RMSNorm/LayerNorm weight, where the model
has one) and multiplied by the unembedding; the top tokens say which words the direction
pushes the model towards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .models import LoadedModel
from .vectors import random_directions


def _final_norm_and_head(model: LoadedModel):
    lm = model.lm
    norm = None
    for path in ("model.norm", "model.language_model.norm", "transformer.ln_f", "gpt_neox.final_layer_norm"):
        obj = lm
        try:
            for part in path.split("."):
                obj = getattr(obj, part)
            norm = obj
            break
        except AttributeError:
            continue
    head = getattr(lm, "lm_head", None) or lm.embed_out
    return norm, head


def top_tokens(model: LoadedModel, directions: torch.Tensor, k: int = 20) -> list[list[str]]:
    """For each row of ``directions`` [n, d], its ``k`` top tokens through the unembedding."""
    norm, head = _final_norm_and_head(model)
    if model.remote:
        with model.lm.trace("logit lens", remote=True):
            gain = norm.weight if norm is not None else 1.0
            ids = head(directions * gain).topk(k, dim=-1).indices.save()
    else:
        gain = norm.weight.detach() if norm is not None and hasattr(norm, "weight") else 1.0
        weight = head.weight.detach()
        ids = ((directions.float() * gain) @ weight.T).topk(k, dim=-1).indices
    tok = model.tokenizer
    return [[tok.decode([int(i)]) for i in row] for row in torch.as_tensor(ids)]


def _clean(token: str) -> str:
    return re.sub(r"[^a-z]", "", token.lower())


def related(token: str, words: Sequence[str], min_len: int = 4) -> bool:
    """Is a token a piece of one of ``words`` (or a word a piece of it)? Subword tokens
    count when at least ``min_len`` letters long: 'desper' relates to 'desperate'."""
    t = _clean(token)
    if len(t) < min_len:
        return False
    for w in words:
        w = _clean(w)
        if len(w) >= min_len and (w.startswith(t) or t.startswith(w)):
            return True
    return False


def hit_rate(token_lists: Sequence[Sequence[str]], lexicons: Sequence[Sequence[str]]) -> float:
    """Fraction of rows with at least one token related to that row's lexicon."""
    hits = [any(related(t, lex) for t in tokens) for tokens, lex in zip(token_lists, lexicons, strict=True)]
    return sum(hits) / max(len(hits), 1)


@dataclass(frozen=True)
class LensTest:
    """The logit-lens count for a set of vectors against random directions of equal norm.

    ``hit_rate``: fraction of vectors with a token related to their own lexicon among their top
    ``k``. ``random_rates``: the same fraction for each random direction, scored against every
    lexicon (one value per direction), so ``random_p95`` is a one-sided 5% threshold.
    """

    top: list[list[str]]
    hit_rate: float
    random_rates: np.ndarray

    @property
    def random_mean(self) -> float:
        return float(self.random_rates.mean())

    @property
    def random_p95(self) -> float:
        return float(np.quantile(self.random_rates, 0.95))


def lens_test(model: LoadedModel, vectors: torch.Tensor, lexicons: Sequence[Sequence[str]],
              n_random: int, seed: int, k: int = 20) -> LensTest:
    """Top-``k`` tokens of each row of ``vectors`` [n, d], their hit rate against ``lexicons``
    (one word list per row), and the hit rates of ``n_random`` random directions of equal norm."""
    if len(lexicons) != vectors.shape[0]:
        raise ValueError(f"{vectors.shape[0]} vectors but {len(lexicons)} lexicons")
    if n_random < 1:
        raise ValueError("n_random must be >= 1")
    top = top_tokens(model, vectors, k=k)
    rand_top = top_tokens(model, random_directions(n_random, vectors, seed), k=k)
    rates = np.array([hit_rate([tokens] * len(lexicons), lexicons) for tokens in rand_top])
    return LensTest(top=top, hit_rate=hit_rate(top, lexicons), random_rates=rates)
