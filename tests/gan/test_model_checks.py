"""Crafted and damaged model files are refused on load with one line naming the problem."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from singan_studio import load
from singan_studio.cli import main
from singan_studio.errors import ModelFileError


def _rewrite(src, dst, meta_change=None, tensor_change=None):
    """A copy of the model file ``src`` at ``dst`` with its metadata or tensors altered."""
    with open(src, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        meta = json.loads(json.loads(f.read(n))["__metadata__"]["singan_studio"])
    tensors = load_file(src)
    if meta_change:
        meta_change(meta)
    if tensor_change:
        tensor_change(tensors)
    save_file(tensors, str(dst), metadata={"singan_studio": json.dumps(meta)})
    return str(dst)


CASES = {
    "float64 weights": (None, lambda t: t.update({"G0.body.0.weight": t["G0.body.0.weight"].double()}), "float64"),
    "a noise amplitude that is text": (lambda m: m.update(noise_amps=["x"] + m["noise_amps"][1:]), None,
                                       "noise amplitudes"),
    "20 000-px scales": (lambda m: m.update(sizes=[[20_000, 20_000]] * len(m["sizes"])), None, "pyramid sizes"),
    "an image of another size": (None, lambda t: t.update(real=t["real"][..., :-2].contiguous()), "tensor real is shaped"),
    "a width that is text": (lambda m: m["config"].update(width="wide"), None, "setting width"),
    "absurd networks": (lambda m: m["config"].update(width=1_000_000), None, "1000000 wide"),
    "reconstruction errors that are text": (lambda m: m["info"].update(rec_mse=[["a", "b"]]), None,
                                            "reconstruction errors"),
    "NaN weights": (None, lambda t: t["G0.body.0.weight"].fill_(float("nan")), "NaN"),
    "more trained scales than scales": (lambda m: m.update(trained_scales=99), None, "trained scales"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_crafted_model_file_is_refused_in_one_line(case, tiny_model_path, tmp_path, capsys):
    meta_change, tensor_change, words = CASES[case]
    bad = _rewrite(tiny_model_path, tmp_path / "bad.safetensors", meta_change, tensor_change)
    with pytest.raises(ModelFileError, match=words):
        load(bad, "cpu")
    for argv in (["info", bad], ["retarget", bad, "--scale-w", "2", "-o", str(tmp_path / "out"), "-q"]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code != 0 and words in err and "Traceback" not in err, err
    assert not (tmp_path / "out" / "bad").exists()


def test_an_untouched_copy_still_loads(tiny_model_path, tmp_path):
    same = _rewrite(tiny_model_path, tmp_path / "same.safetensors")
    a, b = load(same, "cpu"), load(tiny_model_path, "cpu")
    assert torch.equal(a.sample(1, seed=0), b.sample(1, seed=0))


def test_a_model_file_is_known_by_its_header_not_its_name(tiny_model_path, tmp_path, capsys):
    renamed = tmp_path / "m.model"
    renamed.write_bytes(open(tiny_model_path, "rb").read())
    code = main(["sample", str(renamed), "-n", "1", "-o", str(tmp_path / "out"), "-q"])
    assert code == 0, capsys.readouterr().err
    assert len(list((tmp_path / "out" / "m").glob("sample_*.png"))) == 1
