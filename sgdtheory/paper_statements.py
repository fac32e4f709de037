r"""The claims' statements as LaTeX mathematics for the paper, written once per claim and keyed by claim ID.

``statement(claim_id, plain)`` returns, in this order: the claim's own ``Claim.latex_statement`` when it
has one, the entry of ``LATEX`` below, or ``plain`` escaped as text.  ``SHORT`` holds the one-line form used in
the summary table.  Each entry transcribes the plain-text ``Claim.statement`` of the claim module (the
source is the catalogue, /work/shared/CLAIMS.md) into mathematics; no number measured by a run appears here
(those are macros that ``sgdtheory/paper.py`` generates).

``FINDINGS`` names the individual checks that the hand-written discussion in ``paper/discussion/*.tex``
quotes: key -> (claim ID, regular expression matched against the check name).  The paper pipeline turns
each into macros ``\val{key}{field}`` (field: pred, est, low, high, hw, verdict); a key whose check is not
found prints a warning and typesets as **??** instead of failing the build.
"""

from __future__ import annotations

LATEX = {
    "A1": r"$\mathbb E\,\hat g_B=\nabla L$; $\operatorname{Cov}\hat g_B=\Sigma/B$ with replacement and "
          r"$\frac{\Sigma}{B}\frac{n-B}{n-1}$ without.",
    "A2": r"For $\tfrac12(\beta-y)^2$ at $\beta^*=\mathbb E y$: $\hat g_B=\beta^*-\bar y_B\neq0$ a.s., "
          r"$\operatorname{Var}\hat g_B=\operatorname{Var}(y)/B$.",
    "A3": r"$\mathbb E[L(w_{t+1})\mid w_t]=L-\eta\|\nabla L\|^2+\tfrac{\eta^2}{2}\bigl(\nabla L^\top H\nabla L+"
          r"c_B\operatorname{tr}H\Sigma(w)\bigr)$; descent fails near $w^*$ for constant $\eta$; with "
          r"$\sum\eta_t^2<\infty$ the corrected loss is a supermartingale and $L(w_t)\to L^*$ a.s.",
    "A4": r"$w\leftarrow w-\eta F\nabla L_B$ converges for $F\succ0$, not for indefinite $F$.",
    "A5": r"$\eta_t=c/(t_0+t)^p$: $\sum\eta_t=\infty$, $\sum\eta_t^2<\infty$ give convergence; MSE $\sim t^{-p}$ "
          r"($\tfrac12<p<1$), $t^{-\min(1,2c\lambda)}$ ($p=1$); $p>1$ stalls; constant $\eta$ plateaus "
          r"$\propto\eta$.",
    "A6": r"Euler with step $t/N$: error $O(1/N)$; SGD: RMS error $O(N^{-1/2})$; "
          r"$\frac{d\ell}{dt}=-\|\nabla\ell\|^2$; $\ell=e^{-\Phi}\to0$ while $\Phi\to\infty$.",
    "A7": r"End-of-epoch bias $\Theta(\eta)$ for cyclic order \emph{and} random reshuffling, $0$ with "
          r"replacement; error $\Theta(\eta)$ with replacement, $\Theta(\eta^2)$ with reshuffling.",
    "A8": r"On a strict saddle GD on the stable manifold stays; SGD escapes after "
          r"$\approx\log(1/\sigma)/\log(1+\eta\lambda)$ steps.",
    "B1": r"$p_\infty\propto e^{-2L/(\eta\sigma^2)}$ for constant noise; Itô Fokker--Planck "
          r"$\frac1D e^{-\int L'/D}$, $D=\eta\Sigma/(2B)$, for state-dependent noise; on $\tfrac h2w^2$ the exact "
          r"variance is $\frac{\eta\sigma^2}{h(2-\eta h)}$, not $\frac{\eta\sigma^2}{2h}$.",
    "B2": r"$S=ASA^\top+\eta^2C/B$, $A=I-\eta H$ ($\approx HS+SH=\eta C/B$); $S=TH^{-1}$ (Boltzmann) only to "
          r"first order and only for $C\propto I$; for $[C,H]\neq0$ the chain rotates: "
          r"$\mathbb E[\delta_t\wedge\delta_{t+1}]=-\eta[S,H]\neq0$.",
    "B3": r"$L(\eta)=\mathbb E_{P_\eta}L\to L(\Phi^*)$ as $\eta\to0$, with $L(\eta)-L(\Phi^*)=\Theta(\eta)$.",
    "B4": r"$\frac{dL}{d\eta}\big|_{0}=\tfrac14\mathbb E_i\|g_i\|^2$; exactly "
          r"$L(\eta)=L^*+\tfrac\eta4\mathbb E\,\mathbb E_i\|g_i+H_i\Delta\|^2$.",
    "B5": r"$2L(\eta/2)-L(\eta)=L(\Phi^*)+O(\eta^2)$.",
    "B6": r"$\Phi(t+\Delta t)\approx\Phi(t)-g\Delta t+\sqrt\eta\sqrt{\Delta t}\,\varepsilon$, "
          r"$\varepsilon\sim N(0,\Sigma)$: variance $\propto\eta^1$ at fixed $\Delta t$.",
    "B7": r"Two minima of equal loss and curvature, unequal noise: SGD's occupancy and escape times favour the "
          r"quiet one (exact chain; Fokker--Planck/Kramers as $\eta\to0$); GD stays; Adam weakens the "
          r"preference.",
    "B8": r"OU model $A\Sigma+\Sigma A=\frac{\varepsilon}{S}BB^\top$: $\mathrm{KL}(q\,\|\,N(0,(NA)^{-1}))$ is "
          r"minimal at $\varepsilon^*=\frac{2dS}{N\operatorname{tr}BB^\top}$; $q$ = posterior only for "
          r"$BB^\top\propto I$ (or Theorem~2's preconditioner), and then only to first order in $\varepsilon$.",
    "C1": r"$\mathbb E w_m=w(m\eta)+O(m^3\eta^3)$ along $\dot w=-\nabla\tilde L$, "
          r"$\tilde L=L+\tfrac\eta4\|\nabla L\|^2+\tfrac{\eta}{4m}\sum_k\|\nabla L_k-\nabla L\|^2$; the plain flow "
          r"is off by $O(m^2\eta^2)$.",
    "C2": r"One GD step is $O(\eta^3)$ from the flow of $L+\tfrac\eta4\|\nabla L\|^2$ and $O(\eta^2)$ from the "
          r"plain flow; at fixed time $O(\eta^2)$ vs $O(\eta)$.",
    "C3": r"One step at $B\eta$ = $B$ steps at $\eta$ up to $O(\eta^2)$; stationary "
          r"$\mathbb EL-L^*=\frac{\eta}{4B}\operatorname{tr}\Sigma+O(\eta^2)$ depends on $\eta/B$.",
    "C4": r"With $\eta'_B=B\eta'_1$ and $N_{\mu,B}=N_{\mu,1}/B$ the momentum's statistics match batch 1 to "
          r"first order; $N_s$ counted in examples makes $s$ independent of $B$.",
    "C5": r"Schedules with the same $\eta n/B$ give the same loss per epoch to first order, with fewer updates "
          r"for the growing batch.",
    "C6": r"Sharp and flat minima of equal depth, noise growing with curvature: started in the sharp one, the "
          r"time fraction in the flat basin over a fixed $t=\eta k$ grows with $\eta/B$ (the stationary "
          r"preference does not).",
    "D1": r"$m_t=\mu m_{t-1}+\gamma\nabla L(\theta_t)\iff\theta_{t+1}=\theta_t-\gamma\sum_k\mu^k"
          r"\nabla L(\theta_{t-k})$, exactly.",
    "D2": r"$m\leftarrow\beta m+(1-\beta)g$, $w\mathrel{-}=\eta m$ is heavy ball at rate $\eta(1-\beta)$; "
          r"$v_t=N\eta\,\mu_t$.",
    "D3": r"Heavy ball with Polyak's tuning: $\rho=\frac{\sqrt\kappa-1}{\sqrt\kappa+1}$ vs "
          r"$\frac{\kappa-1}{\kappa+1}$ for GD; stationary errors from the Lyapunov equation.",
    "D4": r"Heavy ball (Polyak's tuning, $\mu=1$, $L=25$) has an attracting 3-cycle on Lessard et al.'s "
          r"piecewise quadratic; NAG converges.",
    "D5": r"Look-ahead, quiz, PyTorch and two-sequence forms coincide; $f-f^*=O(1/k^2)$ for NAG, $O(1/k)$ "
          r"for GD.",
    "D6": r"AdaGrad's $\eta/(\sqrt{G_t}+\epsilon)$ is non-increasing, strictly where $g\neq0$, and $\to0$ iff "
          r"$\sum g^2=\infty$; with noise $\mathbb E\,\eta_{\mathrm{eff}}\sim t^{-1/2}$.",
    "D7": r"RMSProp's $s\approx\mathbb E\hat g^2=g^2+\sigma^2$; near an optimum $\sigma\gg g$.",
    "D8": r"$\mathbb E\hat\mu_t=(1-(1-\tfrac1N)^t)\mu\approx\tfrac tN\mu$ for $t\ll N$; the $\min(N,t)$ form "
          r"and $m_t/(1-\beta^t)$ are unbiased and nearly equal.",
    "D9": r"Algorithm~1's first step is $\alpha\,g/(|g|+\epsilon)$, the uncorrected form's "
          r"$\alpha\frac{1-\beta_1}{\sqrt{1-\beta_2}}\operatorname{sign}g$; trajectories differ; equal stationary "
          r"error.",
    "D10": r"$f_t=Cx$ ($t\bmod3=1$), $-x$ otherwise on $[-1,1]$, $C>2$: Adam ($\beta_1=0$, "
           r"$\beta_2=\frac1{1+C^2}$, $\alpha/\sqrt t$) ends at $+1$, AMSGrad at $x^*=-1$.",
    "D11": r"GD/SGD $\to X^+y$ (test error 0); AdaGrad/RMSProp/Adam $\to\propto\operatorname{sign}(X^\top y)$ "
           r"(test error $1-p$).",
    "D12": r"Time-based, exponential, step, triangular and cosine-restart schedules have the stated formulas, "
           r"periods and bounds; on a noisy quadratic each one's error follows the exact moment recursion.",
    "D13": r"SAM's gradient at $w+\rho g/\|g\|$ on the same minibatch; $L+\rho\|g\|$ is the $\rho$-ball max to "
           r"$O(\rho^2)$; SAM leaves a sharp minimum GD keeps; on $\tfrac h2w^2$ a 2-cycle of amplitude "
           r"$\frac{\eta h\rho}{2-\eta h}$.",
    "E1": r"$\hat\mu_t=\frac1N\sum_s(1-\tfrac1N)^{t-s}x_s$ (printed: exponent $-(t-s)$).",
    "E2": r"$\sum_{n\ge0}(1-\tfrac1N)^n=N$ (printed: $(1-\tfrac1N)^{-n}$, which diverges).",
    "E3": r"$L(\Phi^*)\approx2L(\eta/2)-L(\eta)$ (printed: $L(\eta)-2L(\eta/2)$).",
    "E4": r"$L(\eta)\approx L^*+\tfrac\eta4\mathbb E\|g_i\|^2$ (printed: $L^*+\eta\,\mathbb E\|g_i\|^2$, without the "
          r"$\tfrac14$).",
    "E5": r"Increment $\sqrt\eta\sqrt{\Delta t}\,\varepsilon$ (printed: $\sqrt{\Delta t}\,\eta\,\varepsilon$, "
          r"variance exponent 2).",
    "E6": r"$\mathbb E[L(w_{t+1})\mid w_t]\le L(w_t)$ (printed: $\ge$, ``non-decreasing'').",
    "E7": r"$w_{t+1}=w_t-\eta\,m_{t+1}$ (printed: $m_t$).",
    "E8": r"Adam as Algorithm~1 (printed: $\theta\mathrel{-}=\gamma m_t/\sqrt{v_t}$ before the moments, no "
          r"$\epsilon$: $0/0$ at $t=1$).",
    "E9": r"$\lim_{t\to\infty}\eta_t=0$ and $\Phi\leftarrow\Phi-\eta_t\nabla\ell$ (printed: $t\to0$ and "
          r"$\Phi\leftarrow\eta_t\nabla$).",
}

# One line for the summary table (falls back to LATEX).
SHORT = {
    "A1": r"$\operatorname{Cov}\hat g_B=\frac{\Sigma}{B}$, $\frac{\Sigma}{B}\frac{n-B}{n-1}$",
    "A2": r"$\hat g_B(\beta^*)\neq0$, $\operatorname{Var}=\operatorname{Var}y/B$",
    "A3": r"loss a supermartingale away from $w^*$",
    "A4": r"preconditioned SGD, $F\succ0$",
    "A5": r"Robbins--Monro rates $t^{-p}$",
    "A6": r"gradient-flow limits $O(1/N)$, $O(N^{-1/2})$",
    "A7": r"sampling order: bias $\Theta(\eta)$",
    "A8": r"strict saddle escape time",
    "B1": r"1-D Boltzmann / Fokker--Planck",
    "B2": r"$d>1$: Boltzmann only for $C\propto I$",
    "B3": r"$L(\eta)\to L(\Phi^*)$ linearly",
    "B4": r"$\frac{dL}{d\eta}(0)=\frac14\mathbb E\|g_i\|^2$",
    "B5": r"$2L(\frac\eta2)-L(\eta)=L^*+O(\eta^2)$",
    "B6": r"Langevin increment $\propto\eta^1$",
    "B7": r"SGD prefers the quiet minimum",
    "B8": r"KL-optimal $\varepsilon^*=\frac{2dS}{N\operatorname{tr}BB^\top}$",
    "C1": r"$\tilde L_{\mathrm{SGD}}$ to $O(m^3\eta^3)$",
    "C2": r"$L+\frac\eta4\|\nabla L\|^2$ to $O(\eta^3)$",
    "C3": r"linear scaling $\eta\propto B$",
    "C4": r"$N_{\mu,B}=N_{\mu,1}/B$",
    "C5": r"decay $\eta$ = grow $B$",
    "C6": r"flat occupancy grows with $\eta/B$",
    "D1": r"momentum = weighted gradient sum",
    "D2": r"EMA form = heavy ball at $\eta(1-\beta)$",
    "D3": r"Polyak rate $\frac{\sqrt\kappa-1}{\sqrt\kappa+1}$",
    "D4": r"heavy ball 3-cycle, NAG converges",
    "D5": r"NAG $O(1/k^2)$ vs GD $O(1/k)$",
    "D6": r"AdaGrad step non-increasing",
    "D7": r"RMSProp $s\approx g^2+\sigma^2$",
    "D8": r"running-average bias correction",
    "D9": r"Adam: Algorithm 1 vs slides",
    "D10": r"Adam fails, AMSGrad converges",
    "D11": r"adaptive methods generalise worse",
    "D12": r"schedules: formulas and errors",
    "D13": r"SAM: $O(\rho^2)$ max, 2-cycle",
    "E1": r"weights $(1-\frac1N)^{+(t-s)}$",
    "E2": r"$\sum(1-\frac1N)^{n}=N$",
    "E3": r"$2L(\frac\eta2)-L(\eta)$, sign",
    "E4": r"the missing $\frac14$",
    "E5": r"$\sqrt\eta\sqrt{\Delta t}\,\varepsilon$",
    "E6": r"non-\emph{increasing} on average",
    "E7": r"$m_{t+1}$, not $m_t$",
    "E8": r"Adam slide: $0/0$ at $t=1$",
    "E9": r"$t\to\infty$; the missing minus",
}

# key -> (claim ID, regex on the check name[, "last"]).  The first (or last) check whose name matches is used.
FINDINGS = {
    # B2: the catalogue's "Boltzmann for C ∝ H" is wrong; C ∝ I is the case.
    "BtwoHdist": ("B2", r"^control.*C ∝ H.*Langevin covariance S_1 is Boltzmann"),
    "BtwoIdist": ("B2", r"^C ∝ I: the Langevin covariance S_1 is exactly Boltzmann"),
    "BtwoHmc": ("B2", r"^b = .*\(C ∝ H"),
    "BtwoImc": ("B2", r"^b = .*\(C ∝ I"),
    "BtwoUserCurrent": ("B2", r"^mean angular momentum.*\(C \(user\)"),
    "BtwoUserZeroCurrent": ("B2", r"^control: zero probability current.*\(C \(user\)"),
    # A7: reshuffling bias is Theta(eta), not O(eta^2).
    "AsevenCyclicBone": ("A7", r"^exact: cyclic lim"),
    "AsevenReshBone": ("A7", r"^exact: reshuffle lim"),
    "AsevenReshSlope": ("A7", r"^reshuffle: slope of E\[\(w_T - w\*\)\.u\] in eta = exact"),
    "AsevenReshSlopeTwo": ("A7", r"^reshuffle: slope of E\[\(w_T - w\*\)\.u\] in eta = 2"),
    "AsevenReshErrSlope": ("A7", r"^reshuffle: slope of E\|w_T - w\*\|\^2 in eta = exact"),
    "AsevenReplErrSlope": ("A7", r"^with replacement: slope of E\|w_T - w\*\|\^2 in eta = exact"),
    # C6: the finite-time flat occupancy grows with eta/B; the stationary one falls.
    "CsixFirst": ("C6", r"^flat-basin occupancy over t = .* = exact discrete chain.*B = 1\)$"),
    "CsixLast": ("C6", r"^flat-basin occupancy over t = .* = exact discrete chain.*B = 1\)$", "last"),
    "CsixIndependent": ("C6", r"^control: occupancy independent of eta/B"),
    "CsixStationary": ("C6", r"^control \(stationary reading\)"),
    "CsixNotEta": ("C6", r"^eta/B, not eta"),
    "CsixEtaAlone": ("C6", r"^control \('depends on eta alone'\)"),
    # C1 (public API): the eta^3 coefficient of the order-averaged residual, and the plain flow's reading.
    "ConeCoef": ("C1", r"^eta -> 0 limit of measured / predicted = 1"),
    "ConePlain": ("C1", r"^control: plain flow of L: eta -> 0 limit"),
    # D3 (public API): heavy ball's stationary error (Polyak's tuning) against tuned GD's.
    "DthreeGD": ("D3", r"^control: tuned GD's stationary error"),
}


def statement(claim_id: str, plain: str = "", own: str = "") -> str:
    """The claim's statement as LaTeX: ``own`` (Claim.latex_statement), else LATEX[claim_id], else ``plain``
    escaped as text."""
    if own:
        return own
    if claim_id in LATEX:
        return LATEX[claim_id]
    from .paper import tex

    return tex(plain)


def short(claim_id: str, plain: str = "") -> str:
    """The one-line statement of the summary table."""
    return SHORT.get(claim_id) or statement(claim_id, plain)


__all__ = ["LATEX", "SHORT", "FINDINGS", "statement", "short"]
