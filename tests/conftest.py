"""Shared fixtures. Tests run on the real default model (SmolLM2-135M-Instruct, CPU)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def model():
    from emotion_concepts.models import load_model

    return load_model()


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
