"""Token economy of the LLM backend: what the agents send, against sending the whole contract to every agent.

    python benchmarks/llm_token_budget.py [--cuad 20]

Runs the review graph on the LLM backend against the scripted chat-completions server from the tests (a keyword
stand-in model on 127.0.0.1, no network), then counts every message actually sent with tiktoken's cl100k encoding.
Baseline: each of the five agents gets its prompt template plus the full contract text.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cuad", type=int, default=0, help="also this many CUAD dev contracts (needs ../shared/datasets/cuad)")
    args = parser.parse_args()

    from scripted_openai import ScriptedOpenAI, keyword_model

    from document_io.loader import load_document
    from document_io.models import document_from_text
    from graphs.review_graph import build_graph
    from model_backends.llm_client import AGENTS, LLMClient, LLMSettings
    from model_backends.local_engine import LocalEngine
    from model_backends.prompt_templates import PROMPTS_DIR, load_prompt
    from model_backends.token_budget import count_tokens

    documents = [load_document(p) for p in sorted((ROOT / "samples").glob("*.docx"))]
    if args.cuad:
        from evals.datasets import CuadDataset

        documents += [document_from_text(name=c.id[:40], text=c.text) for c in islice(CuadDataset().contracts("dev"), args.cuad)]
    prompted = [a for a in AGENTS if (PROMPTS_DIR / f"{a}.md").exists()]  # compliance has no prompt: it is rules
    template_tokens = sum(count_tokens(load_prompt(a).system + load_prompt(a).user) for a in prompted)
    with tempfile.TemporaryDirectory() as scratch, ScriptedOpenAI(keyword_model) as server:
        engine = LocalEngine(Path(scratch))
        llm = LLMClient(LLMSettings(base_url=server.base_url, api_key="benchmark", retry_initial_s=0.01))
        graph = build_graph(engine, None, llm)
        sent_total = baseline_total = 0
        for document in documents:
            before = len(server.requests)
            graph.invoke({"document": document.model_dump(mode="json"), "base_docx_path": "", "output_dir": scratch,
                          "our_names": ["Northwind Systems"], "today": "2026-11-23", "spend": [], "performance": []},
                         {"configurable": {"thread_id": document.sha256}})
            sent = sum(count_tokens(m["content"]) for r in server.requests[before:] for m in r["messages"])
            baseline = 5 * count_tokens(document.text) + template_tokens
            sent_total += sent
            baseline_total += baseline
            print(f"{document.name[:40]:<40} {count_tokens(document.text):>7} contract tokens · sent {sent:>7} · "
                  f"whole-contract baseline {baseline:>7} · {100 * sent / baseline:5.1f}%")
    print(f"ALL: sent {sent_total} tokens vs {baseline_total} ({100 * sent_total / baseline_total:.1f}% of the baseline)")


if __name__ == "__main__":
    main()
