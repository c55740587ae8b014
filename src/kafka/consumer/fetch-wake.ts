// librdkafka's connection thread sleeps this long at most (rd_kafka_max_block_ms): a wake asked for longer
// ago than this is late, that thread has woken by itself.
export const WAKE_USEFUL_MS = 1_000;

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** One string per partition of a topic, for sets and maps. */
export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * librdkafka resumes a partition without waking the thread of its leader's connection: a thread whose
 * partitions were all paused (by the application, or by librdkafka itself for the length of a
 * rebalance) sleeps on for up to a second before it fetches again. A member whose partitions sat alone
 * on their brokers then read nothing for 0.9 s after each rebalance. Any request to that connection
 * wakes it: here, one query of a partition's offsets at its leader.
 *
 * Asked for partitions, it queries them one at a time (a leader away holds one query and one of the
 * binding's threads, not all), each once however often asked while it waits, and only while `wanted`
 * (still assigned, not paused) and not late (a thread asleep has woken by itself after a second), until
 * `stop()`.
 */
export class FetchWake {
  private readonly pending = new Map<string, TopicPartition & { at: number }>();
  private running = false;
  private stopped = false;

  /** `query` asks the partition's leader something, settling within its own timeout. */
  constructor(
    private readonly query: (topic: string, partition: number) => Promise<unknown>,
    private readonly wanted: (topic: string, partition: number) => boolean,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Wakes the connections of these partitions' leaders, soon. */
  wake(partitions: readonly TopicPartition[]): void {
    if (this.stopped) return;
    const at = this.now();
    for (const { topic, partition } of partitions) this.pending.set(partitionKey(topic, partition), { topic, partition, at });
    if (this.running || this.pending.size === 0) return;
    this.running = true;
    // After the caller's turn: a revoke resumes partitions just before it hands them over.
    setImmediate(() => void this.run());
  }

  /** No query starts after this one. */
  stop(): void {
    this.stopped = true;
    this.pending.clear();
  }

  private async run(): Promise<void> {
    try {
      for (let next = this.take(); next !== undefined; next = this.take()) {
        await this.query(next.topic, next.partition).catch(() => undefined);
      }
    } finally {
      this.running = false;
    }
  }

  private take(): TopicPartition | undefined {
    // stop() empties the queue: nothing is taken after it.
    for (const [key, next] of this.pending) {
      this.pending.delete(key);
      if (this.now() - next.at <= WAKE_USEFUL_MS && this.stillWanted(next)) return next;
    }
    return undefined;
  }

  // Asking the client may throw (not connected): then the partition is not woken, nothing else fails.
  private stillWanted({ topic, partition }: TopicPartition): boolean {
    try {
      return this.wanted(topic, partition);
    } catch {
      return false;
    }
  }
}
