"""What surrounds each derived command in the job: mounts, PYTHONPATH, instance, time limit, and the flags
that say where the job cannot do what the script's `docker run` did (fixture examples in each shape)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines import catalog, upsert
from pipelines.catalog.docker_run import docker_run_at
from pipelines.catalog.image_facts import training_instance_types
from tests.harness.network import no_network

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cvl_repo" / "examples"


def offer(example: str, preset: str) -> catalog.Offer:
    return catalog.offers_of(catalog.discover(FIXTURES)[example]).offered[preset]


def test_a_vendored_tree_on_pythonpath_is_kept_as_paths_of_the_code_folder():
    predict = offer("clipgen", "predict")
    # -e PYTHONPATH=/cvlization_repo:/workspace/local:/workspace/local/vendor, the example at /workspace/local
    assert predict.preset.environment["PYTHONPATH"] == ".:vendor"
    assert predict.preset.mounts == {"/cvlization_repo": ".", "/workspace/local": "."}
    assert predict.flags == ()  # the host's Hugging Face cache mount is left out: the job downloads
    assert predict.preset.max_run_minutes == 120  # not a training preset


def test_the_mount_point_the_code_writes_to_exists_in_the_job_and_flash_attn_needs_ampere():
    train = offer("masklora", "train")
    assert train.preset.mounts == {"/cvlization_repo": ".", "/workspace": "."}
    assert "/mnt/cvl/workspace" not in train.preset.mounts  # CVL's I/O folder: the job's CVL_OUTPUTS
    assert train.preset.command == ("python3", "train_lora.py", "--epochs", "2")
    # 16 GB would be a T4 (g4dn), which flash-attn (in requirements.txt) does not support.
    assert train.preset.instance_type == "ml.g6.xlarge"
    assert train.preset.max_run_minutes == 24 * 60  # a training preset gets a day
    assert train.preset.distribution == "none"  # one process, as docker run ran it


def test_vram_gb_is_the_total_of_the_gpus_the_example_declares():
    # {count: 2, vram_gb: 96}: two 48 GB GPUs; the cheapest instance with two or more is 4 x L40S.
    assert offer("twincam", "predict").preset.instance_type == "ml.g6e.12xlarge"


def test_every_chosen_instance_is_one_sagemaker_training_accepts():
    accepted = training_instance_types()
    for _, _, preset in catalog.all_pairs(FIXTURES).pairs:
        assert preset.instance_type in accepted


def test_stdbuf_before_docker_run_and_a_guard_on_the_hosts_cache_do_not_hide_the_run():
    train = offer("speedrun", "train")
    assert train.preset.command == ("torchrun", "--standalone", "--nproc_per_node=1", "train_gpt.py")
    assert train.preset.environment == {"NUM_ITERATIONS": "500"}


@pytest.mark.parametrize(
    ("line", "at"),
    [
        ("stdbuf -o0 -e0 docker run img", 5),
        ("stdbuf -o 0 docker run img", 5),
        ("env A=1 B=2 docker run img", 5),
        ("timeout 2h docker run img", 4),
        ("nice -n 5 sudo docker run img", 6),
        ("stdbuf -o0 python train.py", None),
    ],
)
def test_programs_that_run_a_command_after_their_options_are_seen_through(line, at):
    assert docker_run_at(tuple(line.split())) == at


def test_a_mount_from_beside_the_example_is_flagged_and_strict_refuses_it(capsys):
    predict = offer("captioner", "predict")
    assert [str(flag) for flag in predict.flags] == [
        "mount outside the example: mounts ../shared_images at /workspace/test_images: "
        "the job has only the example folder"
    ]
    args = ["--example", "captioner", "--preset", "predict", "--dry-run", "--strict"]
    with no_network():
        code = upsert.main([*args, "--examples-root", str(FIXTURES)])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err.count("\n") == 1 and "captioner predict is flagged (--strict): mount outside the example" in err
    )


def test_an_image_without_python3_is_refused_and_a_missing_train_py_flagged():
    offers = catalog.offers_of(catalog.discover(FIXTURES)["nodeagent"])
    assert offers.offered == {}  # the entry point could not start: refused at upsert, with the reason
    assert offers.not_offered == [
        catalog.NotOffered(
            "run",
            "its image (node:22-bookworm-slim) has no python3, which the training entry point runs with: "
            "install python3 in the Dockerfile (e.g. apt-get install -y python3)",
        )
    ]
    assert [str(flag) for flag in offer("noscript", "train").flags] == [
        "missing file: runs train.py, which is not in the example folder"
    ]


def test_a_preset_that_would_carry_this_machines_path_is_not_offered():
    offers = catalog.offers_of(catalog.discover(FIXTURES)["captioner"])
    reason = {item.name: item.reason for item in offers.not_offered}["leaky"]
    assert "the job would receive this machine's path" in reason


@pytest.mark.slow  # compiles pipelines
def test_strict_all_skips_flagged_presets_with_their_flags(tmp_path, capsys):
    out = tmp_path / "defs"
    with no_network():
        code = upsert.main(
            [
                "--all",
                "--strict",
                "--preset",
                "predict",
                "--dry-run",
                "--examples-root",
                str(FIXTURES),
                "--out",
                str(out),
            ]
        )
    err = capsys.readouterr().err
    assert code == 1
    assert "perception/captioning/captioner predict: skipped: captioner predict is flagged (--strict)" in err
    written = {path.name for path in out.iterdir()}
    assert "cvl-clipgen-predict.json" in written and "cvl-captioner-predict.json" not in written


def _example(root: Path, folder: str, yaml: str) -> None:
    path = root / folder
    path.mkdir(parents=True)
    (path / "example.yaml").write_text(yaml)
    (path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (path / "train.py").write_text("print('hi')\n")


@pytest.mark.slow
def test_two_folders_claiming_one_name_create_neither_and_both_are_named(tmp_path, capsys):
    _example(tmp_path, "a/one", "name: same\n")
    _example(tmp_path, "b/two", "name: same\n")
    _example(tmp_path, "c/other", "name: other\n")
    out = tmp_path / "defs"
    with no_network():
        code = upsert.main(["--all", "--dry-run", "--examples-root", str(tmp_path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert sorted(path.name for path in out.glob("cvl-*.json")) == ["cvl-other-train.json"]
    assert "a/one: skipped:" in err and "b/two: skipped:" in err
    assert "claimed by 2 folders (a/one, b/two); neither is used" in err


def test_all_where_every_example_is_unreadable_exits_2_with_the_reasons(tmp_path, capsys):
    _example(tmp_path, "a/one", "name: [not, a, name]\n")
    _example(tmp_path, "b/two", "name: two\nsagemaker: {train: {instance: ml.g5.xlarge}}\n")
    with no_network() as attempted:
        code = upsert.main(
            ["--all", "--dry-run", "--examples-root", str(tmp_path), "--out", str(tmp_path / "o")]
        )
    err = capsys.readouterr().err
    assert (code, attempted) == (2, [])
    assert err.count("\n") == 1 and err.startswith("error: --all: nothing to upsert")
    assert "a/one" in err and "b/two" in err and not (tmp_path / "o").exists()


def test_time_limits_come_from_the_preset_kind_and_example_yaml_overrides_them(tmp_path):
    _example(
        tmp_path,
        "mine",
        "name: mine\nresources: {gpu: 1, vram_gb: 16}\nsagemaker:\n  train: {spot: true}\n",
    )
    preset = catalog.resolve(tmp_path, "mine", "train")[1]
    # train: a day; spot: waits up to twice that for capacity
    assert (preset.max_run_minutes, preset.spot, preset.max_wait_minutes) == (1440, True, 2880)
    (tmp_path / "mine" / "example.yaml").write_text(
        "name: mine\nsagemaker:\n  train: {spot: true, max_wait_minutes: 300}\n"
    )
    preset = catalog.resolve(tmp_path, "mine", "train")[1]
    assert (preset.max_run_minutes, preset.max_wait_minutes) == (300, 300)  # the run fits the wait


def test_the_examples_command_shows_each_presets_flags_and_counts_them(capsys):
    from pipelines import examples

    examples.main(["--examples-root", str(FIXTURES), "--json"])
    document = json.loads(capsys.readouterr().out)
    by_name = {entry["name"]: entry for entry in document["examples"]}
    train = by_name["noscript"]["presets"][0]
    assert train["flags"] == [
        {"kind": "missing file", "detail": "runs train.py, which is not in the example folder"}
    ]
    counts = document["counts"]
    assert counts["parity_clean"] + counts["flagged"] == counts["offered"]
    assert counts["flagged_by_reason"] == {"mount outside the example": 1, "missing file": 1}


def test_the_scripts_shm_size_travels_with_the_preset():
    assert offer("tinygpt-char", "train").preset.shm_size_gb == 16  # --shm-size 16G
    assert offer("clipgen", "predict").preset.shm_size_gb == 8  # --shm-size 8g
    assert offer("masklora", "train").preset.shm_size_gb is None
