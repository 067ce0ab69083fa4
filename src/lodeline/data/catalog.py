"""Dataset descriptors (Frictionless-style): what each bundled source is, its licence and its files' hashes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

#: A parser turns a dataset's folder into canonical frames: {table name: frame}. Each frame carries the
#: canonical columns plus ``_file`` and ``_row`` (where the row came from, for error messages).
Parser = Callable[[Path], Mapping[str, pl.DataFrame]]


@dataclass(frozen=True)
class DatasetSpec:
    id: str
    title: str
    publisher: str
    edition: str
    licence: str
    folder: str  # under the raw data dir
    files: tuple[str, ...]  # relative to folder; the hash covers exactly these plus PROVENANCE.txt
    parse: Parser

    def paths(self, raw_dir: Path) -> list[Path]:
        base = raw_dir / self.folder
        names = [*self.files, "PROVENANCE.txt"]
        return [base / n for n in names]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def combined_sha256(hashes: list[str]) -> str:
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()
