"""Residual-stream activations through nnsight.

One forward pass per batch reads several layers at once and stops right after the deepest
layer asked for (no later blocks, no unembedding). Padding is handled with the attention mask
and explicit position ids, so left or right padding and the batch size do not change results.

Two read-outs:
- ``residual_means``: the mean over each text's tokens from index ``start_token`` on (0-based;
  the paper starts at the 50th token, index 49), always excluding the first position, whose
  norm is an outlier (SmolLM2: ~24,000 vs ~200 elsewhere).
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

from .. import heap
from ..errors import EmotionBookError
from ..files import atomic_write_bytes
from ..models.loading import LoadedModel
from ..paths import cache_dir

CACHE_VERSION = 3


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
    """Boolean [batch, seq]: real tokens whose 0-based index is >= max(start_token, 1)."""
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


# ---------------------------------------------------------------- tokenization


def encode_texts(model: LoadedModel, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text, tokenized once. A text that already starts with the tokenizer's
    BOS string (chat-formatted text carries its own special tokens) gets none added."""
    tok = model.tokenizer
    bos = getattr(tok, "bos_token", None)
    plain = [i for i, t in enumerate(texts) if not (bos and t.startswith(bos))]
    formatted = [i for i, t in enumerate(texts) if bos and t.startswith(bos)]
    ids: list[list[int]] = [[] for _ in texts]
    for group, special in ((plain, True), (formatted, False)):
        if group:
            enc = tok([texts[i] for i in group], add_special_tokens=special)["input_ids"]
            for i, row in zip(group, enc, strict=True):
                ids[i] = list(row)
    return ids


def pad_batch(rows: Sequence[Sequence[int]], pad_id: int, side: str = "right") -> dict[str, torch.Tensor]:
    """[batch, max_len] input ids and attention mask from token-id lists, padded on ``side``."""
    if side not in ("left", "right"):
        raise ValueError(f"padding side must be 'left' or 'right', got {side!r}")
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), int(pad_id), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        span = slice(0, len(r)) if side == "right" else slice(width - len(r), width)
        input_ids[i, span] = torch.tensor(list(r), dtype=torch.long)
        mask[i, span] = 1
    return {"input_ids": input_ids, "attention_mask": mask}


# ---------------------------------------------------------------- model passes


def layer_outputs(model: LoadedModel, enc: dict[str, torch.Tensor], layers: Sequence[int]) -> dict[int, torch.Tensor]:
    """Residual stream after each requested block for one batch: {layer: [batch, seq, d]} in
    float32. The forward stops after the deepest requested block. Runs wherever the model's
    traces run (here, simulated NDIF or NDIF): the trace body uses only nnsight and torch."""
    blocks = model.layers
    wanted = sorted(int(layer) for layer in layers)
    saved = {}
    with model.lm.trace(enc["input_ids"], attention_mask=enc["attention_mask"],
                        position_ids=position_ids_for(enc["attention_mask"]), **model.trace_kwargs()) as tracer:
        for layer in wanted:
            out = blocks[layer].output
            saved[layer] = (out[0] if isinstance(out, tuple) else out).save()
        tracer.stop()
    return {layer: torch.as_tensor(value).detach().float() for layer, value in saved.items()}


def _cache_key(model: LoadedModel, texts: Sequence[str], layer: int, params: dict) -> str:
    """Content address of one layer's read: model identity (weights hash and dtype), the texts,
    the read-out parameters and the layer. One file per layer, so a read of other layers of the
    same texts reuses whatever is cached and runs the model only for the rest."""
    h = hashlib.sha256()
    h.update(json.dumps({"model": model.identity or model.alias, "layer": int(layer), "params": params,
                         "v": CACHE_VERSION}, sort_keys=True).encode())
    for text in texts:
        h.update(hashlib.sha256(text.encode()).digest())
    return h.hexdigest()[:32]


def _cached(key: str) -> Path:
    return cache_dir() / "activations" / f"{key}.safetensors"


def _run(model: LoadedModel, texts: Sequence[str], layers: Sequence[int], params: dict, reduce,
         batch_size: int, progress: bool | str, cache: bool,
         ids: list[list[int]] | None = None) -> dict[int, torch.Tensor]:
    if not texts:
        raise EmotionBookError("no texts to read activations from")
    layers = sorted({model.check_layer(int(layer)) for layer in layers})
    if batch_size < 1:
        raise EmotionBookError(f"batch_size must be >= 1, got {batch_size}")
    paths = {layer: _cached(_cache_key(model, texts, layer, params)) for layer in layers}
    result: dict[int, torch.Tensor] = {}
    if cache:
        from safetensors.torch import load_file

        result = {layer: load_file(path)["activations"] for layer, path in paths.items() if path.exists()}
    missing = [layer for layer in layers if layer not in result]
    if not missing:
        return result

    ids = ids if ids is not None else encode_texts(model, texts)
    # sort by length so batches carry little padding; restore order at the end
    order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
    chunks: dict[int, list[torch.Tensor]] = {layer: [] for layer in missing}
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    desc = progress if isinstance(progress, str) else "activations"
    pad_id = model.tokenizer.pad_token_id
    for batch in heap.trimming(tqdm(batches, desc=desc, disable=not progress, mininterval=2.0)):
        enc = pad_batch([ids[i] for i in batch], pad_id, params.get("padding_side", "right"))
        outputs = layer_outputs(model, enc, missing)
        for layer in missing:
            chunks[layer].append(reduce(outputs[layer], enc["attention_mask"]))
        del outputs  # freed before the heap is trimmed
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    for layer in missing:
        result[layer] = torch.cat(chunks[layer])[inverse].contiguous()
        if cache:
            from safetensors.torch import save

            blob = save({"activations": result[layer]},
                        metadata={"model": model.identity, "layer": str(layer), "params": json.dumps(params)})
            atomic_write_bytes(paths[layer], blob)
    return {layer: result[layer] for layer in layers}


def residual_means(model: LoadedModel, texts: Sequence[str], layers: Sequence[int], *,
                   start_token: int = 49, batch_size: int = 8, padding_side: str = "right",
                   progress: bool | str = True, cache: bool = True) -> dict[int, torch.Tensor]:
    """{layer: [n_texts, d]}: each text's residual stream after block ``layer``, averaged over
    its tokens from index ``start_token`` on (0-based: the paper's "from the 50th token on" is
    ``start_token=49``), and never the first position. A text with no token there is an error
    naming the text."""
    ids = encode_texts(model, texts)
    short = [i for i, row in enumerate(ids) if len(row) <= max(start_token, 1)]
    if short:
        i = short[0]
        raise EmotionBookError(
            f"{len(short)} text(s) have no tokens at or after start_token={start_token} "
            f"(e.g. text {i}, {len(ids[i])} tokens: {texts[i][:60]!r}); lower start_token"
        )
    params = {"read": "mean", "start_token": int(start_token), "padding_side": padding_side}
    return _run(model, texts, layers, params, lambda h, m: masked_mean(h, token_range_mask(m, start_token)),
                batch_size, progress, cache, ids)


def residual_norm_means(model: LoadedModel, texts: Sequence[str], layers: Sequence[int], *, batch_size: int = 8,
                        progress: bool | str = False, cache: bool = True) -> dict[int, torch.Tensor]:
    """{layer: [n_texts]}: each text's mean per-token residual-stream norm after block ``layer``,
    over every token but the first (whose norm is an outlier)."""
    params = {"read": "norm", "padding_side": "right"}

    def reduce(h: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        return masked_mean(h.norm(dim=-1, keepdim=True), token_range_mask(m, 1))

    out = _run(model, texts, layers, params, reduce, batch_size, progress, cache)
    return {layer: t[:, 0] for layer, t in out.items()}


def residuals_at(model: LoadedModel, texts: Sequence[str], layers: Sequence[int], *,
                 position: int = -1, batch_size: int = 8, padding_side: str = "right",
                 progress: bool | str = True, cache: bool = True) -> dict[int, torch.Tensor]:
    """{layer: [n_texts, d]}: the residual stream at real token ``position`` of each text
    (negative positions count from the end: -1 is the last token)."""
    params = {"read": "position", "position": int(position), "padding_side": padding_side}
    return _run(model, texts, layers, params, lambda h, m: gather_position(h, m, position),
                batch_size, progress, cache)
