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
and there must be no undefined reference or citation.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

from . import __version__
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


class PaperError(RuntimeError):
    """The paper could not be regenerated or built (the message says why and what to do)."""


def package_source_hash() -> str:
    """sha256 over the package's Python sources and style file (sorted by path), except the pipeline and the
    command line themselves, which change no result."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(list(root.rglob("*.py")) + list(root.rglob("*.mplstyle"))):
        if "__pycache__" in p.parts or p.name in ("paper.py", "cli.py"):  # these do not change any result
            continue
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


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
    """A number for a table: %.{digits}g with a LaTeX exponent."""
    if x is None:
        return "--"
    if isinstance(x, str):
        return tex(x)
    s = f"{x:.{digits}g}"
    m = re.fullmatch(r"(-?[\d.]+)e([+-])0*(\d+)", s)
    if m:
        mant, sign, ex = m.groups()
        return f"${mant}\\times 10^{{{'-' if sign == '-' else ''}{ex}}}$"
    return s.replace("-", "$-$") if s.startswith("-") else s


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
        path = res_dir / f"{cid}.json"
        rec = _load(path)
        fresh = (rec is not None and rec.get("cache_key") == key and all(Path(f).is_file() for f in rec["figures"]))
        if fresh and not force:
            progress(f"[{k}/{len(claim_ids)}] {cid}: up to date (key {key})")
            records[cid] = rec
            continue
        if parallel:
            stale[cid] = key
            continue
        progress(f"[{k}/{len(claim_ids)}] {cid}: running ({'quick' if quick else 'full'} mode) ...")
        settings = Settings(quick=quick, seed=seed, level=level, progress=lambda m, c=cid: progress(f"    {c}: {m}"))
        t0 = time.perf_counter()
        rec = run_claim(claim, claim.default_instance(), settings, res_dir)
        levels = rec.pop("_levels")
        rec["levels"] = levels
        rec["cache_key"] = key
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
            rec["cache_key"] = stale[cid]
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
                "seconds": time.perf_counter() - t_start, "reran": sorted(timing)}
    atomic_write_text(gen / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


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
    """Write sections, errata ledger, appendix and numbers; return the generated file list (relative)."""
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
    for fam in FAMILIES:
        recs = [r for c, r in sorted(records.items(), key=lambda kv: _order(kv[0])) if c[0] == fam]
        put(f"sections/family_{fam}.tex", _family_section(fam, recs))
    put("errata.tex", _errata_ledger([r for c, r in sorted(records.items(), key=lambda kv: _order(kv[0]))
                                      if r["kind"] == "erratum" or c.startswith("E")]))
    put("appendix.tex", _appendix(records, quick, seed, level, bench_report))
    put("numbers.tex", _numbers(records, quick, seed, level, stamp))
    return written


def _order(cid: str):
    return (cid[0], int(re.sub(r"\D", "", cid) or 0))


def _verdict_tex(ch) -> str:
    v = ch["verdict"]
    mark = "" if v == ch["expected"] else r" \textbf{(UNEXPECTED)}"
    return tex(v) + mark


def _checks_table(rec) -> str:
    rows = []
    for ch in rec["checks"]:
        e = ch["estimate"]
        exact_val = e["level"] >= 1.0
        est = num(e["value"])
        interval = "exact" if exact_val else f"[{num(e['low'])}, {num(e['high'])}]"
        role = {"claim": "claim", "negative control": "control", "as printed": "printed"}.get(ch["role"], ch["role"])
        pred = (r"$\le$ " if ch.get("bound") else "") + num(ch["prediction"])
        rows.append(f"{role} & {tex(ch['name'])} & {pred} & {est} & {interval} & {_verdict_tex(ch)} \\\\")
    head = (r"\begin{footnotesize}\begin{longtable}{@{}l p{0.38\textwidth} r r l l@{}}" "\n"
            r"\toprule role & check & prediction & estimate & interval & verdict\\ \midrule\endhead" "\n")
    return head + "\n".join(rows) + "\n\\bottomrule\n\\end{longtable}\\end{footnotesize}\n"


def _family_section(fam: str, recs: list) -> str:
    if not recs:
        return f"\\section{{{FAMILIES[fam]}}}\nNo claim of this family is implemented yet.\n"
    out = [f"\\section{{{FAMILIES[fam]}}}\\label{{sec:family-{fam}}}"]
    n_checks = sum(len(r["checks"]) for r in recs)
    ok = sum(r["status"] == r["expected_status"] for r in recs)
    out.append(f"{len(recs)} claims, {n_checks} checks; {ok} of {len(recs)} came out as expected.\n")
    for r in recs:
        cid = r["claim"]
        out.append(f"\\subsection{{{cid}: {tex(r['title'])}}}\\label{{claim:{cid}}}")
        out.append(f"\\textit{{Source:}} {tex(r['source'])}. \\textit{{Statement:}} {tex(r['statement'])}. "
                   f"\\textit{{Status:}} {tex(r['status'])} (run in {r['elapsed_seconds']:.1f}\\,s).\n")
        for f in r["figures"]:
            if f.endswith(".pdf"):
                stem = Path(f).stem
                script = f"experiments/{stem}.py"
                out.append("\\begin{figure}[H]\\centering\n"
                           f"\\includegraphics[width=\\linewidth,height=0.32\\textheight,keepaspectratio]{{{Path(f).name}}}\n"
                           f"\\caption{{{cid}: made by \\texttt{{{tex(script)}}} "
                           f"(\\texttt{{sgdtheory verify {cid}}}); intervals at level {r['settings']['level']:g}.}}"
                           f"\\label{{fig:{stem}}}\n\\end{{figure}}")
        out.append(_checks_table(r))
        out.append("\\clearpage")
    return "\n".join(out) + "\n"


def _errata_ledger(recs: list) -> str:
    rows = []
    for r in recs:
        printed = [c for c in r["checks"] if c["role"] == "as printed"]
        corrected = [c for c in r["checks"] if c["role"] == "claim"]
        p_ok = sum(c["verdict"] == "rejected" for c in printed)
        c_ok = sum(c["verdict"] == "verified" for c in corrected)
        rows.append(f"{r['claim']} & {tex(r['source'])} & {tex(r['title'])} & "
                    f"{p_ok}/{len(printed)} rejected & {tex(r['statement'])} ({c_ok}/{len(corrected)} verified) \\\\")
    return (r"\begin{footnotesize}\begin{longtable}{@{}l p{0.14\textwidth} p{0.3\textwidth} l p{0.3\textwidth}@{}}" "\n"
            r"\toprule ID & source & as printed & check & corrected form \\ \midrule\endhead" "\n"
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


def _numbers(records: dict, quick: bool, seed: int, level: float, stamp: str) -> str:
    levels = [lv for r in records.values() for lv in r.get("levels", [])]
    n_checks = sum(len(r["checks"]) for r in records.values())
    n_controls = sum(c["role"] != "claim" for r in records.values() for c in r["checks"])
    ok = sum(r["status"] == r["expected_status"] for r in records.values())
    macros = {
        "nClaims": str(len(records)), "nChecks": str(n_checks), "nControls": str(n_controls),
        "nAsExpected": str(ok), "nIntervalChecks": str(len(levels)),
        "familywiseBound": f"{100 * familywise_bound(levels):.2g}\\%", "confidenceLevel": f"{100 * level:g}\\%",
        "runMode": "quick" if quick else "full", "masterSeed": str(seed), "runStamp": stamp,
        "packageVersion": __version__,
        "totalSeconds": f"{sum(r['elapsed_seconds'] for r in records.values()):.0f}",
    }
    return "\n".join(f"\\newcommand{{\\{k}}}{{{v}}}" for k, v in macros.items()) + "\n"


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
    missing files, and any generated file the PDF used that does not carry this run's stamp."""
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
    figs = {u.split("figures/", 1)[1] for u in used if u.startswith("figures/")}
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


__all__ = ["regenerate", "build", "check_build", "write_sources", "cache_key", "package_source_hash", "tex",
           "PaperError", "page_count"]
