"""Holdout test API models: the design a brand sends, and the result computed from its orders.
Money is integer minor units of the row's `currency`, one row per currency: amounts in different
currencies are never added together. Estimates are statistical: orders to two decimals, money
rounded to the minor unit."""

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.attribution.links.schemas import Destination, destination_problem
from services.attribution.links.url import ascii_host
from shared.validation import FieldError, IsoDate, label

Unit = Literal["region", "country"]
# Codes are compared upper-cased; the pattern takes either case so a brand can paste `us-ca`.
CODE_PATTERN = r"^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$"
_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_UNITS = 500  # per group: ISO 3166-2 has about 5,000 subdivisions in all
MAX_PERIOD_DAYS = 366
Code = Annotated[str, Field(pattern=CODE_PATTERN, description="ISO 3166-2 (`US-CA`) for region, ISO 3166-1 alpha-2 (`US`) for country.")]


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: IsoDate = Field(description="First UTC day, included.")
    end: IsoDate = Field(description="Last UTC day, included; on or after start.")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class HoldoutTestCreate(BaseModel):
    # The example names no campaign: an id that is not one of the caller's is a 422, and the fuzz
    # run sends every example as it is (the optional `campaign_id` is in the guide's).
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "West, Oregon and the Southwest held out", "unit": "region", "treatment": ["US-CA", "US-WA", "US-NV"], "control": ["US-OR", "US-AZ", "US-UT"],
        "pre_period": {"start": "2026-10-01", "end": "2026-10-28"},
        "test_period": {"start": "2026-10-29", "end": "2026-11-25"},
    }]})

    name: label(max_length=200)
    campaign_id: uuid.UUID | None = Field(
        default=None, description="The campaign whose attributed revenue is shown beside the lift; omit for every campaign's.")
    unit: Unit = Field(description="region: the shipping address's ISO 3166-2 region; country: its ISO 3166-1 country.")
    treatment: list[Code] = Field(min_length=1, max_length=MAX_UNITS, description="Units where the creators ran.")
    control: list[Code] = Field(min_length=1, max_length=MAX_UNITS, description="Units held out: no creator content aimed there.")
    pre_period: Period = Field(description="Before the creators ran: the groups' baseline.")
    test_period: Period = Field(description="While they ran; starts after the pre-period ends.")

    @model_validator(mode="after")
    def _design(self) -> "HoldoutTestCreate":
        shape, example = (_REGION, "US-CA") if self.unit == "region" else (_COUNTRY, "US")
        for group in ("treatment", "control"):
            codes = [c.upper() for c in getattr(self, group)]
            for i, code in enumerate(codes):
                if not shape.match(code):
                    raise FieldError(f"{group}.{i}", f"{code} is not a {self.unit} code like {example}")
            setattr(self, group, list(dict.fromkeys(codes)))
        both = sorted(set(self.treatment) & set(self.control))
        if both:
            raise FieldError("control", f"{', '.join(both)} also in treatment: a unit belongs to one group only")
        for name in ("pre_period", "test_period"):
            period: Period = getattr(self, name)
            if period.end < period.start:
                raise FieldError(f"{name}.end", f"{period.end} is before start {period.start}")
            if period.days > MAX_PERIOD_DAYS:
                raise FieldError(f"{name}.end", f"the period has {period.days} days; at most {MAX_PERIOD_DAYS}")
        if self.test_period.start <= self.pre_period.end:
            raise FieldError("test_period.start", f"{self.test_period.start} is not after the pre-period's end "
                             f"{self.pre_period.end}: the periods must not overlap, the pre-period first")
        return self


class HoldoutTestRead(BaseModel):
    id: uuid.UUID
    name: str
    campaign_id: uuid.UUID | None
    unit: Unit
    treatment: list[str]
    control: list[str]
    pre_period: Period
    test_period: Period
    created_at: datetime

    @classmethod
    def of(cls, row) -> "HoldoutTestRead":
        return cls(id=row.id, name=row.name, campaign_id=row.campaign_id, unit=row.unit, treatment=row.treatment,
                   control=row.control, pre_period=Period(start=row.pre_start, end=row.pre_end),
                   test_period=Period(start=row.test_start, end=row.test_end), created_at=row.created_at)


class DayLiftRead(BaseModel):
    day: date
    lift: float = Field(description="The treatment group's extra that day, against its pre-period level and the control's change.")


class LiftRead(BaseModel):
    """The difference-in-differences estimate of one measure, or why there is none."""

    status: Literal["estimated", "insufficient_data"]
    missing: list[str] = Field(description="What is missing for an estimate (insufficient_data); empty otherwise.")
    lift: float | None = Field(description="Extra over the test period in the whole treatment group.")
    interval: tuple[float, float] | None = Field(description="95 % confidence interval of `lift`.")
    lift_per_day: float | None = Field(description="Extra per day in the whole treatment group.")
    lift_per_day_interval: tuple[float, float] | None
    relative: float | None = Field(description="lift / counterfactual (0.12: +12 %); null when the counterfactual is not positive.")
    relative_interval: tuple[float, float] | None = Field(
        description="The interval's bounds over the same counterfactual (taken as known: an approximation).")
    significant: bool | None = Field(
        description="Whether no effect is rejected at 5 % (p_value <= 0.05, the interval excludes 0); false: no evidence of a lift.")
    p_value: float | None = Field(
        description="Of no effect, by randomization inference: the share of the ways to choose the treatment units "
        "whose statistic is at least as extreme as the observed one.")
    assignments: int | None = Field(description="How many ways to choose the treatment units the test compared.")
    assignments_exact: bool | None = Field(
        description="true: every way (there are at most 10,000); false: 10,000 drawn at random with a fixed seed.")
    observed: float | None = Field(description="What the treatment group had over the test period.")
    counterfactual: float | None = Field(description="observed − lift: what it would have had without the creators.")
    standard_error: float | None = Field(
        description="Of the lift per unit and day, clustered by unit (CR1); for reference: the interval is the "
        "randomization test's.")
    degrees_of_freedom: int | None = Field(description="Of the cluster-robust t (units − 1); for reference.")
    group_totals: dict[str, float] | None = Field(description="treatment_pre, treatment_test, control_pre, control_test.")
    per_day: list[DayLiftRead] = Field(description="The lift on each test day counted (no interval per day).")


class RevenueLiftRead(LiftRead):
    """The same in money: whole minor units of `currency` (estimates, rounded to the minor unit)."""

    currency: str = Field(description="ISO 4217; amounts are minor units of it.")
    lift: int | None = Field(description="Extra revenue over the test period in the whole treatment group.")
    interval: tuple[int, int] | None = Field(description="95 % confidence interval of `lift`.")
    lift_per_day: int | None = Field(description="Extra revenue per day in the whole treatment group.")
    lift_per_day_interval: tuple[int, int] | None
    observed: int | None = Field(description="The treatment group's revenue over the test period.")
    counterfactual: int | None = Field(description="observed − lift: what it would have had without the creators.")
    group_totals: dict[str, int] | None = Field(description="treatment_pre, treatment_test, control_pre, control_test.")


class AttributedRead(BaseModel):
    currency: str
    orders: int = Field(description="Credited orders shipped to the treatment group, placed in the test period, not cancelled.")
    revenue: int = Field(description="Their commission basis now (after refunds), in minor units.")


class HoldoutResultRead(BaseModel):
    test: HoldoutTestRead
    method: str = Field(description="The estimator, named: OLS difference-in-differences, its interval by randomization inference.")
    confidence: float
    units: dict[str, list[str]] = Field(description="treatment and control as counted.")
    days: dict[str, int] = Field(description="Days counted: pre_period and test_period (complete UTC days only).")
    counted_through: date | None = Field(
        description="Last day counted: the test period's end, or yesterday (UTC) while the test still runs.")
    orders: LiftRead = Field(description="The lift in orders (not cancelled, not test orders) of every currency.")
    revenue: list[RevenueLiftRead] = Field(description="The lift in revenue (commission basis now), one per currency.")
    attributed: list[AttributedRead] = Field(
        description="Beside the lift: what crediting attributed to the campaign (or to any campaign) in the treatment "
        "group over the test period — what creators touched, where the lift is what they added.")
    unplaced_orders: int = Field(description="Orders in the two periods the test could not place: no shipping country, or (by region) a country of the test with no region kept; orders shipped elsewhere are not counted here.")


class AudienceHoldoutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "10 % of @maya's visitors held out", "campaign_id": "5f1c1e2a-8f43-4f56-9a56-6f0e1c0f2d11",
        "link_ids": ["0b9f4c1e-8f43-4f56-9a56-6f0e1c0f2d12"], "holdout_share": "0.1",
        "control_destination": "https://shop.example/", "starts_on": "2026-12-01", "ends_on": "2026-12-28"}]})

    name: label(max_length=200)
    campaign_id: uuid.UUID
    link_ids: list[uuid.UUID] = Field(min_length=1, max_length=50,
                                      description="The campaign's tracked links whose visitors are split (a creator's, or several).")
    holdout_share: Annotated[str, Field(
        pattern=r"^0?\.(0[1-9][0-9]{0,2}|[1-4][0-9]{0,3}|50{0,3})$", examples=["0.1"],
        description="The share of visitors held out, 0.01 to 0.5, as a decimal string: \"0.1\".")]
    control_destination: Destination | None = Field(
        default=None, description="Where a held-out visitor is sent instead (the shop without the creator's offer); "
        "omitted: each link's destination without its UTM tagging.")
    starts_on: IsoDate = Field(description="First UTC day visitors are split; today or later.")
    ends_on: IsoDate = Field(description="Last UTC day visitors are split (included); at most 366 days after starts_on.")

    @model_validator(mode="after")
    def _design(self) -> "AudienceHoldoutCreate":
        from decimal import Decimal

        share = Decimal(self.holdout_share)
        if not Decimal("0.01") <= share <= Decimal("0.5"):
            raise FieldError("holdout_share", f"{self.holdout_share} is outside 0.01 to 0.5")
        if self.ends_on < self.starts_on:
            raise FieldError("ends_on", f"{self.ends_on} is before starts_on {self.starts_on}")
        if (self.ends_on - self.starts_on).days + 1 > MAX_PERIOD_DAYS:
            raise FieldError("ends_on", f"the test has {(self.ends_on - self.starts_on).days + 1} days; at most {MAX_PERIOD_DAYS}")
        if len(set(self.link_ids)) != len(self.link_ids):
            raise FieldError("link_ids", "a link is listed twice")
        if self.control_destination is not None:
            reason = destination_problem(self.control_destination)
            if reason:
                raise FieldError("control_destination", reason)
            written = ascii_host(self.control_destination)  # as a link's destination (links/url.py)
            if written != self.control_destination:
                reason = destination_problem(written)
                if reason:
                    raise FieldError("control_destination", f"{reason} (with its host written in ASCII)")
                self.control_destination = written
        return self


class AudienceHoldoutRead(BaseModel):
    id: uuid.UUID
    name: str
    campaign_id: uuid.UUID
    link_ids: list[uuid.UUID]
    holdout_share: str
    control_destination: str | None
    starts_on: date
    ends_on: date
    created_at: datetime

    @classmethod
    def of(cls, row) -> "AudienceHoldoutRead":
        return cls(id=row.id, name=row.name, campaign_id=row.campaign_id, link_ids=list(row.link_ids),
                   holdout_share=format(row.holdout_share.normalize(), "f"), control_destination=row.control_destination,
                   starts_on=row.starts_on, ends_on=row.ends_on, created_at=row.created_at)


class GroupRead(BaseModel):
    visitors: int = Field(description="Distinct visitors (keyed address hashes) with a click that is not flagged.")
    converted: int = Field(description="Of them, those with an order (not cancelled, not a test) carrying one of their click ids.")
    orders: int
    conversion_rate: float | None
    revenue: dict[str, int] = Field(description="Their orders' commission basis now, per currency (minor units).")


class DifferenceRead(BaseModel):
    status: Literal["estimated", "insufficient_data"]
    missing: list[str]
    difference: float | None = Field(description="treatment − control (a share of visitors, or minor units per visitor).")
    interval: tuple[float, float] | None = Field(description="95 % confidence interval of the difference.")
    relative: float | None = Field(description="difference / control (0.25: +25 %); null when the control is 0.")
    significant: bool | None = Field(description="Whether the interval excludes 0; false: no evidence of a lift.")
    incremental: float | None = Field(description="The difference times the treatment group's visitors: orders (or minor "
                                      "units) the creator's content added among them.")


class AudienceResultRead(BaseModel):
    holdout: AudienceHoldoutRead
    method: str
    confidence: float
    counted_through: date | None = Field(description="Last UTC day counted (the end, or yesterday while it runs).")
    treatment: GroupRead
    control: GroupRead
    conversion: DifferenceRead = Field(description="Conversion rate, treatment − control: Newcombe's hybrid score interval.")
    revenue_per_visitor: dict[str, DifferenceRead] = Field(
        description="Per currency: revenue per visitor, treatment − control, minor units: Welch's interval.")
    attributed: list[AttributedRead] = Field(description="What crediting gave the campaign from the treatment group's clicks.")
