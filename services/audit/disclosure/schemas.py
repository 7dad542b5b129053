"""The disclosure API's models: the rule sets as readable JSON, and a check of captions."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from services.audit.engine.disclosure.rulebook import default_rulebook
from shared.contracts.types import Platform
from shared.validation import Label, PlainText

MAX_CHECK_POSTS = 500
MAX_JURISDICTIONS = 10
MAX_SPONSORS = 20
CAPTION_CHARS = 5_000

# Read once when the module loads: the codes the API takes are the rule files' (and the OpenAPI
# document lists them), and a broken rule file stops the service before it serves.
KNOWN_JURISDICTIONS = tuple(default_rulebook().sets)


def _known_jurisdiction(code: str) -> str:
    if code not in KNOWN_JURISDICTIONS:
        shown = code if len(code) <= 20 else code[:20] + "…"
        raise ValueError(f"no rule set for jurisdiction {shown!r}; known: {', '.join(KNOWN_JURISDICTIONS)}")
    return code


# Checked here rather than as a Literal so the 422 names the code that was sent; the schema still
# lists the codes (enum) for clients and fuzzers.
Jurisdiction = Annotated[str, Field(json_schema_extra={"enum": list(KNOWN_JURISDICTIONS)}),
                         AfterValidator(_known_jurisdiction)]
Sponsor = Annotated[Label, Field(max_length=100, description="A brand: its @account, #hashtag or name.")]
Jurisdictions = Annotated[list[Jurisdiction], Field(min_length=1, max_length=MAX_JURISDICTIONS)]
Sponsors = Annotated[list[Sponsor], Field(max_length=MAX_SPONSORS)]
Verdict = Literal["pass", "fail", "needs_review"]


class CheckPost(BaseModel):
    model_config = ConfigDict(extra="forbid")

    caption: Annotated[PlainText, Field(max_length=CAPTION_CHARS)] = Field(description="The caption as it will be posted.")
    hashtags: Annotated[list[Annotated[PlainText, Field(max_length=100)]], Field(max_length=60)] = Field(
        default_factory=list, description="Hashtags the platform lists besides the caption's (with or without '#').")
    mentions: Annotated[list[Annotated[PlainText, Field(max_length=100)]], Field(max_length=60)] = Field(
        default_factory=list, description="Accounts tagged besides the caption's (with or without '@').")
    paid_partnership: StrictBool = Field(False, description="The platform's paid-partnership label will be on.")
    platform: Platform | None = Field(None, description="Picks the fold (characters shown before 'more'); default 125.")


class DisclosureCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jurisdictions: Jurisdictions = Field(description="Rule sets to grade against (GET /disclosure/rules lists them).")
    sponsors: Sponsors = Field(default_factory=list, description="Brands paying for the posts: naming one makes a post sponsored.")
    posts: Annotated[list[CheckPost], Field(min_length=1, max_length=MAX_CHECK_POSTS)]


class VerdictRead(BaseModel):
    jurisdiction: str
    verdict: Verdict
    rule_id: str = Field(description="The deciding rule (GET /disclosure/rules).")
    reason: str = Field(description="Plain language, with the figures: position, fold, hashtags before it.")
    source: str = Field(description="The rule's source: title (publisher, year), section.")
    source_url: str
    version: str = Field(description="The rule set's version.")


class CheckedPost(BaseModel):
    index: int = Field(description="The post's place in the request, from 0.")
    sponsored: bool = Field(description="False: nothing says the post is sponsored, so it is not graded.")
    basis: list[str] = Field(description="Why it counts as sponsored (paid-partnership label, sponsor named, ...).")
    verdict: Verdict | None = Field(description="Its worst verdict across the jurisdictions; null when not graded.")
    verdicts: list[VerdictRead]


class DisclosureCheckRead(BaseModel):
    rule_versions: dict[str, str] = Field(description="The version of each rule set used.")
    posts: list[CheckedPost]


class SourceRead(BaseModel):
    id: str
    title: str
    publisher: str
    year: int
    url: str


class RuleRead(BaseModel):
    id: str
    check: str = Field(description="accepted_label, buried_in_hashtags, after_fold, insufficient_label, "
                                   "platform_label_only, affiliate_undisclosed or no_label.")
    verdict: Verdict
    reason: str = Field(description="The reason template; {label}, {position}, {fold} ... are filled per post.")
    source: str = Field(description="The id of one of the set's sources.")
    section: str
    terms: list[str]
    start_terms: list[str] = Field(description="Terms that count only as the caption's first word.")
    admission: bool = Field(description="Whether the wording alone makes a post sponsored.")
    min_before: int = Field(description="buried_in_hashtags: other hashtags before the label in the trailing group.")


class RuleSetRead(BaseModel):
    jurisdiction: str
    name: str
    version: str
    countries: list[str] = Field(description="Creators of these countries are graded against this set by default.")
    file: str
    sources: list[SourceRead]
    rules: list[RuleRead]


class PlatformFoldRead(BaseModel):
    platform: str
    fold: int = Field(description="Characters of a caption shown before 'more'.")
    basis: str


class CommonRead(BaseModel):
    version: str
    default_fold: int
    platforms: list[PlatformFoldRead]
    gifted_terms: list[str]
    affiliate_terms: list[str]
    code_words: list[str]
    link_phrases: list[str]
    affiliate_hosts: list[str]


class RulesRead(BaseModel):
    default_jurisdictions: list[str] = Field(description="Graded in an audit that names none, with the creator's country's set.")
    rule_sets: list[RuleSetRead]
    common: CommonRead
