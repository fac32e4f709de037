"""Layout checks for figures: overlapping labels and panels, legends over data, text too small in print.

``problems(fig)`` draws the figure once with its own renderer (Agg) and compares the display-space bounding
boxes (``Artist.get_window_extent(renderer)``) that matplotlib itself reports:

* **text on text** -- every visible, non-empty text of the figure (titles, axis labels, tick labels drawn in
  the view limits, offset texts such as ``1e-5``, annotations, suptitle, figure texts) against every other,
  and against every legend box (a legend counts as one box); tick labels of one axis against each other;
* **text on another panel** -- a text of one axes inside the plotting area of another (the label of one
  panel running into its neighbour);
* **panel on panel** -- two plotting areas that intersect (insets, i.e. axes wholly inside another, are
  exempt); a plotting area less than ``MIN_PANEL_INCHES`` wide or high (squeezed by its labels or legend);
* **legend on data** -- a vertex of a line or a point of a scatter/errorbar collection of the same axes
  inside the legend box;
* **too small in print** -- with ``printed_width`` (and ``printed_height``) in inches given, the saved
  (tight) figure is printed at its natural size or shrunk to fit that box, as sgdtheory/paper.py does; a text
  whose printed size is below ``min_points`` points is reported.

Two boxes overlap when their intersection is more than ``tol`` display pixels wide *and* high.  What
matplotlib cannot see (a line through a label, meaning) is not checked: looking at the page still matters.
"""

from __future__ import annotations

import re

import numpy as np

DEFAULT_TOL = 1.0  # pixels at the figure's dpi
MIN_PANEL_INCHES = 0.8  # a plotting area narrower or lower than this has been squeezed by its decorations


def _visible(artist) -> bool:
    if not artist.get_visible():
        return False
    get_text = getattr(artist, "get_text", None)
    return get_text is None or bool(str(get_text()).strip())


def _tick_labels(axis) -> list:
    """The tick labels that are drawn: ticks inside the view interval, labels visible and non-empty."""
    lo, hi = sorted(axis.get_view_interval())
    span = hi - lo
    out = []
    for ticks in (axis.get_major_ticks(), axis.get_minor_ticks()):
        for t in ticks:
            loc = t.get_loc()
            if loc is None or not (lo - 1e-9 * span <= loc <= hi + 1e-9 * span):
                continue
            for lab in (t.label1, t.label2):
                if lab.get_visible() and lab.get_text().strip():
                    out.append(lab)
    return out


def _name(artist, ax_index: dict, ax=None) -> str:
    where = f"panel {ax_index[ax] + 1}" if ax in ax_index else "figure"
    text = artist.get_text() if hasattr(artist, "get_text") else type(artist).__name__
    return f"{where} {text!r}"


def _texts(fig) -> list[tuple]:
    """(artist, kind, axes-or-None) for every text of the figure that is drawn."""
    out = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for t in (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None)):
            if t is not None and _visible(t):
                out.append((t, "title", ax))
        for axis, nm in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            if not axis.get_visible():
                continue
            if _visible(axis.label):
                out.append((axis.label, f"{nm}label", ax))
            if _visible(axis.offsetText):
                out.append((axis.offsetText, f"{nm}offset", ax))
            out += [(t, f"{nm}tick", ax) for t in _tick_labels(axis)]
        out += [(t, "text", ax) for t in ax.texts if _visible(t)]
    for t in [getattr(fig, "_suptitle", None), getattr(fig, "_supxlabel", None), getattr(fig, "_supylabel", None),
              *fig.texts]:
        if t is not None and _visible(t) and all(t is not o for o, _, _ in out):
            out.append((t, "text", None))
    return out


def _overlap(a, b, tol: float) -> bool:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w > tol and h > tol


def _inside(inner, outer) -> bool:
    return inner.x0 >= outer.x0 - 1 and inner.x1 <= outer.x1 + 1 and inner.y0 >= outer.y0 - 1 and inner.y1 <= outer.y1 + 1


def _data_points(ax) -> np.ndarray:
    """Display coordinates of the data an axes draws: line vertices, collection offsets and the corners of bars.

    Reference lines spanning the axes (``axhline``, ``axvline``: one coordinate in axes units) are not data: their
    end points lie on the frame, where a corner legend would always "hide" them."""
    pts = []
    frame = (ax.transAxes, ax.get_xaxis_transform("grid"), ax.get_yaxis_transform("grid"))
    for ln in ax.lines:
        if ln.get_visible() and not any(ln.get_transform() is tr for tr in frame):
            xy = np.asarray(ln.get_xydata(), dtype=float)
            if xy.size:
                pts.append(ln.get_transform().transform(xy))
    for container in ax.containers:
        for patch in container.patches if hasattr(container, "patches") else ():
            if patch.get_visible():
                pts.append(patch.get_transform().transform(patch.get_path().vertices))
    for col in ax.collections:
        if not col.get_visible():
            continue
        offs = np.asarray(col.get_offsets(), dtype=float)
        if offs.size and offs.ndim == 2 and offs.shape[1] == 2 and len(offs) > 0:
            pts.append(col.get_offset_transform().transform(offs))
        else:  # line collections (error bars): their segment end points
            for path in getattr(col, "get_paths", lambda: [])():
                v = np.asarray(path.vertices, dtype=float)
                if v.size:
                    pts.append(col.get_transform().transform(v))
    if not pts:
        return np.empty((0, 2))
    p = np.concatenate(pts)
    return p[np.all(np.isfinite(p), axis=1)]


_NUMERIC = re.compile(r"^[\s$\\{}0-9.,+\-\u2212^e]*$")


def _numeric(label: str) -> bool:
    return bool(_NUMERIC.match(label.replace("\\mathdefault", "").replace("\\times", "")))


def declutter(fig, passes: int = 3) -> int:
    """Fix the tick-label collisions matplotlib can see; return how many axes (x or y) were changed.

    Along an axis whose drawn tick labels overlap: numeric labels are thinned (sorted by position, each label
    that overlaps the last one kept is hidden -- the ticks stay); category labels along x are rotated (30, then
    60, then 90 degrees), along y made smaller (by half a point per pass, down to 5.5 pt).  The figure is redrawn after each pass (a layout engine may move things), at most
    ``passes`` times; on return its last draw shows its final state (``problems(fig, draw=False)`` may read it).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    changed = set()
    for attempt in range(passes):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        now = 0
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            for axis, horizontal in ((ax.xaxis, True), (ax.yaxis, False)):
                boxes = [(lab, lab.get_window_extent(renderer)) for lab in _tick_labels(axis)]
                if not any(_overlap(a, b, DEFAULT_TOL) for i, (_, a) in enumerate(boxes) for _, b in boxes[i + 1:]):
                    continue
                now += 1
                changed.add(id(axis))
                if not all(_numeric(lab.get_text()) for lab, _ in boxes):
                    if horizontal:
                        for lab in axis.get_ticklabels():
                            lab.set_rotation(30 * (attempt + 1))
                            lab.set_horizontalalignment("right")
                            lab.set_rotation_mode("anchor")
                    else:  # row labels cannot be dropped or turned: make them smaller, down to 5.5 pt
                        for lab in axis.get_ticklabels():
                            lab.set_fontsize(max(5.5, lab.get_fontsize() - 0.5))
                    continue
                boxes.sort(key=lambda lb: lb[1].x0 if horizontal else lb[1].y0)
                kept = None
                for lab, box in boxes:
                    if kept is not None and _overlap(kept, box, DEFAULT_TOL):
                        lab.set_visible(False)
                    else:
                        kept = box
        if not now:
            break
    else:  # the last pass changed labels: draw the final state, which the caller reads (layout check, tight box)
        fig.canvas.draw()
    return len(changed)


# Matplotlib's inside-the-axes legend locations, in the order tried (a tie keeps the earlier one).
BELOW_MAX_HEIGHT = 1.0  # a legend moved under its panel may be at most as tall as the panel
LEGEND_LOCATIONS = ("upper right", "upper left", "lower left", "lower right", "center right", "center left",
                    "upper center", "lower center", "center")


def _legend_cost(leg, ax, renderer, points, texts) -> tuple[int, int, int]:
    """(data points inside the legend, texts it overlaps, drawn lines crossing it) at its current location."""
    box = leg.get_window_extent(renderer)
    inside = int(((points[:, 0] > box.x0) & (points[:, 0] < box.x1) & (points[:, 1] > box.y0)
                  & (points[:, 1] < box.y1)).sum())
    hit_texts = int(sum(_overlap(box, tb, DEFAULT_TOL) for tb in texts))
    crossing = 0
    for ln in ax.lines:
        if ln.get_visible() and ln.get_linestyle() not in ("None", "", " ") and len(ln.get_xydata()):
            path = ln.get_transform().transform_path(ln.get_path())
            crossing += bool(path.intersects_bbox(box, filled=False))
    return inside, hit_texts, crossing


def _move_below(ax, leg, renderer):
    """Replace ``leg`` by the same entries centred under ``ax`` (``figures.legend_below``), in as many columns
    as fit the panel's width; return the new legend, or None (``leg`` kept) when it would be taller than
    ``BELOW_MAX_HEIGHT`` times the panel."""
    from . import legend_below

    labels = [tx.get_text() for tx in leg.get_texts()]
    if not labels:
        return None
    # the axes' own artists where they carry the label (an error bar keeps its bars and marker), else the
    # legend's drawn handle (proxies the author made for the legend only)
    own = dict(zip(*reversed(ax.get_legend_handles_labels())))
    handles = [own.get(lab, drawn) for lab, drawn in zip(labels, leg.legend_handles)]
    fontsize = leg.get_texts()[0].get_fontsize()
    for ncol in range(len(labels), 0, -1):
        new = legend_below(ax, handles=handles, labels=labels, fontsize=fontsize, ncol=ncol)  # replaces leg
        box = new.get_window_extent(renderer)
        if box.width <= ax.bbox.width or ncol == 1:
            if box.height <= BELOW_MAX_HEIGHT * ax.bbox.height:
                return new
            break
    new.remove()
    ax.legend_ = leg  # the original legend, back in place
    return None


def _place_inside(leg, ax, renderer) -> tuple[bool, tuple | None, object]:
    """Try the inside locations of ``leg``; returns (found one hiding no data, the least cost, its location).
    ``leg`` is left at its starting location."""
    points = _data_points(ax)
    texts = [tx.get_window_extent(renderer) for tx in (*ax.texts, ax.title, ax._left_title, ax._right_title)
             if _visible(tx)]
    start = leg._loc
    if _legend_cost(leg, ax, renderer, points, texts)[0] == 0:
        return True, None, start
    costs = {}
    for loc in LEGEND_LOCATIONS:
        leg.set_loc(loc)
        if _inside(leg.get_window_extent(renderer), ax.bbox):
            costs.setdefault(_legend_cost(leg, ax, renderer, points, texts), leg._loc)
    leg._loc = start
    best = min(costs, default=None)
    return best is not None and best[0] == 0, best, costs.get(best, start)


def _inside_legends(fig, renderer):
    return [(ax, ax.get_legend()) for ax in fig.axes if ax.get_legend() is not None and ax.get_legend().get_visible()
            and _inside(ax.get_legend().get_window_extent(renderer), ax.bbox)]


def place_legends(fig) -> int:
    """Put every legend drawn inside its axes where it hides no data; return how many were moved.

    For each axes legend whose box lies within the plotting area (legends placed outside, such as
    ``figures.legend_below``, are the author's choice and left alone) and covers a data point (the quantity
    ``problems`` reports), the nine standard inside locations are tried; of those covering no data point the
    one overlapping the fewest texts of the axes (title, annotations), then crossed by the fewest drawn lines, is
    kept (on a tie the earlier in ``LEGEND_LOCATIONS``).  When every inside location covers data, the legend goes
    under its panel (``figures.legend_below``, as many columns as fit the panel's width) and the figure grows by
    the legend's height (per row of panels, the tallest such legend), so no panel is squeezed; the figure is then
    drawn again and the legends left inside are placed once more on the new layout.  A legend taller than
    ``BELOW_MAX_HEIGHT`` times its panel stays inside, where it hides the fewest points (the layout check still
    reports it).  The figure must have been drawn (``declutter``).
    """
    renderer = fig.canvas.get_renderer()
    moved, grow = 0, {}
    for ax, leg in _inside_legends(fig, renderer):
        free, _, loc = _place_inside(leg, ax, renderer)
        if free:
            moved += loc != leg._loc
            leg._loc = loc
            continue
        new = _move_below(ax, leg, renderer)
        if new is not None:
            spec = ax.get_subplotspec()
            row = (id(spec.get_gridspec()), spec.rowspan.stop) if spec is not None else id(ax)
            grow[row] = max(grow.get(row, 0.0), new.get_window_extent(renderer).height / fig.dpi + 0.05)
            moved += 1
    if grow:
        fig.set_figheight(fig.get_figheight() + sum(grow.values()))
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
    for ax, leg in _inside_legends(fig, renderer):
        free, best, loc = _place_inside(leg, ax, renderer)
        if loc != leg._loc:
            leg._loc = loc  # hiding no data, or (no free place) the fewest points
            moved += 1
    return moved


def problems(fig, tol: float = DEFAULT_TOL, printed_width: float | None = None, printed_height: float | None = None,
             min_points: float = 5.5, legend_data: bool = True, draw: bool = True) -> list[str]:
    """Every layout problem matplotlib can detect in ``fig`` (empty list: none); see the module docstring.

    ``draw=False`` skips drawing the figure first (it must have been drawn or saved already, as in
    ``figures.save``): the boxes are those of the last draw.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    if draw:
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    ax_index = {ax: i for i, ax in enumerate(fig.axes)}
    out = []

    texts = [(t, kind, ax, t.get_window_extent(renderer)) for t, kind, ax in _texts(fig)]
    legends = []
    for ax in axes:
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            legends.append((leg, ax, leg.get_window_extent(renderer)))
    for leg in fig.legends:
        if leg.get_visible():
            legends.append((leg, None, leg.get_window_extent(renderer)))

    # text on text
    for i in range(len(texts)):
        ti, ki, ai, bi = texts[i]
        for j in range(i + 1, len(texts)):
            tj, kj, aj, bj = texts[j]
            if _overlap(bi, bj, tol):
                out.append(f"text overlaps text: {_name(ti, ax_index, ai)} and {_name(tj, ax_index, aj)}")
        for leg, lax, lb in legends:
            if _overlap(bi, lb, tol):
                where = f"panel {ax_index[lax] + 1}" if lax in ax_index else "figure"
                out.append(f"text overlaps legend: {_name(ti, ax_index, ai)} and the legend of {where}")
    # text on another panel
    boxes = {ax: ax.bbox for ax in axes}
    insets = {ax for ax in axes for other in axes if other is not ax and _inside(boxes[ax], boxes[other])}
    for t, kind, ax, b in texts:
        for other in axes:
            if other is ax or other in insets or (ax in insets and _inside(boxes[ax], boxes[other])):
                continue
            if _overlap(b, boxes[other], tol):
                out.append(f"text runs into another panel: {_name(t, ax_index, ax)} inside panel {ax_index[other] + 1}")
    # collapsed panels (a layout engine squeezed a plotting area to make room for its decorations)
    for ax in axes:
        w, h = boxes[ax].width / fig.dpi, boxes[ax].height / fig.dpi
        if ax not in insets and min(w, h) < MIN_PANEL_INCHES:
            out.append(f"panel collapsed: panel {ax_index[ax] + 1} is {w:.2f} x {h:.2f} in")
    # panel on panel
    for i, a in enumerate(axes):
        for b in axes[i + 1:]:
            if a in insets or b in insets:
                continue
            if _overlap(boxes[a], boxes[b], tol):
                out.append(f"panels overlap: panel {ax_index[a] + 1} and panel {ax_index[b] + 1}")
    # legend on data
    if legend_data:
        for leg, lax, lb in legends:
            if lax is None:
                continue
            p = _data_points(lax)
            inside = ((p[:, 0] > lb.x0) & (p[:, 0] < lb.x1) & (p[:, 1] > lb.y0) & (p[:, 1] < lb.y1)).sum()
            if inside:
                out.append(f"legend hides data: the legend of panel {ax_index[lax] + 1} covers {inside} data "
                           "point(s)")
    # too small in print
    if printed_width is not None:
        tight = fig.get_tightbbox(renderer)  # inches: what savefig(bbox_inches="tight") keeps
        scale = min(1.0, printed_width / tight.width)  # printed at natural size when it fits
        if printed_height is not None:
            scale = min(scale, printed_height / tight.height)
        small = sorted((t.get_fontsize() * scale, _name(t, ax_index, ax)) for t, kind, ax, b in texts
                       if t.get_fontsize() * scale < min_points)
        legend_small = [(min(x.get_fontsize() for x in leg.get_texts()) * scale, lax) for leg, lax, lb in legends
                        if leg.get_texts() and min(x.get_fontsize() for x in leg.get_texts()) * scale < min_points]
        if small:
            out.append(f"text too small in print: {len(small)} text(s) below {min_points:g} pt when printed "
                       f"{scale * tight.width:.2f} in wide, smallest {small[0][0]:.1f} pt ({small[0][1]})")
        for size, lax in legend_small:
            where = f"panel {ax_index[lax] + 1}" if lax in ax_index else "figure"
            out.append(f"text too small in print: the legend of {where} is {size:.1f} pt when printed "
                       f"{scale * tight.width:.2f} in wide")
    return out


__all__ = ["problems", "declutter", "DEFAULT_TOL"]
