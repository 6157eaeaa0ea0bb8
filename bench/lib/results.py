"""Figures of a benchmark run: each one a ratio against a reference measured in the same run."""

from __future__ import annotations

import json
import operator
from dataclasses import asdict, dataclass
from pathlib import Path

_OPS = {">=": operator.ge, "<=": operator.le}


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    reference: float | None
    ratio: float | None
    target: str | None  # ">= 0.8x" (on the ratio) or "<= 30 ms" (on the value), None for information
    passed: bool | None

    def as_json(self) -> dict:
        data = asdict(self)
        data["pass"] = data.pop("passed")
        return data


def figure(
    name: str,
    value: float,
    unit: str,
    *,
    reference: float | None = None,
    target: str | None = None,
    passed: bool | None = None,
) -> Figure:
    """A figure; `target` ">= 0.8x" is judged on the ratio, "<= 30 ms" on the value, else pass `passed`."""
    ratio = round(value / reference, 4) if reference else None
    if target and target[:2] in _OPS:
        op, threshold = target.split()[:2]
        on_ratio = target.endswith("x")
        measured = ratio if on_ratio else value
        passed = bool(measured is not None and _OPS[op](measured, float(threshold.rstrip("x"))))
    # Six significant digits: a reference of a few milliseconds keeps its ratio checkable.
    reference = None if reference is None else float(f"{reference:.6g}")
    return Figure(name, float(f"{value:.6g}"), unit, reference, ratio, target, passed)


def table(title: str, figures: list[Figure]) -> str:
    rows = [("figure", "value", "unit", "reference", "ratio", "target", "")]
    for f in figures:
        verdict = "" if f.passed is None else ("PASS" if f.passed else "FALL SHORT")
        rows.append(
            (
                f.name,
                f"{f.value:,.3f}".rstrip("0").rstrip("."),
                f.unit,
                "" if f.reference is None else f"{f.reference:,.3f}".rstrip("0").rstrip("."),
                "" if f.ratio is None else f"{f.ratio:.2f}x",
                f.target or "",
                verdict,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [f"== {title}"]
    for i, r in enumerate(rows):
        lines.append(
            "  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=True)))
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write(path: Path, figures: list[Figure]) -> None:
    path.write_text(json.dumps([f.as_json() for f in figures], indent=2) + "\n")


def markdown(figures: list[dict]) -> str:
    """results.json as a Markdown table (for bench/README.md): `python -m bench.lib.results FILE`."""
    lines = ["| figure | value | unit | reference | ratio | target | |", "|---|---:|---|---:|---:|---|---|"]
    for f in figures:
        verdict = "" if f["pass"] is None else ("PASS" if f["pass"] else "FALL SHORT")
        reference = "" if f["reference"] is None else f"{f['reference']:,.3g}"
        ratio = "" if f["ratio"] is None else f"{f['ratio']:.2f}x"
        target = f["target"] or ""
        lines.append(
            f"| {f['name']} | {f['value']:,.4g} | {f['unit']} | {reference} | {ratio} | {target} | {verdict} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(markdown(json.loads(Path(sys.argv[1]).read_text())))
