"""Tables with CSV download links, and charts as Plotly mime bundles."""

from __future__ import annotations

import base64
import io
import json

import pandas as pd
import plotly.graph_objects as go
import pytest

from copilot_lib import components


def test_csv_link_holds_every_row() -> None:
    frame = pd.DataFrame({"language": ["python", "go"], "count": [3, 4]})

    link = components.csv_link(frame, "Activity by language")

    assert 'download="activity-by-language.csv"' in link
    payload = link.split("base64,", 1)[1].split('"', 1)[0]
    parsed = pd.read_csv(io.StringIO(base64.b64decode(payload).decode("utf-8")))
    pd.testing.assert_frame_equal(parsed, frame)


def test_table_html_escapes_and_limits_rows() -> None:
    frame = pd.DataFrame({"user_login": ["<b>x</b>"] * 60, "acceptance_rate": [0.5] * 60})

    text = components.table_html(frame, "Users", rows=50)

    assert "<b>x</b>" not in text
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    assert text.count("<tr") == 51
    assert "first 50 of 60 rows" in text
    assert "50.0%" in text
    assert text.startswith('<table class="copilot-table-grid"><caption>Users (first 50')


def test_table_says_when_empty() -> None:
    table = components.Table("users", "Users")

    table.show(pd.DataFrame())

    assert "no rows for the current controls" in table.html.value


def test_chart_output_is_json_without_nan() -> None:
    figure = go.Figure(go.Scatter(x=[1, 2, 3], y=[1.0, float("nan"), 3.0]))
    figure.update_layout(title_text="Gaps")

    chart = components.Chart("gaps", figure)

    (output,) = chart.output.outputs
    text = json.dumps(output, allow_nan=False)
    assert output["data"][components.PLOTLY_MIME]["data"][0]["y"] == [1.0, None, 3.0]
    assert "Chart: Gaps" in text


def test_table_toggle_shows_table() -> None:
    panel = components.ChartWithTable("active-users", "Active users")
    assert panel.table.html.layout.display == "none"

    panel.toggle.value = True

    assert panel.table.html.layout.display is None
    assert panel.toggle.description == "Hide table"


@pytest.mark.parametrize(
    ("value", "identifier", "text"),
    [
        (None, False, "n/a"),
        (float("nan"), False, "n/a"),
        (pd.NA, False, "n/a"),
        (17.0, False, "17"),
        (1234567.0, False, "1,234,567"),
        (1234567, True, "1234567"),
        (0.7407, False, "0.741"),
        (12.345, False, "12.3"),
        (True, False, "yes"),
        ("copilot_cli", False, "copilot_cli"),
    ],
)
def test_cell_text(value: object, identifier: bool, text: str) -> None:
    assert components.cell_text(value, identifier) == text


def test_table_mixed_column_has_no_python_none() -> None:
    frame = pd.DataFrame({"kpi": ["Interactions", "Acceptance"], "value": [519.0, None], "user_id": [1234567, 2]})

    rendered = components.table_html(frame, "KPIs")

    assert "None" not in rendered
    assert "<td>519</td>" in rendered
    assert "<td>1234567</td>" in rendered
