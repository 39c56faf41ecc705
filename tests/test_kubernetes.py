"""The generated Kubernetes manifests: every environment's overlay renders, validates
against the Kubernetes schemas and passes checkov's policy scan, with each skipped check
explained in place; and they say what the docs promise (probes, limits, non-root,
read-only root, no token, configuration by reference)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from . import kustomize
from .helpers import answers_of, render

# The oldest Kubernetes release still maintained when this was written: the manifests
# must not need anything newer.
KUBERNETES_VERSION = "1.31.0"
CASES: dict[str, dict[str, str]] = {
    "online": {"serving_mode": "online", "deploy_environments": "dev, qa, staging, production",
               "ct_promotion": "pull_request", "monitoring_schedule": "15 * * * *"},
    "batch": {"serving_mode": "batch", "data_source": "sql", "batch_schedule": "30 4 * * 1-5",
              "tracking": "none"},
    "both": {"serving_mode": "both", "ci_provider": "gitlab", "retrain_schedule": "0 2 * * 0"},
}  # fmt: skip
# Each CronJob: the image it runs and the answer that schedules it. Monitoring and
# retraining share the MLflow server, so they need `tracking: mlflow`; retraining that
# proposes a pull request needs the repository, so it stays a CI workflow.
CRONJOBS = {"predict": ("model", "batch_schedule"), "monitor": ("jobs", "monitoring_schedule"),
            "retrain": ("jobs", "retrain_schedule")}  # fmt: skip


def expected_cronjobs(answers: dict[str, Any]) -> set[str]:
    jobs = {"predict"} if answers["serving_mode"] != "online" else set()
    if answers["tracking"] == "mlflow":
        jobs.add("monitor")
        if answers["ct_promotion"] == "automatic":
            jobs.add("retrain")
    return jobs


SERVICE_KINDS = {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                 "NetworkPolicy"}  # fmt: skip
BATCH_KINDS = {"CronJob", "PersistentVolumeClaim"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each case's project, answers and overlays (environment: resources)."""
    root = tmp_path_factory.mktemp("kubernetes")
    cases = {}
    for name, answers in CASES.items():
        project = render(root / name, **answers)
        overlays = project / "deploy/kubernetes/overlays"
        cases[name] = {
            "project": project,
            "answers": answers_of(project),
            "overlays": {env.name: kustomize.build(env) for env in sorted(overlays.iterdir())},
        }
    return cases


def _pod_specs(resource: dict[str, Any]) -> list[dict[str, Any]]:
    spec = resource["spec"]
    if resource["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return [spec["template"]["spec"]] if "template" in spec else []


def test_one_overlay_per_environment_each_in_its_namespace(
    built: dict[str, dict[str, Any]],
) -> None:
    for name, case in built.items():
        answers = case["answers"]
        environments = [env.strip() for env in answers["deploy_environments"].split(",")]
        assert sorted(case["overlays"]) == sorted(environments), name
        expected = (SERVICE_KINDS if answers["serving_mode"] != "batch" else set()) | (
            BATCH_KINDS if expected_cronjobs(answers) else set()
        )
        for env, resources in case["overlays"].items():
            assert {resource["kind"] for resource in resources} == expected, (name, env)
            cronjobs = {resource["metadata"]["name"].removeprefix(f"{answers['project_slug']}-")
                        for resource in resources if resource["kind"] == "CronJob"}  # fmt: skip
            assert cronjobs == expected_cronjobs(answers), (name, env)
            for resource in resources:
                assert resource["metadata"]["namespace"] == f"{answers['project_slug']}-{env}"
                assert resource["metadata"]["labels"]["app.kubernetes.io/instance"] == (
                    f"{answers['project_slug']}-{env}"
                )


def test_every_overlay_is_valid_kubernetes(built: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for name, case in built.items():
        for env, resources in case["overlays"].items():
            for resource in resources:
                try:
                    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
                except kubernetes_validate.ValidationError as error:
                    raise AssertionError(f"{name}/{env} {resource['kind']}: {error}") from error
                checked += 1
    assert checked >= 3 * len(SERVICE_KINDS)


def test_every_overlay_passes_the_policy_scan_with_skips_explained(
    built: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    for name, case in built.items():
        for env, resources in case["overlays"].items():
            (tmp_path / f"{name}-{env}.yaml").write_text(yaml.safe_dump_all(resources))
    scan = subprocess.run(
        ["checkov", "--directory", str(tmp_path), "--framework", "kubernetes",
         "--output", "json", "--compact", "--skip-download"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    report = json.loads(scan.stdout)
    results = report["results"]
    failed = [(check["check_id"], check["resource"], check["check_name"])
              for check in results["failed_checks"]]  # fmt: skip
    assert not failed, f"checkov failed checks: {failed}"
    # It looked: every resource was read and passed dozens of checks.
    summary = report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= sum(
        len(resources) for case in built.values() for resources in case["overlays"].values()
    )
    assert summary["passed"] > 10 * summary["resource_count"]
    for skipped in results["skipped_checks"]:
        reason = skipped.get("check_result", {}).get("suppress_comment", "")
        assert len(reason) > 20, f"{skipped['check_id']} skipped without a reason"


def test_pods_are_probed_limited_non_root_read_only_and_configured_by_reference(
    built: dict[str, dict[str, Any]],
) -> None:
    for name, case in built.items():
        answers = case["answers"]
        slug = answers["project_slug"]
        resources = next(iter(case["overlays"].values()))
        for resource in resources:
            assert resource["kind"] not in {"Secret", "ConfigMap"}, "configuration is inline"
            for pod in _pod_specs(resource):
                assert pod["automountServiceAccountToken"] is False
                assert pod["securityContext"]["runAsNonRoot"] is True
                for container in pod["containers"]:
                    # deploy.sh pins it: the serving image, or the jobs image.
                    job = resource["metadata"]["name"].removeprefix(f"{slug}-")
                    assert container["image"] == CRONJOBS.get(job, ("model",))[0], job
                    assert container["securityContext"]["readOnlyRootFilesystem"] is True
                    assert container["securityContext"]["allowPrivilegeEscalation"] is False
                    assert {"requests", "limits"} <= set(container["resources"])
                    assert "env" not in container, "values belong in the ConfigMap or Secret"
                    references = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
                    assert references == {f"{slug}-config", f"{slug}-secrets"}
            if resource["kind"] == "Deployment":
                container = _pod_specs(resource)[0]["containers"][0]
                assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
                assert container["livenessProbe"]["httpGet"]["path"] == "/health"
                assert resource["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
            if resource["kind"] == "CronJob":
                job = resource["metadata"]["name"].removeprefix(f"{slug}-")
                schedule = answers[CRONJOBS[job][1]]
                assert resource["spec"]["schedule"] == schedule.strip(), (name, job)
                assert resource["spec"]["concurrencyPolicy"] == "Forbid"


def test_the_renderer_pins_images_and_refuses_what_it_does_not_know(tmp_path: Path) -> None:
    """The stand-in for kustomize does what kustomize does with what deploy.sh writes."""
    base = tmp_path / "base"
    base.mkdir()
    (base / "job.yaml").write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: job}\n"
        "spec: {template: {spec: {containers: [{name: job, image: model}]}}}\n"
    )
    (base / "kustomization.yaml").write_text("resources: [job.yaml]\n")
    pinned = tmp_path / "pinned"
    pinned.mkdir()
    (pinned / "kustomization.yaml").write_text(
        "resources: [../base]\nnamespace: team\nimages:\n"
        "  - {name: model, newName: registry.example/churn, digest: 'sha256:abc'}\n"
    )
    [job] = kustomize.build(pinned)
    assert job["metadata"]["namespace"] == "team"
    assert kustomize.containers(job)[0]["image"] == "registry.example/churn@sha256:abc"
    (pinned / "kustomization.yaml").write_text("resources: [../base]\npatches: []\n")
    with pytest.raises(kustomize.UnsupportedField, match="patches"):
        kustomize.build(pinned)


def test_the_renderer_agrees_with_kubectl_kustomize(built: dict[str, dict[str, Any]]) -> None:
    """Where kubectl is installed, its kustomize builds each overlay exactly as ours does."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed here: tests/kustomize.py renders alone")

    def key(resource: dict[str, Any]) -> tuple[str, str]:
        return resource["kind"], resource["metadata"]["name"]

    for name, case in built.items():
        for env, resources in case["overlays"].items():
            folder = case["project"] / "deploy/kubernetes/overlays" / env
            output = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True,
                                    text=True, check=True).stdout  # fmt: skip
            real = [doc for doc in yaml.safe_load_all(output) if doc]
            assert sorted(real, key=key) == sorted(resources, key=key), (name, env)
