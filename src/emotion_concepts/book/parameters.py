"""Chapter parameters: read from the notebook's ``parameters`` cell (names, annotated types,
defaults), coerced from command-line strings, and checked against the constraints the finding
module declares, all before any kernel starts.

The cell is the single place a parameter is defined::

    model: str = "smollm2-135m-instruct"
    layer: int | None = None  # None: about two-thirds of the way through the model
    emotions: list[str] = []

Every chapter takes ``model``, ``remote`` and ``dtype``; their constraints are ``COMMON``."""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from ..findings.base import Param
from ..models.loading import DTYPES

COMMON: dict[str, Param] = {
    "remote": Param(choices=(False, True, "local")),
    "dtype": Param(choices=DTYPES),
}
_TYPES = {"int": int, "float": float, "bool": bool, "str": str, "list": list, "dict": dict, "None": type(None)}


@dataclass(frozen=True)
class Declared:
    """One parameter as its cell declares it."""

    name: str
    types: tuple[type, ...]  # from the annotation, e.g. (int, NoneType)
    element: type | None  # list[...] element type
    default: Any

    def describe(self) -> str:
        names = [("list[" + self.element.__name__ + "]" if t is list and self.element else t.__name__)
                 for t in self.types]
        return " | ".join("None" if n == "NoneType" else n for n in names)


def _annotation_types(node: ast.AST, name: str) -> tuple[tuple[type, ...], type | None]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, le = _annotation_types(node.left, name)
        right, re_ = _annotation_types(node.right, name)
        return left + right, le or re_
    if isinstance(node, ast.Constant) and node.value is None:
        return (type(None),), None
    if isinstance(node, ast.Name) and node.id in _TYPES:
        return (_TYPES[node.id],), None
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in ("list", "dict"):
        element = None
        if node.value.id == "list":
            element = _annotation_types(node.slice, name)[0][0]
        return (_TYPES[node.value.id],), element
    raise ParameterError(f"parameter {name}: unsupported annotation {ast.unparse(node)!r}")


def parameters_cell(notebook: Path) -> str:
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return "".join(cell["source"])
    raise ParameterError(f"{notebook.name} has no cell tagged 'parameters'")


def declared_parameters(source: str) -> dict[str, Declared]:
    """Names, annotated types and defaults of a parameters cell. Every assignment must be
    annotated and its default a literal."""
    out: dict[str, Declared] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
            types, element = _annotation_types(node.annotation, name)
            default = ast.literal_eval(node.value) if node.value is not None else None
            out[name] = Declared(name, types, element, default)
        elif isinstance(node, ast.Assign):
            target = node.targets[0]
            raise ParameterError(f"parameter {getattr(target, 'id', '?')} has no type annotation")
    return out


def _matches(value: Any, decl: Declared) -> bool:
    for t in decl.types:
        if t is type(None) and value is None:
            return True
        if t is bool and isinstance(value, bool):
            return True
        if t is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if t is float and isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return True
        if t is str and isinstance(value, str):
            return True
        if t is list and isinstance(value, list):
            return decl.element is None or all(_matches(v, Declared("", (decl.element,), None, None)) for v in value)
        if t is dict and isinstance(value, dict):
            return True
    return False


def coerce(decl: Declared, raw: Any) -> Any:
    """A value of the declared type: command-line strings are parsed (JSON for lists and dicts;
    'none' for None; true/false for bools); anything else is checked as it is."""
    value = raw
    if isinstance(raw, str) and str not in decl.types:
        value = _parse(raw, decl)
    elif isinstance(raw, str) and len(decl.types) > 1:  # e.g. bool | str: 'false' means False
        parsed = _parse(raw, decl, strict=False)
        value = raw if parsed is _NOTHING else parsed
    if not _matches(value, decl):
        raise ParameterError(f"parameter {decl.name} takes {decl.describe()}, got {raw!r}")
    if isinstance(value, int) and not isinstance(value, bool) and float in decl.types and int not in decl.types:
        value = float(value)
    return value


_NOTHING = object()


def _parse(raw: str, decl: Declared, strict: bool = True) -> Any:
    text = raw.strip()
    lowered = text.lower()
    if type(None) in decl.types and lowered in ("none", "null"):
        return None
    if bool in decl.types and lowered in ("true", "false", "yes", "no"):
        return lowered in ("true", "yes")
    if int in decl.types:
        try:
            return int(text)
        except ValueError:
            pass
    if float in decl.types:
        try:
            return float(text)
        except ValueError:
            pass
    if list in decl.types or dict in decl.types:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            if strict:
                raise ParameterError(f"parameter {decl.name} takes JSON ({decl.describe()}), got {raw!r}") from None
    if strict:
        raise ParameterError(f"parameter {decl.name} takes {decl.describe()}, got {raw!r}")
    return _NOTHING
