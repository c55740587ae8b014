/** Every failure the tool knows about carries a code, whether a retry may help, and the exit code it maps to. */
export class OrdersError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly exitCode: number;

  constructor(code: string, message: string, options: { retryable?: boolean; exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A flag or argument the user can fix; exit code 2 like other Unix tools. */
export class UsageError extends OrdersError {
  constructor(message: string) {
    super('usage', message, { exitCode: 2 });
  }
}

/** The broker did not answer in time, or refused the request. */
export class BrokerError extends OrdersError {
  constructor(message: string, cause?: unknown) {
    super('broker', message, { cause });
  }
}

/** Bytes that are not a valid Order: no retry can fix them. */
export class UndecodableError extends OrdersError {
  constructor(message: string, cause?: unknown) {
    super('undecodable', message, { cause });
  }
}

/** The simulated transient processing failure of `consume --fail-rate`. */
export class SimulatedFailure extends OrdersError {
  constructor(orderId: string, attempt: number) {
    super('simulated-failure', `simulated transient failure of order ${orderId} on attempt ${attempt}`, { retryable: true });
  }
}

/** Reads the message of anything thrown, for one-line error reports; aggregate errors show their parts. */
export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = (error as { errors?: unknown }).errors;
  return Array.isArray(parts) && parts.length > 0 ? `${error.message}: ${parts.map(messageOf).join('; ')}` : error.message;
}
