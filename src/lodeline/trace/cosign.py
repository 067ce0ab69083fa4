"""The registry's side of witnessing: the witnesses it asks, collecting their cosignatures, serving cosigned notes.

**Collection** (:func:`collect`) asks every configured witness that has not cosigned a checkpoint yet, with the
C2SP tlog-witness ``add-checkpoint`` call: ``old`` is the size the witness last said it cosigned for this origin
(0 at first), with the store's RFC 9162 consistency proof from there. A witness that holds another size answers
409 with it; the registry then asks once more from that size. Requests go out in parallel, outside any database
transaction (no lock is held during network calls), each bounded by ``LODELINE_WITNESS_TIMEOUT`` seconds
(default 3) per round, two rounds at most. Every cosignature is verified against the witness's configured key
before it is stored. What each witness answered is kept on its row (``last_error``, its size).

**Serving** (:func:`cosigned_note`): the registry's signed note followed by the stored cosignature lines — a
C2SP checkpoint with extra signatures, which verifiers that do not know the witnesses simply ignore.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.store import tracelog_witnesses as store
from lodeline.store.engine import write_transaction
from lodeline.trace import cosignature, log
from lodeline.trace.witness_protocol import (
    SIZE_CONTENT_TYPE,
    WitnessRequestError,
    format_add_checkpoint,
    parse_cosignature_lines,
    parse_size,
)

TIMEOUT_ENV = "LODELINE_WITNESS_TIMEOUT"
DEFAULT_TIMEOUT = 3.0
MAX_ANSWER_BYTES = 64 * 1024


def timeout_seconds() -> float:
    raw = os.environ.get(TIMEOUT_ENV)
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError as exc:
        raise InvalidArgumentError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds") from exc
    if not 0 < value <= 60:
        raise InvalidArgumentError(f"{TIMEOUT_ENV}={raw!r}: must be between 0 and 60 seconds")
    return value


# --- configuration ------------------------------------------------------------------------------------------


def _check_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidArgumentError(
            f"witness URL {url!r} must be an http(s) URL prefix without query or fragment "
            "(the registry posts to <URL>/add-checkpoint)",
            url=url,
        )
    return url.strip().rstrip("/")


def add_witness(engine: Engine, url: str, vkey: str) -> tuple[cosignature.Cosigner, bool]:
    """Configure a witness (URL prefix and cosignature/v1 vkey); (its identity, True if new)."""
    witness = cosignature.parse_cosigner_vkey(vkey)
    with write_transaction(engine) as conn:
        new = store.add_witness(
            conn, name=witness.name, url=_check_url(url), vkey=witness.vkey, at=datetime.now(UTC)
        )
    return witness, new


def remove_witness(engine: Engine, name: str) -> None:
    with write_transaction(engine) as conn:
        if not store.remove_witness(conn, name):
            known = ", ".join(w["name"] for w in store.witnesses(conn)) or "none"
            raise NotFoundError(f"no witness named {name!r} (configured: {known})", name=name)


def list_witnesses(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return store.witnesses(conn)


# --- serving ------------------------------------------------------------------------------------------------


def cosignature_rows(conn: Connection, cp: log.StoredCheckpoint) -> list[dict[str, Any]]:
    return [
        {
            "witness": row["witness_name"],
            "key_id": row["key_id"],
            "timestamp": int(row["timestamp"]),
            "time": datetime.fromtimestamp(int(row["timestamp"]), UTC).isoformat(),
            "line": row["line"],
        }
        for row in store.cosignatures(conn, cp.checkpoint_id)
    ]


def cosigned_note(conn: Connection, cp: log.StoredCheckpoint) -> str:
    """The checkpoint's signed note followed by its stored cosignature lines."""
    return cp.note + "".join(row["line"] + "\n" for row in cosignature_rows(conn, cp))


# --- collection ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessOutcome:
    name: str
    cosigned: bool
    status: int | None  # the witness's HTTP status (None: no answer)
    detail: str
    witness_size: int | None = None  # the size the witness said it holds for this origin
    cosignature: cosignature.Cosignature | None = None


@dataclass(frozen=True)
class _Answer:
    status: int | None
    content_type: str
    text: str
    error: str | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A witness answers add-checkpoint itself; a redirect is reported as the witness's answer."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# Witnesses are called directly, never through an environment proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _post(url: str, body: bytes, timeout: float) -> _Answer:
    request = urllib.request.Request(
        url + "/add-checkpoint",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8", "User-Agent": "lodeline-registry"},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            data = response.read(MAX_ANSWER_BYTES + 1)
            return _Answer(response.status, response.headers.get_content_type(), _text(data))
    except urllib.error.HTTPError as exc:
        with exc:
            return _Answer(exc.code, exc.headers.get_content_type(), _text(exc.read(MAX_ANSWER_BYTES + 1)))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return _Answer(None, "", "", error=f"no answer from {url}: {getattr(exc, 'reason', exc)}")


def _text(data: bytes) -> str:
    return data[:MAX_ANSWER_BYTES].decode("utf-8", "replace")


def _ask_all(
    asks: Sequence[tuple[dict[str, Any], int]],
    cp: log.StoredCheckpoint,
    proofs: dict[int, list[bytes]],
    timeout: float,
) -> dict[str, _Answer]:
    if not asks:
        return {}
    pool = ThreadPoolExecutor(max_workers=min(16, len(asks)), thread_name_prefix="witness")
    futures = {
        pool.submit(_post, w["url"], format_add_checkpoint(old, proofs[old], cp.note), timeout): w["name"]
        for w, old in asks
    }
    done, _ = wait(futures, timeout=timeout + 1)
    pool.shutdown(wait=False, cancel_futures=True)  # a witness that overruns is not waited for
    answers = {
        name: _Answer(None, "", "", error=f"no answer within {timeout:g} s") for name in futures.values()
    }
    for future in done:
        answers[futures[future]] = future.result()
    return answers


def _judge(
    witness: dict[str, Any], old: int, answer: _Answer, cp: log.StoredCheckpoint
) -> WitnessOutcome | int:
    """The outcome of one answer, or the size to ask again from (a 409 naming a smaller size than ours)."""
    name = witness["name"]
    if answer.status is None:
        return WitnessOutcome(name, False, None, answer.error or "no answer")
    snippet = " ".join(answer.text.split())[:300]
    if answer.status == 200:
        who = cosignature.parse_cosigner_vkey(witness["vkey"])
        text = cp.note[: cp.note.rfind("\n\n") + 1]
        try:
            lines = parse_cosignature_lines(answer.text, cp.note)
            for sig in lines:
                if (sig.name, sig.key_id) == (who.name, who.key_id):
                    cosig = cosignature.parse_cosignature(sig)
                    if cosignature.verify(text, cosig, who):
                        return WitnessOutcome(name, True, 200, "cosigned", cp.tree_size, cosig)
        except (WitnessRequestError, cosignature.CosignatureError) as exc:
            return WitnessOutcome(
                name, False, 200, f"answered 200 with malformed cosignatures: {exc.message}"
            )
        return WitnessOutcome(
            name, False, 200, "answered 200 without a valid cosignature by its configured key"
        )
    if answer.status == 409 and answer.content_type == SIZE_CONTENT_TYPE:
        try:
            size = parse_size(answer.text)
        except WitnessRequestError as exc:
            return WitnessOutcome(name, False, 409, exc.message)
        if size > cp.tree_size:
            return WitnessOutcome(
                name,
                False,
                409,
                f"refused: the witness already cosigned size {size} for {cp.origin!r}, larger than this "
                f"checkpoint's {cp.tree_size} (a rollback)",
                size,
            )
        if size != old:
            return size
        return WitnessOutcome(
            name, False, 409, f"the witness answered 409 naming the size we sent ({size})", size
        )
    detail = "refused (a fork)" if answer.status == 409 else "refused"
    return WitnessOutcome(name, False, answer.status, f"{detail}: HTTP {answer.status}: {snippet}")


def collect(
    engine: Engine, cp: log.StoredCheckpoint, *, timeout: float | None = None
) -> list[WitnessOutcome]:
    """Ask the configured witnesses that have not cosigned ``cp`` yet; store what they cosigned."""
    limit = timeout_seconds() if timeout is None else timeout
    with engine.connect() as conn:
        have = {row["witness_name"] for row in store.cosignatures(conn, cp.checkpoint_id)}
        pending = [w for w in store.witnesses(conn) if w["name"] not in have]
        if not pending:
            return []  # nothing to ask (no witness, or all cosigned): no write transaction either
        asks = [(w, _first_old(w, cp)) for w in pending]
        proofs = {old: log.consistency_proof(conn, old, cp.tree_size) for _, old in asks}
    outcomes: dict[str, WitnessOutcome] = {}
    retry: list[tuple[dict[str, Any], int]] = []
    for round_ in range(2):
        answers = _ask_all(asks, cp, proofs, limit)
        retry = []
        for witness, old in asks:
            judged = _judge(witness, old, answers[witness["name"]], cp)
            if isinstance(judged, int) and round_ == 0:
                retry.append((witness, judged))
            elif isinstance(judged, int):
                outcomes[witness["name"]] = WitnessOutcome(
                    witness["name"],
                    False,
                    409,
                    f"the witness moved from size {old} to {judged} while asked",
                    judged,
                )
            else:
                outcomes[witness["name"]] = judged
        if not retry:
            break
        with engine.connect() as conn:
            proofs = {old: log.consistency_proof(conn, old, cp.tree_size) for _, old in retry}
        asks = retry
    _store(engine, cp, outcomes.values())
    return [outcomes[w["name"]] for w in pending]


def _first_old(witness: dict[str, Any], cp: log.StoredCheckpoint) -> int:
    size = int(witness["known_size"])
    return size if witness["known_origin"] == cp.origin and size <= cp.tree_size else 0


def _store(engine: Engine, cp: log.StoredCheckpoint, outcomes: Iterable[WitnessOutcome]) -> None:
    now = datetime.now(UTC)
    with write_transaction(engine) as conn:
        for outcome in outcomes:
            if outcome.cosignature is not None:
                store.insert_cosignature(
                    conn,
                    checkpoint_id=cp.checkpoint_id,
                    witness_name=outcome.name,
                    key_id=outcome.cosignature.key_id.hex(),
                    timestamp=outcome.cosignature.timestamp,
                    line=outcome.cosignature.line,
                    at=now,
                )
            store.record_contact(
                conn,
                outcome.name,
                at=now,
                origin=cp.origin,
                size=outcome.witness_size,
                error=None if outcome.cosigned else f"HTTP {outcome.status}: {outcome.detail}",
            )
