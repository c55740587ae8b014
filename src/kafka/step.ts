import { setTimeout as sleep } from 'node:timers/promises';
import kafkaJavascript from '@confluentinc/kafka-javascript';
import { BrokerError, InterruptedError, OrdersError, messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import { authorizationFailure, type Access } from './failures.js';
import { describeMissing, transientCause, type Missing } from './transient.js';

/** How a step may be retried, and which coordinator its failures concern. */
export interface StepOptions {
  /** The operation can be run again after a transient failure (it makes its own client, or is a request). */
  retry?: boolean;
  /** Names the coordinator in the failure line: "transaction" or "group". */
  coordinator?: 'transaction' | 'group';
}

/** What the steps of one command run share: its brokers, deadline, stop and failure (the session). */
export interface StepScope {
  readonly brokers: string[];
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Ctrl-C or SIGTERM. */
  readonly signal: AbortSignal;
  /** Aborts on a failure no retry can fix, which `failure` holds. */
  readonly failed: AbortSignal;
  readonly failure: OrdersError | undefined;
  /** The brokers hung up on the first request: likely a TLS listener reached in plain text. */
  readonly hungUpEarly: boolean;
  /** A step was given up on while librdkafka may still work on it. */
  abandon(): void;
}

const { ERR__TIMED_OUT, ERR__TRANSPORT, ERR__ALL_BROKERS_DOWN, ERR__RESOLVE } = kafkaJavascript.CODES.ERRORS;
// A step asks again after a transient failure this soon at first, doubling up to the cap.
const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 2_000;
const NO_ANSWER_CODES = new Set<number>([ERR__TIMED_OUT, ERR__TRANSPORT, ERR__ALL_BROKERS_DOWN, ERR__RESOLVE]);

/** Runs the start-up steps of one command: each bounded by the timeout and by Ctrl-C, retried after transient failures. */
export class StepRunner {
  constructor(private readonly scope: StepScope) {}

  /**
   * Runs one start-up step: not at all once Ctrl-C came, asked again after each transient failure (a
   * coordinator or leader moving off a dead broker), and rejected with a BrokerError naming what did not
   * answer when the whole step, retries included, takes longer than the timeout.
   */
  async run<T>(what: string, operation: (remainingMs: number) => Promise<T>, access?: Access, options: StepOptions = {}): Promise<T> {
    this.throwIfAborted(what);
    this.throwIfFailed();
    const started = performance.now();
    let last: { missing: Missing; error: unknown } | undefined;
    const noAnswer = (): BrokerError => this.noAnswer(what, last, options.coordinator);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let onFailed: (() => void) | undefined;
    // One deadline for the step, whatever the number of attempts in it.
    const deadline = new Promise<never>((_, reject) => {
      const giveUp = (error: Error): void => {
        this.scope.abandon();
        reject(error);
      };
      timer = setTimeout(() => giveUp(noAnswer()), this.scope.timeoutMs);
      onAbort = () => giveUp(this.interrupted(what));
      onFailed = () => giveUp(this.scope.failure ?? noAnswer());
      this.scope.signal.addEventListener('abort', onAbort, { once: true });
      this.scope.failed.addEventListener('abort', onFailed, { once: true });
    });
    // Swallowed here: the race below reports it; later attempts must not leave it unhandled.
    deadline.catch(() => {});
    let given = false;
    const attempts = async (): Promise<T> => {
      for (let pause = FIRST_RETRY_MS; ; pause = Math.min(pause * 2, MAX_RETRY_MS)) {
        const remainingMs = this.scope.timeoutMs - (performance.now() - started);
        try {
          return await operation(Math.max(1, Math.floor(remainingMs)));
        } catch (error) {
          const missing = options.retry === false ? undefined : transientCause(error);
          if (missing === undefined || given || authorizationFailure(error, access) !== undefined) throw error;
          last = { missing, error };
          // No time left for another attempt: the deadline reports what was missing.
          if (this.scope.timeoutMs - (performance.now() - started) <= pause) throw noAnswer();
          this.scope.logger.debug(`${what}: ${messageOf(error)}; asking again in ${pause} ms`);
          await sleep(pause);
          if (given) throw noAnswer();
        }
      }
    };
    try {
      return await Promise.race([attempts(), deadline]);
    } catch (error) {
      if (error instanceof OrdersError) throw error;
      const refused = authorizationFailure(error, access);
      if (refused !== undefined) throw refused;
      // The client may give up a moment before our deadline, with its own timeout or transport error.
      if (isNoAnswer(error)) throw noAnswer();
      throw new BrokerError(`Kafka at ${this.scope.brokers.join(',')} failed while ${what}: ${messageOf(error)}`, error);
    } finally {
      given = true;
      clearTimeout(timer);
      if (onAbort !== undefined) this.scope.signal.removeEventListener('abort', onAbort);
      if (onFailed !== undefined) this.scope.failed.removeEventListener('abort', onFailed);
    }
  }

  // Names what did not answer: the coordinator, a leader or the in-sync replicas a transient error
  // pointed at, else the brokers as a whole.
  private noAnswer(what: string, last: { missing: Missing; error: unknown } | undefined, coordinator: string | undefined): BrokerError {
    const missing = describeMissing(last?.missing, coordinator);
    if (missing !== undefined) {
      return new BrokerError(`no answer from ${missing} at ${this.scope.brokers.join(',')} within ${this.scope.timeoutMs} ms while ${what}; last error: ${messageOf(last?.error)}`, last?.error);
    }
    const several = this.scope.brokers.length > 1;
    return new BrokerError(
      `no answer from Kafka at ${this.scope.brokers.join(',')} within ${this.scope.timeoutMs} ms while ${what}; `
      // Of several brokers, a dead one also hangs up: the TLS hint is for a single broker only.
      + (several ? `are the brokers running?${last === undefined ? '' : ` last error: ${messageOf(last.error)}`}`
        : this.scope.hungUpEarly ? 'the broker hung up on the first request: is it a TLS or SASL listener (security.protocol)?' : 'is the broker running?'),
    );
  }

  throwIfAborted(what: string): void {
    if (this.scope.signal.aborted) throw this.interrupted(what);
  }

  /** Throws the recorded failure, if any. */
  throwIfFailed(): void {
    if (this.scope.failure !== undefined) throw this.scope.failure;
  }

  private interrupted(what: string): InterruptedError {
    const reason: unknown = this.scope.signal.reason;
    return new InterruptedError(`interrupted while ${what}`, reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
  }
}

/** A timeout or transport failure, or an aggregate of nothing but those. */
export function isNoAnswer(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (Array.isArray(errors) && errors.length > 0) return errors.every(isNoAnswer);
  return typeof code === 'number' && NO_ANSWER_CODES.has(code);
}

