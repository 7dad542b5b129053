"""`limelight bench` (bench/run_all.py): figures recorded by a bench reach the table and the JSON,
with the target judged the right way round and the ratio to the same run's baseline. A tiny
stand-in bench runs here, not the real ones (they take minutes each and run on purpose)."""

import json

import pytest

from bench import harness, run_all


def test_a_figure_is_judged_against_its_target_in_its_direction():
    lower = {"value": 40.0, "target": 50.0, "better": "lower", "baseline_value": 8.0}
    higher = {"value": 445.0, "target": 2000.0, "better": "higher", "baseline_value": 902.0}
    assert run_all.met(lower) is True and run_all.met({**lower, "value": 51.0}) is False
    assert run_all.met(higher) is False and run_all.met({**higher, "value": 2000.0}) is True
    assert run_all.met({**lower, "target": None}) is None
    assert run_all.ratio(lower) == 5.0 and run_all.ratio({**lower, "baseline_value": None}) is None


def test_record_is_silent_without_the_runner(monkeypatch, tmp_path):
    monkeypatch.delenv("LIMELIGHT_BENCH_RECORD", raising=False)
    harness.record("x", 1.0, "ms")  # nothing to write to, nothing raised
    path = tmp_path / "r.jsonl"
    monkeypatch.setenv("LIMELIGHT_BENCH_RECORD", str(path))
    harness.record("p95", 12.5, "ms", target=15, baseline="bare", baseline_value=2.5)
    [line] = [json.loads(x) for x in path.read_text().splitlines()]
    assert (line["figure"], line["value"], line["target"], line["better"], line["baseline_value"]) == ("p95", 12.5, 15, "lower", 2.5)
    with pytest.raises(ValueError):
        harness.record("x", 1.0, "ms", better="faster")


def test_the_runner_gathers_figures_and_failures_into_table_and_json(monkeypatch, tmp_path):
    stand_in = tmp_path / "bench"
    stand_in.mkdir()
    (stand_in / "fake_ok.py").write_text(
        "import sys; sys.path.insert(0, %r)\n"
        "from bench.harness import record\n"
        "record('things per second', 1500.0, 'things/s', target=1000, better='higher', baseline='bare', baseline_value=3000.0)\n"
        "record('p99', 20.0, 'ms', target=15)\n" % str(run_all.ROOT))
    (stand_in / "fake_broken.py").write_text("raise SystemExit(3)\n")
    monkeypatch.setattr(run_all, "ROOT", tmp_path)
    monkeypatch.setattr(run_all, "SUITE", (run_all.Bench("fake_ok", (), (), 60), run_all.Bench("fake_broken", (), (), 60),
                                           run_all.Bench("fake_needs", (), (), 60, ("no-such-program-here",))))
    out = tmp_path / "results" / "run.json"
    code = run_all.main(["--out", str(out)])
    assert code == 1  # a bench failed
    result = json.loads(out.read_text())
    assert result["machine"]["cores"] and result["mode"] == "quick"
    statuses = {r["bench"]: r["status"] for r in result["runs"]}
    assert statuses == {"fake_ok": "ok", "fake_broken": "exit 3", "fake_needs": "skipped"}
    by_name = {f["figure"]: f for f in result["figures"]}
    assert by_name["things per second"]["met"] is True and by_name["things per second"]["ratio"] == 0.5
    assert by_name["p99"]["met"] is False and by_name["p99"]["ratio"] is None
    assert all(f["bench"] == "fake_ok" for f in result["figures"])


def test_an_unknown_bench_name_is_refused(capsys):
    with pytest.raises(SystemExit):
        run_all.main(["--only", "nope"])
    assert "unknown bench(es): nope" in capsys.readouterr().err


def test_every_bench_in_the_suite_exists():
    for bench in run_all.SUITE:
        assert (run_all.ROOT / "bench" / f"{bench.name}.py").exists(), bench.name
