"""Draw the README's result figures from the JSON that ``innerloop-cli compare --json`` and the run
folders' ``metrics.jsonl`` hold. Uses the app's own plotting library, headless.

    python scripts/plot_results.py data-efficiency RESULTS.json docs/data-efficiency.png
    python scripts/plot_results.py curve RUN_DIR docs/snail-curve.png [--title TEXT]
    python scripts/plot_results.py minutes OUT.png LABEL=TTA.json [LABEL=TTA.json ...]

RESULTS.json for data-efficiency: {"protocol": ..., "tasks": ..., "budget": ...,
"rows": [{"algo": "maml", "label": "MAML", "classes": 50, "accuracy": 0.9, "ci95": 0.01}, ...]}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

COLORS = {"maml": (31, 119, 180), "mann": (214, 39, 40), "snail": (44, 160, 44), "reptile": (148, 103, 189)}


def _app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication(sys.argv[:1])


def _save(plot, out: str, width: int = 900, height: int = 540) -> None:
    """The widget as shown on a screen of its size (what a reader of the README sees)."""
    plot.resize(width, height)
    plot.getPlotItem().setContentsMargins(10, 10, 30, 10)  # room for the last tick label
    plot.show()
    _app().processEvents()
    plot.grab().save(out)
    print(f"wrote {out}")


def data_efficiency(results: str, out: str) -> None:
    import numpy as np
    import pyqtgraph as pg

    _app()
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    data = json.loads(Path(results).read_text())
    plot = pg.PlotWidget(
        title=f"Omniglot 5-way 1-shot, {data['protocol']}: test accuracy ({data['tasks']} tasks, "
        f"95% CI) · {data['budget']}"
    )
    plot.setLabel("bottom", "meta-training characters (log scale)")
    plot.setLabel("left", "test accuracy %")
    plot.addLegend(offset=(10, 10))
    plot.showGrid(x=True, y=True, alpha=0.3)
    sizes = sorted({r["classes"] for r in data["rows"]})
    plot.getAxis("bottom").setTicks([[(float(np.log10(c)), str(c)) for c in sizes]])
    for algo in dict.fromkeys(r["algo"] for r in data["rows"]):
        rows = sorted((r for r in data["rows"] if r["algo"] == algo), key=lambda r: r["classes"])
        x = np.log10([r["classes"] for r in rows])
        y = np.array([100 * r["accuracy"] for r in rows])
        ci = np.array([100 * r["ci95"] for r in rows])
        pen = pg.mkPen(COLORS.get(algo, (0, 0, 0)), width=3)
        plot.plot(
            x, y, pen=pen, symbol="o", symbolSize=9, symbolBrush=COLORS.get(algo), name=rows[0]["label"]
        )
        plot.addItem(pg.ErrorBarItem(x=x, y=y, top=ci, bottom=ci, beam=0.04, pen=pen))
    low, high = np.log10(min(sizes)), np.log10(max(sizes))
    plot.setXRange(low - 0.1 * (high - low), high + 0.1 * (high - low), padding=0)
    _save(plot, out)


def curve(run_dir: str, out: str, title: str | None) -> None:
    import numpy as np
    import pyqtgraph as pg

    _app()
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    rows = [
        json.loads(line)
        for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()
        if line.strip()
    ]
    config = json.loads((Path(run_dir) / "config.json").read_text())
    val = [r for r in rows if r.get("validation")]
    minutes = np.array([r["wall_time"] / 60 for r in val])
    acc = np.array([100 * r["validation"]["accuracy"] for r in val])
    ci = np.array([100 * r["validation"]["accuracy_ci95"] for r in val])
    plot = pg.PlotWidget(
        title=title
        or f"{config['algo']} · {config['dataset']}/{config['protocol']} "
        f"{config['ways']}-way {config['shots']}-shot · validation accuracy "
        f"({val[0]['validation']['tasks']} tasks, 95% CI)"
    )
    plot.setLabel("bottom", "training time (minutes, validation excluded)")
    plot.setLabel("left", "validation accuracy %")
    plot.showGrid(x=True, y=True, alpha=0.3)
    pen = pg.mkPen(COLORS.get(config["algo"], (0, 0, 0)), width=3)
    plot.plot(minutes, acc, pen=pen, symbol="o", symbolSize=5, symbolBrush=COLORS.get(config["algo"]))
    plot.addItem(pg.ErrorBarItem(x=minutes, y=acc, top=ci, bottom=ci, beam=0.05, pen=pen))
    _save(plot, out)


def minutes(out: str, series: list[str]) -> None:
    """Test accuracy against minutes of training, one line per ``scripts/time_to_accuracy.py`` JSON."""
    import numpy as np
    import pyqtgraph as pg

    _app()
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    plot = pg.PlotWidget(
        title="Omniglot 5-way 1-shot (finn), train --dataset omniglot --minutes N: "
        "test accuracy, 600 tasks, 95% CI"
    )
    plot.setLabel("bottom", "training wall time (minutes, validation included)")
    plot.setLabel("left", "test accuracy %")
    plot.addLegend(offset=(10, -10))
    plot.showGrid(x=True, y=True, alpha=0.3)
    colours = [(31, 119, 180), (213, 94, 0), (0, 158, 115)]
    for colour, item in zip(colours, series):
        label, path = item.split("=", 1)
        rows = json.loads(Path(path).read_text())["rows"]
        x = np.array([r["minutes"] for r in rows])
        y = np.array([100 * r["accuracy"] for r in rows])
        ci = np.array([100 * r["ci95"] for r in rows])
        pen = pg.mkPen(colour, width=3)
        plot.plot(x, y, pen=pen, symbol="o", symbolSize=9, symbolBrush=colour, name=label)
        plot.addItem(pg.ErrorBarItem(x=x, y=y, top=ci, bottom=ci, beam=0.4, pen=pen))
    goals = pg.ScatterPlotItem(
        [5, 20],
        [95, 97],
        symbol="+",
        size=18,
        pen=pg.mkPen((0, 0, 0), width=2),
        brush=(0, 0, 0),
        name="goals: 95% at 5 min, 97% at 20 min",
    )
    plot.addItem(goals)
    plot.setXRange(0, 21, padding=0)
    low = min(float(plot.getViewBox().childrenBounds()[1][0]), 90.0)
    plot.setYRange(low - 0.35 * (100 - low), 100, padding=0)  # room below the data for the legend
    _save(plot, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("data-efficiency")
    p.add_argument("results")
    p.add_argument("out")
    p = sub.add_parser("curve")
    p.add_argument("run_dir")
    p.add_argument("out")
    p.add_argument("--title")
    p = sub.add_parser("minutes")
    p.add_argument("out")
    p.add_argument("series", nargs="+", help="LABEL=scripts/time_to_accuracy.py JSON")
    args = parser.parse_args()
    if args.what == "data-efficiency":
        data_efficiency(args.results, args.out)
    elif args.what == "minutes":
        minutes(args.out, args.series)
    else:
        curve(args.run_dir, args.out, args.title)


if __name__ == "__main__":
    main()
