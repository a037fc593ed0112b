"""Batch jobs: the same bytes with one worker, two, or a real Ray cluster; resumable; a dead worker
or a bad input does not stop the batch."""

import argparse
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from singan_studio.batch import MANIFEST, run, run_each
from singan_studio.cli import main

HAS_RAY = importlib.util.find_spec("ray") is not None


def _inputs(folder: Path, size: int = 40) -> Path:
    """Three small photos with structure (scikit-image's bundled ones) and one file that is no image."""
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("astronaut", "chelsea", "coffee"):
        Image.fromarray(getattr(data, name)()).resize((size * 5 // 4, size), Image.BICUBIC).save(folder / f"{name}.png")
    (folder / "broken.png").write_text("not an image")
    return folder


def _pngs(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


def test_two_workers_write_the_same_bytes_resume_and_skip_a_bad_input(tmp_path, capsys):
    src = _inputs(tmp_path / "in")
    common = ["instant", "sample", str(src), "-n", "2", "--seed", "4", "--max-size", "40", "-q"]
    assert main(common + ["-o", str(tmp_path / "one")]) == 1  # 1: one input was bad
    err = capsys.readouterr().err
    assert "broken.png: skipped" in err and "Traceback" not in err
    assert run("instant sample", [src], tmp_path / "two", n=2, seed=4, max_size=40, quiet=True, workers=2) == 1
    one, two = _pngs(tmp_path / "one"), _pngs(tmp_path / "two")
    assert len(one) == 6 and one == two  # 3 inputs x 2 samples, byte for byte
    assert not (tmp_path / "two" / "broken").exists()
    capsys.readouterr()
    # The rerun finds every good input in the manifest and does nothing for them.
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "two").rglob("*.png")}
    assert main(common + ["-o", str(tmp_path / "two"), "--workers", "2"]) == 1
    out = capsys.readouterr().out
    assert out.count("done by an earlier run") == 3
    assert stamps == {p: p.stat().st_mtime_ns for p in (tmp_path / "two").rglob("*.png")}
    # Other settings are another job; --fresh redoes everything.
    assert main(common[:4] + ["3", "--seed", "4", "--max-size", "40", "-q", "-o", str(tmp_path / "two")]) == 1
    assert capsys.readouterr().out.count("3 sample images") == 3
    assert main(common + ["-o", str(tmp_path / "two"), "--fresh"]) == 1
    assert capsys.readouterr().out.count("2 sample images") == 3
    records = [json.loads(line) for line in (tmp_path / "two" / MANIFEST).read_text().splitlines()]
    assert sorted(Path(r["input"]).name for r in records if r["status"] == "done") == [
        "astronaut.png", "chelsea.png", "coffee.png"]  # --fresh started a new manifest
    assert all(r["seed"] == 4 and r["seconds"] >= 0 for r in records)


def test_training_a_folder_gives_one_model_each_and_resumes(tmp_path, capsys):
    from singan_studio import load

    src = _inputs(tmp_path / "in", size=32)
    job = ["train", str(src), "--preset", "preview", "--max-size", "32", "--device", "cpu", "-q",
           "-o", str(tmp_path / "models"), "--workers", "2"]
    assert main(job) == 1
    out, err = capsys.readouterr()
    assert out.count("trained") == 3 and "broken.png: skipped" in err
    models = sorted((tmp_path / "models").glob("*.safetensors"))
    assert [m.stem for m in models] == ["astronaut", "chelsea", "coffee"]
    assert all(load(m, "cpu").complete for m in models)
    assert main(job) == 1 and capsys.readouterr().out.count("done by an earlier run") == 3


def test_ctrl_c_stops_the_workers_and_the_same_command_resumes(tmp_path):
    src = _inputs(tmp_path / "in", size=96)
    (src / "broken.png").unlink()
    cli = [sys.executable, "-m", "singan_studio", "instant", "sample", str(src), "-n", "1", "--engine", "gpdm",
           "--max-size", "96", "-q", "--workers", "2", "-o", str(tmp_path / "out")]
    proc = subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()  # one input finished: interrupt the rest
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert "1 sample images" in first and proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err and "Warning" not in err
    done = [json.loads(line) for line in (tmp_path / "out" / MANIFEST).read_text().splitlines()]
    assert 1 <= len(done) < 3 and all(r["status"] == "done" for r in done)  # only finished inputs
    again = subprocess.run(cli, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout.count("done by an earlier run") == len(done)
    assert again.stdout.count("1 sample images") == 3 - len(done)


def _dies_once(args, path: Path) -> str:
    """A unit of work whose worker process is killed the first time it sees each input."""
    marker = Path(args.markers) / (path.name + ".died")
    if not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return f"done {path.name} in {os.getpid()}"


def _always_dies(args, path: Path) -> str:
    os.kill(os.getpid(), signal.SIGKILL)
    return "never"


def test_a_killed_local_worker_is_replaced_and_its_input_retried(tmp_path):
    args = argparse.Namespace(markers=str(tmp_path))
    outcomes = run_each(["a", "b", "c"], _dies_once, args, tmp_path / "out", workers=2, retries=3)
    assert [o.status for o in outcomes] == ["done"] * 3
    assert all(o.text.startswith(f"done {o.input}") for o in outcomes)
    # Retries are bounded: an input that kills every worker is reported, not retried for ever.
    outcomes = run_each(["d"], _always_dies, args, None, workers=2, retries=1)
    assert outcomes[0].status == "failed" and "its worker died 2 times" in outcomes[0].text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster():
    """A real two-node Ray cluster on 127.0.0.1: a head and one worker node, stopped afterwards."""
    if not HAS_RAY:
        if os.environ.get("CI"):
            pytest.fail("CI must install the cluster extra (ray)")
        pytest.skip("ray is not installed: pip install -e '.[cluster]'")
    port = _free_port()
    # Ray 2.60 turns on token authentication by default; this throwaway cluster on loopback opts out.
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled")
    ray = [sys.executable, "-m", "ray.scripts.scripts"]
    start = dict(env=env, check=True, capture_output=True, timeout=120)
    subprocess.run(ray + ["start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                          "--num-cpus", "1", "--include-dashboard", "false", "--disable-usage-stats"], **start)
    try:
        subprocess.run(ray + ["start", "--address", f"127.0.0.1:{port}", "--node-ip-address", "127.0.0.1",
                              "--num-cpus", "1"], **start)
        yield f"127.0.0.1:{port}", env
    finally:
        subprocess.run(ray + ["stop", "--force"], env=env, capture_output=True, timeout=120)


def _ray_tasks_running() -> list[int]:
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in ps.splitlines()[1:] if "ray::run_input" in line]


def test_a_ray_cluster_writes_the_same_bytes_survives_a_killed_worker_and_resumes(tmp_path, ray_cluster):
    address, env = ray_cluster
    src = _inputs(tmp_path / "in", size=72)
    # gpdm: a few seconds an input, long enough to kill a worker in the middle of one.
    job = ["instant", "sample", str(src), "-n", "1", "--seed", "2", "--max-size", "72", "--engine", "gpdm", "-q"]
    assert main(job + ["-o", str(tmp_path / "local")]) == 1
    cli = [sys.executable, "-m", "singan_studio"] + job + ["-o", str(tmp_path / "ray"), "--ray", address]
    proc = subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    killed = None
    deadline = time.time() + 120
    while killed is None and proc.poll() is None and time.time() < deadline:
        running = _ray_tasks_running()
        if running:
            os.kill(running[0], signal.SIGKILL)
            killed = running[0]
        time.sleep(0.05)
    out, err = proc.communicate(timeout=300)
    assert killed is not None, "no Ray task was seen running"
    assert proc.returncode == 1, err  # the broken file, and nothing else
    assert "broken.png: skipped" in err and out.count("1 sample images") == 3
    assert _pngs(tmp_path / "ray") == _pngs(tmp_path / "local") and len(_pngs(tmp_path / "local")) == 3
    # The same command again: everything is in the manifest, nothing is recomputed.
    again = subprocess.run(cli, capture_output=True, text=True, timeout=300, env=env)
    assert again.returncode == 1 and again.stdout.count("done by an earlier run") == 3


def test_ray_errors_are_one_line(tmp_path, capsys):
    if not HAS_RAY:
        pytest.skip("ray is not installed")
    src = _inputs(tmp_path / "in")
    code = main(["instant", "sample", str(src / "coffee.png"), "-o", str(tmp_path / "o"), "-q",
                 "--ray", f"127.0.0.1:{_free_port()}"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach the Ray cluster" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
