#!/usr/bin/env bash
# Deploy the image to one environment.
#
#   scripts/deploy.sh <environment> <image:tag>
#
# DEPLOY_TARGET=kubernetes applies deploy/kubernetes/overlays/<environment> with the
# image pinned by digest (IMAGE_DIGEST, or the digest the local engine recorded when it
# pushed; likewise JOBS_IMAGE_DIGEST for the jobs image, where CronJobs run it), waits
# for the rollout, runs the smoke test against SERVICE_URL when it is set (`make smoke`,
# which also checks EXPECTED_MODEL_VERSION), and rolls the Deployment back when either
# fails. kubectl must already point at the cluster (KUBECONFIG or the CI job's cloud
# login). For another platform, write deploy_elsewhere(); until then any other
# DEPLOY_TARGET fails, on purpose, so that a release never "succeeds" without
# deploying.
#
# Exit statuses: 2 something is missing (kubectl, the overlay, the digest), 3 not
# configured, 7 the rollout or the smoke test failed (and was rolled back).
set -euo pipefail

environment="${1:?usage: scripts/deploy.sh <environment> <image:tag>}"
image="${2:?usage: scripts/deploy.sh <environment> <image:tag>}"
overlay="deploy/kubernetes/overlays/${environment}"
rollout_timeout="${ROLLOUT_TIMEOUT:-300s}"

fail() {
  echo "deploy: $1" >&2
  exit "${2:-2}"
}

# The digest of <image:tag>: $2 when set, else the one the local engine recorded when it
# pushed the image (as <repository>@sha256:...).
image_digest() {
  local reference="$1" given="${2:-}" engine="${CONTAINER:-docker}"
  if [ -n "$given" ]; then
    printf '%s' "$given"
    return
  fi
  command -v "$engine" >/dev/null || return 0
  "$engine" image inspect "$reference" 2>/dev/null \
    | grep -o "\"${reference%:*}@sha256:[0-9a-f]*\"" | head -n 1 | tr -d '"' | sed 's/.*@//' || true
}

deploy_kubernetes() {
  command -v kubectl >/dev/null || fail "kubectl is not installed: install it and point it at the cluster (README.md, 'Kubernetes')"
  [ -d "$overlay" ] || fail "no overlay for '${environment}' in deploy/kubernetes/overlays: copy one and set its namespace"
  local digest jobs_image jobs_digest="" namespace applied rollouts name
  digest="$(image_digest "$image" "${IMAGE_DIGEST:-}")"
  [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] \
    || fail "no digest for ${image}: set IMAGE_DIGEST (sha256:...) to the pushed image's digest; a tag can move, a digest cannot"
  # The scheduled monitoring and retraining jobs run the jobs image (make jobs-image).
  jobs_image="${image%:*}:jobs-${image##*:}"
  if grep -qs '^ *image: jobs$' deploy/kubernetes/base/*.yaml; then
    jobs_digest="$(image_digest "$jobs_image" "${JOBS_IMAGE_DIGEST:-}")"
    [[ "$jobs_digest" =~ ^sha256:[0-9a-f]{64}$ ]] \
      || fail "no digest for ${jobs_image}: set JOBS_IMAGE_DIGEST (sha256:...) to the pushed jobs image's digest (make jobs-image, make image-push)"
  fi
  namespace="$(sed -n 's/^namespace: *//p' "$overlay/kustomization.yaml")"
  [ -n "$namespace" ] || fail "$overlay/kustomization.yaml sets no namespace"

  # The environment's overlay with the image pinned, in a folder of its own beside it.
  pinned="$(mktemp -d "deploy/kubernetes/.pinned-${environment}-XXXXXX")"
  trap 'rm -rf "$pinned"' EXIT
  cat >"$pinned/kustomization.yaml" <<KUSTOMIZATION
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../overlays/${environment}
images:
  - name: model
    newName: ${image%:*}
    digest: ${digest}
KUSTOMIZATION
  if [ -n "$jobs_digest" ]; then
    cat >>"$pinned/kustomization.yaml" <<KUSTOMIZATION
  - name: jobs
    newName: ${image%:*}
    digest: ${jobs_digest}
KUSTOMIZATION
  fi

  echo "deploy: applying ${overlay} to namespace ${namespace}, image ${image%:*}@${digest}${jobs_digest:+, jobs image @${jobs_digest}}"
  applied="$(kubectl apply -k "$pinned" --output name)"
  echo "$applied"
  # Deployments roll out and can roll back; a CronJob's next run uses the new image.
  rollouts="$(grep '^deployment' <<<"$applied" || true)"
  for name in $rollouts; do
    if ! kubectl rollout status "$name" --namespace "$namespace" --timeout "$rollout_timeout"; then
      kubectl rollout undo "$name" --namespace "$namespace"
      fail "${name} did not become ready within ${rollout_timeout}: rolled back to the previous version" 7
    fi
  done
  if [ -n "$rollouts" ] && [ -n "${SERVICE_URL:-}" ]; then
    if ! make smoke; then
      for name in $rollouts; do
        kubectl rollout undo "$name" --namespace "$namespace"
      done
      fail "the smoke test failed against ${SERVICE_URL}: rolled back to the previous version" 7
    fi
  fi
  echo "deploy: ${environment} runs ${image%:*}@${digest}"
}

deploy_elsewhere() {
  cat >&2 <<MESSAGE
deploy: not configured. Nothing was deployed to '${environment}'.

Set DEPLOY_TARGET=kubernetes (the manifests in deploy/kubernetes), or edit
scripts/deploy.sh and replace the body of deploy_elsewhere() with your platform's
command, for example:
  gcloud run deploy model --image "${image}" --region europe-west1
Authenticate with short-lived OIDC credentials from the CI job (id-token: write), not
with stored keys. See README.md, "Delivery".
MESSAGE
  return 3
}

case "${DEPLOY_TARGET:-}" in
  kubernetes) deploy_kubernetes ;;
  *) deploy_elsewhere ;;
esac
