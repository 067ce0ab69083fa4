"""The trace CLI end to end on SQLite: keys, directory, validate/hash, capture, origin, log proof and audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.store import trace as db
from lodeline.store.engine import get_engine
from lodeline.trace.chain_setup import document_bytes
from lodeline.trace.generator import lithium_chain

runner = CliRunner()
GOLDEN = Path(__file__).parents[1] / "golden" / "data"


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    from lodeline.config import get_settings

    get_settings.cache_clear()
    return url


def test_validate_and_hash_without_store(tmp_path: Path) -> None:
    ok("trace", "validate", str(GOLDEN / "epcis_examples" / "Example_9.6.1-ObjectEvent.jsonld"))
    out = ok("trace", "hash", str(GOLDEN / "epcis_event_hash" / "ReferenceEventHashAlgorithm.jsonld"))
    assert (
        out.split()
        == (GOLDEN / "epcis_event_hash" / "ReferenceEventHashAlgorithm.hashes").read_text().split()
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "EPCISDocument"}')
    result = runner.invoke(app, ["trace", "validate", str(bad)])
    assert result.exit_code != 0


def test_file_names_the_os_refuses_are_named(tmp_path: Path) -> None:
    """keygen, validate and capture given a name too long for the OS, no name, or a missing folder: one error each
    naming the path and the OS's reason (an OSError or ValueError escaped before)."""
    from lodeline.errors import InvalidArgumentError

    long = str(tmp_path / ("é" * 5_000))
    cases = [
        (["trace", "keygen", long], "cannot write the key (File name too long)"),
        (["trace", "keygen", ""], "'.' is not a path prefix"),
        (["trace", "keygen", str(tmp_path / "missing" / "k")], "cannot write the key (No such file or directory)"),
        (["trace", "validate", long], "cannot read the document (File name too long)"),
        (["trace", "capture", long, "--participant", "x"], "cannot read the document (File name too long)"),
    ]  # fmt: skip
    for args, reason in cases:
        result = runner.invoke(app, args)
        assert isinstance(result.exception, InvalidArgumentError), (args[:2], result.exception)
        assert reason in str(result.exception), str(result.exception)[-200:]
    assert not list(tmp_path.iterdir())  # nothing written


def test_full_session(tmp_path: Path, store_url: str) -> None:
    chain = lithium_chain()
    m1, cv = chain.facilities["m1"], chain.facilities["cv"]
    ok("trace", "keygen", str(tmp_path / "pilbara"))
    assert (tmp_path / "pilbara.key").stat().st_mode & 0o777 == 0o600
    ok("trace", "keygen", str(tmp_path / "sichuan"))
    ok(
        "trace",
        "participant",
        "add",
        "pilbara-miner",
        "--name",
        "Pilbara Spodumene",
        "--role",
        "miner",
        "--public-key",
        f"@{tmp_path / 'pilbara.pub'}",
    )
    ok(
        "trace",
        "participant",
        "add",
        "sichuan-refiner",
        "--name",
        "Sichuan Lithium",
        "--role",
        "refiner",
        "--public-key",
        f"@{tmp_path / 'sichuan.pub'}",
        "--company-prefix",
        chain.prefix_of("sichuan-refiner"),
    )
    assert "pilbara-miner" in ok("trace", "participant", "list", "--format", "csv")
    ok(
        "trace",
        "facility",
        "add",
        m1.gln,
        "--name",
        m1.name,
        "--type",
        "mine",
        "--country",
        "Australia",
        "--operator",
        "pilbara-miner",
        "--lat",
        "-21.0",
        "--lon",
        "118.9",
        "--cert",
        "IRMA:2024-01-01:2027-12-31",
    )
    ok(
        "trace",
        "facility",
        "add",
        cv.gln,
        "--name",
        cv.name,
        "--type",
        "refinery",
        "--country",
        "CHN",
        "--operator",
        "sichuan-refiner",
    )
    shown = json.loads(ok("trace", "facility", "show", m1.gln))
    assert shown["country"] == "AUS" and shown["certifications"][0]["scheme"] == "IRMA"
    assert cv.name in ok("trace", "facility", "list", "--format", "csv")
    doc = tmp_path / "doc.json"
    doc.write_bytes(document_bytes(chain.documents[0][1]))
    ok("trace", "sign", str(doc), "--key", str(tmp_path / "pilbara.key"))
    capture = ["trace", "capture", str(doc), "--signature", str(tmp_path / "doc.json.sig")]
    # The miner has no company prefix yet: it cannot create lots (under anyone's prefix).
    result = runner.invoke(app, [*capture, "--participant", "pilbara-miner"])
    assert result.exit_code != 0 and "foreign-company-prefix" in str(result.exception)
    prefix = chain.prefix_of("pilbara-miner")
    ok("trace", "participant", "add-prefix", "pilbara-miner", prefix)
    assert (
        runner.invoke(app, ["trace", "participant", "add-prefix", "sichuan-refiner", prefix]).exit_code != 0
    )
    assert prefix in ok("trace", "participant", "list", "--format", "csv")
    report = json.loads(
        ok(
            "trace",
            "capture",
            str(doc),
            "--signature",
            str(tmp_path / "doc.json.sig"),
            "--participant",
            "pilbara-miner",
        )
    )
    # the directory came first in the log: two participants and their keys (4), the refiner's prefix (1), the mine
    # and its certification (2), the converter (1), the miner's prefix bound later (1)
    assert report["accepted"] == 2 and report["first_leaf"] == 9
    # The wrong participant's signature is rejected with exit status 2 and a stable code.
    ok(
        "trace",
        "sign",
        str(doc),
        "--key",
        str(tmp_path / "sichuan.key"),
        "--out",
        str(tmp_path / "wrong.sig"),
    )
    result = runner.invoke(
        app,
        [
            "trace",
            "capture",
            str(doc),
            "--signature",
            str(tmp_path / "wrong.sig"),
            "--participant",
            "pilbara-miner",
        ],
    )
    assert result.exit_code != 0
    origin = json.loads(ok("trace", "origin", "SC6-P1", "--by", "country", "--format", "json"))
    assert origin["by_country"] == [{"country": "AUS", "share": 1.0, "metal_kg": pytest.approx(27870.0)}]
    assert "Pilbara" in ok("trace", "origin", "SC6-P1")
    trail = json.loads(ok("trace", "trail", "SC6-P1", "--format", "json"))
    assert [(r["movement"], r["quantity_kg"], r["leaf_index"]) for r in trail] == [
        ("produce", 1_000_000, 9),
        ("ship", 1_000_000, 10),
    ]
    assert "Pilbara" in (table := ok("trace", "trail", "SC6-P1")) and "produce" in table
    assert runner.invoke(app, ["trace", "trail", "NO-SUCH-LOT"]).exit_code != 0
    ok("trace", "checkpoint")
    hash_id = ok("trace", "hash", str(doc)).split()[0]
    proof = ok("trace", "prove", hash_id)
    assert json.loads(proof)
    ok("trace", "audit")
    # Tamper with a stored event: the audit recomputes its hash ID from the stored JSON and names the leaf.
    engine = get_engine(store_url)
    with engine.begin() as conn:
        body = conn.execute(db.events.select().limit(1)).mappings().one()["body"]
        conn.execute(
            update(db.events).where(db.events.c.leaf_index == 9).values(body=body.replace("1000000", "9"))
        )
    result = runner.invoke(app, ["trace", "audit", "--format", "json"])
    assert result.exit_code != 0
    assert "event-leaf-mismatch" in result.output
