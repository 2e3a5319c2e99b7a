import { spawnSync } from 'node:child_process';

/** The cluster tests need the kind cluster `npm test` creates; this catches a bare `npx jest --selectProjects cluster`. */
export default async function clusterSetup(): Promise<void> {
  const up = spawnSync('bash', ['scripts/cluster.sh', 'up'], { stdio: 'inherit' });
  if (up.status !== 0) throw new Error('the kind cluster did not come up; see above');
}
