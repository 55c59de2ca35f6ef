"""The logit lens: read a direction through the model's final norm and unembedding.

A direction v is multiplied by the final norm's gain (and centred first for a LayerNorm; the
norm's 1/RMS factor only rescales and cannot change a ranking) and then by the unembedding; its
top tokens say which words the direction pushes the model towards. The architecture table
(``models.architecture``) says where the norm and the unembedding live and which kind of norm
it is.

The statistic: the share of vectors that have, among their top-k tokens, a piece of their own
emotion's word list. Its null is the same statistic under relabelling: the same top tokens
scored against the word lists of randomly permuted emotions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..models.loading import LoadedModel


def top_token_ids(model: LoadedModel, directions: torch.Tensor, k: int = 20) -> torch.Tensor:
    """[n, k] ids of each direction's top tokens through the final norm's gain and the
    unembedding. Local models compute it from the weights; remote and simulated runs compute it
    inside a trace (the weights live on the server)."""
    arch, norm, unembed = model.arch, model.final_norm, model.unembed
    directions = directions.float()
    if not model.remote:
        x = arch.lens_input(directions, norm._module)
        weight = unembed._module.weight.detach().float()
        return (x @ weight.T).topk(k, dim=-1).indices
    centre = arch.norm_kind == "layer"
    offset = 1.0 if arch.norm_kind == "rms_offset" else 0.0
    with model.lm.trace(model.tokenizer.eos_token or "x", **model.trace_kwargs()) as tracer:
        x = directions - directions.mean(dim=-1, keepdim=True) if centre else directions
        gain = norm.weight.float() + offset
        ids = ((x * gain) @ unembed.weight.float().T).topk(k, dim=-1).indices.save()
        tracer.stop()
    return torch.as_tensor(ids)


def top_tokens(model: LoadedModel, directions: torch.Tensor, k: int = 20) -> list[list[str]]:
    """For each row of ``directions`` [n, d], its ``k`` top tokens (decoded) through the lens."""
    tok = model.tokenizer
    return [[tok.decode([int(i)]) for i in row] for row in top_token_ids(model, directions, k)]


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


def hits(token_lists: Sequence[Sequence[str]], lexicons: Sequence[Sequence[str]]) -> np.ndarray:
    """[n_rows, n_lexicons] booleans: does row i have a token related to lexicon j?"""
    return np.array([[any(related(t, lex) for t in tokens) for lex in lexicons] for tokens in token_lists])


def hit_rate(token_lists: Sequence[Sequence[str]], lexicons: Sequence[Sequence[str]]) -> float:
    """Fraction of rows with at least one token related to that row's own lexicon."""
    if len(token_lists) != len(lexicons):
        raise ValueError(f"{len(token_lists)} token lists but {len(lexicons)} lexicons")
    own = [any(related(t, lex) for t in tokens) for tokens, lex in zip(token_lists, lexicons, strict=True)]
    return sum(own) / max(len(own), 1)


@dataclass(frozen=True)
class LensTest:
    """The logit-lens count for a set of vectors and its relabelling null.

    ``hit_rate``: fraction of vectors with a token related to their own lexicon among their top
    ``k``. ``null_rates``: the same fraction with the lexicons assigned to the vectors by a random
    permutation (one value per permutation), so ``null_p95`` is a one-sided 5% threshold."""

    top: list[list[str]]
    hit_rate: float
    null_rates: np.ndarray

    @property
    def null_mean(self) -> float:
        return float(self.null_rates.mean())

    @property
    def null_p95(self) -> float:
        return float(np.quantile(self.null_rates, 0.95))

    @property
    def p_value(self) -> float:
        """One-sided permutation p-value (with the +1 correction)."""
        return float((1 + (self.null_rates >= self.hit_rate).sum()) / (1 + len(self.null_rates)))


def relabelled_hit_rates(table: np.ndarray, n_permutations: int, seed: int) -> np.ndarray:
    """Hit rates of ``table`` [n_rows, n_lexicons] (``hits``) with lexicons assigned to rows by
    ``n_permutations`` seeded random permutations."""
    n = table.shape[0]
    rng = np.random.default_rng(seed)
    rows = np.arange(n)
    return np.array([table[rows, rng.permutation(n)].mean() for _ in range(n_permutations)])


def lens_test(model: LoadedModel, vectors: torch.Tensor, lexicons: Sequence[Sequence[str]],
              n_permutations: int, seed: int, k: int = 20) -> LensTest:
    """Top-``k`` tokens of each row of ``vectors`` [n, d], their hit rate against ``lexicons``
    (one word list per row), and the same rate under ``n_permutations`` relabellings."""
    if len(lexicons) != vectors.shape[0]:
        raise ValueError(f"{vectors.shape[0]} vectors but {len(lexicons)} lexicons")
    if n_permutations < 1:
        raise ValueError("n_permutations must be >= 1")
    top = top_tokens(model, vectors, k=k)
    table = hits(top, lexicons)
    return LensTest(top=top, hit_rate=float(np.diag(table).mean()),
                    null_rates=relabelled_hit_rates(table, n_permutations, seed))
