"""Every function that opens an nnsight trace runs under nnsight's NDIF simulation
(``remote="local"``: the request is serialized and deserialized as NDIF would, with the user's
own modules hidden, then run here) and gives the same values as a local run; a trace that needs
a module the server lacks fails with a clear error."""

from __future__ import annotations

import pytest
import torch
from conftest import MIXED_TEXTS

from emotion_concepts.errors import RemoteTraceError
from emotion_concepts.models import simulated
from emotion_concepts.models.generation import sample_completion
from emotion_concepts.models.loading import strict_simulation
from emotion_concepts.readout.activations import residual_means, residuals_at
from emotion_concepts.readout.lens import top_token_ids


@pytest.fixture(scope="module")
def sim(model):
    return simulated(model)


@pytest.mark.parametrize("batch_size", [1, 8])
def test_reads_are_identical_under_the_simulation(model, sim, isolated_cache, batch_size):
    for read, kwargs in ((residual_means, {"start_token": 1}), (residuals_at, {"position": -1})):
        local = read(model, MIXED_TEXTS, [3, 20], batch_size=batch_size, progress=False, cache=False, **kwargs)
        remote = read(sim, MIXED_TEXTS, [3, 20], batch_size=batch_size, progress=False, cache=False, **kwargs)
        for layer in (3, 20):
            torch.testing.assert_close(remote[layer], local[layer], atol=1e-5, rtol=0)


def test_lens_is_identical_under_the_simulation(model, sim):
    directions = torch.randn(6, model.d_model, generator=torch.Generator().manual_seed(0))
    assert torch.equal(top_token_ids(sim, directions, k=10), top_token_ids(model, directions, k=10))


def test_sampled_generation_is_identical_under_the_simulation(model, sim, isolated_cache):
    prompt = model.chat("Name a colour.")
    local = sample_completion(model, prompt, max_new_tokens=8, seed=5, cache=False)
    assert sample_completion(sim, prompt, max_new_tokens=8, seed=5, cache=False) == local


def test_a_trace_needing_an_unshipped_module_fails_clearly(model):
    """This package's own helpers are not installed on an NDIF server; called inside a trace
    without being registered for shipping, the simulation refuses them as the server would."""
    from cloudpickle.cloudpickle import _PICKLE_BY_VALUE_MODULES

    from emotion_concepts.readout import activations

    registered = "emotion_concepts" in _PICKLE_BY_VALUE_MODULES
    _PICKLE_BY_VALUE_MODULES.discard("emotion_concepts")
    try:
        lm = model.lm
        with pytest.raises(RemoteTraceError, match="needs the module 'emotion_concepts'"):
            with lm.trace("hello there", backend=strict_simulation(lm)):
                activations.masked_mean(lm.model.layers[0].output, torch.ones(1, 3, dtype=torch.bool)).save()
    finally:
        if registered:
            _PICKLE_BY_VALUE_MODULES.add("emotion_concepts")
