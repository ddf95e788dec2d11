"""Reuse of Dedalus's LHS factorisations across step sizes.

A Runge–Kutta IMEX step solves (M + dt H_ii L) X_i = RHS_i for each stage i, and Dedalus
keeps one LU factorisation per subproblem and stage for the current ``dt`` only: any
change of ``dt``, even in the last bit, refactorises every subproblem (at 256 × 64 about
as long as ten steps). Landing exactly on output times cuts each output interval into
equal steps ``dt_out / n``, so a run keeps coming back to the same few step sizes; this
cache keeps the factorisations of the last ``size`` of them and hands them back to the
timestepper instead of refactorising. The factorisation of a given ``dt`` is the same
matrix either way, so results are bit-for-bit those without the cache.

The cache holds at most ``size`` step sizes and at most ``budget`` bytes of LU factors
per rank (counted from SuperLU's non-zeros; the current step size is always kept, as
Dedalus keeps it anyway), so a large 3D run whose factorisations fill the memory keeps
only what Dedalus would. Multistep (SBDF) schemes are left alone: their LHS depends on
the ratios of the last few steps, not on ``dt`` alone.
"""

from __future__ import annotations

from collections import OrderedDict


class FactorCache:
    """Wraps ``solver.timestepper.step``; ``hits``/``misses`` count step-size changes
    served from the cache and those that factorised."""

    def __init__(self, solver, size: int = 4, budget: int = 256 << 20):
        from dedalus.core.timesteppers import RungeKuttaIMEX

        self.ts = solver.timestepper
        self.size, self.budget = int(size), int(budget)
        self.hits = self.misses = 0
        self.active = self.size > 0 and isinstance(self.ts, RungeKuttaIMEX)
        if not self.active:
            return
        # the subproblems Dedalus steps (and whose LHS_solvers it replaces on a new dt)
        self.subproblems = [sp for sp in solver.subproblems if sp.size]
        self.cache: OrderedDict[float, tuple[list, int]] = OrderedDict()
        self._step = self.ts.step
        self.ts.step = self.step

    def step(self, dt, wall_time):
        ts = self.ts
        if dt != ts._LHS_params:
            hit = self.cache.get(dt)
            if hit is None:
                self.misses += 1
            else:
                for sp, solvers in zip(self.subproblems, hit[0]):
                    sp.LHS_solvers = solvers
                ts._LHS_params = dt  # the timestepper then keeps these solvers
                self.cache.move_to_end(dt)
                self.hits += 1
        self._step(dt, wall_time)
        if dt not in self.cache:
            # Dedalus gives each new dt fresh lists, so these stay as they are
            lists = [sp.LHS_solvers for sp in self.subproblems]
            self.cache[dt] = (lists, _nbytes(lists))
            while len(self.cache) > 1 and (len(self.cache) > self.size or sum(
                    b for _, b in self.cache.values()) > self.budget):
                self.cache.popitem(last=False)


def _nbytes(lists) -> int:
    """Bytes of the LU factors in the subproblems' solver lists, from SuperLU's
    non-zeros (an upper bound); solvers of other kinds count 0."""
    total = 0
    for solvers in lists:
        for s in solvers:
            lu = getattr(s, "LU", None)
            nnz = getattr(lu, "nnz", None)
            if nnz:
                total += int(nnz) * 20  # complex128 value + int32 index, at most
    return total
