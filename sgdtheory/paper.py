"""The paper pipeline: regenerate every figure, table and number of ``paper/main.tex`` from claim runs, then
build the PDF with latexmk (``sgdtheory paper``).

Layout (everything under ``paper/generated/`` is produced here and ignored by git):

* ``results/<ID>.json`` -- the claim's record (``results.record``) plus ``cache_key``; ``results/figures/``;
* ``sections/family_<X>.tex`` -- one subsection per claim: statement, source, figures, table of checks;
* ``errata.tex`` -- the errata ledger (as printed, the checks, the corrected form);
* ``appendix.tex`` -- benchmark ratios, package versions, seeds, the exact commands;
* ``numbers.tex`` -- macros (``\\nClaims``, ``\\familywiseBound``, ...) used in the text;
* ``manifest.json`` -- every generated file with the stamp of this run.

A claim is re-run only when its cache key changes.  The key hashes the claim ID, the mode (quick/full), the
seed, the confidence level, the package version and a hash of the package's source files, so results never
outlive the code that made them.  After the build, ``check_build`` reads latexmk's recorder file and the
LaTeX log: every file under ``generated/`` that the PDF used must carry this run's stamp (nothing stale),
and there must be no undefined reference or citation; the main text (the pages before the one carrying
``\\label{appendix}``, from ``main.aux``) has at most MAX_MAIN_TEXT_PAGES pages.  A figure's secondary panels
(``<stem>_more``, ``figures.new_figure(appendix_panels=k)``) are printed in the appendix.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import re
import shutil
import subprocess
import time
from pathlib import Path

from . import __version__
from .claims.base import UNDECIDED
from .results import atomic_write_text, versions
from .stats import DEFAULT_LEVEL, familywise_bound

FAMILIES = {
    "A": "Minibatch gradients, convergence and gradient flow",
    "B": "Stationary distributions and Langevin dynamics",
    "C": "Implicit regularisation and batch size",
    "D": "Momentum, adaptive methods, schedules and SAM",
    "E": "Errata",
}
SEED_NAMES = {"000": "Huszár, SGD notes", "001": "KAIST EE807 lecture 2", "002": "Huszár, implicit regularisation",
              "003": "McAllester, TTIC 31230 SGD slides", "004": "reading list (Mandt et al., Ge et al., ...)"}
LATEX_PACKAGES = "latexmk texlive-latex-base texlive-latex-recommended texlive-fonts-recommended texlive-latex-extra"


# families whose figures are printed in the appendix (their ledger and key checks stay in the main text)
FIGURES_IN_APPENDIX = ("E",)

# the main text (every page before the one carrying \label{appendix}) has at most this many pages (issue 19)
MAX_MAIN_TEXT_PAGES = 30

# layout findings (figures.layout.problems) that the build reports but does not fail on
LAYOUT_WARNINGS = ("legend hides data",)


class PaperError(RuntimeError):
    """The paper could not be regenerated or built (the message says why and what to do)."""


_NO_RESULT_FILES = ("paper.py", "cli.py", "paper_statements.py", "layout.py")


def _hash_files(paths, root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _is_figure_source(p: Path, root: Path) -> bool:
    return p.suffix == ".mplstyle" or p.relative_to(root).parts[0] == "figures"


def _package_files(root: Path) -> list[Path]:
    return [p for p in list(root.rglob("*.py")) + list(root.rglob("*.mplstyle"))
            if "__pycache__" not in p.parts and p.name not in _NO_RESULT_FILES]  # these change no result


def package_source_hash() -> str:
    """sha256 over the package's Python sources (sorted by path) that make a claim's result: everything except
    the pipeline and the command line themselves and the figure code (``figures/``, the style file), which
    only draws a result (``figure_source_hash``)."""
    root = Path(__file__).resolve().parent
    return _hash_files([p for p in _package_files(root) if not _is_figure_source(p, root)], root)


def figure_source_hash(claim=None) -> str:
    """sha256 over the figure code: when only this changes, a claim's figures are redrawn from its saved result
    instead of re-running it.  For ``claim``: the shared figure code (``figures/__init__.py``, ``layout.py``,
    the style file) and the ``figures`` modules that the module defining ``claim.figure`` imports; without a
    claim (or when those imports cannot be read) all of ``figures/``."""
    import sys

    root = Path(__file__).resolve().parent
    files = [p for p in _package_files(root) if _is_figure_source(p, root)]
    names = None
    mod = sys.modules.get(getattr(getattr(claim, "figure", None), "__module__", "") or "")
    if mod is not None and getattr(mod, "__file__", None):
        names = set(re.findall(r"from \.\.figures import (\w+)", Path(mod.__file__).read_text()))
    if names:
        files = [p for p in files if p.suffix == ".mplstyle" or p.name in ("__init__.py", "layout.py")
                 or p.stem in names]
    return _hash_files(files + [root / "figures" / "layout.py"], root)


def cache_key(claim_id: str, quick: bool, seed: int, level: float, source_hash: str) -> str:
    payload = json.dumps({"claim": claim_id, "quick": quick, "seed": seed, "level": level, "version": __version__,
                          "source": source_hash}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


# -- LaTeX text ----------------------------------------------------------------------------------------------

_UNICODE = {
    "η": r"$\eta$", "λ": r"$\lambda$", "Σ": r"$\Sigma$", "σ": r"$\sigma$", "μ": r"$\mu$", "ε": r"$\varepsilon$",
    "β": r"$\beta$", "α": r"$\alpha$", "ρ": r"$\rho$", "κ": r"$\kappa$", "Φ": r"$\Phi$", "φ": r"$\phi$",
    "ω": r"$\omega$", "τ": r"$\tau$", "γ": r"$\gamma$", "δ": r"$\delta$", "Δ": r"$\Delta$", "θ": r"$\theta$",
    "ψ": r"$\psi$", "Ψ": r"$\Psi$", "π": r"$\pi$", "ξ": r"$\xi$", "ν": r"$\nu$",
    "∝": r"$\propto$", "→": r"$\to$", "≤": r"$\le$", "≥": r"$\ge$", "≈": r"$\approx$", "≠": r"$\ne$",
    "−": "-", "–": "--", "—": "---", "×": r"$\times$", "·": r"$\cdot$", "√": r"$\surd$", "∞": r"$\infty$",
    "‖": r"$\|$", "∇": r"$\nabla$", "∫": r"$\int$", "∑": r"$\sum$", "±": r"$\pm$", "≻": r"$\succ$",
    "⇔": r"$\Leftrightarrow$", "≪": r"$\ll$", "≫": r"$\gg$", "∈": r"$\in$", "ᵀ": r"$^{\top}$",
    "²": r"$^2$", "³": r"$^3$", "¹": r"$^1$", "⁻": r"$^-$", "⁴": r"$^4$", "½": r"$\frac12$", "¼": r"$\frac14$",
    "₀": r"$_0$", "₁": r"$_1$", "₂": r"$_2$", "ₜ": r"$_t$", "ᵢ": r"$_i$", "ₖ": r"$_k$", "’": "'", "‘": "`",
    "“": "``", "”": "''", "…": r"\dots{}", "̃": "", "é": r"\'e", "á": r"\'a", "ü": r"\"u", "ö": r"\"o",
}
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
            "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"$<$", ">": r"$>$",
            "|": r"$|$"}


def tex(text) -> str:
    """Plain text (with the package's Unicode maths) as LaTeX for pdflatex: specials escaped, Greek letters and
    symbols mapped to maths, any other non-ASCII character replaced by '?'."""
    out = []
    for ch in str(text):
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


def num(x: float, digits: int = 5) -> str:
    """A number for a table or the text: %.{digits}g with a LaTeX exponent (``\\ensuremath``, so that it can
    stand in text and in maths)."""
    if x is None:
        return "--"
    if isinstance(x, str):
        return tex(x)
    s = f"{x:.{digits}g}"
    m = re.fullmatch(r"(-?[\d.]+)e([+-])0*(\d+)", s)
    if m:
        mant, sign, ex = m.groups()
        return f"\\ensuremath{{{mant}\\times 10^{{{'-' if sign == '-' else ''}{ex}}}}}"
    return "\\ensuremath{-}" + s[1:] if s.startswith("-") else s


def _macro_name(text: str) -> str:
    return re.sub(r"[^A-Za-z]", "", text)


# -- regenerate ----------------------------------------------------------------------------------------------


def regenerate(paper_dir: Path, quick: bool, seed: int = 20261123, level: float = DEFAULT_LEVEL, ids=None,
               force: bool = False, bench: bool = True, progress=print, workers: int | None = None,
               scheduler: str | None = None) -> dict:
    """Run every claim whose cached record is missing or stale, then write the generated LaTeX sources.

    With ``workers`` (a local Dask cluster of that many processes) or ``scheduler`` (an existing cluster) the
    stale claims run in parallel, one task each (``sgdtheory.distributed``); the records are the same."""
    from .claims import REGISTRY, Settings
    from .runner import run_claim

    paper_dir = Path(paper_dir)
    gen = paper_dir / "generated"
    res_dir = gen / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    src = package_source_hash()
    stamp = hashlib.sha256(f"{src}{quick}{seed}{level}{time.time()}".encode()).hexdigest()[:12]
    claim_ids = sorted(REGISTRY) if not ids else [i.upper() for i in ids]
    records, timing, stale = {}, {}, {}
    parallel = workers is not None or scheduler is not None
    t_start = time.perf_counter()
    for k, cid in enumerate(claim_ids, 1):
        claim = REGISTRY[cid]
        key = cache_key(cid, quick, seed, level, src)
        fig_src = figure_source_hash(claim)
        path = res_dir / f"{cid}.json"
        saved = res_dir / f"{cid}.result.pkl"
        rec = _load(path)
        fresh = (rec is not None and rec.get("cache_key") == key and all(Path(f).is_file() for f in rec["figures"]))
        if fresh and not force and rec.get("figure_key") == fig_src:
            progress(f"[{k}/{len(claim_ids)}] {cid}: up to date (key {key})")
            records[cid] = rec
            continue
        kept = {}
        if fresh and not force and saved.is_file():
            try:
                with open(saved, "rb") as fh:
                    kept = pickle.load(fh)  # written by this pipeline below, never from elsewhere
            except Exception:  # unreadable: run the claim again
                kept = {}
        if fresh and not force and saved.is_file() and kept.get("key") == key:
            progress(f"[{k}/{len(claim_ids)}] {cid}: result up to date, figure code changed: redrawing ...")
            rec["figures"], rec["layout"] = _draw(claim, kept["result"], res_dir)
            rec["figure_key"] = fig_src
            atomic_write_text(path, json.dumps(rec, indent=2) + "\n")
            records[cid] = rec
            continue
        if parallel:
            stale[cid] = key
            continue
        progress(f"[{k}/{len(claim_ids)}] {cid}: running ({'quick' if quick else 'full'} mode) ...")
        settings = Settings(quick=quick, seed=seed, level=level, progress=lambda m, c=cid: progress(f"    {c}: {m}"))
        t0 = time.perf_counter()
        kept = {}
        rec = run_claim(_keeping_result(claim, kept), claim.default_instance(), settings, res_dir, figures=False)
        levels = rec.pop("_levels")
        rec["levels"] = levels
        if "result" in kept:
            try:
                with open(saved, "wb") as fh:
                    pickle.dump({"key": key, "result": kept["result"]}, fh)
            except Exception:  # a result that cannot be pickled is simply not kept for redrawing
                saved.unlink(missing_ok=True)
            rec["figures"], rec["layout"] = _draw(claim, kept["result"], res_dir)
        rec["cache_key"] = key
        rec["figure_key"] = fig_src
        atomic_write_text(path, json.dumps(rec, indent=2) + "\n")
        timing[cid] = time.perf_counter() - t0
        records[cid] = rec
        progress(f"    {cid}: {rec['status']} in {timing[cid]:.1f} s")
    if stale:
        from .distributed import run_claims

        progress(f"running {len(stale)} claims ({'quick' if quick else 'full'} mode) on "
                 f"{f'{workers} local workers' if workers is not None else scheduler} ...")

        def save(rec):
            cid = rec["claim"]
            rec["levels"] = rec.pop("_levels")
            rec["layout"] = rec.pop("_layout", {})
            rec["cache_key"] = stale[cid]
            rec["figure_key"] = figure_source_hash(REGISTRY[cid])
            atomic_write_text(res_dir / f"{cid}.json", json.dumps(rec, indent=2) + "\n")
            timing[cid] = rec["elapsed_seconds"]
            records[cid] = rec
            progress(f"    [{len(timing)}/{len(stale)}] {cid}: {rec['status']} in {timing[cid]:.1f} s")

        run_claims(list(stale), res_dir, quick=quick, seed=seed, level=level, workers=workers, scheduler=scheduler,
                   on_record=save)
        records = {cid: records[cid] for cid in claim_ids}
    bench_report = _bench(gen, src, bench, progress)
    files = write_sources(gen, records, quick, seed, level, bench_report, stamp)
    manifest = {"stamp": stamp, "quick": quick, "seed": seed, "level": level, "source_hash": src,
                "claims": {c: r["cache_key"] for c, r in records.items()}, "files": files,
                "figures": sorted({Path(f).name for r in records.values() for f in r["figures"]}),
                "seconds": time.perf_counter() - t_start, "reran": sorted(timing),
                "layout": {stem: p for r in records.values() for stem, p in (r.get("layout") or {}).items() if p}}
    for stem, probs in manifest["layout"].items():
        for msg in probs:
            progress(f"layout: {stem}: {msg}")
    atomic_write_text(gen / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


def _keeping_result(claim, kept: dict):
    """The claim with its ``run`` wrapped to keep the ClaimResult in ``kept`` (to save it for redrawing)."""
    def run(instance, settings):
        kept["result"] = claim.run(instance, settings)
        return kept["result"]

    return dataclasses.replace(claim, run=run)


def _draw(claim, result, res_dir: Path) -> tuple[list, dict]:
    """Draw a claim's figures from its result; return the paths and each figure's layout problems."""
    from . import figures

    if claim.figure is None or result.diverged:
        return [], {}
    figures.LAYOUT_PROBLEMS.clear()
    paths = [str(p) for p in claim.figure(result, Path(res_dir) / "figures")]
    return paths, {Path(f).stem: figures.LAYOUT_PROBLEMS.get(Path(f).stem, []) for f in paths if f.endswith(".pdf")}


def _load(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _bench(gen: Path, src: str, enabled: bool, progress) -> dict | None:
    """The benchmark ratios for the appendix (cached by source hash; small scale)."""
    path = gen / "bench.json"
    old = _load(path)
    if old is not None and old.get("source_hash") == src:
        return old
    if not enabled:
        return old
    from .bench import run

    progress("bench: engine throughput ratios (scale 0.25) ...")
    report = run(scale=0.25, log=lambda *_: None)
    report["source_hash"] = src
    atomic_write_text(path, json.dumps(report, indent=2, default=str) + "\n")
    return report


def write_sources(gen: Path, records: dict, quick: bool, seed: int, level: float, bench_report, stamp: str) -> list:
    """Write the summary table, family sections (main text), errata ledger, full check tables (appendix),
    appendix and number macros; return the generated file list (relative to ``gen``)."""
    written = []

    def put(rel: str, text: str):
        atomic_write_text(gen / rel, f"% generated by sgdtheory paper, stamp {stamp}; do not edit\n" + text)
        written.append(rel)

    figdir = gen / "figures"
    if figdir.exists():
        shutil.rmtree(figdir)
    figdir.mkdir(parents=True)
    for rec in records.values():
        for f in rec["figures"]:
            if f.endswith(".pdf"):
                shutil.copy2(f, figdir / Path(f).name)
                written.append(f"figures/{Path(f).name}")
    ordered = [r for c, r in sorted(records.items(), key=lambda kv: _order(kv[0]))]
    for fam in FAMILIES:
        put(f"sections/family_{fam}.tex", _family_section(fam, [r for r in ordered if r["claim"][0] == fam],
                                                          figures_in_text=fam not in FIGURES_IN_APPENDIX))
    put("figures_appendix.tex", "\n".join(_figure_env(r, f, False) for r in ordered for f in r["figures"]
                                          if f.endswith(".pdf") and (r["claim"][0] in FIGURES_IN_APPENDIX
                                                                     or _is_more(f))) + "\n\\FloatBarrier\n")
    put("summary.tex", _summary_table(ordered))
    put("errata.tex", _errata_ledger([r for r in ordered if r["kind"] == "erratum" or r["claim"].startswith("E")]))
    put("checks.tex", _full_tables(ordered))
    put("appendix.tex", _appendix(records, quick, seed, level, bench_report))
    put("numbers.tex", _numbers(records, quick, seed, level, stamp))
    return written


def _order(cid: str):
    return (cid[0], int(re.sub(r"\D", "", cid) or 0))


# -- reading a record's checks (any role string; optional fields may be missing) -----------------------------

ROLE_SHORT = {"claim": "claim", "negative control": "control", "as printed": "printed", "approximation": "approx."}


def _role(ch) -> str:
    return str(ch.get("role", ""))


def _is_control(ch) -> bool:
    return _role(ch) in ("negative control", "as printed") or "control" in _role(ch)


def _exact(ch) -> bool:
    return float(ch["estimate"].get("level", 0.0)) >= 1.0


def _distance(ch) -> float:
    """How far the prediction is from the estimate in interval half-widths (the record's
    ``distance_half_widths`` when present), inf for exact checks."""
    d = ch.get("distance_half_widths")
    if isinstance(d, (int, float)):
        return float(d)
    hw = ch.get("half_width", ch["estimate"].get("high", 0) - ch["estimate"].get("value", 0))
    if _exact(ch) or not hw or hw <= 0:
        return float("inf")
    return abs(float(ch["prediction"]) - float(ch["estimate"]["value"])) / float(hw)


def _relative_gap(ch) -> float:
    e = float(ch["estimate"]["value"])
    return abs(float(ch["prediction"]) - e) / max(abs(e), abs(float(ch["prediction"])), 1e-300)


def _as_expected(ch) -> bool | None:
    """Whether a check came out as planned; None when nothing was planned (no expectation, or an
    approximation whose planned half-width could not decide it: such a check is reported, not counted)."""
    exp = ch.get("expected")
    return None if not exp or exp == UNDECIDED else ch.get("verdict") == exp


def headline(rec):
    """The check a claim's summary line quotes: its first Monte Carlo check of role 'claim' (an estimate with
    an interval), else its first check of role 'claim', else its first check."""
    checks = rec.get("checks") or []
    claims = [c for c in checks if _role(c) == "claim"]
    measured = [c for c in claims if not _exact(c)]
    return (measured or claims or checks or [None])[0]


def nearest_control(rec):
    """The control hardest to reject: fewest half-widths from its estimate (exact ones by relative gap)."""
    controls = [c for c in rec.get("checks") or [] if _is_control(c)]
    return min(controls, key=lambda c: (_distance(c), _relative_gap(c))) if controls else None


def key_checks(rec) -> list:
    """The checks that carry a claim's argument, in table order: the first claim check and the headline one (the
    first Monte Carlo claim check); the nearest control (fewest half-widths from its estimate; exact controls by relative
    gap); the decisive approximation (the first found detectably wrong, else the first found adequate)."""
    checks = rec.get("checks") or []
    out = []

    def add(c):
        if c is not None and all(c is not o for o in out):
            out.append(c)

    add(next((c for c in checks if _role(c) == "claim"), None))
    add(headline(rec))
    controls = [c for c in checks if _is_control(c)]
    if controls:
        add(nearest_control(rec))
        printed = [c for c in controls if _role(c) == "as printed"]
        if printed:
            add(min(printed, key=lambda c: (_distance(c), _relative_gap(c))))
    approx = [c for c in checks if _role(c) == "approximation"]
    add(next((c for c in approx if _as_expected(c) is False or "wrong" in str(c.get("verdict"))),
             next((c for c in approx if c.get("verdict") == "adequate"), approx[0] if approx else None)))
    return out


def _verdict_tex(ch) -> str:
    v = ch.get("verdict", "?")
    ok = _as_expected(ch)
    mark = r" \mbox{\scriptsize\textbf{(UNEXPECTED)}}" if ok is False else ""  # unbroken in a narrow column
    return tex(v) + mark


def _interval_tex(ch) -> str:
    e = ch["estimate"]
    return "exact" if _exact(ch) else f"[{num(e['low'], 4)}, {num(e['high'], 4)}]"


def _check_rows(checks, with_distance: bool) -> list[str]:
    rows = []
    for ch in checks:
        role = ROLE_SHORT.get(_role(ch), tex(_role(ch)))
        pred = (r"$\le$ " if ch.get("bound") else "") + num(ch["prediction"], 4)
        cells = [role, tex(ch["name"]), pred, num(ch["estimate"]["value"], 4), _interval_tex(ch)]
        if with_distance:
            d = _distance(ch)
            cells.append("--" if d == float("inf") else num(d, 2))
        cells.append(_verdict_tex(ch))
        rows.append(" & ".join(cells) + r" \\")
    return rows


def _checks_table(rec, checks=None, caption: str = "") -> str:
    """A table of checks across pages (all of the record's by default), \\textwidth wide (xltabular)."""
    checks = rec.get("checks", []) if checks is None else checks
    if not checks:
        return "No checks (the run diverged or produced none).\n"
    head = (r"\begin{footnotesize}\setlength{\tabcolsep}{4pt}"
            r"\begin{xltabular}{\textwidth}{@{}l >{\raggedright\arraybackslash}X r r l r "
            r">{\raggedright\arraybackslash}p{0.11\textwidth}@{}}" "\n"
            + (f"\\caption{{{caption}}}\\\\\n" if caption else "")
            + r"\toprule role & check & prediction & estimate & interval & $d$ & verdict\\ \midrule\endhead" "\n")
    return head + "\n".join(_check_rows(checks, True)) + "\n\\bottomrule\n\\end{xltabular}\\end{footnotesize}\n"


def _counts(rec) -> tuple[int, int]:
    checks = rec.get("checks") or []
    return sum(_as_expected(c) is not False for c in checks), len(checks)


def _figure_name(rec) -> str | None:
    pdfs = [Path(f).stem for f in rec.get("figures", []) if f.endswith(".pdf") and not _is_more(f)]
    return pdfs[0] if pdfs else None


def _title_tex(rec) -> str:
    from .paper_statements import short

    cid = rec["claim"]
    return f"\\texorpdfstring{{{cid}: {short(cid, rec.get('title', ''))}}}{{{cid}: {_pdf_text(rec.get('title', ''))}}}"


def _pdf_text(text: str) -> str:
    """Plain ASCII for PDF bookmarks (no maths)."""
    return re.sub(r"[\\{}$^_&%#~|<>]", " ", "".join(ch if ord(ch) < 128 else " " for ch in str(text)))


def _statement_tex(rec) -> str:
    from .claims import REGISTRY
    from .paper_statements import statement

    cid = rec["claim"]
    own = getattr(REGISTRY.get(cid), "latex_statement", "") or ""
    return statement(cid, rec.get("statement", ""), own)


def _is_more(f) -> bool:
    """A figure of a claim's secondary panels (``<stem>_more``, figures.APPENDIX_SUFFIX): printed in the appendix."""
    from .figures import APPENDIX_SUFFIX

    return Path(f).stem.endswith(APPENDIX_SUFFIX)


def _main_stem(f) -> str:
    from .figures import APPENDIX_SUFFIX

    stem = Path(f).stem
    return stem[:-len(APPENDIX_SUFFIX)] if stem.endswith(APPENDIX_SUFFIX) else stem


def _figure_env(rec, f: str, main_text: bool) -> str:
    """A figure at its printed size (``_print_size``); the caption names the claim, the script that draws it and
    the level of its intervals, and links a claim's main figure and its secondary panels (``_more``) both ways."""
    cid = rec["claim"]
    stem, base = Path(f).stem, _main_stem(f)
    width, height = _print_size(Path(f))
    more = [g for g in rec["figures"] if g.endswith(".pdf") and _is_more(g) and _main_stem(g) == stem]
    link = (f" Further panels: Figure~\\ref{{fig:{Path(more[0]).stem}}} (appendix)." if more and not _is_more(f)
            else f" Panels continued from Figure~\\ref{{fig:{base}}}." if _is_more(f) else "")
    return ("\\begin{figure}[htbp]\\centering\n"
            f"\\includegraphics[width={width:.2f}in,height={height:.2f}in,keepaspectratio]{{{Path(f).name}}}\n"
            f"\\caption{{\\hyperref[claim:{cid}]{{{cid}}} (\\texttt{{{tex(f'experiments/{base}.py')}}}); "
            f"intervals at level {rec['settings']['level']:g}.{link}}}"
            f"\\label{{fig:{stem}}}\n\\end{{figure}}")


def _print_size(pdf: Path) -> tuple[float, float]:
    """The printed size (inches) of a figure: its natural size, shrunk to fit \\linewidth by the figure
    height allowed (figures.PRINT_WIDTH, figures.PRINT_HEIGHT), as the layout check assumes."""
    from .figures import PRINT_HEIGHT, PRINT_WIDTH

    w, h = PRINT_WIDTH, PRINT_HEIGHT
    try:
        m = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", Path(pdf).read_bytes())
        if m:
            w = (float(m.group(3)) - float(m.group(1))) / 72.0
            h = (float(m.group(4)) - float(m.group(2))) / 72.0
    except OSError:
        pass
    s = min(1.0, PRINT_WIDTH / w, PRINT_HEIGHT / h)
    return w * s, h * s


def _family_section(fam: str, recs: list, figures_in_text: bool = True) -> str:
    """The generated part of a family's section (the section heading and the discussion are in main.tex and
    paper/discussion/): one subsection per claim with its statement, figure and the checks that carry it."""
    if not recs:
        return "No claim of this family is implemented yet.\n"
    out = []
    n_checks = sum(len(r.get("checks") or []) for r in recs)
    ok = sum(r["status"] == r["expected_status"] for r in recs)
    out.append(f"\\noindent\\emph{{{len(recs)} claims, {n_checks} checks; {ok} of {len(recs)} came out as "
               "expected.}\n")
    for r in recs:
        cid = r["claim"]
        good, total = _counts(r)
        out.append(f"\\subsection{{{_title_tex(r)}}}\\label{{claim:{cid}}}")
        out.append(f"\\noindent\\textbf{{Claim.}} {_statement_tex(r)}\\\\\n\\textit{{Source:}} {tex(r['source'])}. "
                   f"\\textit{{Status:}} {tex(r['status'])}: {good} of {total} checks as expected "
                   f"(all of them on p.~\\pageref{{tab:all-{cid}}}; run in {r['elapsed_seconds']:.1f}\\,s).\n")
        figs = [f for f in r["figures"] if f.endswith(".pdf") and not (figures_in_text and _is_more(f))]
        if figures_in_text:
            out += [_figure_env(r, f, True) for f in figs]
        elif figs:
            out.append("Figure" + ("s " if len(figs) > 1 else " ")
                       + ", ".join(f"\\ref{{fig:{Path(f).stem}}}" for f in figs) + ".\n")
        keys = key_checks(r)
        if keys:
            out.append(_key_table(keys))
    return "\n".join(out) + "\n"


def _key_table(checks) -> str:
    """The checks that carry a claim, \\textwidth wide: the check's name takes what the numbers leave (tabularx)."""
    return ("\\begin{center}\\begin{footnotesize}\\setlength{\\tabcolsep}{4pt}"
            "\\begin{tabularx}{\\textwidth}{@{}l >{\\raggedright\\arraybackslash}X r r l r "
            ">{\\raggedright\\arraybackslash}p{0.11\\textwidth}@{}}"
            "\\toprule\n"
            "role & check & prediction & estimate & interval & $d$ & verdict\\\\ \\midrule\n"
            + "\n".join(_check_rows(checks, True)) + "\n\\bottomrule\\end{tabularx}\\end{footnotesize}\\end{center}\n")


def _summary_table(recs: list) -> str:
    """One line per claim: the statement in short, the headline check's prediction and estimate with its
    interval, its verdict with the claim's count of checks as expected, and the figure."""
    from .paper_statements import short

    rows = []
    for r in recs:
        cid = r["claim"]
        h = headline(r)
        good, total = _counts(r)
        fig = _figure_name(r)
        if h is None:
            pred = est = interval = verdict = "--"
        else:
            pred = (r"$\le$ " if h.get("bound") else "") + num(h["prediction"], 4)
            est, interval, verdict = num(h["estimate"]["value"], 4), _interval_tex(h), _verdict_tex(h)
        status = f"{good}/{total}" + ("" if r["status"] == r["expected_status"] else r" \textbf{!}")
        figref = f"\\ref{{fig:{fig}}}" if fig else "--"
        rows.append(f"\\hyperref[claim:{cid}]{{{cid}}} & {short(cid, r.get('title', ''))} & {pred} & {est} & "
                    f"{interval} & {verdict} & {status} & {figref} \\\\")
    return (r"\begin{footnotesize}\setlength{\tabcolsep}{4pt}\begin{xltabular}{\textwidth}{@{}l X r r l l r r@{}}" "\n"
            r"\caption{All claims. Prediction and estimate are those of the claim's first Monte Carlo check of role "
            r"``claim'' (with its interval at the run's level; a claim checked only exactly shows its first exact "
            r"check); \emph{as exp.}\ counts the claim's checks whose "
            r"verdict is the expected one.}\label{tab:summary}\\" "\n"
            r"\toprule ID & statement & prediction & estimate & interval & verdict & as exp. & fig.\\ \midrule\endfirsthead" "\n"
            r"\toprule ID & statement & prediction & estimate & interval & verdict & as exp. & fig.\\ \midrule\endhead" "\n"
            + "\n".join(rows) + "\n\\bottomrule\n\\end{xltabular}\\end{footnotesize}\n")


def _full_tables(recs: list) -> str:
    """Every check of every claim (the appendix)."""
    out = []
    for r in recs:
        cid = r["claim"]
        out.append(f"\\subsection*{{{cid}: all checks}}\\addcontentsline{{toc}}{{subsection}}{{{cid}: all checks}}")
        out.append(f"\\label{{tab:all-{cid}}}")
        out.append(_checks_table(r))
    return "\n".join(out) + "\n"


def split_printed(statement: str) -> tuple[str, str | None]:
    """A statement of an erratum, "corrected form (printed: what the source prints)", split into the corrected
    form and the printed part ("printed: ..." or "printed without ..."), parentheses balanced; (statement, None)
    when it has no such part."""
    start = statement.rfind("(printed")
    if start < 0:
        return statement, None
    depth = 0
    for i in range(start, len(statement)):
        depth += {"(": 1, ")": -1}.get(statement[i], 0)
        if depth == 0:
            printed = statement[start + len("(printed"):i].lstrip(":").strip()
            corrected = (statement[:start].rstrip() + statement[i + 1:].rstrip(". ")).strip()
            return corrected, printed
    return statement, None


def _errata_ledger(recs: list) -> str:
    """One row per erratum: what the source prints (as mathematics, from the statement's "(printed: ...)"; the
    claim's title when the statement has none) and where, how many as-printed checks were rejected, the
    corrected form and how many of its checks were verified."""
    rows = []
    for r in recs:
        checks = r.get("checks") or []
        printed = [c for c in checks if _role(c) == "as printed"]
        corrected = [c for c in checks if _role(c) == "claim"]
        p_ok = sum(c.get("verdict") == c.get("expected", "rejected") for c in printed)
        c_ok = sum(c.get("verdict") == c.get("expected", "verified") for c in corrected)
        form, as_printed = split_printed(_statement_tex(r))
        rows.append(f"\\hyperref[claim:{r['claim']}]{{{r['claim']}}} & {as_printed or tex(r['title'])} "
                    f"(\\textit{{{tex(r['source'])}}}) & {p_ok}/{len(printed)} rejected & "
                    f"{form} & {c_ok}/{len(corrected)} verified \\\\")
    return (r"\begin{footnotesize}\begin{longtable}{@{}l p{0.36\textwidth} l p{0.3\textwidth} l@{}}" "\n"
            r"\toprule ID & as printed (\textit{source}) & check & corrected form & check \\ \midrule\endhead" "\n"
            + "\n".join(rows) + "\n\\bottomrule\n\\end{longtable}\\end{footnotesize}\n")


def _appendix(records: dict, quick: bool, seed: int, level: float, bench_report) -> str:
    out = ["\\section{Benchmark, versions, seeds and commands}\\label{sec:appendix}"]
    if bench_report:
        out.append("\\paragraph{Engine throughput} (\\texttt{sgdtheory bench}, scale 0.25; ratios, not times):")
        out.append("\\begin{center}\\begin{tabular}{l l r}\\toprule workload & ratio & value\\\\ \\midrule")
        for key, wl in bench_report.get("workloads", {}).items():
            for name, v in wl["ratios"].items():
                out.append(f"{tex(wl['workload'])} & {tex(name)} & {v:.2f}\\\\")
            out.append(f"{tex(wl['workload'])} & identical across thread counts & "
                       f"{'yes' if wl['identical_across_threads'] else 'NO'}\\\\")
        out.append("\\bottomrule\\end{tabular}\\end{center}")
    v = versions()
    out.append("\\paragraph{Versions} " + ", ".join(f"{tex(k)} {tex(str(val))}" for k, val in v.items()) + ".")
    out.append(f"\\paragraph{{Seeds}} Master seed {seed}; every path draws from "
               "\\texttt{SeedSequence(seed, spawn\\_key=claim key + (path,))}; mode: "
               f"{'quick' if quick else 'full'}; confidence level {level:g}.")
    out.append("\\paragraph{Commands} \\begin{verbatim}\n"
               f"sgdtheory paper{' --quick' if quick else ''}      # regenerate and build this PDF\n"
               f"sgdtheory verify{' --quick' if quick else ''}     # every claim, verdict table\n"
               "python experiments/fig_<id>_<name>.py [--quick]   # one figure\n"
               "\\end{verbatim}")
    return "\n".join(out) + "\n"


def _values(records: dict, warn=print) -> dict:
    """The numbers the hand-written text quotes, as ``{key: {field: LaTeX}}`` for ``\val{key}{field}``:

    * per claim ``<ID>``: checks, asexpected, controls (checks of a control role), rejected (controls rejected),
      status, the headline check's pred, est, low, high, hw, verdict, dist, and the nearest control's as cpred,
      cest, clow, chigh, chw, cverdict, cdist;
    * per family ``fam<X>``: claims, checks, controls, asexpected (claims), unexpected;
    * per ``paper_statements.FINDINGS`` key: the named check's pred, est, low, high, hw, verdict, dist.
    """
    from .paper_statements import FINDINGS

    def fields(ch) -> dict:
        e = ch["estimate"]
        d = _distance(ch)
        return {"pred": num(ch["prediction"], 4), "est": num(e["value"], 4), "low": num(e["low"], 4),
                "high": num(e["high"], 4), "hw": num(ch.get("half_width", 0.0), 2), "verdict": tex(ch.get("verdict")),
                "dist": "--" if d == float("inf") else num(d, 2)}

    vals = {}
    for cid, r in records.items():
        checks = r.get("checks") or []
        controls = [c for c in checks if _is_control(c)]
        good, total = _counts(r)
        v = {"checks": str(total), "asexpected": str(good), "controls": str(len(controls)),
             "rejected": str(sum(c.get("verdict") == "rejected" for c in controls)), "status": tex(r["status"])}
        h = headline(r)
        if h is not None:
            v.update(fields(h))
        near = nearest_control(r)
        if near is not None:
            v.update({f"c{k}": x for k, x in fields(near).items()})
        vals[cid] = v
    for fam in FAMILIES:
        recs = [r for c, r in records.items() if c[0] == fam]
        checks = [c for r in recs for c in (r.get("checks") or [])]
        ok = sum(r["status"] == r["expected_status"] for r in recs)
        vals[f"fam{fam}"] = {"claims": str(len(recs)), "checks": str(len(checks)),
                             "controls": str(sum(_is_control(c) for c in checks)), "asexpected": str(ok),
                             "unexpected": str(len(recs) - ok)}
    for key, (cid, pattern, *which) in FINDINGS.items():
        rec = records.get(cid)
        found = [] if rec is None else [c for c in rec.get("checks") or [] if re.search(pattern, c["name"])]
        ch = (found[-1] if which == ["last"] else found[0]) if found else None
        if ch is None:
            if rec is not None:  # a partial run (some IDs only) leaves other claims' keys out silently
                warn(f"paper: finding {key}: no check of {cid} matches {pattern!r}; it prints as ??")
            continue
        vals[key] = fields(ch)
    return vals


def _numbers(records: dict, quick: bool, seed: int, level: float, stamp: str, warn=print) -> str:
    levels = [lv for r in records.values() for lv in r.get("levels", [])]
    n_checks = sum(len(r.get("checks") or []) for r in records.values())
    n_controls = sum(_is_control(c) for r in records.values() for c in r.get("checks") or [])
    ok = sum(r["status"] == r["expected_status"] for r in records.values())
    macros = {
        "nClaims": str(len(records)), "nChecks": str(n_checks), "nControls": str(n_controls),
        "nAsExpected": str(ok), "nIntervalChecks": str(len(levels)),
        "familywiseBound": f"{100 * familywise_bound(levels):.2g}\\%", "confidenceLevel": f"{100 * level:g}\\%",
        "runMode": "quick" if quick else "full", "masterSeed": str(seed), "runStamp": stamp,
        "packageVersion": __version__,
        "totalSeconds": f"{sum(r['elapsed_seconds'] for r in records.values()):.0f}",
    }
    out = [f"\\newcommand{{\\{k}}}{{{v}}}" for k, v in macros.items()]
    out.append(r"\makeatletter"
               "\n" r"\newcommand{\val}[2]{\@ifundefined{sgdv@#1@#2}{\textbf{??}\PackageWarning{sgdtheory}"
               r"{value #1/#2 was not generated}}{\@nameuse{sgdv@#1@#2}}}")
    for key, fl in sorted(_values(records, warn).items()):
        for f, v in fl.items():
            out.append(f"\\@namedef{{sgdv@{key}@{f}}}{{{v}}}")
    out.append(r"\makeatother")
    return "\n".join(out) + "\n"


# -- build ---------------------------------------------------------------------------------------------------


def build(paper_dir: Path, progress=print) -> Path:
    """latexmk -pdf main.tex in ``paper_dir``; a clear PaperError if LaTeX is missing or the build fails."""
    paper_dir = Path(paper_dir)
    if shutil.which("latexmk") is None or shutil.which("pdflatex") is None:
        raise PaperError("LaTeX is not installed: the paper needs latexmk and pdflatex. On Debian/Ubuntu: "
                         f"sudo apt-get install {LATEX_PACKAGES}  (figures, tables and numbers were regenerated "
                         "in paper/generated/; only the PDF is missing)")
    progress("latexmk -pdf main.tex ...")
    cmd = ["latexmk", "-pdf", "-recorder", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
           "main.tex"]
    proc = subprocess.run(cmd, cwd=paper_dir, capture_output=True, text=True)
    if proc.returncode != 0:
        log = (paper_dir / "main.log").read_text(errors="replace") if (paper_dir / "main.log").exists() else ""
        errors = [ln for ln in log.splitlines() if ln.startswith("./") or ln.startswith("!")][:10]
        raise PaperError("latexmk failed:\n" + "\n".join(errors or proc.stdout.splitlines()[-20:]))
    return paper_dir / "main.pdf"


def check_build(paper_dir: Path) -> list[str]:
    """Problems with the last build (empty list: none): undefined references or citations, LaTeX warnings about
    missing files, any generated file the PDF used that does not carry this run's stamp, and figure layout
    problems (overlapping text or panels, text too small in print; see figures/layout.py) found when the
    figures were drawn."""
    paper_dir = Path(paper_dir)
    problems = []
    log = (paper_dir / "main.log").read_text(errors="replace")
    for pat in (r"Reference `[^']*' on page \d+ undefined", r"Citation `[^']*' on page \d+ undefined",
                r"There were undefined references", r"LaTeX Warning: File `[^']*' not found"):
        problems += [m.group(0) for m in re.finditer(pat, log)]
    manifest = _load(paper_dir / "generated" / "manifest.json")
    if manifest is None:
        return problems + ["generated/manifest.json is missing: run the regeneration first"]
    listed = set(manifest["files"])
    fls = paper_dir / "main.fls"
    used = set()
    if fls.exists():
        for ln in fls.read_text(errors="replace").splitlines():
            if ln.startswith("INPUT ") and "generated/" in ln:
                rel = re.sub(r"/+", "/", ln.split("generated/", 1)[1])
                used.add(rel)
    for rel in sorted(used):
        if rel.endswith((".aux", ".out")):
            continue
        if rel not in listed:
            problems.append(f"generated/{rel} was used but not regenerated by this run")
        elif rel.endswith(".tex"):
            first = (paper_dir / "generated" / rel).read_text().splitlines()[0]
            if manifest["stamp"] not in first:
                problems.append(f"generated/{rel} carries a stale stamp")
    for stem, probs in (manifest.get("layout") or {}).items():  # legends over data are reported, not failed
        problems += [f"figure {stem}: {m}" for m in probs if not m.startswith(LAYOUT_WARNINGS)]
    figs = {u.split("figures/", 1)[1] for u in used if u.startswith("figures/")}
    problems += page_problems(paper_dir / "main.pdf")
    missing = set(manifest["figures"]) - figs - {f for f in manifest["figures"] if not f.endswith(".pdf")}
    problems += [f"figure {m} was regenerated but not included in the paper" for m in sorted(missing)]
    return problems


def page_count(pdf: Path) -> int | None:
    """Pages of the last build, from LaTeX's log line "Output written on main.pdf (N pages, ...)"."""
    try:
        log = Path(pdf).with_suffix(".log").read_text(errors="replace")
    except OSError:
        return None
    m = re.findall(r"Output written on \S+ \((\d+) pages?", log)
    return int(m[-1]) if m else None


def appendix_page(pdf: Path) -> int | None:
    """The page on which the appendix starts: the page of ``\\label{appendix}`` in the last build's ``.aux``
    (``\\newlabel{appendix}{{A}{35}...}``); None when there is no ``.aux`` or no such label."""
    try:
        aux = Path(pdf).with_suffix(".aux").read_text(errors="replace")
    except OSError:
        return None
    m = re.findall(r"\\newlabel\{appendix\}\{\{[^{}]*\}\{(\d+)\}", aux)
    return int(m[-1]) if m else None


def page_split(pdf: Path) -> dict | None:
    """``{"total", "main_text", "appendix"}`` pages of the last build: the main text is every page before the one
    carrying ``\\label{appendix}``, the appendix (with the references) the rest; None without a build."""
    total, first = page_count(pdf), appendix_page(pdf)
    if total is None or first is None:
        return None
    return {"total": total, "main_text": first - 1, "appendix": total - first + 1}


def page_problems(pdf: Path) -> list[str]:
    """The structure issue 19 asks for: an appendix whose first page carries ``\\label{appendix}``, and a main
    text of at most MAX_MAIN_TEXT_PAGES pages (both read from the last build's ``.aux`` and log)."""
    pdf = Path(pdf)
    if not pdf.with_suffix(".aux").is_file():
        return []
    split = page_split(pdf)
    if appendix_page(pdf) is None:
        return [f"{pdf.with_suffix('.aux').name}: no \\label{{appendix}}: the appendix must start with it"]
    if split is not None and split["main_text"] > MAX_MAIN_TEXT_PAGES:
        return [f"the main text has {split['main_text']} pages (before \\label{{appendix}}); at most "
                f"{MAX_MAIN_TEXT_PAGES} allowed: move material to the appendix"]
    return []


__all__ = ["regenerate", "build", "check_build", "write_sources", "cache_key", "package_source_hash", "tex",
           "PaperError", "page_count", "page_split", "MAX_MAIN_TEXT_PAGES"]
