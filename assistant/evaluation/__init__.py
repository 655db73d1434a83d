"""Evaluation: test sets in standard formats, deterministic metrics, reports and baselines."""

from .metrics import compare, fold
from .runner import EvalResult, open_assistant, run_evaluation
from .testsets import BUILTIN, Document, EvalCase, EvalSet, TestSetError, load_testset

__all__ = ["BUILTIN", "Document", "EvalCase", "EvalResult", "EvalSet", "TestSetError", "compare", "fold",
           "load_testset", "open_assistant", "run_evaluation"]
