"""Hostile documents and headers through the API (both backends) and the CLI: a named 4xx or exit 2, never a 500
or a traceback, nothing written, bounded time and output (issue 10)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.store import trace as db
from lodeline.store.accounts import create_token
from lodeline.trace import keys
from lodeline.trace.chain_setup import document_bytes, register
from lodeline.trace.generator import lithium_chain

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

CAPTURE = "/epcis/capture"
WRITE_TABLES = (db.documents, db.events, db.lots, db.lot_sources, db.balances, db.claims, db.lot_movements)


@pytest.fixture
def api(engine: Engine) -> Iterator[tuple[TestClient, object, dict, dict]]:
    chain = lithium_chain()
    private = register(engine, chain)
    tokens = {
        pid: create_token(engine, f"{pid}-acct", "participant", pid)[1] for pid, _, _ in chain.participants
    }
    app = create_app(engine, ApiSettings(rate_per_second=0, anonymous_rate_per_second=0))  # type: ignore[call-arg]
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client, chain, private, tokens


def _rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in WRITE_TABLES}


def _post(client: TestClient, token: str, data: bytes, signature: str | bytes):
    headers = {"Authorization": f"Bearer {token}", "Lodeline-Signature": signature}
    return client.post(CAPTURE, content=data, headers={**headers, "Content-Type": "application/json"})


def _miner_document(chain) -> tuple[str, bytes]:
    pid, doc = chain.documents[0]  # commission 1,000 t at the Pilbara mine, ship it to the converter
    return pid, document_bytes(doc)


@pytest.mark.parametrize(
    ("literal", "code"),
    [
        ("NaN", "epcis-not-json"),
        ("Infinity", "epcis-not-json"),
        ("1e400", "ledger-bad-quantity"),
        ("1e308", "ledger-bad-quantity"),
        ("5e-324", "ledger-bad-quantity"),
        ("-5", "ledger-bad-quantity"),
    ],
)
def test_bad_quantities_get_422_on_both_backends(engine: Engine, api, literal: str, code: str) -> None:
    client, chain, private, tokens = api
    pid, data = _miner_document(chain)
    # the shipment's quantity (the event that made a stock row vanish on PostgreSQL with NaN)
    head, _, tail = data.rpartition(b'"quantity":1000000')
    bad = head + b'"quantity":' + literal.encode() + tail
    response = _post(client, tokens[pid], bad, keys.sign(private[pid], bad))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == code
    if code == "ledger-bad-quantity":
        assert body["issues"][0]["index"] == 1 and body["issues"][0]["field"] == "quantityList[0].quantity"
    assert _rows(engine) == dict.fromkeys(_rows(engine), 0)
    # and the good document still goes through afterwards
    good = _post(client, tokens[pid], data, keys.sign(private[pid], data))
    assert good.status_code == 202, good.text


@pytest.mark.parametrize("header", ["é".encode("latin-1"), "日本".encode(), b"abc\xff", b"\x7f\x01"])
def test_a_non_ascii_signature_header_is_a_4xx(engine: Engine, api, header: bytes) -> None:
    client, chain, _private, tokens = api
    pid, data = _miner_document(chain)
    response = _post(client, tokens[pid], data, header)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["code"] in ("invalid-argument", "bad-signature")
    assert _rows(engine)["trace_events"] == 0


def test_deeply_nested_documents_are_422_not_500(engine: Engine, api) -> None:
    client, chain, private, tokens = api
    pid, data = _miner_document(chain)
    for depth in (40, 5_000, 200_000):
        nested = data.replace(b'"ilmd":{', b'"ilmd":{"lodeline:x":' + b"[" * depth + b"]" * depth + b",", 1)
        if len(nested) > 1_000_000:
            nested = b'{"a":' * (depth // 5) + b"1" + b"}" * (depth // 5)
        response = _post(client, tokens[pid], nested, keys.sign(private[pid], nested))
        assert response.status_code == 422, (depth, response.text[:300])
        assert response.json()["code"] == "epcis-too-deep"


def test_a_megabyte_of_junk_is_rejected_quickly_with_a_short_report(engine: Engine, api) -> None:
    client, chain, private, tokens = api
    pid, doc = chain.documents[0]
    doc = json.loads(document_bytes(doc))
    doc["epcisBody"]["eventList"] = [{f"junk{i}": i} for i in range(47_500)]
    junk = document_bytes(doc)
    assert 900_000 < len(junk) < 1_048_576
    started = time.perf_counter()
    response = _post(client, tokens[pid], junk, keys.sign(private[pid], junk))
    elapsed = time.perf_counter() - started
    assert response.status_code == 422
    assert elapsed < 15, f"{elapsed:.1f} s"
    assert len(response.content) < 100_000
    issues = response.json()["issues"]
    assert len(issues) == 101 and issues[-1]["code"] == "too-many-issues"


def test_cli_names_the_problem_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from lodeline.cli.main import app
    from lodeline.config import get_settings
    from lodeline.errors import LodelineError

    monkeypatch.setenv("LODELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    get_settings.cache_clear()
    runner = CliRunner()
    chain = lithium_chain()
    data = document_bytes(chain.documents[0][1])
    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    cases = {
        "nan.json": (data.replace(b'"quantity":1000000', b'"quantity":NaN', 1), "epcis-not-json"),
        "huge.json": (data.replace(b'"quantity":1000000', b'"quantity":1e308', 1), "ledger-bad-quantity"),
        "deep.json": (deep, "epcis-too-deep"),
    }
    for name, (content, code) in cases.items():
        (tmp_path / name).write_bytes(content)
        commands = [["trace", "validate", str(tmp_path / name)]]
        if code != "ledger-bad-quantity":  # `trace hash` parses but does not validate
            commands.append(["trace", "hash", str(tmp_path / name)])
        for args in commands:
            result = runner.invoke(app, args)
            # a LodelineError is what the entry point prints as one line with exit status 2
            assert isinstance(result.exception, LodelineError), (name, args, result.exception)
            assert result.exception.code == code
    # capture with a signature file that is not ASCII: named, not a crash
    key = tmp_path / "k"
    assert runner.invoke(app, ["trace", "keygen", str(key)]).exit_code == 0
    pid = chain.participants[0][0]
    add = [
        "trace",
        "participant",
        "add",
        pid,
        "--name",
        "P",
        "--role",
        "miner",
        "--public-key",
        f"@{key}.pub",
    ]
    assert runner.invoke(app, add).exit_code == 0
    (tmp_path / "doc.json").write_bytes(data)
    (tmp_path / "doc.json.sig").write_bytes("signé".encode())
    result = runner.invoke(app, ["trace", "capture", str(tmp_path / "doc.json"), "--participant", pid])
    assert isinstance(result.exception, LodelineError) and result.exception.code == "bad-signature"
    # the real entry point on the deepest document: one line naming the code, exit 2, no traceback
    exe = Path(sys.executable).with_name("lodeline")
    env = {**os.environ, "LODELINE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}
    run = subprocess.run(
        [str(exe), "trace", "validate", str(tmp_path / "deep.json")], capture_output=True, text=True, env=env
    )
    assert run.returncode == 2 and "epcis-too-deep" in run.stderr and "Traceback" not in run.stderr
