import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { AuthenticationError, type OrdersError } from '../errors.js';
import type { Logger } from '../logger.js';
import { loggedFailure, looksLikeTlsListener } from './failures.js';

/**
 * librdkafka's own reports of one command run: logged at debug, and read for failures it only logs
 * (it would retry them for ever): wrong credentials, a certificate it cannot verify, a refused principal.
 */
export class LibraryLog {
  // What the command reads, to name a group or topic librdkafka only logs as refused.
  private reading: { group: string; topic: string } | undefined;
  /** The brokers hung up on the first request: likely a TLS listener reached in plain text. */
  hungUpEarly = false;
  // A request was answered: credentials and TLS work, so a later handshake failure is a broker restarting.
  private answered = false;
  /** librdkafka's reason for its last fatal error: the error itself only says "Local: Fatal error". */
  fatalReason: string | undefined;

  constructor(private readonly brokers: string[], private readonly logger: Logger, private readonly fail: (failure: OrdersError) => void) {}

  /** Names the group and topic a consumer reads, for failures librdkafka only logs. */
  readingAs(group: string, topic: string): void {
    this.reading = { group, topic };
  }

  /** A broker answered a request: a handshake failure after this is a broker restarting, not bad credentials. */
  wasAnswered(): void {
    this.answered = true;
  }

  /** One line of librdkafka's. */
  seen(message: string): void {
    this.logger.debug(message);
    const fatal = /fatal error: (.*)$/i.exec(message);
    if (fatal?.[1] !== undefined && !/^Local: Fatal error$/i.test(fatal[1])) this.fatalReason = fatal[1].trim();
    const failure = loggedFailure(message, this.brokers, this.reading);
    if (failure === undefined) {
      if (looksLikeTlsListener(message)) this.hungUpEarly = true;
    } else if (failure instanceof AuthenticationError && this.answered) {
      // librdkafka reconnects by itself; a refused principal (authorization) stays fatal.
      this.logger.warn(failure.message);
    } else {
      this.fail(failure);
    }
  }
}

// librdkafka's own reports are transient states it retries itself, or failures a command reports in
// its one error line; either way they are for debugging, not for the user's screen.
export function libraryLogger(seen: (message: string) => void): KafkaJS.Logger {
  const adapter: KafkaJS.Logger = {
    info: seen,
    debug: seen,
    warn: seen,
    error: seen,
    namespace: () => adapter,
    setLogLevel: () => {},
  };
  return adapter;
}
