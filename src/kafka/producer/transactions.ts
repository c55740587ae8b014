import { setTimeout as sleep } from 'node:timers/promises';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { BrokerError, messageOf } from '../../errors.js';
import type { KafkaSession } from '../session.js';
import type { TransactionalProducer } from './transactional-producer.js';
import { transientCause } from '../transient.js';

const COMMIT_TRIES = 5;

/** A transaction that did not end within the timeout: its producer is left behind. */
class StuckTransaction extends BrokerError {
  constructor(timeoutMs: number) {
    super(`no answer from the transaction or group coordinator within ${timeoutMs} ms while committing a transaction`);
  }
}

const E = kafkaJavascript.CODES.ERRORS;
// Errors after which the producer cannot go on: librdkafka says isFatal, or the code says fenced.
const FATAL_CODES = new Set<number>([E.ERR__FATAL, E.ERR__FENCED, E.ERR_PRODUCER_FENCED, E.ERR_INVALID_PRODUCER_EPOCH, E.ERR_UNKNOWN_PRODUCER_ID, E.ERR_INVALID_PRODUCER_ID_MAPPING]);

function isFatal(error: unknown): boolean {
  const { code, isFatal: fatal } = (error ?? {}) as { code?: unknown; isFatal?: unknown };
  return fatal === true || (typeof code === 'number' && FATAL_CODES.has(code));
}

// A commit librdkafka says may be retried, or that timed out or met a moving coordinator, is asked again;
// one that requires an abort (say a send failed with NOT_ENOUGH_REPLICAS) is not.
function mayRetryCommit(error: unknown): boolean {
  const { isRetriable, isTxnRequiresAbort } = (error ?? {}) as { isRetriable?: unknown; isTxnRequiresAbort?: unknown };
  if (isTxnRequiresAbort === true) return false;
  const cause = transientCause(error);
  return isRetriable === true || cause === 'coordinator' || cause === 'broker';
}

/**
 * One transactional producer, kept usable: a failed transaction is aborted, and a producer that hit a
 * fatal error (e.g. fenced) is replaced by a new one with the same transactional.id, which also
 * aborts whatever the old one left open.
 */
export class Transactions {
  private producer: TransactionalProducer | undefined;
  // A transaction was begun and neither committed nor aborted yet.
  private open = false;
  // Producers left behind with a stuck call: each disconnected once its call came back.
  private readonly leftBehind = new Set<Promise<void>>();

  constructor(private readonly session: KafkaSession, readonly transactionalId: string, private readonly timeoutMs: number) {}

  async connect(): Promise<void> {
    // connect() also runs initTransactions, which fences any earlier producer with this id; while the
    // transaction coordinator moves off a dead broker it fails (NOT_COORDINATOR…) and a new producer asks again.
    this.producer = await this.session.connectNew(
      () => this.session.transactionalProducer(this.transactionalId, this.timeoutMs),
      'transactional producer',
      { operation: 'WRITE', resource: `transactional id ${this.transactionalId}` },
      { coordinator: 'transaction' },
    );
  }

  /**
   * Before the outcome of a failed transaction is read: a producer let go of (its abort failed, a fatal
   * error, a stuck call) may have left it open, holding the group's offsets back for 10-20 s; a new
   * producer's initTransactions with the same id ends it at once. A producer still here aborted it.
   */
  async fence(): Promise<void> {
    if (this.producer === undefined) await this.connect();
  }

  /**
   * Disconnects the producer and those left behind whose stuck call came back, `waitMs` at most; one
   * still stuck is left to the process exit (its disconnect would wait for that call).
   */
  async close(waitMs: number): Promise<void> {
    const closing = Promise.allSettled([...this.leftBehind, this.producer?.disconnect()]);
    const timer = new AbortController();
    await Promise.race([closing, sleep(waitMs, undefined, { signal: timer.signal }).catch(() => undefined)]);
    timer.abort();
  }

  /**
   * Runs `work` in a transaction and commits it; on any failure aborts it and rethrows. A transaction
   * that neither commits nor fails within the session's timeout leaves its producer behind (see below).
   */
  async run<T>(work: (producer: TransactionalProducer) => Promise<T>): Promise<T> {
    if (this.producer === undefined) await this.connect();
    const producer = this.producer as TransactionalProducer;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StuckTransaction(this.session.timeoutMs)), this.session.timeoutMs);
    });
    const attempt = (async () => {
      await producer.begin();
      // A producer left behind whose call came back says nothing of its successor's transaction.
      if (this.producer === producer) this.open = true;
      const result = await work(producer);
      await this.commit(producer);
      if (this.producer === producer) this.open = false;
      return result;
    })();
    try {
      return await Promise.race([attempt, late]);
    } catch (error) {
      if (error instanceof StuckTransaction) this.leave(producer, error, attempt);
      else await this.recover(producer, error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  // librdkafka 2.15.1's send_offsets_to_transaction waits without end when the group coordinator it
  // cached was on a broker that died (confluentinc/librdkafka#5456, #5511): the consumer stalled, and
  // its rebalance never finished. Nothing cancels the call; a new producer with the same id fences this
  // one and aborts its transaction, so the same orders are committed once, by the new one.
  private leave(producer: TransactionalProducer, error: StuckTransaction, stuck: Promise<unknown>): void {
    this.session.logger.warn(`${error.message}; starting a new transactional producer`);
    if (this.producer === producer) this.producer = undefined;
    this.open = false;
    // Its disconnect would wait for the stuck call too: it comes once the call came back (the fence may end it).
    this.session.forget(producer);
    const closed = stuck.then(() => {}, () => {}).then(() => producer.disconnect()).catch(() => {});
    this.leftBehind.add(closed);
    void closed.finally(() => this.leftBehind.delete(closed));
  }

  // A commit that timed out (e.g. the broker is restarting) may be retried as it is.
  private async commit(producer: TransactionalProducer): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await producer.commit();
      } catch (error) {
        if (!mayRetryCommit(error) || attempt === COMMIT_TRIES) throw error;
        this.session.logger.warn(`transaction commit failed, retrying: ${messageOf(error)}`);
        await sleep(500 * attempt);
      }
    }
  }

  private async recover(producer: TransactionalProducer, error: unknown): Promise<void> {
    if (!isFatal(error)) {
      try {
        if (this.open) await producer.abort();
        this.open = false;
        return;
      } catch (abortError) {
        this.session.logger.warn(`transaction abort failed, starting a new producer: ${messageOf(abortError)}`);
      }
    }
    this.open = false;
    this.session.forget(producer);
    await producer.disconnect().catch(() => {});
    this.producer = undefined;
  }
}
