"""Shared fixtures. Tests run on the real default model (SmolLM2-135M-Instruct, CPU) and on tiny
random models of each supported family (``tiny.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def model():
    """The default model in float32: the tests that compare with transformers' own numbers."""
    from emotion_concepts.models import load_model

    return load_model(dtype="float32")


@pytest.fixture(scope="session")
def model_bf16():
    """The default model as the chapters load it (bfloat16)."""
    from emotion_concepts.models import load_model

    return load_model(dtype="bfloat16")


@pytest.fixture()
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_BOOK_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


MIXED_TEXTS = [
    "The kettle clicked off and she poured the water over the leaves, watching them unfurl.",
    "No.",
    "He counted the steps to the platform twice, then a third time, because the numbers kept slipping.",
    "A list of things to buy: flour, eggs, a new umbrella, the good kind of tape.",
    "The committee will meet on Thursday at ten to review the remaining items on the agenda, "
    "including the budget, the hiring plan and the schedule for the spring release.",
    "Rain.",
    "def add(a, b):\n    return a + b",
    "It was late when the letter arrived, and later still when anyone thought to open it.",
    "Short text here.",
]
