"""Every command in docs/ is at least composed: its config resolves, or its arguments parse.

The README's commands run in full (tests/test_readme_commands.py); the guides in docs/ show many
more (clusters, GPUs, hour-long benchmarks), and each must still name options that exist.
"""

import re
import shlex

import pytest
from conftest import CONFIG_DIR, ROOT
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf
from test_readme_commands import markdown_commands

pytestmark = pytest.mark.unit

DOCS_COMMANDS = sorted({command for path in sorted((ROOT / "docs").glob("*.md")) for command in markdown_commands(path)})
# Hydra entry points and the config each composes.
HYDRA_PROGRAMS = {
    "train.py": "train",
    "evaluate.py": "evaluate",
    "-m zoo.predict": "predict",
    "-m zoo.export": "export",
    "-m zoo.anatomy": "anatomy",
}
# A syntax summary (`<run>`, `[ckpt=...]`, `...`) fills its placeholders with these before it is composed.
PLACEHOLDERS = {
    "<name>": "last_state",
    "<folder>": "data/examples",
    "<a python that imports torch>": "python",
    "<partition>": "gpu",
    "<run>": "outputs/some_run",
    "<a>,<b>": "outputs/a,outputs/b",
    "<sweep dir or runs...>": "outputs/multiruns",
    "data.train_path=... data.test_path=...": "data.train_path=a.ts data.test_path=b.ts",
}


def program_and_arguments(command):
    """Splits `command` into the program (`train.py`, `-m zoo.bench`, `make`, ...) and its arguments."""
    for placeholder, value in PLACEHOLDERS.items():
        command = command.replace(placeholder, value)
    command = re.sub(r"\[(\w+)=([\w.<>-]+)\|[^\]]*\]", r"\1=\2", command)  # [ckpt=best|last] -> ckpt=best
    words = shlex.split(command)
    while words and (re.fullmatch(r"[A-Z_]+=\S*", words[0]) or words[0] in ("srun", "env") or words[0].startswith("--ntasks")):
        words.pop(0)  # KERAS_BACKEND=jax, srun --ntasks=2 env ...
    if words[0] == "python" and words[1] == "-m":
        return f"-m {words[2]}", words[3:]
    if words[0] == "python":
        return words[1], words[2:]
    return words[0], words[1:]


def first_job(overrides):
    """The overrides of a sweep's first job (`a=1,2` -> `a=1`), as Hydra's basic sweeper would run it."""
    parsed = OverridesParser.create().parse_overrides([o for o in overrides if o != "-m"])
    prefixes = {"ADD": "+", "FORCE_ADD": "++", "DEL": "~"}
    job = []
    for override in parsed:
        prefix = prefixes.get(override.type.name, "")
        if override.is_sweep_override():
            value = next(iter(override.sweep_string_iterator()))
            job.append(f"{prefix}{override.get_key_element()}={value}")
        else:
            job.append(override.input_line)
    return job


def compose_and_resolve(config_name, overrides):
    """Composes a command's config with its Hydra node (launcher, sweeper) and resolves the task's part."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)  # ${hydra:...} resolves against it
    try:
        resolvable = OmegaConf.masked_copy(cfg, [key for key in cfg if key not in ("hydra", "resume")])
        return OmegaConf.to_container(resolvable, resolve=True)
    finally:
        HydraConfig.instance().cfg = None  # later tests in this process must not see a running Hydra


def test_docs_show_commands():
    assert len(DOCS_COMMANDS) >= 25


@pytest.mark.parametrize("command", DOCS_COMMANDS)
def test_docs_command_composes(command, monkeypatch):
    program, arguments = program_and_arguments(command)
    if program in HYDRA_PROGRAMS:
        overrides = first_job([argument for argument in arguments if not argument.startswith("resume=")])
        resolved = compose_and_resolve(HYDRA_PROGRAMS[program], overrides)
        assert resolved, command
    elif program in ("-m zoo.bench", "-m zoo.bench_real", "-m zoo.bench_forecast", "-m zoo.compare", "-m zoo.gpu_check", "-m zoo.benchmarks.shape_sets"):
        module = __import__(program.removeprefix("-m "), fromlist=["argument_parser"])
        module.argument_parser().parse_args(arguments)
    elif program == "make":
        targets = re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M)
        asked = {argument for argument in arguments if "=" not in argument}  # ARGS=... passes options on
        assert asked <= set(targets), f"{command}: the Makefile has no target {asked - set(targets)}"
    elif program == "pytest":
        registered = set(re.findall(r'"(\w+):', (ROOT / "pyproject.toml").read_text()))
        expression = arguments[arguments.index("-m") + 1]
        assert set(expression.replace("(", " ").replace(")", " ").split()) - {"and", "or", "not"} <= registered, command
    elif program == "tensorboard":
        assert arguments[0] == "--logdir" and len(arguments) == 2, command
    else:
        raise AssertionError(f"{command}: docs/ shows a program this test does not know how to compose")
