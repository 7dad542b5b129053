"""Keyword lists: the installation's default (a versioned data file beside this module) and the
tenants' own, in one shape the matcher compiles."""

import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_VERSION = "brand-safety-v1"
DEFAULT_FILE = Path(__file__).resolve().parent / f"{DEFAULT_VERSION}.yaml"


@dataclass(frozen=True)
class Term:
    text: str  # as listed
    category: str
    exceptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class TermList:
    """A list as the matcher takes it. `label` names it on each hit: the default's version, or
    the tenant list's name; `list_id` is None for the default."""

    label: str
    version: str
    terms: tuple[Term, ...]
    list_id: uuid.UUID | None = None


@dataclass(frozen=True)
class DefaultList:
    terms: TermList
    categories: tuple[str, ...]
    garm: dict[str, tuple[str, ...]]
    source: str


@lru_cache(maxsize=1)
def default_list() -> DefaultList:
    with DEFAULT_FILE.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if data["version"] != DEFAULT_VERSION:
        raise ValueError(f"{DEFAULT_FILE.name} says version {data['version']!r}, expected {DEFAULT_VERSION!r}")
    terms = []
    for category, spec in data["categories"].items():
        exceptions = spec.get("exceptions") or {}
        unknown = set(exceptions) - {t for words in (spec["terms"] or {}).values() for t in words}
        if unknown:
            raise ValueError(f"{category}: exceptions for terms it does not list: {sorted(unknown)}")
        for words in (spec["terms"] or {}).values():
            for word in words:
                terms.append(Term(str(word), category, tuple(exceptions.get(word, ()))))
    return DefaultList(
        terms=TermList(label=DEFAULT_VERSION, version=DEFAULT_VERSION, terms=tuple(terms)),
        categories=tuple(data["categories"]),
        garm={c: tuple(spec.get("garm") or ()) for c, spec in data["categories"].items()},
        source=data["source"],
    )
