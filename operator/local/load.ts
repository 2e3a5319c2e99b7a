import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { workerAutoscaler, type WorkerAutoscaler } from '../spec';

export class AutoscalerFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'AutoscalerFileError';
  }
}

/**
 * Every WorkerAutoscaler in a folder's *.yaml / *.yml files (or in one file), validated by the same
 * rules the CRD schema enforces. Documents of other kinds are ignored, so a folder of mixed manifests
 * works; an invalid WorkerAutoscaler stops the load with the file and the field named.
 */
export function loadAutoscalers(path: string): WorkerAutoscaler[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => ['.yaml', '.yml'].includes(extname(f)))
        .sort()
        .map((f) => join(path, f))
    : [path];
  const found = files.flatMap(parseFile);
  const names = new Set<string>();
  for (const { metadata } of found) {
    const key = `${metadata.namespace ?? 'default'}/${metadata.name}`;
    if (names.has(key)) throw new AutoscalerFileError(path, `WorkerAutoscaler ${key} is defined twice`);
    names.add(key);
  }
  return found;
}

function parseFile(file: string): WorkerAutoscaler[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return docs.flatMap((doc, index) => {
    if (doc.errors.length > 0) throw new AutoscalerFileError(file, doc.errors[0]!.message);
    const value = doc.toJS() as { kind?: unknown } | null;
    if (!value || value.kind !== 'WorkerAutoscaler') return [];
    const parsed = workerAutoscaler.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = issue.path.join('.') || '(document)';
      throw new AutoscalerFileError(file, `document ${index + 1}: ${where}: ${issue.message}`);
    }
    return [parsed.data];
  });
}
