"""Integer codes of the samplers, schedules and observables the kernels branch on at run time.

Problems and optimizers have no codes: each kernel is compiled for one (problem, optimizer) pair with their
functions bound in (``compose``).  Samplers and schedules are small run-time branches, named once here so that
kernels and the records in ``sgdtheory.sampling`` and ``sgdtheory.schedules`` agree.
"""

# minibatch sampling (sgdtheory.sampling)
SAMPLING_WITH_REPLACEMENT = 0
SAMPLING_WITHOUT_REPLACEMENT = 1
SAMPLING_RESHUFFLE = 2  # random reshuffling: a fresh permutation every epoch
SAMPLING_CYCLIC = 3  # fixed order 0, 1, ..., n-1, every epoch
SAMPLING_FULL = 4  # the full batch (gradient descent)

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
