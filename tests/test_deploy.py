"""scripts/deploy.sh's Kubernetes path: the environment's overlay applied with the image
pinned by digest, the rollout awaited, the smoke test run, and a rollback when either
fails; clear refusals when something is missing.

No Kubernetes cluster can run on this machine (no kind, k3s or API server from the
package indexes), so `kubectl` is a stand-in that records its calls, renders what
`apply -k` is given with tests/kustomize.py, and answers `rollout status` as the test
says. Everything else is real: the rendered project, its Makefile and its smoke test.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from . import kustomize
from .helpers import ROOT, free_port, render, run
from .test_container import container_engine

DIGEST = "sha256:" + "ab" * 32
JOBS_DIGEST = "sha256:" + "cd" * 32  # the jobs image's: monitoring and retraining CronJobs
IMAGE = "registry.example/team/customer-churn:abc123"

KUBECTL = f"""#!{sys.executable}
import json, os, sys
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from tests import kustomize

state = Path(os.environ["KUBE_STATE"])
args = sys.argv[1:]
with (state / "calls").open("a") as calls:
    calls.write(" ".join(args) + "\\n")
if args[:2] == ["apply", "-k"]:
    resources = kustomize.build(Path(args[2]))
    (state / "applied.json").write_text(json.dumps(resources))
    for resource in resources:
        group = {{"Deployment": "deployment.apps", "CronJob": "cronjob.batch"}}.get(
            resource["kind"], resource["kind"].lower())
        print(f"{{group}}/{{resource['metadata']['name']}}")
elif args[:2] == ["rollout", "status"]:
    sys.exit(int(os.environ.get("ROLLOUT_STATUS", "0")))
"""


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("deploy")
    return {mode: render(root / mode, serving_mode=mode) for mode in ("online", "batch")}


def _deploy(project: Path, tmp_path: Path, **env: str) -> tuple[Any, list[str], list[Any]]:
    """Run `make deploy` with the stand-in kubectl; (result, kubectl calls, applied)."""
    state = tmp_path / "kube"
    state.mkdir(exist_ok=True)
    for stale in ("calls", "applied.json"):
        (state / stale).unlink(missing_ok=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "kubectl").write_text(KUBECTL)
    (bin_dir / "kubectl").chmod(0o755)
    make_vars = {"IMAGE": "registry.example/team/customer-churn", "TAG": "abc123",
                 "CONTAINER": "no-container-engine"}  # fmt: skip
    make_vars |= {name: env.pop(name) for name in list(env) if name in make_vars}
    result = run(
        ["make", "deploy", "ENVIRONMENT=staging", *(f"{k}={v}" for k, v in make_vars.items())],
        project, check=False,
        env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "KUBE_STATE": str(state),
             "DEPLOY_TARGET": "kubernetes", **env},
    )  # fmt: skip
    calls = (state / "calls").read_text().splitlines() if (state / "calls").exists() else []
    applied = json.loads((state / "applied.json").read_text()) if calls else []
    return result, calls, applied


def test_unconfigured_or_without_a_digest_nothing_is_applied(
    projects: dict[str, Path], tmp_path: Path
) -> None:
    project = projects["online"]
    unset = run(["scripts/deploy.sh", "staging", IMAGE], project, check=False)
    assert unset.returncode == 3 and "deploy: not configured" in unset.stderr
    assert "DEPLOY_TARGET=kubernetes" in unset.stderr

    result, calls, _ = _deploy(project, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "no digest for registry.example/team/customer-churn:abc123" in result.stderr
    assert "set IMAGE_DIGEST" in result.stderr
    assert calls == []

    result, calls, _ = _deploy(project, tmp_path, IMAGE_DIGEST="latest")
    assert result.returncode == 2 and calls == []

    # The monitoring and retraining CronJobs run the jobs image: it is pinned too.
    result, calls, _ = _deploy(project, tmp_path, IMAGE_DIGEST=DIGEST)
    assert result.returncode == 2 and calls == [], result.stderr
    assert "no digest for registry.example/team/customer-churn:jobs-abc123" in result.stderr
    assert "set JOBS_IMAGE_DIGEST" in result.stderr

    stand_in = {"DEPLOY_TARGET": "kubernetes", "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    missing = run(["make", "deploy", "ENVIRONMENT=nowhere", f"IMAGE_DIGEST={DIGEST}"],
                  project, check=False, env=stand_in)  # fmt: skip
    assert missing.returncode != 0 and "no overlay for 'nowhere'" in missing.stderr


def test_the_overlay_is_applied_pinned_by_digest_and_the_rollout_awaited(
    projects: dict[str, Path], tmp_path: Path
) -> None:
    project = projects["online"]
    result, calls, applied = _deploy(
        project, tmp_path, IMAGE_DIGEST=DIGEST, JOBS_IMAGE_DIGEST=JOBS_DIGEST
    )
    assert result.returncode == 0, result.stderr
    namespace = "customer-churn-staging"
    assert calls[0].startswith("apply -k ")
    assert calls[1:] == [
        f"rollout status deployment.apps/customer-churn --namespace {namespace} --timeout 300s"
    ]
    images = {
        resource["metadata"]["name"]: container["image"]
        for resource in applied
        for container in kustomize.containers(resource)
    }
    repository = "registry.example/team/customer-churn"
    assert images == {
        "customer-churn": f"{repository}@{DIGEST}",
        "customer-churn-monitor": f"{repository}@{JOBS_DIGEST}",
        "customer-churn-retrain": f"{repository}@{JOBS_DIGEST}",
    }
    assert {resource["metadata"]["namespace"] for resource in applied} == {namespace}
    assert f"staging runs registry.example/team/customer-churn@{DIGEST}" in result.stdout
    # The scratch overlay that pinned the image is gone.
    assert not list((project / "deploy/kubernetes").glob(".pinned-*"))


def test_a_rollout_that_never_gets_ready_is_rolled_back(
    projects: dict[str, Path], tmp_path: Path
) -> None:
    project = projects["online"]
    result, calls, _ = _deploy(
        project, tmp_path, IMAGE_DIGEST=DIGEST, JOBS_IMAGE_DIGEST=JOBS_DIGEST, ROLLOUT_STATUS="1"
    )
    assert result.returncode == 2 and "Error 7" in result.stderr
    assert "did not become ready within 300s: rolled back" in result.stderr
    assert calls[-1] == (
        "rollout undo deployment.apps/customer-churn --namespace customer-churn-staging"
    )
    assert not list((project / "deploy/kubernetes").glob(".pinned-*"))


@pytest.mark.slow
def test_a_failed_smoke_test_after_the_rollout_is_rolled_back(
    projects: dict[str, Path], tmp_path: Path
) -> None:
    """The real smoke test (`make smoke`), against a URL where nothing answers."""
    project = projects["online"]
    url = f"http://127.0.0.1:{free_port()}"
    result, calls, _ = _deploy(
        project,
        tmp_path,
        IMAGE_DIGEST=DIGEST,
        JOBS_IMAGE_DIGEST=JOBS_DIGEST,
        SERVICE_URL=url,
        SMOKE_WAIT_SECONDS="2",
    )
    assert result.returncode == 2 and "Error 7" in result.stderr, result.stderr[-3000:]
    assert f"the smoke test failed against {url}: rolled back" in result.stderr
    assert calls[-1].startswith("rollout undo deployment.apps/customer-churn")


def test_a_batch_project_applies_its_cronjobs_without_a_rollout(
    projects: dict[str, Path], tmp_path: Path
) -> None:
    result, calls, applied = _deploy(
        projects["batch"], tmp_path, IMAGE_DIGEST=DIGEST, JOBS_IMAGE_DIGEST=JOBS_DIGEST
    )
    assert result.returncode == 0, result.stderr
    assert [call.split()[0] for call in calls] == ["apply"]
    digests = {
        resource["metadata"]["name"]: kustomize.containers(resource)[0]["image"].split("@")[1]
        for resource in applied
        if resource["kind"] == "CronJob"
    }
    assert digests == {"customer-churn-predict": DIGEST, "customer-churn-monitor": JOBS_DIGEST,
                       "customer-churn-retrain": JOBS_DIGEST}  # fmt: skip


def test_without_image_digest_the_digest_the_engine_recorded_is_pinned(
    projects: dict[str, Path], tmp_path: Path
) -> None:
    """After a push the engine knows the images' registry digests; the base image,
    pulled from a registry, stands for both pushed ones (tagged as the jobs image too)."""
    engine = container_engine()
    base = "docker.io/library/python"
    recorded = run([engine, "image", "inspect", f"{base}:3.11-slim"], tmp_path).stdout
    digest = json.loads(recorded)[0]["RepoDigests"][0].split("@")[1]
    run([engine, "tag", f"{base}:3.11-slim", f"{base}:jobs-3.11-slim"], tmp_path)
    try:
        result, _, applied = _deploy(
            projects["batch"], tmp_path, IMAGE=base, TAG="3.11-slim", CONTAINER=engine
        )
    finally:
        run([engine, "rmi", f"{base}:jobs-3.11-slim"], tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    images = {c["image"] for resource in applied for c in kustomize.containers(resource)}
    assert images == {f"{base}@{digest}"}
