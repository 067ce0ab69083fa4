"""``lodeline trace``: validate, hash and capture EPCIS 2.0 documents; participants, facilities, origin shares."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import polars as pl
import typer

from lodeline.cli.inputs import read_bytes, read_text
from lodeline.cli.output import Format, check_out_path, emit
from lodeline.cli.trace_capture import capture_command
from lodeline.cli.trace_log import register_log_commands
from lodeline.trace.epcis import document_events, load_and_validate
from lodeline.trace.event_hash import hash_id

FORMAT_HELP = "table, csv, json, parquet or xlsx"

app = typer.Typer(no_args_is_help=True)
register_log_commands(app)  # checkpoint, prove, verify, audit, vkey (the Merkle log's commands)
app.command("capture")(capture_command)


@app.command()
def validate(file: Path = typer.Argument(..., help="EPCIS 2.0 JSON/JSON-LD document")) -> None:
    """Validate an EPCISDocument or EPCISQueryDocument against the GS1 EPCIS 2.0 JSON Schema (read as JSON-LD)
    and the registry's profile (no store): quantities, attributes, identifier lengths, no eventTime in the future.
    Exit 0 if valid, 1 with every problem listed if not. Capture takes EPCISDocument only."""
    from lodeline.trace.capture import check_event_times

    doc = load_and_validate(read_bytes(file, "document"), file=str(file))
    check_event_times(doc, file=str(file))
    n = len(document_events(doc))
    kind = "query document" if doc["type"] == "EPCISQueryDocument" else "document"
    typer.echo(f"{file}: valid EPCIS 2.0 {kind}, {n} event(s)")


@app.command("hash")
def hash_cmd(
    file: Path = typer.Argument(..., help="EPCIS 2.0 JSON/JSON-LD document"),
    prehash: bool = typer.Option(
        False, "--prehash", metavar="", help="print the canonical pre-hash strings instead"
    ),
) -> None:
    """Print each event's EPCIS Event Hash ID (CBV 2.0 §8.9), one per line: the events of an EPCISDocument
    (epcisBody.eventList) or of an EPCISQueryDocument (epcisBody.queryResults.resultsBody.eventList)."""
    from lodeline.trace.epcis import parse_document
    from lodeline.trace.errors import EventIssue, TraceError
    from lodeline.trace.event_hash import carries_events, document_prehashes

    doc = parse_document(read_bytes(file, "document"), file=str(file))
    if not carries_events(doc):
        reason = "no event list: expected epcisBody.eventList or epcisBody.queryResults.resultsBody.eventList"
        raise TraceError([EventIssue(code="epcis-no-events", reason=reason)], file=str(file))
    prehashes = document_prehashes(doc)
    for line in prehashes if prehash else [hash_id(p) for p in prehashes]:
        typer.echo(line)


def _json(obj: object) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))


# --- keys -----------------------------------------------------------------------------------------------------


@app.command()
def keygen(
    out: Path = typer.Argument(..., help="path prefix: writes PREFIX.key (private, 0600) and PREFIX.pub"),
) -> None:
    """Generate an Ed25519 key pair for a participant."""
    from lodeline.errors import InvalidArgumentError
    from lodeline.trace import keys

    if not out.name or out.name == "..":
        raise InvalidArgumentError(f"{str(out)!r} is not a path prefix: give one such as keys/pilbara")
    key_path, pub_path = out.with_name(out.name + ".key"), out.with_name(out.name + ".pub")
    try:
        if key_path.exists() or pub_path.exists():
            raise InvalidArgumentError(
                f"{key_path} or {pub_path} already exists; refusing to overwrite a key"
            )
        private = keys.generate()
        keys.write_private(private, key_path)
        pub = keys.public_b64(private)
        pub_path.write_text(pub + "\n", encoding="ascii")
    except OSError as exc:
        raise InvalidArgumentError(
            f"{exc.filename or out}: cannot write the key ({exc.strerror or exc})", file=str(out)
        ) from exc
    typer.echo(
        f"private key: {key_path} (mode 0600)\npublic key:  {pub_path}\n{pub}\nkey id: {keys.key_id(pub)}"
    )


@app.command()
def sign(
    file: Path = typer.Argument(..., help="document to sign"),
    key: Path = typer.Option(..., "--key", help="PEM private key written by `lodeline trace keygen`"),
    out: Path | None = typer.Option(None, "--out", help="signature file (default FILE.sig)"),
    jws: bool = typer.Option(
        False, "--jws", metavar="", help="write a detached JWS (EdDSA, RFC 7797 unencoded payload)"
    ),
) -> None:
    """Write a detached Ed25519 signature (base64, or a detached JWS) over the document's exact bytes."""
    from lodeline.trace import keys

    target = out or file.with_name(file.name + ".sig")
    check_out_path(target)
    private, data = keys.read_private(key), read_bytes(file, "document")
    signature = keys.sign_jws(private, data) if jws else keys.sign(private, data)
    target.write_text(signature + "\n", encoding="ascii")
    typer.echo(f"signature: {target}")


def _public_key(value: str) -> str:
    if value.startswith("@"):
        return read_text(Path(value[1:]), "public key").strip()
    return value.strip()


# --- participants ---------------------------------------------------------------------------------------------

participant_app = typer.Typer(no_args_is_help=True, help="Participants and their Ed25519 keys.")
app.add_typer(participant_app, name="participant")


@participant_app.command("add")
def participant_add(
    pid: str = typer.Argument(..., help="participant id"),
    name: str = typer.Option(..., "--name", help="the participant's legal or trading name"),
    role: str = typer.Option(..., "--role", help="miner|refiner|trader|manufacturer|recycler|auditor"),
    public_key: str = typer.Option(..., "--public-key", help="base64 Ed25519 public key, or @FILE.pub"),
    company_prefix: list[str] = typer.Option(
        [],
        "--company-prefix",
        help="GS1 company prefix (6-12 digits) the participant creates lots under; repeatable",
    ),
) -> None:
    """Register a participant with its first public key and its GS1 company prefixes."""
    from lodeline.store.engine import get_engine
    from lodeline.trace import parties

    kid = parties.add_participant(get_engine(), pid, name, role, _public_key(public_key), company_prefix)
    bound = f"; company prefixes {', '.join(company_prefix)}" if company_prefix else ""
    typer.echo(f"participant {pid} registered; key id {kid}{bound}")


@participant_app.command("add-prefix")
def participant_add_prefix(
    pid: str = typer.Argument(..., help="participant id"),
    prefix: str = typer.Argument(..., help="GS1 company prefix, 6-12 digits"),
) -> None:
    """Bind one more GS1 company prefix to a participant (a prefix belongs to one participant; none may nest)."""
    from lodeline.store.engine import get_engine
    from lodeline.trace import parties

    parties.add_company_prefix(get_engine(), pid, prefix)
    typer.echo(f"company prefix {prefix.strip()} bound to participant {pid}")


@participant_app.command("list")
def participant_list(fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP)) -> None:
    """List participants with their key counts and GS1 company prefixes."""
    from lodeline.store.engine import get_engine
    from lodeline.trace import parties

    rows = parties.list_participants(get_engine())
    columns = ["id", "name", "role", "keys", "active_keys", "company_prefixes", "created_at"]
    emit(_frame(rows, columns), fmt, title="Participants")


@participant_app.command("keys")
def participant_keys(
    pid: str = typer.Argument(..., help="participant id"),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
) -> None:
    """List a participant's keys with validity and revocation times."""
    from lodeline.store.engine import get_engine
    from lodeline.trace import parties

    rows = parties.participant_keys(get_engine(), pid)
    emit(_frame(rows, ["key_id", "public_key", "valid_from", "revoked_at", "revocation_reason"]), fmt)


@participant_app.command("rotate-key")
def participant_rotate(
    pid: str = typer.Argument(..., help="participant id"),
    public_key: str = typer.Option(..., "--public-key", help="new base64 public key, or @FILE.pub"),
    revoke_old: bool = typer.Option(
        False, "--revoke-old", metavar="", help="revoke the participant's other keys now"
    ),
) -> None:
    """Add a new key to a participant (optionally revoking the old ones)."""
    from lodeline.store.engine import get_engine
    from lodeline.trace import parties

    kid = parties.rotate_key(get_engine(), pid, _public_key(public_key), revoke_old=revoke_old)
    typer.echo(f"participant {pid}: new key {kid}" + (" (older keys revoked)" if revoke_old else ""))


@participant_app.command("revoke-key")
def participant_revoke(
    pid: str = typer.Argument(..., help="participant id"),
    key_id: str = typer.Argument(..., help="key id (see `lodeline trace participant keys`)"),
    at: str | None = typer.Option(None, "--at", help="revocation time, ISO 8601 (default now)"),
    reason: str | None = typer.Option(None, "--reason", help="why the key is revoked (recorded in the log)"),
) -> None:
    """Revoke a key: nothing it signs is accepted after the revocation time."""
    from datetime import UTC, datetime

    from lodeline.errors import InvalidArgumentError
    from lodeline.store.engine import get_engine
    from lodeline.trace import parties

    when = None
    if at:
        try:
            when = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidArgumentError(f"--at {at!r}: not an ISO 8601 time") from exc
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    parties.revoke_key(get_engine(), pid, key_id, at=when, reason=reason)
    typer.echo(f"key {key_id} of {pid} revoked")


# --- facilities -----------------------------------------------------------------------------------------------

facility_app = typer.Typer(no_args_is_help=True, help="Facilities, their custody model and certifications.")
app.add_typer(facility_app, name="facility")


@facility_app.command("add")
def facility_add(
    fid: str = typer.Argument(..., help="GLN (13 digits), SGLN URN or URI"),
    name: str = typer.Option(..., "--name", help="the facility's name"),
    facility_type: str = typer.Option(
        ..., "--type", help="mine|concentrator|refinery|smelter|precursor_plant|…"
    ),
    country: str = typer.Option(..., "--country", help="ISO 3166 alpha-3 code or name"),
    operator: str = typer.Option(..., "--operator", help="operating participant id"),
    lat: float | None = typer.Option(None, "--lat", help="latitude, decimal degrees (WGS 84)"),
    lon: float | None = typer.Option(None, "--lon", help="longitude, decimal degrees (WGS 84)"),
    custody_model: str = typer.Option("segregated", "--custody-model", help="segregated|mass_balance"),
    cert: list[str] = typer.Option([], "--cert", help="SCHEME[:CERTIFICATE]:FROM:TO, repeatable"),
) -> None:
    """Register a facility."""
    from lodeline.store.engine import get_engine
    from lodeline.trace import parties

    canonical = parties.add_facility(
        get_engine(),
        fid,
        name=name,
        facility_type=facility_type,
        country=country,
        operator=operator,
        latitude=lat,
        longitude=lon,
        custody_model=custody_model,
        certs=cert,
    )
    typer.echo(f"facility {canonical} registered")


@facility_app.command("list")
def facility_list(fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP)) -> None:
    """List facilities."""
    from lodeline.store.engine import get_engine
    from lodeline.trace import parties

    rows = parties.list_facilities(get_engine())
    cols = ["id", "name", "facility_type", "country", "operator_id", "custody_model", "latitude", "longitude"]
    emit(_frame(rows, cols), fmt, title="Facilities")


@facility_app.command("show")
def facility_show(fid: str = typer.Argument(..., help="GLN (13 digits), SGLN URN or URI")) -> None:
    """Show one facility with its certifications (JSON)."""
    from lodeline.store.engine import get_engine
    from lodeline.trace import parties

    _json(parties.show_facility(get_engine(), fid))


# --- origin and benchmark ----------------------------------------------------------------------------------------


class OriginBy(StrEnum):
    all = "all"
    facility = "facility"
    country = "country"
    certification = "certification"
    recycled = "recycled"


@app.command()
def trail(
    lot: str = typer.Argument(..., help="lot epcClass (LGTIN URN or Digital Link) or its lot number"),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
    out: Path | None = typer.Option(None, "--out", help="write CSV/JSON/Parquet/XLSX here instead of stdout"),
) -> None:
    """A lot's custody trail: every event that produced, shipped, received or consumed it, in time order."""
    check_out_path(out)
    from lodeline.store import registry_reads
    from lodeline.store.engine import get_engine
    from lodeline.trace.registry_service import find_lot

    engine = get_engine()
    lot_id, _ = find_lot(engine, lot)
    with engine.connect() as conn:
        rows = registry_reads.lot_trail(conn, lot_id)
    columns = ["event_time", "movement", "quantity_kg", "facility", "country", "counterpart", "biz_step"]
    if fmt is not Format.table:  # the identifiers make a terminal table unreadable; the files carry them
        columns += ["event_type", "facility_id", "hash_id", "leaf_index"]
    emit(_frame(rows, columns), fmt, out=out, title=f"custody trail of {lot_id} (gross kg)")


@app.command()
def origin(
    lot: str = typer.Argument(..., help="lot epcClass (LGTIN URN or Digital Link) or its lot number"),
    by: OriginBy = typer.Option(
        OriginBy.all,
        "--by",
        help="group the shares by facility, country, certification or recycled content (all: every grouping)",
    ),
    through: str | None = typer.Option(
        None, "--through", help="share of the path through a facility or country"
    ),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
) -> None:
    """Origin shares of a lot (contained metal, mass-weighted through every upstream transformation)."""
    from lodeline.store.engine import get_engine
    from lodeline.trace.origin import origin_report

    report = origin_report(get_engine(), lot, through=through)
    sections = {
        "facility": "by_facility",
        "country": "by_country",
        "certification": "by_certification",
        "recycled": "recycled",
    }
    if fmt is Format.json:
        if by is not OriginBy.all:
            keep = {
                "lot",
                "mineral",
                "material",
                "contained_metal_kg",
                "upstream_lots",
                "through",
                "opening_stock_share",
                "opening_stock",
                sections[by],
            }
            report = {k: v for k, v in report.items() if k in keep}
        _json(report)
        return
    typer.echo(
        f"lot {report['lot']} — {report['material']}, {report['contained_metal_kg']:,.1f} kg "
        f"{report['mineral']}, {report['upstream_lots']} upstream lots"
    )
    for key, section in sections.items():
        if by in (OriginBy.all, OriginBy(key)):
            emit(_frame(report[section], list(report[section][0]) if report[section] else []), fmt, title=key)
    if "through" in report:
        typer.echo(f"share of the upstream path through {through}: {report['through']['share']:.4f}")
    if report["opening_stock_share"] > 0:
        typer.echo(
            f"flag: {report['opening_stock_share']:.4f} of the metal rests on declared opening stock "
            "(entered the registry without an originating facility):"
        )
        for row in report["opening_stock"]:
            typer.echo(f"  {row['share']:.4f} from lot {row['lot']} at {row['facility']}: {row['reason']}")


def _frame(rows: list[dict], columns: list[str]) -> pl.DataFrame:
    return (
        pl.DataFrame([{c: r.get(c) for c in columns} for r in rows], schema=None)
        if rows
        else pl.DataFrame({c: [] for c in columns})
    )
