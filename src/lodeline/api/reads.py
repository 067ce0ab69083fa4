"""The one path a read of a service result takes to the caller: cached per data build, paged, rendered as JSON, CSV
or xlsx with its provenance and ETag. The market, trend, risk and stock routes answer through it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from lodeline.api.cache import ResultCache
from lodeline.api.deps import ApiSettingsDep
from lodeline.api.envelope import OutputFormat, render_page, respond, wants_csv
from lodeline.errors import InvalidArgumentError
from lodeline.services.results import MarketResult

FormatQuery = Annotated[OutputFormat | None, Query(alias="format", description="json (default), csv or xlsx")]
# No max_length here: an over-long cursor is a malformed cursor (400 invalid-cursor), not a validation error.
CursorQuery = Annotated[str | None, Query(description="next_cursor of the previous page")]


def result_cache(request: Request) -> ResultCache:
    """The application's cache of results, valid for one data build."""
    cache: ResultCache = request.app.state.result_cache
    return cache


async def _limit(settings: ApiSettingsDep, limit: int | None = None) -> int:
    if limit is None:
        return settings.page_limit_default
    if not 1 <= limit <= settings.page_limit_max:
        raise InvalidArgumentError(f"limit must be between 1 and {settings.page_limit_max}, got {limit}")
    return limit


LimitDep = Annotated[int, Depends(_limit)]


def answer(
    request: Request,
    name: str,
    key: tuple[Any, ...],
    compute: Callable[[], MarketResult],
    *,
    limit: int,
    cursor: str | None,
    fmt: OutputFormat | None,
) -> Response:
    """``compute()`` once per data build (cached under ``key``), then the requested page of it."""
    cache = result_cache(request)
    csv = wants_csv(request, fmt)

    def render() -> Any:
        result = cache.get(key, compute)
        return render_page(
            request,
            result.frame,
            result.provenance,
            data_version=cache.version(),
            limit=limit,
            cursor=cursor,
            csv=csv,
            name=name,
        )

    # The rendered bytes are cached too: identical reads within a data build cost one dictionary lookup. The
    # result's key is part of it, so a read whose key holds a revision (the deals register) is never served stale.
    page_key = ("page", request.url.path, tuple(sorted(request.query_params.multi_items())), csv, limit, key)
    return respond(request, cache.get(page_key, render))
