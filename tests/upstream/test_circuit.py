"""The circuit breaker: opens on consecutive failures, fails fast, one probe when half-open.

State lives in the Django cache; with REDIS_URL set, two processes share one circuit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from voice.upstream.circuit import Admission, CircuitBreaker

ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    """Wall-clock time that moves only when told to."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> Iterator[CircuitBreaker]:
    circuit = CircuitBreaker(f"test-{uuid.uuid4().hex}", 3, 30.0, clock=clock)
    yield circuit
    circuit.reset()


def fail(circuit: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        circuit.record_failure(circuit.admit())


def test_a_closed_circuit_lets_calls_through(breaker: CircuitBreaker) -> None:
    assert breaker.admit() == Admission(True)
    assert breaker.state() == "closed"


def test_it_opens_after_the_threshold_of_consecutive_failures(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    assert breaker.state() == "closed"

    fail(breaker, 1)

    assert breaker.state() == "open"
    admission = breaker.admit()
    assert not admission.allowed
    assert admission.retry_after == pytest.approx(30.0)


def test_a_success_resets_the_count(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.record_success(breaker.admit())
    fail(breaker, 2)

    assert breaker.state() == "closed"


def test_an_open_circuit_says_when_to_come_back(breaker: CircuitBreaker, clock: FakeClock) -> None:
    fail(breaker, 3)

    clock.now += 20

    assert breaker.admit().retry_after == pytest.approx(10.0)


def test_after_the_cool_down_exactly_one_probe_goes_through(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.now += 30
    barrier = threading.Barrier(20)
    admissions: list[Admission] = []

    def ask() -> None:
        barrier.wait()
        admissions.append(breaker.admit())

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert breaker.state() == "half-open"
    assert [a.probe for a in admissions].count(True) == 1
    assert sum(a.allowed for a in admissions) == 1


def test_a_successful_probe_closes_the_circuit(breaker: CircuitBreaker, clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.now += 31

    breaker.record_success(breaker.admit())

    assert breaker.state() == "closed"
    assert breaker.admit().allowed


def test_a_failed_probe_opens_it_for_another_cool_down(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.now += 31

    breaker.record_failure(breaker.admit())

    assert breaker.state() == "open"
    assert breaker.admit().retry_after == pytest.approx(30.0)


def test_a_released_probe_lets_the_next_caller_probe(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.now += 31
    probe = breaker.admit()
    assert not breaker.admit().allowed

    breaker.release(probe)

    assert breaker.admit().probe


def test_late_failures_of_calls_admitted_before_opening_do_not_extend_it(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    early = [breaker.admit() for _ in range(5)]
    for admission in early[:3]:
        breaker.record_failure(admission)
    clock.now += 20

    for admission in early[3:]:
        breaker.record_failure(admission)

    assert breaker.admit().retry_after == pytest.approx(10.0)


# ---- across processes (Redis) ----------------------------------------------------------------

CHILD = """
import json, sys, django
django.setup()
from voice.upstream.circuit import CircuitBreaker
circuit = CircuitBreaker(sys.argv[1], 3, 30.0)
action = sys.argv[2]
if action == "fail":
    for _ in range(3):
        circuit.record_failure(circuit.admit())
print(json.dumps({"state": circuit.state(), "admit": circuit.admit().__dict__}))
"""


def run_child(redis_url: str, name: str, action: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "voiceproject.settings", "REDIS_URL": redis_url}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, name, action],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def child_result(process: subprocess.Popen[str]) -> dict[str, object]:
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    return json.loads(out)


def test_another_process_sees_the_circuit_this_one_opened(redis_url: str) -> None:
    circuit = CircuitBreaker(f"test-{uuid.uuid4().hex}", 3, 30.0)
    try:
        fail(circuit, 3)

        seen = child_result(run_child(redis_url, circuit.name, "look"))

        assert seen["state"] == "open"
        assert seen["admit"]["allowed"] is False
    finally:
        circuit.reset()


def test_this_process_sees_the_circuit_another_one_opened(redis_url: str) -> None:
    circuit = CircuitBreaker(f"test-{uuid.uuid4().hex}", 3, 30.0)
    try:
        assert child_result(run_child(redis_url, circuit.name, "fail"))["state"] == "open"

        assert circuit.state() == "open"
        assert not circuit.admit().allowed
    finally:
        circuit.reset()


def test_only_one_of_several_processes_gets_the_probe(redis_url: str) -> None:
    # Opened a cool-down ago as far as the children's real clocks are concerned.
    circuit = CircuitBreaker(f"test-{uuid.uuid4().hex}", 3, 30.0, clock=lambda: time.time() - 31)
    try:
        fail(circuit, 3)

        children = [run_child(redis_url, circuit.name, "look") for _ in range(4)]
        admissions = [child_result(child)["admit"] for child in children]

        assert [a["probe"] for a in admissions].count(True) == 1
        assert sum(bool(a["allowed"]) for a in admissions) == 1
    finally:
        circuit.reset()
