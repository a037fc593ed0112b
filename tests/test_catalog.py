"""The catalog tells the truth about the methods it lists: the CLI, the web studio and the docs read it."""

import pytest
import torch

from singan_studio import catalog
from singan_studio.errors import StudioError
from singan_studio.restoration import METHODS, operator_for, restore
from singan_studio.restoration.red import DENOISERS
from singan_studio.restoration.zssr import RECIPES


def test_every_method_is_listed_once_in_the_same_order():
    assert [m.name for m in catalog.RESTORE_METHODS] == list(METHODS)
    assert set(catalog.DEFAULT_METHODS) == {t.name for t in catalog.RESTORE_TASKS}
    for task, method in catalog.DEFAULT_METHODS.items():
        assert task in catalog.restore_method(method).tasks


def test_option_choices_are_the_codes_own():
    assert sorted(catalog.RESTORE_OPTIONS["recipe"].choices) == sorted(RECIPES)
    assert sorted(catalog.RESTORE_OPTIONS["denoiser"].choices) == sorted(DENOISERS)
    for method in catalog.RESTORE_METHODS:
        assert set(method.options) <= set(catalog.RESTORE_OPTIONS), method.name


def test_a_method_refuses_every_task_the_catalog_does_not_give_it():
    y = torch.rand(1, 3, 16, 16)
    known = (torch.rand(1, 1, 16, 16) > 0.3).float()
    for method in catalog.RESTORE_METHODS:
        for task in catalog.RESTORE_TASKS:
            if task.name in method.tasks:
                continue
            op = operator_for(task.name, known=known, factor=2, kernel="gaussian:1.0")
            obs = op.A(y)
            with pytest.raises(StudioError):
                restore(obs, op, method.name, iterations=1)


def test_tasks_by_name_and_alias():
    assert catalog.restore_task("sr").name == "super-resolve"
    assert "fill" in catalog.methods_for("inpaint") and "fill" not in catalog.methods_for("denoise")
    assert catalog.method_options("bm3d", {"sigma": 25.0, "iterations": 10, "precision": None}) == {"sigma": 25.0}
    with pytest.raises(StudioError, match="unknown restoration task"):
        operator_for("colourise")


def test_docs_table_is_written_from_the_catalog():
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs" / "tasks.md"
    if not docs.is_file():
        pytest.skip("docs/ is not installed with the package")
    assert docs.read_text() == catalog.markdown(), "run python scripts/make_docs_tables.py"


def test_instant_options_set_real_config_fields_and_reach_the_engine(tmp_path):
    import dataclasses

    from singan_studio.cli import main
    from singan_studio.instant import InstantConfig

    fields = {f.name for f in dataclasses.fields(InstantConfig)}
    assert {o.field or o.name for o in catalog.INSTANT_OPTIONS.values()} <= fields
    from PIL import Image

    from tests.conftest import tiny_array

    Image.fromarray(tiny_array(32)).save(tmp_path / "a.png")
    outs = {}
    for noise in ("0", "3"):
        assert main(["instant", "sample", str(tmp_path / "a.png"), "-n", "1", "--noise", noise, "-q",
                     "-o", str(tmp_path / noise)]) == 0
        outs[noise] = (tmp_path / noise / "instant_0000.png").read_bytes()
    assert outs["0"] != outs["3"]  # the option is passed through to the engine
