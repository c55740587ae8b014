import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../errors.js';
import type { KafkaSession, Producer } from './session.js';

/** The flags librdkafka puts on transactional errors. */
interface TransactionError {
  retriable?: boolean;
  fatal?: boolean;
}

const COMMIT_TRIES = 5;

/**
 * One transactional producer, kept usable: a failed transaction is aborted, and a producer that hit a
 * fatal error (e.g. fenced) is replaced by a new one with the same transactional.id, which also
 * aborts whatever the old one left open.
 */
export class Transactions {
  private producer: Producer | undefined;

  constructor(private readonly session: KafkaSession, readonly transactionalId: string, private readonly timeoutMs: number) {}

  async connect(): Promise<void> {
    const producer = this.session.transactionalProducer(this.transactionalId, this.timeoutMs);
    // connect() also runs initTransactions, which fences any earlier producer with this id.
    await this.session.connect(producer, 'transactional producer', { operation: 'WRITE', resource: `transactional id ${this.transactionalId}` });
    this.producer = producer;
  }

  /** Runs `work` in a transaction and commits it; on any failure aborts it and rethrows. */
  async run<T>(work: (producer: Producer) => Promise<T>): Promise<T> {
    if (this.producer === undefined) await this.connect();
    const producer = this.producer as Producer;
    try {
      await producer.transaction();
      const result = await work(producer);
      await this.commit(producer);
      return result;
    } catch (error) {
      await this.recover(producer, error);
      throw error;
    }
  }

  // A commit that timed out (e.g. the broker is restarting) may be retried as it is.
  private async commit(producer: Producer): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await producer.commit();
      } catch (error) {
        if (!(error as TransactionError).retriable || attempt === COMMIT_TRIES) throw error;
        this.session.logger.warn(`transaction commit failed, retrying: ${messageOf(error)}`);
        await sleep(500 * attempt);
      }
    }
  }

  private async recover(producer: Producer, error: unknown): Promise<void> {
    if (!(error as TransactionError).fatal) {
      try {
        if (producer.isActive()) await producer.abort();
        return;
      } catch (abortError) {
        this.session.logger.warn(`transaction abort failed, starting a new producer: ${messageOf(abortError)}`);
      }
    }
    await producer.disconnect().catch(() => {});
    this.producer = undefined;
  }
}
