"""The Ray side of :mod:`.workers`: one task per input, retried when its worker dies.

Kept apart so that ``ray`` (the optional ``cluster`` extra) is imported only when asked for.
"""

from __future__ import annotations

from .errors import StudioError


def _reachable(address: str, timeout: float = 5.0) -> bool:
    """Whether anything answers at ``[ray://]host:port`` (Ray itself retries for minutes)."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def _connect(address: str, workers: int) -> bool:
    """Join or start a cluster; True when this call started it (and must shut it down)."""
    try:
        import ray
    except ImportError:
        raise StudioError("--ray needs Ray: pip install 'singan-studio[cluster]' (or pip install ray)") from None
    if ray.is_initialized():
        return False
    if address not in ("local", "auto") and not _reachable(address):
        raise StudioError(f"cannot reach the Ray cluster at {address!r}: nothing answers there")
    kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        if address == "local":
            ray.init(num_cpus=max(workers, 1) if workers > 1 else None, **kwargs)
        else:
            ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise StudioError(f"cannot reach the Ray cluster at {address!r}: {str(exc).splitlines()[0]}") from None
    return True


def run_on_ray(todo, work, args, finish, address: str, retries: int, threads: int, workers: int) -> None:
    """Submit every input as one task; report each as it finishes."""
    import ray
    from ray.exceptions import RayError

    from .workers import run_input

    started = _connect(address, workers)
    # Each task declares what it uses: its CPU threads, and one GPU when --device cuda asks for it.
    gpus = 1 if str(getattr(args, "device", "")).startswith("cuda") else 0
    remote = ray.remote(run_input).options(num_cpus=threads, num_gpus=gpus, max_retries=retries,
                                           retry_exceptions=False)
    refs = {remote.remote(work, args, p, threads): p for p in todo}
    try:
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            for ref in ready:
                path = refs.pop(ref)
                try:
                    finish(path, *ray.get(ref))
                except RayError as exc:  # retries spent: the worker kept dying, or the task itself broke
                    finish(path, "failed", f"Ray could not run it: {type(exc).__name__}", 0.0)
    except KeyboardInterrupt:
        for ref in refs:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
