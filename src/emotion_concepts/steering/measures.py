"""How every causal effect in the book is measured.

- The primary measure is continuous: the probability of each option of a forced choice, read from
  the option letters' next-token logits after the Assistant's reply has been prefilled with "("
  (``option_probabilities``), renormalised over the letters, averaged over rotations of the option
  order (``choice_prompts``) so that a preference for a letter cannot pass for an effect.
- A condition is a named tuple of edits (``Condition``): an emotion vector at one layer or at
  several, or a random direction of the same norm (``random_conditions``), or nothing (the
  baseline). ``choice_effects`` runs every prompt under every condition, batched.
- Every effect is judged against the random directions at the same layers and strength
  (``random_control``): the effect, the random mean and 95% range, and a z-score.
- Degradation: the perplexity of a (steered) text under the unsteered model (``perplexity``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ..errors import ParameterError
from ..models.loading import LoadedModel
from ..readout.activations import encode_texts, pad_batch, position_ids_for
from .edits import Steer
from .run import steered_logprobs

LETTERS = "ABCDEFGH"
INSTRUCTION = "Answer with the letter of one option only."


# ---------------------------------------------------------------- forced choices


@dataclass(frozen=True)
class ChoiceItem:
    """One forced choice: the user's text before the options, the options by key (in a canonical
    order), an optional system prompt, and the instruction after the options."""

    id: str
    question: str
    options: Mapping[str, str]
    system: str | None = None
    instruction: str = INSTRUCTION
    turns: tuple[tuple[str, str], ...] = ()  # earlier (role, text) turns before the question

    def __post_init__(self) -> None:
        if not 2 <= len(self.options) <= len(LETTERS):
            raise ParameterError(f"choice {self.id!r}: need 2 to {len(LETTERS)} options, got {len(self.options)}")


@dataclass(frozen=True)
class ChoicePrompt:
    """A forced choice rendered with one order of its options: ``order[i]`` is the key of the
    option shown with letter ``LETTERS[i]``."""

    item: str
    order: tuple[str, ...]
    text: str


def rotations(keys: Sequence[str], n: int | None = None) -> list[tuple[str, ...]]:
    """The first ``n`` cyclic rotations of ``keys`` (all of them by default: every option in every
    position once)."""
    keys = tuple(keys)
    n = len(keys) if n is None else n
    if not 1 <= n <= len(keys):
        raise ParameterError(f"n_rotations must be between 1 and {len(keys)}, got {n}")
    return [keys[i:] + keys[:i] for i in range(n)]


def render_choice(model: LoadedModel, item: ChoiceItem, order: Sequence[str]) -> str:
    """The chat-rendered prompt of ``item`` with its options in ``order``, the Assistant's reply
    prefilled so that the next token names the option (``answer_tokens``: "(" where the
    tokenizer writes "(A" as "(" then "A"; nothing where "(A" is one token)."""
    from ..models.loading import format_chat

    lines = "\n".join(f"({LETTERS[i]}) {item.options[k]}" for i, k in enumerate(order))
    user = f"{item.question}\n\n{lines}\n\n{item.instruction}".strip()
    prefix, _ = answer_tokens(model.tokenizer, len(order))
    return format_chat(model.tokenizer, [*item.turns, ("user", user)], item.system, assistant_prefix=prefix)


def choice_prompts(model: LoadedModel, items: Sequence[ChoiceItem],
                   n_rotations: int | None = None) -> list[ChoicePrompt]:
    """Every item under ``n_rotations`` rotations of its option order (all by default)."""
    return [ChoicePrompt(item.id, order, render_choice(model, item, order))
            for item in items for order in rotations(list(item.options), n_rotations)]


def answer_tokens(tokenizer, n: int) -> tuple[str, list[int]]:
    """How the answer "(A" is read with this tokenizer: the text prefilled in the Assistant's reply
    and the token id of each of the first ``n`` options right after it. Where "(A" is written as
    "(" then "A" (SmolLM2, Llama), the prefill is "(" and the tokens are the letters; where "(A"
    is a single token (Qwen2.5), there is no prefill and the tokens are "(A", "(B", ... themselves,
    so the model is read on the tokenization it was trained on. Anything else is an error."""
    answers = [tokenizer.encode("(" + letter, add_special_tokens=False) for letter in LETTERS[:n]]
    paren = tokenizer.encode("(", add_special_tokens=False)
    if all(a[:len(paren)] == paren and len(a) == len(paren) + 1 for a in answers):
        prefix, ids = "(", [a[-1] for a in answers]
    elif all(len(a) == 1 for a in answers):
        prefix, ids = "", [a[0] for a in answers]
    else:
        raise ParameterError("the tokenizer writes '(A' neither as '(' plus one letter token nor as one token")
    if len(set(ids)) != n:
        raise ParameterError("two options share an answer token")
    return prefix, ids


def letter_token_ids(tokenizer, n: int) -> list[int]:
    """The token id of each of the first ``n`` options' answers (see ``answer_tokens``)."""
    return answer_tokens(tokenizer, n)[1]


@dataclass
class OptionProbabilities:
    """``probs`` [n_prompts, n_keys]: each option's probability (by key, not by letter),
    renormalised over the letters the prompt shows (NaN for a key the prompt does not offer:
    prompts of one call may offer different options); ``letter_mass`` [n_prompts]: the
    probability the model gave to those letters at all (low means it does not answer the
    question's way)."""

    keys: tuple[str, ...]
    probs: torch.Tensor
    letter_mass: torch.Tensor


def option_probabilities(model: LoadedModel, prompts: Sequence[ChoicePrompt],
                         edits: Sequence[Sequence[Steer]] | None = None, *, batch_size: int = 16,
                         progress: bool | str = False) -> OptionProbabilities:
    """Each prompt's option probabilities under its edits (one tuple per prompt; None: unsteered)."""
    if not prompts:
        raise ParameterError("no prompts")
    keys = tuple(sorted({k for p in prompts for k in p.order}))
    n_letters = max(len(p.order) for p in prompts)
    letters = letter_token_ids(model.tokenizer, n_letters)
    logp = steered_logprobs(model, [p.text for p in prompts], edits, token_ids=letters, batch_size=batch_size,
                            progress=progress).float()
    probs = torch.full((len(prompts), len(keys)), float("nan"))
    mass = torch.zeros(len(prompts))
    for row, p in enumerate(prompts):
        shown = logp[row, :len(p.order)]
        mass[row] = shown.exp().sum()
        by_letter = (shown - shown.logsumexp(-1)).exp()
        for pos, key in enumerate(p.order):
            probs[row, keys.index(key)] = by_letter[pos]
    return OptionProbabilities(keys, probs, mass)


# ---------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Condition:
    """A named set of edits applied together: ``kind`` is "baseline", "emotion" or "random"."""

    label: str
    kind: str
    strength: float = 0.0
    layers: tuple[int, ...] = ()
    edits: tuple[Steer, ...] = field(default=(), repr=False)


def baseline() -> Condition:
    return Condition("baseline", "baseline")


def vector_condition(label: str, vectors: Mapping[int, torch.Tensor], strength: float, norms: Mapping[int, float], *,
                     kind: str = "emotion", positions: str = "all", start: int = 0) -> Condition:
    """Add ``vectors[layer]`` (unit, times ``strength`` x ``norms[layer]``) at every layer given.
    Strength 0 is the baseline."""
    layers = tuple(sorted(vectors))
    edits = tuple(Steer(layer, vectors[layer], strength, norms[layer], positions=positions, start=start, label=label)
                  for layer in layers)
    return Condition(label, kind, float(strength), layers, edits)


def random_conditions(n: int, layers: Sequence[int], d_model: int, strength: float, norms: Mapping[int, float], *,
                      seed: int, positions: str = "all", start: int = 0) -> list[Condition]:
    """``n`` random Gaussian directions (a fresh one per layer), added with the same strength and
    norm as an emotion vector: the control for 'any push of this size would do'. The same
    ``seed`` gives the same directions at every strength."""
    gen = torch.Generator().manual_seed(int(seed))
    out = []
    for i in range(n):
        dirs = {layer: torch.randn(d_model, generator=gen) for layer in sorted(layers)}
        out.append(vector_condition(f"random {i}", dirs, strength, norms, kind="random", positions=positions,
                                    start=start))
    return out


def choice_effects(model: LoadedModel, prompts: Sequence[ChoicePrompt], conditions: Sequence[Condition], *,
                   batch_size: int = 16, progress: bool | str = False) -> pd.DataFrame:
    """Every prompt under every condition, batched (rows of one batch carry different edits).
    One row per (condition, prompt): label, kind, strength, layers, item, order, letter_mass and
    one ``p_<key>`` column per option."""
    rows_prompts, rows_edits, meta = [], [], []
    for c in conditions:
        for p in prompts:
            rows_prompts.append(p)
            rows_edits.append(c.edits)
            meta.append((c.label, c.kind, c.strength, ",".join(map(str, c.layers)), p.item, "".join(p.order)))
    result = option_probabilities(model, rows_prompts, rows_edits, batch_size=batch_size, progress=progress)
    frame = pd.DataFrame(meta, columns=["label", "kind", "strength", "layers", "item", "order"])
    frame["letter_mass"] = result.letter_mass.numpy()
    for j, key in enumerate(result.keys):
        frame[f"p_{key}"] = result.probs[:, j].numpy()
    return frame


def mean_by_condition(effects: pd.DataFrame, key: str) -> pd.DataFrame:
    """P(option ``key``) per condition, averaged over items and rotations (each item weighted
    equally): label, kind, strength, layers, p."""
    col = f"p_{key}"
    per_item = effects.groupby(["label", "kind", "strength", "layers", "item"], sort=False)[col].mean()
    return per_item.groupby(level=[0, 1, 2, 3], sort=False).mean().rename("p").reset_index()


# ---------------------------------------------------------------- the random-direction control


@dataclass(frozen=True)
class RandomControl:
    """An effect against the effects of random directions of the same norm."""

    effect: float
    random_mean: float
    random_lo: float  # 2.5th percentile
    random_hi: float  # 97.5th percentile
    random_sd: float
    z: float
    n_random: int

    @property
    def beyond(self) -> str:
        """"above" or "below" the random 95% range, or "inside"."""
        return "above" if self.effect > self.random_hi else "below" if self.effect < self.random_lo else "inside"

    def replicates(self, sense: str) -> bool:
        """Beyond the random range in the paper's direction (``sense``: "increase" or "decrease")."""
        return self.beyond == ("above" if sense == "increase" else "below")


def random_control(effect: float, random_effects: Sequence[float]) -> RandomControl:
    r = np.asarray(random_effects, dtype=float)
    if r.size < 2:
        raise ParameterError("the random-direction control needs at least 2 random directions")
    sd = float(r.std(ddof=1))
    z = (effect - float(r.mean())) / sd if sd > 0 else float("nan")
    lo, hi = np.percentile(r, [2.5, 97.5])
    return RandomControl(float(effect), float(r.mean()), float(lo), float(hi), sd, float(z), int(r.size))


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of ``k`` successes in ``n`` trials (statsmodels'
    ``proportion_confint``), for a sampled rate; (nan, nan) when ``n`` is 0."""
    from statsmodels.stats.proportion import proportion_confint

    if not 0 <= k <= n:
        raise ParameterError(f"a rate needs 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return float("nan"), float("nan")
    lo, hi = proportion_confint(int(k), int(n), alpha=1 - confidence, method="wilson")
    return float(lo), float(hi)


def contrast_against_random(p_a: float, p_b: float, random_ps: Sequence[float]) -> RandomControl:
    """Specificity: the difference ``p_a - p_b`` between two steered conditions (say desperate and
    calm at the same layer and strength) against the differences between every ordered pair of
    distinct random directions of the same norm. A model that moves under any push moves under
    both emotions alike; only a contrast beyond the random pairs' range says the two directions
    do different things."""
    r = np.asarray(random_ps, dtype=float)
    if r.size < 2:
        raise ParameterError("the random-direction contrast needs at least 2 random directions")
    diffs = (r[:, None] - r[None, :])[~np.eye(r.size, dtype=bool)]
    return random_control(float(p_a) - float(p_b), diffs)


def effects_against_random(means: pd.DataFrame, base: float) -> pd.DataFrame:
    """For each emotion condition in ``means`` (``mean_by_condition``), its effect (p - ``base``)
    against the random conditions at the same strength and layers: effect, random mean, 95%
    range, z and where it falls."""
    rows = []
    for (strength, layers), group in means.groupby(["strength", "layers"], sort=False):
        randoms = group[group.kind == "random"].p.to_numpy() - base
        for _, r in group[group.kind == "emotion"].iterrows():
            c = random_control(float(r.p) - base, randoms) if randoms.size >= 2 else None
            rows.append({"label": r.label, "strength": strength, "layers": layers, "p": float(r.p),
                         "effect": float(r.p) - base,
                         **({"random_mean": c.random_mean, "random_lo": c.random_lo, "random_hi": c.random_hi,
                             "z": c.z, "beyond": c.beyond} if c else {})})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- degradation


def perplexity(model: LoadedModel, prompts: Sequence[str], completions: Sequence[str], *,
               batch_size: int = 8) -> np.ndarray:
    """[n] perplexity of each completion given its prompt under the unsteered model (exp of the
    mean negative log-probability of the completion's tokens): how far steering pushed the text
    from what the model would write. An empty completion gives NaN."""
    if len(prompts) != len(completions):
        raise ParameterError(f"{len(prompts)} prompts but {len(completions)} completions")
    prompt_ids = encode_texts(model, list(prompts))
    full_ids = encode_texts(model, [p + c for p, c in zip(prompts, completions, strict=True)])
    out = np.full(len(prompts), np.nan)
    for i0 in range(0, len(prompts), batch_size):
        idx = list(range(i0, min(i0 + batch_size, len(prompts))))
        enc = pad_batch([full_ids[i] for i in idx], model.tokenizer.pad_token_id, "left")
        with model.lm.trace(enc["input_ids"], attention_mask=enc["attention_mask"],
                            position_ids=position_ids_for(enc["attention_mask"]), **model.trace_kwargs()):
            logp = model.lm.output.logits[:, :-1].float().log_softmax(-1)
            picked = logp.gather(-1, enc["input_ids"][:, 1:].unsqueeze(-1))[..., 0].save()
        picked = torch.as_tensor(picked)
        width = enc["input_ids"].shape[1]
        for row, i in enumerate(idx):
            n_full, n_prompt = len(full_ids[i]), len(prompt_ids[i])
            n_new = n_full - n_prompt
            if n_new <= 0:
                continue
            # token t of the row sits at column width - n_full + t; picked[:, c] scores column c + 1
            first = width - n_full + n_prompt
            out[i] = float(torch.exp(-picked[row, first - 1:width - 1].mean()))
    return out
