"""Stock submissions in the store, on SQLite and PostgreSQL: versions and history, all-or-nothing files, the log leaf
of each version with its inclusion proof (checked by the offline verifier), the log audit accounting for stock
leaves and catching an altered stored document; and the CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.errors import NotFoundError
from lodeline.services import stocks as service
from lodeline.stockpiles import readers
from lodeline.stockpiles.submission import COLUMNS, EXAMPLE_ROW, SubmissionRejected
from lodeline.store import stocks as db
from lodeline.store import tracelog
from lodeline.store.engine import write_transaction
from lodeline.tlog import merkle
from lodeline.trace import signer
from lodeline.trace.audit import run_audit
from lodeline.trace.checkpoint import parse_vkey
from lodeline.trace.proof_verify import verify_inclusion_document

CSV = readers.template_csv()


def _csv(*rows: dict[str, str]) -> bytes:
    lines = [",".join(COLUMNS)] + [",".join(f'"{r.get(c, "")}"' for c in COLUMNS) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _counts(engine: Engine) -> tuple[int, int, int, int]:
    with engine.connect() as conn:
        return (
            *(int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in db.STOCK_TABLES),
            tracelog.tree_size(conn),
        )  # type: ignore[return-value]


def _submit(engine: Engine, data: bytes = CSV, member: str = "DEU") -> service.Accepted:
    return service.submit_file(
        engine, data, "csv", member=member, period="2026-Q3", submitted_by="t", source="f.csv"
    )


def test_amendment_is_a_new_version_and_history_is_kept(engine: Engine) -> None:
    first = _submit(engine)
    amended = _submit(engine, _csv({**EXAMPLE_ROW, "quantity_gross_t": "1500"}))
    assert (first.submission_id, first.version, first.leaf_index) == (1, 1, 0)
    assert (amended.submission_id, amended.version, amended.leaf_index) == (1, 2, 1)
    history = service.history(engine, 1, "DEU")
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert [v["leaf_index"] for v in history["versions"]] == [0, 1]
    # each version keeps its own figures: 1200 as first submitted, 1500 as amended
    assert service.show(engine, 1, "DEU", 1)["rows"][0]["quantity_gross_t"] == "1200"
    latest = service.show(engine, 1, "DEU")
    assert (latest["version"], latest["rows"][0]["quantity_gross_t"]) == (2, "1500")
    detail = db.version_detail(engine, 1)
    assert detail is not None
    # typed row: contained 1197.6 t, days of cover 0.125 × 365 = 45.625
    assert detail["rows"][0]["quantity_gross_t"] == 1500.0
    assert detail["rows"][0]["days_of_cover"] == pytest.approx(45.625)
    assert _counts(engine) == (1, 2, 2, 2)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mineral": "unobtainium"}, "mineral"),
        ({"quantity_gross_t": "-1"}, "quantity_gross_t"),
        ({"quantity_contained_t": "5000"}, "quantity_contained_t"),
        ({"period": ""}, "period"),
        ({"member": "FRA"}, "member"),
    ],
)
def test_a_bad_row_writes_nothing(engine: Engine, change: dict[str, str], field: str) -> None:
    _submit(engine)
    before = _counts(engine)
    good = {**EXAMPLE_ROW, "form": "cobalt hydroxide"}
    with pytest.raises(SubmissionRejected) as caught:
        _submit(engine, _csv(good, {**EXAMPLE_ROW, **change}))
    assert [(e.row, e.field) for e in caught.value.errors] == [(3, field)]
    assert _counts(engine) == before
    assert service.history(engine, 1, "DEU")["versions"][-1]["version"] == 1


def test_other_members_submission_is_not_found(engine: Engine) -> None:
    _submit(engine)
    for call in (service.show, service.history, service.prove):
        with pytest.raises(NotFoundError) as caught:
            call(engine, 1, "FRA")
        assert "1200" not in caught.value.message and "DEU" not in caught.value.message
    assert service.list_submissions(engine, "FRA") == []
    assert [s["member"] for s in service.list_submissions(engine, None)] == ["DEU"]


def test_leaf_proof_verifies_and_audit_accounts_for_stock_leaves(engine: Engine) -> None:
    _submit(engine)
    _submit(engine, _csv({**EXAMPLE_ROW, "quantity_gross_t": "1500"}))
    _submit(engine, member="FRA", data=_csv({**EXAMPLE_ROW, "member": "FRA"}))
    doc = service.prove(engine, 1, "DEU", 1)
    # the member recomputes the leaf from the document it was given
    document = doc["submission"]["document"].encode("utf-8")
    assert doc["leaf_data"] == "lodeline-stocks/v1:" + __import__("hashlib").sha256(document).hexdigest()
    assert json.loads(document)["rows"][0]["quantity_gross_t"] == "1200"
    assert doc["leaf_index"] == 0 and doc["tree_size"] == 3
    vkey = parse_vkey(signer.verifier_key(engine))
    result = verify_inclusion_document(doc, doc["checkpoint"], [vkey])
    assert (result.leaf_index, result.tree_size) == (0, 3)

    def no_events(_conn: object) -> list[tuple[int, bytes]]:
        return []

    with engine.connect() as conn:
        report = run_audit(conn, [vkey], leaf_source=no_events)
    assert report.ok, report.findings
    assert report.kind_leaves["stocks"] == 3

    # the secretariat (or anyone with database access) alters a stored figure: the audit names the leaf
    with write_transaction(engine) as conn:
        stored = conn.execute(
            select(db.stock_versions.c.document).where(db.stock_versions.c.id == 1)
        ).scalar_one()
        conn.execute(
            update(db.stock_versions)
            .where(db.stock_versions.c.id == 1)
            .values(document=stored.replace('"1200"', '"900"'))
        )
    with engine.connect() as conn:
        report = run_audit(conn, [vkey], leaf_source=no_events)
    assert [(f.kind, f.leaf_index) for f in report.findings] == [("stock-leaf-mismatch", 0)]
    # and the proof the member kept still verifies against the signed checkpoint: what it submitted stands
    assert verify_inclusion_document(doc, doc["checkpoint"], [vkey]).leaf_index == 0
    assert merkle.leaf_hash(doc["leaf_data"].encode()) == __import__("base64").b64decode(doc["leaf_hash"])


def test_cli_submit_list_history_show_template_prove(
    store: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = store
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    from lodeline.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    template = tmp_path / "t.csv"
    assert runner.invoke(app, ["stocks", "template", "-o", str(template)]).exit_code == 0
    assert template.read_bytes() == CSV
    xlsx = tmp_path / "t.xlsx"
    assert runner.invoke(app, ["stocks", "template", "-f", "xlsx", "-o", str(xlsx)]).exit_code == 0
    for path in (template, xlsx):
        result = runner.invoke(app, ["stocks", "submit", str(path), "--member", "DEU", "--period", "2026-Q3"])
        assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["stocks", "list", "-m", "DEU", "-f", "json"])
    assert json.loads(listed.stdout)[0]["latest_version"] == 2
    history = runner.invoke(app, ["stocks", "history", "-s", "1", "-m", "DEU", "-f", "csv"])
    assert history.stdout.splitlines()[0].startswith("version,submitted_at")
    shown = runner.invoke(app, ["stocks", "show", "-s", "1", "-m", "DEU", "-f", "json"])
    assert json.loads(shown.stdout)[0]["days_of_cover"] == "45.625"
    other = runner.invoke(app, ["stocks", "show", "-s", "1", "-m", "FRA"])
    assert other.exit_code != 0 and "1200" not in other.output
    proof, cp = tmp_path / "p.json", tmp_path / "cp.txt"
    result = runner.invoke(
        app, ["stocks", "prove", "-s", "1", "-m", "DEU", "-o", str(proof), "--checkpoint-out", str(cp)]
    )
    assert result.exit_code == 0, result.output
    verified = runner.invoke(app, ["trace", "verify", "--proof", str(proof), "--checkpoint", str(cp)])
    assert verified.exit_code == 0 and "verified: leaf 1" in verified.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes(CSV.replace(b"DEU,cobalt", b"DEU,unobtainium"))
    rejected = runner.invoke(app, ["stocks", "submit", str(bad), "-m", "DEU", "-p", "2026-Q3"])
    # the CLI's entry point maps this error to exit status 2 and its message (CliRunner returns the exception)
    assert isinstance(rejected.exception, SubmissionRejected)
    assert "row 2, field 'mineral'" in rejected.exception.message
    assert _counts(engine) == (1, 2, 2, 2)
    # the secretariat's token is made like any other (no organisation: it reads every member's submissions)
    made = runner.invoke(app, ["admin", "token", "create", "--account", "sec", "--role", "secretariat"])
    assert made.exit_code == 0, made.output
    assert "secretariat" in runner.invoke(app, ["admin", "token", "create", "--help"]).stdout
