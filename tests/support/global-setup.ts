import { spawnSync } from 'node:child_process';

/** The suite needs the real services; `npm test` starts them, this catches a bare `npx jest`. */
export default function globalSetup(): void {
  if (process.env.ORDERFLOW_STACK === 'external') return;
  if (spawnSync('bash', ['scripts/stack.sh', 'check'], { stdio: 'ignore' }).status === 0) return;
  const up = spawnSync('bash', ['scripts/stack.sh', 'up'], { stdio: 'inherit' });
  if (up.status !== 0) throw new Error('the local stack did not come up; see above');
}
