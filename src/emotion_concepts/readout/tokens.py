"""Per-token residual streams: every token of a text at once, with where each token sits in the
text (character spans), so a reader can pick any token or span (a user's last token, the tokens
of a reply, a name mentioned again) after one pass.

One trace per batch of texts (``activations.layer_outputs``: stops after the deepest layer asked
for, runs locally, through the NDIF simulation or on NDIF). Right padding with position ids
counting real tokens, so a text's reads do not depend on what it was batched with. Results are
cached on disk per text and layer, content-addressed by model identity, text and layer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from .. import heap
from ..errors import EmotionBookError
from ..files import atomic_write_bytes
from ..models.loading import LoadedModel
from ..paths import cache_dir
from .activations import encode_texts, layer_outputs, pad_batch

CACHE_VERSION = 1


@dataclass
class TokenReads:
    """One text's tokens and their residual streams.

    ``spans[i]`` is token i's (start, end) character span in ``text`` (special tokens of a chat
    template cover their own characters; a byte-level token inside a multi-byte character may
    share its span with a neighbour). ``residuals[layer]`` is [n_tokens, d] float32."""

    text: str
    token_ids: list[int]
    spans: list[tuple[int, int]]
    residuals: dict[int, torch.Tensor]

    def __len__(self) -> int:
        return len(self.token_ids)

    @property
    def pieces(self) -> list[str]:
        """Each token's own characters (a piece already shown by the previous token is '')."""
        out, shown = [], 0
        for start, end in self.spans:
            out.append(self.text[max(start, shown):end] if end > shown else "")
            shown = max(shown, end)
        return out

    def tokens_in(self, start: int, end: int) -> list[int]:
        """Indices of the tokens overlapping characters [start, end) of the text."""
        return tokens_in_span(self.spans, start, end)

    def last_token_in(self, start: int, end: int) -> int:
        found = self.tokens_in(start, end)
        if not found:
            raise EmotionBookError(f"no token covers characters {start}..{end} of {self.text[:60]!r}")
        return found[-1]


def tokens_in_span(spans: Sequence[tuple[int, int]], start: int, end: int) -> list[int]:
    """Indices of the tokens whose character span overlaps [start, end) (empty spans excluded)."""
    return [i for i, (a, b) in enumerate(spans) if b > a and a < end and b > start]


def token_spans(model: LoadedModel, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Token ids of ``text`` as every read in this package tokenizes it (``encode_texts``: no BOS
    added to a text that starts with one) and each token's character span."""
    ids = encode_texts(model, [text])[0]
    tok = model.tokenizer
    bos = getattr(tok, "bos_token", None)
    enc = tok(text, add_special_tokens=not (bos and text.startswith(bos)), return_offsets_mapping=True)
    if list(enc["input_ids"]) != ids:
        raise EmotionBookError("the tokenizer's offsets do not match its tokens for this text")
    return ids, [(int(a), int(b)) for a, b in enc["offset_mapping"]]


def _cache_key(model: LoadedModel, text: str, layer: int) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"model": model.identity or model.alias, "layer": int(layer), "read": "tokens",
                         "v": CACHE_VERSION}, sort_keys=True).encode())
    h.update(hashlib.sha256(text.encode()).digest())
    return h.hexdigest()[:32]


def _cached(key: str) -> Path:
    return cache_dir() / "tokens" / f"{key}.safetensors"


def token_residuals(model: LoadedModel, texts: Sequence[str], layers: Sequence[int], *, batch_size: int = 8,
                    cache: bool = True, progress: bool | str = False) -> list[TokenReads]:
    """Every token's residual stream after each block in ``layers``, for each text (in order).

    A text with no tokens is an error naming it. Cached per text and layer: a later read of the
    same text at a cached layer skips the model."""
    if not texts:
        raise EmotionBookError("no texts to read")
    if batch_size < 1:
        raise EmotionBookError(f"batch_size must be >= 1, got {batch_size}")
    layers = sorted({model.check_layer(int(layer)) for layer in layers})
    tokenized = [token_spans(model, t) for t in texts]
    empty = [i for i, (ids, _) in enumerate(tokenized) if not ids]
    if empty:
        raise EmotionBookError(f"text {empty[0]} has no tokens")
    reads = [TokenReads(t, ids, spans, {}) for t, (ids, spans) in zip(texts, tokenized, strict=True)]
    if cache:
        from safetensors.torch import load_file

        for r in reads:
            for layer in layers:
                path = _cached(_cache_key(model, r.text, layer))
                if path.exists():
                    r.residuals[layer] = load_file(path)["activations"]
    todo = [i for i, r in enumerate(reads) if any(layer not in r.residuals for layer in layers)]
    order = sorted(todo, key=lambda i: len(reads[i]))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    for batch in heap.trimming(tqdm(batches, desc=progress if isinstance(progress, str) else "tokens",
                                    disable=not progress, mininterval=2.0)):
        missing = sorted({layer for i in batch for layer in layers if layer not in reads[i].residuals})
        enc = pad_batch([reads[i].token_ids for i in batch], model.tokenizer.pad_token_id, "right")
        outputs = layer_outputs(model, enc, missing)
        for row, i in enumerate(batch):
            n = len(reads[i])
            for layer in missing:
                if layer in reads[i].residuals:
                    continue
                value = outputs[layer][row, :n].contiguous()
                reads[i].residuals[layer] = value
                if cache:
                    from safetensors.torch import save

                    blob = save({"activations": value}, metadata={"model": model.identity, "layer": str(layer)})
                    atomic_write_bytes(_cached(_cache_key(model, reads[i].text, layer)), blob)
    for r in reads:
        r.residuals = {layer: r.residuals[layer] for layer in layers}
    return reads


REDUCTIONS = ("last", "mean")
Span = tuple[int, int, str]  # (start, end) characters of a text and "last" (its last token) or "mean" (all its tokens)


def _span_key(model: LoadedModel, texts: Sequence[str], spans: Sequence[Sequence[Span]], layer: int) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"model": model.identity or model.alias, "layer": int(layer), "read": "spans",
                         "v": CACHE_VERSION}, sort_keys=True).encode())
    for text, row in zip(texts, spans, strict=True):
        h.update(hashlib.sha256(text.encode()).digest())
        h.update(json.dumps([list(s) for s in row]).encode())
    return h.hexdigest()[:32]


def span_reads(model: LoadedModel, texts: Sequence[str], spans: Sequence[Sequence[Span]], layers: Sequence[int], *,
               batch_size: int = 8, chunk: int = 256, cache: bool = True,
               progress: bool | str = False) -> dict[int, torch.Tensor]:
    """{layer: [n_texts, n_spans, d]}: for each text, the residual stream at each of its
    character spans (``(start, end, "last")``: the last token overlapping it; ``"mean"``: the
    mean over every token overlapping it). Every text has the same number of spans. One pass
    per batch; the result (not every token) is cached per layer, content-addressed by model,
    texts, spans and layer."""
    if len(spans) != len(texts):
        raise EmotionBookError(f"{len(texts)} texts but {len(spans)} rows of spans")
    if len({len(row) for row in spans}) > 1 or not spans or not spans[0]:
        raise EmotionBookError("every text needs the same number (at least one) of spans")
    for row in spans:
        for _, _, how in row:
            if how not in REDUCTIONS:
                raise EmotionBookError(f"a span is read as one of {', '.join(REDUCTIONS)}, got {how!r}")
    layers = sorted({model.check_layer(int(layer)) for layer in layers})
    paths = {layer: cache_dir() / "spans" / f"{_span_key(model, texts, spans, layer)}.safetensors" for layer in layers}
    result: dict[int, torch.Tensor] = {}
    if cache:
        from safetensors.torch import load_file

        result = {layer: load_file(p)["activations"] for layer, p in paths.items() if p.exists()}
    missing = [layer for layer in layers if layer not in result]
    if not missing:
        return result
    rows: dict[int, list[torch.Tensor]] = {layer: [] for layer in missing}
    for at in range(0, len(texts), chunk):
        reads = token_residuals(model, texts[at:at + chunk], missing, batch_size=batch_size, cache=False,
                                progress=progress)
        for n, (read, row) in enumerate(zip(reads, spans[at:at + chunk], strict=True)):
            picked = []
            for start, end, how in row:
                found = read.tokens_in(start, end)
                if not found:
                    raise EmotionBookError(f"text {at + n}: no token covers characters {start}..{end}")
                picked.append(found[-1:] if how == "last" else found)
            for layer in missing:
                h = read.residuals[layer]
                rows[layer].append(torch.stack([h[idx].mean(0) for idx in picked]))
    for layer in missing:
        result[layer] = torch.stack(rows[layer]).contiguous()
        if cache:
            from safetensors.torch import save

            atomic_write_bytes(paths[layer], save({"activations": result[layer]},
                                                  metadata={"model": model.identity, "layer": str(layer)}))
    return {layer: result[layer] for layer in layers}
