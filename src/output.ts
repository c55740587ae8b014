import ora, { type Ora } from 'ora';
import { pino } from 'pino';
import pretty from 'pino-pretty';
import type { Order } from './avro/codec.js';
import type { ConsumeEvents, ConsumeSummary } from './commands/consume.js';
import type { DlqReplaySummary, ReplayEvent } from './commands/dlq-replay.js';
import type { DeadLetterView, DlqTailSummary } from './commands/dlq-tail.js';
import type { Stats } from './commands/stats.js';
import type { ProduceEvents, ProduceSummary } from './commands/produce.js';
import { LineBudget } from './line-budget.js';
import type { Logger } from './logger.js';
import { average, totalPrice, type Aggregate } from './processing/aggregate.js';

/** Above this many orders, produce shows progress instead of one line per order (JSON always has every order). */
export const PER_ORDER_LINES_MAX = 1000;

type Write = (line: string) => void;

export interface Terminal {
  json: boolean;
  out: Write;
  /** stderr is a terminal: spinners and pretty logs are welcome there. */
  interactive: boolean;
}

export function terminal(json: boolean): Terminal {
  return { json, out: (line) => process.stdout.write(`${line}\n`), interactive: process.stderr.isTTY === true && !json };
}

/** pino on stderr: pretty on a terminal, JSON lines otherwise; LOG_LEVEL picks the level. */
export function createLogger(interactive: boolean): Logger {
  const level = process.env.LOG_LEVEL ?? 'info';
  const destination = interactive ? pretty({ destination: 2, sync: true, ignore: 'pid,hostname' }) : pino.destination({ dest: 2, sync: true });
  return pino({ level, base: undefined }, destination);
}

function orderJson(order: Order): Record<string, unknown> {
  return { orderId: order.orderId, product: order.product, price: order.price, createdAt: new Date(order.createdAt).toISOString() };
}

function figures(aggregate: Aggregate): { total_price: number; count: number; avg: number } {
  return { total_price: totalPrice(aggregate), count: aggregate.count, avg: average(aggregate) };
}

function figuresText(aggregate: Aggregate): string {
  return `total_price=${totalPrice(aggregate).toFixed(2)} count=${aggregate.count} avg=${average(aggregate).toFixed(2)}`;
}

export interface ProduceView extends ProduceEvents {
  summary(summary: ProduceSummary, topic: string): void;
}

export function produceView(term: Terminal, count: number): ProduceView {
  const eachOrder = term.json || count <= PER_ORDER_LINES_MAX;
  const spinner: Ora | undefined = !eachOrder && term.interactive ? ora({ text: `sending ${count} orders`, stream: process.stderr }).start() : undefined;
  return {
    eachOrder,
    sent({ order, partition, offset }) {
      if (term.json) term.out(JSON.stringify({ event: 'sent', ...orderJson(order), partition, offset }));
      else term.out(`Sent order: ${JSON.stringify(orderJson(order))} (partition ${partition}, offset ${offset})`);
    },
    progress(sent) {
      if (spinner !== undefined) spinner.text = `sent ${sent} of ${count} orders`;
    },
    summary(summary, topic) {
      spinner?.stop();
      const rate = Math.round(summary.ordersPerSecond);
      if (term.json) {
        term.out(JSON.stringify({
          event: 'summary', topic, requested: summary.requested, sent: summary.sent, failed: summary.failed,
          seed: summary.seed, elapsed_ms: Math.round(summary.elapsedMs), orders_per_s: rate,
        }));
      } else {
        term.out(`Produced ${summary.sent} of ${summary.requested} orders to ${topic} in ${(summary.elapsedMs / 1000).toFixed(2)} s (${rate} orders/s), ${summary.failed} failed, seed ${summary.seed}`);
      }
    },
  };
}

export interface ConsumeView extends ConsumeEvents {
  summary(summary: ConsumeSummary): void;
}

/** Above this many lines a second, consume shows a progress line each second instead of a line per event. */
export const PER_ORDER_LINES_PER_SECOND = 200;

export function consumeView(term: Terminal, dlqTopic: string): ConsumeView {
  const budget = new LineBudget(PER_ORDER_LINES_PER_SECOND);
  let processed = 0;
  let deadLettered = 0;
  let latest: Aggregate | undefined;
  // Only a person reading a terminal needs the budget; JSON lines are data and all of them are written.
  const progress = term.json ? undefined : setInterval(() => {
    const skipped = budget.takeSuppressed();
    if (skipped > 0) term.out(`... ${skipped} more events not shown (processed=${processed} dlq=${deadLettered}${latest === undefined ? '' : ` ${figuresText(latest)}`})`);
  }, 1000);
  progress?.unref();
  return {
    processed({ order, partition, offset, attempts, aggregate, latencyMs }) {
      processed++;
      latest = aggregate;
      if (term.json) {
        term.out(JSON.stringify({ event: 'order', orderId: order.orderId, partition, offset, status: 'ok', attempts, price: order.price, product: order.product, latency_ms: latencyMs, ...figures(aggregate) }));
      } else if (budget.allow(Date.now())) {
        term.out(`Processed order: ${JSON.stringify(orderJson(order))} (partition ${partition}, offset ${offset}, attempt ${attempts}) -> ${figuresText(aggregate)}`);
      }
    },
    retrying({ orderId, partition, offset, attempt, delayMs, errorMessage }) {
      if (term.json) term.out(JSON.stringify({ event: 'retry', orderId, partition, offset, attempt, delay_ms: delayMs, error: errorMessage }));
      else if (budget.allow(Date.now())) term.out(`Attempt ${attempt} failed for orderId ${orderId}: ${errorMessage}; retrying in ${delayMs} ms`);
    },
    deadLettered({ orderId, partition, offset, reason, attempts, errorMessage }) {
      processed++;
      deadLettered++;
      if (term.json) {
        term.out(JSON.stringify({ event: 'dlq', orderId, partition, offset, reason, attempts, error: errorMessage }));
        return;
      }
      if (!budget.allow(Date.now())) return;
      const what = orderId === null ? `undecodable record at partition ${partition}, offset ${offset}` : `orderId ${orderId}`;
      term.out(`Permanent failure (${reason}) after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${errorMessage}`);
      term.out(`Moved to DLQ: ${what} (${dlqTopic})`);
    },
    summary(summary) {
      if (progress !== undefined) clearInterval(progress);
      const skipped = budget.takeSuppressed();
      if (term.json) {
        term.out(JSON.stringify({ event: 'summary', processed: summary.processed, succeeded: summary.succeeded, dlq: summary.deadLettered, ...figures(summary.aggregate), seed: summary.seed }));
      } else {
        if (skipped > 0) term.out(`... ${skipped} more events not shown`);
        term.out(`Summary: processed=${summary.processed} succeeded=${summary.succeeded} dlq=${summary.deadLettered} ${figuresText(summary.aggregate)} seed=${summary.seed}`);
      }
    },
  };
}

export interface DlqTailView {
  deadLetter(view: DeadLetterView): void;
  summary(summary: DlqTailSummary): void;
}

export function dlqTailView(term: Terminal, dlqTopic: string): DlqTailView {
  return {
    deadLetter({ partition, offset, key, order, rawBase64, info }) {
      if (term.json) {
        term.out(JSON.stringify({
          event: 'dead_letter', topic: dlqTopic, partition, offset, key,
          order: order === null ? null : orderJson(order), value_base64: rawBase64,
          reason: info.reason, attempts: info.attempts, error: info.errorMessage, group: info.group, failed_at: info.failedAt,
          original: { topic: info.originalTopic, partition: info.originalPartition, offset: info.originalOffset, timestamp: info.originalTimestamp },
        }));
        return;
      }
      const payload = order === null ? `undecodable value (base64): ${rawBase64}` : `order ${JSON.stringify(orderJson(order))}`;
      const originalTime = info.originalTimestamp === '' ? '' : ` at ${new Date(Number(info.originalTimestamp)).toISOString()}`;
      term.out(`Dead letter ${dlqTopic}/${partition}@${offset}: ${payload}`);
      term.out(`  reason=${info.reason} attempts=${info.attempts} from ${info.originalTopic}/${info.originalPartition}@${info.originalOffset}${originalTime} failed at ${info.failedAt} by ${info.group}: ${info.errorMessage}`);
    },
    summary({ shown }) {
      if (term.json) term.out(JSON.stringify({ event: 'summary', dead_letters: shown }));
      else term.out(`Shown ${shown} dead letter${shown === 1 ? '' : 's'} from ${dlqTopic}`);
    },
  };
}

export function showStats(term: Terminal, result: Stats, byPartition: boolean): void {
  const partitions = result.partitions.map((p) => ({ partition: p.partition, ...figures(p.aggregate), offset: p.offset }));
  if (term.json) {
    term.out(JSON.stringify({ event: 'stats', group: result.group, topic: result.topic, ...figures(result.total), ...(byPartition ? { partitions } : {}) }));
    return;
  }
  term.out(`Group ${result.group} on ${result.topic}: ${figuresText(result.total)} (${result.partitions.length} partition${result.partitions.length === 1 ? '' : 's'} with data)`);
  if (!byPartition) return;
  for (const p of result.partitions) term.out(`  partition ${p.partition}: ${figuresText(p.aggregate)} last offset ${p.offset}`);
}

export interface DlqReplayView {
  replay(event: ReplayEvent): void;
  summary(summary: DlqReplaySummary): void;
}

export function dlqReplayView(term: Terminal, dryRun: boolean): DlqReplayView {
  return {
    replay({ action, key, reason, dlqPartition, dlqOffset, to, replayCount }) {
      if (term.json) {
        term.out(JSON.stringify({ event: action, key, reason, dlq_partition: dlqPartition, dlq_offset: dlqOffset, to, replay_count: replayCount }));
        return;
      }
      const what = `dead letter p${dlqPartition}@${dlqOffset} (key ${key ?? 'null'}, ${reason})`;
      if (action === 'replayed') term.out(`Replayed ${what} to ${to}, replay ${replayCount}`);
      else if (action === 'would-replay') term.out(`Would replay ${what} to ${to}`);
      else term.out(`Skipped ${what}: replayed ${replayCount} times already`);
    },
    summary({ replayed, wouldReplay, skipped }) {
      if (term.json) term.out(JSON.stringify({ event: 'summary', replayed, would_replay: wouldReplay, skipped, dry_run: dryRun }));
      else if (dryRun) term.out(`Dry run: would replay ${wouldReplay}, skip ${skipped}; nothing sent, nothing committed`);
      else term.out(`Replayed ${replayed} dead letter${replayed === 1 ? '' : 's'}, skipped ${skipped}`);
    },
  };
}
