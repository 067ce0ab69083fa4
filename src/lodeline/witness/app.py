"""The witness's HTTP interface (C2SP tlog-witness): ``POST /add-checkpoint``, and ``GET /`` with its public key.

There is no authentication beyond the log signature on the checkpoint (as the spec says). Bodies are read up to
:data:`~lodeline.trace.witness_protocol.MAX_REQUEST_BYTES`; anything longer is a 400.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from lodeline.trace.witness_protocol import MAX_REQUEST_BYTES
from lodeline.witness import service, state


def create_witness_app(witness: service.Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_REQUEST_BYTES:
                return PlainTextResponse(f"request body is larger than {MAX_REQUEST_BYTES} bytes\n", 400)
        answer = await run_in_threadpool(service.add_checkpoint, witness, bytes(body))
        return Response(answer.body, status_code=answer.status, media_type=answer.content_type)

    async def info(_: Request) -> Response:
        followed = await run_in_threadpool(state.logs, witness.engine)
        lines = [f"name {witness.name}", f"vkey {witness.vkey}"]
        lines += [f"log {row['origin']} {row['tree_size']}" for row in followed]
        return PlainTextResponse("\n".join(lines) + "\n")

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/", info, methods=["GET"]),
        ]
    )
