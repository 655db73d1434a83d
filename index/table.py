"""Records read from a JSON-lines file only when asked for: a million passages open in no time.

`chunks.jsonl` and `articles.jsonl` stay the index's records, one JSON object a line; beside each
the index keeps where every line starts (`*.offsets.npy`), so record i is one seek and one parse
away. Parsing all million lines at once took longer than the whole question it serves.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import numpy as np

T = TypeVar("T")


def line_offsets(path: Path) -> np.ndarray:
    """Where each line of `path` starts, and one past the end (n + 1 values)."""
    data = np.fromfile(path, dtype=np.uint8)
    ends = np.flatnonzero(data == 10) + 1
    if len(data) and data[-1] != 10:
        ends = np.append(ends, len(data))
    return np.concatenate([[0], ends]).astype(np.int64)


def write_lines(path: Path, records) -> np.ndarray:
    """Write one JSON object a line; return where each starts (n + 1 values)."""
    offsets = [0]
    with open(path, "wb") as f:
        for record in records:
            line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
            f.write(line)
            offsets.append(offsets[-1] + len(line))
    return np.array(offsets, dtype=np.int64)


class LazyRecords(Sequence):
    """Record i of a JSON-lines file, parsed when first asked for (the last 65,536 kept)."""

    def __init__(self, path: Path, offsets: np.ndarray, parse: Callable[[dict], T]) -> None:
        self.path = Path(path)
        self.offsets = offsets
        self.parse = parse
        with open(self.path, "rb") as f:
            size = int(self.offsets[-1])
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        if len(self._map) < int(self.offsets[-1]):
            raise ValueError(f"{self.path.name} is shorter than its offsets say")
        self._record = lru_cache(maxsize=65_536)(self._read)

    def _read(self, i: int):
        return self.parse(json.loads(self._map[int(self.offsets[i]):int(self.offsets[i + 1])]))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"record {i} of {n}")
        return self._record(i)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None

    def __iter__(self) -> Iterator:
        for i in range(len(self)):
            yield self._read(i)  # a whole pass is not kept: it would hold every record


class LazyMapping(Mapping):
    """Records by key, each parsed when first asked for; the keys (in file order) are known."""

    def __init__(self, records: LazyRecords, keys: list[str]) -> None:
        if len(keys) != len(records):
            raise ValueError(f"{len(keys)} keys for {len(records)} records")
        self.records = records
        self.keys_in_order = keys
        self.position = {key: i for i, key in enumerate(keys)}

    def __getitem__(self, key):
        return self.records[self.position[key]]

    def __iter__(self):
        return iter(self.keys_in_order)

    def __len__(self) -> int:
        return len(self.keys_in_order)

    def __contains__(self, key) -> bool:
        return key in self.position

    def __eq__(self, other) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return len(self) == len(other) and all(k in other and self[k] == other[k] for k in self)

    __hash__ = None

    def values(self):
        return iter(self.records)

    def items(self):
        return zip(self.keys_in_order, self.records)
