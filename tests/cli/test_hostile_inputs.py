"""A corpus of bad and unusual inputs, made on the fly, run against every command.

Each refused run must say one plain thing: exit 2, no traceback, no exception class name, no
absolute path the user did not type, and nothing new on disk.
"""

import json
import re
import struct
import zlib
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from singan_studio.cli import main


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge image and whose data ends at once."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF))


def _corpus(folder: Path, model_path: str) -> dict:
    folder.mkdir()
    files = {
        "empty.png": b"",
        "text.png": b"just some words",
        "truncated.png": _png_header_only(40, 30),
        "huge-header.png": _png_header_only(60_000, 60_000),
        "empty.safetensors": b"",
        "garbage.safetensors": b"\x00" * 64,
        "text.jpg": b"<html>not a photo</html>",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "a-folder.png").mkdir()
    # A real model file with its metadata and tensors corrupted the two ways seen in the field.
    with open(model_path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        meta = json.loads(json.loads(f.read(n))["__metadata__"]["singan_studio"])
    tensors = load_file(model_path)
    meta_text = dict(meta, noise_amps=["x"] + meta["noise_amps"][1:])
    save_file(tensors, str(folder / "text-noise.safetensors"), metadata={"singan_studio": json.dumps(meta_text)})
    doubled = dict(tensors, **{k: v.double() for k, v in tensors.items() if k.endswith("weight")})
    save_file(doubled, str(folder / "float64.safetensors"), metadata={"singan_studio": json.dumps(meta)})
    return sorted(str(p) for p in folder.iterdir()) + [str(folder / "missing.png")]


def _commands(bad: str, good_png: str, good_model: str, out: Path) -> list[list[str]]:
    """Every command with ``bad`` where an image or a model is expected."""
    o = str(out)
    return [
        ["train", bad, "-o", f"{o}/m.safetensors", "--preset", "preview"],
        ["sample", bad, "-o", o],
        ["info", bad],
        ["retarget", bad, "--scale-w", "2", "-o", o],
        ["animate", bad, "-o", o],
        ["harmonize", bad, good_png, "-o", f"{o}/h.png"],
        ["harmonize", good_model, bad, "-o", f"{o}/h.png"],
        ["edit", good_model, good_png, "--mask", bad, "-o", f"{o}/e.png"],
        ["paint", good_model, bad, "-o", f"{o}/p.png"],
        ["super-resolve", bad, "-o", f"{o}/sr.png"],
        ["restore", bad, "--task", "denoise", "--method", "bm3d", "-o", f"{o}/r.png"],
        ["restore", good_png, "--task", "inpaint", "--mask", bad, "--method", "fill", "-o", f"{o}/r.png"],
        ["restore", good_png, "--task", "sr", "--method", "iagan", "--model", bad, "-o", f"{o}/r.png"],
        ["instant", "sample", bad, "-o", o],
        ["instant", "retarget", bad, "--scale-w", "2", "-o", f"{o}/i.png"],
        ["instant", "inpaint", good_png, bad, "-o", f"{o}/i.png"],
        ["instant", "analogy", good_png, bad, "-o", f"{o}/i.png"],
    ]


CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]+(Error|Exception|Warning)\b")


@pytest.mark.slow
def test_every_command_refuses_every_bad_input_in_one_plain_line(tmp_path, tiny_png, tiny_model_path, capsys,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad_inputs = _corpus(tmp_path / "bad", tiny_model_path)
    out = tmp_path / "out"
    failures = []
    for bad in bad_inputs:
        for argv in _commands(bad, tiny_png, tiny_model_path, out):
            before = set(tmp_path.rglob("*"))
            code = main(argv + ["-q"] if argv[0] != "info" else argv)
            err = capsys.readouterr().err
            lines = [line for line in err.splitlines() if line.strip()]
            allowed = [a for a in argv if a.startswith("/")]
            shown = re.findall(r"(/[\w.-]+(?:/[\w.-]+)+)", err)
            problems = []
            if code != 2:
                problems.append(f"exit {code}")
            if not lines or not lines[-1].startswith(f"singan-studio {argv[0]}"):
                problems.append("no one-line error")
            if "Traceback" in err or CLASS_NAME.search(err):
                problems.append("a traceback or an exception class")
            if any(not any(a.startswith(p) or p.startswith(a) for a in allowed) for p in shown):
                problems.append("a path the user did not type")
            if set(tmp_path.rglob("*")) - before:
                problems.append("files left behind")
            if problems:
                failures.append(f"{' '.join(Path(a).name if a.startswith('/') else a for a in argv)}: "
                                f"{', '.join(problems)}: {err.strip()[-200:]}")
    assert not failures, "\n".join(failures)
