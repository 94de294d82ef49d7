"""Evaluation on labelled contracts (see evals/sample_labels.py for the project's own samples)."""
