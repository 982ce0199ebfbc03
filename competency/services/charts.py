"""Plotly figures built from aggregated data; templates only embed them (as JSON, drawn by the served plotly.js).

Every function takes data and already-translated labels and returns a plain figure dict {data, layout}, built
directly (building plotly's validated `go.Figure` objects cost about half of a dashboard's CPU); the look is
plotly's default template, read once per process.
"""
from functools import cache

from flask_babel import gettext as _
from plotly import colors

FONT = "-apple-system, 'Segoe UI', 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"
COLOURS = ["#1f5fae", "#b4232a", "#1e7d45", "#b25e00", "#6b4fbb", "#667085"]


# Red below target, green above (plotly's RdYlGn, reversed on the chart).
GAP_SCALE = [[i / 10, colour] for i, colour in enumerate(colors.diverging.RdYlGn)]


@cache
def template_script() -> str:
    """plotly's default template as a script that sets `window.PLOTLY_TEMPLATE`, served once and cached by the
    browser (static/js/charts.js gives it to every figure), instead of 12 KB of it inside every chart of a page."""
    import json

    import plotly.io

    return f"window.PLOTLY_TEMPLATE = {json.dumps(plotly.io.templates['plotly'].to_plotly_json(), separators=(',', ':'))};\n"


def _layout(title: str, **extra) -> dict:
    layout = {"title": {"text": title, "font": {"size": 15}}, "font": {"family": FONT, "size": 12},
              "margin": {"l": 50, "r": 20, "t": 50, "b": 50}, "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
              "legend": {"orientation": "h", "y": -0.15}}
    layout.update(extra)
    return layout


def _figure(data: list[dict], layout: dict) -> dict:
    return {"data": data, "layout": layout}


def radar(codes: list[str], series: list[tuple[str, dict]], title: str) -> dict:
    """Levels (1–5) per competency for several series, e.g. combined vs targets."""
    closed = codes + codes[:1]
    data = []
    for index, (name, values) in enumerate(series):
        trace = {"type": "scatterpolar", "r": [values.get(c) for c in closed], "theta": closed, "name": name,
                 "mode": "lines+markers", "line": {"color": COLOURS[index % len(COLOURS)]}}
        if index == 0:
            trace["fill"] = "toself"
        data.append(trace)
    return _figure(data, _layout(title, polar={"radialaxis": {"range": [0, 5], "dtick": 1}}, showlegend=True))


def heatmap(rows: list[str], columns: list[str], cells: dict, title: str, row_keys: list | None = None) -> dict:
    """A rows × columns matrix of gaps (red: below target; green: above)."""
    keys = row_keys or rows
    z = [[None if cells.get((k, c)) is None else round(cells[(k, c)], 2) for c in columns] for k in keys]
    trace = {"type": "heatmap", "z": z, "x": columns, "y": rows, "zmid": 0, "colorscale": GAP_SCALE, "reversescale": True,
             "colorbar": {"title": {"text": _("Gap")}}, "hoverongaps": False}
    return _figure([trace], _layout(title, yaxis={"autorange": "reversed", "automargin": True}, xaxis={"side": "top"},
                                    height=max(300, 60 + 26 * len(rows))))


def stacked_bars(categories: list[str], series: list[tuple[str, list]], title: str, percent: bool = False) -> dict:
    """Bars per category, stacked by series (e.g. headcount per unit by grade)."""
    data = [{"type": "bar", "x": categories, "y": values, "name": name, "marker": {"color": COLOURS[index % len(COLOURS)]}}
            for index, (name, values) in enumerate(series)]
    return _figure(data, _layout(title, barmode="stack", xaxis={"automargin": True}, yaxis={"ticksuffix": "%" if percent else ""}))


def bars(categories: list[str], values: list, title: str, percent: bool = False, colour: str = COLOURS[0]) -> dict:
    """One bar per category (e.g. completion or compliance per unit, in %)."""
    trace = {"type": "bar", "x": categories, "y": values, "marker": {"color": colour},
             "text": [f"{v:.0f}%" if percent else v for v in values], "textposition": "auto"}
    yaxis = {"range": [0, 100], "ticksuffix": "%"} if percent else {"ticksuffix": ""}
    return _figure([trace], _layout(title, xaxis={"automargin": True}, yaxis=yaxis))


def progress(earned: float, required: float, title: str, earned_label: str, required_label: str) -> dict:
    """Credits this year against the requirement, as a bullet bar."""
    data = [{"type": "bar", "x": [required], "y": [""], "orientation": "h", "name": required_label, "marker": {"color": "#e3e6eb"},
             "width": 0.6},
            {"type": "bar", "x": [earned], "y": [""], "orientation": "h", "name": earned_label, "marker": {"color": COLOURS[2]},
             "width": 0.3}]
    return _figure(data, _layout(title, height=200, barmode="overlay", xaxis={"range": [0, max(earned, required, 1) * 1.1]},
                                 yaxis={"visible": False}, margin={"l": 20, "r": 20, "t": 50, "b": 40}))


def timeline(dates: list[str], ranks: list[int], grade_labels: list[str], title: str) -> dict:
    """The grade over time as a step line."""
    trace = {"type": "scatter", "x": dates, "y": ranks, "mode": "lines+markers", "line": {"shape": "hv", "color": COLOURS[0]}}
    return _figure([trace], _layout(title, height=260, yaxis={"tickvals": list(range(len(grade_labels))),
                                                              "ticktext": grade_labels, "range": [-0.5, len(grade_labels) - 0.5]}))
