import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The CRD is a contract of DESIGN.md: names, the status subresource, printer columns, validation. */
describe('WorkerAutoscaler CRD', () => {
  const crd = parse(readFileSync(join(__dirname, '../k8s/crd-workerautoscaler.yaml'), 'utf8'));
  const version = crd.spec.versions[0];
  const spec = version.schema.openAPIV3Schema.properties.spec;

  it('has the fixed names', () => {
    expect(crd.metadata.name).toBe('workerautoscalers.orderflow.io');
    expect(crd.spec.group).toBe('orderflow.io');
    expect(crd.spec.names).toMatchObject({
      kind: 'WorkerAutoscaler',
      plural: 'workerautoscalers',
      shortNames: ['wa'],
    });
    expect(version.name).toBe('v1alpha1');
  });

  it('has the status subresource and the printer columns', () => {
    expect(version.subresources).toEqual({ status: {} });
    expect(version.additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual([
      'Target',
      'Min',
      'Max',
      'Current',
      'Desired',
      'Active',
      'Age',
    ]);
  });

  it('validates what the operator relies on', () => {
    expect(spec['x-kubernetes-validations'][0].rule).toContain('self.minReplicas <= self.maxReplicas');
    expect(spec.properties.triggers.items.properties.type.enum).toEqual(['kafka', 'rabbitmq']);
    const metadata = spec.properties.triggers.items.properties.metadata.properties;
    expect(metadata.lagPerReplica.minimum).toBe(1);
    expect(metadata.messagesPerReplica.minimum).toBe(1);
    expect(metadata.activationLag.minimum).toBe(0);
    expect(spec.properties.pollingIntervalSeconds.default).toBe(5);
  });

  it('declares every field the operator reads and writes (the API server prunes unknown ones)', () => {
    const metadata = spec.properties.triggers.items.properties.metadata.properties;
    expect(Object.keys(metadata).sort()).toEqual(
      [
        'topic',
        'consumerGroup',
        'lagPerReplica',
        'activationLag',
        'queue',
        'messagesPerReplica',
        'activationMessages',
        'publishRatePerReplica',
      ].sort(),
    );
    // Defaults here would leak into the other trigger type's metadata; spec.ts applies them instead.
    expect(Object.values(metadata).filter((p) => Object.hasOwn(p as object, 'default'))).toEqual([]);
    const status = version.schema.openAPIV3Schema.properties.status.properties;
    expect(Object.keys(status.triggers.items.properties).sort()).toEqual(
      ['name', 'type', 'value', 'replicas', 'source', 'error'].sort(),
    );
  });
});
