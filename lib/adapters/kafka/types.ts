/**
 * The only Kafka surface the rest of Orderflow sees. kafkajs is unmaintained, so it stays behind this
 * interface (kafkajs.ts) and could be swapped without touching a caller.
 */

export interface OutgoingRecord {
  key: string;
  value: string | Buffer;
  headers?: Record<string, string>;
}

export interface IncomingRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: number;
}

export interface EventProducer {
  /** Resolves once every record is acknowledged by all in-sync replicas (idempotent producer). */
  send(topic: string, records: OutgoingRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

interface ConsumerSettings {
  groupId: string;
  topics: string[];
  /** Where a group without committed offsets starts (default: earliest). */
  fromBeginning?: boolean;
  /** Partitions handled concurrently by this instance (default 1). */
  partitionsConcurrently?: number;
}

/**
 * Either one record at a time or consecutive records of one partition together (up to
 * `maxBatch`, default 500, of what the broker returned). Offsets are committed only after the
 * handler resolves, so a crash before that delivers the records again (at-least-once); a rejection
 * stops the partition's batch and the records are read again.
 */
export type ConsumerOptions = ConsumerSettings &
  (
    | { handle(record: IncomingRecord): Promise<void> }
    | { handleBatch(records: IncomingRecord[]): Promise<void>; maxBatch?: number }
  );

export interface EventConsumer {
  /** Joins the group and starts consuming; resolves once the consumer is running. */
  start(): Promise<void>;
  /** Leaves the group after the in-flight record is handled and committed. */
  stop(): Promise<void>;
}

export interface PartitionOffset {
  partition: number;
  offset: bigint;
}

export interface EventAdmin {
  /** Creates the topic with that partition count if missing; returns true when it was created. */
  ensureTopic(topic: string, partitions: number): Promise<boolean>;
  /** Log-end offset (high watermark) of each partition. */
  logEndOffsets(topic: string): Promise<PartitionOffset[]>;
  /** Earliest retained offset of each partition. */
  logStartOffsets(topic: string): Promise<PartitionOffset[]>;
  /** The group's committed offset per partition; -1 where it has committed nothing. */
  committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]>;
  deleteTopic(topic: string): Promise<void>;
  disconnect(): Promise<void>;
}

export interface EventLog {
  producer(): Promise<EventProducer>;
  consumer(options: ConsumerOptions): EventConsumer;
  admin(): Promise<EventAdmin>;
}
