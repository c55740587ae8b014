import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import { withinTimeout, type KafkaClients, type Producer } from './client.js';

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
  private readonly clients: KafkaClients;
  private readonly transactionalId: string;
  private readonly timeoutMs: number;
  private readonly logger: Logger;

  constructor(clients: KafkaClients, transactionalId: string, timeoutMs: number, logger: Logger) {
    this.clients = clients;
    this.transactionalId = transactionalId;
    this.timeoutMs = timeoutMs;
    this.logger = logger;
  }

  async connect(): Promise<void> {
    const producer = this.clients.transactionalProducer(this.transactionalId, this.timeoutMs);
    // connect() also runs initTransactions, which fences any earlier producer with this id.
    await withinTimeout(this.clients, 'starting the transactional producer', producer.connect());
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

  async disconnect(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = undefined;
  }

  // A commit that timed out (e.g. the broker is restarting) may be retried as it is.
  private async commit(producer: Producer): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await producer.commit();
      } catch (error) {
        if (!(error as TransactionError).retriable || attempt === COMMIT_TRIES) throw error;
        this.logger.warn(`transaction commit failed, retrying: ${messageOf(error)}`);
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
        this.logger.warn(`transaction abort failed, starting a new producer: ${messageOf(abortError)}`);
      }
    }
    await producer.disconnect().catch(() => {});
    this.producer = undefined;
  }
}
