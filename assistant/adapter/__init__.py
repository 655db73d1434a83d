"""A query-side adapter: a linear map added to the question's vector, trained on questions written
the way people ask, so that everyday words land near the articles' passages (as LlamaIndex's
embedding-adapter fine-tuning does). Passages keep the bundled model's vectors: no index changes."""

from .model import AdapterError, QueryAdapter, manifest_record

__all__ = ["AdapterError", "QueryAdapter", "manifest_record"]
