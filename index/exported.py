"""The models a question passes through, exported once to ONNX and run with onnxruntime and the
model's own tokenizer (the `tokenizers` package): no torch on the question path.

Torch stays for building: `export_models` (at ingest) exports the bundled MiniLM's transformer
(its last hidden state; mean pooling and normalising are numpy here) and any network stacked on
it (the safety classifier) into the data folder, `HOME/models/`, with `models.json` beside them:
each file's SHA-256, size and what it was exported from. `open_models` reads that record back
and refuses a file that changed or a source that moved on, so a stale export is never run.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

EXPORT_VERSION = 2  # 2: the graph saved optimised
MANIFEST = "models.json"
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
BATCH = 32


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ExportedModel:
    """One exported network: its ONNX file, tokenizer, input length and where it came from."""

    name: str
    file: str
    tokenizer: str
    max_tokens: int
    source: str  # what it was exported from: the bundled package's version, or the weights' hash
    sha256: str
    size: int

    def to_dict(self) -> dict:
        return asdict(self)


def export_transformer(module, example: dict, path: Path, output: str) -> None:
    """Export a torch module taking (input_ids, attention_mask, token_type_ids) to ONNX, with the
    batch and sequence axes dynamic. Needs torch and the `onnx` package (building only)."""
    import torch

    class Inputs(torch.nn.Module):  # positional inputs, as torch.onnx.export passes them
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return getattr(out, "last_hidden_state", out)  # a transformer's states, or a network's output

    raw = path.with_name(f".{path.name}.raw")
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    axes[output] = {0: "batch", 1: "tokens"} if output == "last_hidden_state" else {0: "batch"}
    with torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(Inputs(module.eval()), tuple(example[name] for name in INPUTS), str(raw),
                          input_names=list(INPUTS), output_names=[output], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)
    optimise(raw, path)
    raw.unlink()


def optimise(raw: Path, path: Path) -> None:
    """Save the graph as onnxruntime optimises it (fused layer norms, attention, GELU), so that
    opening it later skips that work: about half the time a session takes to open. The extended
    level, not "all": its graph runs on any x86 CPU, not only the one that wrote it."""
    import onnxruntime

    partial = path.with_name(f".{path.name}.part")
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(partial)
    options.log_severity_level = 3
    onnxruntime.InferenceSession(str(raw), options, providers=["CPUExecutionProvider"])
    partial.replace(path)


class OnnxNetwork:
    """An exported network with its tokenizer: texts in, its output per text out (batches sorted by
    length, so that little is padding). Sessions use `question_threads()` threads."""

    def __init__(self, folder: Path, record: ExportedModel) -> None:
        from tokenizers import Tokenizer

        self.record = record
        self.path = folder / record.file
        self.session = _session(self.path, threads=question_threads())
        self.tokenizer = Tokenizer.from_file(str(folder / record.tokenizer))
        self.tokenizer.enable_truncation(record.max_tokens)
        self.tokenizer.no_padding()
        self.special = {self.tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]")} - {None}

    def encodings(self, texts: Sequence[str]):
        return self.tokenizer.encode_batch(list(texts))

    def run(self, encodings, session=None) -> tuple[np.ndarray, np.ndarray]:
        """The network's output for one batch of encodings (padded here), and the attention mask."""
        width = max(len(e.ids) for e in encodings)
        arrays = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in INPUTS}
        for row, e in enumerate(encodings):
            arrays["input_ids"][row, :len(e.ids)] = e.ids
            arrays["attention_mask"][row, :len(e.ids)] = 1
            arrays["token_type_ids"][row, :len(e.ids)] = e.type_ids
        return (session or self.session).run(None, arrays)[0], arrays["attention_mask"]

    def batches(self, texts: Sequence[str], batch_size: int = BATCH, pool: "SessionPool | None" = None):
        """(rows, encodings, output, mask) per batch, shortest texts first; with a `pool`, its
        sessions run the batches side by side (in the order they finish)."""
        encodings = self.encodings(texts)
        work = length_batches([len(e.ids) for e in encodings], batch_size)
        if pool is not None:
            yield from pool.run(self, [(rows, [encodings[i] for i in rows]) for rows in work])
            return
        for rows in work:
            chosen = [encodings[i] for i in rows]
            output, mask = self.run(chosen)
            yield rows, chosen, output, mask


THREADS_ENV = "CLOSER_THREADS"  # threads a question-path session uses (default: every core)


def question_threads() -> int:
    """The threads of a question-path session: CLOSER_THREADS, else every core. `closer serve`
    sets it to cores / --concurrency, so that answers worked on at once don't fight for cores."""
    try:
        return max(1, int(os.environ.get(THREADS_ENV) or 0) or os.cpu_count() or 1)
    except ValueError:
        return os.cpu_count() or 1


PADDING_SLACK = 1.25  # a batch's widest text at most this many times its narrowest (or 8 tokens wider)


def length_batches(lengths: Sequence[int], batch_size: int, slack: float = PADDING_SLACK) -> list[list[int]]:
    """Rows grouped into batches, shortest first, of at most `batch_size` rows whose lengths stay
    within `slack` (or 8 tokens) of each other, so that little of a batch is padding. A question's
    few units (a sentence of 15 tokens beside a whole text of 96) padded to one width cost 2.6
    times their own tokens: the safety classifier spent 400 ms on a long question in one batch
    of 32, 150 ms in batches like these, with the same probabilities."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    work: list[list[int]] = []
    for row in order:
        if work and len(work[-1]) < batch_size and lengths[row] <= max(slack * lengths[work[-1][0]],
                                                                       lengths[work[-1][0]] + 8):
            work[-1].append(row)
        else:
            work.append([row])
    return work


def _session(path: Path, *, threads: int, arena: bool = False):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    # Threads sleep between runs instead of spinning: spinning took the cores from the rest of an
    # answer (retrieval, quotes), 181 against 113 ms an answer (benchmarks/bench_answers.py).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # warnings about unused initialisers are not the user's business
    # Optimised at export (`optimise`): opening it does no graph work again.
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    # No arena kept for the largest batch ever run (unless asked): a question is a few tokens.
    options.enable_cpu_mem_arena = arena
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


BULK_BATCH = 8  # texts a batch when a pool encodes a corpus: measured fastest on 2 cores (benchmarks/README)


class SessionPool:
    """One single-threaded session a core, each running its own batches, for encoding a corpus.

    On 2 cores two sessions of one thread each encode SciFact's passages 10-20 % faster than one
    session of two threads (or torch): a batch's small matrices do not keep two threads busy, two
    batches do. The pool lives for one build; the question path keeps its own session."""

    def __init__(self, network: OnnxNetwork, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._path = network.path
        self._local = threading.local()
        self._executor = None

    def _own_session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = _session(self._path, threads=1, arena=True)
        return session

    def run(self, network: OnnxNetwork, work: list[tuple[list[int], list]]):
        """(rows, encodings, output, mask) for each (rows, encodings) of `work`, a few batches ahead
        at most (their outputs are held until taken)."""
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="closer-encode")

        def one(item):
            rows, encodings = item
            output, mask = network.run(encodings, self._own_session())
            return rows, encodings, output, mask

        pending: deque = deque()
        for item in work:
            pending.append(self._executor.submit(one, item))
            if len(pending) >= 2 * self.workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


@dataclass
class ExportedModels:
    """The exports in a data folder's `models/`, by name, as `models.json` records them."""

    folder: Path
    models: dict[str, ExportedModel]
    _networks: dict | None = None
    _locks: dict | None = None

    def __post_init__(self) -> None:
        self._networks = {}
        self._locks = {name: threading.Lock() for name in self.models}

    def network(self, name: str) -> OnnxNetwork:
        """The named network, its session opened on first use (or waited for, when `warm` is
        opening it)."""
        with self._locks[name]:
            if name not in self._networks:
                self._networks[name] = OnnxNetwork(self.folder, self.models[name])
            return self._networks[name]

    def warm(self) -> None:
        """Open every session now, each on its own thread: onnxruntime opens them without the
        GIL, so they load while the index does."""
        def open_quietly(name: str) -> None:
            try:
                self.network(name)
            except Exception:  # raised again, to the caller, at its first use
                pass

        threads = [threading.Thread(target=open_quietly, args=(name,), name=f"closer-open-{name}", daemon=True)
                   for name in self.models]
        for thread in threads:
            thread.start()
        # A process that ends while a session is still opening aborts inside onnxruntime
        # ("terminate called without an active exception"): let the opening finish first.
        atexit.register(lambda: [thread.join() for thread in threads])

    def record(self) -> dict:
        """For the index manifest: each export's file, hash and source."""
        return {name: {"file": m.file, "sha256": m.sha256, "source": m.source} for name, m in self.models.items()}


def read_manifest(folder: Path) -> dict:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError):
        return {}  # a damaged record is as good as none: the models are exported again
    return data if data.get("version") == EXPORT_VERSION else {}


def _usable(folder: Path, raw: dict | None, source: str, *, verify: bool = False) -> ExportedModel | None:
    """The recorded export when it was made from `source` and its files are there at the size
    recorded (and, with `verify`, its hash); else None."""
    try:
        model = ExportedModel(**raw)
    except TypeError:  # no record, or one of another shape
        return None
    path = folder / model.file
    if model.source != source or not path.is_file() or path.stat().st_size != model.size \
            or not (folder / model.tokenizer).is_file():
        return None
    return model if not verify or file_sha256(path) == model.sha256 else None


def open_models(folder: Path, expected: dict[str, str]) -> ExportedModels | None:
    """The exports of `folder` when each of `expected` (name -> source) is there, exported from
    that source, and its file is the size recorded (its hash is checked at export, not at each
    opening: hashing 180 MB would cost more than the whole answer); else None."""
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError:
        return None
    data = read_manifest(folder)
    found = {name: _usable(folder, data.get("models", {}).get(name), source) for name, source in expected.items()}
    return ExportedModels(folder, found) if all(found.values()) else None


def export_models(folder: Path, builders: dict[str, tuple[str, Callable[[Path], ExportedModel]]], *,
                  verify: bool = True, notify: Callable[[str], None] = lambda message: None) -> ExportedModels:
    """Export each model of `builders` (name -> (source, export function)) into `folder` unless
    an export of that source is there already (and, with `verify`, its hash matches); record them
    in `models.json`. Returns the exports."""
    folder.mkdir(parents=True, exist_ok=True)
    data = read_manifest(folder)
    models = {}
    for name, (source, build) in builders.items():
        current = _usable(folder, data.get("models", {}).get(name), source, verify=verify)
        if current is not None:
            models[name] = current
            continue
        notify(f"Exporting the {name} model to ONNX (once) into {folder}.")
        models[name] = build(folder)
    record = {"version": EXPORT_VERSION, "models": {name: m.to_dict() for name, m in models.items()}}
    partial = folder / f".{MANIFEST}.part"
    partial.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    partial.replace(folder / MANIFEST)
    return ExportedModels(folder, models)


def finish_export(folder: Path, name: str, onnx_file: str, tokenizer_json: Path, max_tokens: int,
                  source: str) -> ExportedModel:
    """The record of an ONNX file just written, with the tokenizer copied beside it."""
    tokenizer = f"{name}.tokenizer.json"
    shutil.copyfile(tokenizer_json, folder / tokenizer)
    path = folder / onnx_file
    return ExportedModel(name, onnx_file, tokenizer, max_tokens, source, file_sha256(path), path.stat().st_size)
