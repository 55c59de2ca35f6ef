"""Finding 7: whose emotion the vectors track, and what carries it (chapter 05).

Four reads, each scored with the book's vectors (``settled_vectors``) at every swept layer:

(a) **User vs Assistant.** For each user message, the residual stream at the user's last token
    and at the last token of the Assistant's turn header (the token the reply is generated from:
    the paper's "Assistant colon"), and the mean over the model's own greedy reply (fixed
    length) read in context. Three score profiles per message; which position's profile
    predicts the reply's?
(b) **Carry-over.** A bad or a good piece of news, then the same neutral request: the request's
    tokens are identical, so any difference in their scores was carried from the context.
(c) **Negation.** "I am feeling X" vs "I am not feeling X" (and a non-negating control, "I am
    really feeling X"), read at the emotion word.
(d) **Binding.** "A felt X, but B felt Y. ... A ... B ...": read where each person is named
    again; does each mention score its own person's emotion above the other's?

Every group of reads is centred on its own mean (the reads of one kind of position over the
set: the "own" reference), so what is compared is how texts differ from each other at that
position, not the fixed offset of the position. The data: ``data/scenarios/user_messages.jsonl``,
``carryover.jsonl``, and ``negation.jsonl`` / ``binding.jsonl`` written from templates here
(``negation_items``, ``binding_items``; ``write_scenario_files``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..corpus.stories import emotions
from ..errors import DataError
from ..models.loading import LoadedModel
from ..paths import data_dir
from ..readout.tokens import span_reads, token_residuals, token_spans, tokens_in_span
from .base import Chapter, Claim, Param

# ---------------------------------------------------------------- scenario data written from templates

NEGATION_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    # (affirmative, negated, control: a non-negating word in the same place); the emotion word ends the sentence
    ("I am feeling {X}.", "I am not feeling {X}.", "I am really feeling {X}."),
    ("Right now I feel {X}.", "Right now I do not feel {X}.", "Right now I truly feel {X}."),
    ("She said that she felt {X}.", "She said that she did not feel {X}.", "She said that she really felt {X}."),
    ("Today he is feeling {X}.", "Today he is not feeling {X}.", "Today he is still feeling {X}."),
)
NEGATION_FORMS = ("affirmative", "negated", "control")

BINDING_TEMPLATES: tuple[tuple[str, str], ...] = (
    # (introduction, re-mention); {A} and {B} are named again in the re-mention, A first in the
    # first template and B first in the second
    ("{A} felt {X}, but {B} felt {Y}.", " A few minutes later, {A} opened the door and {B} looked up."),
    ("At the table, {A} was feeling {X} while {B} was feeling {Y}.",
     " After dinner, {B} picked up the plates and {A} went outside."),
)
BINDING_NAMES: tuple[tuple[str, str], ...] = (("Maya", "Tom"), ("Priya", "Daniel"), ("Lena", "Marcus"),
                                               ("Sofia", "James"), ("Anna", "Ruth"), ("Omar", "Ben"))
# contrasting pairs: one pleasant and one unpleasant emotion (includes chapter 01's quick subset)
BINDING_PLEASANT = ("happy", "calm", "proud", "loving", "content", "cheerful", "relaxed", "grateful")
BINDING_UNPLEASANT = ("sad", "afraid", "angry", "desperate", "disgusted", "ashamed", "bored", "furious")


def negation_items(emotion_names: Sequence[str] | None = None) -> list[dict]:
    """One item per emotion and template: the affirmative, negated and control sentences."""
    items = []
    for emotion in emotion_names or emotions():
        for t, forms in enumerate(NEGATION_TEMPLATES):
            items.append({"id": f"neg-{emotion.replace(' ', '_')}-{t}", "emotion": emotion, "template": t,
                          **{form: text.format(X=emotion) for form, text in zip(NEGATION_FORMS, forms, strict=True)}})
    return items


def binding_items() -> list[dict]:
    """For every pleasant x unpleasant pair, in both templates: the two emotions given to the
    same two people both ways round (a minimal pair of sentences), names rotating across pairs
    and templates; the character span of each person's second mention is stored."""
    items, k = [], 0
    for x in BINDING_PLEASANT:
        for y in BINDING_UNPLEASANT:
            for t, (intro, again) in enumerate(BINDING_TEMPLATES):
                a, b = BINDING_NAMES[k % len(BINDING_NAMES)]
                k += 1
                for ea, eb in ((x, y), (y, x)):
                    first = intro.format(A=a, B=b, X=ea, Y=eb)
                    second = again.format(A=a, B=b)
                    spans = {name: [len(first) + second.index(f" {name} ") + 1,
                                    len(first) + second.index(f" {name} ") + 1 + len(name)] for name in (a, b)}
                    items.append({"id": f"bind-{len(items) + 1:03d}", "pair": f"{x}/{y}", "template": t,
                                  "person_a": a, "person_b": b,
                                  "emotion_a": ea, "emotion_b": eb, "text": first + second,
                                  "mention_a": spans[a], "mention_b": spans[b]})
    return items


SCENARIO_FILES = {"negation.jsonl": negation_items, "binding.jsonl": binding_items}


def write_scenario_files(folder: Path | None = None) -> list[Path]:
    """(Re)write ``data/scenarios/negation.jsonl`` and ``binding.jsonl`` from the templates."""
    from ..files import atomic_write_text

    folder = folder or data_dir() / "scenarios"
    return [atomic_write_text(folder / name, "".join(json.dumps(r) + "\n" for r in make()))
            for name, make in SCENARIO_FILES.items()]


def load_scenarios(name: str) -> list[dict]:
    """The records of ``data/scenarios/<name>`` (JSONL)."""
    path = data_dir() / "scenarios" / name
    if not path.exists():
        raise DataError(f"missing scenario file {path}")
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{n}: malformed JSON ({exc.msg})") from None
    return out


def choose(items: Sequence[dict], n: int, seed: int) -> list[dict]:
    """``n`` items drawn without replacement (seeded), in file order; ``n <= 0``: all."""
    if n <= 0 or n >= len(items):
        return list(items)
    keep = set(random.Random(seed).sample(range(len(items)), n))
    return [r for i, r in enumerate(items) if i in keep]


def binding_for(items: Sequence[dict], emotion_names: Sequence[str], n_pairs: int, seed: int) -> list[dict]:
    """The binding sentences whose two emotions both have a vector, restricted to ``n_pairs``
    emotion pairs drawn with the seed (0: every pair), each pair with all its sentences."""
    have = set(emotion_names)
    usable = [r for r in items if r["emotion_a"] in have and r["emotion_b"] in have]
    pairs = list(dict.fromkeys(r["pair"] for r in usable))
    keep = {p["pair"] for p in choose([{"pair": p} for p in pairs], n_pairs, seed)}
    return [r for r in usable if r["pair"] in keep]


# ---------------------------------------------------------------- statistics (pure)


def profile_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r over every (text, emotion) cell of two [n_texts, n_emotions] score matrices."""
    return float(np.corrcoef(np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel())[0, 1])


@dataclass(frozen=True)
class Tested:
    """A statistic, the 95th percentile of its null distribution and the one-sided p-value."""

    value: float
    null_p95: float
    p_value: float


def shuffled_pairing_test(a: np.ndarray, b: np.ndarray, n_permutations: int, seed: int) -> Tested:
    """``profile_correlation(a, b)`` against the same r with the rows of ``b`` paired with
    other texts' rows of ``a`` (random pairings)."""
    from scipy.stats import permutation_test

    res = permutation_test((np.arange(len(a)),), lambda idx: profile_correlation(a, b[idx]),
                           permutation_type="pairings", vectorized=False, n_resamples=n_permutations,
                           alternative="greater", random_state=seed)
    return Tested(float(res.statistic), float(np.quantile(res.null_distribution, 0.95)), float(res.pvalue))


def sign_flip_test(values: np.ndarray, n_permutations: int, seed: int, offset: float = 0.0) -> Tested:
    """The mean of per-item ``values`` (+ ``offset``) against the same mean with each item's sign
    flipped at random (the item's two conditions swapped)."""
    from scipy.stats import permutation_test

    res = permutation_test((np.asarray(values, dtype=float),), np.mean, permutation_type="samples",
                           n_resamples=n_permutations, alternative="greater", random_state=seed)
    return Tested(float(res.statistic) + offset, float(np.quantile(res.null_distribution, 0.95)) + offset,
                  float(res.pvalue))


def valence_split(emotion_names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(pleasant, unpleasant): the emotions rated above / below the midpoint (5 of 1-9) for
    valence by Warriner et al. (2013); unrated emotions are in neither."""
    from ..corpus.ratings import load_ratings

    ratings = load_ratings()
    pleasant = [e for e in emotion_names if e in ratings and ratings[e]["valence"] > 5]
    unpleasant = [e for e in emotion_names if e in ratings and ratings[e]["valence"] < 5]
    return pleasant, unpleasant


def negativity(scores: np.ndarray, emotion_names: Sequence[str], pleasant: Sequence[str],
               unpleasant: Sequence[str]) -> np.ndarray:
    """[n] mean score of the unpleasant emotions minus mean score of the pleasant ones."""
    if not pleasant or not unpleasant:
        raise DataError("the valence axis needs at least one rated pleasant and one rated unpleasant emotion")
    cols = {e: i for i, e in enumerate(emotion_names)}
    return scores[:, [cols[e] for e in unpleasant]].mean(1) - scores[:, [cols[e] for e in pleasant]].mean(1)


def flip_rate(own_affirmative: np.ndarray, own_other: np.ndarray) -> float:
    """Share of items whose emotion scores above 0 in the affirmative sentence and below 0 in
    the other (negated, or control) sentence."""
    a, o = np.asarray(own_affirmative), np.asarray(own_other)
    return float(((a > 0) & (o < 0)).mean())


def binding_margins(scores_a: np.ndarray, scores_b: np.ndarray, items: Sequence[dict],
                    emotion_names: Sequence[str]) -> np.ndarray:
    """[n_items, 2] at each person's second mention: own emotion's score minus the other
    person's emotion's score (column 0: A's mention, column 1: B's)."""
    cols = {e: i for i, e in enumerate(emotion_names)}
    ea = np.array([cols[r["emotion_a"]] for r in items])
    eb = np.array([cols[r["emotion_b"]] for r in items])
    rows = np.arange(len(items))
    return np.stack([scores_a[rows, ea] - scores_a[rows, eb], scores_b[rows, eb] - scores_b[rows, ea]], axis=1)


# ---------------------------------------------------------------- reads (model)


@dataclass
class TurnReads:
    """(a): {layer: [n_messages, d]} at the user's last token, at the Assistant header's last
    token (the token the reply is generated from) and averaged over the reply's tokens."""

    prompts: list[str]
    replies: list[str]
    user: dict[int, torch.Tensor]
    assistant: dict[int, torch.Tensor]
    reply: dict[int, torch.Tensor]


def read_turns(model: LoadedModel, messages: Sequence[str], layers: Sequence[int], *, reply_tokens: int,
               batch_size: int = 8) -> TurnReads:
    """Generate each message's reply (greedy, exactly ``reply_tokens`` tokens; cached), then read
    prompt + reply once."""
    from ..steering import steered_generate

    prompts = [model.chat(msg) for msg in messages]
    replies = steered_generate(model, prompts, None, max_new_tokens=reply_tokens, fixed_length=True,
                               batch_size=batch_size, progress="replies")
    texts = [p + r for p, r in zip(prompts, replies, strict=True)]
    spans = []
    for prompt, msg, text in zip(prompts, messages, texts, strict=True):
        start = prompt.rfind(msg)
        spans.append([(start, start + len(msg), "last"), (0, len(prompt), "last"), (len(prompt), len(text), "mean")])
    acts = span_reads(model, texts, spans, layers, batch_size=batch_size, progress="transcripts")
    return TurnReads(prompts, replies, *({layer: a[:, k] for layer, a in acts.items()} for k in range(3)))


@dataclass
class CarryReads:
    """(b): rows 0..n-1 are the bad-news versions, n..2n-1 the good-news versions of the same
    pairs; {layer: [2n, d]} averaged over the news sentence, over the shared request, and at the
    Assistant header's last token."""

    texts: list[str]
    context: dict[int, torch.Tensor]
    shared: dict[int, torch.Tensor]
    header: dict[int, torch.Tensor]
    shared_tokens: list[list[int]]  # token indices of the shared request in each text


def carryover_messages(pairs: Sequence[dict]) -> list[tuple[str, str, str]]:
    """(message, news, request) for every bad-news version, then every good-news one."""
    return [(f"{p[kind]} {p['shared']}", p[kind], p["shared"]) for kind in ("negative", "positive") for p in pairs]


def read_carryover(model: LoadedModel, pairs: Sequence[dict], layers: Sequence[int], *,
                   batch_size: int = 8) -> CarryReads:
    """Each pair's two messages in the chat template (generation prompt added), read once. The
    shared request must be the same tokens after either context (checked)."""
    triples = carryover_messages(pairs)
    texts = [model.chat(msg) for msg, _, _ in triples]
    spans, shared_tokens, shared_ids = [], [], []
    for text, (msg, context, shared) in zip(texts, triples, strict=True):
        at = text.rfind(msg)
        request = (at + len(msg) - len(shared), at + len(msg))
        spans.append([(at, at + len(context), "mean"), (*request, "mean"), (0, len(text), "last")])
        ids, token_spans_ = token_spans(model, text)
        shared_tokens.append(tokens_in_span(token_spans_, *request))
        shared_ids.append([ids[k] for k in shared_tokens[-1]])
    n = len(pairs)
    for i in range(n):
        if shared_ids[i] != shared_ids[i + n]:
            raise DataError(f"pair {pairs[i].get('id', i)}: the shared request is tokenized differently after "
                            f"each context, so its reads would not be of identical text")
    acts = span_reads(model, texts, spans, layers, batch_size=batch_size, progress="carry-over")
    return CarryReads(texts, *({layer: a[:, k] for layer, a in acts.items()} for k in range(3)), shared_tokens)


def word_span(text: str, word: str) -> tuple[int, int, str]:
    """The last occurrence of ``word`` in ``text``, read at its last token."""
    at = text.rfind(word)
    if at < 0:
        raise DataError(f"{word!r} does not occur in {text!r}")
    return at, at + len(word), "last"


def read_negation(model: LoadedModel, items: Sequence[dict], layers: Sequence[int], *,
                  batch_size: int = 8) -> dict[str, dict[int, torch.Tensor]]:
    """{form: {layer: [n_items, d]}} at the emotion word's last token in each form's sentence."""
    texts = [r[form] for form in NEGATION_FORMS for r in items]
    emotion_of = [r["emotion"] for _ in NEGATION_FORMS for r in items]
    acts = span_reads(model, texts, [[word_span(t, e)] for t, e in zip(texts, emotion_of, strict=True)], layers,
                      batch_size=batch_size, progress="negation")
    n = len(items)
    return {form: {layer: a[k * n:(k + 1) * n, 0] for layer, a in acts.items()}
            for k, form in enumerate(NEGATION_FORMS)}


def read_binding(model: LoadedModel, items: Sequence[dict], layers: Sequence[int], *,
                 batch_size: int = 8) -> dict[str, dict[int, torch.Tensor]]:
    """{"a"|"b": {layer: [n_items, d]}} at each person's second mention (its last token)."""
    spans = [[(*r["mention_a"], "last"), (*r["mention_b"], "last")] for r in items]
    acts = span_reads(model, [r["text"] for r in items], spans, layers, batch_size=batch_size, progress="binding")
    return {who: {layer: a[:, k] for layer, a in acts.items()} for k, who in enumerate(("a", "b"))}


# ---------------------------------------------------------------- results


def own_scores(vectors, acts: torch.Tensor) -> np.ndarray:
    """[n, n_emotions] cosines after subtracting the reads' own mean."""
    return vectors.scores(acts, "own").numpy()


def turn_scores(vectors, reads: TurnReads, layer: int) -> dict[str, np.ndarray]:
    """{position: [n_messages, n_emotions]}, each position centred on its own mean."""
    return {k: own_scores(vectors, getattr(reads, k)[layer]) for k in ("user", "assistant", "reply")}


TURN_PAIRS = {"r_user_vs_assistant": ("user", "assistant"), "r_assistant_vs_reply": ("assistant", "reply"),
              "r_user_vs_reply": ("user", "reply")}


def turn_correlations(scores: dict[str, np.ndarray]) -> dict[str, float]:
    return {key: profile_correlation(scores[a], scores[b]) for key, (a, b) in TURN_PAIRS.items()}


def turn_tests(scores: dict[str, np.ndarray], n_permutations: int, seed: int) -> dict[str, float]:
    """The three correlations, each with its shuffled-pairing null (``<key>_null_p95``,
    ``<key>_p``), and a percentile bootstrap 95% interval (messages resampled) of
    r(assistant, reply) - r(user, reply)."""
    from scipy.stats import bootstrap

    out: dict[str, float] = {}
    for key, (a, b) in TURN_PAIRS.items():
        t = shuffled_pairing_test(scores[a], scores[b], n_permutations, seed)
        out[key], out[f"{key}_null_p95"], out[f"{key}_p"] = t.value, t.null_p95, t.p_value

    def difference(idx: np.ndarray) -> float:
        idx = idx.astype(int)
        return (profile_correlation(scores["assistant"][idx], scores["reply"][idx])
                - profile_correlation(scores["user"][idx], scores["reply"][idx]))

    ci = bootstrap((np.arange(len(scores["user"])),), difference, vectorized=False, n_resamples=n_permutations,
                   random_state=seed, method="percentile").confidence_interval
    out["assistant_minus_user_ci_low"], out["assistant_minus_user_ci_high"] = float(ci.low), float(ci.high)
    return out


def top_emotion_table(scores: dict[str, np.ndarray], emotion_names: Sequence[str], messages: Sequence[dict],
                      replies: Sequence[str]) -> pd.DataFrame:
    """Per message: the highest-scoring emotion at each position, the data's labels and the reply."""
    top = {k: [emotion_names[j] for j in v.argmax(1)] for k, v in scores.items()}
    return pd.DataFrame({"user's emotion (label)": [r["user_emotion"] for r in messages],
                         "top at user's last token": top["user"], "top at Assistant header": top["assistant"],
                         "top over the reply": top["reply"],
                         "fitting reply (label)": [r["fitting_reply_emotion"] for r in messages],
                         "reply": list(replies)}, index=pd.Index([r["id"] for r in messages], name="message"))


CARRY_PARTS = ("context", "shared", "header")


def carryover_gaps(vectors, reads: CarryReads, layer: int, pleasant: Sequence[str],
                   unpleasant: Sequence[str]) -> dict[str, np.ndarray]:
    """{part: [n_pairs]} negativity of the bad-news version minus that of the good-news
    version, on the news sentence ("context"), on the shared request ("shared") and at the
    Assistant header ("header"); each part's reads centred on their own mean."""
    n = len(reads.texts) // 2
    out = {}
    for part in CARRY_PARTS:
        neg = negativity(own_scores(vectors, getattr(reads, part)[layer]), vectors.emotions, pleasant, unpleasant)
        out[part] = neg[:n] - neg[n:]
    return out


def carryover_by_token(model: LoadedModel, vectors, reads: CarryReads, pleasant: Sequence[str],
                       unpleasant: Sequence[str], max_tokens: int = 16) -> pd.DataFrame:
    """The negativity gap (mean over pairs, with its standard error) at the k-th token of the
    shared request, k = 1 .. ``max_tokens``, at the vectors' layer; every token centred on the
    mean activation of all the shared requests' tokens."""
    from scipy.stats import sem

    from ..readout.scoring import cosine_matrix

    layer = vectors.layer
    rows = [r.residuals[layer][idx] for r, idx in
            zip(token_residuals(model, reads.texts, [layer]), reads.shared_tokens, strict=True)]
    centre = torch.cat(rows).mean(0)
    width = min(max_tokens, min(len(x) for x in rows))
    n = len(rows) // 2
    gaps = []
    for k in range(width):
        scores = cosine_matrix(torch.stack([x[k] for x in rows]), vectors.vectors.vectors.float(), centre).numpy()
        neg = negativity(scores, vectors.emotions, pleasant, unpleasant)
        gaps.append(neg[:n] - neg[n:])
    gaps = np.array(gaps)
    return pd.DataFrame({"gap": gaps.mean(1), "stderr": sem(gaps, axis=1)},
                        index=pd.Index(np.arange(1, width + 1), name="token of the request"))


def negation_scores(vectors, reads: dict[str, dict[int, torch.Tensor]], items: Sequence[dict],
                    layer: int) -> pd.DataFrame:
    """Per item: its own emotion's score in each form (columns), every form's reads centred together."""
    scores = own_scores(vectors, torch.cat([reads[f][layer] for f in NEGATION_FORMS]))
    n = len(items)
    cols = np.array([vectors.emotions.index(r["emotion"]) for r in items])
    frame = {f: scores[k * n:(k + 1) * n][np.arange(n), cols] for k, f in enumerate(NEGATION_FORMS)}
    return pd.DataFrame({"emotion": [r["emotion"] for r in items], "template": [r["template"] for r in items],
                         **frame}, index=pd.Index([r["id"] for r in items], name="item"))


def binding_scores(vectors, reads: dict[str, dict[int, torch.Tensor]], items: Sequence[dict],
                   layer: int) -> np.ndarray:
    """[n_items, 2] margins (``binding_margins``), both people's mentions centred together."""
    n = len(items)
    scores = own_scores(vectors, torch.cat([reads["a"][layer], reads["b"][layer]]))
    return binding_margins(scores[:n], scores[n:], items, vectors.emotions)


def binding_item_scores(margins: np.ndarray) -> np.ndarray:
    """Per sentence: share of its two mentions scored right, minus 0.5 (swapping the two
    people's emotions turns x into -x, which is what the null does)."""
    return (margins > 0).mean(1) - 0.5


# ---------------------------------------------------------------- everything the chapter reads


def vectors_by_layer(model: LoadedModel, layers: Sequence[int], emotion_names: Sequence[str] | None, *,
                     n_neutral: int = 0, seed: int = 0, batch_size: int = 8) -> dict:
    """{layer: SettledVectors}: the book's vectors (chapter 01's reference and style) at each
    layer. The corpus and the neutral dialogues are read for all layers in one pass first (or
    found in the activation cache), so each layer's build is cheap."""
    from ..corpus.neutral import load_neutral, sample_neutral
    from ..corpus.stories import load_stories
    from .emotion_vectors import neutral_activations, settled_vectors, story_activations

    stories = load_stories(emotions_subset=list(emotion_names) if emotion_names else None)
    story_activations(model, stories, layers, batch_size=batch_size)
    neutral_activations(model, sample_neutral(load_neutral(), n_neutral, seed), layers, batch_size=batch_size)
    return {layer: settled_vectors(model, layer=layer, emotions=emotion_names or None, n_neutral=n_neutral,
                                   seed=seed, batch_size=batch_size) for layer in sorted(set(layers))}


@dataclass
class Reads:
    """The chapter's four sets of reads at every swept layer, and the items they come from."""

    messages: list[dict]
    turns: TurnReads
    pairs: list[dict]
    carry: CarryReads
    negation_items: list[dict]
    negation: dict[str, dict[int, torch.Tensor]]
    binding_items: list[dict]
    binding: dict[str, dict[int, torch.Tensor]]


def read_all(model: LoadedModel, layers: Sequence[int], emotion_names: Sequence[str], *, n_messages: int = 0,
             reply_tokens: int = 40, n_pairs: int = 0, n_binding: int = 0, seed: int = 0,
             batch_size: int = 8) -> Reads:
    """Load the scenario data (``n_*``: seeded subsets, 0 for all; ``n_binding`` counts emotion
    pairs), generate the replies and read every text once at ``layers``."""
    messages = choose(load_scenarios("user_messages.jsonl"), n_messages, seed)
    pairs = choose(load_scenarios("carryover.jsonl"), n_pairs, seed)
    have = set(emotion_names)
    neg_items = [r for r in load_scenarios("negation.jsonl") if r["emotion"] in have]
    bind_items = binding_for(load_scenarios("binding.jsonl"), emotion_names, n_binding, seed)
    if not bind_items:
        raise DataError(f"no binding sentence uses two of these emotions; they pair one of "
                        f"{', '.join(BINDING_PLEASANT)} with one of {', '.join(BINDING_UNPLEASANT)}")
    return Reads(messages, read_turns(model, [r["message"] for r in messages], layers, reply_tokens=reply_tokens,
                                      batch_size=batch_size),
                 pairs, read_carryover(model, pairs, layers, batch_size=batch_size),
                 neg_items, read_negation(model, neg_items, layers, batch_size=batch_size),
                 bind_items, read_binding(model, bind_items, layers, batch_size=batch_size))


def layer_row(vectors, reads: Reads, layer: int, pleasant: Sequence[str], unpleasant: Sequence[str]) -> dict:
    """Every headline number of the chapter at one layer (with that layer's vectors)."""
    neg = negation_scores(vectors, reads.negation, reads.negation_items, layer)
    margins = binding_scores(vectors, reads.binding, reads.binding_items, layer)
    gaps = carryover_gaps(vectors, reads.carry, layer, pleasant, unpleasant)
    return {"layer": layer, **turn_correlations(turn_scores(vectors, reads.turns, layer)),
            "context_carryover_gap": float(gaps["shared"].mean()), "context_gap": float(gaps["context"].mean()),
            "header_carryover_gap": float(gaps["header"].mean()),
            "negation_flip_rate": flip_rate(neg.affirmative, neg.negated),
            "negation_control_flip_rate": flip_rate(neg.affirmative, neg.control),
            "affirmative_positive_rate": float((neg.affirmative > 0).mean()),
            "negation_drop": float((neg.affirmative - neg.negated).mean()),
            "control_drop": float((neg.affirmative - neg.control).mean()),
            "binding_accuracy": float((margins > 0).mean())}


def by_layer(vectors: dict, reads: Reads, pleasant: Sequence[str], unpleasant: Sequence[str]) -> pd.DataFrame:
    """``layer_row`` at every layer of ``vectors`` ({layer: SettledVectors})."""
    return pd.DataFrame([layer_row(v, reads, layer, pleasant, unpleasant)
                         for layer, v in sorted(vectors.items())]).set_index("layer")


# ---------------------------------------------------------------- the chapter

CHAPTER = Chapter(
    id="05-speakers-and-context",
    title="Speakers and context",
    params={
        "layer": Param(layer=True),
        "emotions": Param(choices=emotions),
        "n_neutral": Param(min=0),
        "n_messages": Param(min=0, max=48),
        "reply_tokens": Param(min=2, max=256),
        "n_pairs": Param(min=0, max=24),
        "n_binding": Param(min=0),
        "sweep_step": Param(min=0),
        "n_permutations": Param(min=10),
        "batch_size": Param(min=1, max=256),
        "seed": Param(min=0),
    },
    metrics=("layer", "n_emotions", "n_messages", "reply_tokens", "n_pairs", "n_negation_items", "n_binding_items",
             "r_user_vs_reply", "r_user_vs_assistant_null_p95", "r_user_vs_reply_null_p95",
             "assistant_minus_user_ci_low", "assistant_minus_user_ci_high", "context_gap", "header_carryover_gap",
             "affirmative_positive_rate", "binding_chance", "negation_flip_rate_first_layer", "first_layer",
             "best_layer_negation_flip_rate"),
    claims=(
        Claim("User's last token vs Assistant's first token: their score profiles correlate weakly", "r = 0.11",
              "r_user_vs_assistant", None,
              note=lambda m: f"messages paired at random, 95th pct {m['r_user_vs_assistant_null_p95']:.3f}; "
                             f"{m['n_messages']} messages, layer {m['layer']}"),
        Claim("The Assistant's first token predicts the emotion of the reply", "r = 0.87", "r_assistant_vs_reply",
              "r_assistant_vs_reply_null_p95", "messages paired at random, 95th pct",
              note=lambda m: f"greedy replies of {m['reply_tokens']} tokens"),
        Claim("... better than the user's last token does", "0.87 vs 0.59", "r_assistant_vs_reply",
              "r_user_vs_reply", "r(user's last token, reply)",
              note=lambda m: f"difference, 95% bootstrap CI [{m['assistant_minus_user_ci_low']:.3f}, "
                             f"{m['assistant_minus_user_ci_high']:.3f}]"),
        Claim("Emotional context carries into identical later text (unpleasant-minus-pleasant score gap)",
              "qualitative", "context_carryover_gap", "context_carryover_null_p95",
              "contexts swapped within pairs, 95th pct",
              note=lambda m: f"on the news itself {m['context_gap']:.3f}; {m['n_pairs']} pairs"),
        Claim("Negation: 'not feeling X' flips the sign of X's score", "only in middle-to-late layers",
              "negation_flip_rate", "negation_control_flip_rate", "flip rate with 'really' etc. for 'not'",
              note=lambda m: f"layer {m['layer']}; layer {m['first_layer']}: "
                             f"{m['negation_flip_rate_first_layer']:.3f}"),
        Claim("Emotions bind to the person they belong to (each mention scores its own person's emotion higher)",
              "qualitative", "binding_accuracy", "binding_null_p95", "emotions swapped between people, 95th pct",
              note=lambda m: f"chance {m['binding_chance']:.2f}; {m['n_binding_items']} sentences"),
    ),
    quick={"emotions": ["happy", "sad", "afraid", "angry", "calm", "desperate", "disgusted", "proud",
                        "ashamed", "loving", "bored", "content"],
           "n_neutral": 48, "n_messages": 8, "reply_tokens": 12, "n_pairs": 12, "n_binding": 12, "sweep_step": 10,
           "n_permutations": 200},
)
