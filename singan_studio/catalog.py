"""Every task and method of the studio, in one table that imports nothing heavy.

The command line (``singan_studio.cli``), the web studio (``singan_studio.web``) and the docs
table (``docs/tasks.md``, written by ``scripts/make_docs_tables.py``) are all built from
this module, so a new task or method is described here once:

* a restoration method: its entry in :data:`RESTORE_METHODS` (name, tasks, the options it
  reads), and its function in ``singan_studio/restoration/methods.py``;
* an instant task or engine: :data:`INSTANT_TASKS` / :data:`INSTANT_ENGINES`, and its
  function in ``singan_studio.instant``;
* a pyramid-GAN command: :data:`GAN_TASKS`, and its function in ``singan_studio.gan``.

It imports nothing but :mod:`dataclasses`: a table to read, not code to run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """A setting a user may give: ``name`` is the API keyword, ``--name`` (dashes) on the CLI."""

    name: str
    type: type
    help: str
    choices: tuple = ()
    field: str = ""  # the settings-dataclass field it sets, where it differs from ``name``

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Task:
    """One thing the studio does to an image, as users name it."""

    name: str
    summary: str
    wing: str  # "gan", "instant" or "restoration"
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Method:
    """One restoration method: which tasks it serves and which options it reads."""

    name: str
    summary: str
    tasks: tuple[str, ...]
    options: tuple[str, ...] = ()  # names in RESTORE_OPTIONS
    seconds: bool = False  # a result in seconds, no network trained


# ---------------------------------------------------------------------- the pyramid GAN
GAN_TASKS = (
    Task("train", "train a pyramid on one image", "gan"),
    Task("sample", "random images from trained models (or images, trained first)", "gan"),
    Task("info", "describe a model file", "gan"),
    Task("retarget", "re-render training images at a new size (and a resize sweep video)", "gan"),
    Task("animate", "looping videos by a random walk in noise space", "gan"),
    Task("harmonize", "make a pasted object match the training image", "gan"),
    Task("edit", "make a moved or copied region seamless", "gan"),
    Task("paint", "turn a rough painting into an image with the model's textures", "gan"),
    Task("super-resolve", "SinGAN super-resolution (trains on the image if needed)", "gan"),
)

# ---------------------------------------------------------------------- the instant engines
INSTANT_ENGINES = {
    "gpnn": "patch nearest neighbours (fastest)",
    "gpdm": "patch-distribution matching",
    "diffusion": "training-free patch diffusion",
}
INSTANT_OPTIONS = {o.name: o for o in (
    Option("noise", float, "diversity: noise at the coarsest level", field="noise_std"),
    Option("alpha", float, "GPNN completeness; smaller uses more of the source's patches"),
    Option("patch", int, "patch side in pixels"),
    Option("coarse_size", int, "short side of the coarsest level; smaller = more rearranged"),
)}
"""Engine settings every ``instant`` task takes; each sets the InstantConfig field of its name
(or ``field``), and its default is that field's."""

INSTANT_TASKS = (
    Task("sample", "random images at any size from one or more images", "instant"),
    Task("tile", "seamlessly tileable textures from an image", "instant"),
    Task("symmetric", "random images equal to their own mirror image", "instant"),
    Task("retarget", "change size or aspect ratio, keeping objects' proportions", "instant"),
    Task("inpaint", "fill the white region of MASK from the rest of the image", "instant"),
    Task("edit", "blend an edited (cut/pasted/painted) region marked by MASK", "instant"),
    Task("analogy", "the layout of LAYOUT drawn with the patches of SOURCE", "instant"),
    Task("collage", "one image made of the patches of several images", "instant"),
)


# ---------------------------------------------------------------------- restoration
RESTORE_TASKS = (
    Task("denoise", "remove noise", "restoration"),
    Task("inpaint", "fill holes given by a mask (white = known)", "restoration"),
    Task("super-resolve", "enlarge by a whole factor", "restoration", aliases=("sr",)),
    Task("deblur", "undo a known blur", "restoration"),
)
_ALL = tuple(t.name for t in RESTORE_TASKS)

RESTORE_OPTIONS = {o.name: o for o in (
    Option("iterations", int, "iteration cap (the method's default otherwise)"),
    Option("sigma", float, "noise std on the 0-255 scale (estimated from the image for denoising when not given)"),
    Option("precision", str, "network arithmetic: auto uses bfloat16 where the CPU or GPU has it natively, "
                             "1.3-1.7x faster", choices=("auto", "fp32", "bf16")),
    Option("denoiser", str, "red's black-box denoiser: nlm (default, fast), bm3d (stronger, slower) or cnn "
                            "(the shipped network)", choices=("nlm", "bm3d", "cnn")),
    Option("recipe", str, "zssr: fast (default; about a minute), quality (the official gradual schedule run "
                          "cheaply: +0.5 dB on Set5), official (one jump) or official-gradual (slow)",
           choices=("fast", "quality", "official", "official-gradual")),
    Option("model", str, "iagan: a pyramid trained on a clean image of the same kind of scene"),
)}
_DIP = ("iterations", "sigma", "precision")

RESTORE_METHODS = (
    Method("dip", "Deep Image Prior: an encoder-decoder fitted to the observation; stops by the "
                  "discrepancy principle", _ALL, _DIP),
    Method("fill", "biharmonic and non-local-means fills blended by how well each predicts held-out pixels; "
                   "no network", ("inpaint",), (), seconds=True),
    Method("bm3d", "block matching and 3-D filtering; no network", ("denoise",), ("sigma",), seconds=True),
    Method("dip-guided", "dip refining fill's or bm3d's result (scattered missing pixels, noise)",
           ("denoise", "inpaint"), _DIP),
    Method("dip-bp", "dip with the back-projection loss", _ALL, _DIP),
    Method("dip-bptv", "dip with the back-projection loss and total variation", _ALL, _DIP),
    Method("deep-decoder", "Heckel & Hand's under-parameterised 1x1-convolution decoder", _ALL, _DIP),
    Method("dip-sgld", "dip with Langevin noise on the weights: posterior mean and an uncertainty map",
           _ALL, _DIP),
    Method("sure", "dip with a SURE (denoising) or projected GSURE loss, for a known noise level", _ALL, _DIP),
    Method("red", "DeepRED: ADMM between dip and a black-box denoiser", _ALL, _DIP + ("denoiser",)),
    Method("zssr", "zero-shot SR: a CNN trained on the image's own down-scaled copies", ("super-resolve",),
           _DIP + ("recipe",)),
    Method("mzsr", "the ZSSR network from meta-learned weights, adapted in a few steps (x2)", ("super-resolve",),
           ("iterations",), seconds=True),
    Method("self2self", "a dropout network trained on Bernoulli-masked copies of the image",
           ("denoise", "inpaint"), ("iterations", "precision")),
    Method("idbp", "iterative denoising and back-projection with the shipped CNN denoiser", _ALL,
           ("iterations", "sigma"), seconds=True),
    Method("idbp-ia", "idbp after fine-tuning the denoiser on the observation", _ALL, ("iterations", "sigma")),
    Method("iagan", "a pyramid of a similar clean scene adapted to the observation", _ALL,
           ("iterations", "model")),
    Method("diffusion", "posterior sampling with the shipped diffusion prior (DDNM / DiffPIR steps)", _ALL,
           ("iterations", "sigma"), seconds=True),
    Method("adir", "diffusion after fine-tuning the prior on the observation's coarser copies (ADIR)", _ALL,
           ("iterations", "sigma")),
    Method("patch-diffusion", "posterior sampling whose prior is the observation's own patches; no network",
           _ALL, ("iterations", "sigma"), seconds=True),
)
#: Each task's default method: the best measured trade-off of quality and time on a CPU
#: (docs/restoration-diffusion.md, "Defaults"): bm3d denoises Set9 at sigma 25 to 31.4 dB in
#: seconds where dip takes minutes for less; fill inpaints 50 % missing pixels to 33.3 dB in
#: seconds (dip-guided: 33.5 in minutes); zssr's fast recipe enlarges Set5 x4 to 30.6 dB in about
#: a minute (dip: 29.9 published, tens of minutes here); deblurring has no measured rival to dip yet.
DEFAULT_METHODS = {"denoise": "bm3d", "inpaint": "fill", "super-resolve": "zssr", "deblur": "dip"}


def default_method(task: str) -> str:
    """The default method of restoration task ``task`` (a name or an alias)."""
    return DEFAULT_METHODS[restore_task(task).name]


def summary(tasks: tuple[Task, ...], name: str) -> str:
    """The one-line help of task ``name`` in ``tasks`` (GAN_TASKS, INSTANT_TASKS or RESTORE_TASKS)."""
    return next(t.summary for t in tasks if t.name == name)


def restore_task(name: str) -> Task:
    """The restoration task called ``name`` or one of its aliases ("sr")."""
    for task in RESTORE_TASKS:
        if name == task.name or name in task.aliases:
            return task
    raise KeyError(name)


def restore_method(name: str) -> Method:
    for method in RESTORE_METHODS:
        if method.name == name:
            return method
    raise KeyError(name)


def methods_for(task: str) -> list[str]:
    """The restoration methods that serve ``task``, in the catalog's order."""
    task = restore_task(task).name
    return [m.name for m in RESTORE_METHODS if task in m.tasks]


def method_options(name: str, values: dict) -> dict:
    """The given option values that method ``name`` reads (None and unread ones dropped)."""
    reads = restore_method(name).options
    return {k: v for k, v in values.items() if k in reads and v is not None}


def method_help() -> str:
    """One line per method, for ``--method`` help."""
    return "; ".join(f"{m.name}: {m.summary}" for m in RESTORE_METHODS)


def markdown() -> str:
    """``docs/tasks.md``: every task and method as tables (``scripts/make_docs_tables.py`` writes it)."""
    def table(header: str, rows: list[tuple[str, ...]]) -> list[str]:
        cols = header.split("|")
        return ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)] + ["| " + " | ".join(r) + " |" for r in rows]

    out = ["# Tasks and methods", "",
           "Written by `scripts/make_docs_tables.py` from `singan_studio/catalog.py`, the table the command line "
           "and the web studio are built from; do not edit by hand.", "",
           "## Pyramid GAN (`singan_studio.gan`)", ""]
    out += table("command|what it does", [(f"`singan-studio {t.name}`", t.summary) for t in GAN_TASKS])
    out += ["", "## Instant engines (`singan_studio.instant`)", ""]
    out += table("command|what it does", [(f"`singan-studio instant {t.name}`", t.summary) for t in INSTANT_TASKS])
    out += [""] + table("engine (`--engine`)|what it does", [(f"`{k}`", v) for k, v in INSTANT_ENGINES.items()])
    out += [""] + table("engine option|type|what it sets", [
        (f"`{o.flag}`", o.type.__name__, f"{o.help} (`InstantConfig.{o.field or o.name}`)")
        for o in INSTANT_OPTIONS.values()])
    out += ["", "## Restoration (`singan_studio.restoration`, `singan-studio restore`)", ""]
    out += table("task (`--task`)|what it does|methods",
                 [(f"`{t.name}`" + "".join(f" (`{a}`)" for a in t.aliases), t.summary,
                   ", ".join(f"`{m}`" for m in methods_for(t.name))) for t in RESTORE_TASKS])
    out += [""] + table("method (`--method`)|what it does|tasks|options", [
        (f"`{m.name}`" + "".join(f" (default for {t})" for t, d in DEFAULT_METHODS.items() if d == m.name),
         m.summary + ("; seconds" if m.seconds else ""),
         "any" if len(m.tasks) == len(RESTORE_TASKS) else ", ".join(m.tasks),
         ", ".join(f"`{RESTORE_OPTIONS[o].flag}`" for o in m.options) or "none") for m in RESTORE_METHODS])
    out += [""] + table("option|type|what it sets", [
        (f"`{o.flag}`", o.type.__name__ + (f" ({', '.join(o.choices)})" if o.choices else ""), o.help)
        for o in RESTORE_OPTIONS.values()])
    return "\n".join(out) + "\n"
