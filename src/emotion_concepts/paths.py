"""Where things live. Everything is relative to the repository root, which can be moved with
the ``EMOTION_BOOK_ROOT`` environment variable (used when papermill runs a copy elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    env = os.environ.get("EMOTION_BOOK_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "data").is_dir():
            return parent
    return Path.cwd()


def data_dir() -> Path:
    return repo_root() / "data"


def results_dir() -> Path:
    """Chapter records and saved vectors. Override with ``EMOTION_BOOK_RESULTS``."""
    return Path(os.environ.get("EMOTION_BOOK_RESULTS", repo_root() / "results"))


def build_dir() -> Path:
    """Executed chapters and the HTML book. Override with ``EMOTION_BOOK_BUILD``."""
    return Path(os.environ.get("EMOTION_BOOK_BUILD", repo_root() / "_build"))


def cache_dir() -> Path:
    """Content-addressed caches (activations). Override with ``EMOTION_BOOK_CACHE``."""
    return Path(os.environ.get("EMOTION_BOOK_CACHE", repo_root() / ".cache"))


def model_slug(alias: str) -> str:
    """A model name usable as a folder name ('Qwen/Qwen2.5-7B' -> 'Qwen--Qwen2.5-7B')."""
    return alias.replace("/", "--").replace(" ", "_")
