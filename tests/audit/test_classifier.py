"""The follower classifier: features, precedence, model file, train/evaluate commands. Pure: no platform."""

import csv
import hashlib
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from runtime.cli import app
from services.audit.engine.classifier import (
    FollowerClassifier,
    ModelFileError,
    UnknownModelVersion,
    default_model,
    load_model,
)
from services.audit.engine.classifier.dataset import DataError, read_csv
from services.audit.engine.classifier.features import FEATURES, features_from_profiles, username_stats
from services.audit.engine.classifier.model import SHIPPED, LinearModel, save_model
from services.audit.engine.classifier.training import _pipeline, fit, train, used_features
from services.audit.engine.types import FollowerProfile

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "data" / "followers" / "srf-2017-instagram-followers.csv"
runner = CliRunner()

PERSON = FollowerProfile(
    username="anna.meier", full_name="Anna Meier", biography="maps and trains", media_count=240,
    follower_count=410, following_count=380, has_profile_pic=True, is_private=False, is_verified=False,
    external_url="",
)
BOT = FollowerProfile(
    username="user83920174", full_name="", biography="", media_count=0, follower_count=3,
    following_count=1_400, has_profile_pic=False, is_private=False, is_verified=False, external_url=None,
)


def with_threshold(classifier: FollowerClassifier, threshold: float) -> FollowerClassifier:
    model = classifier.model
    return FollowerClassifier(LinearModel(**{**model.__dict__, "threshold": threshold}), classifier.card)


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


# Precedence


def test_following_more_than_1500_is_a_mass_follower_whatever_else_it_is():
    always = with_threshold(default_model(), 0.0)  # the model would call everyone suspicious
    crowd = [
        FollowerProfile(following_count=1_501, follower_count=50_000),
        FollowerProfile(following_count=1_501, follower_count=10),
    ]
    assert always.audience_types(crowd) == ["mass_follower", "mass_follower"]


def test_more_than_5000_followers_is_an_influencer_unless_a_mass_follower():
    always = with_threshold(default_model(), 0.0)
    crowd = [
        FollowerProfile(following_count=1_500, follower_count=5_001),
        FollowerProfile(following_count=1_500, follower_count=5_000),
    ]
    assert always.audience_types(crowd) == ["influencer", "suspicious"]


def test_below_both_thresholds_the_model_decides_suspicious_or_real():
    never = with_threshold(default_model(), 1.01)
    always = with_threshold(default_model(), 0.0)
    assert never.audience_types([PERSON, BOT]) == ["real", "real"]
    assert always.audience_types([PERSON, BOT]) == ["suspicious", "suspicious"]


def test_shipped_model_tells_an_empty_digit_named_account_from_a_person():
    model = default_model()
    assert model.audience_types([PERSON, BOT]) == ["real", "suspicious"]
    probability = model.suspicious_probability([PERSON, BOT])
    assert isinstance(probability, np.ndarray) and probability.shape == (2,)
    assert probability[0] < model.threshold <= probability[1]


def test_unknown_counts_never_trigger_a_rule():
    never = with_threshold(default_model(), 1.01)
    assert never.audience_types([FollowerProfile()]) == ["real"]
    assert never.audience_types([]) == []


# Features


def test_username_statistics():
    length, digits, entropy = username_stats(["aaaa", "abcd", "aabb", "ab12", None, ""])
    assert same(length, np.array([4, 4, 4, 4, np.nan, np.nan]))
    assert same(digits, np.array([0, 0, 0, 2, np.nan, np.nan]))
    assert np.allclose(entropy[:4], [0.0, 2.0, 1.0, 2.0]) and np.isnan(entropy[4:]).all()


def test_entropy_matches_the_textbook_formula_on_varied_names():
    names = ["x", "ab", "hello_world", "zzzzzzzzzzzzzzzzzzzy", "user83920174", "ÄÖü.ß"]
    _, _, entropy = username_stats(names)
    for name, value in zip(names, entropy, strict=True):
        counts = np.unique(list(name), return_counts=True)[1] / len(name)
        assert value == pytest.approx(-(counts * np.log2(counts)).sum(), abs=1e-12)


def test_features_from_raw_fields_equal_features_from_the_derived_csv_columns(tmp_path):
    # The CSVs have no is_verified column, so the profiles leave it unknown too.
    accounts = [replace(PERSON, is_verified=None), replace(BOT, is_verified=None, external_url=""),
                FollowerProfile(username="x_1", full_name="A B C", biography=" hi ", media_count=7, follower_count=0,
                                following_count=0, has_profile_pic=True, is_private=True, external_url="http://a.b")]
    raw = write_csv(tmp_path / "raw.csv", [
        {"username": a.username, "full_name": a.full_name, "biography": a.biography,
         "external_url": a.external_url, "media_count": a.media_count,
         "follower_count": a.follower_count, "following_count": a.following_count,
         "has_profile_pic": int(a.has_profile_pic), "is_private": int(a.is_private), "label": 0}
        for a in accounts])
    derived = write_csv(tmp_path / "derived.csv", [
        {"media_count": a.media_count, "follower_count": a.follower_count, "following_count": a.following_count,
         "has_profile_pic": int(a.has_profile_pic), "is_private": int(a.is_private),
         "biography_length": len(a.biography.strip()), "username_length": len(a.username),
         "username_digit_count": sum(c.isdigit() for c in a.username),
         "full_name_words": len(a.full_name.split()), "has_external_url": int(bool(a.external_url)), "label": 0}
        for a in accounts])
    from_profiles = features_from_profiles(accounts)
    from_raw = read_csv(raw, require_label=True).features
    from_derived = read_csv(derived, require_label=True).features
    entropy = FEATURES.index("username_entropy")
    others = [j for j in range(len(FEATURES)) if j != entropy]
    assert same(from_profiles[:, others], from_derived[:, others])
    assert np.isnan(from_derived[:, entropy]).all()  # the derived form has no username to measure
    assert same(from_profiles, from_raw)  # entropy included: the raw CSV has the usernames
    assert not np.isnan(from_raw[:, entropy]).any()
    model = default_model()
    assert same(model.probability_of_matrix(from_derived), model.suspicious_probability(accounts))


def test_missing_columns_are_unknown_and_the_model_still_answers(tmp_path):
    path = write_csv(tmp_path / "thin.csv", [
        {"follower_count": 10, "following_count": 900, "label": 1},
        {"follower_count": 300, "following_count": "", "label": 0},
    ])
    data = read_csv(path, require_label=True)
    assert "media_count" in data.missing and "has_profile_pic" in data.missing
    assert "follower_count" not in data.missing
    assert np.isnan(data.features[1, FEATURES.index("log_following_per_follower")])
    probability = default_model().probability_of_matrix(data.features)
    assert np.isfinite(probability).all()
    assert np.isfinite(default_model().suspicious_probability([FollowerProfile()])).all()


def test_columns_with_too_little_data_are_left_out_of_training():
    data = read_csv(BUNDLED, require_label=True)
    assert used_features(data.features) == (
        "log_following_per_follower", "log_media_per_follower", "no_media", "no_profile_pic", "is_private",
        "username_digit_share",
    )


# Bad files


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"follower_count": 1, "following_count": 2}], "column 'label' is missing"),
        ([{"follower_count": 1, "label": 0}, {"follower_count": "many", "label": 1}], "line 3, column 'follower_count'"),
        ([{"follower_count": -4, "label": 0}], "line 2, column 'follower_count'"),
        ([{"is_private": "maybe", "label": 0}], "line 2, column 'is_private'"),
        ([{"follower_count": 1, "label": ""}], "line 2, column 'label'"),
        ([{"follower_count": 1, "label": 2}], "line 2, column 'label'"),
        ([{"colour": "red", "label": 1}], "no follower column"),
    ],
)
def test_a_bad_csv_is_a_clear_error_naming_the_column(tmp_path, rows, message):
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(DataError, match=message):
        read_csv(path, require_label=True)
    result = runner.invoke(app, ["audit", "evaluate", "--data", str(path)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_training_on_too_few_fakes_is_refused(tmp_path):
    rows = [{"follower_count": i, "following_count": i, "label": int(i < 3)} for i in range(40)]
    result = runner.invoke(app, ["audit", "train", "--data", str(write_csv(tmp_path / "few.csv", rows)),
                                 "--out", str(tmp_path / "m.json")])
    assert result.exit_code == 2
    assert "column 'label': 3 fake and 37 real rows" in result.output
    assert not (tmp_path / "m.json").exists()


# The model file


def test_unknown_model_or_format_version_is_refused_with_the_versions_named(tmp_path):
    document = json.loads(SHIPPED.read_text())
    for field, value in (("model_version", "followers-v9"), ("format_version", 2)):
        path = tmp_path / f"{field}.json"
        path.write_text(json.dumps({**document, field: value}))
        with pytest.raises(UnknownModelVersion) as caught:
            load_model(path)
        assert repr(value) in str(caught.value) and "followers-v1" in str(caught.value)
        result = runner.invoke(app, ["audit", "evaluate", "--data", str(BUNDLED), "--model", str(path)])
        assert result.exit_code == 2 and repr(value) in result.output


def test_a_file_that_is_no_model_is_refused(tmp_path):
    (tmp_path / "x.json").write_text('{"hello": 1}')
    (tmp_path / "y.json").write_bytes(b"\x80\x04pickle")
    for name in ("x.json", "y.json"):
        with pytest.raises(ModelFileError):
            load_model(tmp_path / name)


def test_the_json_model_predicts_what_the_fitted_scikit_learn_pipeline_predicts():
    data = read_csv(BUNDLED, require_label=True)
    names = used_features(data.features)
    x = data.features[:, [FEATURES.index(n) for n in names]]
    linear = fit(x, data.labels, names, seed=3)
    pipeline = _pipeline(3).fit(x, data.labels)
    assert np.allclose(linear.probability(data.features), pipeline.predict_proba(x)[:, 1], rtol=0, atol=1e-12)


def test_the_shipped_model_is_loaded_once_and_fingerprints_the_bundled_data():
    assert default_model() is default_model()
    card = default_model().card
    assert card.training_data["sha256"] == hashlib.sha256(BUNDLED.read_bytes()).hexdigest()
    assert default_model().version == f"followers-v1+{card.training_data['sha256'][:12]}"
    for section in ("cross_validation", "holdout"):
        for metric in ("precision", "recall", "f1", "mcc", "roc_auc"):
            assert card.metrics[section][metric] is not None


def test_the_shipped_model_is_the_procedure_fitted_on_the_bundled_data():
    # The fitted numbers only: recomputing the shipped file's 50-fold figures would take the
    # suite half a minute, and determinism of those figures is tested below on fewer repeats.
    data = read_csv(BUNDLED, require_label=True)
    shipped = default_model()
    names = used_features(data.features)
    x = data.features[:, [FEATURES.index(n) for n in names]]
    assert fit(x, data.labels, names, seed=shipped.card.seed) == shipped.model
    assert shipped.card.metrics["cross_validation"]["repeats"] == 10


# Train and evaluate


def test_train_twice_with_the_same_seed_gives_the_same_model_and_another_seed_does_not():
    data = read_csv(BUNDLED, require_label=True)
    first, second, other = (train(data, seed=s, repeats=2).to_json() for s in (5, 5, 6))
    for document in (first, second, other):
        document.pop("trained_at")
    assert first == second
    assert first["training_data"]["sha256"] == other["training_data"]["sha256"]
    assert first["metrics"] != other["metrics"]


def test_train_then_evaluate_through_the_cli(tmp_path):
    out = tmp_path / "model.json"
    trained = runner.invoke(app, ["audit", "train", "--data", str(BUNDLED), "--out", str(out), "--seed", "1",
                                  "--repeats", "2"])
    assert trained.exit_code == 0, trained.output
    document = json.loads(out.read_text())
    assert {"format_version", "model_version", "features", "metrics", "sklearn_version", "training_data", "seed",
            "trained_at"} <= set(document)
    assert document["seed"] == 1 and document["metrics"]["cross_validation"]["repeats"] == 2

    evaluated = runner.invoke(app, ["audit", "evaluate", "--data", str(BUNDLED), "--model", str(out), "--repeats", "2"])
    assert evaluated.exit_code == 0, evaluated.output
    text = evaluated.output
    cv = document["metrics"]["cross_validation"]
    # Same seed (the model's), same data: the procedure's figures are the ones the file carries.
    assert f"MCC        {cv['mcc']['mean']:.3f} ± {cv['mcc']['sd']:.3f}" in text
    assert f"ROC AUC    {cv['roc_auc']['mean']:.3f} ± {cv['roc_auc']['sd']:.3f}" in text
    assert "predicted fake" in text and "Hold-out" in text
    assert "(in-sample" in text


def test_evaluate_on_other_data_judges_the_model_and_says_what_it_had_to_guess(tmp_path):
    rows = list(csv.DictReader(BUNDLED.open()))
    other = write_csv(tmp_path / "other.csv", [
        {k: v for k, v in row.items() if k not in ("is_private", "username_length", "username_digit_count")}
        for row in rows[::2]])
    result = runner.invoke(app, ["audit", "evaluate", "--data", str(other), "--repeats", "2"])
    assert result.exit_code == 0, result.output
    assert "unknown values replaced by the training median: is_private (100%), username_digit_share (100%)" in result.output
    assert "(in-sample" not in result.output
    assert not math.isnan(float(result.output.split("This model on every row")[1].split("ROC AUC ")[1].split()[0]))


def test_model_written_then_read_is_the_same_model(tmp_path):
    path = tmp_path / "copy.json"
    save_model(default_model(), path)
    assert path.read_text() == SHIPPED.read_text()
    assert same(load_model(path).suspicious_probability([PERSON, BOT]), default_model().suspicious_probability([PERSON, BOT]))


def test_a_csv_with_raw_fields_trains_a_model_that_uses_them(tmp_path):
    rng = np.random.default_rng(4)
    rows = []
    for i in range(120):
        fake = i % 4 == 0
        rows.append({
            "username": f"x{rng.integers(10**7, 10**8)}q" if fake else f"anna.meier.{'abcdefghij'[i % 10]}",
            "full_name": "" if fake else "Anna Meier",
            "biography": "" if fake else "maps",
            "external_url": "",
            "media_count": int(rng.integers(0, 3)) if fake else int(rng.integers(20, 400)),
            "follower_count": int(rng.integers(0, 50)) if fake else int(rng.integers(100, 900)),
            "following_count": int(rng.integers(300, 1400)) if fake else int(rng.integers(100, 900)),
            "label": "fake" if fake else "real",
        })
    data = read_csv(write_csv(tmp_path / "raw.csv", rows), require_label=True)
    classifier = train(data, seed=0, repeats=2)
    assert {"username_entropy", "empty_biography", "empty_full_name", "has_external_url"} <= set(classifier.model.features)
    assert "no_profile_pic" not in classifier.model.features  # no such column: unknown everywhere
    assert classifier.card.metrics["cross_validation"]["roc_auc"]["mean"] > 0.9
