"""The part of kustomize the generated manifests use, to render their overlays here.

No kustomize or kubectl binary is on the package index, so the tests build overlays
with this: `resources` (files and kustomization folders), `namespace`, `labels` and
`images`, with kustomize's meaning. Any other field is refused rather than ignored, so a
manifest that starts using one fails here until this learns it (or a real kustomize
replaces it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

KNOWN_FIELDS = {"apiVersion", "kind", "resources", "namespace", "labels", "images"}


class UnsupportedField(ValueError):
    """The kustomization uses a field this renderer does not implement."""


def build(folder: Path) -> list[dict[str, Any]]:
    """The resources of the kustomization in `folder`, as `kustomize build` gives them."""
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(spec) - KNOWN_FIELDS
    if unknown:
        raise UnsupportedField(f"{folder}/kustomization.yaml: {sorted(unknown)}")
    resources: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        path = (folder / entry).resolve()
        if path.is_dir():
            resources += build(path)
        else:
            resources += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for resource in resources:
        metadata = resource.setdefault("metadata", {})
        if "namespace" in spec:
            metadata["namespace"] = spec["namespace"]
        for label_set in spec.get("labels", []):
            if label_set.get("includeSelectors") or label_set.get("includeTemplates"):
                raise UnsupportedField(f"{folder}: labels into selectors or templates")
            metadata.setdefault("labels", {}).update(label_set["pairs"])
        for image in spec.get("images", []):
            for container in containers(resource):
                _set_image(container, image)
    return resources


def containers(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers of a Deployment, Job or CronJob (none for other kinds)."""
    spec = resource.get("spec", {})
    if resource["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod = spec.get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def _set_image(container: dict[str, Any], image: dict[str, str]) -> None:
    name, _, tag = container["image"].partition(":")
    if name != image["name"]:
        return
    new_name = image.get("newName", name)
    if "digest" in image:
        container["image"] = f"{new_name}@{image['digest']}"
    else:
        container["image"] = (
            f"{new_name}:{image.get('newTag', tag)}" if tag or "newTag" in image else new_name
        )
