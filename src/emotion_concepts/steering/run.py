"""Steered runs: next-token log-probabilities (one trace per batch) and generation (the edit
applied at every step). No stateful model wrapper: each function takes the model, the prompts
and one tuple of edits per prompt, and returns numbers. The edits happen inside the trace and
only ``.save()``d values leave it, so both run locally, through the NDIF simulation or on NDIF.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import torch
from tqdm import tqdm

from .. import heap
from ..files import atomic_write_json
from ..models.loading import LoadedModel
from ..paths import cache_dir
from ..readout.activations import encode_texts, pad_batch, position_ids_for
from .edits import Steer, layer_edits, spec_key

Rows = Sequence[Sequence[Steer]]


def _rows(prompts: Sequence[str], edits: Rows | None) -> list[tuple[Steer, ...]]:
    rows = [()] * len(prompts) if edits is None else [tuple(r) for r in edits]
    if len(rows) != len(prompts):
        raise ValueError(f"{len(prompts)} prompts but {len(rows)} rows of edits")
    return rows


def steered_logprobs(model: LoadedModel, prompts: Sequence[str], edits: Rows | None = None, *,
                     token_ids: Sequence[int] | None = None, batch_size: int = 16,
                     progress: bool | str = False) -> torch.Tensor:
    """[n_prompts, vocab] (or [n_prompts, len(token_ids)]) log-probabilities of the token after
    each prompt, with each prompt's edits applied in its forward pass. One trace per batch."""
    rows = _rows(prompts, edits)
    for row in rows:
        for e in row:
            model.check_layer(e.layer)
            if e.positions == "generated":
                raise ValueError("a next-token read has no generated tokens: use positions 'prompt' or 'all'")
    ids = encode_texts(model, prompts)
    out = []
    batches = [range(i, min(i + batch_size, len(prompts))) for i in range(0, len(prompts), batch_size)]
    for batch in heap.trimming(tqdm(batches, desc=progress if isinstance(progress, str) else "steered",
                                    disable=not progress, mininterval=2.0)):
        enc = pad_batch([ids[i] for i in batch], model.tokenizer.pad_token_id, "left")
        out.append(_logprob_trace(model, enc, [rows[i] for i in batch], token_ids))
    return torch.cat(out)


def _plain_edits(rows: Rows, attention_mask: torch.Tensor, d_model: int) -> dict[int, tuple]:
    """{layer: (add_prompt, add_generated [batch, 1, d], ablate_units [batch, 1, d] or None,
    ablate_prompt, ablate_generated)}: plain tensors, so the trace body needs nothing of this
    package on a server."""
    return {layer: (e.add_prompt, e.add_generated.unsqueeze(1), e.ablate_units.unsqueeze(1) if e.has_ablation else None,
                    e.ablate_prompt, e.ablate_generated)
            for layer, e in layer_edits(rows, attention_mask, d_model).items()}


def _logprob_trace(model: LoadedModel, enc: dict[str, torch.Tensor], rows: Rows,
                   token_ids: Sequence[int] | None) -> torch.Tensor:
    lm, blocks = model.lm, model.layers
    edits = _plain_edits(rows, enc["attention_mask"], model.d_model)
    select = torch.tensor(list(token_ids)) if token_ids is not None else None
    softcap = getattr(getattr(model.lm, "config", None), "final_logit_softcapping", None) or 0.0
    with lm.trace(enc["input_ids"], attention_mask=enc["attention_mask"],
                  position_ids=position_ids_for(enc["attention_mask"]), **model.trace_kwargs()):
        for layer, (add, _, units, ablate, _) in edits.items():
            out = blocks[layer].output
            h = out[0] if isinstance(out, tuple) else out
            if units is not None:
                u = units.to(h.dtype)
                h[:] = h - ablate.to(h.dtype) * (h * u).sum(-1, keepdim=True) * u
            h[:] = h + add.to(h.dtype)
        # the last position's logits recomputed in float32 from the final norm's output: bf16
        # logits come in steps of ~0.1 at their usual size, coarse for an option's probability
        final = model.final_norm.output[:, -1].float()
        logits = final @ model.unembed.weight.float().T
        if softcap:
            logits = torch.tanh(logits / softcap) * softcap
        logits = logits.log_softmax(-1)
        result = (logits if select is None else logits[:, select]).save()
    return torch.as_tensor(result).detach()


def steered_generate(model: LoadedModel, prompts: Sequence[str], edits: Rows | None = None, *,
                     max_new_tokens: int = 40, fixed_length: bool = True, do_sample: bool = False,
                     temperature: float = 1.0, top_p: float = 1.0, seed: int = 0, batch_size: int = 8,
                     cache: bool = True, progress: bool | str = False) -> list[str]:
    """The completion of each prompt with its edits applied at every step (the prompt's forward
    at step 0, each new token after). Greedy by default; sampled completions are seeded per batch.
    Local and simulated results are cached content-addressed: model, prompt, edits (directions
    hashed), decoding settings and seed."""
    rows = _rows(prompts, edits)
    for row in rows:
        for e in row:
            model.check_layer(e.layer)
    settings = {"max_new_tokens": max_new_tokens, "fixed_length": fixed_length, "do_sample": do_sample,
                "temperature": temperature, "top_p": top_p, "seed": seed, "batch_size": batch_size}
    cache = cache and model.remote is not True
    keys = [_generation_key(model, p, r, settings) for p, r in zip(prompts, rows, strict=True)]
    paths = [cache_dir() / "steered" / f"{k}.json" for k in keys]
    result: list[str | None] = [json.loads(p.read_text())["completion"] if cache and p.exists() else None
                                for p in paths]
    todo = [i for i, r in enumerate(result) if r is None]
    ids = encode_texts(model, [prompts[i] for i in todo]) if todo else []
    batches = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
    bar = tqdm(batches, desc=progress if isinstance(progress, str) else "generating", disable=not progress,
               mininterval=2.0)
    for n, batch in enumerate(heap.trimming(bar, every=1)):
        enc = pad_batch([ids[todo.index(i)] for i in batch], model.tokenizer.pad_token_id, "left")
        torch.manual_seed(seed + n)
        texts = _generate_trace(model, enc, [rows[i] for i in batch], settings)
        for i, text in zip(batch, texts, strict=True):
            result[i] = text
            if cache:
                atomic_write_json(paths[i], {"model": model.identity, "prompt": prompts[i], "edits": spec_key(rows[i]),
                                             "settings": settings, "completion": text})
    return [r or "" for r in result]


def _generate_trace(model: LoadedModel, enc: dict[str, torch.Tensor], rows: Rows, settings: dict) -> list[str]:
    lm, blocks = model.lm, model.layers
    edits = _plain_edits(rows, enc["attention_mask"], model.d_model)
    n = settings["max_new_tokens"]
    decoding = {"do_sample": settings["do_sample"]}
    if settings["do_sample"]:
        decoding.update(temperature=settings["temperature"], top_p=settings["top_p"])
    if settings["fixed_length"]:
        decoding["min_new_tokens"] = n
    with lm.generate(enc["input_ids"], attention_mask=enc["attention_mask"], max_new_tokens=n,
                     pad_token_id=model.tokenizer.pad_token_id, **decoding, **model.trace_kwargs()) as tracer:
        for step in tracer.iter[0:n]:
            for layer, (add_prompt, add_generated, units, ablate_prompt, ablate_generated) in edits.items():
                out = blocks[layer].output
                h = out[0] if isinstance(out, tuple) else out
                if units is not None:
                    u = units.to(h.dtype)
                    where = ablate_prompt if step == 0 else ablate_generated
                    h[:] = h - where.to(h.dtype) * (h * u).sum(-1, keepdim=True) * u
                h[:] = h + (add_prompt if step == 0 else add_generated).to(h.dtype)
        generated = tracer.result.save()
    new = torch.as_tensor(generated)[:, enc["input_ids"].shape[1]:]
    return model.tokenizer.batch_decode(new, skip_special_tokens=True)


def _generation_key(model: LoadedModel, prompt: str, row: Sequence[Steer], settings: dict) -> str:
    import transformers

    blob = {"model": model.identity, "prompt": prompt, "edits": spec_key(row), "settings": settings,
            "torch": torch.__version__, "transformers": transformers.__version__}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:32]
