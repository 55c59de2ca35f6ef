"""The corpus's voices: one brief, one length band and one set of checkable features each.

The paper's stories come from one model writing to one brief. Vectors built from a corpus in a
single voice partly encode that voice, so the corpus is written in several voices (different
briefs and registers) on the same topic split, and chapter 01 tests vectors on a voice they
were not built from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rules import text_problems, word_count

FIRST_PERSON = re.compile(r"\b(I|I'm|I've|I'd|I'll|[Mm]e|[Mm]y|[Mm]ine|[Mm]yself)\b")
FIRST_PERSON_ANY = re.compile(r"(?i)\b(i|me|my|mine|myself|we|us|our|ours|ourselves|i'm|i've|i'd|i'll|we're|we've)\b")
SECOND_PERSON = re.compile(r"(?i)\b(you|your|yours|yourself|you're|you've|you'd|you'll)\b")
QUOTES = re.compile(r"[\"“”]")
SPEAKER_LINE = re.compile(r"^[A-Z][A-Za-z.'-]*(?: [A-Z][A-Za-z.'-]*){0,2}: \S")
STAGE = re.compile(r"[\[\]()*]")


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+|(?<=[.!?][\"”])\s+", text.strip())
    return [p for p in parts if word_count(p) > 0]


def mean_sentence_words(text: str) -> float:
    s = sentences(text)
    return sum(word_count(x) for x in s) / max(len(s), 1)


@dataclass(frozen=True)
class Voice:
    """One voice of the corpus: its brief, length band, person, plan and features."""

    name: str
    min_words: int
    max_words: int
    person: str  # the record's ``person`` field: "first", "third", "speaker", or "mixed" (first/third)
    n_test: int  # stories per emotion on held-out topics
    n_train: int  # stories per emotion on training topics
    rotation: int  # offset of the topic rotation, so voices put an emotion on different topics
    brief: str

    @property
    def per_emotion(self) -> int:
        return self.n_test + self.n_train

    def feature_problems(self, text: str) -> list[tuple[str, str]]:
        """(kind, detail) for every way ``text`` breaks this voice's features."""
        return VOICE_CHECKS[self.name](text)

    def text_problems(self, text: str, forbidden: list[str]) -> list[tuple[str, str]]:
        """Every rule one text of this voice must pass on its own: forbidden words, the length
        band, looping, and the voice's features."""
        return text_problems(text, forbidden, self.min_words, self.max_words) + self.feature_problems(text)


def _narrative(text: str) -> list[tuple[str, str]]:
    return []


def _diary(text: str) -> list[tuple[str, str]]:
    out = []
    n_first = len(FIRST_PERSON.findall(text))
    if n_first < 3:
        out.append(("voice-person", f"a diary entry is in the first person: {n_first} first-person words, need 3"))
    msw = mean_sentence_words(text)
    if msw > 12:
        out.append(("voice-style", f"a diary entry is terse: mean sentence {msw:.1f} words, at most 12"))
    if len(QUOTES.findall(text)) > 2:
        out.append(("voice-style", "a diary entry quotes at most one short phrase"))
    return out


def _dialogue(text: str) -> list[tuple[str, str]]:
    out = []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    bad = [line for line in lines if not SPEAKER_LINE.match(line)]
    if bad:
        out.append(("voice-format", f"every line is 'Name: words'; not so: {bad[0][:50]!r}"))
    if len(lines) < 6:
        out.append(("voice-format", f"{len(lines)} lines of dialogue, need 6"))
    speakers = {line.split(":", 1)[0] for line in lines if SPEAKER_LINE.match(line)}
    if len(speakers) < 2:
        out.append(("voice-format", "a dialogue needs at least two speakers"))
    if STAGE.search(text):
        out.append(("voice-style", "no stage directions: no brackets, parentheses or asterisks"))
    if QUOTES.search(text):
        out.append(("voice-style", "no quotation marks in a script"))
    return out


def _message(text: str) -> list[tuple[str, str]]:
    out = []
    if not SECOND_PERSON.search(text):
        out.append(("voice-person", "a message addresses someone: it needs 'you' or 'your'"))
    if len(FIRST_PERSON.findall(text)) < 2:
        out.append(("voice-person", "a message is written by the person who feels it: 2+ first-person words"))
    return out


def _report(text: str) -> list[tuple[str, str]]:
    out = []
    hits = sorted({m.group(0) for m in FIRST_PERSON_ANY.finditer(text)})
    if hits:
        out.append(("voice-person", f"a report has no first-person words: {', '.join(hits)}"))
    if QUOTES.search(text):
        out.append(("voice-style", "a report gives speech indirectly: no quotation marks"))
    return out


VOICE_CHECKS = {"narrative": _narrative, "diary": _diary, "dialogue": _dialogue,
                "message": _message, "report": _report}

VOICES: dict[str, Voice] = {v.name: v for v in [
    Voice("narrative", 110, 240, "mixed", 4, 8, 0,
          "One paragraph of prose fiction (about 150-200 words) following a character who feels the "
          "emotion, alternating first- and third-person narration: the paper's own brief."),
    Voice("diary", 70, 150, "first", 3, 5, 1,
          "A private diary entry written the same day by the person who feels the emotion. First "
          "person. Terse: short sentences and fragments (mean sentence length at most 12 words), no "
          "scene-setting prose, no dialogue beyond a quoted word or two. It may open with a day or a "
          "time ('Thurs. 11pm.'). 70-150 words."),
    Voice("dialogue", 80, 180, "speaker", 3, 5, 2,
          "A scene told only in dialogue, as a script: every line is 'Name: what they say'. Two or "
          "three speakers; the person who feels the emotion is one of them. No narration, no stage "
          "directions, no brackets, no quotation marks. At least 6 lines, 80-180 words."),
    Voice("message", 70, 150, "first", 3, 5, 3,
          "A message that the person who feels the emotion writes, at that moment, to someone else: a "
          "text message, an email, a letter, a voicemail transcript or a post to a forum or group "
          "chat, addressed to its reader ('you'). Only the message itself, no narration around it. "
          "70-150 words."),
    Voice("report", 80, 160, "third", 3, 5, 4,
          "A plain, factual third-person record of what happened, as a case note, incident report, "
          "news brief, minutes or log would keep it: who, what, when, what was observed and what "
          "people said, in indirect speech. No first-person words, no quotation marks, no metaphors "
          "and no inner monologue. 80-160 words."),
]}
VOICE_NAMES = tuple(VOICES)


def get_voice(name: str) -> Voice:
    if name not in VOICES:
        from ..errors import DataError

        raise DataError(f"unknown voice {name!r}; the voices are {', '.join(VOICES)}")
    return VOICES[name]
