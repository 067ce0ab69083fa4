"""The provenance envelope, CSV negotiation, stable cursors and ETags for every read endpoint.

JSON: ``{"data": [...], "provenance": {...}, "page": {...}, "data_version": "..."}``.
CSV (``Accept: text/csv`` or ``?format=csv``): the rows of the page; the provenance travels in
``X-Lodeline-Sources`` / ``X-Lodeline-Flags`` headers and the next page in a ``Link: rel="next"`` header.
Excel (``?format=xlsx``): the rows of the page in a ``data`` sheet and the provenance (sources with edition and
licence, flags, method, rows of the page, next cursor, data version, generated-at) in a ``provenance`` sheet; the
same headers as CSV. Pages are bounded by ``limit`` as for JSON and CSV.

A cursor names the data build it was cut from and the query it belongs to, so it always returns the same
page; after a rebuild it is refused with 410 rather than silently shifting rows. A cursor is not secret and not
signed: anything a client can forge is checked (shape, query, build, offset within the rows) and refused with
400 ``invalid-cursor`` and a named ``reason`` (``malformed``, ``other-query``, ``out-of-range``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import polars as pl
from fastapi import Request, Response
from pydantic import BaseModel, Field

from lodeline.errors import InvalidArgumentError, LodelineError
from lodeline.export import XLSX_MEDIA_TYPE, xlsx_bytes

#: Longest cursor accepted; genuine ones are about 80 characters.
MAX_CURSOR_CHARS = 512
_CURSOR_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")


class OutputFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class InvalidCursorError(InvalidArgumentError):
    """A cursor that this service did not issue for this query: 400 with ``reason``."""

    code = "invalid-cursor"
    http_status = 400

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(
            f"{message}; pass the next_cursor of a page, or start again without ?cursor=", reason=reason
        )
        self.reason = reason


class CursorExpiredError(LodelineError):
    code = "cursor-expired"
    http_status = 410

    def __init__(self) -> None:
        super().__init__(
            "the data were rebuilt since this cursor was issued; start again from the first page"
        )


# ----------------------------------------------------------------------------------- OpenAPI models
class SourceModel(BaseModel):
    id: str
    title: str
    edition: str
    licence: str


class ProvenanceModel(BaseModel):
    sources: list[SourceModel] = Field(description="Datasets the rows come from")
    editions: list[str] = Field(description="Editions of those datasets")
    licences: list[str] = Field(description="Licences of those datasets")
    flags: list[str] = Field(description="Data-quality flags present in the rows (W withheld, e estimated …)")
    method: str = Field(description="Where the method is written up (docs/methods/…)")
    unit: str | None = None
    notes: list[str] = Field(default_factory=list)


class PageModel(BaseModel):
    limit: int
    returned: int
    total: int
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


class Envelope(BaseModel):
    data: list[dict[str, Any]]
    provenance: ProvenanceModel
    page: PageModel
    data_version: str = Field(description="Marker of the data build the rows come from")


class ErrorBody(BaseModel):
    code: str = Field(description="Stable error code")
    message: str = Field(description="What went wrong and where")


CSV_CONTENT = {"text/csv": {"schema": {"type": "string"}}}
XLSX_CONTENT = {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}
READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {**CSV_CONTENT, **XLSX_CONTENT},
        "description": "The rows with their provenance (JSON), as CSV, or as an Excel workbook (?format=xlsx)",
    },
    304: {"description": "Not modified (the If-None-Match ETag still holds)"},
    400: {"model": ErrorBody},
    401: {"model": ErrorBody},
    404: {"model": ErrorBody},
    406: {"model": ErrorBody},
    410: {"model": ErrorBody},
    422: {"model": ErrorBody},
    429: {"model": ErrorBody},
    503: {"model": ErrorBody},
}


# -------------------------------------------------------------------------------------- the envelope
def provenance_dict(provenance: Any) -> dict[str, Any]:
    sources = [
        {k: str(s.get(k, "")) for k in ("id", "title", "edition", "licence")} for s in provenance.sources
    ]
    return {
        "sources": sources,
        "editions": sorted({s["edition"] for s in sources}),
        "licences": sorted({s["licence"] for s in sources}),
        "flags": list(provenance.flags),
        "method": provenance.method,
        "unit": provenance.unit,
        "notes": list(getattr(provenance, "notes", []) or []),
    }


def wants_xlsx(request: Request) -> bool:
    """``?format=xlsx`` (Excel is asked for by name only: no Accept negotiation, so the cached JSON page of a
    query is never served for it)."""
    return request.query_params.get("format") == OutputFormat.xlsx.value


def wants_csv(request: Request, fmt: OutputFormat | None) -> bool:
    if fmt is not None:
        return fmt is OutputFormat.csv
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


@dataclass(frozen=True)
class Cursor:
    version: str
    query: str
    offset: int


def query_fingerprint(request: Request) -> str:
    params = sorted(
        (k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "limit", "format")
    )
    return hashlib.sha256(json.dumps([request.url.path, params]).encode()).hexdigest()[:12]


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps({"v": cursor.version, "q": cursor.query, "o": cursor.offset}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str, version: str, query: str, total: int) -> int:
    """The row offset a cursor names, checked against the query, the data build and the ``total`` rows."""
    if len(text) > MAX_CURSOR_CHARS or not _CURSOR_CHARS.match(text):
        raise InvalidCursorError(
            "malformed", f"malformed cursor: at most {MAX_CURSOR_CHARS} characters of base64url expected"
        )
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidCursorError("malformed", "malformed cursor: not base64url-encoded JSON") from exc
    if (
        not isinstance(raw, dict)
        or set(raw) != {"v", "q", "o"}
        or not isinstance(raw["v"], str)
        or not isinstance(raw["q"], str)
        or type(raw["o"]) is not int  # not bool, not float
    ):
        raise InvalidCursorError("malformed", 'malformed cursor: expected {"v": str, "q": str, "o": int}')
    if raw["q"] != query:
        raise InvalidCursorError(
            "other-query", "this cursor belongs to a different query (path or filters changed)"
        )
    if raw["v"] != version:
        raise CursorExpiredError()
    offset: int = raw["o"]
    if not 0 <= offset < total:
        raise InvalidCursorError("out-of-range", f"cursor offset outside the {total} rows of this query")
    return offset


def _etag(body: bytes) -> str:
    # Weak: the same rows may travel gzip-compressed or not (GZipMiddleware), so bytes on the wire can differ.
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _not_modified(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    wanted = etag.removeprefix("W/")
    return header.strip() == "*" or wanted in [t.strip().removeprefix("W/") for t in header.split(",")]


def _csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    return frame.with_columns(pl.col(n).cast(pl.String) for n in nested) if nested else frame


@dataclass(frozen=True)
class RenderedPage:
    """A page's bytes and headers, reusable for every identical request within one data build."""

    body: bytes
    media_type: str
    headers: dict[str, str]


def render_page(
    request: Request,
    frame: pl.DataFrame,
    provenance: Any,
    *,
    data_version: str,
    limit: int,
    cursor: str | None,
    csv: bool,
    name: str,
) -> RenderedPage:
    """Page ``frame`` (rows in a deterministic order) as JSON, CSV or (``?format=xlsx``) Excel, with its ETag."""
    query = query_fingerprint(request)
    offset = decode_cursor(cursor, data_version, query, frame.height) if cursor else 0
    page = frame.slice(offset, limit)
    end = offset + page.height
    next_cursor = encode_cursor(Cursor(data_version, query, end)) if end < frame.height else None
    prov = provenance_dict(provenance)
    headers = {"cache-control": "no-cache", "vary": "Accept, Authorization, Cookie"}
    if next_cursor:
        # relative, so a cached page never carries another caller's Host
        next_url = request.url.include_query_params(cursor=next_cursor)
        headers["link"] = f'<{next_url.path}?{next_url.query}>; rel="next"'
    xlsx = not csv and wants_xlsx(request)
    if csv or xlsx:
        if xlsx:
            extra = [
                (
                    "rows",
                    f"{offset + 1}–{end} of {frame.height}" if page.height else f"none of {frame.height}",
                ),
                ("next_cursor", next_cursor or "none (last page)"),
                ("data_version", data_version),
            ]
            body = xlsx_bytes(page, prov, title=f"lodeline {name}", extra=extra)
            media = XLSX_MEDIA_TYPE
        else:
            body = _csv_safe(page).write_csv().encode()
            media = "text/csv; charset=utf-8"
        headers["content-disposition"] = f'attachment; filename="lodeline-{name}.{"xlsx" if xlsx else "csv"}"'
        headers["x-lodeline-sources"] = (
            "; ".join(f"{s['id']} {s['edition']} ({s['licence']})" for s in prov["sources"])
            .encode("ascii", "replace")
            .decode()
        )
        headers["x-lodeline-flags"] = ",".join(prov["flags"])
        headers["x-lodeline-method"] = prov["method"]
    else:
        page_info = {
            "limit": limit,
            "returned": page.height,
            "total": frame.height,
            "next_cursor": next_cursor,
        }
        rows = page.write_json().encode() if page.width else b"[]"
        body = (
            b'{"data":'
            + rows
            + b',"provenance":'
            + json.dumps(prov, default=str).encode()
            + b',"page":'
            + json.dumps(page_info).encode()
            + b',"data_version":'
            + json.dumps(data_version).encode()
            + b"}"
        )
        media = "application/json"
    headers["etag"] = _etag(body)
    return RenderedPage(body, media, headers)


def respond(request: Request, rendered: RenderedPage) -> Response:
    """The page, or 304 when the client's If-None-Match still holds."""
    if _not_modified(request, rendered.headers["etag"]):
        return Response(status_code=304, headers=rendered.headers)
    return Response(content=rendered.body, media_type=rendered.media_type, headers=dict(rendered.headers))
