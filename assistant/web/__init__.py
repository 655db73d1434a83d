"""The web page of `closer serve`."""

from .app import build_app, launch
from .loading import AssistantLoader
from .render import as_text

__all__ = ["AssistantLoader", "as_text", "build_app", "launch"]
