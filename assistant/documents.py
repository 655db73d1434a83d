"""Adding a document to the corpus from an upload: checked, ingested, then written into the corpus.

The file is read from a temporary folder first, so a file that can't be ingested (a corrupt PDF, a
binary file renamed .txt) never enters the corpus, and the index built so far is untouched.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ingest import IngestError, corpus_files, ingest_file
from ingest.loaders import SUPPORTED_SUFFIXES

from .errors import BadRequest

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
_UNSAFE = re.compile(r"[^\w.\- ]+")


class UploadRejected(BadRequest):
    """An uploaded file that is not added; the message says which, why and what to do."""

    def __init__(self, reason: str, filename: str | None = None) -> None:
        self.reason, self.filename = reason, filename
        super().__init__(f"{filename} was not added: {reason}" if filename else reason)


def safe_name(name: str) -> str:
    """The file name an upload may take inside the corpus: no folders, no leading dot, no odd characters."""
    base = re.split(r"[\\/]", name or "")[-1].strip()
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or base.startswith("."):
        raise UploadRejected(f"{name!r} is not a usable file name; rename the file, e.g. my-article.txt")
    return base


def given_name(name: str) -> str:
    """The file's name as the user gave it, without folders: what a refusal calls it."""
    return re.split(r"[\\/]", name or "")[-1].strip() or name


def check_upload(name: str, size: int) -> str:
    """Refuse a type or size closer can't take; return the safe file name."""
    filename, given = safe_name(name), given_name(name)
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadRejected(f"closer reads .txt, .md, .html and .pdf files, not "
                             f"{suffix or 'files without an extension'}", given)
    if size == 0:
        raise UploadRejected("the file is empty", given)
    if size > MAX_UPLOAD_BYTES:
        raise UploadRejected(f"it is {size / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB", given)
    return filename


def add_document(corpus: Path, name: str, data: bytes) -> Path:
    """Write an uploaded document into `corpus` once it is known to ingest; return its path."""
    filename, given = check_upload(name, len(data)), given_name(name)
    target = corpus / filename
    taken = {p.stem.casefold(): p.name for p in corpus_files(corpus)}
    if target.exists() or Path(filename).stem.casefold() in taken:
        existing = taken.get(Path(filename).stem.casefold(), filename)
        held = "a file of that name" if existing in (filename, given) else existing
        raise UploadRejected(f"the corpus already has {held}; rename your file to add it as a new document", given)
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / filename
        trial.write_bytes(data)
        try:
            ingest_file(trial)
        except IngestError as exc:
            reason = str(exc)
            for prefix in (f"{trial}: ", f"{filename}: "):  # the file is named once, not twice
                reason = reason[len(prefix):] if reason.startswith(prefix) else reason
            raise UploadRejected(reason, given) from exc
        except OSError as exc:
            raise UploadRejected(f"it cannot be read ({exc})", given) from exc
    partial = corpus / f".{filename}.part"
    partial.write_bytes(data)
    partial.replace(target)
    return target
