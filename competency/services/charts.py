"""Plotly figures built from aggregated data; templates only embed them (as JSON, drawn by the served plotly.js).

Every function takes data and already-translated labels and returns a plain figure dict {data, layout}.
"""
import plotly.graph_objects as go
from flask_babel import gettext as _

FONT = "-apple-system, 'Segoe UI', 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"
COLOURS = ["#1f5fae", "#b4232a", "#1e7d45", "#b25e00", "#6b4fbb", "#667085"]


def _layout(title: str, **extra) -> dict:
    layout = {"title": {"text": title, "font": {"size": 15}}, "font": {"family": FONT, "size": 12},
              "margin": {"l": 50, "r": 20, "t": 50, "b": 50}, "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
              "legend": {"orientation": "h", "y": -0.15}}
    layout.update(extra)
    return layout


def _plain(fig: go.Figure) -> dict:
    data = fig.to_plotly_json()
    return {"data": data["data"], "layout": data["layout"]}


def radar(codes: list[str], series: list[tuple[str, dict]], title: str) -> dict:
    """Levels (1–5) per competency for several series, e.g. combined vs targets."""
    fig = go.Figure(layout=_layout(title, polar={"radialaxis": {"range": [0, 5], "dtick": 1}}, showlegend=True))
    closed = codes + codes[:1]
    for index, (name, values) in enumerate(series):
        fig.add_trace(go.Scatterpolar(r=[values.get(c) for c in closed], theta=closed, name=name, mode="lines+markers",
                                      fill="toself" if index == 0 else None, line={"color": COLOURS[index % len(COLOURS)]}))
    return _plain(fig)


def heatmap(rows: list[str], columns: list[str], cells: dict, title: str, row_keys: list | None = None) -> dict:
    """A rows × columns matrix of gaps (red: below target; green: above)."""
    keys = row_keys or rows
    z = [[None if cells.get((k, c)) is None else round(cells[(k, c)], 2) for c in columns] for k in keys]
    fig = go.Figure(go.Heatmap(z=z, x=columns, y=rows, zmid=0, colorscale="RdYlGn", reversescale=True,
                               colorbar={"title": {"text": _("Gap")}}, hoverongaps=False),
                    layout=_layout(title, yaxis={"autorange": "reversed", "automargin": True}, xaxis={"side": "top"},
                                   height=max(300, 60 + 26 * len(rows))))
    return _plain(fig)


def stacked_bars(categories: list[str], series: list[tuple[str, list]], title: str, percent: bool = False) -> dict:
    """Bars per category, stacked by series (e.g. headcount per unit by grade)."""
    fig = go.Figure(layout=_layout(title, barmode="stack", xaxis={"automargin": True},
                                   yaxis={"ticksuffix": "%" if percent else ""}))
    for index, (name, values) in enumerate(series):
        fig.add_trace(go.Bar(x=categories, y=values, name=name, marker={"color": COLOURS[index % len(COLOURS)]}))
    return _plain(fig)


def bars(categories: list[str], values: list, title: str, percent: bool = False, colour: str = COLOURS[0]) -> dict:
    """One bar per category (e.g. completion or compliance per unit, in %)."""
    fig = go.Figure(go.Bar(x=categories, y=values, marker={"color": colour}, text=[f"{v:.0f}%" if percent else v for v in values],
                           textposition="auto"),
                    layout=_layout(title, xaxis={"automargin": True},
                                   yaxis={"range": [0, 100] if percent else None, "ticksuffix": "%" if percent else ""}))
    return _plain(fig)


def progress(earned: float, required: float, title: str, earned_label: str, required_label: str) -> dict:
    """Credits this year against the requirement, as a bullet bar."""
    fig = go.Figure(layout=_layout(title, height=200, barmode="overlay", xaxis={"range": [0, max(earned, required, 1) * 1.1]},
                                   yaxis={"visible": False}, margin={"l": 20, "r": 20, "t": 50, "b": 40}))
    fig.add_trace(go.Bar(x=[required], y=[""], orientation="h", name=required_label, marker={"color": "#e3e6eb"}, width=0.6))
    fig.add_trace(go.Bar(x=[earned], y=[""], orientation="h", name=earned_label, marker={"color": COLOURS[2]}, width=0.3))
    return _plain(fig)


def timeline(dates: list[str], ranks: list[int], grade_labels: list[str], title: str) -> dict:
    """The grade over time as a step line."""
    fig = go.Figure(go.Scatter(x=dates, y=ranks, mode="lines+markers", line={"shape": "hv", "color": COLOURS[0]}),
                    layout=_layout(title, height=260, yaxis={"tickvals": list(range(len(grade_labels))),
                                                             "ticktext": grade_labels, "range": [-0.5, len(grade_labels) - 0.5]}))
    return _plain(fig)
