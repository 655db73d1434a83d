"""The help a safety notice points to: read from an editable TOML file, by concern and country."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import COUNTRY_ALIASES as ALIASES
from ..settings import country_setting
from .records import CONCERNS, Resource, SafetyNotice

DEFAULT_FILE = Path(__file__).with_name("safety.toml")
FILE_ENV = "CLOSER_SAFETY_FILE"
CORPUS_FILE = "safety.toml"  # a deployment's own copy in its corpus folder
LOCAL_EMERGENCY = "your local emergency number"


class SafetyFileError(Exception):
    """The resources file can't be used; the message names it and what is wrong."""


def resources_path(corpus: Path | None = None) -> Path:
    """CLOSER_SAFETY_FILE, else CORPUS/safety.toml when it exists, else the shipped defaults."""
    explicit = os.environ.get(FILE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    if corpus is not None and (Path(corpus) / CORPUS_FILE).is_file():
        return Path(corpus) / CORPUS_FILE
    return DEFAULT_FILE


@dataclass
class ResourceBook:
    """Messages per concern, emergency numbers per country, and the resources of each."""

    messages: dict[str, str]
    emergency: dict[str, str] = field(default_factory=dict)
    resources: list[tuple[tuple[str, ...], Resource]] = field(default_factory=list)
    source: Path | None = None

    def for_concern(self, concern: str, country: str | None) -> list[Resource]:
        """The country's resources for a concern; the international ones when it has none."""
        local = [r for concerns, r in self.resources if concern in concerns and country and r.region == country]
        return local or [r for concerns, r in self.resources if concern in concerns and r.region == "*"]

    def notice(self, concerns: tuple[str, ...], country: str | None = None) -> SafetyNotice:
        """The notice for the concerns a question raises (most urgent first): the first one's
        message, and the help for each of them, each service listed once."""
        country = country_setting(country)
        primary = concerns[0]
        emergency = self.emergency.get(country or "", LOCAL_EMERGENCY)
        message = self.messages[primary].replace("{emergency}", emergency)
        chosen: list[Resource] = []
        for concern in concerns:
            for resource in self.for_concern(concern, country):
                if resource not in chosen:
                    chosen.append(resource)
        return SafetyNotice(primary, message, tuple(chosen), tuple(concerns))


def load_resources(path: Path | None = None) -> ResourceBook:
    path = Path(path) if path is not None else DEFAULT_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SafetyFileError(f"no safety resources file at {path} (check {FILE_ENV})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SafetyFileError(f"{path} is not valid TOML: {exc}") from exc
    messages = data.get("messages") or {}
    missing = [c for c in CONCERNS if not isinstance(messages.get(c), str) or not messages[c].strip()]
    if missing:
        raise SafetyFileError(f"{path}: [messages] needs a message for {', '.join(missing)}")
    emergency = {}
    for code, entry in (data.get("countries") or {}).items():
        if isinstance(entry, dict) and entry.get("emergency"):
            emergency[ALIASES.get(code.upper(), code.upper())] = str(entry["emergency"])
    resources = []
    for n, entry in enumerate(data.get("resources") or [], start=1):
        try:
            concerns = tuple(entry["concerns"])
            resource = Resource(name=str(entry["name"]), contact=str(entry["contact"]),
                                region=ALIASES.get(str(entry["region"]).upper(), str(entry["region"]).upper()),
                                source=str(entry["source"]), checked=str(entry.get("checked", "")))
        except (KeyError, TypeError) as exc:
            raise SafetyFileError(f"{path}: resource {n} needs concerns, name, contact, region and source "
                                  f"(missing {exc})") from exc
        unknown = set(concerns) - set(CONCERNS)
        if unknown:
            raise SafetyFileError(f"{path}: resource {n} ({resource.name}) names unknown concerns "
                                  f"{sorted(unknown)}; known: {', '.join(CONCERNS)}")
        resources.append((concerns, resource))
    book = ResourceBook(messages, emergency, resources, path)
    for concern in CONCERNS:
        if not any(concern in c and r.region == "*" for c, r in resources):
            raise SafetyFileError(f"{path}: no resource with region \"*\" for {concern}: a person whose "
                                  "country has no entry would be left without one")
    return book
