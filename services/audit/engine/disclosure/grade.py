"""Is a post sponsored, and if so, is it disclosed well enough in each jurisdiction?

A post is sponsored when any of these says so (the first found is the `basis` the reasons quote):
the platform's paid-partnership label; the data source's sponsored flag; a sponsor the request
names (its @account, #hashtag or name in the caption); the caption's own wording (a label term
of any rule set that admits sponsorship, gifted wording, affiliate wording); a discount code;
an affiliate link; a link together with an @account. A post that is not sponsored is not graded:
it has no verdict at all, rather than a "pass" that would flatter the compliance rate.

A sponsored post is graded per jurisdiction by the first check that decides, in this order (the
checks are rulebook.CHECKS; the rule files say each one's verdict, reason and source):
an accepted label well placed (before the fold, not buried in the trailing hashtags) passes; an
accepted label only misplaced fails on the placement rule (buried_in_hashtags, else after_fold);
an insufficient label decides by its rule (the most severe found, then the earliest); then the
platform label alone; then an affiliate code or link without a label; then no label at all.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from services.audit.engine.disclosure.rulebook import Rule, Rulebook, RuleSet
from services.audit.engine.disclosure.scan import Occurrence, Scan, Scanner, fold

SEVERITY = {"pass": 0, "needs_review": 1, "fail": 2}
PLATFORM_NAMES = {"": "this platform", "tiktok": "TikTok", "youtube": "YouTube", "linkedin": "LinkedIn", "x": "X"}


class UnknownJurisdiction(ValueError):
    def __init__(self, code: str, known: Sequence[str]):
        super().__init__(f"no rule set for jurisdiction {code!r}; known: {', '.join(known)}")
        self.code = code


@dataclass(frozen=True, slots=True)
class PostText:
    """What grading reads of a post."""

    caption: str | None
    hashtags: tuple[str, ...] = ()  # as the platform listed them, with or without '#'
    mentions: tuple[str, ...] = ()  # with or without '@'
    paid_partnership: bool = False
    platform: str | None = None
    sponsored: bool = False  # the data source marked it sponsored


@dataclass(frozen=True, slots=True)
class Verdict:
    jurisdiction: str
    verdict: str  # pass, fail, needs_review
    rule_id: str
    reason: str
    source: str  # the citation: title (publisher, year), section
    source_url: str
    version: str  # the rule set's version


@dataclass(frozen=True, slots=True)
class Assessment:
    sponsored: bool
    basis: tuple[str, ...]  # why it counts as sponsored, plain words; empty when it does not
    verdicts: tuple[Verdict, ...]  # one per jurisdiction graded; empty when not sponsored

    @property
    def worst(self) -> str | None:
        """The post's verdict across jurisdictions: its worst one."""
        if not self.verdicts:
            return None
        return max((v.verdict for v in self.verdicts), key=SEVERITY.__getitem__)


@cache
def scanner_for(rulebook: Rulebook) -> Scanner:
    return Scanner(rulebook)


class Grader:
    """Grades posts against chosen jurisdictions and named sponsors; build once per audit or
    request (the sponsors' expression is compiled here), then `grade` each post."""

    def __init__(self, rulebook: Rulebook, jurisdictions: Sequence[str], sponsors: Sequence[str] = ()):
        known = list(rulebook.sets)
        for code in jurisdictions:
            if code not in rulebook.sets:
                raise UnknownJurisdiction(code, known)
        self.rulebook = rulebook
        self.sets: tuple[RuleSet, ...] = tuple(rulebook.sets[c] for c in dict.fromkeys(jurisdictions))
        self.scanner = scanner_for(rulebook)
        names = {n for n in (" ".join(fold(s).strip().lstrip("@#").split()) for s in sponsors) if n}
        # One expression finds a sponsor as a name ("acme coffee"), an @account or a #hashtag
        # ("@acmecoffee", "#acmecoffee": the name without its spaces).
        forms = names | {n.replace(" ", "") for n in names}
        # Substring tests first (C speed): most captions name no sponsor, and the expression,
        # which starts with a look-behind, would try every position of each.
        self._sponsor_forms = tuple(forms)
        self._sponsor_pattern = (
            re.compile(r"(?<![\w.])[@#]?(?:" + "|".join(re.escape(n) for n in sorted(forms, key=len, reverse=True))
                       + r")(?!\w)")
            if forms else None
        )

    def grade(self, post: PostText) -> Assessment:
        caption = post.caption or ""
        scan = self.scanner.scan(caption)
        basis = self._basis(post, scan)
        if not basis:
            return Assessment(sponsored=False, basis=(), verdicts=())
        fold_at = self.rulebook.common.fold(post.platform)
        platform = PLATFORM_NAMES.get((post.platform or "").lower(), (post.platform or "this platform").capitalize())
        verdicts = tuple(self._judge(rule_set, post, scan, basis[0], fold_at, platform) for rule_set in self.sets)
        return Assessment(sponsored=True, basis=tuple(basis), verdicts=verdicts)

    def _basis(self, post: PostText, scan: Scan) -> list[str]:
        basis: list[str] = []
        if post.paid_partnership:
            basis.append("the platform's paid-partnership label")
        if post.sponsored:
            basis.append("marked sponsored by the data source")
        if self._sponsor_pattern is not None:
            named = self._sponsor_named(post, scan)
            if named:
                basis.append(f"names the sponsor {named}")
        for occurrence in scan.occurrences:
            term = occurrence.term
            if term.gifted:
                basis.append(f"gifted wording '{occurrence.label}'")
                break
            if term.affiliate or any(
                r.rule.admission and (not r.start_only or occurrence.at_start) for r in term.roles
            ):
                basis.append(f"the wording '{occurrence.label}'")
                break
        if scan.codes:
            code, at = scan.codes[0]
            basis.append(f"the discount code '{code}' (character {at + 1})")
        affiliate = next((link for link in scan.links if link[2]), None)
        if affiliate:
            basis.append(f"the affiliate link '{affiliate[0]}'")
        elif (scan.links or any(o.term.link for o in scan.occurrences)) and (scan.mentions or post.mentions):
            mention = (scan.mentions or tuple(m.lstrip("@") for m in post.mentions))[0]
            basis.append(f"a link together with @{mention}")
        return basis

    def _sponsor_named(self, post: PostText, scan: Scan) -> str | None:
        text = scan.text
        found = self._sponsor_pattern.search(text) if any(f in text for f in self._sponsor_forms) else None
        if found:
            return f"'{(post.caption or '')[found.start():found.end()]}'"
        if not post.mentions and not post.hashtags:
            return None
        listed = " ".join([*(f"@{m.lstrip('@')}" for m in post.mentions), *(f"#{h.lstrip('#')}" for h in post.hashtags)])
        found = self._sponsor_pattern.search(fold(listed))
        return f"'{listed[found.start():found.end()]}'" if found else None

    def _judge(self, rule_set: RuleSet, post: PostText, scan: Scan, evidence: str, fold_at: int,
               platform: str) -> Verdict:
        code = rule_set.jurisdiction
        accepted: list[tuple[Occurrence, Rule]] = []
        insufficient: list[tuple[Occurrence, Rule]] = []
        for occurrence in scan.occurrences:
            for role in occurrence.term.roles:
                if role.jurisdiction != code or (role.start_only and not occurrence.at_start):
                    continue
                (accepted if role.rule.check == "accepted_label" else insufficient).append((occurrence, role.rule))
        values = {"fold": fold_at, "platform": platform, "evidence": evidence, "before": 0,
                  "cluster": scan.cluster, "code": scan.codes[0][0] if scan.codes else ""}

        buried_rule = rule_set.first("buried_in_hashtags")
        fold_rule = rule_set.first("after_fold")
        misplaced: tuple[Occurrence, Rule, int] | None = None
        for occurrence, rule in accepted:
            before = occurrence.tag_index - scan.cluster_start
            if buried_rule and occurrence.tag_index >= scan.cluster_start and before >= buried_rule.min_before:
                misplaced = misplaced or (occurrence, buried_rule, before)
            elif fold_rule and occurrence.end > fold_at:
                misplaced = misplaced or (occurrence, fold_rule, 0)
            else:
                return self._verdict(rule_set, rule, occurrence, values)
        if misplaced:
            occurrence, rule, before = misplaced
            return self._verdict(rule_set, rule, occurrence, {**values, "before": before})
        if insufficient:
            occurrence, rule = max(insufficient, key=lambda pair: (SEVERITY[pair[1].verdict], -pair[0].start))
            return self._verdict(rule_set, rule, occurrence, values)
        label_rule = rule_set.first("platform_label_only")
        if post.paid_partnership and label_rule:
            return self._verdict(rule_set, label_rule, None, values)
        affiliate_rule = rule_set.first("affiliate_undisclosed")
        if affiliate_rule:
            affiliate = self._affiliate(scan)
            if affiliate:
                return self._verdict(rule_set, affiliate_rule, None, {**values, "evidence": affiliate})
        return self._verdict(rule_set, rule_set.first("no_label"), None, values)

    @staticmethod
    def _affiliate(scan: Scan) -> str | None:
        if scan.codes:
            code, at = scan.codes[0]
            return f"The discount code '{code}' (character {at + 1})"
        link = next((link for link in scan.links if link[2]), None)
        if link:
            return f"The affiliate link '{link[0]}' (character {link[1] + 1})"
        wording = next((o for o in scan.occurrences if o.term.affiliate), None)
        if wording:
            return f"The affiliate wording '{wording.label}' (character {wording.start + 1})"
        return None

    @staticmethod
    def _verdict(rule_set: RuleSet, rule: Rule, occurrence: Occurrence | None, values: dict) -> Verdict:
        if occurrence is not None:
            values = {**values, "label": f"'{occurrence.label}'", "position": occurrence.start + 1,
                      "end": occurrence.end}
        else:
            values = {**values, "label": "", "position": 0, "end": 0}
        return Verdict(
            jurisdiction=rule_set.jurisdiction, verdict=rule.verdict, rule_id=rule.id,
            reason=rule.reason.format(**values), source=rule.citation, source_url=rule.source.url,
            version=rule_set.version,
        )
