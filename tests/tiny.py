"""Tiny randomly initialised models of each supported family, built in memory (no download)."""

from __future__ import annotations

import torch

FAMILIES = ("llama", "qwen2", "gemma3", "gpt_neox")


def tiny_module(family: str, seed: int = 0):
    from transformers import AutoModelForCausalLM, Gemma3TextConfig, GPTNeoXConfig, LlamaConfig, Qwen2Config

    common = {"vocab_size": 128, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 4,
              "num_attention_heads": 4}
    config = {
        "llama": lambda: LlamaConfig(num_key_value_heads=2, **common),
        "qwen2": lambda: Qwen2Config(num_key_value_heads=2, **common),
        "gemma3": lambda: Gemma3TextConfig(num_key_value_heads=2, head_dim=8, **common),
        "gpt_neox": lambda: GPTNeoXConfig(**common),
    }[family]()
    torch.manual_seed(seed)
    module = AutoModelForCausalLM.from_config(config).eval()
    with torch.no_grad():  # norms start at 1 (or 0 for Gemma's 1 + w): randomise them so gains matter
        for name, p in module.named_parameters():
            if "norm" in name and p.dim() == 1:
                p.copy_(torch.randn_like(p) * 0.3 + (0.0 if family == "gemma3" else 1.0))
    return module


def tiny_tokenizer():
    """A character-level tokenizer with 128 ids (printable ASCII and a few specials)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    chars = [chr(c) for c in range(32, 127)]
    vocab = {t: i for i, t in enumerate(specials + chars)}
    vocab.update({f"<x{i}>": i for i in range(len(vocab), 128)})
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>")


def tiny_model(family: str, seed: int = 0, remote: bool | str = False):
    from emotion_concepts.models import wrap_module

    return wrap_module(tiny_module(family, seed), tiny_tokenizer(), alias=f"tiny-{family}", remote=remote)
