"""The disclosure rule sets: YAML files under rules/, read and validated once, kept as plain data.

One file per jurisdiction (us-ftc.yaml, uk-asa.yaml, de.yaml, fr.yaml, es.yaml) plus common.yaml
(each platform's fold and the wording that makes a post sponsored whatever its label). A file a
compliance person broke is refused with the file and the field named (`RuleFileError`), at the
service's start-up (services/audit/main.py loads the rulebook before it serves), never half-used.
docs/guide/audit-disclosure.md explains the fields; ADR 0040 the choices.
"""

import string
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).parent / "rules"
COMMON_FILE = "common.yaml"

VERDICTS = ("pass", "fail", "needs_review")
# The checks the engine knows, in the order it applies them to a sponsored post (grade.py).
CHECKS = (
    "accepted_label", "buried_in_hashtags", "after_fold", "insufficient_label", "platform_label_only",
    "affiliate_undisclosed", "no_label",
)
REQUIRED_CHECKS = ("accepted_label", "no_label")
# What a reason template may name; grade.py fills them.
PLACEHOLDERS = frozenset({"label", "position", "end", "fold", "platform", "before", "cluster", "code", "evidence"})
# "{mention}" in a term stands for any @account.
TERM_PLACEHOLDERS = frozenset({"mention"})


class RuleFileError(ValueError):
    """A rule file that cannot be used, naming the file and the field."""

    def __init__(self, file: str, field_path: str, reason: str):
        super().__init__(f"{file}: {field_path}: {reason}")
        self.file = file
        self.field = field_path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    publisher: str
    year: int
    url: str


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    check: str
    verdict: str
    reason: str
    source: Source
    section: str
    terms: tuple[str, ...] = ()
    start_terms: tuple[str, ...] = ()  # count only as the caption's first word ("Ad: ...")
    admission: bool = True  # does the wording alone say the post is sponsored?
    min_before: int = 0  # buried_in_hashtags: other hashtags before the label in the trailing group

    @property
    def citation(self) -> str:
        return f"{self.source.title} ({self.source.publisher}, {self.source.year}), {self.section}"


@dataclass(frozen=True)
class RuleSet:
    jurisdiction: str  # US, UK, DE, FR, ES
    name: str
    version: str
    countries: tuple[str, ...]  # ISO 3166-1 alpha-2 codes whose creators get this set by default
    sources: tuple[Source, ...]
    rules: tuple[Rule, ...]
    file: str
    by_check: dict[str, tuple[Rule, ...]] = field(default_factory=dict)

    def first(self, check: str) -> Rule | None:
        rules = self.by_check.get(check)
        return rules[0] if rules else None


@dataclass(frozen=True, slots=True)
class Platform:
    fold: int
    basis: str


@dataclass(frozen=True)
class Common:
    version: str
    default_fold: int
    platforms: dict[str, Platform]
    gifted_terms: tuple[str, ...]
    affiliate_terms: tuple[str, ...]
    code_words: tuple[str, ...]
    link_phrases: tuple[str, ...]
    affiliate_hosts: tuple[str, ...]

    def fold(self, platform: str | None) -> int:
        known = self.platforms.get((platform or "").lower())
        return known.fold if known else self.default_fold


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: the compiled scanner is cached per rulebook
class Rulebook:
    sets: dict[str, RuleSet]  # by jurisdiction code, in file-name order
    common: Common

    @property
    def versions(self) -> dict[str, str]:
        return {code: s.version for code, s in self.sets.items()}

    def for_country(self, country: str | None) -> str | None:
        """The jurisdiction whose set covers creators of `country`, if any."""
        if not country:
            return None
        country = country.upper()
        for code, rule_set in self.sets.items():
            if country in rule_set.countries:
                return code
        return None


class _Reader:
    """Reads one parsed file, naming the field in every error."""

    def __init__(self, file: str):
        self.file = file

    def fail(self, path: str, reason: str):
        raise RuleFileError(self.file, path, reason)

    def text(self, data: dict, key: str, path: str, *, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(f"{path}{key}", "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{path}{key}", f"must be non-empty text (got {value!r})")
        return value.strip()

    def integer(self, data: dict, key: str, path: str, *, low: int, high: int, default: int | None = None) -> int:
        value = data.get(key, default)
        if value is None:
            self.fail(f"{path}{key}", "is required")
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(f"{path}{key}", f"must be a whole number from {low} to {high} (got {value!r})")
        return value

    def words(self, data: dict, key: str, path: str, *, required: bool = False) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(f"{path}{key}", "is required")
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(f"{path}{key}", "must be a list of non-empty texts")
        if required and not value:
            self.fail(f"{path}{key}", "must not be empty")
        return tuple(v.strip() for v in value)

    def terms(self, data: dict, key: str, path: str, *, required: bool = False) -> tuple[str, ...]:
        terms = self.words(data, key, path, required=required)
        for i, term in enumerate(terms):
            try:
                names = {name for _, name, _, _ in string.Formatter().parse(term) if name is not None}
            except ValueError as exc:
                self.fail(f"{path}{key}[{i}]", f"is not a valid term ({exc})")
            if names - TERM_PLACEHOLDERS:
                self.fail(f"{path}{key}[{i}]", f"unknown placeholder {sorted(names - TERM_PLACEHOLDERS)}; only {{mention}}")
        return terms


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleFileError(path.name, "(file)", f"is not valid YAML: {exc}") from exc


def _source(reader: _Reader, data: Any, path: str) -> Source:
    if not isinstance(data, dict):
        reader.fail(path, "must be a mapping with id, title, publisher, year and url")
    url = reader.text(data, "url", f"{path}.")
    if not url.startswith(("https://", "http://")):
        reader.fail(f"{path}.url", f"must be an http(s) address (got {url!r})")
    return Source(
        id=reader.text(data, "id", f"{path}."), title=reader.text(data, "title", f"{path}."),
        publisher=reader.text(data, "publisher", f"{path}."),
        year=reader.integer(data, "year", f"{path}.", low=1900, high=2100), url=url,
    )


def _rule(reader: _Reader, data: Any, path: str, sources: dict[str, Source]) -> Rule:
    if not isinstance(data, dict):
        reader.fail(path, "must be a mapping")
    p = f"{path}."
    check = reader.text(data, "check", p)
    if check not in CHECKS:
        reader.fail(f"{p}check", f"must be one of {', '.join(CHECKS)} (got {check!r})")
    verdict = reader.text(data, "verdict", p)
    if verdict not in VERDICTS:
        reader.fail(f"{p}verdict", f"must be one of {', '.join(VERDICTS)} (got {verdict!r})")
    reason = reader.text(data, "reason", p)
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(reason) if name is not None}
    except ValueError as exc:
        reader.fail(f"{p}reason", f"is not a valid template ({exc})")
    if names - PLACEHOLDERS:
        reader.fail(f"{p}reason", f"unknown placeholder(s) {sorted(names - PLACEHOLDERS)}; known: {sorted(PLACEHOLDERS)}")
    source_id = reader.text(data, "source", p)
    if source_id not in sources:
        reader.fail(f"{p}source", f"names no source of this file (got {source_id!r}; known: {sorted(sources)})")
    terms = reader.terms(data, "terms", p, required=check == "insufficient_label")
    start_terms = reader.terms(data, "start_terms", p)
    if check == "accepted_label" and not terms and not start_terms:
        reader.fail(f"{p}terms", "an accepted_label rule needs terms or start_terms")
    if check not in ("accepted_label", "insufficient_label") and (terms or start_terms):
        reader.fail(f"{p}terms", f"only label checks take terms (this is {check})")
    admission = data.get("admission", True)
    if not isinstance(admission, bool):
        reader.fail(f"{p}admission", f"must be true or false (got {admission!r})")
    unknown = set(data) - {"id", "check", "verdict", "reason", "source", "section", "terms", "start_terms",
                           "admission", "min_before"}
    if unknown:
        reader.fail(f"{p}{sorted(unknown)[0]}", "is not a rule field")
    return Rule(
        id=reader.text(data, "id", p), check=check, verdict=verdict, reason=reason, source=sources[source_id],
        section=reader.text(data, "section", p), terms=terms, start_terms=start_terms, admission=admission,
        min_before=reader.integer(data, "min_before", p, low=0, high=100, default=0),
    )


def load_rule_set(path: Path) -> RuleSet:
    reader = _Reader(path.name)
    data = _load_yaml(path)
    if not isinstance(data, dict):
        reader.fail("(file)", "must be a mapping with jurisdiction, version, sources and rules")
    code = reader.text(data, "jurisdiction", "")
    if not (code.isascii() and code.isalpha() and code.isupper() and 2 <= len(code) <= 3):
        reader.fail("jurisdiction", f"must be an upper-case code of 2-3 letters (got {code!r})")
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        reader.fail("sources", "must be a non-empty list")
    sources: dict[str, Source] = {}
    for i, raw in enumerate(raw_sources):
        source = _source(reader, raw, f"sources[{i}]")
        if source.id in sources:
            reader.fail(f"sources[{i}].id", f"repeats {source.id!r}")
        sources[source.id] = source
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        reader.fail("rules", "must be a non-empty list")
    rules = tuple(_rule(reader, raw, f"rules[{i}]", sources) for i, raw in enumerate(raw_rules))
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.id in seen:
            reader.fail(f"rules[{i}].id", f"repeats {rule.id!r}")
        seen.add(rule.id)
    by_check = {check: tuple(r for r in rules if r.check == check) for check in CHECKS}
    for check in REQUIRED_CHECKS:
        if not by_check[check]:
            reader.fail("rules", f"needs a rule with check {check}")
    for check in CHECKS:
        if check not in ("accepted_label", "insufficient_label") and len(by_check[check]) > 1:
            reader.fail("rules", f"has more than one {check} rule")
    countries = reader.words(data, "countries", "")
    return RuleSet(
        jurisdiction=code, name=reader.text(data, "name", ""), version=reader.text(data, "version", ""),
        countries=tuple(c.upper() for c in countries), sources=tuple(sources.values()), rules=rules,
        file=path.name, by_check={k: v for k, v in by_check.items() if v},
    )


def load_common(path: Path) -> Common:
    reader = _Reader(path.name)
    data = _load_yaml(path)
    if not isinstance(data, dict):
        reader.fail("(file)", "must be a mapping")
    raw_platforms = data.get("platforms")
    if not isinstance(raw_platforms, dict) or not raw_platforms:
        reader.fail("platforms", "must map each platform to its fold")
    platforms = {}
    for name, raw in raw_platforms.items():
        if not isinstance(raw, dict):
            reader.fail(f"platforms.{name}", "must be a mapping with fold and basis")
        platforms[str(name).lower()] = Platform(
            fold=reader.integer(raw, "fold", f"platforms.{name}.", low=1, high=100_000),
            basis=reader.text(raw, "basis", f"platforms.{name}."),
        )
    return Common(
        version=reader.text(data, "version", ""),
        default_fold=reader.integer(data, "default_fold", "", low=1, high=100_000),
        platforms=platforms,
        gifted_terms=reader.terms(data, "gifted_terms", "", required=True),
        affiliate_terms=reader.terms(data, "affiliate_terms", "", required=True),
        code_words=reader.words(data, "code_words", "", required=True),
        link_phrases=reader.terms(data, "link_phrases", ""),
        affiliate_hosts=reader.words(data, "affiliate_hosts", ""),
    )


def load_rulebook(directory: Path = RULES_DIR) -> Rulebook:
    """Every rule set of `directory` and its common.yaml, validated; RuleFileError otherwise."""
    common_path = directory / COMMON_FILE
    if not common_path.is_file():
        raise RuleFileError(COMMON_FILE, "(file)", f"is missing from {directory}")
    common = load_common(common_path)
    sets: dict[str, RuleSet] = {}
    owners: dict[str, str] = {}
    rule_ids: dict[str, str] = {}
    for path in sorted(p for p in directory.glob("*.yaml") if p.name != COMMON_FILE):
        rule_set = load_rule_set(path)
        if rule_set.jurisdiction in sets:
            raise RuleFileError(path.name, "jurisdiction",
                                f"{rule_set.jurisdiction} is already defined by {sets[rule_set.jurisdiction].file}")
        for country in rule_set.countries:
            if country in owners:
                raise RuleFileError(path.name, "countries", f"{country} is already covered by {owners[country]}")
            owners[country] = path.name
        for rule in rule_set.rules:
            if rule.id in rule_ids:
                raise RuleFileError(path.name, "rules", f"rule id {rule.id!r} is already used in {rule_ids[rule.id]}")
            rule_ids[rule.id] = path.name
        sets[rule_set.jurisdiction] = rule_set
    if not sets:
        raise RuleFileError(directory.name, "(directory)", "holds no rule set")
    return Rulebook(sets=sets, common=common)


@cache
def default_rulebook() -> Rulebook:
    """The rulebook shipped in rules/, read once per process (the service loads it at start-up, so
    a broken file stops the service there rather than failing audits one by one)."""
    return load_rulebook(RULES_DIR)
