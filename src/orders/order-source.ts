import { getSystemErrorMap } from 'node:util';
import type { Order } from '../avro/codec.js';
import { messageOf } from '../errors.js';
import { MAX_LINE_CHARS, type LineBatch } from '../read-lines.js';
import { orderGenerator } from './generate.js';
import { BadLine, parseOrderLine } from './input-line.js';

/** Where produce's orders come from, pulled one at a time by the send loop without a promise per order. */
export interface OrderSource {
  /** The next order ready now, or undefined: then more() says whether others will come. */
  next(): Order | undefined;
  /** Waits until next() has orders again: false at the end of the input, or where it stopped. */
  more(): Promise<boolean>;
  /** Lets go of the input, read to its end or not. */
  close(): void;
}

/** A line of the input that is not an order, or where it could not be read further. */
export interface BadInputLine {
  line: number;
  reason: string;
}

/** Random orders from a seed, as many as asked for. */
export function generatedOrders(seed: number): OrderSource {
  return { next: orderGenerator(seed), more: () => Promise.resolve(false), close: () => {} };
}

/** One line as an order: undefined for a blank one, a BadLine for one that is not an order. */
function orderOf(line: string | null): Order | BadLine | undefined {
  return line === null ? new BadLine(`longer than ${MAX_LINE_CHARS} characters`) : parseOrderLine(line);
}

/**
 * The orders of JSON lines as they are read, up to the first bad line or read error: there it stops
 * (stoppedAt says where and why) and reads no further.
 */
export class InputOrders implements OrderSource {
  private readonly batches: AsyncIterator<LineBatch>;
  private readonly aborted: AbortSignal;
  private lines: (string | null)[] = [];
  private first = 1;
  private at = 0;
  private ended = false;
  stoppedAt: BadInputLine | undefined;

  /** `aborted`: the signal that destroyed the stream on purpose (Ctrl-C), which is an end, not a read error. */
  constructor(batches: AsyncIterable<LineBatch>, aborted: AbortSignal) {
    this.batches = batches[Symbol.asyncIterator]();
    this.aborted = aborted;
  }

  next(): Order | undefined {
    while (this.at < this.lines.length) {
      const at = this.at++;
      const order = orderOf(this.lines[at] ?? null);
      if (order === undefined) continue;
      if (order instanceof BadLine) {
        this.stop({ line: this.first + at, reason: order.reason });
        return undefined;
      }
      return order;
    }
    return undefined;
  }

  async more(): Promise<boolean> {
    while (!this.ended) {
      let batch: IteratorResult<LineBatch>;
      try {
        batch = await this.batches.next();
      } catch (error) {
        this.ended = true;
        if (!this.aborted.aborted) this.stoppedAt = { line: this.first + this.lines.length, reason: `cannot be read further: ${readFailure(error)}` };
        return false;
      }
      if (batch.done === true) {
        this.ended = true;
        return false;
      }
      ({ first: this.first, lines: this.lines } = batch.value);
      this.at = 0;
      if (this.lines.length > 0) return true;
    }
    return false;
  }

  close(): void {
    this.lines = [];
    this.ended = true;
    // Ends the generator, which destroys the stream.
    void this.batches.return?.().catch(() => undefined);
  }

  private stop(where: BadInputLine): void {
    this.stoppedAt = where;
    // Nothing after a bad line is read.
    this.close();
  }
}

/** What a check of a whole input found: the orders (up to `limit`), the bad lines, the first `keep` of them. */
export interface InputCheck {
  orders: number;
  bad: number;
  firstBad: BadInputLine[];
}

/** Reads every line up to the `limit`-th order and checks it; holds no order, and at most `keep` problems. */
export async function checkLines(batches: AsyncIterable<LineBatch>, limit: number, keep: number): Promise<InputCheck> {
  const check: InputCheck = { orders: 0, bad: 0, firstBad: [] };
  for await (const { first, lines } of batches) {
    for (let at = 0; at < lines.length; at++) {
      if (check.orders >= limit) return check;
      const order = orderOf(lines[at] ?? null);
      if (order === undefined) continue;
      if (!(order instanceof BadLine)) {
        check.orders++;
        continue;
      }
      check.bad++;
      if (check.firstBad.length < keep) check.firstBad.push({ line: first + at, reason: order.reason });
    }
  }
  return check;
}

/** A read error as a person reads it: the system's words and code where there are some. */
export function readFailure(error: unknown): string {
  const { code, errno } = error as Partial<NodeJS.ErrnoException>;
  if (code === undefined) return messageOf(error);
  const words = errno === undefined ? undefined : getSystemErrorMap().get(errno)?.[1];
  return words === undefined ? code : `${words} (${code})`;
}
