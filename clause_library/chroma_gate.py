"""A token gate in front of a Chroma server. The Chroma server that ships with the pinned chromadb (1.x) has no
authentication of its own, and anyone who can write to it can change what reviews retrieve; so the server listens
on loopback only and this gate, on the address the other machines reach, passes on only requests that carry the
deployment's token (`X-Chroma-Token: …`, chromadb's own header, or `Authorization: Bearer …`).

    python -m clause_library.chroma_gate --listen HOST:PORT --upstream http://127.0.0.1:PORT --token-file FILE

scripts/chroma_server.sh starts both. Clients send the token from CLAUSEFLOW_CHROMA_TOKEN (clause_library/chroma_client.py).
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
from pathlib import Path

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
               "transfer-encoding", "upgrade", "host", "content-length", "x-chroma-token", "authorization"}
MAX_BODY = 64 * 1024 * 1024


def presented_token(headers) -> str:
    bearer = headers.get("authorization", "")
    return headers.get("x-chroma-token") or (bearer[7:] if bearer.lower().startswith("bearer ") else "")


def build_app(upstream: str, token: str):
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    client = httpx.AsyncClient(base_url=upstream, timeout=httpx.Timeout(120.0, connect=5.0))

    async def forward(request: Request) -> Response:
        if not hmac.compare_digest(presented_token(request.headers).encode(), token.encode()):
            return JSONResponse({"error": "Unauthorized", "message": "a valid Chroma token is required"}, status_code=401)
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "PayloadTooLarge"}, status_code=413)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            answer = await client.request(request.method, request.url.path, params=request.url.query, content=body,
                                          headers=headers)
        except httpx.HTTPError as exc:
            return JSONResponse({"error": "BadGateway", "message": f"Chroma did not answer: {type(exc).__name__}"},
                                status_code=502)
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP | {"content-encoding"}}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await client.aclose()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)], lifespan=lifespan)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", required=True, help="HOST:PORT the gate answers on")
    parser.add_argument("--upstream", required=True, help="the Chroma server, http://127.0.0.1:PORT")
    parser.add_argument("--token-file", required=True, type=Path)
    args = parser.parse_args(argv)
    token = args.token_file.read_text(encoding="utf-8").strip()
    if len(token) < 32:
        raise SystemExit("the token must be at least 32 characters")
    host, _, port = args.listen.rpartition(":")
    uvicorn.run(build_app(args.upstream, token), host=host or "127.0.0.1", port=int(port), log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
