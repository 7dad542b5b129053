"""The reports' CSV: nested figures as dotted columns, every cell quoted, formulas kept as text."""

import csv
import io

from services.attribution.reports.csvfile import table


def test_a_text_cell_a_spreadsheet_would_run_is_quoted_as_text_and_numbers_stay_numbers():
    text = table([{"name": "=HYPERLINK(\"http://x\")", "amount": -595, "ratio": "-0.8175", "note": "@SUM(A1)"}])
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row == {"name": "'=HYPERLINK(\"http://x\")", "amount": "-595", "ratio": "-0.8175", "note": "'@SUM(A1)"}


def test_nested_figures_become_dotted_columns_lists_json_and_null_an_empty_cell():
    text = table([{"key": "a", "clicks": {"total": 2, "unique": 1}, "flags": ["x"], "roi": None},
                  {"key": "b", "clicks": {"total": 0, "unique": 0}, "flags": [], "roi": "1.5", "extra": True}])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["key", "clicks.total", "clicks.unique", "flags", "roi", "extra"]
    assert rows[0] == {"key": "a", "clicks.total": "2", "clicks.unique": "1", "flags": '["x"]', "roi": "", "extra": ""}
    assert rows[1]["extra"] == "true" and rows[1]["roi"] == "1.5"
    assert text.count('"') == 2 * 6 * 3 + 4  # every cell quoted, and the JSON list's two quotes doubled
