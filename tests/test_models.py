"""Model specs: the default alias loads and is described right; bad input gets one clear error."""

from __future__ import annotations

import dataclasses

import pytest

from emotion_concepts import models
from emotion_concepts.book.cli import main
from emotion_concepts.errors import LayerError, ModelSpecError
from emotion_concepts.models import registry


def test_default_model_metadata(model, model_bf16):
    assert model.alias == "smollm2-135m-instruct"
    assert (model.n_layers, model.d_model) == (30, 576)
    assert model.default_layer == 20  # round(2/3 * 30)
    assert model.has_chat_template and model.arch.name == "llama"
    sha = models.GGUF_MODELS["smollm2-135m-instruct"].sha256
    assert model.identity == f"smollm2-135m-instruct@{sha}#float32"
    assert model_bf16.identity.endswith("#bfloat16")  # caches never mix dtypes
    assert "<|im_start|>assistant" in model.chat("How are you?")


def test_registry_knows_layer_counts_without_loading(model):
    assert registry.GGUF_MODELS[model.alias].n_layers == model.n_layers
    assert models.describe_spec("smollm2-135m-instruct")["n_layers"] == 30


@pytest.mark.parametrize("spec, message", [
    ("no-such-model", "unknown model 'no-such-model'"),
    ("/no/such/dir", "no model folder at '/no/such/dir'"),
])
def test_describe_spec_refuses_what_cannot_load(spec, message):
    with pytest.raises(ModelSpecError, match=message):
        models.describe_spec(spec)


def test_remote_switch_values():
    assert [models.check_remote(v) for v in (False, "local", True, "ndif", "false")] == [False, "local", True, True,
                                                                                          False]
    with pytest.raises(ModelSpecError, match="remote must be"):
        models.check_remote("cloud")


def test_check_layer(model):
    assert model.check_layer(0) == 0 and model.check_layer(29) == 29
    for bad in (-1, 30, 2.5, True):
        with pytest.raises(LayerError):
            model.check_layer(bad)


def test_unknown_alias_lists_the_known_ones():
    with pytest.raises(ModelSpecError, match="smollm2-135m-instruct"):
        models.load_model("no-such-model")


def test_hash_mismatch_refuses_to_load(monkeypatch):
    spec = registry.GGUF_MODELS["smollm2-135m-instruct"]
    monkeypatch.setitem(registry.GGUF_MODELS, spec.alias, dataclasses.replace(spec, sha256="0" * 64))
    with pytest.raises(ModelSpecError, match="sha256 mismatch"):
        registry.gguf_path(spec.alias)


def test_missing_package_names_the_make_target(monkeypatch):
    spec = registry.GGUF_MODELS["qwen2.5-coder-0.5b-instruct"]
    monkeypatch.setitem(registry.GGUF_MODELS, spec.alias,
                        dataclasses.replace(spec, modules=("no_such_module_here",)))
    with pytest.raises(ModelSpecError, match="make models-extra"):
        registry.gguf_path(spec.alias)


def test_remote_needs_a_key(monkeypatch):
    monkeypatch.delenv("NDIF_API_KEY", raising=False)
    with pytest.raises(ModelSpecError, match="NDIF_API_KEY"):
        models.load_model("meta-llama/Llama-3.1-8B-Instruct", remote=True)


def test_remote_refuses_offline_alias():
    with pytest.raises(ModelSpecError, match="Hugging Face id"):
        models.load_model("smollm2-135m-instruct", remote=True)


def test_hub_without_network_is_one_clear_error(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelSpecError, match="cannot load"):
        models.load_model("emotion-concepts-test/not-a-real-model")


def test_cli_error_is_one_line(capsys):
    assert main(["models", "verify", "nope"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: unknown alias")
