"""The disclosure API over the engine: the rulebook as JSON, and a check of posts not yet out."""

from services.audit.disclosure.schemas import (
    CheckedPost,
    CommonRead,
    DisclosureCheck,
    DisclosureCheckRead,
    PlatformFoldRead,
    RuleRead,
    RuleSetRead,
    RulesRead,
    SourceRead,
    VerdictRead,
)
from services.audit.engine.disclosure.grade import Grader, PostText
from services.audit.engine.disclosure.rulebook import Rulebook, default_rulebook
from services.audit.engine.signals.disclosure import DEFAULT_JURISDICTIONS


def rules(rulebook: Rulebook | None = None) -> RulesRead:
    rulebook = rulebook or default_rulebook()
    common = rulebook.common
    return RulesRead(
        default_jurisdictions=[j for j in DEFAULT_JURISDICTIONS if j in rulebook.sets],
        rule_sets=[
            RuleSetRead(
                jurisdiction=s.jurisdiction, name=s.name, version=s.version, countries=list(s.countries), file=s.file,
                sources=[SourceRead(id=x.id, title=x.title, publisher=x.publisher, year=x.year, url=x.url)
                         for x in s.sources],
                rules=[
                    RuleRead(id=r.id, check=r.check, verdict=r.verdict, reason=r.reason, source=r.source.id,
                             section=r.section, terms=list(r.terms), start_terms=list(r.start_terms),
                             admission=r.admission, min_before=r.min_before)
                    for r in s.rules
                ],
            )
            for s in rulebook.sets.values()
        ],
        common=CommonRead(
            version=common.version, default_fold=common.default_fold,
            platforms=[PlatformFoldRead(platform=name, fold=p.fold, basis=p.basis) for name, p in common.platforms.items()],
            gifted_terms=list(common.gifted_terms), affiliate_terms=list(common.affiliate_terms),
            code_words=list(common.code_words), link_phrases=list(common.link_phrases),
            affiliate_hosts=list(common.affiliate_hosts),
        ),
    )


def check(body: DisclosureCheck, rulebook: Rulebook | None = None) -> DisclosureCheckRead:
    rulebook = rulebook or default_rulebook()
    grader = Grader(rulebook, body.jurisdictions, body.sponsors)
    checked = []
    for index, post in enumerate(body.posts):
        assessment = grader.grade(PostText(
            caption=post.caption, hashtags=tuple(post.hashtags), mentions=tuple(post.mentions),
            paid_partnership=post.paid_partnership, platform=post.platform.value if post.platform else None,
        ))
        checked.append(CheckedPost(
            index=index, sponsored=assessment.sponsored, basis=list(assessment.basis), verdict=assessment.worst,
            verdicts=[
                VerdictRead(jurisdiction=v.jurisdiction, verdict=v.verdict, rule_id=v.rule_id, reason=v.reason,
                            source=v.source, source_url=v.source_url, version=v.version)
                for v in assessment.verdicts
            ],
        ))
    return DisclosureCheckRead(
        rule_versions={s.jurisdiction: s.version for s in grader.sets}, posts=checked,
    )
