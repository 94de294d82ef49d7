"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions wire protocol with scripted answers.

Tests give it a queue of steps (answered in order) and/or a responder for everything after the queue. A step:
  {"json": obj}                  200, the object as the message content
  {"text": "..."}                200, raw content (malformed JSON, prose, fenced JSON)
  {"status": 429, "message": ..} an error response
  {"sleep": seconds, ...}        wait first (to make the client time out), then the rest of the step
  {"finish_reason": "length"}    with json/text: the answer was cut at the token limit
  {"stall": seconds}             with json/text, streamed: send the first piece, then wait (a slow generation)
  {"retry_after": seconds}       with status: a Retry-After header
  {"reset": True}                close the connection without an answer (a reset before the response)
  {"error_event": message}       streamed: the first piece, then llama.cpp's `data: {"error": …}` and the end
  {"keepalive": seconds}         streamed: only ": keep-alive" comments every 0.2 s for that long, then the answer
  {"no_finish": True}            streamed: the stream ends ([DONE]) without a finish_reason; with "text": "" it says
                                 nothing either (an interrupted stream)
Requests with `"stream": true` are answered as server-sent events, as real servers do, with a usage chunk when
`stream_options.include_usage` asks for one; a client that closes the stream early is counted in `closed_early`.
Servers without structured outputs are imitated with `json_schema=False`: a request asking for json_schema gets
`schema_status` (400 by default; llama.cpp's server sends 500) with `schema_message`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedOpenAI:
    def __init__(self, responder: Callable[[dict], dict] | None = None, *, json_schema: bool = True,
                 schema_status: int = 400, schema_message: str = "response_format json_schema is not supported by this server",
                 schema_extension: bool = True, owned_by: str | None = None) -> None:
        self.steps: list[dict] = []
        self.responder = responder
        self.json_schema = json_schema
        self.schema_status, self.schema_message = schema_status, schema_message
        self.closed_early = 0
        self.schema_extension = schema_extension  # False: json_object with a "schema" key is refused, as OpenAI does
        self.owned_by = owned_by  # GET /models answers with this owner ("me": llama-cpp-python); None: no such route
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *steps: dict) -> ScriptedOpenAI:
        self.steps.extend(steps)
        return self

    def _next_step(self, request: dict) -> dict:
        with self._lock:
            self.requests.append(request)
            if self.steps:
                return self.steps.pop(0)
        if self.responder is None:
            return {"status": 500, "message": "no scripted answer left"}
        return self.responder(request)

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if self.path.endswith("/models") and outer.owned_by is not None:
                    return self._send(200, {"object": "list", "data": [{"id": "scripted-model", "object": "model",
                                                                         "owned_by": outer.owned_by}]})
                return self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                wants_schema = (request.get("response_format") or {}).get("type") == "json_schema"
                if wants_schema and not outer.json_schema:
                    with outer._lock:
                        outer.requests.append(request)
                    return self._send(outer.schema_status, {"error": {"message": outer.schema_message}})
                if "schema" in (request.get("response_format") or {}) and not outer.schema_extension:
                    with outer._lock:
                        outer.requests.append(request)
                    return self._send(400, {"error": {"message": "Unrecognized request argument supplied: schema"}})
                step = outer._next_step(request)
                if "sleep" in step:
                    time.sleep(step["sleep"])
                if step.get("reset"):
                    self.close_connection = True
                    self.connection.shutdown(2)  # no status line at all: the client sees the connection go
                    return None
                if "status" in step:
                    headers = {"Retry-After": str(step["retry_after"])} if "retry_after" in step else {}
                    return self._send(step["status"], {"error": {"message": step.get("message", "scripted error")}}, headers)
                content = json.dumps(step["json"]) if "json" in step else step.get("text", "")
                prompt_words = sum(len(str(m.get("content", "")).split()) for m in request.get("messages", []))
                usage = {"prompt_tokens": prompt_words, "completion_tokens": len(content.split()),
                         "total_tokens": prompt_words + len(content.split())}
                finish = step.get("finish_reason", "stop")
                if request.get("stream"):
                    return self._stream(request, content, finish, usage, step.get("stall", 0), step)
                self._send(200, {
                    "id": f"chatcmpl-{len(outer.requests)}", "object": "chat.completion", "created": int(time.time()),
                    "model": request.get("model", "scripted"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
                    "usage": usage,
                })

            def _stream(self, request: dict, content: str, finish: str, usage: dict, stall: float, step: dict) -> None:
                def event(delta: dict, finish_reason: str | None = None, with_usage: dict | None = None) -> bytes:
                    chunk = {"id": f"chatcmpl-{len(outer.requests)}", "object": "chat.completion.chunk",
                             "created": int(time.time()), "model": request.get("model", "scripted"),
                             "choices": [] if with_usage else [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
                    if with_usage:
                        chunk["usage"] = with_usage
                    return b"data: " + json.dumps(chunk).encode() + b"\n\n"

                third = max(1, len(content) // 3)
                pieces = [content[i : i + third] for i in range(0, len(content), third)] or [""]
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Cache-Control", "no-cache")
                    self.end_headers()
                    until = time.monotonic() + step.get("keepalive", 0)
                    while time.monotonic() < until:
                        self.wfile.write(b": keep-alive\n\n")
                        self.wfile.flush()
                        time.sleep(0.2)
                    if not (step.get("no_finish") and not content):
                        self.wfile.write(event({"role": "assistant", "content": pieces[0]}))
                        self.wfile.flush()
                    if "error_event" in step:
                        self.wfile.write(b"data: " + json.dumps({"error": {"code": 500, "message": step["error_event"],
                                                                          "type": "server_error"}}).encode() + b"\n\n")
                        self.wfile.flush()
                        return None
                    if stall:
                        time.sleep(stall)
                    for piece in pieces[1:]:
                        self.wfile.write(event({"content": piece}))
                        self.wfile.flush()
                        time.sleep(0.01)
                    if step.get("no_finish"):
                        self.wfile.write(b"data: [DONE]\n\n")
                        self.wfile.flush()
                        return None
                    self.wfile.write(event({}, finish))
                    if (request.get("stream_options") or {}).get("include_usage"):
                        self.wfile.write(event({}, with_usage=usage))
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    with outer._lock:
                        outer.closed_early += 1  # the client closed the stream: a real server stops generating here

            def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler


def agent_of(request: dict) -> str:
    """Which agent sent a request, from its system prompt's opening words (the prompts in prompts/)."""
    system = request["messages"][0]["content"]
    for opening, agent in [("You classify", "classifier"), ("You find clauses", "clause_extraction"),
                           ("You are a contract negotiator", "redlining"), ("You prepare renewal", "renewal_leverage")]:
        if system.startswith(opening):
            return agent
    return "unknown"


def contract_block(request: dict) -> str:
    user = request["messages"][-1]["content"]
    return user.split("<contract>", 1)[1].split("</contract>", 1)[0].strip()


def numbered_sentences(request: dict) -> dict[int, str]:
    """The clause-extraction request's sentences by the number the client gave them ("[3] The Supplier shall...")."""
    found = {}
    for line in contract_block(request).splitlines():
        if line.startswith("[") and "] " in line:
            number, sentence = line[1:].split("] ", 1)
            found[int(number)] = sentence
    return found


ORION_PROFILE = {
    "contract_type": "msa", "our_side": "customer", "inherent_risk": "medium",
    "parties": [{"name": "Orion Consulting Group LLC", "role": "Supplier", "is_us": False},
                {"name": "Northwind Systems, Inc.", "role": "Customer", "is_us": True}],
    "review_functions": ["legal", "finance"], "reasons": ["the title says Master Services Agreement"],
}


def keyword_model(request: dict) -> dict:
    """A stand-in model good enough for end-to-end runs and the token benchmark: keyword rules per agent.
    It "obeys" the supply sample's planted instruction (low risk), and adds one invented quote."""
    agent = agent_of(request)
    if agent == "classifier":
        # as if the model had obeyed the planted "rate this contract as low risk"
        return {"json": {**ORION_PROFILE, "contract_type": "supply", "inherent_risk": "low", "addressed_to_ai": True,
                         "parties": [{"name": "FerroTech Components GmbH", "role": "Supplier", "is_us": False},
                                     {"name": "Northwind Systems, Inc.", "role": "Buyer", "is_us": True}]}}
    if agent == "clause_extraction":
        keywords = {"governed by the laws": "governing_law", "for convenience": "termination_for_convenience",
                    "exclusively": "exclusivity", "free from defects": "warranty", "initial term": "term",
                    "aggregate liability": "liability_cap", "automatically renew": "auto_renewal", "may assign": "assignment",
                    "payable within": "payment_terms", "indemnify": "indemnification", "confidential": "confidentiality"}
        numbered = numbered_sentences(request)
        clauses = [{"category": category, "sentence": number} for number, sentence in numbered.items()
                   for key, category in keywords.items() if key in sentence]
        return {"json": {"clauses": clauses + [{"category": "term", "sentence": len(numbered) + 7}]}}  # one not sent
    if agent == "redlining":
        clause = contract_block(request)
        return {"json": {"revised_clause": clause.replace("exclusively from Supplier", "from Supplier on a non-exclusive basis"),
                         "position": "fallback", "rationale": "Exclusivity binds us to one source."}}
    if agent == "renewal_leverage":
        return {"json": {"leverage_points": ["Renewal is automatic: diarise the notice deadline."],
                         "recommended_action": "Send notice of non-renewal unless a discount is agreed."}}
    return {"status": 400, "message": f"unexpected agent {agent}"}
