"""Finding 4: steering with an emotion's vector raises that emotion's own word (chapter 06).

Prompts end where an emotion word would come next ("... and right now he feels", "I feel", the
Assistant's "Right now I feel"; ``data/scenarios/feeling_prompts.jsonl``). Each emotion's vector
is added at one layer, at every prompt position, with strength x the layer's mean residual norm.
The read-out is the next-token log-probability of every emotion word (``readout_words``: the
words the tokenizer writes as one token after a space, or, with ``readout="first_token"``, the
words whose first token no other emotion word shares, read from that first token). A word's
**gain** is its steered minus its unsteered log-probability, averaged over the prompts; for each
steered emotion, where does its own word rank among the read-out words' gains (1 = the largest)?

Controls, all from random Gaussian directions of the same norm at the same layer and strength,
measured in the same batches (``measure_gains``):

- ``random_assignment_null``: each emotion's steering replaced by a random direction drawn from
  the set, the own-word rate recomputed; repeated, its 95th percentile is the claim's control.
- ``permutation_null``: the emotion vectors' gain rows reassigned to emotions at random (which
  vector is called which emotion shuffled).
- ``per_emotion_controls``: per emotion, the own word's gain relative to the other words (gain
  minus the row's mean gain) against the same word's relative gain under each random direction:
  the effect, the random mean and 95% range, a z-score.

Degradation (``steered_samples``): short greedy continuations under the same edits, their
perplexity under the unsteered model (``steering.measures.perplexity``) and whether the steered
emotion's word (any inflection) appears in them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata

from ..corpus.stories import emotions
from ..errors import DataError, ParameterError
from ..models.loading import LoadedModel
from ..paths import data_dir
from ..steering import Steer, steered_generate, steered_logprobs
from ..steering.measures import random_control
from .base import Chapter, Claim, Param

PROMPTS_FILE = "scenarios/feeling_prompts.jsonl"
KINDS = ("third_person", "first_person", "assistant")
READOUTS = ("one_token", "first_token")

# ---------------------------------------------------------------- prompts


@dataclass(frozen=True)
class FeelingPrompt:
    """A prompt that stops where an emotion word would come next. ``kind`` "third_person" and
    "first_person" are plain text (``text``); "assistant" is a chat turn (``user``) with the
    Assistant's reply prefilled with ``assistant_prefix``."""

    id: str
    kind: str
    text: str = ""
    user: str = ""
    assistant_prefix: str = ""

    def render(self, model: LoadedModel) -> str:
        if self.kind == "assistant":
            return model.chat(self.user, assistant_prefix=self.assistant_prefix)
        return self.text


def load_feeling_prompts(kinds: Sequence[str] | None = None, path: Path | None = None,
                         per_kind: int = 0) -> list[FeelingPrompt]:
    """The prompts of ``data/scenarios/feeling_prompts.jsonl`` (or ``path``), optionally only
    those of some ``kinds`` and only the first ``per_kind`` of each kind (0: all). Every prompt
    must end right before the word (no trailing space: the read-out is the word with its leading
    space)."""
    path = path or data_dir() / PROMPTS_FILE
    if not path.exists():
        raise DataError(f"missing {path}")
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            p = FeelingPrompt(str(row["id"]), str(row["kind"]), row.get("text", ""), row.get("user", ""),
                              row.get("assistant_prefix", ""))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"{path.name} line {n}: {exc}") from exc
        if p.kind not in KINDS:
            raise DataError(f"{path.name} line {n}: kind {p.kind!r} is not one of {', '.join(KINDS)}")
        ending = p.assistant_prefix if p.kind == "assistant" else p.text
        if not ending.strip() or (p.kind == "assistant" and not p.user.strip()):
            raise DataError(f"{path.name} line {n} ({p.id}): empty prompt")
        if ending != ending.rstrip():
            raise DataError(f"{path.name} line {n} ({p.id}): the prompt must not end with whitespace")
        out.append(p)
    if len({p.id for p in out}) != len(out):
        raise DataError(f"{path.name}: duplicate prompt ids")
    if kinds:
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise ParameterError(f"unknown prompt kinds {unknown}; known: {', '.join(KINDS)}")
        out = [p for p in out if p.kind in kinds]
    if per_kind < 0:
        raise ParameterError(f"per_kind must be >= 0, got {per_kind}")
    if per_kind:
        out = [p for p in out if [q.id for q in out if q.kind == p.kind].index(p.id) < per_kind]
    if not out:
        raise DataError("no feeling prompts selected")
    return out


# ---------------------------------------------------------------- the read-out words


@dataclass(frozen=True)
class ReadoutWords:
    """The emotion words read out, the token read for each, and why the others were left out."""

    words: list[str]
    token_ids: list[int]
    readout: str
    excluded: dict[str, str] = field(default_factory=dict)

    def index(self, word: str) -> int:
        return self.words.index(word)


def readout_words(tokenizer, words: Sequence[str], readout: str = "one_token") -> ReadoutWords:
    """Which of ``words`` can be read from one next-token log-probability after a prompt ending
    "... feel": "one_token" keeps the words written as a single token after a space (the token is
    the word); "first_token" keeps every word whose first token (after a space) no other of
    ``words`` shares, and reads that first token."""
    if readout not in READOUTS:
        raise ParameterError(f"readout must be one of {', '.join(READOUTS)}, got {readout!r}")
    encoded = {w: tokenizer.encode(" " + w, add_special_tokens=False) for w in words}
    firsts = Counter(ids[0] for ids in encoded.values() if ids)
    kept, ids, excluded = [], [], {}
    for w in words:
        t = encoded[w]
        if not t:
            excluded[w] = "no tokens"
        elif readout == "one_token" and len(t) > 1:
            excluded[w] = f"{len(t)} tokens"
        elif readout == "first_token" and firsts[t[0]] > 1:
            excluded[w] = f"first token {tokenizer.decode([t[0]])!r} shared"
        else:
            kept.append(w)
            ids.append(int(t[0]))
    if not kept:
        raise ParameterError(f"no emotion word is readable with readout={readout!r}")
    return ReadoutWords(kept, ids, readout, excluded)


# ---------------------------------------------------------------- steered read-outs


def random_directions(n: int, d_model: int, seed: int) -> torch.Tensor:
    """[n, d] Gaussian directions; the same ``seed`` gives the same directions at every layer and
    strength."""
    if n < 2:
        raise ParameterError(f"the random-direction control needs at least 2 directions, got {n}")
    return torch.randn(n, d_model, generator=torch.Generator().manual_seed(int(seed)))


@dataclass
class GainRun:
    """Steered minus unsteered log-probabilities of the read-out words at one layer and strength.

    ``emotion_gains`` [n_emotions, n_prompts, n_words] (row i: steering with ``emotions[i]``'s
    vector), ``random_gains`` [n_random, n_prompts, n_words], ``base`` [n_prompts, n_words] the
    unsteered log-probabilities. Every steered emotion is one of ``words``."""

    layer: int
    strength: float
    norm: float
    words: list[str]
    emotions: list[str]
    prompt_ids: list[str]
    prompt_kinds: list[str]
    emotion_gains: np.ndarray
    random_gains: np.ndarray
    base: np.ndarray

    @property
    def own(self) -> np.ndarray:
        """Column of each steered emotion's own word."""
        return np.array([self.words.index(e) for e in self.emotions])

    def mean_gains(self, kind: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(emotion, random) gains averaged over the prompts (of one ``kind``, or all)."""
        cols = [i for i, k in enumerate(self.prompt_kinds) if kind is None or k == kind]
        if not cols:
            raise ParameterError(f"no prompts of kind {kind!r}")
        return self.emotion_gains[:, cols].mean(1), self.random_gains[:, cols].mean(1)

    def matrix(self) -> pd.DataFrame:
        """Mean gain, steered emotion (rows) x read-out word (columns)."""
        return pd.DataFrame(self.mean_gains()[0], index=self.emotions, columns=self.words)


def measure_gains(model: LoadedModel, prompts: Sequence[FeelingPrompt], vectors: Mapping[str, torch.Tensor],
                  words: ReadoutWords, *, layer: int, strength: float, norm: float, n_random: int = 20,
                  seed: int = 0, batch_size: int = 32, progress: bool | str = False) -> GainRun:
    """Every prompt unsteered, under every emotion's vector in ``vectors`` whose word is read out,
    and under ``n_random`` random directions, all at ``layer`` with ``strength`` x ``norm``, in
    one batched pass. The read-out is the log-probability of each word's token after the prompt."""
    steered = [e for e in vectors if e in words.words]
    if not steered:
        raise ParameterError("none of the steered emotions has a read-out word")
    model.check_layer(layer)
    texts = [p.render(model) for p in prompts]
    randoms = random_directions(n_random, model.d_model, seed)
    conditions: list[tuple[Steer, ...]] = [()]
    conditions += [(Steer(layer, vectors[e].float(), strength, norm, label=e),) for e in steered]
    conditions += [(Steer(layer, randoms[i], strength, norm, label=f"random {i}"),) for i in range(n_random)]
    # prompt-major rows: a batch holds one prompt (or two) under many edits, so little padding
    rows_text = [t for t in texts for _ in conditions]
    rows_edits = [c for _ in texts for c in conditions]
    logp = steered_logprobs(model, rows_text, rows_edits, token_ids=words.token_ids, batch_size=batch_size,
                            progress=progress).float().numpy()
    logp = logp.reshape(len(texts), len(conditions), len(words.words)).transpose(1, 0, 2)
    base, steered_logp = logp[0], logp[1:]
    gains = steered_logp - base[None]
    return GainRun(layer, float(strength), float(norm), list(words.words), steered, [p.id for p in prompts],
                   [p.kind for p in prompts], gains[:len(steered)], gains[len(steered):], base)


# ---------------------------------------------------------------- statistics (pure)


def gain_ranks(gains: np.ndarray) -> np.ndarray:
    """[n, n_words] rank of each word's gain within its row: 1 = the largest gain (ties share
    their mean rank)."""
    return rankdata(-np.asarray(gains, dtype=float), axis=1, method="average")


def own_word_statistics(ranks_of_own: np.ndarray, n_words: int) -> dict[str, float]:
    """From the rank of each steered emotion's own word (1 = largest gain): the share ranked
    first (``top1``), in the top five (``top5``), last (``bottom1``: the own word falls most), and
    the mean rank. Works on [n_emotions] or on [n_draws, n_emotions] (one value per draw)."""
    r = np.asarray(ranks_of_own, dtype=float)
    return {"top1": (r == 1).mean(-1), "top5": (r <= 5).mean(-1), "bottom1": (r == n_words).mean(-1),
            "mean_rank": r.mean(-1)}


def random_assignment_null(random_gains: np.ndarray, own: np.ndarray, n_draws: int,
                           seed: int) -> dict[str, np.ndarray]:
    """The own-word statistics when each steered emotion's steering is replaced by a random
    direction (drawn with replacement from ``random_gains`` [n_random, n_words], independently
    per emotion), ``n_draws`` times: {statistic: [n_draws]}. A direction unrelated to the words
    puts the emotion's word first with probability about 1/n_words; the draws give the spread of
    the rate over this many emotions."""
    ranks = gain_ranks(random_gains)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, ranks.shape[0], size=(n_draws, len(own)))
    return own_word_statistics(ranks[pick, np.asarray(own)[None, :]], ranks.shape[1])


def permutation_null(emotion_gains: np.ndarray, own: np.ndarray, n_permutations: int,
                     seed: int) -> dict[str, np.ndarray]:
    """The own-word statistics with the emotion vectors' gain rows assigned to the emotions by a
    random permutation (which vector is called which emotion shuffled): {statistic: [n]}."""
    ranks = gain_ranks(emotion_gains)
    rng = np.random.default_rng(seed)
    perms = np.stack([rng.permutation(ranks.shape[0]) for _ in range(n_permutations)])
    return own_word_statistics(ranks[perms, np.asarray(own)[None, :]], ranks.shape[1])


def relative_gains(gains: np.ndarray) -> np.ndarray:
    """Each word's gain minus the mean gain of the row's words: the gain relative to the other
    emotion words (a push that raises every emotion word alike gives zeros)."""
    g = np.asarray(gains, dtype=float)
    return g - g.mean(-1, keepdims=True)


def per_emotion_controls(run: GainRun) -> pd.DataFrame:
    """Per steered emotion: its own word's gain, relative gain and rank, against the same word's
    relative gain under each random direction (mean, 95% range, z, where it falls)."""
    emotion_gains, random_gains = run.mean_gains()
    rel_e, rel_r = relative_gains(emotion_gains), relative_gains(random_gains)
    ranks = gain_ranks(emotion_gains)
    rows = []
    for i, (e, w) in enumerate(zip(run.emotions, run.own, strict=True)):
        c = random_control(float(rel_e[i, w]), rel_r[:, w])
        rows.append({"emotion": e, "gain": float(emotion_gains[i, w]), "relative_gain": c.effect,
                     "rank": float(ranks[i, w]), "top_word": run.words[int(np.argmax(emotion_gains[i]))],
                     "random_mean": c.random_mean, "random_lo": c.random_lo, "random_hi": c.random_hi, "z": c.z,
                     "beyond": c.beyond})
    return pd.DataFrame(rows).set_index("emotion")


def summarise(run: GainRun, *, n_draws: int = 1000, seed: int = 0, kind: str | None = None) -> dict[str, float]:
    """The run's own-word statistics (over all prompts, or one ``kind``) with their controls:
    the random-assignment null's mean and 95th percentile (5th for the mean rank, where lower is
    better), the label-permutation null's 95th percentile, chance, and (all prompts only) the
    share of emotions whose own word's relative gain lies above the random 95% range."""
    emotion_gains, random_gains = run.mean_gains(kind)
    n_words = len(run.words)
    observed = own_word_statistics(gain_ranks(emotion_gains)[np.arange(len(run.emotions)), run.own], n_words)
    rnd = random_assignment_null(random_gains, run.own, n_draws, seed)
    perm = permutation_null(emotion_gains, run.own, n_draws, seed)
    out = {"own_word_gain_rate": float(observed["top1"]), "own_word_top5_rate": float(observed["top5"]),
           "own_word_drop_rate": float(observed["bottom1"]), "own_word_mean_rank": float(observed["mean_rank"]),
           "random_control_rate": float(np.quantile(rnd["top1"], 0.95)),
           "random_rate_mean": float(rnd["top1"].mean()),
           "random_top5_p95": float(np.quantile(rnd["top5"], 0.95)),
           "random_drop_p95": float(np.quantile(rnd["bottom1"], 0.95)),
           "random_mean_rank_p05": float(np.quantile(rnd["mean_rank"], 0.05)),
           "random_mean_rank_p95": float(np.quantile(rnd["mean_rank"], 0.95)),
           "permuted_rate_p95": float(np.quantile(perm["top1"], 0.95)),
           "permuted_mean_rank_p05": float(np.quantile(perm["mean_rank"], 0.05)),
           "chance_rate": 1.0 / n_words, "chance_mean_rank": (n_words + 1) / 2,
           "n_words": n_words, "n_emotions": len(run.emotions), "layer": run.layer, "strength": run.strength}
    if kind is None:
        table = per_emotion_controls(run)
        out["own_beyond_random_rate"] = float((table.beyond == "above").mean())
        out["own_below_random_rate"] = float((table.beyond == "below").mean())
        out["median_z"] = float(table.z.median())
    return out


# ---------------------------------------------------------------- degradation and sampled text


def sample_emotions(steered: Sequence[str], n: int, seed: int, prefer: Sequence[str] = ()) -> list[str]:
    """``n`` of the steered emotions whose continuations are generated: those of ``prefer`` that
    are steered first (in that order), then a seeded draw from the rest."""
    first = [e for e in prefer if e in steered][:n]
    rest = [e for e in steered if e not in first]
    rng = np.random.default_rng(seed)
    extra = [rest[i] for i in sorted(rng.choice(len(rest), size=min(n - len(first), len(rest)), replace=False))] \
        if n > len(first) and rest else []
    return first + extra


def steered_samples(model: LoadedModel, prompts: Sequence[FeelingPrompt], vectors: Mapping[str, torch.Tensor],
                    *, layer: int, strength: float, norm: float, n_random: int, seed: int,
                    max_new_tokens: int = 16, batch_size: int = 16) -> pd.DataFrame:
    """Greedy continuations (fixed length) of each prompt unsteered, under each emotion in
    ``vectors`` and under the first ``n_random`` of the random directions ``measure_gains`` uses
    (same seed), with their perplexity under the unsteered model. One row per (condition,
    prompt): label, kind ("baseline", "emotion", "random"), prompt, prompt_kind, completion,
    perplexity."""
    from ..steering.measures import perplexity

    texts = [p.render(model) for p in prompts]
    randoms = random_directions(max(n_random, 2), model.d_model, seed)[:n_random]
    conditions: list[tuple[str, str, tuple[Steer, ...]]] = [("baseline", "baseline", ())]
    conditions += [(e, "emotion", (Steer(layer, v.float(), strength, norm, label=e),)) for e, v in vectors.items()]
    conditions += [(f"random {i}", "random", (Steer(layer, randoms[i], strength, norm, label=f"random {i}"),))
                   for i in range(n_random)]
    rows_text = [t for t in texts for _ in conditions]
    rows_edits = [c[2] for _ in texts for c in conditions]
    completions = steered_generate(model, rows_text, rows_edits, max_new_tokens=max_new_tokens, batch_size=batch_size)
    ppl = perplexity(model, rows_text, completions, batch_size=batch_size)
    meta = [(label, kind, p.id, p.kind) for p in prompts for label, kind, _ in conditions]
    frame = pd.DataFrame(meta, columns=["label", "kind", "prompt", "prompt_kind"])
    frame["completion"] = completions
    frame["perplexity"] = ppl
    return frame


def mentions(completion: str, word: str) -> bool:
    """Whether ``word`` (any inflection, whole words, case-insensitive: the corpus's
    forbidden-word rule) occurs in ``completion``."""
    from ..corpus.rules import forbidden_hits

    return bool(forbidden_hits(completion, [word]))


def mention_rates(samples: pd.DataFrame) -> pd.DataFrame:
    """Per steered emotion: the share of its steered continuations that name its word, and the
    share of random-direction and unsteered continuations of the same prompts that name it."""
    emotion_rows = samples[samples.kind == "emotion"]
    others = samples[samples.kind == "random"]
    base = samples[samples.kind == "baseline"]
    rows = []
    for e, group in emotion_rows.groupby("label", sort=False):
        prompts = set(group.prompt)
        rows.append({"emotion": e, "steered": float(np.mean([mentions(c, e) for c in group.completion])),
                     "random": float(np.mean([mentions(c, e) for c in others[others.prompt.isin(prompts)].completion]))
                     if len(others) else float("nan"),
                     "unsteered": float(np.mean([mentions(c, e) for c in base[base.prompt.isin(prompts)].completion]))})
    return pd.DataFrame(rows).set_index("emotion")


def degradation(samples: pd.DataFrame) -> dict[str, float]:
    """Median perplexity of the emotion-steered, random-steered and unsteered continuations, and
    the ratio of the steered ones to the unsteered."""
    med = samples.groupby("kind").perplexity.median()
    base = float(med.get("baseline", np.nan))
    out = {"perplexity_unsteered": base, "perplexity_emotion": float(med.get("emotion", np.nan)),
           "perplexity_random": float(med.get("random", np.nan))}
    out["perplexity_ratio"] = out["perplexity_emotion"] / base if base > 0 else float("nan")
    return out


def one_prompt_per_kind(prompts: Sequence[FeelingPrompt]) -> list[FeelingPrompt]:
    """The first prompt of each kind (in ``KINDS`` order): the prompts continuations are generated for."""
    return [next(p for p in prompts if p.kind == k) for k in KINDS if any(p.kind == k for p in prompts)]


@dataclass
class Setting:
    """One (layer, strength): the gains, their summary with controls and degradation, and the
    generated continuations."""

    run: GainRun
    summary: dict[str, float]
    samples: pd.DataFrame


def measure_setting(model: LoadedModel, prompts: Sequence[FeelingPrompt], vectors: Mapping[str, torch.Tensor],
                    words: ReadoutWords, *, layer: int, strength: float, norm: float, sample: Sequence[str],
                    n_random: int = 20, n_sample_random: int = 8, n_draws: int = 1000, seed: int = 0,
                    max_new_tokens: int = 16, batch_size: int = 32, run: GainRun | None = None,
                    progress: bool | str = False) -> Setting:
    """``measure_gains`` (unless ``run`` is given) and ``summarise`` at one layer and strength,
    with continuations of one prompt per kind under the ``sample`` emotions' vectors and
    ``n_sample_random`` random directions, for degradation (``degradation``) and examples."""
    run = run or measure_gains(model, prompts, vectors, words, layer=layer, strength=strength, norm=norm,
                               n_random=n_random, seed=seed, batch_size=batch_size, progress=progress)
    samples = steered_samples(model, one_prompt_per_kind(prompts), {e: vectors[e] for e in sample}, layer=layer,
                              strength=strength, norm=norm, n_random=n_sample_random, seed=seed,
                              max_new_tokens=max_new_tokens, batch_size=batch_size)
    return Setting(run, {**summarise(run, n_draws=n_draws, seed=seed), **degradation(samples)}, samples)


def settings_table(settings: Mapping[float | int, Setting], index_name: str) -> pd.DataFrame:
    """One row per setting (by strength or layer) of its summary."""
    table = pd.DataFrame({key: s.summary for key, s in settings.items()}).T
    table.index.name = index_name
    return table.astype(float)


def best_setting(table: pd.DataFrame) -> float | int:
    """The index (layer or strength) of ``settings_table``'s row with the highest own-word rate,
    ties broken by the better (lower) mean rank."""
    ranked = table.sort_values(["own_word_gain_rate", "own_word_mean_rank"], ascending=[False, True], kind="stable")
    return ranked.index[0]


def sweep_layers(n_layers: int, layer: int, step: int) -> list[int]:
    """The chapter's layer plus every ``step``-th layer (chapter 01's sweep, so its cached reads
    are reused)."""
    from .emotion_vectors import sweep_layers as chapter01_sweep

    return chapter01_sweep(n_layers, layer, step)


def warm_vector_cache(model: LoadedModel, layers: Sequence[int], emotion_names: Sequence[str] | None,
                      n_neutral: int, seed: int) -> None:
    """Read the stories and neutral dialogues that ``settled_vectors`` reads, at every layer of
    ``layers`` in one pass per set (the cache is per layer), so building vectors at each layer of a
    sweep costs one pass rather than one per layer."""
    from ..corpus.neutral import load_neutral, sample_neutral
    from ..corpus.stories import load_stories
    from .emotion_vectors import neutral_activations, story_activations

    stories = load_stories(emotions_subset=list(emotion_names) if emotion_names else None)
    story_activations(model, stories, layers)
    neutral_activations(model, sample_neutral(load_neutral(), n_neutral, seed), layers)


def neutral_norms(model: LoadedModel, layers: Sequence[int], n_neutral: int, seed: int) -> dict[int, float]:
    """The mean residual norm at each layer over the neutral dialogues in the chat template."""
    from ..corpus.neutral import format_dialogue, load_neutral, sample_neutral
    from ..steering import mean_residual_norm

    texts = [format_dialogue(model.tokenizer, d) for d in sample_neutral(load_neutral(), n_neutral, seed)]
    return mean_residual_norm(model, texts, layers)


# ---------------------------------------------------------------- the chapter

QUICK_EMOTIONS = ["happy", "sad", "afraid", "angry", "calm", "desperate", "disgusted", "proud", "ashamed", "loving",
                  "bored", "content"]

CHAPTER = Chapter(
    id="06-steering-sanity",
    title="Steering sanity",
    params={
        "layer": Param(layer=True),
        "strength": Param(min=-2.0, max=2.0),
        "strengths": Param(min=-2.0, max=2.0, nonempty=True),
        "emotions": Param(choices=emotions),
        "n_neutral": Param(min=0),
        "readout": Param(choices=READOUTS),
        "kinds": Param(choices=KINDS),
        "prompts_per_kind": Param(min=0),
        "n_random": Param(min=20),
        "n_draws": Param(min=100),
        "sweep_step": Param(min=0),
        "max_new_tokens": Param(min=1, max=128),
        "n_sample_emotions": Param(min=1),
        "batch_size": Param(min=1, max=256),
        "seed": Param(min=0),
    },
    metrics=("own_word_top5_rate", "own_word_mean_rank", "random_mean_rank_p05", "permuted_rate_p95", "chance_rate",
             "n_words", "n_emotions", "n_prompts", "n_random", "layer", "strength", "residual_norm",
             "own_beyond_random_rate", "median_z", "perplexity_ratio", "best_layer", "best_layer_rate"),
    claims=(
        Claim("Steering an emotion's vector raises its own word's log-probability most among the emotion words "
              "(share of emotions whose own word gains most)",
              "qualitative (\"He feels\": the emotion's word up, the others down)", "own_word_gain_rate",
              "random_control_rate", "random directions in place of each vector, 95th pct",
              note=lambda m: f"{m['n_words']} words, layer {m['layer']}, s = {m['strength']:g}, "
                             f"chance {m['chance_rate']:.3f}"),
        Claim("Own word's mean rank among the emotion words' gains (1 = gains most)", "-", "own_word_mean_rank",
              "random_mean_rank_p05", "random directions, 5th pct", sense="less", fmt=".1f",
              note=lambda m: f"of {m['n_words']}"),
    ),
    quick={"emotions": QUICK_EMOTIONS, "n_neutral": 48, "prompts_per_kind": 2, "strengths": [0.25], "sweep_step": 0,
           "max_new_tokens": 6, "n_sample_emotions": 2, "n_draws": 200},
)
