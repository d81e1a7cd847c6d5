"""The scale series as a picture: an SVG written by hand (no plotting library in the guest or
on the host), one panel per scenario, median wall time against the number of volumes that
exist (log scale), one line per contender. Used by report.py --plot."""
import math
import statistics

COLORS = ["#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#7f7f7f"]
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 460, 340, 58, 12, 34, 44


def _panel(title, series, x0):
    """series: {contender: [(n, median s)]}; returns SVG elements for one panel at x offset x0."""
    ns = sorted({n for pts in series.values() for n, _ in pts})
    if not ns:
        return [f'<text x="{x0 + W / 2}" y="18" text-anchor="middle">{title}: no series</text>']
    top = max((s for pts in series.values() for _, s in pts), default=1.0) * 1.1 or 1.0
    lo, hi = math.log10(min(ns)), math.log10(max(ns))
    span = (hi - lo) or 1.0
    pw, ph = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def x(n):
        return x0 + PAD_L + (math.log10(n) - lo) / span * pw

    def y(s):
        return PAD_T + ph - s / top * ph

    out = [f'<text x="{x0 + W / 2}" y="18" text-anchor="middle" font-weight="bold">{title}</text>',
           f'<rect x="{x0 + PAD_L}" y="{PAD_T}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>']
    for n in ns:
        out.append(f'<line x1="{x(n):.1f}" y1="{PAD_T + ph}" x2="{x(n):.1f}" y2="{PAD_T + ph + 4}" stroke="#333"/>')
        out.append(f'<text x="{x(n):.1f}" y="{PAD_T + ph + 16}" text-anchor="middle">{n}</text>')
    out.append(f'<text x="{x0 + PAD_L + pw / 2}" y="{H - 8}" text-anchor="middle">volumes that exist (log scale)</text>')
    step = _step(top)
    t = 0.0
    while t <= top:
        out.append(f'<line x1="{x0 + PAD_L - 4}" y1="{y(t):.1f}" x2="{x0 + PAD_L + pw}" y2="{y(t):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x0 + PAD_L - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
        t = round(t + step, 6)
    out.append(f'<text x="{x0 + 14}" y="{PAD_T + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 {x0 + 14} {PAD_T + ph / 2})">seconds (median)</text>')
    for i, (c, pts) in enumerate(series.items()):
        color = COLORS[i % len(COLORS)]
        path = " ".join(f"{x(n):.1f},{y(s):.1f}" for n, s in sorted(pts))
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for n, s in pts:
            out.append(f'<circle cx="{x(n):.1f}" cy="{y(s):.1f}" r="3" fill="{color}"/>')
        ly = PAD_T + 14 + 16 * i
        out.append(f'<line x1="{x0 + PAD_L + 8}" y1="{ly - 4}" x2="{x0 + PAD_L + 24}" y2="{ly - 4}" '
                   f'stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{x0 + PAD_L + 28}" y="{ly}">{c}</text>')
    return out


def _step(top):
    raw = top / 5
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def svg(groups, panels):
    """groups: {(scenario, n, contender): [rows]}; panels: [(scenario, title)]."""
    body = []
    for i, (scenario, title) in enumerate(panels):
        series = {}
        for (s, n, c), rows in sorted(groups.items(), key=lambda kv: kv[0][1]):
            if s == scenario:
                series.setdefault(c, []).append((n, statistics.median(r["wall_s"] for r in rows)))
        body += _panel(title, {c: p for c, p in series.items() if len(p) > 1}, i * W)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W * len(panels)}" height="{H}" '
            f'font-family="sans-serif" font-size="11">\n<rect width="100%" height="100%" fill="white"/>\n'
            + "\n".join(body) + "\n</svg>\n")
