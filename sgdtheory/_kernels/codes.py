"""Integer codes that describe problems, samplers, optimizers, schedules and observables to Numba.

Kernels cannot be cached when they take Python callables, so every component is an integer code
plus a parameter array (the QuantEcon pattern).  The Python records in ``sgdtheory.problems``,
``sgdtheory.sampling``, ``sgdtheory.optimizers`` and ``sgdtheory.schedules`` own these codes; this
module only names them once so that kernels and records agree.
"""

# problems (sgdtheory.problems)
PROBLEM_QUADRATIC = 0  # per-example g_i, H_i, c_i around the minimiser
PROBLEM_LINREG = 1  # per-example x_i, y_i; L_i = (x_i.w - y_i)^2 / 2
PROBLEM_GAUSSIAN_NOISE = 2  # H(w - w*) + L xi / sqrt(B), xi ~ N(0, I)
PROBLEM_POLY1D = 3  # d = 1, L_i(w) = sum_k a_ik w^k; batch mean of L_i'(w) + noise_sd xi / sqrt(B)

# minibatch sampling (sgdtheory.sampling)
SAMPLING_WITH_REPLACEMENT = 0
SAMPLING_WITHOUT_REPLACEMENT = 1
SAMPLING_RESHUFFLE = 2  # random reshuffling: a fresh permutation every epoch
SAMPLING_CYCLIC = 3  # fixed order 0, 1, ..., n-1, every epoch
SAMPLING_FULL = 4  # the full batch (gradient descent)

# optimizers (sgdtheory.optimizers)
OPT_SGD = 0
OPT_HEAVY_BALL = 1
OPT_NESTEROV = 2
OPT_PRECONDITIONED = 3  # w <- w - lr F g, F (d x d) row-major in hp
OPT_ADAGRAD = 4  # hp = (eps,); state = G (d)
OPT_RMSPROP = 5  # hp = (beta, eps); state = v (d)
OPT_ADAM = 6  # hp = (beta1, beta2, eps, bias_correction); state = m (d), v (d), t
OPT_AMSGRAD = 7  # hp = (beta1, beta2, eps, bias_correction); state = m (d), v (d), vhat (d) [, t]
OPT_ADAM_MIN = 8  # McAllester's min(t, N) Adam: hp = (N_g, N_s, eps); state = mu (d), s (d), t
OPT_ADAMW = 9  # hp = (beta1, beta2, eps, weight_decay, bias_correction); state = m (d), v (d), t
OPT_SAM = 10  # wrapper: hp = (rho, base code, base hp...); state = the base optimizer's state

# learning-rate schedules (sgdtheory.schedules)
SCHEDULE_CONSTANT = 0
SCHEDULE_POWER = 1  # c / (t0 + t)^p
SCHEDULE_TIME_BASED = 2  # lr0 / (1 + k t)
SCHEDULE_EXPONENTIAL = 3  # lr0 exp(-k t)
SCHEDULE_STEP = 4  # lr0 exp(-k floor(t / T))
SCHEDULE_TRIANGULAR = 5  # Smith's triangular cycle between lr_min and lr_max, half-period s
SCHEDULE_COSINE_RESTARTS = 6  # SGDR: lr_min + (lr_max - lr_min)(1 + cos(pi T_cur / T_i)) / 2, T_i = T0 T_mult^i

# observables, in the order they appear in an observable vector
OBS_EXCESS_LOSS = 0  # L(w) - L(w*), a function of the state
OBS_BATCH_LOSS = 1  # minibatch loss at w_t with the batch of step t
OBS_GRAD_SQ = 2  # squared norm of the minibatch gradient of step t
OBS_DIST_SQ = 3  # |w - w*|^2
OBS_MOMENTS = 4  # w - w* (d entries), then (w - w*)_j (w - w*)_k for j <= k
N_OBS_KINDS = 5
