"""The registry explorer page: search a lot, see its origin shares and upstream graph, and check an inclusion
proof in the browser against the published checkpoint (static/js/registry.js; no inline script).

The page shell is public; the data it loads come from the registry API, which the access layer scopes
(participants: their own facilities' lots; auditors and admins: all). The page itself decides nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from lodeline.api.deps import PrincipalDep, session_from_cookie
from lodeline.trace.registry_service import verifier_key

router = APIRouter(include_in_schema=False)


@router.get("/registry", response_class=HTMLResponse)
def registry_explorer(
    request: Request, principal: PrincipalDep, lot: Annotated[str, Query(max_length=240)] = ""
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    session = session_from_cookie(request, request.app.state.engine)
    context = {
        "active": "registry",
        "lot": lot,
        "principal": session[0] if session else None,
        "csrf_token": session[1] if session else "",
        "signed_in": principal.authenticated,
        # The verifier key the browser checks the checkpoint's signature with; the page shows its key ID so a
        # user can compare it with the key published out of band.
        "vkey": verifier_key(request.app.state.engine),
    }
    return templates.TemplateResponse(request, "registry.html", context)
