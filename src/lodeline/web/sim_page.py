"""The Stress-test page: pick a bundled scenario or upload one, run it, watch its progress, read the shortfalls
by member and month, the stock release and its binding constraints, the assumptions, and download the report.

The page shell and the scenario list are public; running is for signed-in callers (``Action.RUN_SIM``), enforced
by the API the page's script calls (static/js/stress_test.js; no inline script). The page decides nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from lodeline.api.access import Action, can
from lodeline.api.deps import PrincipalDep, session_from_cookie
from lodeline.services import sim as service
from lodeline.sim.shaping import tolerance_text

router = APIRouter(include_in_schema=False)


@router.get("/stress-test", response_class=HTMLResponse)
def stress_test_page(request: Request, principal: PrincipalDep) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    session = session_from_cookie(request, request.app.state.engine)
    context = {
        "active": "stress-test",
        "principal": session[0] if session else None,
        "csrf_token": session[1] if session else "",
        "may_run": can(principal, Action.RUN_SIM),
        "scenarios": service.list_scenarios(),
        "tolerance": tolerance_text(),
        "max_upload": service.MAX_UPLOAD_BYTES,
    }
    return templates.TemplateResponse(request, "stress_test.html", context)
