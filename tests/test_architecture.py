"""The architecture table on tiny random models of each family: the paths resolve, block
outputs read through nnsight equal transformers' hidden states, and the logit lens of a
direction matches an independent computation from the weights."""

from __future__ import annotations

import pytest
import torch
from tiny import FAMILIES, tiny_model

from emotion_concepts.errors import ModelSpecError
from emotion_concepts.models import architecture_of
from emotion_concepts.readout.activations import layer_outputs, position_ids_for
from emotion_concepts.readout.lens import top_token_ids


@pytest.mark.parametrize("family", FAMILIES)
def test_paths_resolve_and_block_outputs_match_transformers(family):
    m = tiny_model(family)
    assert m.arch.name.startswith(family.split("_")[0][:4]) or family == "gpt_neox"
    assert len(m.layers) == m.n_layers == 4
    ids = torch.tensor([[5, 9, 17, 33, 2, 64], [7, 8, 9, 10, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    got = layer_outputs(m, {"input_ids": ids, "attention_mask": mask}, [0, 2])
    with torch.no_grad():
        ref = m.torch_module(input_ids=ids, attention_mask=mask, position_ids=position_ids_for(mask),
                             output_hidden_states=True).hidden_states
    for layer in (0, 2):  # hidden_states[i + 1] is block i's output (the last one is after the final norm)
        real = mask.bool()
        torch.testing.assert_close(got[layer][real], ref[layer + 1][real], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_lens_matches_the_weights(family):
    m = tiny_model(family)
    module = m.torch_module
    directions = torch.randn(5, m.d_model, generator=torch.Generator().manual_seed(1))
    norm = dict(module.named_modules())[m.arch.final_norm]
    weight = norm.weight.detach()
    gain = weight + 1 if family == "gemma3" else weight  # Gemma's RMSNorm scales by (1 + w)
    x = directions - directions.mean(-1, keepdim=True) if family == "gpt_neox" else directions  # LayerNorm centres
    expected = ((x * gain) @ module.get_output_embeddings().weight.detach().T).topk(7, dim=-1).indices
    assert torch.equal(top_token_ids(m, directions, k=7), expected)


def test_unknown_architecture_is_a_clear_error():
    class Strange(torch.nn.Module):
        config = type("C", (), {"model_type": "strange"})()

    with pytest.raises(ModelSpecError, match="unsupported architecture Strange"):
        architecture_of(Strange())
