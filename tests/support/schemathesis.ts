import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

/**
 * The `st` that scripts/stack/schemathesis.sh installs into a cached virtual environment. `npm test`
 * installs it first; on a fresh machine a bare `npx jest` installs it here (seconds, once).
 */
export function schemathesisBinary(): string {
  const path = spawnSync('bash', ['scripts/stack/schemathesis.sh', 'path'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).stdout.trim();
  if (existsSync(path)) return path;
  const ensure = spawnSync('bash', ['scripts/stack/schemathesis.sh', 'ensure'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (ensure.status !== 0) throw new Error(`schemathesis.sh ensure failed:\n${ensure.stderr}`);
  return ensure.stdout.trim();
}

/** An account Schemathesis signs in as through POST /v1/auth/login. */
export interface FuzzIdentity {
  name: string;
  email: string;
  password: string;
}

/**
 * A Web Fuzzing Commons auth document: each identity logs in for its own bearer token (and again when
 * it expires), so one run acts as every role.
 */
export function wfcAuth(identities: FuzzIdentity[]) {
  return {
    auth: identities.map(({ name, email, password }) => ({
      name,
      loginEndpointAuth: {
        endpoint: '/v1/auth/login',
        verb: 'POST',
        contentType: 'application/json',
        payloadUserPwd: { username: email, usernameField: 'email', password, passwordField: 'password' },
        token: {
          extractFrom: 'body',
          extractSelector: '/accessToken',
          sendIn: 'header',
          sendName: 'Authorization',
          sendTemplate: 'Bearer {token}',
        },
      },
    })),
  };
}

export interface StRun {
  exitCode: number | null;
  output: string;
  /** "N generated" from the summary: the test cases Schemathesis built. */
  testCases: number;
}

/**
 * `st <args>` as a child process, killed after `timeoutMs`. Never spawnSync: the API under test
 * answers from this same process, so its event loop must keep running while Schemathesis sends
 * requests.
 */
export function runSt(
  binary: string,
  args: string[],
  options: { cwd: string; timeoutMs: number },
): Promise<StRun> {
  const child = spawn(binary, args, {
    cwd: options.cwd,
    timeout: options.timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => {
      const testCases = Number(/(\d+) generated/.exec(output)?.[1] ?? NaN);
      resolve({ exitCode, output, testCases });
    });
  });
}
