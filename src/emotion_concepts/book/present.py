"""Putting computed facts into a chapter's prose: ``glue(name, value)`` stores a value that the
markdown cites as {glue:text}`name` (myst-nb), so no number in the prose is typed by hand.
Outside a book build (no myst-nb), it does nothing visible."""

from __future__ import annotations

from typing import Any


def glue(name: str, value: Any, fmt: str | None = None) -> Any:
    """Store ``value`` (formatted with ``fmt`` if given) under ``name`` for the prose; returns it."""
    shown = format(value, fmt) if fmt else value
    try:
        from myst_nb import glue as _glue
    except ImportError:  # pragma: no cover - plain Jupyter without the book extra
        return value
    _glue(name, shown, display=False)
    return value


def parameter_count(model: Any) -> str:
    """'135M'-style parameter count of a loaded model (from its weights)."""
    n = sum(p.numel() for p in model.torch_module.parameters())
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M"
