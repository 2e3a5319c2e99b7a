#!/usr/bin/env bash
# npm test: bring up the real services if needed, type-check and build, then every unit and integration test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${ORDERFLOW_STACK:-}" != external ]; then
  bash scripts/stack.sh check || bash scripts/stack.sh up
fi
echo "== tools: kube-apiserver + etcd (operator tests), helm (chart tests), built once and cached; Prometheus and promtool (metrics tests) from apt; Schemathesis (API fuzzing) from PyPI into a cached venv"
bash scripts/stack/kube.sh ensure >/dev/null
bash scripts/stack/helm.sh ensure >/dev/null
bash scripts/stack/prometheus.sh ensure >/dev/null
bash scripts/stack/schemathesis.sh ensure >/dev/null
echo "== type-check and build"
npx tsc --noEmit -p tsconfig.json
npx tsc -p tsconfig.build.json
echo "== unit and integration tests"
npx jest --ci --selectProjects main "$@"
echo "== pipeline tests (real processes, faults injected, one file at a time)"
npx jest --ci --selectProjects pipeline --runInBand "$@"
echo "== operator tests (a real kube-apiserver and etcd per file, one file at a time)"
npx jest --ci --selectProjects operator --runInBand "$@"
echo "== web console: type-check, unit tests (Vitest), build, then the browser tests (headless Chromium against a real orderflow up)"
npx tsc --noEmit -p console/tsconfig.json
npx vitest run --config console/vite.config.ts
npm run --silent build:console
bash scripts/stack/chromium.sh ensure >/dev/null
npx jest --ci --selectProjects console --runInBand "$@"
if [ "${ORDERFLOW_CLUSTER_TESTS:-1}" = 0 ]; then
  echo "== cluster tests NOT run (ORDERFLOW_CLUSTER_TESTS=0): kind, the image, skaffold, helm, chaos and Prometheus untested"
  exit 0
fi
echo "== cluster tests (a kind cluster, the image, skaffold + helm, the operator, pod-deletion chaos)"
# The cluster is created for the suite and deleted after it, also when a test fails; the local
# stack's services keep running for the next command. One left by an interrupted run (Docker's engine
# restarts its node container) is deleted first: the suite starts from a fresh cluster.
trap 'bash scripts/cluster.sh down' EXIT
bash scripts/cluster/tools.sh ensure-skaffold >/dev/null
CLUSTER_FRESH=1 bash scripts/cluster.sh up
npx jest --ci --selectProjects cluster --runInBand "$@"
