import { connect, type Channel, type ChannelModel } from 'amqplib';
import { maskSecrets } from '../../mask';

/**
 * Reads a queue's ready messages from the broker itself: a passive queue.declare answers with the
 * count as it is now, where the management API's statistics are seconds old. One connection, opened
 * on first use and again after it drops; a failed check (an unknown queue closes the channel) opens a
 * new channel on the next one.
 */
export class QueueProbe {
  private model: Promise<ChannelModel> | undefined;
  private channel: Promise<Channel> | undefined;

  constructor(
    private readonly url: string,
    private readonly connectionName: string,
    private readonly timeoutMs = 2000,
  ) {}

  async ready(queue: string): Promise<number> {
    const channel = this.openChannel();
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await Promise.race([
        channel.then((c) => c.checkQueue(queue)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`queue.declare of ${queue} not answered within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
      return reply.messageCount;
    } catch (err) {
      if (this.channel === channel) this.channel = undefined;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const model = this.model;
    this.model = undefined;
    this.channel = undefined;
    await (await model?.catch(() => undefined))?.close().catch(() => undefined);
  }

  private openModel(): Promise<ChannelModel> {
    const opening = connect(this.url, { clientProperties: { connection_name: this.connectionName } }).then(
      (model) => {
        const forget = () => {
          if (this.model === opening) {
            this.model = undefined;
            this.channel = undefined;
          }
        };
        model.on('error', forget);
        model.on('close', forget);
        return model;
      },
      (err: unknown) => {
        if (this.model === opening) this.model = undefined;
        throw new Error(`${maskSecrets(this.url)}: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    this.model = opening;
    return opening;
  }

  private openChannel(): Promise<Channel> {
    this.channel ??= (this.model ?? this.openModel()).then(async (model) => {
      const channel = await model.createChannel();
      // A 404 from checkQueue closes the channel with an error; the caller has it already.
      channel.on('error', () => undefined);
      return channel;
    });
    const opening = this.channel;
    opening.catch(() => {
      if (this.channel === opening) this.channel = undefined;
    });
    return opening;
  }
}
