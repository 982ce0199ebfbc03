"""Plotly figures built from aggregated data; templates only embed them (as JSON, drawn by the served plotly.js).

Every function takes data and already-translated labels and returns a plain figure dict {data, layout}, built
directly (building plotly's validated `go.Figure` objects cost about half of a dashboard's CPU); the look is
plotly's default template, read once per process.
"""
import re
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

FONT = "-apple-system, 'Segoe UI', 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"
COLOURS = ["#1f5fae", "#b4232a", "#1e7d45", "#b25e00", "#6b4fbb", "#667085"]


# Gaps (target − level): blue above the target (a negative gap), white on it, orange below it. Blue against orange
# stays apart for every common colour-vision deficiency, where red against green does not (ColorBrewer's RdBu blues,
# PuOr oranges); the chart centres the scale on 0.
GAP_SCALE = [[0.0, "#2166ac"], [0.2, "#67a9cf"], [0.4, "#d1e5f0"], [0.5, "#f7f7f7"], [0.6, "#fee0b6"], [0.8, "#f1a340"],
             [1.0, "#b35806"]]
# The least width of a heatmap: a column wide enough for its value ("+0.5"), and room for the row names and the colour
# bar beside them.
HEATMAP_COLUMN, HEATMAP_FRAME = 28, 200
# A title longer than this (in Latin letters; a Chinese character counts two) is wrapped, to fit a chart in a third of
# the page: plotly never wraps one.
TITLE_WIDTH = 40
WIDE_CHARACTERS = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"   # CJK characters and punctuation, full-width forms
WIDE = re.compile(f"[{WIDE_CHARACTERS}]")
# A wrapped text's pieces: one wide character (a line may break after any), a word, or spaces.
PIECES = re.compile(f"[{WIDE_CHARACTERS}]|[^\\s{WIDE_CHARACTERS}]+|\\s+")


@cache
def template_script() -> str:
    """plotly's default template as a script that sets `window.PLOTLY_TEMPLATE`, served once and cached by the
    browser (static/js/charts.js gives it to every figure), instead of 12 KB of it inside every chart of a page."""
    import json

    import plotly.io

    return f"window.PLOTLY_TEMPLATE = {json.dumps(plotly.io.templates['plotly'].to_plotly_json(), separators=(',', ':'))};\n"


def attribute_json(figure: dict) -> Markup:
    """The figure as compact JSON for a single-quoted HTML attribute (`data-figure='…'`): <, >, & and ' written as
    \\u escapes, so nothing in it can end the attribute or start markup, and Chinese as UTF-8. In a double-quoted
    attribute every quote would be written `&#34;` and every Chinese character `\\uXXXX`: the hr heatmap of 221 units
    took 196 KB so, 49 KB this way."""
    return htmlsafe_json_dumps(figure, dumps=current_app.json.dumps, ensure_ascii=False, separators=(",", ":"))


def wrap(text: str, width: int = TITLE_WIDTH) -> str:
    """The text in lines of at most `width` columns (a Chinese character takes two), joined by plotly's <br>: between
    words where there are spaces, between any two characters of Chinese."""
    lines, line, used = [], "", 0
    for token in PIECES.findall(text):
        size = sum(2 if WIDE.match(ch) else 1 for ch in token)
        if token.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        if line and used + size > width:
            lines.append(line.rstrip())
            line, used = "", 0
        line, used = line + token, used + size
    return "<br>".join(lines + [line.rstrip()])


def _layout(title: str, title_width: int = TITLE_WIDTH, **extra) -> dict:
    """The common layout: the title wrapped and given room above the plot, the legend in one row between them (below
    the plot it would sit on the axis labels)."""
    text = wrap(title, title_width)
    lines = text.count("<br>") + 1
    layout = {"title": {"text": text, "font": {"size": 14}, "x": 0, "xanchor": "left", "xref": "container",
                        "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 10, "l": 6}},
              "font": {"family": FONT, "size": 12}, "margin": {"l": 50, "r": 20, "t": 30 + 20 * lines, "b": 50},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
              "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"}}
    layout.update(extra)
    return layout


def _figure(data: list[dict], layout: dict) -> dict:
    if len(data) > 1 and layout.get("showlegend", True) and layout["legend"].get("yref") != "container":  # its row under the title
        layout["margin"] = layout["margin"] | {"t": layout["margin"]["t"] + 26}
    return {"data": data, "layout": layout}


def short_name(name: str, width: int = 20, lines: int = 2) -> str:
    """A competency's name for a chart axis: in lines of `width` columns, at most `lines` of them, the last ending in
    "…" when the name is longer. A Chinese name (no spaces to break at) stays on one line of up to 12 characters."""
    if " " not in name.strip() and WIDE.search(name):
        return name if len(name) <= 12 else name[:11] + "…"
    parts = wrap(name, width).split("<br>")
    if len(parts) <= lines:
        return "<br>".join(parts)
    return "<br>".join(parts[:lines - 1] + [parts[lines - 1] + "…"])


def radar(codes: list[str], series: list[tuple[str, dict]], title: str, names: dict[str, str] | None = None) -> dict:
    """Levels (1–5) per competency for several series, e.g. combined vs targets. The axes show the competencies'
    names (`names`, {code: name in the user's language}) cut short; the hover text gives the code, the whole name and the level."""
    names = names or {}
    closed = codes + codes[:1]
    theta = [short_name(names.get(c) or c, 16) for c in closed]
    hover = [f"{c} {names[c]}" if names.get(c) else c for c in closed]
    data = []
    for index, (name, values) in enumerate(series):
        trace = {"type": "scatterpolar", "r": [values.get(c) for c in closed], "theta": theta, "name": name,
                 "customdata": hover, "hovertemplate": f"%{{customdata}}<br>{name}: %{{r:.2f}}<extra></extra>",
                 "mode": "lines+markers", "line": {"color": COLOURS[index % len(COLOURS)]}}
        if index == 0:
            trace["fill"] = "toself"
        data.append(trace)
    layout = _layout(title, polar={"radialaxis": {"range": [0, 5], "dtick": 1}, "angularaxis": {"tickfont": {"size": 10}}},
                     showlegend=True, height=420)
    # the axis labels stand outside the circle: room for them on every side, and the legend at the very bottom
    layout["legend"] = {"orientation": "h", "x": 0.5, "xanchor": "center", "yref": "container", "y": 0, "yanchor": "bottom"}
    layout["margin"] |= {"l": 85, "r": 85, "t": layout["margin"]["t"] + 25, "b": 95}
    return _figure(data, layout)


def heatmap(rows: list[str], columns: list[str], cells: dict, title: str, row_keys: list | None = None,
            column_names: dict[str, str] | None = None) -> dict:
    """A rows × columns matrix of gaps (target − level), each cell showing its value, coloured on a colour-blind-safe
    scale centred on 0 (orange: below target; blue: above), with a colour bar and a caption saying so. `column_names`
    ({code: name}) names the columns in the hover text."""
    keys = row_keys or rows
    names = column_names or {}
    z = [[None if cells.get((k, c)) is None else round(cells[(k, c)], 2) for c in columns] for k in keys]
    text = [["" if v is None else "0.0" if round(v, 1) == 0 else f"{v:+.1f}" for v in row] for row in z]
    gap = _("Gap (target − level)")
    # The columns are named in full ("K1 Product knowledge", what the hover shows) and ticked with their codes: the
    # names are written once, not once per cell (a per-cell hover text was 78 KB of the hr page at 221 units).
    labels = [f"{c} {names[c]}" if names.get(c) else c for c in columns]
    trace = {"type": "heatmap", "z": z, "x": labels, "y": rows, "zmid": 0, "colorscale": GAP_SCALE, "text": text,
             "texttemplate": "%{text}", "textfont": {"size": 11},
             "hovertemplate": f"%{{y}}<br>%{{x}}<br>{gap}: %{{z:.2f}}<extra></extra>",
             "colorbar": {"title": {"text": gap, "side": "right"}, "thickness": 14}, "hoverongaps": False}
    caption = {"text": _("Orange: below the target · white: on target · blue: above the target. The number in each cell is "
                         "the gap in levels."), "showarrow": False, "xref": "paper", "yref": "paper", "x": 0, "xanchor": "left",
               "y": 0, "yanchor": "top", "yshift": -8, "align": "left", "font": {"size": 11, "color": "#475467"}}
    caption["text"] = wrap(caption["text"], 90)
    xaxis = {"side": "top", "automargin": True, "tickmode": "array", "tickvals": labels, "ticktext": columns}
    layout = _layout(title, 70, yaxis={"autorange": "reversed", "automargin": True}, xaxis=xaxis,
                     height=max(320, 110 + 26 * len(rows)), annotations=[caption])
    layout["margin"] |= {"b": 20 + 16 * (caption["text"].count("<br>") + 1)}
    figure = _figure([trace], layout)
    # Narrower than this (a phone), the cells' values would run into each other: the chart keeps this width and
    # scrolls sideways (static/js/charts.js).
    figure["min_width"] = HEATMAP_FRAME + HEATMAP_COLUMN * len(columns)
    return figure


def _bar_layout(title: str, categories: list[str], value_axis: dict, **extra) -> dict:
    """Horizontal bars, one row per category from the top down (the order given: units in tree order, as in the
    heatmap), the category names wrapped so that long ones neither run into each other nor squeeze the bars."""
    layout = _layout(title, yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
                     xaxis={"automargin": True, **value_axis}, **extra)
    layout["height"] = max(320, layout["margin"]["t"] + 60 + 30 * len(categories))   # 320: a chart's least height (app.css)
    layout["margin"] |= {"r": 30}
    return layout


def stacked_bars(categories: list[str], series: list[tuple[str, list]], title: str) -> dict:
    """Bars per category, stacked by series (e.g. headcount per unit by grade)."""
    names = [wrap(c, 24) for c in categories]
    data = [{"type": "bar", "orientation": "h", "y": names, "x": values, "name": name, "marker": {"color": COLOURS[index % len(COLOURS)]},
             "hovertemplate": f"%{{y}}<br>{name}: %{{x}}<extra></extra>"}
            for index, (name, values) in enumerate(series)]
    layout = _bar_layout(title, names, {}, barmode="stack")
    layout["legend"] |= {"traceorder": "normal"}
    return _figure(data, layout)


def bars(categories: list[str], values: list, title: str, percent: bool = False, colour: str = COLOURS[0]) -> dict:
    """One bar per category (e.g. completion or compliance per unit, in %), its value written beside it."""
    names = [wrap(c, 24) for c in categories]
    trace = {"type": "bar", "orientation": "h", "y": names, "x": values, "marker": {"color": colour},
             "text": [f"{v:.0f}%" if percent else v for v in values], "textposition": "outside", "cliponaxis": False,
             "hovertemplate": "%{y}: %{text}<extra></extra>"}
    axis = {"range": [0, 100], "ticksuffix": "%"} if percent else {"rangemode": "tozero"}
    layout = _bar_layout(title, names, axis)
    layout["margin"] |= {"r": 45}   # room for the value beside a full bar
    return _figure([trace], layout)


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
