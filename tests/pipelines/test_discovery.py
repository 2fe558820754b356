"""Presets derived from an example's own scripts, on fixture examples in the shapes CVlization uses."""

from pathlib import Path

import pytest

from configs import Prepare
from pipelines import catalog
from pipelines.catalog.derive import derive_presets
from pipelines.catalog.tree import load_example

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cvl_repo" / "examples"


def offers(name: str) -> catalog.Offers:
    return catalog.offers_of(catalog.discover(FIXTURES)[name])


def not_offered(name: str) -> dict[str, str]:
    return {item.name: item.reason for item in offers(name).not_offered}


def test_a_guarded_data_run_becomes_a_prepare_step_and_the_main_run_the_command():
    train = offers("tinygpt-char").offered["train"]
    assert train.source == "derived from train.sh"
    assert train.preset.command == ("python", "train.py", "--out", "logs")  # /workspace/logs -> logs
    assert train.preset.prepare == (
        # `mkdir -p "$SCRIPT_DIR/logs"` on the host, before the run: the job makes the folder too
        Prepare(command=("mkdir", "-p", "logs"), creates="logs"),
        Prepare(command=("python", "data/chars/prepare.py"), creates="data/chars/train.txt"),
    )
    # PYTHONPATH=/cvlization_repo is the job's own business; the literal variable stays.
    assert train.preset.environment == {"PYTHONUNBUFFERED": "1"}
    assert train.forwarded_secrets == ("WANDB_API_KEY",)
    # A reference by convention, never a value: the job reads cvl/WANDB_API_KEY when it starts.
    assert train.preset.secrets == {"WANDB_API_KEY": "cvl/WANDB_API_KEY"}
    assert train.preset.optional_secrets == ("WANDB_API_KEY",)  # forwarded only when set on the host
    assert "WANDB_API_KEY" not in train.preset.environment


def test_preset_args_become_the_scripts_arguments():
    quick = offers("tinygpt-char").offered["train_quick"]
    assert quick.preset.command == ("python", "train.py", "--out", "logs", "--iters", "2", "--tag", "quick")


def test_a_script_field_with_arguments_a_working_folder_and_env_defaults():
    discovery = offers("causal-bias-study").offered["discovery"]
    # `train.sh -- --stage discovery`; `-w /workspace/src` makes /workspace/data `../data`.
    assert discovery.preset.command == ("python", "analyze.py", "--data", "../data", "--stage", "discovery")
    assert discovery.preset.workdir == "src"
    assert discovery.preset.environment == {"PIPELINE": "slow"}  # ${PIPELINE:-slow}
    assert discovery.forwarded_secrets == ("HF_TOKEN",)  # -e HF_TOKEN, forwarded from the host
    assert discovery.preset.secrets == {"HF_TOKEN": "cvl/HF_TOKEN"}
    assert discovery.preset.instance_type == "ml.g4dn.xlarge"  # gpu_count: 1, vram_gb: 16


def test_the_presets_env_is_applied_before_the_scripts_defaults():
    assert offers("causal-bias-study").offered["fast"].preset.environment == {"PIPELINE": "fast"}


def test_a_script_that_calls_a_sibling_script_is_followed():
    report = offers("causal-bias-study").offered["report"]
    assert report.source == "derived from report.sh"
    assert report.preset.command == ("python", "analyze.py", "--data", "../data", "--stage", "report")


def test_builds_servers_and_missing_scripts_are_listed_with_their_reason():
    assert not_offered("causal-bias-study") == {
        "build": "builds the image on the host (the BuildImage step builds it)",
        "demo": "runs a server or stops one (demo), not a training job",
        "missing": "its script evaluate.sh is not in the example folder",
    }
    assert not_offered("signal_prep") == {"export": "its script export.sh is not in the example folder"}


def test_a_bash_array_with_conditional_parts_and_a_loop_over_the_arguments():
    predict = offers("pointmap").offered["predict"]
    assert predict.preset.command == ("python", "predict.py", "--images", "samples")
    assert predict.preset.environment == {"PYTHONUNBUFFERED": "1"}
    assert predict.forwarded_secrets == ("HF_TOKEN",)  # `if [[ -n "${HF_TOKEN:-}" ]]; then DOCKER_ARGS+=...`
    assert predict.preset.instance_type == "ml.g6.2xlarge"  # 20 GB GPU, 8 cores, 32 GB


def test_eval_docker_run_with_options_in_a_variable():
    preprocess = offers("signal_prep").offered["preprocess"]
    assert preprocess.preset.command == ("python", "scripts/preprocess.py", "--spec", "specs/sample.md")
    assert preprocess.preset.instance_type == "ml.m5.2xlarge"


def test_a_preset_with_a_command_field_runs_it_in_the_image():
    found = offers("arm-policy").offered
    assert found["predict"].preset.command == ("python", "predict.py")
    assert found["think"].preset.command == ("python", "predict.py", "--mode", "think")
    assert found["predict"].source == "example.yaml command"


def _script_example(tmp_path: Path, script: str, preset: str = "run: {script: run.sh}") -> list:
    folder = tmp_path / "mine"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "example.yaml").write_text(f"name: mine\npresets:\n  {preset}\n")
    (folder / "run.sh").write_text(script)
    (folder / "train.py").write_text("print('hi')\n")
    return derive_presets(load_example(folder / "example.yaml", tmp_path))


@pytest.mark.parametrize(
    ("script", "command"),
    [
        # continuation lines, ${X:+...} and a here-document in between
        (
            "cat <<EOF\nusage: run.sh\nEOF\nIMG=${IMG:-mine}\ndocker run --rm \\\n  ${CVL_CONTAINER_NAME:+--name x} "
            '-v "$(pwd)":/workspace -w /workspace \\\n  "$IMG" python train.py --lr=0.1 "$@"\n',
            ["python", "train.py", "--lr=0.1"],
        ),
        # `set --` defaults when no argument is given, and `shift`-free case parsing
        (
            '[ $# -eq 0 ] && set -- --epochs 3\ncase "${MODE:-fit}" in\n  fit) CMD=(python train.py);;\n'
            '  *) CMD=(python other.py);;\nesac\ndocker run -it mine "${CMD[@]}" "$@"\n',
            ["python", "train.py", "--epochs", "3"],
        ),
        # a function wrapping docker run, and `bash -c` inside the image
        (
            'run_in() { docker run --rm --gpus all mine "$@"; }\nrun_in bash -c "python train.py && echo ok"\n',
            ["bash", "-c", "python train.py && echo ok"],
        ),
    ],
)
def test_bash_forms_are_read_as_bash_reads_them(tmp_path, script, command):
    derived = _script_example(tmp_path, script)[0]
    assert derived.preset is not None, derived.reason
    assert derived.preset.command == tuple(command)


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("docker run -d mine python serve.py\n", "runs a server (detached)"),
        ("docker run -p 8080:80 mine python app.py\n", "runs a server (publishes 8080:80)"),
        ("python train.py\n", "runs on the host (python train.py), not in the example's image"),
        (
            'if [ -z "$DOC" ]; then echo need DOC; exit 1; fi\ndocker run mine python train.py\n',
            "exits with 1",
        ),
        ("docker run mine\n", "runs the image's default command"),
        ('docker run mine python train.py --token "$HF_TOKEN"\n', "passes the host secret HF_TOKEN"),
        ('docker run mine python train.py --seed "$(date +%s)"\n', "depends on a value known only when"),
        (
            "docker run mine bash -c '" + "echo step && " * 2000 + "python train.py'\n",
            "x SageMaker's 2500 per hyperparameter",
        ),
    ],
)
def test_presets_that_cannot_run_as_a_training_job_say_why(tmp_path, script, reason):
    derived = _script_example(tmp_path, script)[0]
    assert derived.preset is None
    assert reason in derived.reason


def test_sibling_scripts_are_followed_two_levels_deep_and_no_further(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "a.sh").write_text('bash "$(dirname "$0")/b.sh" "$@"\n')
    (folder / "b.sh").write_text("bash c.sh --from-b\n")
    (folder / "c.sh").write_text('docker run mine python train.py "$@"\n')
    (folder / "d.sh").write_text("bash a.sh\n")
    two = _script_example(tmp_path, 'bash b.sh "$@"\n', "run: {script: run.sh, args: [--x]}")[0]
    assert two.preset.command == ("python", "train.py", "--from-b")
    three = _script_example(tmp_path, "bash a.sh\n")[0]
    assert three.preset is None and "more than 2 levels deep" in three.reason


def test_a_script_that_ends_mid_command_is_listed_not_raised(tmp_path):
    derived = _script_example(tmp_path, "if [ -f x ]; then\n  docker run mine python train.py\n")[0]
    assert derived.preset is None
    assert derived.reason == "run.sh cannot be read as bash: the script ends in the middle of a command"


@pytest.mark.parametrize(
    ("script", "command", "reason"),
    [
        # the repository's package, mounted into the workspace or used from the repository mount
        (
            'docker run -v "$SCRIPT_DIR":/workspace -v "$REPO/cvlization":/workspace/cvlization -w /workspace '
            "mine python /workspace/cvlization/tool.py --root /cvlization_repo/cvlization\n",
            ["python", "cvlization/tool.py", "--root", "cvlization"],
            "",
        ),
        # a host cache mount stays a container path
        (
            'docker run -v "$HOME/.cache":/root/.cache mine python train.py --cache /root/.cache/hf\n',
            ["python", "train.py", "--cache", "/root/.cache/hf"],
            "",
        ),
        (
            "docker run mine python train.py --image /cvlization_repo/examples/other/x.jpg\n",
            None,
            "uses /cvlization_repo/examples/other/x.jpg, which is outside the example folder and the shipped",
        ),
        (
            'docker run -v "$SCRIPT_DIR/../shared":/data mine python train.py --data /data/x.csv\n',
            None,
            "uses /data/x.csv, which is outside the example folder",
        ),
        (
            'docker run mine python train.py --image "$SCRIPT_DIR/../test_images/a.jpg"\n',
            None,
            "test_images/a.jpg, which is outside the example folder",
        ),
    ],
)
def test_mounted_paths_become_code_folder_paths_or_say_why_not(tmp_path, script, command, reason):
    (tmp_path / "cvlization").mkdir()
    (tmp_path / "cvlization" / "__init__.py").write_text("")
    header = 'SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"\nREPO="$(git rev-parse --show-toplevel)"\n'
    derived = _script_example(tmp_path, header + script)[0]
    if command is None:
        assert derived.preset is None and reason in derived.reason
    else:
        assert derived.preset is not None, derived.reason
        assert derived.preset.command == tuple(command)
