/**
 * librdkafka resumes a partition without waking the thread of its leader's connection: a thread whose
 * partitions were all paused (by the application, or by librdkafka itself for the length of a
 * rebalance) sleeps on for up to a second (rd_kafka_max_block_ms) before it fetches again. A member
 * whose partitions sat alone on their brokers then read nothing for 0.9 s after each rebalance.
 * Any request to that connection wakes it: here, one query of a partition's offsets at its leader.
 *
 * Asked for partitions, it queries them one at a time (a leader away holds one query, not the client's
 * every thread), each once however often asked while it waits, until `stop()`.
 */
export class FetchWake {
  private readonly pending = new Map<string, { topic: string; partition: number }>();
  private running = false;
  private stopped = false;

  /** `query` asks the partition's leader something, settling within its own timeout. */
  constructor(private readonly query: (topic: string, partition: number) => Promise<unknown>) {}

  /** Wakes the connections of these partitions' leaders, soon. */
  wake(partitions: readonly { topic: string; partition: number }[]): void {
    if (this.stopped) return;
    for (const { topic, partition } of partitions) this.pending.set(`${topic}\u0000${partition}`, { topic, partition });
    if (this.running || this.pending.size === 0) return;
    this.running = true;
    void this.run();
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

  private take(): { topic: string; partition: number } | undefined {
    if (this.stopped) return undefined;
    const [first] = this.pending;
    if (first === undefined) return undefined;
    this.pending.delete(first[0]);
    return first[1];
  }
}
