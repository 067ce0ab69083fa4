"""``lodeline passport issue|verify|events|list``: digital product passports of registry lots (docs/passports.md).

``issue`` acts on the local store as the participant given by ``--participant``, signing with that participant's
private key file (``--key``, written by ``lodeline trace keygen``); ``verify`` runs offline on a passport file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from lodeline.cli.inputs import read_bytes, read_json, read_text
from lodeline.cli.output import check_out_path
from lodeline.errors import InvalidArgumentError
from lodeline.inputs import is_file
from lodeline.services import passports as service
from lodeline.store.engine import get_engine
from lodeline.trace import keys

app = typer.Typer(no_args_is_help=True)

#: a passport with its proofs for thousands of upstream events is a few MB; larger is refused
MAX_PASSPORT_BYTES = 64 * 1024 * 1024


def _write(doc: Any, out: Path | None) -> None:
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


def _verdicts(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        return []
    value = read_json(path, "verdicts")
    if not isinstance(value, list):
        raise InvalidArgumentError(f"{path}: verdicts must be a JSON list of verdict records", file=str(path))
    return value


@app.command("issue")
def issue_command(
    lot: str = typer.Argument(..., help="The lot (Digital Link URI, EPC URN or a unique lot number)."),
    participant: str = typer.Option(
        ..., "--participant", "-p", help="The issuing participant (the producer)."
    ),
    key: Path = typer.Option(
        ..., "--key", help="The participant's PEM private key (`lodeline trace keygen`)."
    ),
    profile: str = typer.Option("untp-dpp", "--profile", help="untp-dpp | battery-pass"),
    verdicts: Path | None = typer.Option(
        None,
        "--verdicts",
        help="JSON list of rule verdict records (rule, verdict, leaf_index, …) to declare.",
    ),
    rules: list[str] = typer.Option(
        [],
        "--rules",
        help="Check the lot against this rule set now (`lodeline comply rules`; repeatable) and declare its "
        "verdicts, each logged.",
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the passport here (default: stdout)."),
) -> None:
    """Issue, sign and store the lot's passport (UNTP DPP as a W3C VC with an eddsa-jcs-2022 proof and the log's
    inclusion proofs); its digest becomes a leaf of the registry's log."""
    check_out_path(out)
    doc = service.issue(
        get_engine(),
        lot,
        participant=participant,
        private_key=keys.read_private(key),
        profile=profile,
        verdicts=_verdicts(verdicts),
        rulesets=rules,
    )
    _write(doc, out)


def _vkeys(value: str | None) -> list[str]:
    if value is None:
        return []
    path = Path(value)
    text = read_text(path, "verifier key") if is_file(path) else value
    return [line.strip() for line in text.splitlines() if line.strip()]


@app.command("verify")
def verify_command(
    file: Path = typer.Argument(..., help="The passport (JSON) to verify."),
    vkey: str | None = typer.Option(
        None,
        "--vkey",
        "-k",
        help="Registry verifier key (<name>+<id>+<key>) or a file holding one per line. "
        "Default: the public half of this machine's registry key.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Verify a passport offline: credential signature, checkpoint signature, every inclusion proof, the issuer's
    key, the evidence, the shares and the due-diligence verdicts. Exit 0 if every check passes, 1 otherwise,
    naming the check that failed."""
    doc = service.parse_document(read_bytes(file, "passport", limit=MAX_PASSPORT_BYTES), str(file))
    keys_ = _vkeys(vkey)
    report = service.verify_document(doc, service.verifiers(None if keys_ else get_engine(), keys_))
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        for check in report["checks"]:
            typer.echo(f"{check['status']:7} {check['check']:22} {check['detail']}")
        typer.echo("valid" if report["valid"] else f"INVALID: failed {', '.join(report['failed'])}")
    if not report["valid"]:
        raise typer.Exit(1)


@app.command("events")
def events_command(
    lot: str = typer.Argument(..., help="The lot."),
    upstream: bool = typer.Option(False, "--upstream", help="Also the events of every lot upstream of it."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here (default: stdout)."),
) -> None:
    """The lot's stored EPCIS events as a UNTP Digital Traceability Event credential (JSON-LD)."""
    check_out_path(out)
    _write(service.events(get_engine(), lot, upstream=upstream), out)


@app.command("list")
def list_command(lot: str = typer.Argument(..., help="The lot.")) -> None:
    """The passports issued for a lot (newest first)."""
    for p in service.of_lot(get_engine(), lot):
        typer.echo(f"{p['id']}  {p['profile']:12} {p['issuer']:24} {p['issued_at']}  leaf {p['leaf_index']}")
