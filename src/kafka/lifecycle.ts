/**
 * The life of one native client (consumer, callback producer, admin): made → connecting → connected →
 * closing → closed, each step forward only. The binding (@confluentinc/kafka-javascript 1.10.1) frees a
 * client's native memory in its disconnect, and calls back into it from any request still out: a
 * segfault (confluentinc/confluent-kafka-javascript#34, #164; node-rdkafka#1138). So here:
 * - connect at most once;
 * - every native call that calls back later runs through `call`, and close waits for them (bounded);
 * - no disconnect of a client the binding disconnected itself (a connect whose metadata request failed);
 * - disconnect at most once; a client whose calls do not end in time is left to the process exit.
 */

export type Phase = 'made' | 'connecting' | 'connected' | 'closing' | 'closed';

/** What a lifecycle needs of its native client. */
export interface NativeHandle {
  /** The binding's own view: false once it disconnected the client itself, or never connected it. */
  isConnected(): boolean;
  /** The binding's disconnect: called at most once, on a connected client with nothing in flight. */
  disconnect(): Promise<void>;
}

/** A call refused because its client is no longer (or not yet) connected; never reached the binding. */
export class ClientClosedError extends Error {
  constructor(what: string, phase: Phase) {
    super(`the ${what} is ${phase === 'made' ? 'not connected' : phase}`);
    this.name = 'ClientClosedError';
  }
}

/** How a close ended: disconnected, nothing to disconnect, or left to the process exit. */
export type CloseOutcome = 'disconnected' | 'not-connected' | 'left';

// A native call in flight at close ends within its own timeout; longer than this, the client is left alone.
export const DRAIN_MS = 5_000;

export class Lifecycle {
  private current: Phase = 'made';
  private inFlight = 0;
  private readonly idle = new Set<() => void>();
  private connecting: Promise<unknown> | undefined;
  private closing: Promise<CloseOutcome> | undefined;

  constructor(private readonly what: string, private readonly handle: NativeHandle, private readonly drainMs = DRAIN_MS) {}

  get phase(): Phase {
    return this.current;
  }

  /** Calls in flight now. */
  get calls(): number {
    return this.inFlight;
  }

  /** True while native calls may be made: connected, not closing. */
  get usable(): boolean {
    return this.current === 'connected';
  }

  /** Connects, once: a second connect, or one after close, is refused. */
  connect<T>(connect: () => Promise<T>): Promise<T> {
    if (this.current !== 'made') return Promise.reject(new Error(`the ${this.what} connects only once (it is ${this.current})`));
    this.current = 'connecting';
    const attempt = settled(connect);
    this.connecting = attempt.catch(() => undefined);
    return attempt.then((value) => {
      if (this.current === 'connecting') this.current = 'connected';
      return value;
    }, (error: unknown) => {
      // A failed connect left nothing this side may disconnect: the binding let go of it already.
      if (this.current === 'connecting') this.current = 'closed';
      throw error;
    });
  }

  /** Runs a native call that calls back later; close() waits for it. Refused unless connected. */
  call<T>(call: () => Promise<T>): Promise<T> {
    if (this.current !== 'connected') return Promise.reject(new ClientClosedError(this.what, this.current));
    this.inFlight++;
    return settled(call).finally(() => {
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of this.idle) wake();
    });
  }

  /** The binding disconnected the client itself (its 'disconnected' event): nothing is left to disconnect. */
  lost(): void {
    if (this.current !== 'closing') this.current = 'closed';
  }

  /**
   * Disconnects once: after a connect under way settles and the calls in flight end (each bounded by
   * `drainMs`), and only if the binding still holds the client connected. Never rejects.
   */
  close(): Promise<CloseOutcome> {
    this.closing ??= this.shut();
    return this.closing;
  }

  private async shut(): Promise<CloseOutcome> {
    const was = this.current;
    this.current = 'closing';
    try {
      if (was === 'made' || was === 'closed') return 'not-connected';
      if (was === 'connecting' && !await within(this.connecting ?? Promise.resolve(), this.drainMs)) return 'left';
      if (!await within(this.drained(), this.drainMs)) return 'left';
      if (!this.handle.isConnected()) return 'not-connected';
      await this.handle.disconnect().catch(() => undefined);
      return 'disconnected';
    } finally {
      this.current = 'closed';
    }
  }

  private drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.idle.delete(wake);
        resolve();
      };
      this.idle.add(wake);
    });
  }
}

// A call that throws at once counts as a rejection, so the bookkeeping above sees it end.
function settled<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call();
  } catch (error) {
    return Promise.reject(error);
  }
}

// True when `promise` settled within `ms`.
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
