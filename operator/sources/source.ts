/** Every metric an autoscaler trigger reads implements this: one number, or a thrown error. */
export interface MetricSource {
  /** For logs, metrics and status, e.g. `kafka:orderflow.order-events/orderflow-dispatcher`. */
  readonly name: string;
  measure(): Promise<number>;
  /** Kafka: the partition count (more consumers than partitions would idle), as of the last measure(). */
  cap?(): Promise<number>;
  /** Where the last measure() read its value, when a source has more than one way (shown in status). */
  origin?(): string;
}
