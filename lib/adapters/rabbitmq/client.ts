import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import type { Logger } from '../../telemetry/logger';
import { maskSecrets } from '../../mask';
import { backoffDelay, sleep } from '../../backoff';
import { declareTopology, type Topology } from './topology';

/** What a consumer decides for one delivery. */
export type Disposition =
  | { action: 'ack' }
  /** Copy to the dead-letter exchange with the reason, then ack (the message is never dropped). */
  | { action: 'dead-letter'; reason: string }
  /** Give it back to the queue for another try (counts towards a quorum queue's delivery limit). */
  | { action: 'requeue' };

export interface Delivery {
  body: Buffer;
  messageId: string | undefined;
  headers: Record<string, unknown>;
  routingKey: string;
  exchange: string;
  redelivered: boolean;
}

export type DeliveryHandler = (delivery: Delivery) => Promise<Disposition>;

export interface PublishOptions {
  messageId?: string;
  headers?: Record<string, unknown>;
  /** Milliseconds a publish waits for a connection and the broker's confirm (default 30 s). */
  timeoutMs?: number;
}

export class UnroutableError extends Error {
  constructor(exchange: string, routingKey: string) {
    super(`message to exchange "${exchange}" with routing key "${routingKey}" was not routed to any queue`);
    this.name = 'UnroutableError';
  }
}

export interface RabbitClientOptions {
  url: string;
  topology: Topology;
  logger: Logger;
  connectionName: string;
  /** Where dead-lettered copies go: exchange and routing key. */
  deadLetter: { exchange: string; routingKey: string };
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
}

/** Decides for several deliveries at once: one disposition per delivery, in the same order. */
export type BatchHandler = (deliveries: Delivery[]) => Promise<Disposition[]>;

interface Received {
  message: ConsumeMessage;
  channel: Channel;
  receivedAt: number;
  /** Milliseconds since the delivery before it: short in a stream, long after a quiet spell. */
  gapMs: number;
}

interface ConsumerRegistration {
  queue: string;
  prefetch: number;
  maxBatch: number;
  lingerMs: number;
  handler: BatchHandler;
  channel?: Channel;
  consumerTag?: string;
  /** Delivered, not yet handed to the handler. */
  pending: Received[];
  pumpScheduled: boolean;
  lastReceivedAt: number;
  batchesRunning: number;
  /** Deliveries in the batches running now. */
  running: number;
  inFlight: Set<Promise<void>>;
  cancelled: boolean;
}

export const DEAD_LETTER_REASON_HEADER = 'x-orderflow-dead-letter-reason';
export const DEAD_LETTER_SOURCE_HEADER = 'x-orderflow-source';

/**
 * One AMQP connection with a confirm channel for publishing and a channel per consumer. When the
 * connection drops it reconnects with backoff, declares the topology again and resumes every consumer;
 * publishes made meanwhile wait for the new connection (up to their timeout).
 */
export class RabbitClient {
  private model: ChannelModel | undefined;
  private publishChannel: ConfirmChannel | undefined;
  private readonly consumers: ConsumerRegistration[] = [];
  private readonly returned = new Set<string>();
  private connected: Promise<void>;
  private markConnected!: () => void;
  private closing = false;
  private attempt = 0;
  private readonly log: Logger;
  /** Number of successful (re)connects; exposed for metrics and tests. */
  connects = 0;

  constructor(private readonly options: RabbitClientOptions) {
    this.log = options.logger.child({ component: 'rabbitmq' });
    this.connected = this.newConnectedPromise();
  }

  private newConnectedPromise() {
    return new Promise<void>((resolve) => {
      this.markConnected = resolve;
    });
  }

  get isConnected(): boolean {
    return this.publishChannel !== undefined;
  }

  /** Connects (retrying with backoff until it works or the timeout passes) and declares the topology. */
  async start(timeoutMs = 60_000): Promise<void> {
    void this.connectLoop();
    await this.waitForConnection(timeoutMs);
  }

  private async waitForConnection(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.connected,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`RabbitMQ not reachable within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async connectLoop(): Promise<void> {
    const { initialDelayMs = 200, maxDelayMs = 10_000 } = this.options.reconnect ?? {};
    while (!this.closing) {
      this.attempt += 1;
      try {
        await this.connectOnce();
        this.attempt = 0;
        return;
      } catch (err) {
        const delay = backoffDelay(this.attempt, initialDelayMs, maxDelayMs);
        this.log.warn({ err, attempt: this.attempt, delayMs: delay }, 'RabbitMQ connect failed, retrying');
        const failed = this.model;
        this.model = undefined;
        await failed?.close().catch(() => undefined);
        await sleep(delay);
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const model = await connect(this.options.url, {
      clientProperties: { connection_name: this.options.connectionName },
    });
    this.model = model;
    model.on('error', (err: Error) => this.log.warn({ err }, 'RabbitMQ connection error'));
    model.on('close', () => this.onConnectionLost(model));
    model.on('blocked', (reason: string) =>
      this.log.warn({ reason }, 'RabbitMQ blocked publishing (resource alarm)'),
    );

    const setup = await model.createChannel();
    await declareTopology(setup, this.options.topology);
    await setup.close();

    const publishChannel = await model.createConfirmChannel();
    publishChannel.on('return', (message) => {
      const id = message.properties.messageId as string | undefined;
      if (id) this.returned.add(id);
    });
    publishChannel.on('error', (err: Error) => this.log.warn({ err }, 'RabbitMQ publish channel error'));
    for (const consumer of this.consumers) {
      if (!consumer.cancelled) await this.startConsumer(model, consumer);
    }
    this.publishChannel = publishChannel;
    this.connects += 1;
    this.log.info({ url: maskSecrets(this.options.url), connects: this.connects }, 'RabbitMQ connected');
    this.markConnected();
  }

  private onConnectionLost(model: ChannelModel): void {
    if (this.model !== model) return;
    this.model = undefined;
    this.publishChannel = undefined;
    for (const consumer of this.consumers) {
      consumer.channel = undefined;
      consumer.consumerTag = undefined;
      // Their channel is gone: the broker delivers them again after the reconnect.
      consumer.pending.length = 0;
    }
    if (this.closing) return;
    this.log.warn('RabbitMQ connection lost, reconnecting');
    this.connected = this.newConnectedPromise();
    void this.connectLoop();
  }

  /**
   * Publishes with the mandatory flag and waits for the broker's confirm. Rejects when the broker
   * nacks, when no queue is bound for the routing key (UnroutableError), or on timeout.
   */
  /**
   * Puts a message that cannot be handled on the dead-letter exchange, confirmed, with the one header
   * scheme every dead letter carries: why (`x-orderflow-dead-letter-reason`) and where it came from
   * (`x-orderflow-source`: a queue, or topic/partition/offset), beside any headers it already had.
   */
  async deadLetter(
    body: Buffer,
    reason: string,
    options: { source: string; messageId?: string; headers?: Record<string, unknown> },
  ): Promise<void> {
    await this.publish(this.options.deadLetter.exchange, this.options.deadLetter.routingKey, body, {
      messageId: options.messageId,
      headers: {
        ...options.headers,
        [DEAD_LETTER_REASON_HEADER]: reason,
        [DEAD_LETTER_SOURCE_HEADER]: options.source,
      },
    });
  }

  async publish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    options: PublishOptions = {},
  ): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!this.publishChannel) await this.waitForConnection(timeoutMs);
    const channel = this.publishChannel;
    if (!channel) throw new Error('RabbitMQ connection lost before publishing');
    const messageId = options.messageId ?? randomUUID();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`publish not confirmed within ${timeoutMs} ms`)),
        timeoutMs,
      );
      try {
        channel.publish(
          exchange,
          routingKey,
          body,
          {
            persistent: true,
            mandatory: true,
            messageId,
            headers: options.headers,
            contentType: 'application/json',
          },
          (err) => {
            clearTimeout(timer);
            // The broker sends basic.return before the confirm, so the set is up to date here.
            const wasReturned = this.returned.delete(messageId);
            if (err)
              reject(err instanceof Error ? err : new Error(`publish nacked by broker: ${String(err)}`));
            else if (wasReturned) reject(new UnroutableError(exchange, routingKey));
            else resolve();
          },
        );
      } catch (err) {
        clearTimeout(timer);
        reject(err as Error);
      }
    });
  }

  /** Starts consuming now (or at the next connect) and after every reconnect, one delivery at a time. */
  async consume(queue: string, handler: DeliveryHandler, options: { prefetch: number }): Promise<void> {
    await this.consumeBatches(queue, (deliveries) => Promise.all(deliveries.map(handler)), {
      ...options,
      maxBatch: 1,
      lingerMs: 0,
    });
  }

  /**
   * Starts consuming now (or at the next connect) and after every reconnect, handing the handler what
   * arrived together, up to `maxBatch` deliveries at a time; prefetch / maxBatch batches run at once.
   * While deliveries stream in, a batch that is not full waits at most `lingerMs` for more, so batches
   * fill up and cost less per delivery; a delivery after a quiet spell is handled at once.
   */
  async consumeBatches(
    queue: string,
    handler: BatchHandler,
    options: { prefetch: number; maxBatch: number; lingerMs: number },
  ): Promise<void> {
    const consumer: ConsumerRegistration = {
      queue,
      prefetch: options.prefetch,
      maxBatch: Math.max(1, Math.min(options.maxBatch, options.prefetch)),
      lingerMs: options.lingerMs,
      handler,
      pending: [],
      pumpScheduled: false,
      lastReceivedAt: 0,
      batchesRunning: 0,
      running: 0,
      inFlight: new Set(),
      cancelled: false,
    };
    this.consumers.push(consumer);
    if (this.model && this.publishChannel) await this.startConsumer(this.model, consumer);
  }

  private async startConsumer(model: ChannelModel, consumer: ConsumerRegistration): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (err: Error) =>
      this.log.warn({ err, queue: consumer.queue }, 'RabbitMQ consumer channel error'),
    );
    await channel.prefetch(consumer.prefetch);
    consumer.channel = channel;
    const reply = await channel.consume(consumer.queue, (message) => {
      if (!message) {
        // The broker cancelled the consumer (its queue was deleted or moved) on a live connection.
        this.log.warn({ queue: consumer.queue }, 'consumer cancelled by the broker, subscribing again');
        setTimeout(() => void this.resubscribe(consumer, channel), 1000);
        return;
      }
      const now = Date.now();
      consumer.pending.push({ message, channel, receivedAt: now, gapMs: now - consumer.lastReceivedAt });
      consumer.lastReceivedAt = now;
      this.schedulePump(consumer);
    });
    consumer.consumerTag = reply.consumerTag;
  }

  private async resubscribe(consumer: ConsumerRegistration, old: Channel): Promise<void> {
    if (consumer.cancelled || consumer.channel !== old || !this.model) return;
    consumer.pending = consumer.pending.filter((received) => received.channel !== old);
    await old.close().catch(() => undefined);
    try {
      await this.startConsumer(this.model, consumer);
    } catch (err) {
      this.log.warn({ err, queue: consumer.queue }, 'could not subscribe again yet');
      setTimeout(() => void this.resubscribe(consumer, consumer.channel ?? old), 2000);
    }
  }

  /**
   * Hands pending deliveries to the handler once the current I/O has been read, so that deliveries
   * that arrived in the same read form one batch; while deliveries stream in, a batch that is not
   * full waits up to `lingerMs` from its first delivery for more to join it.
   */
  private schedulePump(consumer: ConsumerRegistration, delayMs = 0): void {
    if (consumer.pumpScheduled) return;
    consumer.pumpScheduled = true;
    const pump = () => {
      consumer.pumpScheduled = false;
      const concurrency = Math.max(1, Math.floor(consumer.prefetch / consumer.maxBatch));
      while (consumer.pending.length > 0 && consumer.batchesRunning < concurrency) {
        const first = consumer.pending[0]!;
        const waited = Date.now() - first.receivedAt;
        // Only a delivery that is part of a stream waits for company; one after a quiet spell goes
        // at once, so an idle pipeline answers without the linger.
        const streaming = first.gapMs < consumer.lingerMs && !consumer.cancelled;
        if (consumer.pending.length < consumer.maxBatch && streaming && waited < consumer.lingerMs) {
          this.schedulePump(consumer, consumer.lingerMs - waited);
          return;
        }
        const batch = consumer.pending.splice(0, consumer.maxBatch);
        consumer.batchesRunning += 1;
        consumer.running += batch.length;
        const work = this.handleBatch(consumer, batch).finally(() => {
          consumer.batchesRunning -= 1;
          consumer.running -= batch.length;
          consumer.inFlight.delete(work);
          if (consumer.pending.length > 0) this.schedulePump(consumer);
        });
        consumer.inFlight.add(work);
      }
    };
    if (delayMs > 0) setTimeout(pump, delayMs);
    else setImmediate(pump);
  }

  private async handleBatch(consumer: ConsumerRegistration, batch: Received[]): Promise<void> {
    const deliveries = batch.map(({ message }): Delivery => ({
      body: message.content,
      messageId: message.properties.messageId as string | undefined,
      headers: (message.properties.headers ?? {}) as Record<string, unknown>,
      routingKey: message.fields.routingKey,
      exchange: message.fields.exchange,
      redelivered: message.fields.redelivered,
    }));
    let dispositions: Disposition[];
    try {
      dispositions = await consumer.handler(deliveries);
    } catch (err) {
      this.log.error(
        { err, queue: consumer.queue, deliveries: deliveries.length },
        'handler failed, requeueing',
      );
      dispositions = deliveries.map(() => ({ action: 'requeue' }));
    }
    await Promise.all(
      batch.map((received, i) => this.settle(consumer, received, deliveries[i]!, dispositions[i]!)),
    );
  }

  private async settle(
    consumer: ConsumerRegistration,
    { message, channel }: Received,
    delivery: Delivery,
    disposition: Disposition,
  ): Promise<void> {
    try {
      if (disposition.action === 'dead-letter') {
        await this.deadLetter(message.content, disposition.reason, {
          source: consumer.queue,
          messageId: delivery.messageId,
          headers: {
            ...delivery.headers,
            'x-orderflow-original-queue': consumer.queue,
            'x-orderflow-original-routing-key': delivery.routingKey,
          },
        });
        this.log.warn(
          { queue: consumer.queue, messageId: delivery.messageId, reason: disposition.reason },
          'dead-lettered',
        );
      }
      if (disposition.action === 'requeue') channel.nack(message, false, true);
      else channel.ack(message);
    } catch (err) {
      // The channel closed under us: the broker redelivers the unacknowledged message after reconnect.
      this.log.warn(
        { err, queue: consumer.queue, messageId: delivery.messageId },
        'could not settle delivery',
      );
    }
  }

  /**
   * Deliveries this client holds for a queue (every queue if none is named): received and not yet
   * settled, whether waiting for a batch or in one. This is the consumer's share of the queue's
   * unacknowledged messages, read without asking the broker.
   */
  held(queue?: string): number {
    return this.consumers
      .filter((c) => queue === undefined || c.queue === queue)
      .reduce((sum, c) => sum + c.pending.length + c.running, 0);
  }

  /**
   * Stops new deliveries for every consumer, then handles what was already received, for up to
   * `drainMs`, rather than handing it back: a task handed back is redelivered to another worker
   * (flagged as redelivered), which a scale-down must not cause. Whatever is still waiting after
   * `drainMs` stays unacknowledged and goes back to the queue when the channel closes.
   */
  async stopConsuming(drainMs = 10_000): Promise<void> {
    for (const consumer of this.consumers) {
      consumer.cancelled = true;
      if (consumer.channel && consumer.consumerTag) {
        await consumer.channel.cancel(consumer.consumerTag).catch(() => undefined);
      }
    }
    const deadline = Date.now() + drainMs;
    for (const consumer of this.consumers) if (consumer.pending.length > 0) this.schedulePump(consumer);
    while (this.consumers.some((c) => c.pending.length > 0) && Date.now() < deadline) await sleep(20);
    for (const consumer of this.consumers) consumer.pending.length = 0;
    await Promise.all(this.consumers.flatMap((c) => [...c.inFlight]));
  }

  async close(): Promise<void> {
    await this.stopConsuming();
    this.closing = true;
    const model = this.model;
    this.model = undefined;
    this.publishChannel = undefined;
    await model?.close().catch(() => undefined);
  }
}
