"""cosignature/v1 and the witness's add-checkpoint handling against published C2SP test data
(tests/golden/data/tlog_witness: the spec's example, transparency-dev/formats, transparency-dev/witness and
FiloSottile/litetlog vectors; see PROVENANCE.txt)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lodeline.tlog import merkle
from lodeline.trace import checkpoint, cosignature
from lodeline.trace.witness_protocol import SIZE_CONTENT_TYPE, format_add_checkpoint
from lodeline.witness import service, state

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "golden" / "data" / "tlog_witness" / "vectors.json").read_text(
        "utf-8"
    )
)
SPEC, FORMATS = VECTORS["c2sp_tlog_cosignature"], VECTORS["transparency_dev_formats"]
TD, LITE = VECTORS["transparency_dev_witness"], VECTORS["litetlog_witness"]
NOW = 1_700_000_000


def go_private_key(skey: str) -> Ed25519PrivateKey:
    """A golang.org/x/mod/sumdb/note private key: PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>."""
    raw = base64.b64decode(skey.split("+", 4)[4])
    assert raw[0] == 1 and len(raw) == 33
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def signature_of(line: str) -> checkpoint.NoteSignature:
    return checkpoint.split_note(SPEC["checkpoint_text"] + "\n" + line + "\n")[1][0]


# --- cosignature/v1 ---------------------------------------------------------------------------------------------


def test_spec_example_cosignature_parses_to_its_key_id_and_time() -> None:
    cosig = cosignature.parse_cosignature(signature_of(SPEC["cosignature_line"]))
    assert (cosig.name, cosig.key_id.hex(), cosig.timestamp) == (
        "witness.example.com/w1",
        "8d66cf3f",
        1679315147,
    )
    assert cosig.line == SPEC["cosignature_line"]  # re-encodes byte for byte
    # the message the spec shows for that time and checkpoint
    assert (
        cosignature.signed_message(SPEC["checkpoint_text"], cosig.timestamp)
        == SPEC["signed_message_example"].encode()
    )
    # the log's own line (type 0x01, 68 bytes) is not a cosignature
    with pytest.raises(cosignature.CosignatureError, match="expected 76"):
        cosignature.parse_cosignature(signature_of(SPEC["log_signature_line"]))


def test_transparency_dev_formats_vectors() -> None:
    sig = signature_of(f"— w {FORMATS['cosignature_base64']}")
    assert cosignature.parse_cosignature(sig).timestamp == FORMATS["cosignature_timestamp"]
    with pytest.raises(cosignature.CosignatureError):
        cosignature.parse_cosignature(signature_of(f"— w {FORMATS['ed25519_note_signature_base64']}"))
    remora = cosignature.parse_cosigner_vkey(
        FORMATS["cosigner_vkey"]
    )  # key ID = SHA-256(name\n 0x04 key)[:4]
    assert (remora.name, remora.key_id.hex()) == ("remora.n621.de", "da77ade7")
    assert remora.vkey == FORMATS["cosigner_vkey"]
    with pytest.raises(cosignature.CosignatureError, match="type 0x04"):
        cosignature.parse_cosigner_vkey(FORMATS["ed25519_vkey"])  # a log (0x01) key is not a cosigner key
    tampered = FORMATS["cosigner_vkey"].replace("da77ade7", "da77ade8")
    with pytest.raises(cosignature.CosignatureError, match="key ID"):
        cosignature.parse_cosigner_vkey(tampered)


def test_cosign_with_a_published_witness_key_and_verify() -> None:
    key = go_private_key(TD["witness_skey"])
    # our type-0x01 vkey of that key reproduces the published one: the seed is read right
    assert checkpoint.format_vkey("witness", checkpoint.public_key_bytes(key)) == TD["witness_vkey"]
    me = cosignature.cosigner("witness", key)
    assert me.key_id != checkpoint.key_id("witness", me.public_key)  # 0x04 vs 0x01: never confused
    text = checkpoint.split_note(TD["checkpoint_8"])[0]
    cosig = cosignature.cosign(text, "witness", key, NOW)
    note = TD["checkpoint_8"] + cosig.line + "\n"
    assert [c.timestamp for c in cosignature.verified_cosignatures(note, [me])] == [NOW]
    # the log's key still opens the note; witness lines are unknown keys to it
    assert checkpoint.open_checkpoint(note, [checkpoint.parse_vkey(TD["log_vkey"])]).tree_size == 8
    # another checkpoint, another time, another key: no valid cosignature
    other = TD["checkpoint_5"] + cosig.line + "\n"
    with pytest.raises(cosignature.CosignatureError, match="does not verify"):
        cosignature.verified_cosignatures(other, [me])
    forged = cosignature.Cosignature("witness", me.key_id, NOW + 1, cosig.signature)
    with pytest.raises(cosignature.CosignatureError, match="does not verify"):
        cosignature.verified_cosignatures(TD["checkpoint_8"] + forged.line + "\n", [me])
    stranger = cosignature.cosigner("witness", Ed25519PrivateKey.generate())
    assert cosignature.verified_cosignatures(note, [stranger]) == []  # unknown key ID: ignored


def test_quorum_counts_distinct_valid_witnesses() -> None:
    keys = [Ed25519PrivateKey.generate() for _ in range(3)]
    names = ["w1.example/w", "w2.example/w", "w3.example/w"]
    witnesses = [cosignature.cosigner(n, k) for n, k in zip(names, keys, strict=True)]
    text = checkpoint.split_note(TD["checkpoint_8"])[0]
    lines = [cosignature.cosign(text, n, k, NOW).line + "\n" for n, k in zip(names, keys, strict=True)]
    note = TD["checkpoint_8"] + lines[0] + lines[2]
    result = cosignature.require_quorum(note, witnesses, 2)
    assert [c.name for c in result.verified] == ["w1.example/w", "w3.example/w"]
    assert result.missing == ["w2.example/w"]
    with pytest.raises(cosignature.QuorumError, match="2 of the 3") as err:
        cosignature.require_quorum(note, witnesses, 3)
    assert err.value.details["missing"] == ["w2.example/w"]
    # one key listed twice under another name is one witness
    alias = cosignature.cosigner("alias.example/w", keys[0])
    with pytest.raises(cosignature.QuorumError, match="between 1 and"):
        cosignature.require_quorum(note, [witnesses[0], alias], 2)
    # the same line twice counts once
    with pytest.raises(cosignature.QuorumError):
        cosignature.require_quorum(TD["checkpoint_8"] + lines[0] + lines[0], witnesses, 2)


def test_cosignature_timestamp_bounds() -> None:
    text = checkpoint.split_note(TD["checkpoint_8"])[0]
    with pytest.raises(cosignature.CosignatureError, match="2\\^63"):
        cosignature.signed_message(text, 2**63)
    assert cosignature.signed_message(text, 0).startswith(b"cosignature/v1\ntime 0\n")


# --- the witness: add-checkpoint --------------------------------------------------------------------------------


@pytest.fixture
def td_witness(tmp_path: Path) -> service.Witness:
    engine = state.open_store(f"sqlite:///{tmp_path / 'witness.sqlite'}")
    state.add_log(engine, TD["origin"], TD["log_vkey"])
    return service.Witness("witness", go_private_key(TD["witness_skey"]), engine)


def body(old: int, proof: list[bytes], note: str) -> bytes:
    return format_add_checkpoint(old, proof, note)


def test_witness_follows_the_transparency_dev_log(td_witness: service.Witness) -> None:
    proof = [bytes.fromhex(h) for h in TD["consistency_5_to_8_hex"]]
    first = service.add_checkpoint(td_witness, body(0, [], TD["checkpoint_5"]), NOW)
    assert first.status == 200, first.body
    second = service.add_checkpoint(td_witness, body(5, proof, TD["checkpoint_8"]), NOW + 1)
    assert second.status == 200, second.body
    me = cosignature.parse_cosigner_vkey(td_witness.vkey)
    cosigned = TD["checkpoint_8"] + second.body
    assert cosignature.verified_cosignatures(cosigned, [me])[0].timestamp == NOW + 1
    # the same head again (old = size, same root) is cosigned again
    assert service.add_checkpoint(td_witness, body(8, [], TD["checkpoint_8"]), NOW + 2).status == 200
    # a stale old size: 409 with the witness's size
    stale = service.add_checkpoint(td_witness, body(5, proof, TD["checkpoint_8"]), NOW)
    assert (stale.status, stale.body, stale.content_type) == (409, "8\n", SIZE_CONTENT_TYPE)
    # a smaller tree than the witness holds (rollback): the old size is larger than the checkpoint's -> 400
    assert service.add_checkpoint(td_witness, body(8, [], TD["checkpoint_5"]), NOW).status == 400
    # and from its size 0 it is a stale old size
    assert service.add_checkpoint(td_witness, body(0, [], TD["checkpoint_5"]), NOW).body == "8\n"
    row = state.logs(td_witness.engine)[0]
    assert (row["tree_size"], row["root_hash"]) == (8, checkpoint.parse_checkpoint(
        checkpoint.split_note(TD["checkpoint_8"])[0]).root_hash)  # fmt: skip


def test_witness_refusals_and_their_status_codes(td_witness: service.Witness) -> None:
    proof = [bytes.fromhex(h) for h in TD["consistency_5_to_8_hex"]]
    assert service.add_checkpoint(td_witness, body(0, [], TD["checkpoint_5"]), NOW).status == 200
    cases = [
        (body(0, [], TD["checkpoint_8_other_origin"]), 404, "unknown log origin"),
        (body(5, [], TD["checkpoint_5_other_log"]), 403, "no valid signature"),
        (body(5, [b"\xaa" * 32] * 4, TD["checkpoint_8"]), 422, "does not verify"),
        (body(5, proof[::-1], TD["checkpoint_8"]), 422, "does not verify"),
        (b"old 05\n\n" + TD["checkpoint_8"].encode(), 400, "line 1"),
        (b"old 5\n" + TD["checkpoint_8"].encode(), 400, ""),
        (b"old 5\n" + b"AAAA\n" + b"\n" + TD["checkpoint_8"].encode(), 400, "32"),
        (("old 5\n" + "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=\n" * 64 + "\n").encode(), 400, "63"),
        (b"\xff\xfe", 400, "UTF-8"),
        (body(5, proof, TD["checkpoint_8"].replace("\n8\n", "\n9\n")), 403, ""),
    ]
    for request, status, reason in cases:
        answer = service.add_checkpoint(td_witness, request, NOW)
        assert answer.status == status and reason in answer.body, (request[:40], answer)
    # nothing was cosigned by the refusals; the refused but log-signed requests were kept as evidence
    assert state.logs(td_witness.engine)[0]["tree_size"] == 5
    assert [e["status"] for e in state.evidence(td_witness.engine)] == [422, 422]


def test_witness_detects_a_fork_at_equal_size(td_witness: service.Witness) -> None:
    log_key = go_private_key(TD["log_skey"])
    assert service.add_checkpoint(td_witness, body(0, [], TD["checkpoint_5"]), NOW).status == 200
    fork = checkpoint.sign_checkpoint(checkpoint.Checkpoint(TD["origin"], 5, bytes(32)), "monkeys", log_key)
    answer = service.add_checkpoint(td_witness, body(5, [], fork), NOW)
    assert answer.status == 409 and "a fork" in answer.body
    assert state.evidence(td_witness.engine)[-1]["request"] == fork


@pytest.mark.parametrize("order", ["1-5-3", "1-3-5"])
def test_litetlog_requests(tmp_path: Path, order: str) -> None:
    engine = state.open_store(f"sqlite:///{tmp_path / 'w.sqlite'}")
    vkey = checkpoint.format_vkey(LITE["origin"], bytes.fromhex(LITE["log_public_key_hex"]))
    state.add_log(engine, LITE["origin"], vkey)
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(LITE["witness_private_key_hex"])[:32])
    witness = service.Witness(LITE["witness_name"], key, engine)
    assert checkpoint.public_key_bytes(key).hex() == LITE["witness_private_key_hex"][64:]
    assert service.add_checkpoint(witness, LITE["request_0_to_1"].encode(), NOW).status == 200
    first, second = (
        ("request_1_to_5", "request_1_to_3") if order == "1-5-3" else ("request_1_to_3", "request_1_to_5")
    )
    assert service.add_checkpoint(witness, LITE[first].encode(), NOW).status == 200
    late = service.add_checkpoint(witness, LITE[second].encode(), NOW)
    held = "5" if order == "1-5-3" else "3"
    assert (late.status, late.body, late.content_type) == (409, f"{held}\n", SIZE_CONTENT_TYPE)
    if order == "1-5-3":
        assert state.logs(engine)[0]["root_hash"].hex() == LITE["root_5_hex"]


def test_witness_state_on_both_backends(store: tuple[str, object]) -> None:
    """The witness's state database works on SQLite and PostgreSQL (row lock on PostgreSQL)."""
    url, _ = store
    engine = state.open_store(url)
    state.add_log(engine, TD["origin"], TD["log_vkey"])
    witness = service.Witness("witness", go_private_key(TD["witness_skey"]), engine)
    proof = [bytes.fromhex(h) for h in TD["consistency_5_to_8_hex"]]
    assert service.add_checkpoint(witness, body(0, [], TD["checkpoint_5"]), NOW).status == 200
    assert service.add_checkpoint(witness, body(5, proof, TD["checkpoint_8"]), NOW).status == 200
    assert service.add_checkpoint(witness, body(5, proof, TD["checkpoint_8"]), NOW).body == "8\n"
    assert state.witness_name(engine, "w.example/x") == "w.example/x"
    with pytest.raises(Exception, match="cannot change"):
        state.witness_name(engine, "w.example/y")
    assert state.logs(engine)[0]["root_hash"] != merkle.EMPTY_ROOT
