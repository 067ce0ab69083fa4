"""The registry explorer page: search a lot, see its origin shares and upstream graph, and check an inclusion
proof in the browser against the published checkpoint (static/js/registry.js; no inline script).

The page shell is public; the data it loads come from the registry API, which the access layer scopes
(participants: their own facilities' lots; auditors and admins: all). The page itself decides nothing about lots.

What the page shows everyone, visitors included, is what the registry publishes anyway (docs/trace.md, *Who sees
what*: "checkpoints and proofs are public to everyone"): the latest signed checkpoint as stored (its note, tree size
and root hash), the witnesses the registry asks and the cosignatures they gave it. Visitors also get a few example
lots: only demonstration lots (GS1 prefix 952, which no company's product carries), identifier and material only.
A visitor opening one is asked to sign in, like for any lot (members and visitors see no lots or events).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from lodeline.api.deps import PrincipalDep, session_from_cookie
from lodeline.store import registry_reads
from lodeline.trace import cosign, log
from lodeline.trace.registry_service import verifier_key

router = APIRouter(include_in_schema=False)

EXAMPLE_LOTS = 5


def public_registry(engine: Engine, *, examples: bool) -> dict[str, Any]:
    """The registry's public face, read from the store (never signs or contacts a witness: a page view must not
    make the server work for a visitor; the API's /checkpoint issues a new checkpoint when the log has grown)."""
    with engine.connect() as conn:
        cp = log.latest_checkpoint(conn)
        rows = cosign.cosignature_rows(conn, cp) if cp else []
        checkpoint = None
        if cp is not None:
            checkpoint = {
                "origin": cp.origin,
                "tree_size": cp.tree_size,
                "root_hash": cp.root_hash.hex(),
                "issued_at": cp.issued_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                "note": cosign.cosigned_note(conn, cp),
                "cosignatures": rows,
            }
        lots = registry_reads.demonstration_lots(conn, EXAMPLE_LOTS) if examples else []
    cosigned = {r["witness"]: r for r in rows}
    witnesses = [
        # Name, key and what it last told the registry; not its URL or last error (operator's business).
        {
            "name": w["name"],
            "vkey": w["vkey"],
            "known_size": w["known_size"],
            "cosigned": w["name"] in cosigned,
            "time": cosigned[w["name"]]["time"] if w["name"] in cosigned else None,
        }
        for w in cosign.list_witnesses(engine)
    ]
    for lot in lots:
        lot["number"] = lot["id"].rsplit("/10/", 1)[-1]
        lot["href"] = "/registry?lot=" + quote(lot["id"], safe="")
    return {"checkpoint": checkpoint, "witnesses": witnesses, "example_lots": lots}


@router.get("/registry", response_class=HTMLResponse)
def registry_explorer(
    request: Request, principal: PrincipalDep, lot: Annotated[str, Query(max_length=240)] = ""
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    engine = request.app.state.engine
    session = session_from_cookie(request, engine)
    context = {
        "active": "registry",
        "lot": lot,
        "principal": session[0] if session else None,
        "csrf_token": session[1] if session else "",
        "signed_in": principal.authenticated,
        # The verifier key the browser checks the checkpoint's signature with; the page shows its key ID so a
        # user can compare it with the key published out of band.
        "vkey": verifier_key(engine),
        **public_registry(engine, examples=not principal.authenticated),
    }
    return templates.TemplateResponse(request, "registry.html", context)
