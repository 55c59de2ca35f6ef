"""The generator's parsing and rejection rules, and one real (tiny) run on the default model."""

from __future__ import annotations

import json

import pytest

from emotion_concepts.corpus.generator import generate_corpus, reject_reasons, split_stories
from emotion_concepts.errors import EmotionBookError
from emotion_concepts.models.generation import sample_completion


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


def test_generate_on_default_model_reports_every_story(model_bf16, tmp_path, isolated_cache):
    out = tmp_path / "corpus"
    report = generate_corpus(model_bf16, emotions=["calm"], n_topics=1, stories_per_topic=2,
                             out_dir=out, max_new_tokens=120, progress=False)
    assert report.requested == 2
    assert report.accepted + sum(report.reasons.values()) >= report.requested  # a story can fail twice
    saved = json.loads((out / "report.json").read_text())
    assert saved["requested"] == 2 and saved["rejected"] == report.rejected
    rejected = [json.loads(line) for line in (out / "rejected.jsonl").read_text().splitlines()]
    assert all(r["reasons"] for r in rejected)
    assert not [p for p in tmp_path.iterdir() if p.name not in ("corpus", "cache")]  # no temporary folder left
    with pytest.raises(EmotionBookError, match="not empty"):  # never merged into an earlier run's files
        generate_corpus(model_bf16, emotions=["calm"], n_topics=1, stories_per_topic=2, out_dir=out,
                        max_new_tokens=120, progress=False)


def test_failed_generation_leaves_no_folder(model_bf16, tmp_path, isolated_cache, monkeypatch):
    import emotion_concepts.corpus.generator as generator

    def boom(*args, **kwargs):
        raise RuntimeError("the model broke")

    monkeypatch.setattr(generator, "sample_completion", boom)
    with pytest.raises(RuntimeError):
        generate_corpus(model_bf16, emotions=["calm"], n_topics=1, stories_per_topic=1,
                        out_dir=tmp_path / "corpus", progress=False)
    assert [p.name for p in tmp_path.iterdir()] in ([], ["cache"])


def test_generation_is_seeded_and_cached(model_bf16, isolated_cache, monkeypatch):
    m = model_bf16
    prompt = m.chat("Name three colours.")
    first = sample_completion(m, prompt, max_new_tokens=12, seed=3)
    assert list((isolated_cache / "generations").glob("*.json"))
    assert sample_completion(m, prompt, max_new_tokens=12, seed=3, cache=False) == first  # deterministic

    def no_model(*args, **kwargs):
        raise AssertionError("the model ran although the completion was cached")

    monkeypatch.setattr(m.lm, "generate", no_model)
    assert sample_completion(m, prompt, max_new_tokens=12, seed=3) == first
    with pytest.raises(AssertionError, match="the model ran"):
        sample_completion(m, prompt, max_new_tokens=12, seed=4)  # another seed is another key
