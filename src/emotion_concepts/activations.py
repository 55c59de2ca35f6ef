"""Residual-stream activations through nnsight.

One forward pass per batch reads several layers at once and stops right after the deepest
layer asked for (no later blocks, no unembedding). Padding is handled with the attention mask
and explicit position ids, so left or right padding and the batch size do not change results.

Two read-outs:
- ``residual_means``: the mean over each text's tokens from ``start_token`` on (the paper
  starts at the 50th token), always excluding the first position, whose norm is an outlier
  (SmolLM2: ~24,000 vs ~200 elsewhere).
- ``residuals_at``: the activation at one token of each text (e.g. -1, the last token).

Results are cached on disk, content-addressed by model identity, texts, layers and
parameters, so re-running with nothing changed never touches the model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import torch
from tqdm import tqdm

from .errors import EmotionBookError
from .models import LoadedModel
from .paths import cache_dir

CACHE_VERSION = 1


# ---------------------------------------------------------------- pure tensor functions


def real_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of each position among its row's real tokens (0 for the first real token),
    -1 at padding. Works for left and right padding."""
    index = attention_mask.long().cumsum(-1) - 1
    return torch.where(attention_mask.bool(), index, torch.full_like(index, -1))


def position_ids_for(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position ids that count real tokens only, so left padding leaves positions as in an
    unpadded run."""
    return real_token_index(attention_mask).clamp(min=0)


def token_range_mask(attention_mask: torch.Tensor, start_token: int) -> torch.Tensor:
    """Boolean [batch, seq]: real tokens whose index is >= max(start_token, 1)."""
    index = real_token_index(attention_mask)
    return index >= max(int(start_token), 1)


def masked_mean(hidden: torch.Tensor, select: torch.Tensor) -> torch.Tensor:
    """Mean of ``hidden`` [batch, seq, d] over the positions where ``select`` is true."""
    weights = select.to(hidden.dtype).unsqueeze(-1)
    counts = weights.sum(dim=1)
    if (counts == 0).any():
        raise ValueError("a row has no selected tokens")
    return (hidden * weights).sum(dim=1) / counts


def gather_position(hidden: torch.Tensor, attention_mask: torch.Tensor, position: int) -> torch.Tensor:
    """Activation at real-token ``position`` of each row (negative counts from the end)."""
    index = real_token_index(attention_mask)
    lengths = attention_mask.long().sum(-1)
    target = torch.where(torch.tensor(position) < 0, lengths + position, torch.tensor(position))
    if ((target < 0) | (target >= lengths)).any():
        raise ValueError(f"position {position} is outside some text")
    select = index == target.unsqueeze(-1)
    return hidden[select]


# ---------------------------------------------------------------- model passes


def _tokenize(model: LoadedModel, texts: Sequence[str], padding_side: str) -> dict[str, torch.Tensor]:
    tok = model.tokenizer
    old_side = tok.padding_side
    tok.padding_side = padding_side
    bos = getattr(tok, "bos_token", None)
    # chat-formatted texts already carry their special tokens
    add_special = not (bos and all(t.startswith(bos) for t in texts))
    try:
        enc = tok(list(texts), return_tensors="pt", padding=True, add_special_tokens=add_special)
    finally:
        tok.padding_side = old_side
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def token_lengths(model: LoadedModel, texts: Sequence[str]) -> list[int]:
    tok = model.tokenizer
    return [len(ids) for ids in tok(list(texts), add_special_tokens=True)["input_ids"]]


def _layer_outputs(model: LoadedModel, enc: dict[str, torch.Tensor], layers: list[int]) -> dict[int, torch.Tensor]:
    """Residual stream after each requested block for one batch: {layer: [batch, seq, d]}.
    The forward stops after the deepest requested block."""
    saved = {}
    with model.lm.trace(
        enc["input_ids"],
        attention_mask=enc["attention_mask"],
        position_ids=position_ids_for(enc["attention_mask"]),
        remote=model.remote,
    ) as tracer:
        blocks = model.layers
        for layer in sorted(layers):
            out = blocks[layer].output
            saved[layer] = (out[0] if isinstance(out, tuple) else out).save()
        tracer.stop()
    return {layer: torch.as_tensor(value).detach().float() for layer, value in saved.items()}


def _cache_key(model: LoadedModel, texts: Sequence[str], layers: list[int], params: dict) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"model": model.identity or model.alias, "layers": sorted(layers),
                         "params": params, "v": CACHE_VERSION}, sort_keys=True).encode())
    for text in texts:
        h.update(hashlib.sha256(text.encode()).digest())
    return h.hexdigest()[:32]


def _cached(key: str) -> Path:
    return cache_dir() / "activations" / f"{key}.safetensors"


def _run(model: LoadedModel, texts: Sequence[str], layers: Sequence[int], params: dict,
         reduce, batch_size: int, progress: bool | str, cache: bool) -> dict[int, torch.Tensor]:
    if not texts:
        raise EmotionBookError("no texts to read activations from")
    layers = sorted({model.check_layer(int(layer)) for layer in layers})
    if batch_size < 1:
        raise EmotionBookError(f"batch_size must be >= 1, got {batch_size}")
    key = _cache_key(model, texts, layers, params)
    path = _cached(key)
    if cache and path.exists():
        from safetensors.torch import load_file

        stored = load_file(path)
        return {layer: stored[f"layer_{layer}"] for layer in layers}

    # sort by length so batches carry little padding; restore order at the end
    lengths = token_lengths(model, texts)
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    chunks: dict[int, list[torch.Tensor]] = {layer: [] for layer in layers}
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    desc = progress if isinstance(progress, str) else "activations"
    for batch in tqdm(batches, desc=desc, disable=not progress, mininterval=2.0):
        enc = _tokenize(model, [texts[i] for i in batch], params.get("padding_side", "right"))
        outputs = _layer_outputs(model, enc, layers)
        for layer in layers:
            chunks[layer].append(reduce(outputs[layer], enc["attention_mask"]))
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    result = {layer: torch.cat(chunks[layer])[inverse].contiguous() for layer in layers}

    if cache:
        from safetensors.torch import save_file

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".partial")
        save_file({f"layer_{layer}": t for layer, t in result.items()}, str(tmp),
                  metadata={"model": model.identity, "params": json.dumps(params)})
        tmp.replace(path)
    return result


def residual_means(model: LoadedModel, texts: Sequence[str], layers: Sequence[int], *,
                   start_token: int = 50, batch_size: int = 8, padding_side: str = "right",
                   progress: bool | str = True, cache: bool = True) -> dict[int, torch.Tensor]:
    """{layer: [n_texts, d]}: each text's residual stream after block ``layer``, averaged over
    its tokens from ``start_token`` on (and never the first position). A text with no token
    at or after ``start_token`` is an error naming the text."""
    lengths = token_lengths(model, texts)
    short = [i for i, n in enumerate(lengths) if n <= max(start_token, 1)]
    if short:
        i = short[0]
        raise EmotionBookError(
            f"{len(short)} text(s) have no tokens at or after start_token={start_token} "
            f"(e.g. text {i}, {lengths[i]} tokens: {texts[i][:60]!r}); lower start_token"
        )
    params = {"read": "mean", "start_token": int(start_token), "padding_side": padding_side}
    return _run(model, texts, layers, params,
                lambda h, m: masked_mean(h, token_range_mask(m, start_token)),
                batch_size, progress, cache)


def residuals_at(model: LoadedModel, texts: Sequence[str], layers: Sequence[int], *,
                 position: int = -1, batch_size: int = 8, padding_side: str = "right",
                 progress: bool | str = True, cache: bool = True) -> dict[int, torch.Tensor]:
    """{layer: [n_texts, d]}: the residual stream at real token ``position`` of each text."""
    params = {"read": "position", "position": int(position), "padding_side": padding_side}
    return _run(model, texts, layers, params,
                lambda h, m: gather_position(h, m, position), batch_size, progress, cache)
