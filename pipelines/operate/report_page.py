"""The run report as one self-contained HTML page: parameters, the steps on a timeline, cost, final
metrics, and a plot of each metric series.

Plots are plotly's (a well-kept library whose HTML carries its own JavaScript, so the page opens offline
and from an S3 download alike); the first figure embeds plotly.js, the others reuse it. The series'
values are in the page as plotly's figure data, which is what the tests read back.
"""

from __future__ import annotations

import html
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from pipelines.operate.run_report import RunReport

REPORT_NAME = "report.html"
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; } td, th { padding: .2rem .8rem; border-bottom: 1px solid #ddd; text-align: left; }
.status-Succeeded { color: #1a7f37; } .status-Failed, .status-Stopped { color: #cf222e; }
code { background: #f6f8fa; padding: 0 .2rem; }
"""


def _table(rows: list[tuple[str, str]], head: tuple[str, str]) -> str:
    body = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>" for a, b in rows)
    return f"<table><tr><th>{html.escape(head[0])}</th><th>{html.escape(head[1])}</th></tr>{body}</table>"


def _timeline(report: RunReport) -> go.Figure | None:
    timed = [span for span in report.steps if span.started and span.ended]
    if not timed:
        return None
    start = min(span.started for span in timed if span.started)
    figure = go.Figure(
        go.Bar(
            y=[span.name for span in timed],
            x=[(span.ended - span.started).total_seconds() for span in timed if span.ended and span.started],
            base=[(span.started - start).total_seconds() for span in timed if span.started],
            orientation="h",
            text=[span.status for span in timed],
            hovertemplate="%{y}: %{x:.1f} s (%{text})<extra></extra>",
        )
    )
    figure.update_layout(
        title="Steps", xaxis_title="seconds since the first step started", height=120 + 40 * len(timed)
    )
    return figure


def _series(name: str, report: RunReport) -> go.Figure:
    points = report.metrics[name]
    figure = go.Figure(
        go.Scatter(x=[p.at for p in points], y=[p.value for p in points], mode="lines+markers", name=name)
    )
    figure.update_layout(
        title=name, xaxis_title="n-th value in the training log", yaxis_title=name, height=360
    )
    return figure


def render(report: RunReport) -> str:
    """The whole page as one HTML string."""
    figures = [figure for figure in (_timeline(report),) if figure is not None]
    figures += [_series(name, report) for name in sorted(report.metrics)]
    plots = [
        pio.to_html(figure, include_plotlyjs="inline" if index == 0 else False, full_html=False)
        for index, figure in enumerate(figures)
    ]
    steps = [(span.name, span.status) for span in report.steps]
    finals = [(name, f"{value:.6g}") for name, value in sorted(report.final_metrics.items())]
    parts = [
        f"<h1>{html.escape(report.pipeline)}: <span class='status-{html.escape(report.status)}'>"
        f"{html.escape(report.status)}</span></h1>",
        f"<p>execution <code>{html.escape(report.execution)}</code>; example <code>{html.escape(report.example)}"
        f"</code>, preset <code>{html.escape(report.preset)}</code></p>",
        "<h2>Parameters</h2>",
        _table(sorted(report.parameters.items()), ("parameter", "value")),
        "<h2>Steps</h2>",
        _table(steps, ("step", "status")),
        "<h2>Cost</h2>",
        f"<p>{html.escape(report.cost_estimate or 'no estimate')}</p><p>{html.escape(report.billed)}</p>",
        "<h2>Final metrics</h2>",
        _table(finals, ("metric", "last value")) if finals else "<p>no metric was printed</p>",
        "<h2>Plots</h2>",
        *plots,
    ]
    title = html.escape(f"{report.pipeline} {report.status}")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{_STYLE}</style>"
        f"</head><body>{''.join(parts)}</body></html>\n"
    )


def write_report(report: RunReport, folder: Path) -> Path:
    """Write `folder/report.html` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / REPORT_NAME
    path.write_text(render(report))
    return path
