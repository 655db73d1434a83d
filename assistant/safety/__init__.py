"""Safety: recognise a question that discloses danger and point the person to help first.

`SafetyLayer.open(embedder)` is what the assistant uses: `assess(question)` reads the question
(patterns, then a classifier on the embedder's sentence vectors), `guard(answer, assessment)`
opens the answer with a notice from the resources file and keeps only safe quotes.
"""

from .classifier import SafetyModel, SafetyModelError
from .detector import Detector
from .layer import SafetyLayer
from .records import CONCERNS, NONE, Assessment, Evidence, Resource, SafetyNotice
from ..settings import COUNTRY_ENV
from .resources import FILE_ENV, ResourceBook, SafetyFileError, load_resources, resources_path

__all__ = ["CONCERNS", "COUNTRY_ENV", "FILE_ENV", "NONE", "Assessment", "Detector", "Evidence", "Resource",
           "ResourceBook", "SafetyFileError", "SafetyLayer", "SafetyModel", "SafetyModelError", "SafetyNotice",
           "load_resources", "resources_path"]
