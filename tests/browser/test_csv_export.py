"""CSV exports cannot carry a spreadsheet formula: in chromium, a grid cell holding one
(put there through AG Grid's API, as a customer name from the data could be) comes out
of 'Download CSV' prefixed with an apostrophe, and the other cells as they were."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

FORMULAS = ['=HYPERLINK("https://evil.example","Open")', "+1+1", "-2+3", "@SUM(A1)"]

# The churn cancellations grid's first rows get a formula in the first text column;
# returns that column's header.
PLANT = """async ([formulas]) => {
  const host = document.querySelector('#churn-cancellations-body .data-grid');
  const api = await dash_ag_grid.getApiAsync(host.id);
  const first = api.getDisplayedRowAtIndex(0);
  const column = api.getColumns().find(c => typeof first.data[c.getColDef().field] === 'string');
  formulas.forEach((text, i) => api.getDisplayedRowAtIndex(i).setDataValue(column.getColId(), text));
  return column.getColDef().headerName;
}"""


def test_a_formula_in_a_grid_is_exported_as_text(page, show_grid):
    page.goto("/?tab=churn")
    show_grid(page, "#churn-cancellations-body")
    header = page.evaluate(PLANT, [FORMULAS])
    with page.expect_download() as info:
        page.locator("#churn-cancellations-body").get_by_role("button", name="Download CSV").click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row[header] for row in rows[:len(FORMULAS)]] == [f"'{f}" for f in FORMULAS]
    others = [row[header] for row in rows[len(FORMULAS):]]
    assert others and not any(value.startswith("'") for value in others)
