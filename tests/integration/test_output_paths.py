"""Where commands write: an output path in a missing folder is refused (exit 2, the folder named, nothing created),
and binary formats (parquet, xlsx) refuse a terminal but go to a pipe.

Every command that takes ``--out`` (or ``--table-out``, ``--checkpoint-out``, ``--out-dir``) is listed here; a new
one that writes a file should be added (``grep -rn -- "--out" src/lodeline/cli``).
"""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lodeline.cli.output import check_out_dir, check_out_path
from lodeline.config import get_settings
from lodeline.errors import InvalidArgumentError

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = ROOT / "docs" / "examples" / "exercise-rare-earths.yaml"
MAIN = "from lodeline.cli.main import main; main()"

#: (id, argv with {out} for the output path in a missing folder)
COMMANDS: list[tuple[str, list[str]]] = [
    ("market shares", ["market", "shares", "-m", "rare-earths", "-f", "csv", "--out", "{out}"]),
    ("market concentration", ["market", "concentration", "-m", "rare-earths", "-f", "xlsx", "--out", "{out}"]),
    ("market dependency", ["market", "dependency", "-m", "rare-earths", "-f", "parquet", "--out", "{out}"]),
    ("market imports", ["market", "imports", "-m", "rare-earths", "-f", "json", "--out", "{out}"]),
    ("market value-creation", ["market", "value-creation", "-m", "rare-earths", "-f", "csv", "--out", "{out}"]),
    ("market prices", ["market", "prices", "-m", "copper", "-f", "csv", "--out", "{out}"]),
    ("market overview", ["market", "overview", "-f", "csv", "--out", "{out}"]),
    ("market report", ["market", "report", "--out", "{out}"]),
    ("risk criticality", ["risk", "criticality", "-f", "csv", "--out", "{out}"]),
    ("risk chart", ["risk", "chart", "--out", "{out}"]),
    ("risk sensitivity --out", ["risk", "sensitivity", "--draws", "5", "-m", "Gallium", "--out", "{out}"]),
    ("risk sensitivity --table-out", ["risk", "sensitivity", "--draws", "5", "-m", "Gallium", "-f", "csv",
                                      "--table-out", "{out}"]),
    ("risk geopol", ["risk", "geopol", "-i", "G7", "-f", "csv", "--out", "{out}"]),
    ("sim run", ["sim", "run", "cn-rare-earths-six-month-ban", "--out", "{out}"]),
    ("sim exercise", ["sim", "exercise", str(EXERCISE), "--out-dir", "{dir}"]),
    ("data sources", ["data", "sources", "-f", "csv", "--out", "{out}"]),
    ("trace sign", ["trace", "sign", str(EXERCISE), "--key", "no.key", "--out", "{out}"]),
    ("trace trail", ["trace", "trail", "LOT-1", "--format", "csv", "--out", "{out}"]),
    ("trace checkpoint", ["trace", "checkpoint", "--out", "{out}"]),
    ("trace prove --out", ["trace", "prove", "ni:///sha-256;00?ver=CBV2.0", "--out", "{out}"]),
    ("trace prove --checkpoint-out", ["trace", "prove", "ni:///sha-256;00?ver=CBV2.0", "--checkpoint-out", "{out}"]),
    ("trace consistency --out", ["trace", "consistency", "0", "--out", "{out}"]),
    ("trace consistency --checkpoint-out", ["trace", "consistency", "0", "--checkpoint-out", "{out}"]),
    ("trace cosign", ["trace", "cosign", "--out", "{out}"]),
]  # fmt: skip


@pytest.fixture
def cli_store(built_sqlite: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LODELINE_DATABASE_URL", built_sqlite[0])
    get_settings.cache_clear()
    return built_sqlite[0]


def _main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> tuple[int, str]:
    """The real entry point (Lodeline errors → exit status 2): (status, stderr)."""
    from lodeline.cli.main import main

    monkeypatch.setattr(sys, "argv", ["lodeline", *args])
    monkeypatch.setenv("COLUMNS", "400")
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0), capsys.readouterr().err
    return 0, capsys.readouterr().err


@pytest.mark.parametrize(("name", "argv"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_an_output_path_in_a_missing_folder_is_refused_and_not_created(
    cli_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    argv: list[str],
) -> None:
    missing = tmp_path / "missing"
    folder = missing / "sub"
    args = [a.replace("{out}", str(folder / "result.out")).replace("{dir}", str(folder)) for a in argv]
    status, err = _main(monkeypatch, capsys, args)
    assert status == 2, err
    assert "does not exist" in err and str(folder) in " ".join(err.split()), err
    assert not missing.exists(), f"{name} created {missing}"


def test_the_same_command_writes_when_the_folder_exists(
    cli_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "shares.csv"
    status, err = _main(
        monkeypatch, capsys, ["market", "shares", "-m", "rare-earths", "-f", "csv", "--out", str(out)]
    )
    assert status == 0, err
    lines = out.read_text().splitlines()
    assert "country" in lines[0].split(",") and any(",CHN," in line for line in lines[1:])


def test_check_out_path_names_what_is_wrong(tmp_path: Path) -> None:
    check_out_path(None)
    check_out_path(tmp_path / "fine.csv")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(InvalidArgumentError, match="is not a folder"):
        check_out_path(a_file / "out.csv")
    with pytest.raises(InvalidArgumentError, match="is a folder; give a file name"):
        check_out_path(tmp_path, "--table-out")
    with pytest.raises(InvalidArgumentError, match=r"--out-dir .* does not exist"):
        check_out_dir(tmp_path / "nope")
    with pytest.raises(InvalidArgumentError, match="is not a folder"):
        check_out_dir(a_file)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "LODELINE_DATABASE_URL": url, "COLUMNS": "400"}


SHARES = ["market", "shares", "-m", "rare-earths", "-s", "refining", "-y", "2024"]


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_binary_formats_refuse_a_terminal(cli_store: str, fmt: str) -> None:
    """stdout is a real pseudo-terminal: exit 2, a message on stderr, and not one byte on the terminal."""
    master, slave = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", MAIN, *SHARES, "-f", fmt],
            stdout=slave,
            stderr=subprocess.PIPE,
            env=_env(cli_store),
            timeout=300,
            check=False,
        )
        os.close(slave)
        shown = b""
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal's other end is closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert f"{fmt} is binary and stdout is a terminal" in " ".join(err.split()), err
    assert shown == b""


@pytest.mark.parametrize(("fmt", "magic"), [("parquet", b"PAR1"), ("xlsx", b"PK\x03\x04")])
def test_binary_formats_go_to_a_pipe(cli_store: str, fmt: str, magic: bytes) -> None:
    import openpyxl
    import polars as pl

    done = subprocess.run(
        [sys.executable, "-c", MAIN, *SHARES, "-f", fmt],
        capture_output=True,
        env=_env(cli_store),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.startswith(magic)
    if fmt == "parquet":
        frame = pl.read_parquet(io.BytesIO(done.stdout))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(done.stdout))["data"]
        rows = list(sheet.iter_rows(values_only=True))
        frame = pl.DataFrame([dict(zip(rows[0], r, strict=True)) for r in rows[1:]])
    assert "CHN" in frame["country"].to_list()
    assert json.dumps(sorted(frame.columns))  # every column travelled
