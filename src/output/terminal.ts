/** Where output goes: data to stdout, people's lines (pino logs, spinners) to stderr, pretty only on a terminal. */

import { createRequire } from 'node:module';
import { pino } from 'pino';
import type { LogLevel } from '../config/environment.js';
import type { Logger } from '../logger.js';

type Write = (line: string) => void;

export interface Terminal {
  json: boolean;
  out: Write;
  /** stderr is a terminal: spinners and pretty logs are welcome there. */
  interactive: boolean;
  /** Characters given to `out` that its reader has not taken yet (a pipe read slower than written). */
  unwritten?(): number;
  /** True once everything given to `out` so far has left the process; false if `stop` came first. */
  written?(stop: AbortSignal): Promise<boolean>;
}

export function terminal(json: boolean): Terminal {
  return {
    json, out: (line) => process.stdout.write(`${line}\n`), interactive: process.stderr.isTTY === true && !json,
    unwritten: () => process.stdout.writableLength,
    written: (stop) => drained(process.stdout, stop),
  };
}

/**
 * Node queues what a pipe does not take at once, and a SIGKILL takes the queue with it: resolves true
 * once what was written before has left (an empty write calls back after the writes ahead of it).
 */
export function drained(stream: NodeJS.WritableStream & { writableLength: number }, stop: AbortSignal): Promise<boolean> {
  if (stream.writableLength === 0) return Promise.resolve(true);
  if (stop.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const stopped = (): void => resolve(false);
    stop.addEventListener('abort', stopped, { once: true });
    // A write that failed (EPIPE: the reader went away) did not take the lines out.
    stream.write('', (error?: Error | null) => {
      stop.removeEventListener('abort', stopped);
      resolve(error === undefined || error === null);
    });
  });
}

/** Whatever a view keeps running (a spinner, a progress timer) stops here, also when the command fails. */
export interface View {
  close(): void;
}

/** pino on stderr: pretty on a terminal, JSON lines otherwise. */
export function createLogger(interactive: boolean, level: LogLevel): Logger {
  // Loaded only for a terminal: pino-pretty and ora were ~0.1 s of every start-up.
  const pretty = interactive ? createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty') : undefined;
  const destination = pretty !== undefined ? pretty({ destination: 2, sync: true, ignore: 'pid,hostname' }) : pino.destination({ dest: 2, sync: true });
  return pino({ level, base: undefined }, destination);
}
