r"""Row-partitioned exact block sampler: a checked prototype for biobank scale (issue 21, item 5).

Not wired into ``Model.sample``: see ``docs/design/biobank.md`` for the design, the cost model and
why this stays a prototype. It fits

.. math:: y = 1\mu + X\alpha + e, \qquad e \sim N(0, \sigma^2_e I),

with BRR (:math:`\alpha_j \sim N(0, \sigma^2_\alpha)`) or BayesC with a fixed :math:`\pi`
(:math:`\alpha_j \sim (1-\pi)\delta_0 + \pi N(0, \sigma^2_\alpha)`), a flat prior on
:math:`\mu`, and scaled-inverse-:math:`\chi^2` priors on :math:`\sigma^2_\alpha` and
:math:`\sigma^2_e`; X the genotypes centred by their means over all records.

**Layout.** The records are split into W contiguous shards. A shard (a *worker*) holds its
records' codes for all markers, its phenotypes and its part of the residual. The *leader* holds
:math:`\alpha`, the variances, the generator (the only source of random numbers) and the Gram
blocks :math:`G_b = \sum_w X_{b,w}'X_{b,w}` (computed once by the workers, summed once).

**One iteration** (``RowPartitionedSampler.iteration``; each arrow is one round trip, the leader
sending the same message to every worker and summing their replies in worker order):

1. :math:`\mu \mid \cdot \sim N(\mu + \sum_i e_i / n, \sigma^2_e/n)` from :math:`\sum_w 1'e_w`
   (returned by the previous round); → the workers shift :math:`e_w` by :math:`-\Delta\mu` and
   return :math:`e_w'e_w` and :math:`r_{0,w} = X_{0,w}'e_w`.
2. :math:`\sigma^2_e \mid \cdot \sim (\nu_e S^2_e + e'e)/\chi^2_{\nu_e + n}`.
3. For each block b: :math:`r_b = \sum_w r_{b,w}`; the leader draws the block's markers
   (``kernels.row_blocks.draw_block_gram_space``) → the workers apply
   :math:`e_w \mathrel{-}= X_{b,w}\delta_b` and return :math:`r_{b+1,w}` (after the last block,
   :math:`1'e_w`).
4. :math:`\sigma^2_\alpha \mid \alpha \sim (\nu_\alpha S^2_\alpha + \sum_j \alpha_j^2)/
   \chi^2_{\nu_\alpha + k}`, k the markers in the slab (all of them for BRR).

So ``n_blocks + 1`` round trips per iteration; every ``refresh_every`` iterations the leader also
sends :math:`(\mu, \alpha)` and the workers recompute :math:`e_w = y_w - \mu - X_w\alpha` (stops
floating-point drift). Each step is a draw from a full conditional, so the chain has the
posterior as its stationary distribution; the block draws are those of the plain marker sweep.

**Same draws, one process or many.** The workers draw no random numbers and compute the same
floating-point operations on the same shards wherever they run; the leader sums their replies in
a fixed order. So ``backend="serial"`` (all shards in this process) and ``backend="processes"``
(one process per shard, pipes) give the same chain bit for bit. A different number of shards
changes only the order of the sums (rounding).

**Accounting.** The process backend counts every byte it sends and receives (``bytes_sent``,
``bytes_received``: the arrays' payloads) and the workers time their own kernels, for the cost
model (:func:`predict_cost`) to be checked against.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..kernels.fast_blocks import block_cross_products
from ..kernels.row_blocks import draw_block_gram_space, shard_block_dot, shard_block_update

#: Message operations (the first float of every message to a worker).
_STOP, _STEP, _GRAM, _REFRESH, _TIMERS, _ECHO, _SET_Y = 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0
#: Floats in a step message's header: op, previous block (start, size), next block (start,
#: size), the shift of the residual, whether to return the residual's sum and sum of squares.
_HEADER = 7


class ShardWorker:
    """One shard of records: its codes (markers x its records, int8), phenotypes and residual.

    Every request is a float64 array (the message) and every reply is one; ``handle`` is the only
    entry point, the same in this process and in a worker process."""

    def __init__(self, codes: np.ndarray, lookup: np.ndarray, y: np.ndarray, block_size: int):
        self.codes = codes
        self.lookup = lookup
        self.y = y
        self.block_size = block_size
        self.resid = y.copy()  # alpha = 0, mu = 0 at the start
        self.ones = np.ones(y.size)
        self.r = np.empty(block_size)
        self.compute_seconds = 0.0

    def handle(self, message: np.ndarray) -> np.ndarray:
        tic = time.perf_counter()
        op = message[0]
        if op == _STEP:
            reply = self._step(message)
        elif op == _GRAM:
            gram = block_cross_products(self.codes, self.lookup, self.ones, self.block_size)
            reply = gram.reshape(-1)
        elif op == _REFRESH:
            self._refresh(message[1], message[2:])
            reply = np.empty(0)
        elif op == _TIMERS:
            return np.array([self.compute_seconds])
        elif op == _ECHO:  # the message back: measures the transport alone
            return message[1:].copy()
        elif op == _SET_Y:  # new phenotypes (the joint-distribution test); the residual is refreshed next
            self.y[:] = message[1:]
            reply = np.empty(0)
        else:
            raise ValueError(f"unknown operation {op!r} in a message to a shard worker")
        self.compute_seconds += time.perf_counter() - tic
        return reply

    def _step(self, message: np.ndarray) -> np.ndarray:
        s_prev, m_prev, s_next, m_next = (int(v) for v in message[1:5])
        shift, want_stats = message[5], message[6] != 0.0
        if m_prev > 0:
            shard_block_update(self.codes, s_prev, m_prev, self.lookup, message[_HEADER:], self.ones, self.resid)
        if shift != 0.0:
            self.resid -= shift
        parts = []
        if m_next > 0:
            shard_block_dot(self.codes, s_next, m_next, self.lookup, self.resid, self.r)
            parts.append(self.r[:m_next])
        if want_stats:
            parts.append(np.array([self.resid.sum(), self.resid @ self.resid]))
        return np.concatenate(parts) if parts else np.empty(0)

    def _refresh(self, mu: float, alpha: np.ndarray) -> None:
        """e_w = y_w - mu - X_w alpha, block by block (the update kernel with delta = alpha)."""
        self.resid[:] = self.y - mu
        n_markers = self.codes.shape[0]
        for s in range(0, n_markers, self.block_size):
            m = min(self.block_size, n_markers - s)
            shard_block_update(self.codes, s, m, self.lookup, alpha[s : s + m], self.ones, self.resid)


class SerialShards:
    """Every shard in this process: ``request`` hands the message to each worker in order."""

    def __init__(self, shards: list[tuple]):
        self.workers = [ShardWorker(*shard) for shard in shards]
        self.bytes_sent = self.bytes_received = 0
        self.messages = 0

    def request(self, message: np.ndarray) -> list[np.ndarray]:
        self.messages += len(self.workers)
        replies = [worker.handle(message) for worker in self.workers]
        self.bytes_sent += message.nbytes * len(self.workers)
        self.bytes_received += sum(reply.nbytes for reply in replies)
        return replies

    def request_each(self, messages: list[np.ndarray]) -> list[np.ndarray]:
        """A message of its own to each worker (in order)."""
        self.messages += len(self.workers)
        replies = [worker.handle(message) for worker, message in zip(self.workers, messages)]
        self.bytes_sent += sum(message.nbytes for message in messages)
        self.bytes_received += sum(reply.nbytes for reply in replies)
        return replies

    def close(self) -> None:
        pass


def _serve(connection, codes_shape) -> None:
    """A worker process: receive its shard over the pipe, then answer messages until _STOP."""
    codes = np.frombuffer(connection.recv_bytes(), dtype=np.int8).reshape(codes_shape).copy()
    lookup = np.frombuffer(connection.recv_bytes(), dtype=np.float64).reshape(codes_shape[0], 4).copy()
    y = np.frombuffer(connection.recv_bytes(), dtype=np.float64).copy()
    block_size = int(np.frombuffer(connection.recv_bytes(), dtype=np.float64)[0])
    worker = ShardWorker(codes, lookup, y, block_size)
    while True:
        message = np.frombuffer(connection.recv_bytes(), dtype=np.float64)
        if message[0] == _STOP:
            break
        connection.send_bytes(worker.handle(message).tobytes())
    connection.close()


class ProcessShards:
    """One process per shard (``multiprocessing``, spawn), talking over pipes.

    The leader sends a message to every worker, then reads the replies in worker order (the
    workers compute meanwhile, in parallel). The shard's data travel once, at the start
    (``setup_bytes``). A worker that dies is reported (a RuntimeError naming it) at the next
    message. As with any spawned process, a script that creates these must guard its entry point
    with ``if __name__ == "__main__":``."""

    def __init__(self, shards: list[tuple]):
        import multiprocessing

        # spawn, not fork: a forked child would inherit the leader's threads (BLAS, numba) mid-state
        context = multiprocessing.get_context("spawn")
        self.connections, self.processes = [], []
        self.setup_bytes = 0
        for codes, lookup, y, block_size in shards:
            leader_end, worker_end = context.Pipe()
            process = context.Process(target=_serve, args=(worker_end, codes.shape), daemon=True)
            process.start()
            worker_end.close()
            for array in (codes, lookup, y, np.array([float(block_size)])):
                leader_end.send_bytes(np.ascontiguousarray(array).tobytes())
                self.setup_bytes += array.nbytes
            self.connections.append(leader_end)
            self.processes.append(process)
        self.bytes_sent = self.bytes_received = 0
        self.messages = 0

    def _receive(self) -> list[np.ndarray]:
        replies = []
        for k, connection in enumerate(self.connections):
            try:
                replies.append(np.frombuffer(connection.recv_bytes(), dtype=np.float64))
            except (EOFError, ConnectionError) as err:
                process = self.processes[k]
                process.join(timeout=1)
                raise RuntimeError(
                    f"Shard worker process {k} (pid {process.pid}) stopped answering (exit code "
                    f"{process.exitcode}); the chain cannot continue without its records."
                ) from err
        return replies

    def _send(self, k: int, payload: bytes) -> None:
        try:
            self.connections[k].send_bytes(payload)
        except (BrokenPipeError, ConnectionError) as err:
            process = self.processes[k]
            process.join(timeout=1)
            raise RuntimeError(
                f"Shard worker process {k} (pid {process.pid}) stopped answering (exit code {process.exitcode})."
            ) from err

    def request(self, message: np.ndarray) -> list[np.ndarray]:
        payload = message.tobytes()
        for k in range(len(self.connections)):
            self._send(k, payload)
        replies = self._receive()
        self.messages += len(self.connections)
        self.bytes_sent += len(payload) * len(self.connections)
        self.bytes_received += sum(reply.nbytes for reply in replies)
        return replies

    def request_each(self, messages: list[np.ndarray]) -> list[np.ndarray]:
        """A message of its own to each worker (in order)."""
        for k, message in enumerate(messages):
            self._send(k, message.tobytes())
        replies = self._receive()
        self.messages += len(self.connections)
        self.bytes_sent += sum(message.nbytes for message in messages)
        self.bytes_received += sum(reply.nbytes for reply in replies)
        return replies

    def close(self) -> None:
        stop = np.array([_STOP]).tobytes()
        for connection in self.connections:
            try:
                connection.send_bytes(stop)
            except (BrokenPipeError, OSError):
                pass
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
        for connection in self.connections:
            connection.close()


def _sum_in_order(replies: list[np.ndarray]) -> np.ndarray:
    """The replies summed in worker order (a fixed order: the same rounding in every backend)."""
    total = replies[0].copy()
    for reply in replies[1:]:
        total += reply
    return total


def shard_bounds(n: int, workers: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]``: ``workers`` contiguous shards of n records, sizes differing by at most 1."""
    edges = [n * w // workers for w in range(workers + 1)]
    return list(zip(edges[:-1], edges[1:]))


class RowPartitionedSampler:
    r"""The row-partitioned exact block sampler (module docstring) for BRR or BayesC with fixed π.

    Parameters
    ----------
    y : (n,) float array
        Phenotypes, one per record, no missing values.
    codes : (markers, n) int8 array
        Genotype codes 0/1/2 of the records (marker-major, as ``Genotypes.codes``); no missing
        genotypes (code 3).
    workers : int
        Shards of records (W).
    block_size : int
        Markers per block (B).
    pi : float
        Prior share of markers in the slab; 1 is BRR, below 1 BayesC with that fixed π.
    sigma2_alpha_prior, sigma2_e_prior : (df, scale)
        Scaled-inverse-χ² priors of the two variances (``ScaledInvChi2(df, scale)``).
    mu_prior_variance : float or None
        None: a flat prior on μ (as bayesgen's intercept); a number τ²: μ ~ N(0, τ²) (a proper
        prior, for the joint-distribution test).
    backend : "serial" or "processes"
        All shards in this process, or one process each.
    refresh_every : int
        Recompute the residual from scratch every so many iterations (0: never).
    """

    def __init__(
        self,
        y,
        codes,
        workers: int = 4,
        block_size: int = 64,
        pi: float = 1.0,
        sigma2_alpha_prior=(5.0, 0.01),
        sigma2_e_prior=(5.0, 1.0),
        backend: str = "serial",
        refresh_every: int = 100,
        mu_prior_variance: float | None = None,
    ):
        y = np.asarray(y, dtype=np.float64)
        codes = np.asarray(codes)
        if y.ndim != 1 or not np.all(np.isfinite(y)):
            raise ValueError("y must be a vector of finite phenotypes (one per record, no missing values).")
        if codes.dtype != np.int8 or codes.ndim != 2 or codes.shape[1] != y.size:
            raise ValueError(
                f"codes must be int8, markers x records ({y.size} records); got {codes.dtype} {codes.shape}."
            )
        if codes.size and (codes.min() < 0 or codes.max() > 2):
            raise ValueError("codes must be 0/1/2: the row-partitioned prototype takes no missing genotypes (code 3).")
        if not 1 <= workers <= y.size:
            raise ValueError(f"workers must be between 1 and the {y.size} records; got {workers}.")
        if block_size < 1:
            raise ValueError(f"block_size must be at least 1; got {block_size}.")
        if not 0.0 < pi <= 1.0:
            raise ValueError(f"pi must be in (0, 1]; got {pi}.")
        if mu_prior_variance is not None and not mu_prior_variance > 0.0:
            raise ValueError(f"mu_prior_variance must be None (flat) or positive; got {mu_prior_variance}.")
        if backend not in ("serial", "processes"):
            raise ValueError(f"backend must be 'serial' or 'processes'; got {backend!r}.")
        self.n, self.n_markers = y.size, codes.shape[0]
        self.block_size = block_size
        self.pi = float(pi)
        self.spike = pi < 1.0
        self.log_prior_odds = math.log(pi / (1.0 - pi)) if self.spike else 0.0
        self.df_alpha, self.scale_alpha = (float(v) for v in sigma2_alpha_prior)
        self.df_e, self.scale_e = (float(v) for v in sigma2_e_prior)
        self.refresh_every = refresh_every
        self.mu_precision = 0.0 if mu_prior_variance is None else 1.0 / mu_prior_variance
        self._bounds = shard_bounds(y.size, workers)
        self._stale = False  # the workers' residuals must be recomputed (new phenotypes)
        centre = codes.mean(axis=1)
        lookup = np.zeros((self.n_markers, 4))
        lookup[:, :3] = np.arange(3)[None, :] - centre[:, None]
        self.lookup = lookup
        shards = [
            (np.ascontiguousarray(codes[:, a:b]), lookup, y[a:b].copy(), block_size)
            for a, b in shard_bounds(self.n, workers)
        ]
        self.workers = workers
        self.shards = SerialShards(shards) if backend == "serial" else ProcessShards(shards)
        self.blocks = [(s, min(block_size, self.n_markers - s)) for s in range(0, self.n_markers, block_size)]
        tic = time.perf_counter()
        self.gram = _sum_in_order(self.shards.request(np.array([_GRAM]))).reshape(self.n_markers, block_size)
        self.gram_seconds = time.perf_counter() - tic
        # the state; the residual is y (alpha = 0, mu = 0) until the first iteration shifts it
        self.alpha = np.zeros(self.n_markers)
        self.mu = 0.0
        self.sigma2_e = float(np.var(y)) / 2.0
        self.sigma2_alpha = self.sigma2_e / max(float(np.sum(codes.var(axis=1))), 1e-12)
        self.sum_e = float(y.sum())
        self.iterations = 0
        self.delta = np.empty(block_size)
        #: The leader's own compute (Gram-space draws, variance draws), seconds, for the cost model.
        self.leader_seconds = 0.0

    def _message(self, prev=(0, 0), nxt=(0, 0), shift=0.0, stats=False, delta=None) -> np.ndarray:
        header = np.array([_STEP, prev[0], prev[1], nxt[0], nxt[1], shift, float(stats)])
        return header if delta is None else np.concatenate([header, delta])

    def iteration(self, rng: np.random.Generator) -> None:
        """One Gibbs iteration (steps 1-4 of the module docstring); ``rng`` is the chain's generator."""
        if self._stale or (self.refresh_every and self.iterations % self.refresh_every == 0):
            self._stale = False
            self.shards.request(np.concatenate([[_REFRESH, self.mu], self.alpha]))
            # the residual's sum after the refresh, returned with block 0's X'e below
            replies = self.shards.request(self._message(stats=True))
            self.sum_e = float(_sum_in_order(replies)[0])
        n = self.n
        # 1. mu | e, sigma2_e: e holds y - mu - X alpha, so sum(y - X alpha) = sum(e) + n mu; the
        # flat prior gives N(mu + sum(e)/n, sigma2_e/n), N(0, tau2) adds 1/tau2 to the precision
        if self.mu_precision == 0.0:
            new_mu = self.mu + self.sum_e / n + math.sqrt(self.sigma2_e / n) * rng.standard_normal()
        else:
            precision = n / self.sigma2_e + self.mu_precision
            mean = (self.sum_e + n * self.mu) / self.sigma2_e / precision
            new_mu = mean + rng.standard_normal() / math.sqrt(precision)
        shift, self.mu = new_mu - self.mu, new_mu
        s0, m0 = self.blocks[0]
        reply = _sum_in_order(self.shards.request(self._message(nxt=(s0, m0), shift=shift, stats=True)))
        r, sum_squares = reply[:m0], reply[m0 + 1]
        # 2. sigma2_e | e
        self.sigma2_e = (self.df_e * self.scale_e + sum_squares) / rng.chisquare(self.df_e + n)
        # 3. the markers, block by block
        for k, (s, m) in enumerate(self.blocks):
            tic = time.perf_counter()
            draw_block_gram_space(
                rng,
                self.alpha,
                s,
                m,
                r,
                self.gram[s : s + m],
                self.sigma2_alpha,
                self.log_prior_odds,
                self.spike,
                self.sigma2_e,
                self.delta,
            )
            self.leader_seconds += time.perf_counter() - tic
            last = k == len(self.blocks) - 1
            nxt = (0, 0) if last else self.blocks[k + 1]
            reply = _sum_in_order(self.shards.request(self._message((s, m), nxt, stats=last, delta=self.delta[:m])))
            if last:
                self.sum_e = float(reply[0])
            else:
                r = reply
        # 4. sigma2_alpha | alpha (the slab's effects)
        included = int(np.count_nonzero(self.alpha)) if self.spike else self.n_markers
        self.sigma2_alpha = (self.df_alpha * self.scale_alpha + float(self.alpha @ self.alpha)) / rng.chisquare(
            self.df_alpha + included
        )
        self.iterations += 1

    def set_response(self, y) -> None:
        """New phenotypes (one per record, in the order given at construction); the residuals are
        recomputed at the start of the next iteration. For the joint-distribution (Geweke) test."""
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (self.n,) or not np.all(np.isfinite(y)):
            raise ValueError(f"y must be {self.n} finite phenotypes; got shape {y.shape}.")
        self.shards.request_each([np.concatenate([[_SET_Y], y[a:b]]) for a, b in self._bounds])
        self._stale = True

    def run(self, rng: np.random.Generator, draws: int, burn: int = 0, keep_alpha: bool = True) -> dict:
        """``burn + draws`` iterations; returns the kept draws of ``mu``, ``sigma2_e``, ``sigma2_alpha``,
        ``n_included`` and (``keep_alpha``) ``alpha`` (draws x markers), with ``alpha_mean``."""
        out = {name: np.empty(draws) for name in ("mu", "sigma2_e", "sigma2_alpha", "n_included")}
        if keep_alpha:
            out["alpha"] = np.empty((draws, self.n_markers))
        alpha_sum = np.zeros(self.n_markers)
        for t in range(burn + draws):
            self.iteration(rng)
            if t >= burn:
                k = t - burn
                out["mu"][k], out["sigma2_e"][k], out["sigma2_alpha"][k] = self.mu, self.sigma2_e, self.sigma2_alpha
                out["n_included"][k] = np.count_nonzero(self.alpha)
                alpha_sum += self.alpha
                if keep_alpha:
                    out["alpha"][k] = self.alpha
        out["alpha_mean"] = alpha_sum / max(draws, 1)
        return out

    def worker_seconds(self) -> list[float]:
        """Each worker's time in its own kernels so far (seconds)."""
        return [float(reply[0]) for reply in self.shards.request(np.array([_TIMERS]))]

    def close(self) -> None:
        self.shards.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def predict_cost(
    n: int,
    p: int,
    block_size: int,
    workers: int,
    bandwidth: float,
    latency: float,
    seconds_per_genotype: float,
    seconds_per_flop: float,
    seconds_per_marker: float = 0.0,
    seconds_per_block: float = 0.0,
    bits: int = 2,
    cores: int | None = None,
    hops: float | None = None,
) -> dict:
    r"""The cost model of one iteration of the row-partitioned block sampler (docs/design/biobank.md).

    ``n`` records, ``p`` markers, blocks of B = ``block_size``, W = ``workers``; ``bandwidth``
    (bytes/s) and ``latency`` (s, one message one way) of the network; ``seconds_per_genotype``
    the time of one genotype visit (a code read, converted and multiplied) in a worker's dense
    passes; ``seconds_per_flop`` the leader's time per multiply-add in the Gram-space updates,
    ``seconds_per_marker`` its fixed time per marker (the random numbers and the draw),
    ``seconds_per_block`` per block (a call into the kernel, summing the replies);
    ``bits`` per genotype held (2: PLINK packing, 8: int8); ``cores`` that run the workers at
    once (default W); ``hops`` the message latencies per collective (default
    :math:`\lceil\log_2 W\rceil`, a tree; the pipe simulation's star is about W).

    * rounds per iteration: :math:`R = \lceil p/B\rceil + 1` reduce-then-broadcast exchanges;
    * bytes per iteration, summed over workers: up :math:`8p` (the :math:`X_b'e_w`) + 32 (the
      residual's sum and sum of squares, twice), down :math:`8p` (the :math:`\delta_b`) +
      :math:`56R` (headers), each times W;
    * worker compute: :math:`2 (n/W) p` genotype visits (:math:`X'e` and the residual update),
      i.e. :math:`4np/W` flops, times ``seconds_per_genotype``, stretched by W / cores when
      fewer cores than workers;
    * leader compute: :math:`pB` multiply-adds in Gram space (each marker's change updates up
      to B entries of :math:`r_b`) plus :math:`Wp` additions of the replies, plus p times the
      fixed cost of a marker's draw and :math:`\lceil p/B\rceil` times that of a block;
    * communication: :math:`R \cdot \text{hops} \cdot 2L + \text{hops}\cdot 16 p / \beta`;
    * memory: a worker :math:`(n/W) p \cdot \text{bits}/8` bytes of genotypes +
      :math:`16 n/W` (phenotypes, residual); the leader :math:`8pB` (the Gram blocks) + :math:`16p`;
    * once: :math:`(n/W) p B / 2` multiply-adds per worker and :math:`8pB` bytes per worker for
      the Gram blocks.
    """
    rounds = math.ceil(p / block_size) + 1
    if hops is None:
        hops = max(1, math.ceil(math.log2(workers))) if workers > 1 else 0
    cores = workers if cores is None else cores
    stretch = workers / min(workers, cores)
    bytes_per_worker = 16 * p + 32 + 56 * rounds
    worker_seconds = 2.0 * (n / workers) * p * seconds_per_genotype * stretch
    leader_seconds = (
        (p * block_size + workers * p) * seconds_per_flop + p * seconds_per_marker + (rounds - 1) * seconds_per_block
    )
    comm_seconds = rounds * hops * 2.0 * latency + hops * 16.0 * p / bandwidth
    return {
        "rounds": rounds,
        "bytes_per_iteration": workers * bytes_per_worker,
        "worker_seconds": worker_seconds,
        "leader_seconds": leader_seconds,
        "comm_seconds": comm_seconds,
        "seconds_per_iteration": worker_seconds + leader_seconds + comm_seconds,
        "worker_memory_bytes": (n / workers) * p * bits / 8 + 16 * n / workers,
        "leader_memory_bytes": 8 * p * block_size + 16 * p,
        "gram_setup_flops_per_worker": (n / workers) * p * block_size / 2,
        "gram_setup_bytes_per_worker": 8 * p * block_size,
    }
