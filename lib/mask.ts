/** Hides credentials before anything reaches a log line or an error message. */

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^:/@\s]+):([^@/\s]+)@/gi;

/** `amqp://user:secret@host` -> `amqp://user:***@host`, anywhere in a string. */
export function maskSecrets(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1$2:***@');
}

/** Keys whose values are never logged, at any depth (pino redact paths). */
export const REDACTED_KEYS = [
  'password',
  'passwordHash',
  'token',
  'accessToken',
  'secret',
  'authorization',
  'cookie',
];
