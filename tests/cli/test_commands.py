"""The command line: happy paths, and one clear line + exit 2 for each bad input."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from singan_studio.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sample_and_info(tiny_model_path, tmp_path, capsys):
    code, out, err = run(capsys, "sample", tiny_model_path, "-n", "2", "--seed", "5", "--size", "70x30",
                         "-o", str(tmp_path), "--device", "cpu", "-q")
    assert code == 0, err
    files = sorted((tmp_path / "coffee").glob("*.png"))
    assert [f.name for f in files] == ["sample_0005.png", "sample_0006.png"]
    assert Image.open(files[0]).size == (70, 30)
    assert "2 samples 70x30" in out
    code, out, _ = run(capsys, "info", tiny_model_path)
    assert code == 0 and "scales trained" in out and "reconstruction MSE" in out


def test_sample_variation_and_raw_output(tiny_model_path, tmp_path, capsys):
    from singan_studio import load

    code, out, err = run(capsys, "sample", tiny_model_path, "-n", "1", "--seed", "3", "--start-scale", "1",
                         "--variation", "0", "--no-detail", "-o", str(tmp_path), "--device", "cpu", "-q")
    assert code == 0, err
    got = np.asarray(Image.open(tmp_path / "coffee" / "sample_0003.png")).astype(int)
    x = load(tiny_model_path, "cpu").sample(1, start_scale=1, seed=3, variation=0.0, detail=False)[0]
    assert np.abs(got - (x.permute(1, 2, 0).numpy() * 255).round()).max() <= 1
    with pytest.raises(SystemExit) as exc:
        main(["sample", tiny_model_path, "--variation", "-1"])
    assert exc.value.code == 2
    assert "must be from 0 to 10" in capsys.readouterr().err


def test_sample_batch_skips_a_bad_input_and_says_so(tiny_model_path, tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_text("not a model")
    code, out, err = run(capsys, "sample", tiny_model_path, str(bad), "-n", "1", "-o", str(tmp_path / "o"), "-q")
    assert code == 1
    assert "coffee" in out and "bad.safetensors: skipped" in err
    assert not (tmp_path / "o" / "bad").exists()


def test_train_cli_writes_a_loadable_model(tmp_path, tiny_png, capsys):
    out = tmp_path / "m.safetensors"
    stale = tmp_path / ".m.safetensors.k1ll3d.part.safetensors"  # what a kill during a save leaves
    stale.write_bytes(b"half a model")
    code, stdout, err = run(capsys, "train", tiny_png, "-o", str(out), "--preset", "preview",
                            "--max-size", "32", "--device", "cpu", "-q")
    assert code == 0, err
    assert not stale.exists() and not list(tmp_path.glob("*.part*"))
    assert "image: coffee.png" in err and "working size 32x24" in err
    code, _, _ = run(capsys, "info", str(out))
    assert code == 0


@pytest.mark.parametrize("case", ["missing", "corrupt", "tiny", "folder"])
def test_bad_training_images(case, tmp_path, capsys):
    path = tmp_path / "img.png"
    if case == "corrupt":
        path.write_bytes(b"\x89PNG not really")
    elif case == "tiny":
        Image.new("RGB", (12, 12)).save(path)
    elif case == "folder":
        path.mkdir()
    code, out, err = run(capsys, "train", str(path), "-o", str(tmp_path / "m.safetensors"))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("singan-studio train: error:")
    assert {"missing": "not found", "corrupt": "cannot read", "tiny": "at least 16 px",
            "folder": "folder"}[case] in lines[0]
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_non_root(tmp_path, tiny_png, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    code, _, err = run(capsys, "train", tiny_png, "-o", str(ro / "m.safetensors"))
    assert code == 2 and "not writable" in err


def test_unwritable_output(tmp_path, tiny_png, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where a folder is needed
    code, _, err = run(capsys, "train", tiny_png, "-o", str(blocker / "sub" / "m.safetensors"))
    assert code == 2 and "cannot create output folder" in err


@pytest.mark.parametrize("content", [b"hello", b""])
def test_wrong_model_files(tmp_path, capsys, content):
    path = tmp_path / "m.safetensors"
    path.write_bytes(content)
    for argv in (["info", str(path)], ["sample", str(path), "-o", str(tmp_path / "o")]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and "not a singan-studio model" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "info", str(tmp_path / "nope.safetensors"))
    assert code == 2 and "not found" in err


def test_bad_sample_arguments(tiny_model_path, tmp_path, capsys):
    code, _, err = run(capsys, "sample", tiny_model_path, "--start-scale", "99", "-o", str(tmp_path))
    assert code == 2 and "start scale 99 is out of range" in err
    with pytest.raises(SystemExit) as exc:
        main(["sample", tiny_model_path, "--size", "axb"])
    assert exc.value.code == 2


def test_console_script_entry_point(tiny_model_path):
    proc = subprocess.run([sys.executable, "-m", "singan_studio", "info", tiny_model_path],
                          capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0 and "singan-studio pyramid" in proc.stdout


def test_a_reader_that_stops_early_is_not_an_error(tiny_model_path):
    # `singan-studio info model | head -1`: the pipe closes before we write.
    proc = subprocess.Popen([sys.executable, "-m", "singan_studio", "info", tiny_model_path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).parents[2])
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 0 and "Traceback" not in err and "BrokenPipe" not in err


def test_help_and_unreadable_files_speak_plainly(tmp_path, capsys):
    from singan_studio.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "single image" in out and "``" not in out
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    assert main(["instant", "sample", str(bad), "-q"]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and "not an image file" in err
    assert "Error" not in err  # no exception class names


def test_outputs_are_checked_before_any_work_and_refused_runs_leave_nothing(tiny_png, tiny_model_path, tmp_path,
                                                                           capsys):
    import time

    cases = [["super-resolve", tiny_png, "-o", str(tmp_path / "new" / "big.xyz")],
             ["restore", tiny_png, "--task", "denoise", "--method", "dip", "-o", str(tmp_path / "new" / "x.xyz")],
             ["instant", "retarget", tiny_png, "--scale-w", "2", "-o", str(tmp_path / "new" / "wide")],
             ["harmonize", tiny_model_path, tiny_png, "-o", str(tmp_path / "new" / "h.txt")]]
    for argv in cases:
        t0 = time.perf_counter()
        code, out, err = run(capsys, *argv, "-q")
        assert code == 2 and "unknown image format" in err, (argv, err)
        assert time.perf_counter() - t0 < 20  # refused at once, not after training or restoring
    # A missing input: nothing is created, not even the output folder.
    for argv in (["sample", str(tmp_path / "nope.safetensors"), "-o", str(tmp_path / "new" / "samples")],
                 ["restore", str(tmp_path / "nope.png"), "--task", "denoise", "-o", str(tmp_path / "new" / "x.png")],
                 ["instant", "sample", str(tmp_path / "nope.png"), "-o", str(tmp_path / "new" / "s")]):
        code, out, err = run(capsys, *argv, "-q")
        assert code == 2 and "nope" in err, (argv, err)
    assert not (tmp_path / "new").exists()
