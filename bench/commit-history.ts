import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { encodeCommitMetadata } from '../src/processing/commit-metadata.js';
import type { Admin } from './admin.js';

/** One partition's end offset: where the history's last transaction leaves its committed offset. */
interface PartitionEnd {
  partition: number;
  end: number;
}

const TIMEOUT_MS = 30_000;

const call = (operation: (done: (error: LibrdKafkaError | null | undefined) => void) => void): Promise<void> =>
  new Promise((resolve, reject) => operation((error) => (error ? reject(error) : resolve())));

/**
 * Gives `group` a history of `transactions` exactly-once commits on `topic`, as `orders consume
 * --guarantee exactly-once` leaves it: each transaction commits an offset with orders' commit metadata
 * (an aggregate, here count = offset and a made-up total: restoring only reads it). Written by the bench
 * itself rather than by an orders consumer, since one order per transaction would take ~5 ms each
 * (8 minutes for 100,000): one transactional producer per partition, each stepping its partition's
 * committed offset up to the end, then a last transaction that commits every partition's end (the
 * one transaction of a history of one). Returns the time it took, ms.
 */
export async function writeCommitHistory(broker: string, admin: Admin, topic: string, group: string, transactions: number): Promise<number> {
  const ends = (await admin.fetchTopicOffsets(topic)).map(({ partition, high }): PartitionEnd => ({ partition, end: Number(high) }));
  // Only a member's group metadata goes with the offsets; not joining (generation -1) is what a standalone committer sends.
  const consumer = new kafkaJavascript.KafkaConsumer({ 'bootstrap.servers': broker, 'group.id': group, 'enable.auto.commit': false }, {});
  await call((done) => consumer.connect({ timeout: TIMEOUT_MS }, (error) => done(error)));
  const started = performance.now();
  const producers: kafkaJavascript.Producer[] = [];
  try {
    const producerFor = async (lane: string): Promise<kafkaJavascript.Producer> => {
      // retry.backoff.ms 1 as orders' own transactional producer: CONCURRENT_TRANSACTIONS is retried at once.
      const producer = new kafkaJavascript.Producer({ 'bootstrap.servers': broker, 'transactional.id': `orders-bench-${group}-${lane}`, 'retry.backoff.ms': 1 });
      await call((done) => producer.connect({ timeout: TIMEOUT_MS }, (error) => done(error)));
      // Disconnected at the end only once connected: the binding's disconnect of a client never connected crashes.
      producers.push(producer);
      producer.setPollInterval(100);
      await call((done) => producer.initTransactions(TIMEOUT_MS, done));
      return producer;
    };
    const commit = async (producer: kafkaJavascript.Producer, offsets: { partition: number; offset: number }[]): Promise<void> => {
      await call((done) => producer.beginTransaction(done));
      const withMetadata = offsets.map(({ partition, offset }) => ({
        topic, partition, offset, metadata: encodeCommitMetadata(offset, { aggregate: { totalCents: offset * 25_000, count: offset }, doneAbove: [] }).metadata,
      }));
      await call((done) => producer.sendOffsetsToTransaction(withMetadata, consumer, TIMEOUT_MS, done));
      await call((done) => producer.commitTransaction(TIMEOUT_MS, done));
    };
    // All but the last transaction, spread over the partitions; each steps its partition towards the end.
    const stepping = transactions - 1;
    await Promise.all(ends.map(async ({ partition, end }, lane) => {
      const steps = Math.floor(stepping / ends.length) + (lane < stepping % ends.length ? 1 : 0);
      if (steps === 0) return;
      const producer = await producerFor(String(partition));
      for (let step = 1; step <= steps; step++) await commit(producer, [{ partition, offset: Math.floor((end * step) / (steps + 1)) }]);
    }));
    await commit(await producerFor('last'), ends.map(({ partition, end }) => ({ partition, offset: end })));
    return performance.now() - started;
  } finally {
    await Promise.all(producers.map((producer) => call((done) => producer.disconnect(TIMEOUT_MS, (error) => done(error))).catch(() => undefined)));
    await call((done) => consumer.disconnect((error) => done(error))).catch(() => undefined);
  }
}
