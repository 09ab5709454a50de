"""Independent calls of one function fanned out: in this process, in local processes, or
as Ray tasks. ``lobsim sweep`` (runs of scenario variants) and ``lobsim train-sweep``
(training cells) both map their calls through :func:`map_calls`.

The function must be a module-level function (picklable by reference) whose result is a
pure function of its arguments: then the results are identical whichever way they run,
which the tests check against a local Ray instance. Results come back in the calls'
order; ``on_result(index, result)`` sees each one as soon as it is done (in completion
order), so a caller can save finished work before the rest is done.

Ray (``--address`` or ``RAY_ADDRESS``; ``local`` starts one on this machine) needs the
``ray`` extra. An address that does not answer, or a missing Ray, is one line.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from lobsim.errors import InputError, LobsimError, MissingExtraError

Progress = Callable[[int, int], None]  #: (calls done, calls in all)
OnResult = Callable[[int, Any], None]  #: (the call's index, its result)


def ray_address(option: str | None) -> str | None:
    """The Ray address to use: ``option``, else ``$RAY_ADDRESS``; None: local processes."""
    return option or os.environ.get("RAY_ADDRESS") or None


def map_calls(fn: Callable[..., Any], calls: Sequence[tuple], workers: int = 2,
              address: str | None = None, progress: Progress | None = None,
              on_result: OnResult | None = None, start: str | None = None) -> list[Any]:
    """``[fn(*call) for call in calls]``, as Ray tasks on ``address`` (one task per call),
    else over ``workers`` local processes (1: in this process, in order) started by the
    multiprocessing method ``start`` (None: the platform's default; ``spawn`` for calls
    that run torch, as a fork of a process whose OpenMP threads ran may hang). An exception in
    a call stops the fan-out (what has not started is not run) and is raised here (from a
    Ray task: a :class:`LobsimError` as itself, anything else as one LobsimError line;
    ``fn`` should turn its own failures into one-line LobsimErrors)."""
    if address:
        return _ray_map(fn, calls, address, progress, on_result)
    if workers <= 1:
        results = []
        for i, call in enumerate(calls):
            results.append(fn(*call))
            _report(i, results[-1], i + 1, len(calls), progress, on_result)
        return results
    return _pool_map(fn, calls, workers, progress, on_result, start)


def _report(index: int, result: Any, done: int, total: int, progress: Progress | None,
            on_result: OnResult | None) -> None:
    if on_result:
        on_result(index, result)
    if progress:
        progress(done, total)


def _pool_map(fn: Callable[..., Any], calls: Sequence[tuple], workers: int,
              progress: Progress | None, on_result: OnResult | None, start: str | None) -> list[Any]:
    results: list[Any] = [None] * len(calls)
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(start)) as pool:
        futures = {pool.submit(fn, *call): i for i, call in enumerate(calls)}
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                index = futures[future]
                results[index] = future.result()
                _report(index, results[index], done, len(calls), progress, on_result)
        except BaseException:
            # nor what is running or already queued to a worker (Ctrl-C, or another call
            # failed): its result would be thrown away. Python < 3.14 has no public way;
            # shutdown forgets the processes, so they are taken first.
            running = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)  # do not run what is left
            for proc in running:
                proc.terminate()
            raise
    return results


def check_reachable(address: str) -> None:
    """Fail fast (5 s) with one line when a host:port address does not answer."""
    host_port = address.removeprefix("ray://")
    if host_port in ("auto", "local") or ":" not in host_port:
        return
    host, _, port = host_port.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot reach Ray at {address}: {exc}") from None


def _connect(address: str) -> bool:
    """Connect to Ray at ``address`` unless this process already is; whether it connected
    (and so must shut down)."""
    try:
        import ray
    except ImportError:
        raise MissingExtraError("Ray is not installed: pip install lobsim[ray]") from None
    check_reachable(address)
    if ray.is_initialized():
        return False
    try:
        local = {"include_dashboard": False} if address == "local" else {}
        ray.init(address=address, log_to_driver=False, configure_logging=False, **local)
    except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; all mean "not reachable"
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot connect to Ray at {address}: {message}") from None
    return True


def _ray_map(fn: Callable[..., Any], calls: Sequence[tuple], address: str,
             progress: Progress | None, on_result: OnResult | None) -> list[Any]:
    started = _connect(address)
    import ray

    pending: list = []
    try:
        task = ray.remote(fn)
        refs = [task.remote(*call) for call in calls]
        index = {ref: i for i, ref in enumerate(refs)}
        results: list[Any] = [None] * len(refs)
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                try:
                    results[index[ref]] = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # its text is a remote traceback
                    cause = exc.cause if isinstance(exc.cause, LobsimError) else None
                    raise cause or LobsimError(str(exc).strip().splitlines()[-1]) from None
                _report(index[ref], results[index[ref]], len(refs) - len(pending), len(refs),
                        progress, on_result)
        return results
    except BaseException:
        for ref in pending:  # on a cluster that outlives this process: do not leave work
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
