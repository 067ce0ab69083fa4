"""FROZEN: the GS1 Digital Link canonical form of identifiers as the event hash algorithms compute it. Do not change.

A copy of the conversions of :mod:`lodeline.trace.identifiers` as they were when issue 12 froze the event hash
(EPC URNs and Digital Link URIs to canonical Digital Link: ``to_digital_link`` for the registry's comparison form,
which :mod:`lodeline.trace.event_hash_v1` hashes, and ``hash_digital_link``, every GS1 key CBV 2.0 §8.9
canonicalises, which :mod:`lodeline.trace.event_hash_rules_v2` hashes). A log leaf holds a hash ID forever, so the
identifiers it canonicalised must come out the same forever: the registry's own identifiers may change, this may
not. Its sha256 is pinned in ``tests/unit/test_import_cycles.py`` (``FROZEN``); a change is a new module.
Pure module: no I/O.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

DL_ROOT = "https://id.gs1.org"

# Digital Link primary-key AIs (and the qualifiers that may follow them) we canonicalise.
_DL_PRIMARY = {
    "00",
    "01",
    "253",
    "255",
    "401",
    "402",
    "414",
    "417",
    "8003",
    "8004",
    "8006",
    "8010",
    "8017",
    "8018",
}


def check_digit(body: str) -> str:
    """GS1 mod-10 check digit: weights 3,1,3,… from the rightmost digit of ``body``."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def _gtin14(company_prefix: str, item_ref: str) -> str:
    body = item_ref[:1] + company_prefix + item_ref[1:]
    return body + check_digit(body)


def _gln(company_prefix: str, location_ref: str) -> str:
    body = company_prefix + location_ref
    return body + check_digit(body)


_EPC_URN = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):(.+)")


def _urn_to_dl(urn: str) -> str | None:
    m = _EPC_URN.fullmatch(urn)
    if not m:
        return None
    kind, scheme, rest = m.groups()
    parts = rest.split(".")
    try:
        if kind == "id" and scheme == "sgtin" and len(parts) == 3:
            return f"{DL_ROOT}/01/{_gtin14(parts[0], parts[1])}/21/{parts[2]}"
        if kind == "class" and scheme == "lgtin" and len(parts) >= 3:
            return f"{DL_ROOT}/01/{_gtin14(parts[0], parts[1])}/10/{'.'.join(parts[2:])}"
        if kind == "idpat" and scheme == "sgtin" and len(parts) == 3 and parts[2] == "*":
            return f"{DL_ROOT}/01/{_gtin14(parts[0], parts[1])}"
        if kind == "id" and scheme == "sscc" and len(parts) == 2:
            body = parts[1][:1] + parts[0] + parts[1][1:]
            return f"{DL_ROOT}/00/{body}{check_digit(body)}"
        if kind == "id" and scheme == "sgln" and len(parts) == 3:
            ext = "" if parts[2] == "0" else f"/254/{parts[2]}"
            return f"{DL_ROOT}/414/{_gln(parts[0], parts[1])}{ext}"
        if kind == "id" and scheme == "pgln" and len(parts) == 2:
            return f"{DL_ROOT}/417/{_gln(parts[0], parts[1])}"
        if kind == "id" and scheme == "grai" and len(parts) == 3:
            body = "0" + parts[0] + parts[1]
            return f"{DL_ROOT}/8003/{body}{check_digit(body)}{parts[2]}"
        if kind == "id" and scheme == "giai" and len(parts) == 2:
            return f"{DL_ROOT}/8004/{parts[0]}{parts[1]}"
        if kind == "id" and scheme == "gsrn" and len(parts) == 2:
            return f"{DL_ROOT}/8018/{_gln(parts[0], parts[1])}"
        if kind == "id" and scheme == "gdti" and len(parts) == 3:
            return f"{DL_ROOT}/253/{_gln(parts[0], parts[1])}{parts[2]}"
    except ValueError:
        return None
    return None


def _dl_to_canonical(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return None
    segments = [s for s in parts.path.split("/") if s]
    # The primary key may sit below a custom path prefix (GS1 DL §4.9); find the first primary AI.
    for i, seg in enumerate(segments):
        if seg in _DL_PRIMARY and i + 1 < len(segments) and len(segments[i:]) % 2 == 0:
            return DL_ROOT + "/" + "/".join(segments[i:])
    return None


@lru_cache(maxsize=65536)
def to_digital_link(identifier: str) -> str | None:
    """Canonical Digital Link URI of an EPC URN or a Digital Link URI on any domain; None if neither."""
    identifier = identifier.strip()
    if identifier.startswith("urn:epc:"):
        return _urn_to_dl(identifier)
    if identifier.startswith(("http://", "https://")):
        return _dl_to_canonical(identifier)
    return None


# EPC URN schemes beyond those the registry compares on (TDS 2.0 §6 / GS1 Digital Link 1.2): only the event hash
# (CBV 2.0 §8.9) canonicalises them, so the registry's stored identifiers (``to_digital_link``) stay as captured.
def _more_urn_to_dl(urn: str) -> str | None:
    m = _EPC_URN.fullmatch(urn)
    if not m:
        return None
    kind, scheme, rest = m.groups()
    parts = rest.split(".")
    pattern = kind == "idpat" and parts[-1] == "*"
    if kind not in ("id", "idpat") or (kind == "idpat" and not pattern):
        return None
    if pattern:
        parts = parts[:-1]
    if not parts[0].isdigit():  # the company prefix
        return None
    try:
        if scheme == "gsrnp" and len(parts) == 2 and not pattern:
            return f"{DL_ROOT}/8017/{_gln(parts[0], parts[1])}"
        if scheme == "ginc" and len(parts) == 2 and not pattern:
            return f"{DL_ROOT}/401/{parts[0]}{parts[1]}"
        if scheme == "gsin" and len(parts) == 2 and not pattern:
            return f"{DL_ROOT}/402/{_gln(parts[0], parts[1])}"
        if scheme == "sgcn" and len(parts) == (2 if pattern else 3):
            serial = "" if pattern else parts[2]
            return f"{DL_ROOT}/255/{_gln(parts[0], parts[1])}{serial}"
        if scheme == "cpi" and len(parts) == (2 if pattern else 3):
            serial = "" if pattern else f"/8011/{parts[2]}"
            return f"{DL_ROOT}/8010/{parts[0]}{parts[1]}{serial}"
        if scheme == "itip" and len(parts) == (4 if pattern else 5):
            serial = "" if pattern else f"/21/{parts[4]}"
            return f"{DL_ROOT}/8006/{_gtin14(parts[0], parts[1])}{parts[2]}{parts[3]}{serial}"
        if scheme == "upui" and len(parts) == 3 and not pattern:
            return f"{DL_ROOT}/01/{_gtin14(parts[0], parts[1])}/235/{parts[2]}"
        if scheme == "grai" and pattern and len(parts) == 2:
            body = "0" + parts[0] + parts[1]
            return f"{DL_ROOT}/8003/{body}{check_digit(body)}"
        if scheme == "gdti" and pattern and len(parts) == 2:
            return f"{DL_ROOT}/253/{_gln(parts[0], parts[1])}"
    except ValueError:
        return None
    return None


@lru_cache(maxsize=65536)
def hash_digital_link(identifier: str) -> str | None:
    """Canonical GS1 Digital Link URI of any GS1 key the EPCIS event hash canonicalises (CBV 2.0 §8.9): every EPC
    URN scheme of TDS 2.0 with a Digital Link form (SGTIN, SSCC, SGLN, GRAI, GIAI, GSRN, GSRN-P, GDTI, CPI, SGCN,
    GINC, GSIN, ITIP, UPUI, LGTIN and the class patterns) and Digital Link URIs on any domain; None otherwise."""
    identifier = identifier.strip()
    found = to_digital_link(identifier)
    if found is not None:
        return found
    if identifier.startswith("urn:epc:"):
        return _more_urn_to_dl(identifier)
    if identifier.startswith(("http://", "https://")):
        return _short_names_to_dl(identifier)
    return None


# GS1 Digital Link 1.2 short names of the primary keys and the key qualifiers (``/gtin/…/ser/…``): the canonical
# Digital Link writes the numeric AIs (``/01/…/21/…``), so the event hash does too (the reference's
# epclist_normalisation vector). Only the hash reads them: the registry's stored identifiers stay as captured.
_SHORT_PRIMARY = {
    "sscc": "00",
    "gtin": "01",
    "gdti": "253",
    "gcn": "255",
    "ginc": "401",
    "gsin": "402",
    "gln": "414",
    "party": "417",
    "grai": "8003",
    "giai": "8004",
    "itip": "8006",
    "cpid": "8010",
    "gsrnp": "8017",
    "gsrn": "8018",
}
_SHORT_QUALIFIER = {"cpv": "22", "lot": "10", "ser": "21", "tpx": "235", "glnx": "254", "cpsn": "8011"}


def _short_names_to_dl(uri: str) -> str | None:
    segments = [s for s in urlsplit(uri).path.split("/") if s]
    for i, seg in enumerate(segments):
        if seg in _SHORT_PRIMARY and len(segments[i:]) % 2 == 0:
            path = segments[i:]
            path[0] = _SHORT_PRIMARY[seg]
            for j in range(2, len(path), 2):
                path[j] = _SHORT_QUALIFIER.get(path[j], path[j])
            return _dl_to_canonical(DL_ROOT + "/" + "/".join(path))
    return None
