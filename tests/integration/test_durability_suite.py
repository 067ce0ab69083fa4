"""Durability of the real service on both backends (issue 10): ``lodeline serve`` in a child process, several
clients with different roles writing and reading at once, CLI writers in their own processes, and SIGTERM or
SIGKILL at seeded random moments, round after round. Afterwards every acknowledged capture (202), submission (201),
audit row, token, session and CLI-registered facility must be in the store, ``lodeline trace audit`` must pass, and
the signed checkpoints must form one chain: each verifies, one root per size, sizes in order, each extends the one
before (consistency proof), and every checkpoint a client was served is the store's tree at that size.

Seed: ``LODELINE_DURABILITY_SEED`` (default 10); the seed is named in every failure message."""

from __future__ import annotations

import base64
import itertools
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from crash import LODELINE
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from durability_harness import Server
from durability_workload import (
    Doc,
    Ledger,
    auditor,
    browser,
    cli_facility,
    cli_token,
    member,
    participant,
    reader,
    run_clients,
    synthetic_docs,
)
from sqlalchemy import Engine, func, select

from lodeline.config import RAW_DATA_DIR
from lodeline.data.build import build
from lodeline.store import trace as db
from lodeline.store import tracelog
from lodeline.store.accounts import audit_log, authenticate_token, select_submissions, session_principal
from lodeline.store.accounts import create_token as make_token
from lodeline.store.engine import make_engine
from lodeline.trace import log, parties
from lodeline.trace.chain_setup import register
from lodeline.trace.checkpoint import open_checkpoint, parse_vkey
from lodeline.trace.generator import Chain
from lodeline.trace.proof_verify import ProofError, verify_consistency_document
from lodeline.trace.synthetic import synthetic_chain

SEED = int(os.environ.get("LODELINE_DURABILITY_SEED", "10"))
# Each round starts the server, runs the clients and one CLI writer, and ends in a signal at a seeded moment: one
# SIGKILL, one SIGTERM and a third drawn from the two, in a seeded order. The CLI writers register a facility in the
# first two rounds (its capture is sent in that round or the next) and create an admin token in the last.
ROUNDS = 3
TRAFFIC_SECONDS = (1.5, 4.0)  # how long the clients run before the signal (seeded uniform draw)


def _setup(engine: Engine) -> tuple[Chain, Iterator[Doc], Ed25519PrivateKey, dict[str, str]]:
    """The bundled data, the synthetic chain's participant and facilities, and a token per role."""
    build(engine, RAW_DATA_DIR)
    chain, documents = synthetic_chain(100_000, units_per_document=4)
    private = register(engine, chain)
    operator = chain.participants[0][0]
    tokens = {
        "participant": make_token(engine, "dur-participant", "participant", operator)[1],
        "member": make_token(engine, "dur-member", "member", "DEU")[1],
        "auditor": make_token(engine, "dur-auditor", "auditor")[1],
        "browser": make_token(engine, "dur-browser", "member", "FRA")[1],
    }
    return chain, synthetic_docs(documents), private[operator], tokens


def _round(env: dict[str, str], tmp: Path, ledger: Ledger, roles: list, cli: threading.Thread,
           seconds: float, sig: int) -> None:  # fmt: skip
    server = Server(env, tmp / "serve.log").start()
    cli.start()  # its process starts up (seconds) while the server warms up, and writes while it serves
    # A market read first (the columnar path: before the fix it deleted the WAL under the server), so every round
    # writes after one, whatever the load on the machine makes of the clients' own pace.
    warm = httpx.get(f"{server.base}/api/v1/minerals", timeout=120)
    if warm.status_code != 200:
        ledger.failures.append(f"first market read: {warm.status_code} {warm.text[:300]}")
    stop = threading.Event()
    threads = run_clients(server.base, [make() for make in roles], stop, ledger)
    time.sleep(seconds)
    server.stop(sig)  # while the clients are mid-request
    stop.set()
    for t in threads:
        t.join(timeout=60)
    cli.join(timeout=180)


def _check(url: str, env: dict[str, str], ledger: Ledger) -> None:
    """Every problem found, named, in one failure message (with the seed)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            stored_docs = set(conn.execute(select(db.documents.c.sha256)).scalars())
            stored_events = set(conn.execute(select(db.events.c.hash_id)).scalars())
            audit = {int(i): str(e) for i, e in conn.execute(select(audit_log.c.id, audit_log.c.event))}
            logins = conn.execute(select(func.count()).where(audit_log.c.event == "login.ok")).scalar_one()
            history = tracelog.checkpoints(conn)
            tree = log.tree_size(conn)
            directory_leaves = len(tracelog.leaves_starting_with(conn, b"{", tree))  # the registration's
            served_sizes = {int(c["tree_size"]) for c in ledger.checkpoints if c["tree_size"] <= tree}
            roots = {size: log.root_at(conn, size) for size in served_sizes}
            sizes = sorted({int(row["tree_size"]) for row in history if row["tree_size"] <= tree})
            proofs = {
                (a, b): log.consistency_proof(conn, a, b) for a, b in itertools.pairwise(sizes) if a > 0
            }
        problems = [f"a response no crash explains: {f}" for f in ledger.failures[:10]]
        lost = (set(ledger.captures) | ledger.replayed) - stored_docs
        problems += [f"{len(lost)} of {len(ledger.captures)} acknowledged captures lost"] if lost else []
        acked_events = {h for hashes in ledger.captures.values() for h in hashes}
        if not acked_events <= stored_events:
            problems.append(f"{len(acked_events - stored_events)} acknowledged events lost")
        if tree != len(stored_events) + directory_leaves:
            problems.append(
                f"log size {tree} != {len(stored_events)} stored events + {directory_leaves} directory leaves"
            )
        stored_subs = {r["id"]: r["note"] for r in select_submissions(engine, None)}
        lost_subs = [i for i, note in ledger.submissions.items() if stored_subs.get(i) != note]
        problems += [f"{len(lost_subs)} acknowledged submissions lost"] if lost_subs else []
        lost_audit = [i for i, event in ledger.audit_rows.items() if audit.get(i) != event[0]]
        problems += [f"{len(lost_audit)} audit rows read before a crash are gone"] if lost_audit else []
        if logins < len(ledger.sessions):
            problems.append(f"{len(ledger.sessions)} logins acknowledged, {logins} login.ok audit rows")
        lost_sessions = [s for s in ledger.sessions if session_principal(engine, s) is None]
        problems += [f"{len(lost_sessions)} browser sessions lost"] if lost_sessions else []
        problems += [f"token {i} lost" for i, t in ledger.tokens if authenticate_token(engine, t) is None]
        registered = {f["id"] for f in parties.list_facilities(engine)}
        problems += [
            f"facility {g} lost" for g in ledger.facilities if parties.facility_id(g) not in registered
        ]
    finally:
        engine.dispose()
    problems += _chain_problems(history, ledger, roots, proofs, tree)
    if (len(ledger.tokens), len(ledger.facilities)) != (1, ROUNDS - 1):
        problems.append(f"CLI writes: {len(ledger.tokens)} tokens, {len(ledger.facilities)} facilities")
    if not ledger.seen_facility_docs or [d for d in ledger.pending if d.new_facility]:
        problems.append("the server never accepted a capture at a facility the CLI registered")
    if not (
        ledger.captures
        and ledger.submissions
        and ledger.sessions
        and ledger.audit_rows
        and ledger.checkpoints
    ):
        problems.append(f"the workload had too few acknowledgements to test anything: {dict(ledger.counts)}")
    audited = subprocess.run(
        [*LODELINE, "trace", "audit"], env=env, capture_output=True, text=True, timeout=300
    )
    if audited.returncode != 0:
        problems.append(f"trace audit failed:\n{audited.stdout[-1500:]}{audited.stderr[-1500:]}")
    assert problems == [], f"seed {SEED}: " + "\n".join(problems)


def _chain_problems(
    history: list[dict[str, Any]],
    ledger: Ledger,
    roots: dict[int, bytes],
    proofs: dict[tuple[int, int], list[bytes]],
    tree: int,
) -> list[str]:
    """One consistent chain of signed checkpoints, and every served checkpoint is the store's tree at its size."""
    problems = []
    vkeys = {c["vkey"] for c in ledger.checkpoints}
    if len(vkeys) != 1:
        return [f"the served checkpoints name {len(vkeys)} registry keys"]
    verifier = parse_vkey(vkeys.pop())
    opened = [open_checkpoint(row["note"], [verifier]) for row in history]  # each verifies, or this raises
    by_size: dict[int, set[bytes]] = {}
    for cp in opened:
        by_size.setdefault(cp.tree_size, set()).add(cp.root_hash)
    problems += [f"two roots signed for size {n}: a fork" for n, r in by_size.items() if len(r) > 1]
    sizes = [cp.tree_size for cp in opened]
    if sizes != sorted(sizes) or (sizes and sizes[-1] > tree):
        problems.append(
            f"checkpoint sizes {sizes} out of order or beyond the log ({tree} leaves): a rollback"
        )
        return problems
    for old, new, old_row, new_row in zip(opened, opened[1:], history, history[1:], strict=False):
        if 0 < old.tree_size < new.tree_size:
            path = proofs[old.tree_size, new.tree_size]
            proof = {
                "format": log.CONSISTENCY_FORMAT,
                "origin": new.origin,
                "old_size": old.tree_size,
                "new_size": new.tree_size,
                "consistency_path": [base64.b64encode(p).decode() for p in path],
            }
            try:
                verify_consistency_document(proof, old_row["note"], new_row["note"], [verifier])
            except ProofError as exc:
                problems.append(f"checkpoint {new.tree_size} does not extend {old.tree_size}: {exc}")
    for size, root in sorted({(c["tree_size"], bytes.fromhex(c["root_hash"])) for c in ledger.checkpoints}):
        if by_size.get(size) != {root}:
            problems.append(f"the checkpoint served at size {size} is not the one in the history")
        if roots.get(size) != root:
            problems.append(f"the store's tree at size {size} is not the checkpoint served at that size")
    return problems


@pytest.mark.slow
@pytest.mark.timeout(300)  # ~40–80 s per backend on the reference VM; a hang fails instead of stalling CI
def test_acknowledged_writes_survive_sigterm_and_sigkill(store: tuple[str, Engine], tmp_path: Path) -> None:
    started = time.monotonic()
    url, engine = store
    chain, fresh, key, tokens = _setup(engine)
    backend = engine.dialect.name
    engine.dispose()
    env = {**os.environ, "LODELINE_DATABASE_URL": url, "LODELINE_DATA_DIR": str(tmp_path / "data")}
    ledger = Ledger()
    roles = [
        lambda: participant(ledger, fresh, key, tokens["participant"]),
        lambda: member(ledger, tokens["member"]),
        lambda: browser(ledger, tokens["browser"]),
        lambda: auditor(ledger, tokens["auditor"]),
        lambda: reader(ledger, ["/api/v1/minerals", "/api/v1/sources"]),
        lambda: reader(ledger, ["/api/v1/registry/checkpoint?format=json"]),
    ]
    rng = random.Random(SEED)
    signals = [signal.SIGKILL, signal.SIGTERM, rng.choice([signal.SIGKILL, signal.SIGTERM])]
    rng.shuffle(signals)
    destination = chain.facilities["conv0"]
    cli_jobs: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
        (cli_facility, (ledger, env, chain, 900 + n, destination)) for n in range(ROUNDS - 1)
    ]
    cli_jobs.append((cli_token, (ledger, env, ROUNDS)))
    for sig, (job, args) in zip(signals, cli_jobs, strict=True):
        cli = threading.Thread(target=job, args=args, daemon=True)
        _round(env, tmp_path, ledger, roles, cli, rng.uniform(*TRAFFIC_SECONDS), sig)
    _check(url, env, ledger)
    elapsed = time.monotonic() - started
    print(f"durability ({backend}, seed {SEED}): {elapsed:.0f} s, {len(ledger.captures)} captures, "
          f"{len(ledger.submissions)} submissions, {len(ledger.sessions)} sessions, {len(ledger.checkpoints)} "
          f"checkpoints served, {len(ledger.audit_rows)} audit rows read, signals {[s.name for s in signals]}, {dict(ledger.counts)}")  # fmt: skip
