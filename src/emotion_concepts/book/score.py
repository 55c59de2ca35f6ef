"""``emotion-book score``: a reader's tool that scores any text or chat transcript, token by token,
against the book's emotion vectors, and the figures chapters draw from the same scores.

Two modes:
- token scores (default): one text (plain text) or one chat transcript (JSON list, or JSONL, of
  ``{"role", "content"}`` messages, rendered with the model's chat template) is read once; every
  token's residual stream at the vectors' layer, minus a stated reference mean, is compared
  (cosine) with every emotion vector. Writes a self-contained HTML page (token heatmap for the
  chosen emotions; hovering a token shows its top emotions) and a JSON of per-token scores.
- ``--top K``: for each record of a JSONL file of texts (``{"text": ...}`` per line), the K
  emotions whose vectors best match the text's mean activation (all tokens but the first),
  minus a stated reference; one JSON line per record on stdout, in input order.

A single text has no set to centre on, so the reference is always named: "neutral" (the mean
activation of the book's neutral dialogues at that layer: the default for token scores), "train"
(the mean of the texts the vectors were built from), or "own" (token scores: the text's own mean
over its tokens; ``--top``: the mean over the file's records, the book's recipe when chapter 01
chose it). The first token of a text is never scored (its residual norm is an outlier).

The vectors are the book's (``settled_vectors``: chapter 01's recipe for the model, or the
default). They are built from cached activations (content-addressed), so after chapter 01 has
read the corpus at that layer, building them takes seconds; a first build reads the corpus.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, EmotionBookError
from ..files import atomic_write_json, atomic_write_text

SCHEMA = "emotion-book-score/1"
ROLES = ("system", "user", "assistant")
TOKEN_REFERENCES = ("neutral", "train", "own")
REFERENCE_TEXT = {
    "neutral": "the mean activation of the book's neutral dialogues at this layer",
    "train": "the mean activation of the texts the vectors were built from",
    "own_tokens": "this text's own mean activation over its tokens (all but the first)",
    "own_records": "the mean activation over this file's records",
}
DEFAULT_SHOWN = 6  # emotions in the heatmap when none are chosen: the highest mean scores


# ---------------------------------------------------------------- reading the input


@dataclass
class Document:
    """What to score: a plain text, or chat messages (role, content) to render with the model's
    chat template."""

    path: str
    text: str | None = None
    messages: list[tuple[str, str]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "chat" if self.messages else "text"


def _read(path: str | Path) -> str:
    p = Path(path)
    if not p.exists():
        raise DataError(f"no such file: {p}")
    if p.is_dir():
        raise DataError(f"{p} is a folder, not a file")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{p} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _json(line: str, where: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: malformed JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None


def parse_messages(items: Any, where: str) -> list[tuple[str, str]]:
    """``[{"role", "content"}, ...]`` (or ``{"messages": [...]}``) as (role, content) pairs, or a
    ``DataError`` saying what is wrong and where."""
    if isinstance(items, dict) and "messages" in items:
        items = items["messages"]
    if not isinstance(items, list):
        raise DataError(f"{where}: expected a list of {{\"role\", \"content\"}} messages")
    out = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or "role" not in item or "content" not in item:
            raise DataError(f"{where}: message {n} is not a {{\"role\", \"content\"}} object")
        role, content = item["role"], item["content"]
        if role not in ROLES:
            raise DataError(f"{where}: message {n} has role {role!r}; roles are {', '.join(ROLES)}")
        if not isinstance(content, str):
            raise DataError(f"{where}: message {n}'s content is not a string")
        out.append((role, content))
    if not any(content.strip() for _, content in out):
        raise DataError(f"{where}: the transcript has no text to score")
    return out


def load_document(path: str | Path) -> Document:
    """A plain text (any suffix but .json/.jsonl), or a transcript (.json: a list of messages;
    .jsonl: one message a line)."""
    raw, p = _read(path), Path(path)
    suffix = p.suffix.lower()
    if suffix == ".json":
        return Document(str(p), messages=parse_messages(_json(raw, str(p)), str(p)))
    if suffix == ".jsonl":
        lines = [(n, line) for n, line in enumerate(raw.splitlines(), 1) if line.strip()]
        items = [_json(line, f"{p}:{n}") for n, line in lines]
        return Document(str(p), messages=parse_messages(items, str(p)))
    if not raw.strip():
        raise DataError(f"{p} has no text to score")
    return Document(str(p), text=raw)


def load_texts(path: str | Path) -> list[str]:
    """The ``text`` of each line of a JSONL file (other fields ignored), in order."""
    raw, p = _read(path), Path(path)
    texts = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        rec = _json(line, f"{p}:{n}")
        if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
            raise DataError(f"{p}:{n}: expected an object with a \"text\" string")
        if not rec["text"].strip():
            raise DataError(f"{p}:{n}: empty text")
        texts.append(rec["text"])
    if not texts:
        raise DataError(f"{p} has no records to score")
    return texts


def render_document(tokenizer: Any, doc: Document) -> tuple[str, list[tuple[int, int, str]]]:
    """The text the model reads and the character span of each message's content with its role
    (a plain text is one span with role None)."""
    if doc.text is not None:
        return doc.text, [(0, len(doc.text), "text")]
    from ..models.loading import format_chat

    rendered = format_chat(tokenizer, doc.messages, add_generation_prompt=False)
    spans, at = [], 0
    for role, content in doc.messages:
        start = rendered.find(content, at) if content else -1
        if start < 0:
            continue
        spans.append((start, start + len(content), role))
        at = start + len(content)
    return rendered, spans


# ---------------------------------------------------------------- scoring


@dataclass
class TokenScores:
    """Every token of one text scored against every emotion vector.

    ``scores`` [n_tokens, n_emotions]: cosine of (residual - reference) with each vector; the
    first token's row is NaN (not scored). ``roles[i]``: the message token i belongs to
    ("user", ...; "text" for a plain text; None for chat-template tokens)."""

    text: str
    pieces: list[str]
    spans: list[tuple[int, int]]
    roles: list[str | None]
    emotions: list[str]
    scores: np.ndarray
    layer: int
    reference: str  # a key of REFERENCE_TEXT
    model: str
    model_identity: str
    recipe: dict
    recipe_source: str

    def __len__(self) -> int:
        return len(self.pieces)

    def column(self, emotion: str) -> np.ndarray:
        if emotion not in self.emotions:
            raise EmotionBookError(f"no vector for emotion {emotion!r} in this scoring")
        return self.scores[:, self.emotions.index(emotion)]

    def top(self, i: int, k: int = 5) -> list[tuple[str, float]]:
        row = self.scores[i]
        if np.isnan(row).all():
            return []
        order = np.argsort(-row)[:k]
        return [(self.emotions[j], float(row[j])) for j in order]

    def mean(self, role: str | None = None) -> dict[str, float]:
        """Mean score of each emotion over the scored tokens (of one role, if given)."""
        rows = [i for i in range(1, len(self)) if role is None or self.roles[i] == role]
        if not rows:
            return {}
        values = self.scores[rows].mean(0)
        return {e: float(v) for e, v in zip(self.emotions, values, strict=True)}

    def highest(self, n: int = DEFAULT_SHOWN) -> list[str]:
        """The ``n`` emotions with the highest mean score over the scored tokens."""
        means = self.mean()
        return sorted(means, key=lambda e: -means[e])[:n]

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.scores, columns=self.emotions,
                            index=pd.Index([f"{i}:{p!r}" for i, p in enumerate(self.pieces)], name="token"))


def score_tokens(model: Any, vectors: Any, text: str, *, reference: str = "neutral",
                 message_spans: Sequence[tuple[int, int, str]] | None = None) -> TokenScores:
    """Score every token of ``text`` against ``vectors`` (a ``SettledVectors``) at their layer.

    ``reference``: "neutral", "train" or "own" (the text's own mean over its tokens, all but
    the first). One pass over the text (cached per text and layer)."""
    from ..readout.tokens import token_residuals

    if reference not in TOKEN_REFERENCES:
        raise EmotionBookError(f"reference must be one of {', '.join(TOKEN_REFERENCES)}, got {reference!r}")
    if not text.strip():
        raise DataError("empty text: nothing to score")
    read = token_residuals(model, [text], [vectors.layer])[0]
    if len(read) < 2:
        raise DataError("the text has a single token; the first token is never scored, so nothing is left")
    acts = read.residuals[vectors.layer][1:]
    scored = vectors.scores(acts, reference).numpy()
    scores = np.vstack([np.full((1, scored.shape[1]), np.nan, dtype=scored.dtype), scored])
    spans = message_spans if message_spans is not None else [(0, len(text), "text")]
    roles = []
    for a, b in read.spans:
        inside = [r for s, e, r in spans if b > a and a >= s and b <= e]
        roles.append(inside[0] if inside else None)
    ev = vectors.vectors
    return TokenScores(text, read.pieces, read.spans, roles, list(vectors.emotions), scores, vectors.layer,
                       "own_tokens" if reference == "own" else reference, ev.model,
                       str(ev.metadata.get("model_identity", "")), dict(vectors.recipe.__dict__), vectors.source)


def top_emotions(model: Any, vectors: Any, texts: Sequence[str], k: int, *, reference: str | None = None,
                 emotions: Sequence[str] | None = None,
                 batch_size: int = 8) -> tuple[list[list[tuple[str, float]]], str]:
    """For each text, the ``k`` emotions (among ``emotions``, default all of the vectors') with
    the highest cosine between the text's mean activation (every token but the first) minus the
    reference and their vector. ``reference``: "own" (the mean over ``texts``), "neutral",
    "train", or None for the book's recipe. Returns the lists and the reference used (a key of
    ``REFERENCE_TEXT``)."""
    from ..readout.activations import residual_means

    kind = reference or vectors.recipe.reference
    if kind not in TOKEN_REFERENCES:
        raise EmotionBookError(f"reference must be one of {', '.join(TOKEN_REFERENCES)}, got {kind!r}")
    if kind == "own" and len(texts) < 2:
        raise DataError("reference 'own' centres on the mean over the file's records and needs at least 2; "
                        "use --reference neutral or train")
    names = list(emotions) if emotions else list(vectors.emotions)
    if not 1 <= k <= len(names):
        raise EmotionBookError(f"--top must be between 1 and {len(names)} (the emotions ranked), got {k}")
    from ..readout.activations import encode_texts

    short = [i for i, ids in enumerate(encode_texts(model, list(texts))) if len(ids) < 2]
    if short:
        raise DataError(f"record {short[0]} is a single token; the first token is never scored, so nothing is left")
    acts = residual_means(model, list(texts), [vectors.layer], start_token=1, batch_size=batch_size,
                          progress=False)[vectors.layer]
    scores = vectors.scores(acts, kind).numpy()
    columns = [vectors.emotions.index(e) for e in names]
    out = []
    for row in scores[:, columns]:
        order = np.argsort(-row, kind="stable")[:k]
        out.append([(names[j], float(row[j])) for j in order])
    return out, "own_records" if kind == "own" else kind


# ---------------------------------------------------------------- outputs


def _finite(x: float, digits: int = 5) -> float | None:
    return None if math.isnan(x) else round(float(x), digits)


def scores_json(ts: TokenScores, shown: Sequence[str], source: str) -> dict[str, Any]:
    """The JSON document of per-token scores (schema ``emotion-book-score/1``)."""
    return {
        "schema": SCHEMA,
        "input": source,
        "model": ts.model,
        "model_identity": ts.model_identity,
        "layer": ts.layer,
        "recipe": ts.recipe,
        "recipe_source": ts.recipe_source,
        "reference": {"kind": ts.reference, "description": REFERENCE_TEXT[ts.reference]},
        "score": "cosine of (token residual - reference) with each emotion vector; the first token is not scored",
        "emotions": ts.emotions,
        "shown": list(shown),
        "mean": {e: _finite(v) for e, v in ts.mean().items()},
        "tokens": [{"index": i, "text": piece, "start": a, "end": b, "role": role,
                    "scores": None if i == 0 else [_finite(v) for v in ts.scores[i]]}
                   for i, (piece, (a, b), role) in enumerate(zip(ts.pieces, ts.spans, ts.roles, strict=True))],
    }


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:60rem;color:#222;
line-height:1.5}
h1{font-size:1.3rem} .meta{font-size:.9rem;color:#444} .meta td{padding:0 .8rem .1rem 0;vertical-align:top}
.text{white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92rem;border:1px solid #ddd;
padding:1rem;border-radius:4px;line-height:1.9}
.t{border-radius:2px;cursor:default} .t:hover{outline:1px solid #222} .special{color:#888;font-size:.8em}
.unscored{color:#aaa} .legend{display:flex;align-items:center;gap:.5rem;font-size:.85rem;margin:.6rem 0}
.bar{width:16rem;height:.8rem;background:linear-gradient(90deg,rgb(47,93,138),#fff,rgb(196,81,45));
border:1px solid #ccc}
table.means{border-collapse:collapse;font-size:.88rem;margin-top:1rem}
table.means td,table.means th{padding:.15rem .6rem;border-bottom:1px solid #eee;text-align:right}
table.means th:first-child,table.means td:first-child{text-align:left}
"""

_SCRIPT = """
const D=JSON.parse(document.getElementById('data').textContent);
function colour(v,s){if(v===null)return'';const a=Math.min(Math.abs(v)/s,1);
return v>=0?`rgba(196,81,45,${a.toFixed(3)})`:`rgba(47,93,138,${a.toFixed(3)})`;}
function paint(j){const s=D.scale[j];document.getElementById('lo').textContent=(-s).toFixed(3);
document.getElementById('hi').textContent='+'+s.toFixed(3);
document.querySelectorAll('.t').forEach(el=>{const r=D.scores[+el.dataset.i];
el.style.background=r===null?'':colour(r[j],s);});}
document.getElementById('emotion').addEventListener('change',e=>paint(+e.target.value));
"""


def _colour(value: float, scale: float) -> str:
    if math.isnan(value) or scale <= 0:
        return ""
    a = min(abs(value) / scale, 1.0)
    return f"rgba(196,81,45,{a:.3f})" if value >= 0 else f"rgba(47,93,138,{a:.3f})"


def scores_html(ts: TokenScores, shown: Sequence[str], source: str, top_k: int = 5) -> str:
    """A self-contained HTML page: the text with each token coloured by its score for one of the
    ``shown`` emotions (a menu switches; red above the reference, blue below, full colour at the
    largest absolute score of that emotion in the text); hovering a token lists its top
    emotions among all vectors and its scores for the shown ones."""
    shown = list(shown)
    cols = [ts.emotions.index(e) for e in shown]
    scored = ts.scores[1:, cols] if len(ts) > 1 else np.zeros((0, len(cols)))
    scale = [float(np.nanmax(np.abs(scored[:, j]))) if scored.size else 1.0 for j in range(len(cols))]
    spans = []
    for i, piece in enumerate(ts.pieces):
        if i == 0:
            hover = "first token: not scored"
        else:
            top = ", ".join(f"{e} {v:+.3f}" for e, v in ts.top(i, top_k))
            mine = ", ".join(f"{e} {ts.scores[i, c]:+.3f}" for e, c in zip(shown, cols, strict=True))
            hover = f"token {i} {piece!r} ({ts.roles[i] or 'template'})\ntop: {top}\nshown: {mine}"
        special = ts.roles[i] is None and ts.roles.count(None) < len(ts.roles)
        classes = "t" + (" special" if special else "") + (" unscored" if i == 0 else "")
        style = "" if i == 0 else f' style="background:{_colour(ts.scores[i, cols[0]], scale[0])}"'
        spans.append(f'<span class="{classes}" data-i="{i}" title="{html.escape(hover)}"{style}>'
                     f"{html.escape(piece)}</span>")
    data = {"emotions": shown, "scale": scale,
            "scores": [None if i == 0 else [_finite(ts.scores[i, c]) for c in cols] for i in range(len(ts))]}
    options = "".join(f'<option value="{j}">{html.escape(e)}</option>' for j, e in enumerate(shown))
    means = {role: ts.mean(role) for role in dict.fromkeys(r for r in ts.roles[1:] if r)}
    header = "".join(f"<th>{html.escape(r)}</th>" for r in means)
    rows = "".join(f"<tr><td>{html.escape(e)}</td><td>{ts.mean()[e]:+.4f}</td>"
                   + "".join(f"<td>{m[e]:+.4f}</td>" for m in means.values()) + "</tr>" for e in shown)
    meta = [("input", source), ("model", f"{ts.model} ({ts.model_identity})"), ("layer", str(ts.layer)),
            ("vectors", f"{len(ts.emotions)} emotions; recipe from {ts.recipe_source}"),
            ("reference", f"{ts.reference}: {REFERENCE_TEXT[ts.reference]}"),
            ("score", "cosine of (token residual - reference) with each emotion vector; first token not scored")]
    meta_rows = "".join(f"<tr><td><b>{k}</b></td><td>{html.escape(v)}</td></tr>" for k, v in meta)
    payload = json.dumps(data).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Emotion scores: {html.escape(Path(source).name)}</title>
<style>{_STYLE}</style></head><body>
<h1>Emotion scores, token by token</h1>
<table class="meta">{meta_rows}</table>
<div class="legend"><label>emotion <select id="emotion">{options}</select></label>
<span id="lo">{-scale[0]:.3f}</span><span class="bar"></span><span id="hi">+{scale[0]:.3f}</span>
<span>(below / above the reference; hover a token for its top emotions)</span></div>
<div class="text">{"".join(spans)}</div>
<table class="means"><tr><th>mean score</th><th>all tokens</th>{header}</tr>{rows}</table>
<script type="application/json" id="data">{payload}</script>
<script>{_SCRIPT}</script>
</body></html>
"""


def write_outputs(ts: TokenScores, shown: Sequence[str], source: str, stem: str | Path) -> tuple[Path, Path]:
    """Write ``<stem>.html`` and ``<stem>.json`` (each atomically)."""
    stem = Path(stem)
    html_path = atomic_write_text(stem.with_name(stem.name + ".html"), scores_html(ts, shown, source))
    json_path = atomic_write_json(stem.with_name(stem.name + ".json"), scores_json(ts, shown, source))
    return html_path, json_path


# ---------------------------------------------------------------- figures for chapters


def token_heatmap(ts: TokenScores, emotions: Sequence[str] | None = None, *, tokens: Sequence[int] | None = None,
                  title: str = "", vmax: float | None = None, ax=None):
    """Emotions (rows) x tokens (columns) heatmap of ``ts``'s scores, diverging around the
    reference (0); ``tokens`` picks token indices (default all scored tokens). Returns the figure."""
    import matplotlib.pyplot as plt

    emotions = list(emotions) if emotions else ts.highest()
    index = [i for i in (tokens if tokens is not None else range(1, len(ts))) if i > 0]
    matrix = np.array([[ts.scores[i, ts.emotions.index(e)] for i in index] for e in emotions])
    limit = vmax or float(np.nanmax(np.abs(matrix))) or 1.0
    if ax is None:
        _, ax = plt.subplots(figsize=(min(2 + 0.32 * len(index), 16), 0.9 + 0.34 * len(emotions)))
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(index)), [repr(ts.pieces[i])[1:-1] or " " for i in index], rotation=90,
                  fontsize=8, fontfamily="monospace")
    ax.set_yticks(range(len(emotions)), emotions, fontsize=9)
    ax.grid(False)
    ax.set_title(title or f"Token scores, layer {ts.layer} (reference: {ts.reference})")
    ax.figure.colorbar(image, ax=ax, shrink=0.8, pad=0.01, label="cosine")
    return ax.figure


def text_highlight(ts: TokenScores, emotion: str, *, tokens: Sequence[int] | None = None, width: int = 70,
                   title: str = "", vmax: float | None = None, ax=None):
    """The text itself, wrapped at ``width`` characters, each token's background coloured by its
    score for ``emotion`` (red above the reference, blue below). Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    values = ts.column(emotion)
    index = [i for i in (tokens if tokens is not None else range(len(ts)))]
    limit = vmax or float(np.nanmax(np.abs(values[[i for i in index if i > 0]]))) or 1.0
    lines: list[list[tuple[int, str]]] = [[]]
    used = 0
    for i in index:
        for k, part in enumerate(ts.pieces[i].split("\n")):
            if k > 0 or (used + len(part) > width and used > 0):
                lines.append([])
                used = 0
            if part:
                lines[-1].append((i, part))
                used += len(part)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.105 * width + 0.6, 0.3 * len(lines) + 0.8))
    cmap = plt.get_cmap("RdBu_r")
    for row, line in enumerate(lines):
        x = 0
        for i, part in line:
            v = values[i]
            if i > 0 and not math.isnan(v):
                shade = cmap(0.5 + 0.5 * max(-1.0, min(1.0, v / limit)))
                ax.add_patch(Rectangle((x, -row - 0.45), len(part), 0.9, color=shade, linewidth=0))
            ax.text(x, -row, part, fontfamily="monospace", fontsize=9, va="center", ha="left")
            x += len(part)
    ax.set_xlim(0, width)
    ax.set_ylim(-len(lines) + 0.4, 0.6)
    ax.axis("off")
    ax.set_title(title or f"{emotion}, layer {ts.layer} (reference: {ts.reference}; red above, blue below)")
    return ax.figure


# ---------------------------------------------------------------- the command


def check_emotions(names: Sequence[str] | None, within: Sequence[str] | None = None) -> list[str]:
    """``names`` checked against the 171 (and, if given, against the vectors' emotions)."""
    import difflib

    from ..corpus.stories import emotions as all_emotions

    known = all_emotions()
    for name in names or []:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            raise DataError(f"unknown emotion {name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                            + "; the 171 names are in data/emotions.txt")
        if within is not None and name not in within:
            raise DataError(f"emotion {name!r} is not among the emotions the vectors are built from (--vectors-from)")
    return list(names or [])


def default_stem(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(p.stem + ".scores")


def run(args: Any, say=print) -> int:
    """The ``emotion-book score`` command (``args`` from ``cli.parser()``). Every input is
    checked before the model loads."""
    import sys

    from ..findings.emotion_vectors import settled_vectors
    from ..models.loading import check_dtype, load_model

    vectors_from = check_emotions(args.vectors_from) or None
    shown = check_emotions(args.emotions, vectors_from)
    check_dtype(args.dtype)
    if args.top is not None:
        if args.top < 1:
            raise EmotionBookError(f"--top must be at least 1, got {args.top}")
        texts = load_texts(args.file)
        doc = None
    else:
        doc = load_document(args.file)
        if args.reference is not None and args.reference not in TOKEN_REFERENCES:
            raise EmotionBookError(f"--reference must be one of {', '.join(TOKEN_REFERENCES)}")
    if args.n_neutral < 0:
        raise EmotionBookError(f"--n-neutral must be >= 0, got {args.n_neutral}")
    model = load_model(args.model[0], remote=args.remote, dtype=args.dtype)
    if args.layer is not None:
        model.check_layer(args.layer)
    vectors = settled_vectors(model, layer=args.layer, emotions=vectors_from, n_neutral=args.n_neutral)
    if args.top is not None:
        tops, kind = top_emotions(model, vectors, texts, args.top, reference=args.reference, emotions=shown or None)
        print(f"reference: {kind}: {REFERENCE_TEXT[kind]}; layer {vectors.layer}; {len(vectors.emotions)} "
              f"emotion vectors (recipe from {vectors.source})", file=sys.stderr)
        for i, top in enumerate(tops):
            say(json.dumps({"index": i, "top": [[e, round(s, 5)] for e, s in top]}))
        return 0
    text, spans = render_document(model.tokenizer, doc)
    ts = score_tokens(model, vectors, text, reference=args.reference or "neutral", message_spans=spans)
    html_path, json_path = write_outputs(ts, shown or ts.highest(), doc.path, args.out or default_stem(args.file))
    say(f"scored {len(ts) - 1} tokens of {doc.path} ({doc.kind}) at layer {ts.layer}, reference {ts.reference}")
    say(f"wrote {html_path}")
    say(f"wrote {json_path}")
    return 0
