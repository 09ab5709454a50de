"""The scheduler on both builds: calls in (time, sequence) order, SimPy's events in one
order with them, calls past int64 dropped, and SimPy's own ``run``/``step``/``peek``."""

import random

import pytest

from lobsim.sim import build

BUILDS = {"compiled": build.compiled, "python": build.interpreted}


@pytest.fixture(params=list(BUILDS))
def scheduler(request):
    return BUILDS[request.param]().Scheduler()


def test_calls_run_by_time_then_in_the_order_they_were_scheduled(scheduler):
    rng = random.Random(3)
    ran = []
    expected = []
    for n in range(2_000):  # many ties, and a heap deep enough to sift both ways
        delay = rng.randrange(50)
        scheduler.call_later(delay, ran.append, n)
        expected.append((delay, n))
    scheduler.run_until(10**6)
    assert ran == [n for _, n in sorted(expected)]
    assert scheduler.now == 10**6


def test_calls_scheduled_while_running_keep_the_order(scheduler):
    ran = []

    def chain(n):
        ran.append((scheduler.now, n))
        if n < 5:
            scheduler.call_later(0, chain, n + 1)  # now, after what is already due now
            scheduler.call_later(3, chain, n + 10)

    scheduler.call_later(1, chain, 0)
    scheduler.call_later(1, ran.append, "same time, scheduled second")
    scheduler.run_until(100)
    assert ran[:3] == [(1, 0), "same time, scheduled second", (1, 1)]
    times = [entry[0] for entry in ran if isinstance(entry, tuple)]
    assert times == sorted(times)


def test_run_until_stops_before_its_end_and_resumes(scheduler):
    ran = []
    for t in (5, 10, 10, 15):
        scheduler.call_later(t, ran.append, t)
    scheduler.run_until(10)
    assert ran == [5] and scheduler.now == 10
    scheduler.run_until(11)
    assert ran == [5, 10, 10]
    scheduler.run_until(20)
    assert ran == [5, 10, 10, 15] and scheduler.now == 20


def test_simpy_events_and_calls_share_one_order(scheduler):
    env, seen = scheduler.env, []

    def process():
        for _ in range(3):
            yield env.timeout(10)
            seen.append(("process", env.now))
            scheduler.call_later(0, lambda _: seen.append(("call after it", scheduler.now)))

    scheduler.call_later(10, lambda _: seen.append(("call", scheduler.now)))
    env.process(process())  # starts at 0 (an urgent event), and only then asks for t=10
    scheduler.call_later(10, lambda _: seen.append(("later call", scheduler.now)))
    scheduler.run_until(35)
    assert seen == [("call", 10), ("later call", 10), ("process", 10), ("call after it", 10),
                    ("process", 20), ("call after it", 20), ("process", 30), ("call after it", 30)]


def test_simpys_own_run_step_and_peek_see_the_calls(scheduler):
    env, seen = scheduler.env, []

    def wait():
        yield env.timeout(3)

    scheduler.call_later(7, seen.append, "call")
    env.process(wait())
    assert env.peek() == 0  # the process starts now
    env.step()
    assert env.peek() == 3
    env.run(until=20)
    assert seen == ["call"] and env.now == 20 == scheduler.now


def test_a_call_due_past_int64_is_dropped_not_an_overflow(scheduler):
    ran = []
    scheduler.call_later(2**70, ran.append, "never")
    scheduler.call_later(2**63 - 1, ran.append, "never either")
    scheduler.call_later(1, ran.append, "soon")
    scheduler.run_until(2**80)
    assert ran == ["soon"]
