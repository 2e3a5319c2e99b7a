#!/usr/bin/env bash
# npm test: bring up the real services if needed, type-check and build, then every unit and integration test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${ORDERFLOW_STACK:-}" != external ]; then
  bash scripts/stack.sh check || bash scripts/stack.sh up
fi
echo "== tools: kube-apiserver + etcd (operator tests), helm (chart tests), built once and cached"
bash scripts/stack/kube.sh ensure >/dev/null
bash scripts/stack/helm.sh ensure >/dev/null
echo "== type-check and build"
npx tsc --noEmit -p tsconfig.json
npx tsc -p tsconfig.build.json
echo "== unit and integration tests"
npx jest --ci --selectProjects main "$@"
echo "== pipeline tests (real processes, faults injected, one file at a time)"
npx jest --ci --selectProjects pipeline --runInBand "$@"
echo "== operator tests (a real kube-apiserver and etcd per file, one file at a time)"
npx jest --ci --selectProjects operator --runInBand "$@"
