"""C2SP signed notes and tlog checkpoints; the registry signing key file."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lodeline.tlog import merkle
from lodeline.trace import checkpoint as cpm
from lodeline.trace.registry_key import RegistryKeyError, load_registry_key, registry_origin

# The example of the C2SP signed-note spec / Go golang.org/x/mod/sumdb/note tests (signed by example.com/foo).
GO_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
GO_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"


def test_reference_note_verifies_and_key_id_matches() -> None:
    verifier = cpm.parse_vkey(GO_VKEY)
    assert verifier.key_id.hex() == "530d903a"
    assert cpm.key_id("example.com/foo", verifier.public_key).hex() == "530d903a"
    assert cpm.format_vkey("example.com/foo", verifier.public_key) == GO_VKEY
    assert cpm.open_note(GO_NOTE, [verifier]) == "This is an example message.\n"
    with pytest.raises(cpm.CheckpointError, match="does not verify"):
        cpm.open_note(GO_NOTE.replace("example message", "exampel message"), [verifier])


def test_checkpoint_format_parse_sign_verify() -> None:
    key = Ed25519PrivateKey.generate()
    name = "lodeline.test/registry"
    root = merkle.root_hash([merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")])
    body = cpm.Checkpoint(origin=name, tree_size=2, root_hash=root)
    text = cpm.format_checkpoint(body)
    assert text == f"{name}\n2\n{base64.b64encode(root).decode()}\n"
    note = cpm.sign_checkpoint(body, name, key)
    sig_line = note.split("\n\n")[1]
    assert sig_line.startswith(f"— {name} ")
    blob = base64.b64decode(sig_line.split(" ")[2])
    assert len(blob) == 4 + 64
    assert blob[:4] == cpm.key_id(name, cpm.public_key_bytes(key))
    verifier = cpm.parse_vkey(cpm.format_vkey(name, cpm.public_key_bytes(key)))
    assert cpm.open_checkpoint(note, [verifier]) == body
    # unknown extra signatures are ignored; a bad signature by the known key rejects the note
    other = Ed25519PrivateKey.generate()
    extra = cpm.sign_note(text, "witness.example/w1", other).split("\n\n")[1]
    assert cpm.open_checkpoint(note + extra, [verifier]) == body
    tampered_sig = base64.b64encode(blob[:4] + bytes(64)).decode()
    with pytest.raises(cpm.CheckpointError, match="does not verify"):
        cpm.open_checkpoint(f"{text}\n— {name} {tampered_sig}\n", [verifier])
    with pytest.raises(cpm.CheckpointError, match="does not verify"):
        cpm.open_checkpoint(note.replace("\n2\n", "\n3\n"), [verifier])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("origin\n2\n", "origin, size and root"),
        ("origin\n02\n" + base64.b64encode(bytes(32)).decode() + "\n", "leading zeros"),
        ("origin\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n", "decimal"),
        ("origin\n2\n" + base64.b64encode(bytes(31)).decode() + "\n", "expected 32"),
        ("origin\n2\nnot base64!\n", "base64"),
        ("\n2\n" + base64.b64encode(bytes(32)).decode() + "\n", "origin line is empty"),
        ("origin\n2\n" + base64.b64encode(bytes(32)).decode(), "newline"),
    ],
)
def test_malformed_checkpoints_rejected(text: str, reason: str) -> None:
    with pytest.raises(cpm.CheckpointError, match=reason):
        cpm.parse_checkpoint(text)


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        ("no blank line\n— a AAAA\n", "no blank line"),
        ("text\n\n-- a AAAAAAAAAAA=\n", "must start with"),
        ("text\n\n— a !!!\n", "base64"),
        ("text\n\n— a AAAA\n", "shorter"),
        ("text\n\n— a\n", "'— <name> <base64>'"),
    ],
)
def test_malformed_notes_rejected(note: str, reason: str) -> None:
    with pytest.raises(cpm.CheckpointError, match=reason):
        cpm.open_note(note, [cpm.parse_vkey(GO_VKEY)])


def test_bad_vkeys_rejected() -> None:
    with pytest.raises(cpm.CheckpointError, match="key ID does not match"):
        cpm.parse_vkey(GO_VKEY.replace("530d903a", "530d903b"))
    with pytest.raises(cpm.CheckpointError):
        cpm.parse_vkey("example.com/foo+530d903a")
    with pytest.raises(cpm.CheckpointError, match="Ed25519"):
        cpm.parse_vkey("example.com/foo+530d903a+" + base64.b64encode(b"\x02" + bytes(32)).decode())


def test_registry_key_created_once_private_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_registry_key("lodeline.local/registry/0011223344556677")
    assert first.path.name == "registry-key.pem"
    assert stat.S_IMODE(os.stat(first.path).st_mode) == 0o600
    assert [p.name for p in first.path.parent.iterdir() if p.name.startswith(".registry-key-")] == []
    second = load_registry_key("lodeline.local/registry/0011223344556677")
    assert second.vkey == first.vkey
    assert cpm.parse_vkey(first.vkey).name == "lodeline.local/registry/0011223344556677"
    # one key, any number of logs: another store's origin names the same key differently
    other = load_registry_key("lodeline.local/registry/8899aabbccddeeff")
    assert other.public_key == first.public_key and other.key_id_hex != first.key_id_hex
    with pytest.raises(RegistryKeyError, match="without spaces"):
        load_registry_key("bad origin")

    monkeypatch.setenv("LODELINE_REGISTRY_KEY_FILE", str(tmp_path / "absent.pem"))
    with pytest.raises(RegistryKeyError, match="no such key file"):
        load_registry_key("x.example/log")
    monkeypatch.setenv("LODELINE_REGISTRY_KEY_FILE", str(first.path))
    renamed = load_registry_key("registry.example.org/log")
    assert renamed.name == "registry.example.org/log"
    assert renamed.public_key == first.public_key
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    monkeypatch.setenv("LODELINE_REGISTRY_KEY_FILE", str(bad))
    with pytest.raises(RegistryKeyError, match="cannot read"):
        load_registry_key("x.example/log")


def test_origin_default_pinned_and_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LODELINE_REGISTRY_ORIGIN", raising=False)
    assert registry_origin("00ff") == "lodeline.local/registry/00ff"
    assert registry_origin("00ff", "lodeline.local/registry") == "lodeline.local/registry"  # a pre-ID store
    monkeypatch.setenv("LODELINE_REGISTRY_ORIGIN", "registry.example.org/minerals")
    assert registry_origin("00ff") == "registry.example.org/minerals"
    assert registry_origin("00ff", "lodeline.local/registry") == "registry.example.org/minerals"
    monkeypatch.setenv("LODELINE_REGISTRY_ORIGIN", "has+plus")
    with pytest.raises(RegistryKeyError, match="LODELINE_REGISTRY_ORIGIN"):
        registry_origin("00ff")


def test_consistency_document_checks() -> None:
    from lodeline.trace.proof_verify import ProofError, verify_consistency_document

    key = Ed25519PrivateKey.generate()
    name = "lodeline.test/registry"
    verifier = cpm.parse_vkey(cpm.format_vkey(name, cpm.public_key_bytes(key)))
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(11)]

    def note(size: int) -> str:
        return cpm.sign_checkpoint(cpm.Checkpoint(name, size, merkle.root_hash(leaves[:size])), name, key)

    path = [base64.b64encode(p).decode() for p in merkle.consistency_proof(6, leaves)]
    doc = {"format": "lodeline-consistency-proof/1", "origin": name, "old_size": 6, "new_size": 11}
    doc["consistency_path"] = path
    result = verify_consistency_document(doc, note(6), note(11), [verifier])
    assert (result.old_size, result.new_size) == (6, 11)
    with pytest.raises(ProofError, match="old_size"):
        verify_consistency_document(doc | {"old_size": 5}, note(6), note(11), [verifier])
    with pytest.raises(ProofError, match="origin"):
        verify_consistency_document(doc | {"origin": "other/log"}, note(6), note(11), [verifier])
    with pytest.raises(ProofError, match="not shown to extend"):
        verify_consistency_document(doc | {"consistency_path": path[::-1]}, note(6), note(11), [verifier])
    with pytest.raises(ProofError, match="base64"):
        verify_consistency_document(doc | {"consistency_path": ["%%"]}, note(6), note(11), [verifier])
    # equal sizes: the empty proof verifies when the roots match, and fails for another root (a fork)
    same = doc | {"new_size": 6, "consistency_path": []}
    assert verify_consistency_document(same, note(6), note(6), [verifier]).new_size == 6
    fork = cpm.sign_checkpoint(cpm.Checkpoint(name, 6, merkle.root_hash(leaves[5:11])), name, key)
    with pytest.raises(ProofError, match="not shown to extend"):
        verify_consistency_document(same, note(6), fork, [verifier])
    with pytest.raises(ProofError, match="not shown to extend"):
        verify_consistency_document(same | {"consistency_path": path[:1]}, note(6), note(6), [verifier])


def test_inclusion_document_round_trip_and_rejections() -> None:
    from lodeline.trace.log import proof_document
    from lodeline.trace.proof_verify import ProofError, verify_inclusion_document

    key = Ed25519PrivateKey.generate()
    name = "lodeline.test/registry"
    verifier = cpm.parse_vkey(cpm.format_vkey(name, cpm.public_key_bytes(key)))
    data = [b"ni:///sha-256;a?ver=CBV2.0", b"\xff\xfe not utf-8", b"ni:///sha-256;c?ver=CBV2.0"]
    leaves = [merkle.leaf_hash(d) for d in data]
    note = cpm.sign_checkpoint(cpm.Checkpoint(name, 3, merkle.root_hash(leaves)), name, key)
    for index, item in enumerate(data):
        doc = proof_document(item, index, 3, merkle.inclusion_proof(index, leaves), origin=name)
        assert verify_inclusion_document(doc, note, [verifier]).leaf_data == item
    assert "leaf_data_base64" in doc or "leaf_data" in doc
    doc = proof_document(data[0], 0, 3, merkle.inclusion_proof(0, leaves), origin=name)
    with pytest.raises(ProofError, match="tree_size"):
        verify_inclusion_document(doc | {"tree_size": 2}, note, [verifier])
    with pytest.raises(ProofError, match="leaf hash is not"):
        verify_inclusion_document(doc | {"leaf_data": "ni:///sha-256;other"}, note, [verifier])
    with pytest.raises(ProofError, match="non-negative integer"):
        verify_inclusion_document(doc | {"leaf_index": True}, note, [verifier])
    with pytest.raises(ProofError, match="format"):
        verify_inclusion_document(doc | {"format": "x"}, note, [verifier])
    with pytest.raises(cpm.CheckpointError):
        verify_inclusion_document(doc, note.replace("\n3\n", "\n4\n"), [verifier])
