"""A small Sphinx extension for the book's build (``sphinx.extra_extensions`` in _config.yml):
two fixes for console errors the Jupyter Book 1 theme stack raises in every page.

- sphinx-thebe adds its inline configuration script once per environment read; the book's
  builds read twice, so every page declared ``THEBE_JS_URL`` twice (a JavaScript error). Scripts
  are de-duplicated per page.
- pydata-sphinx-theme warns "invalid theme mode" when the page context's ``default_mode`` is
  empty: it is set to ``auto`` (follow the reader's system) unless something set it already.
"""

from __future__ import annotations

from typing import Any


def _fix_page(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if not context.get("default_mode"):
        context["default_mode"] = "auto"
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = (getattr(script, "filename", None) or "", getattr(script, "attributes", {}).get("body"))
        if key in seen:
            continue
        seen.add(key)
        kept.append(script)
    scripts[:] = kept


def setup(app: Any) -> dict:
    app.connect("html-page-context", _fix_page, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
