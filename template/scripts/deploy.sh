#!/usr/bin/env bash
# Deploy the image to one environment. This is the one step groundwork cannot know:
# your platform (Kubernetes, Cloud Run, ECS, a VM, ...). Until you replace the body of
# deploy() it fails, on purpose, so that a release never "succeeds" without deploying.
#
#   scripts/deploy.sh <environment> <image:tag>
set -euo pipefail

environment="${1:?usage: scripts/deploy.sh <environment> <image:tag>}"
image="${2:?usage: scripts/deploy.sh <environment> <image:tag>}"

deploy() {
  cat >&2 <<MESSAGE
deploy: not configured. Nothing was deployed to '${environment}'.

Edit scripts/deploy.sh and replace the body of deploy() with your platform's command,
for example:
  kubectl set image deployment/model model="${image}" --namespace "${environment}"
  gcloud run deploy model --image "${image}" --region europe-west1
Authenticate with short-lived OIDC credentials from the CI job (id-token: write), not
with stored keys. See README.md, "Delivery".
MESSAGE
  return 3
}

deploy
