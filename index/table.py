"""Records read from a JSON-lines file only when asked for: a million passages open in no time.

`chunks.jsonl` and `articles.jsonl` stay the index's records, one JSON object a line; beside each
the index keeps where every line starts (`*.offsets.npy`), so record i is one seek and one parse
away. Parsing all million lines at once took longer than the whole question it serves.
"""

from __future__ import annotations

import json
import mmap
import os
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


class RowFile:
    """A 2-D array in a `.npy` file whose rows are read with `pread` when asked for, not mapped.

    A memory map of a large array counts every page a question touches as the process's own
    (with this kernel's large page-cache folios, about 1.5 MB a random row); read with `pread`,
    a row costs its own bytes once, and the page cache stays the system's. Used for arrays
    above LARGE_ARRAY bytes; smaller ones are memory-mapped.
    """

    ndim = 2

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as f:
            major, _ = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(f)
            self.offset = f.tell()
        if len(shape) != 2 or fortran:
            raise ValueError(f"{self.path.name} is not a C-ordered 2-D array")
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.row_bytes = self.shape[1] * self.dtype.itemsize
        self._fd = os.open(self.path, os.O_RDONLY)

    def __del__(self, close=os.close) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            close(fd)

    def __len__(self) -> int:
        return self.shape[0]

    def _read(self, start: int, count: int, out: np.ndarray | None = None) -> np.ndarray:
        out = np.empty((count, self.shape[1]), dtype=self.dtype) if out is None else out
        view = memoryview(out).cast("B")
        done, position = 0, self.offset + start * self.row_bytes
        while done < len(view):  # a read returns at most about 2 GB
            got = os.preadv(self._fd, [view[done:done + (1 << 30)]], position + done)
            if got <= 0:
                raise ValueError(f"{self.path.name} ends before row {start + count}")
            done += got
        return out

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            key = int(key) + (len(self) if key < 0 else 0)
            if not 0 <= key < len(self):
                raise IndexError(f"row {key} of {len(self)}")
            return self._read(key, 1)[0]
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            rows = self._read(start, max(0, stop - start))
            return rows if step == 1 else rows[::step]
        rows = np.asarray(key)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        rows = rows.astype(np.int64).ravel()
        rows = np.where(rows < 0, rows + len(self), rows)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"a row outside 0..{len(self) - 1}")
        wanted, back = np.unique(rows, return_inverse=True)
        out = np.empty((len(wanted), self.shape[1]), dtype=self.dtype)
        # One read per run of consecutive rows (a passage's tokens are one run).
        breaks = np.flatnonzero(np.diff(wanted) != 1) + 1
        for first, last in zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(wanted)]])):
            self._read(int(wanted[first]), int(last - first), out[first:last])
        return out[back]

    def __matmul__(self, other) -> np.ndarray:
        block = max(1, (64 << 20) // max(1, self.row_bytes))
        parts = [self._read(s, min(block, len(self) - s)) @ other for s in range(0, len(self), block)]
        return np.concatenate(parts) if parts else np.zeros((0,) + np.shape(other)[1:], dtype=np.float32)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self._read(0, len(self))
        return whole if dtype is None else whole.astype(dtype)


LARGE_ARRAY = 256 << 20  # bytes: above this an array is read by rows (RowFile), below it mapped


def open_array(path: Path):
    """A saved array: memory-mapped, or for a large 2-D one a RowFile."""
    path = Path(path)
    if path.stat().st_size > LARGE_ARRAY:
        try:
            return RowFile(path)
        except ValueError:
            pass
    return np.load(path, mmap_mode="r")
