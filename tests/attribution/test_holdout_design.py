"""A holdout test's design as the API reads it (incrementality/schemas.py): codes normalised,
and each way a design can be wrong named by its field."""

import uuid

import pytest
from pydantic import ValidationError

from services.attribution.incrementality.schemas import AudienceHoldoutCreate, HoldoutTestCreate
from shared.validation import FieldError

DESIGN = {"name": "west", "unit": "region", "treatment": ["us-ca", "US-WA", "US-CA"], "control": ["US-OR", "US-NV"],
          "pre_period": {"start": "2026-10-01", "end": "2026-10-28"},
          "test_period": {"start": "2026-10-29", "end": "2026-11-25"}}


def field_of(change: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        HoldoutTestCreate.model_validate({**DESIGN, **change})
    [error] = caught.value.errors()
    cause = (error.get("ctx") or {}).get("error")
    return ".".join(map(str, error["loc"])) + (f"{'.' if error['loc'] else ''}{cause.field}" if isinstance(cause, FieldError) else "")


def test_codes_are_upper_cased_and_repeats_dropped():
    design = HoldoutTestCreate.model_validate(DESIGN)
    assert design.treatment == ["US-CA", "US-WA"] and design.control == ["US-OR", "US-NV"]


def test_a_country_test_takes_country_codes():
    design = HoldoutTestCreate.model_validate({**DESIGN, "unit": "country", "treatment": ["de", "AT"], "control": ["FR"]})
    assert (design.treatment, design.control) == (["DE", "AT"], ["FR"])
    assert field_of({"unit": "country"}) == "treatment.0"


@pytest.mark.parametrize(("change", "field"), [
    ({"control": ["us-ca"]}, "control"),
    ({"control": []}, "control"),
    ({"treatment": ["California"]}, "treatment.0"),
    ({"pre_period": {"start": "2026-10-28", "end": "2026-10-01"}}, "pre_period.end"),
    ({"test_period": {"start": "2026-10-28", "end": "2026-11-25"}}, "test_period.start"),
    ({"test_period": {"start": "2026-11-30", "end": "2027-12-31"}}, "test_period.end"),
    ({"pre_period": {"start": "2026-10-01", "end": 20261028}}, "pre_period.end"),
    ({"treatment": [f"US-{i}" for i in range(501)]}, "treatment"),
])
def test_a_bad_design_names_its_field(change, field):
    assert field_of(change) == field


def test_an_audience_holdouts_control_destination_keeps_its_host_in_ascii():
    """As a link's destination: the control group's redirect Location is then one every client
    follows (found by an outside probe on links; a review found the control destination too)."""
    made = AudienceHoldoutCreate(name="held", campaign_id=uuid.uuid4(), link_ids=[uuid.uuid4()], holdout_share="0.1",
                                 control_destination="https://M\u00fcnchen.example/sale?x=1",
                                 starts_on="2026-12-01", ends_on="2026-12-28")
    assert made.control_destination == "https://xn--mnchen-3ya.example/sale?x=1"
