"""Lexical rules every text of the corpus must pass (pure Python, no model needed).

A text must not contain its own emotion word or any listed direct synonym, in any simple
inflection, as a whole word, case-insensitively; its length must lie in its voice's word band
(``corpus.voices``); and it must not loop (at least MIN_DISTINCT_TRIGRAMS of its word trigrams
distinct: the shipped corpus's lowest is 0.91, a small model's degenerate "and it's not, and
it's not..." is far below).
"""

from __future__ import annotations

import re
from functools import lru_cache

MIN_WORDS = 110  # the narrative voice's band (the paper's one-paragraph stories)
MAX_WORDS = 240
MIN_DISTINCT_TRIGRAMS = 0.8

_WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def distinct_trigram_share(text: str) -> float:
    """Share of a text's word trigrams (lower-cased) that are distinct; 1.0 for a text too short
    to have repeats."""
    words = [w.lower() for w in _WORD.findall(text)]
    grams = list(zip(words, words[1:], words[2:], strict=False))
    return len(set(grams)) / len(grams) if grams else 1.0


def text_problems(text: str, forbidden: list[str], min_words: int = MIN_WORDS,
                  max_words: int = MAX_WORDS) -> list[tuple[str, str]]:
    """The rules one text must pass on its own, as (kind, detail) pairs: ``forbidden-word``,
    ``too-short``, ``too-long``, ``repetitive``. Used by the corpus validator and the generator."""
    problems = []
    hits = forbidden_hits(text, forbidden)
    if hits:
        problems.append(("forbidden-word", ", ".join(hits)))
    wc = word_count(text)
    if not min_words <= wc <= max_words:
        problems.append(("too-short" if wc < min_words else "too-long",
                         f"{wc} words, band is {min_words}-{max_words}"))
    distinct = distinct_trigram_share(text)
    if distinct < MIN_DISTINCT_TRIGRAMS:
        problems.append(("repetitive", f"{distinct:.0%} of word trigrams distinct, "
                                       f"minimum {MIN_DISTINCT_TRIGRAMS:.0%}"))
    return problems


def inflections(word: str) -> set[str]:
    """Simple inflected and derived forms of a (lower-case) word: plurals, verb forms,
    -ly/-ness adverbs and nouns, comparatives. Over-generation is harmless: it only adds
    strings that are never English words."""
    w = word.lower()
    forms = {w, w + "s", w + "es", w + "ed", w + "d", w + "ing", w + "ly", w + "ness",
             w + "er", w + "est", w + "ful", w + "fully"}
    if w.endswith("y") and len(w) > 2:
        stem = w[:-1]
        forms |= {stem + s for s in ("ies", "ied", "ily", "iness", "ier", "iest", "iful")}
    if w.endswith("e"):
        forms |= {w[:-1] + "ing", w[:-1] + "y", w[:-1] + "ily"}
    if w.endswith("le"):
        forms.add(w[:-1] + "y")
    if re.search(r"[^aeiou][aeiou][bdgklmnprt]$", w):  # sad -> sadder, saddest
        forms |= {w + w[-1] + s for s in ("er", "est", "ed", "ing")}
    return forms


@lru_cache(maxsize=4096)
def forbidden_regex(terms: tuple[str, ...]) -> re.Pattern[str]:
    """One whole-word, case-insensitive pattern matching any inflection of any term.
    Multi-word terms ('worn out') match with spaces or hyphens between their words and are
    inflected on their last word."""
    alternatives: set[str] = set()
    for term in terms:
        parts = re.split(r"[\s-]+", term.strip().lower())
        head, last = parts[:-1], parts[-1]
        for form in inflections(last):
            alternatives.add(r"[\s-]+".join([*map(re.escape, head), re.escape(form)]))
    body = "|".join(sorted(alternatives, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z])(?:{body})(?![A-Za-z])", re.IGNORECASE)


def forbidden_hits(text: str, terms: list[str]) -> list[str]:
    """The forbidden strings that occur in ``text`` (empty list: the story is clean)."""
    text = text.replace("’", "'")
    return sorted({m.group(0).lower() for m in forbidden_regex(tuple(terms)).finditer(text)})
