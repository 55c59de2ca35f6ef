"""Sampled completions from a loaded model, seeded and cached content-addressed."""

from __future__ import annotations

import hashlib
import json

import torch

from ..files import atomic_write_json
from ..paths import cache_dir
from .loading import LoadedModel


def _generation_key(model: LoadedModel, prompt: str, settings: dict) -> str:
    import transformers

    blob = {"model": model.identity or model.alias, "prompt": prompt, "settings": settings,
            "torch": torch.__version__, "transformers": transformers.__version__}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:32]


def sample_completion(model: LoadedModel, prompt: str, max_new_tokens: int, seed: int,
                      temperature: float = 0.8, top_p: float = 0.95, cache: bool = True) -> str:
    """One sampled completion of a (chat-formatted) prompt, wherever the model's traces run.

    Local and simulated completions are seeded, so they are cached content-addressed (model,
    prompt, sampling settings, seed, torch and transformers versions): a rebuild with nothing
    changed reads them back. NDIF completions are never cached (the server's sampler is not
    seeded from here)."""
    settings = {"max_new_tokens": max_new_tokens, "seed": seed, "temperature": temperature, "top_p": top_p}
    cache = cache and model.remote is not True
    path = cache_dir() / "generations" / f"{_generation_key(model, prompt, settings)}.json"
    if cache and path.exists():
        return json.loads(path.read_text())["completion"]
    torch.manual_seed(seed)
    with model.lm.generate(prompt, max_new_tokens=max_new_tokens, do_sample=True, temperature=temperature,
                           top_p=top_p, **model.trace_kwargs()) as tracer:
        out = tracer.result.save()
    ids = torch.as_tensor(out)[0]
    n_prompt = len(model.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    completion = model.tokenizer.decode(ids[n_prompt:], skip_special_tokens=True)
    if cache:
        atomic_write_json(path, {"model": model.identity, "settings": settings, "prompt": prompt,
                                 "completion": completion})
    return completion
