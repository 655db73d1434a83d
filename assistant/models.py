"""Which embedder the assistant runs: the bundled MiniLM and the safety classifier exported to
ONNX in the data folder (no torch on the question path), exporting them once when they are not
there yet; torch's own models where an export can't be made (no `onnx` or onnxruntime)."""

from __future__ import annotations

import logging
import os
from typing import Callable

from index import BundledMiniLM, Embedder
from index.embedders import OnnxMiniLM
from index.exported import ExportedModels, export_models, open_models

from .settings import Settings

log = logging.getLogger("closer.models")
BACKEND_ENV = "CLOSER_QUESTION_MODELS"  # "onnx" (the default) or "torch": the models as trained, for comparison


def expected_sources() -> dict[str, str]:
    """What each export must have been made from to be used now."""
    from .safety.classifier import weights_source

    return {"embedder": BundledMiniLM().source, "safety": weights_source()}


def export_question_models(settings: Settings, *, verify: bool = True,
                           notify: Callable[[str], None] = lambda message: None) -> ExportedModels:
    """Export the embedder and the safety classifier to `settings.models_dir` unless an export of
    the same source is there (checked by hash with `verify`). Needs torch and `onnx`."""
    import onnx  # noqa: F401  (torch.onnx.export writes with it)
    import onnxruntime  # noqa: F401  (it saves the optimised graph)

    from .safety.classifier import SafetyModel

    bundled = BundledMiniLM()
    sources = expected_sources()
    builders = {"embedder": (sources["embedder"], bundled.export),
                "safety": (sources["safety"], lambda folder: SafetyModel.load(bundled.load()).export(folder))}
    return export_models(settings.models_dir, builders, verify=verify, notify=notify)


def question_embedder(settings: Settings, *, export: bool = True, verify: bool = False, warm: bool = True,
                      notify: Callable[[str], None] = lambda message: None) -> Embedder:
    """The ONNX embedder when the data folder holds current exports (made now when `export` and
    they are missing or stale), else the bundled model through torch. CLOSER_QUESTION_MODELS=torch
    chooses torch's models whatever the data folder holds. With `verify` (`closer ingest`) each
    export's hash is checked too, and a file that differs is exported again."""
    backend = os.environ.get(BACKEND_ENV, "onnx").strip().lower()
    if backend not in ("onnx", "torch"):
        from .errors import BadRequest

        raise BadRequest(f"{BACKEND_ENV}={backend!r}: use onnx (the default) or torch")
    if backend == "torch":
        return BundledMiniLM()
    models = None if verify else open_models(settings.models_dir, expected_sources())
    if models is None and export:
        try:
            models = export_question_models(settings, verify=verify, notify=notify)
        except ImportError as exc:  # no `onnx` or onnxruntime: torch answers, as before
            log.warning("answering with torch: %s is not installed to export the models to ONNX", exc.name)
            return BundledMiniLM()
        except Exception as exc:  # an export that fails must not stop the answer: torch gives it
            log.warning("answering with torch: the models could not be exported to ONNX (%s)", exc)
            return BundledMiniLM()
    if models is None:
        return BundledMiniLM()
    if warm:  # the sessions open while the index loads (else at their first use)
        models.warm()
    return OnnxMiniLM(models)
