/** Every failure the tool reports is one of these; checks read the class or its flags, never the message. */
export const errorCodes = [
  'usage', 'bad-input', 'broker', 'registry', 'authentication', 'authorization', 'missing-topic', 'missing-group', 'delivery', 'aggregates-gap', 'mismatch', 'interrupted', 'undecodable', 'simulated-failure', 'internal',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** Each failure carries a code, whether a retry may help, and the exit code it maps to. */
export abstract class OrdersError extends Error {
  abstract readonly code: ErrorCode;
  /** A later attempt may succeed (the broker may come back, a transient failure may pass). */
  readonly canRetry: boolean = false;
  readonly exitCode: number = 1;

  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = new.target.name;
  }
}

/** A flag, argument or environment variable the user can fix; exit code 2 like other Unix tools. */
export class UsageError extends OrdersError {
  readonly code = 'usage';
  override readonly exitCode = 2;
}

/**
 * Lines of --input that are not orders, one message line each. A file's are all found before anything
 * is sent: exit 2, as for bad flags. stdin's first one stops the command after the orders before it
 * were sent: exit 1, as a partial run.
 */
export class BadInputError extends OrdersError {
  readonly code = 'bad-input';
  override readonly exitCode: number;

  constructor(lines: readonly string[], nothingSent: boolean) {
    super(lines.join('\n'));
    this.exitCode = nothingSent ? 2 : 1;
  }
}

/** The broker did not answer in time, or refused the request; the same step may work later. */
export class BrokerError extends OrdersError {
  readonly code = 'broker';
  override readonly canRetry = true;
}

/** The schema registry did not answer, answered 5xx (`canRetry`), or refused a request that no retry fixes. */
export class RegistryError extends OrdersError {
  readonly code = 'registry';
  override readonly canRetry: boolean;

  constructor(message: string, canRetry: boolean, cause?: unknown) {
    super(message, cause);
    this.canRetry = canRetry;
  }
}

/** The broker did not accept who we are: credentials, or the TLS handshake. Retrying will not help. */
export class AuthenticationError extends OrdersError {
  readonly code = 'authentication';
}

/** The principal may not do what the command needs; the message names the resource and the operation. */
export class AuthorizationError extends OrdersError {
  readonly code = 'authorization';
}

/** A topic a read-only command needs is not there. */
export class MissingTopicError extends OrdersError {
  readonly code = 'missing-topic';
}

/** A consumer group a read-only command asks about is not there, or has nothing on the topic. */
export class MissingGroupError extends OrdersError {
  readonly code = 'missing-group';
}

/** Orders the broker did not acknowledge. */
export class DeliveryError extends OrdersError {
  readonly code = 'delivery';
}

/** The group's committed offsets have no matching aggregate: totals built on them would be wrong. */
export class AggregatesGapError extends OrdersError {
  readonly code = 'aggregates-gap';
}

/** orders verify found the group's figures not exact: the report says how. */
export class MismatchError extends OrdersError {
  readonly code = 'mismatch';
}

/** Ctrl-C or SIGTERM before the command got going; nothing was done. */
export class InterruptedError extends OrdersError {
  readonly code = 'interrupted';
  override readonly exitCode: number;

  constructor(message: string, signal: NodeJS.Signals | undefined) {
    super(message);
    // The shell's convention: 128 + the signal's number.
    this.exitCode = signal === 'SIGTERM' ? 143 : 130;
  }
}

/** Bytes that are not a valid Order: no retry can fix them. */
export class UndecodableError extends OrdersError {
  readonly code = 'undecodable';
}

/** The simulated transient processing failure of `consume --fail-rate`. */
export class SimulatedFailure extends OrdersError {
  readonly code = 'simulated-failure';
  override readonly canRetry = true;

  constructor(orderId: string, attempt: number) {
    // No stack: nobody reads it, and a run at fail-rate 0.3 makes 40,000 of these per 100,000 orders.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`simulated transient failure of order ${orderId} on attempt ${attempt}`);
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** A bug or a state the tool did not foresee. */
export class InternalError extends OrdersError {
  readonly code = 'internal';
}

/** The exit code for anything thrown: the error's own, else 1. */
export function exitCodeOf(error: unknown): number {
  return error instanceof OrdersError ? error.exitCode : 1;
}

/** The lines of the error report: a BadInputError's, one per bad line; anything else is one line. */
export function errorLines(error: unknown): string[] {
  return error instanceof BadInputError ? error.message.split('\n') : [messageOf(error)];
}

/** Reads the message of anything thrown, for one-line error reports; aggregate errors show their parts. */
export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = (error as { errors?: unknown }).errors;
  const message = Array.isArray(parts) && parts.length > 0 ? `${error.message}: ${parts.map(messageOf).join('; ')}` : error.message;
  // One line, whatever the library put in its message.
  return message.replace(/\s*\n\s*/g, ' ');
}
