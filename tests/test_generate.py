"""The generator's parsing and rejection rules, and one real (tiny) run on the default model."""

from __future__ import annotations

import json

import pytest

from emotion_concepts.generate import generate_corpus, generate_text, reject_reasons, split_stories


def test_split_stories_drops_labels():
    reply = "[story 1]\nFirst one here with enough words.\n\n[story 2]\nSecond one, also long enough."
    assert split_stories(reply) == ["First one here with enough words.", "Second one, also long enough."]
    assert split_stories("1. Alpha beta gamma delta epsilon.\n2. Zeta eta theta iota kappa.") == [
        "Alpha beta gamma delta epsilon.", "Zeta eta theta iota kappa."]


def test_reject_reasons():
    varied = " ".join(a + b for a in ("ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "ne", "pi")
                      for b in ("ra", "se", "ti", "vo", "wu", "xa", "ye", "zo", "qi", "ru", "so", "te"))
    assert reject_reasons(varied, "calm", ["serene"]) == []
    assert reject_reasons("She felt calm.", "calm", []) == ["forbidden-word", "too-short"]
    assert reject_reasons(varied + " serenely", "calm", ["serene"]) == ["forbidden-word"]
    assert reject_reasons(" ".join(varied.split()[:60]) + " and it's not," * 40, "calm", []) == ["repetitive"]


def test_generate_on_default_model_reports_every_story(model, tmp_path, isolated_cache):
    report = generate_corpus(model, emotions=["calm"], n_topics=1, stories_per_topic=2,
                             out_dir=tmp_path, max_new_tokens=120, progress=False)
    assert report.requested == 2
    assert report.accepted + sum(report.reasons.values()) >= report.requested  # a story can fail twice
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["requested"] == 2 and saved["rejected"] == report.rejected
    rejected = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert all(r["reasons"] for r in rejected)


def test_generation_is_seeded_and_cached(model, isolated_cache, monkeypatch):
    prompt = model.chat("Name three colours.")
    first = generate_text(model, prompt, max_new_tokens=12, seed=3)
    assert list((isolated_cache / "generations").glob("*.json"))
    assert generate_text(model, prompt, max_new_tokens=12, seed=3, cache=False) == first  # deterministic

    def no_model(*args, **kwargs):
        raise AssertionError("the model ran although the completion was cached")

    monkeypatch.setattr(model.lm, "generate", no_model)
    assert generate_text(model, prompt, max_new_tokens=12, seed=3) == first
    with pytest.raises(AssertionError, match="the model ran"):
        generate_text(model, prompt, max_new_tokens=12, seed=4)  # another seed is another key
