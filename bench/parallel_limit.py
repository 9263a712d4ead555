"""The physical limit of a many-subscription apply: the best schedule an oracle can achieve.

The oracle knows every action's task length T and provisioning length P in advance and
polls nothing (it learns that work ended the instant it ends). It obeys what the API
imposes, exactly as the simulator models it:

* the account processes one task at a time, in submission order: a task submitted at ``s``
  starts processing at ``max(s + 0.3 T, end of the previous task)`` and ends 0.7 T later
  (the first 0.3 T is the ``received`` phase, which needs no queue);
* its database then provisions for P; the action is done at ``end + P``;
* a subscription is non-active (changing) from the submission of one of its actions until
  that action is done, and at most three subscriptions may be changing at once;
* the actions of one subscription run one after another, in plan order (as reconciler and
  Terraform's per-subscription lock run them).

Given the order in which the oracle submits the actions (any interleaving of the
subscriptions' action lists), submitting each one as early as the rules allow is best:
every time in the schedule is a non-decreasing function of the earlier ones, so a later
submission never lets anything finish sooner. The earliest time for the next action of
subscription ``s`` is the latest of: ``s``'s previous action done, the previous submission
(the queue is first-in first-out), the moment the queue frees minus 0.3 T (submitting
earlier only holds a slot longer), and the moment at most two other subscriptions are
still changing.

The limit is the minimum, over every interleaving, of the time the last action is done.
Finding it exactly is a scheduling problem (three machines, chains, a shared queue) too
large to enumerate (5 x 4 actions have 20!/(4!)^5, about 3e11, interleavings), so
:func:`physical_limit` searches: greedy schedules for every fixed priority order of the
subscriptions, then a seeded local search over interleavings (swap two actions of
different subscriptions, accept a worse one with a shrinking probability), keeping the best
schedule found. That is a schedule the API allows, so the true limit is no later; and
:func:`lower_bound` proves no schedule ends before the larger of: each subscription's
actions back to back (T + P each), the queue's processing (0.7 T each) plus the smallest P,
and all changing time (T + P each) spread evenly over the three slots. Both are reported:
the true limit lies between them (typically under 1 % apart).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

RECEIVED_FRACTION = 0.3  # the simulator's received phase, as a share of the task length
MAX_CHANGING = 3
SEARCH_ITERATIONS = 4000
SWAP_REACH = 5  # a swap exchanges actions at most this many places apart
COOLING = 0.9995


@dataclass(frozen=True)
class Work:
    """One action's durations: task (submission to processing-completed), provisioning."""

    task: float
    provision: float


Chains = tuple[tuple[Work, ...], ...]


@dataclass(frozen=True)
class State:
    """A partial schedule: per subscription the next action and when its last one is done."""

    next_index: tuple[int, ...]
    done: tuple[float, ...]
    queue_free: float
    last_submit: float


@dataclass(frozen=True)
class Limit:
    """The best schedule found, the best greedy one, the proven lower bound, and
    ``apply --parallel 3``'s scheduling with no polling delay (seconds)."""

    wall: float
    greedy: float
    lower_bound: float
    lanes: float


def _slot_free_at(done: Sequence[float], skip: int, at: float) -> float:
    """Return the first time >= ``at`` when fewer than three other subscriptions change."""
    busy = sorted(d for i, d in enumerate(done) if i != skip and d > at)
    if len(busy) < MAX_CHANGING:
        return at
    return busy[len(busy) - MAX_CHANGING]


def place(chains: Chains, state: State, sub: int, not_before: float = 0.0) -> State:
    """Return ``state`` with subscription ``sub``'s next action submitted as early as allowed
    (and not before ``not_before``)."""
    work = chains[sub][state.next_index[sub]]
    received = RECEIVED_FRACTION * work.task
    earliest = max(state.done[sub], state.last_submit, state.queue_free - received, not_before)
    submit = _slot_free_at(state.done, sub, earliest)
    start = max(submit + received, state.queue_free)
    end = start + (1 - RECEIVED_FRACTION) * work.task
    done = list(state.done)
    done[sub] = end + work.provision
    index = list(state.next_index)
    index[sub] += 1
    return State(tuple(index), tuple(done), end, submit)


def _remaining(chains: Chains, state: State) -> list[tuple[Work, ...]]:
    return [chain[index:] for chain, index in zip(chains, state.next_index, strict=True)]


def lower_bound(chains: Chains, state: State) -> float:
    """Return a time no schedule completing ``state`` can beat."""
    remaining = _remaining(chains, state)
    bound = max(state.done)
    for done, rest in zip(state.done, remaining, strict=True):
        start = max(done, state.last_submit) if rest else done
        bound = max(bound, start + sum(w.task + w.provision for w in rest))
    left = [w for rest in remaining for w in rest]
    if not left:
        return bound
    queue = state.queue_free + sum((1 - RECEIVED_FRACTION) * w.task for w in left)
    bound = max(bound, queue + min(w.provision for w in left))
    slots = sorted(max(d, state.last_submit) for d in state.done)[-MAX_CHANGING:]
    slots += [state.last_submit] * (MAX_CHANGING - len(slots))
    spread = (sum(slots) + sum(w.task + w.provision for w in left)) / MAX_CHANGING
    return max(bound, spread)


def start_state(chains: Chains, at: float = 0.0) -> State:
    """Return the empty schedule starting at ``at``."""
    count = len(chains)
    return State((0,) * count, (at,) * count, at, at)


def greedy(chains: Chains, priority: Sequence[int], at: float = 0.0) -> float:
    """Return the makespan of placing, each time, the first ready subscription in ``priority``.

    Ready = the subscription whose next action can be submitted earliest (ties: priority).
    """
    state = start_state(chains, at)
    rank = {sub: position for position, sub in enumerate(priority)}
    while any(i < len(c) for i, c in zip(state.next_index, chains, strict=True)):
        options = [s for s in priority if state.next_index[s] < len(chains[s])]
        placed = [(place(chains, state, s), s) for s in options]
        state = min(placed, key=lambda p: (p[0].last_submit, rank[p[1]]))[0]
    return max(state.done)


def scheduler_lanes(chains: Chains, lanes: int = MAX_CHANGING, at: float = 0.0) -> float:
    """Return the makespan of ``apply --parallel``'s scheduling with no polling delay.

    As ``reconciler.apply.parallel`` does: a free lane takes the next action of the free
    subscription (no other lane on it) with the most actions left (every action here is an
    update: one weight), ties in subscription order, and submits it the moment it may; the
    lane is free again when that action is done. A lane finding nothing free ends. This is
    what the executor would achieve if it noticed every end at once.
    """
    state = start_state(chains, at)
    lane_free = [at] * min(lanes, len(chains))
    busy_until = [at] * len(chains)
    while lane_free:
        now = min(lane_free)
        lane_free.remove(now)
        left = [len(c) - i for c, i in zip(chains, state.next_index, strict=True)]
        free = [s for s in range(len(chains)) if left[s] and busy_until[s] <= now]
        if not free:
            continue  # the lane ends; the busy subscriptions' own lanes go on
        sub = max(free, key=lambda s: (left[s], -s))
        state = place(chains, state, sub, now)
        busy_until[sub] = state.done[sub]
        lane_free.append(state.done[sub])
    return max(state.done) - at


def makespan(chains: Chains, order: Sequence[int], at: float = 0.0) -> float:
    """Return when the last action is done, submitting in ``order`` (subscription indexes)."""
    state = start_state(chains, at)
    for sub in order:
        state = place(chains, state, sub)
    return max(state.done)


def local_search(chains: Chains, seed: int, iterations: int, at: float = 0.0) -> float:
    """Return the best makespan found by a seeded annealing walk over interleavings."""
    rng = random.Random(seed)
    order = [sub for sub, chain in enumerate(chains) for _ in chain]
    rng.shuffle(order)
    current = best = makespan(chains, order, at)
    temperature = 5.0
    for _ in range(iterations):
        i = rng.randrange(len(order) - 1)
        j = rng.randrange(i + 1, min(len(order), i + SWAP_REACH + 1))
        temperature = max(0.05, temperature * COOLING)
        if order[i] == order[j]:
            continue
        candidate = list(order)
        candidate[i], candidate[j] = candidate[j], candidate[i]
        value = makespan(chains, candidate, at)
        if value <= current or rng.random() < math.exp((current - value) / temperature):
            order, current = candidate, value
            best = min(best, value)
    return best


def physical_limit(chains: Chains, at: float = 0.0, restarts: int = 3) -> Limit:
    """Return the best schedule found for ``chains`` and the proven lower bound (seconds)."""
    orders = itertools.permutations(range(len(chains)))
    greedy_best = min(greedy(chains, order, at) for order in orders)
    searched = min(local_search(chains, seed, SEARCH_ITERATIONS, at) for seed in range(restarts))
    best = min(greedy_best, searched)
    bound = lower_bound(chains, start_state(chains, at)) - at
    return Limit(best - at, greedy_best - at, bound, scheduler_lanes(chains, at=at))
