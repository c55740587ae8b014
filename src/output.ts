import { createRequire } from 'node:module';
import type { Ora } from 'ora';
import { pino } from 'pino';
import type { Order } from './avro/codec.js';
import type { ConsumeEvents, ConsumeSummary } from './commands/consume.js';
import type { DlqReplayEvents, DlqReplaySummary } from './commands/dlq-replay.js';
import type { DlqTailEvents, DlqTailSummary } from './commands/dlq-tail.js';
import type { Stats } from './commands/stats.js';
import type { ProduceEvents, ProduceSummary } from './commands/produce.js';
import { BatchedLines } from './batched-lines.js';
import { LineBudget } from './line-budget.js';
import type { FlightStatus } from './processing/flight.js';
import type { LogLevel } from './config.js';
import type { Logger } from './logger.js';
import { average, totalPrice, type Aggregate } from './processing/aggregate.js';
import { progressText, type ProgressReport } from './consume/progress.js';

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

function orderJson(order: Order): Record<string, unknown> {
  return { orderId: order.orderId, product: order.product, price: order.price, createdAt: new Date(order.createdAt).toISOString() };
}

/**
 * The `sent` line, byte for byte what JSON.stringify makes of it, from a template: with a line per
 * order, stringifying a spread object was a seventh of `produce --report each`'s CPU.
 */
export function sentJson(order: Order, partition: number, offset: string): string {
  return `{"event":"sent","orderId":${JSON.stringify(order.orderId)},"product":${JSON.stringify(order.product)},`
    + `"price":${JSON.stringify(order.price)},"createdAt":${JSON.stringify(isoTime(order.createdAt))},`
    + `"partition":${JSON.stringify(partition)},"offset":${JSON.stringify(offset)}}`;
}

// Orders made in the same millisecond share createdAt, hundreds at a time: formatted once.
let lastTime = Number.NaN;
let lastIso = '';
function isoTime(millis: number): string {
  if (millis !== lastTime) {
    lastIso = new Date(millis).toISOString();
    lastTime = millis;
  }
  return lastIso;
}

function figures(aggregate: Aggregate): { total_price: number; count: number; avg: number } {
  return { total_price: totalPrice(aggregate), count: aggregate.count, avg: average(aggregate) };
}

function figuresText(aggregate: Aggregate): string {
  return `total_price=${totalPrice(aggregate).toFixed(2)} count=${aggregate.count} avg=${average(aggregate).toFixed(2)}`;
}

export interface ProduceView extends ProduceEvents, View {
  summary(summary: ProduceSummary, topic: string): void;
}

export function produceView(term: Terminal): ProduceView {
  // Started with the first progress, so it never spins while the broker is being reached.
  let spinner: Ora | undefined;
  let ora: typeof import('ora').default | undefined;
  if (term.interactive) void import('ora').then((module) => { ora = module.default; });
  // A report per order can mean a million lines: a write each was a seventh of produce's CPU.
  const lines = new BatchedLines(term.out);
  return {
    sent({ order, partition, offset }) {
      if (term.json) lines.add(sentJson(order, partition, offset));
      else lines.add(`Sent order: ${JSON.stringify(orderJson(order))} (partition ${partition}, offset ${offset})`);
    },
    progress(sent, of) {
      if (ora === undefined) return;
      spinner ??= ora({ stream: process.stderr }).start();
      spinner.text = of === undefined ? `sent ${sent} orders` : `sent ${sent} of ${of} orders`;
    },
    close() {
      lines.flush();
      spinner?.stop();
    },
    summary(summary, topic) {
      lines.flush();
      spinner?.stop();
      const rate = Math.round(summary.ordersPerSecond);
      if (term.json) {
        term.out(JSON.stringify({
          event: 'summary', topic, requested: summary.requested, sent: summary.sent, failed: summary.failed,
          // What failed, told apart: refused is not in the topic; unknown may be (no answer came before the end).
          acknowledged: summary.sent, refused: summary.refused, unknown: summary.unknown,
          // No seed made the orders of --input: null, and where they came from.
          seed: summary.seed ?? null, ...(summary.input === undefined ? {} : { input: summary.input }), elapsed_ms: Math.round(summary.elapsedMs), orders_per_s: rate,
        }));
      } else {
        const origin = summary.input === undefined ? `seed ${summary.seed ?? '?'}` : `from ${summary.input}`;
        term.out(`Produced ${summary.sent} of ${summary.requested} orders to ${topic} in ${(summary.elapsedMs / 1000).toFixed(2)} s (${rate} orders/s), ${summary.failed} failed${summary.failed === 0 ? '' : ` (${summary.refused} refused, ${summary.unknown} unknown: may have been written)`}, ${origin}`);
      }
    },
  };
}

export interface ConsumeView extends ConsumeEvents, View {
  summary(summary: ConsumeSummary): void;
}

/** Above this many lines a second, consume shows a progress line each second instead of a line per event. */
export const PER_ORDER_LINES_PER_SECOND = 200;

/**
 * `log` takes the progress figures off a terminal (stderr, at info): on a terminal they join the
 * progress line instead.
 */
export function consumeView(term: Terminal, dlqTopic: string, log: (line: string) => void = () => {}): ConsumeView {
  const budget = new LineBudget(PER_ORDER_LINES_PER_SECOND);
  // A JSON line per order is a million lines: a write each was a sixth of consume's CPU. Text is budgeted.
  const lines = new BatchedLines(term.out);
  const out = term.json ? (line: string): void => lines.add(line) : term.out;
  let processed = 0;
  let deadLettered = 0;
  let latest: Aggregate | undefined;
  // Only a person reading a terminal needs the budget; JSON lines are data and all of them are written.
  let flight: FlightStatus = { inFlight: 0, backingOff: 0 };
  // On a terminal only: the lag, the rate and (--exit-at-end) the bar join the progress line.
  let lagging: ProgressReport | undefined;
  const progress = term.json ? undefined : setInterval(() => {
    const skipped = budget.takeSuppressed();
    // A retry that is waiting is visible: a quiet terminal still says what is held back; so is a lag or a way to go.
    const behind = lagging !== undefined && ((lagging.lag ?? 0) > 0 || lagging.toEnd !== undefined);
    if (skipped > 0 || flight.backingOff > 0 || behind) {
      const waiting = `in_flight=${flight.inFlight} backing_off=${flight.backingOff}`;
      const figures = lagging === undefined ? '' : ` ${progressText(lagging)}`;
      out(`... ${skipped} more events not shown (processed=${processed} dlq=${deadLettered} ${waiting}${latest === undefined ? '' : ` ${figuresText(latest)}`}${figures})`);
    }
  }, 1000);
  progress?.unref();
  return {
    flight(status) {
      flight = status;
    },
    progress(report) {
      if (term.interactive) {
        lagging = report;
        return;
      }
      // Off a terminal: stderr, and only while there is something to read or being read.
      if ((report.lag ?? 0) > 0 || report.moved) log(`progress ${progressText(report)}`);
    },
    processed({ order, partition, offset, attempts, aggregate, latencyMs }) {
      processed++;
      latest = aggregate;
      if (term.json) {
        out(orderLine(order, partition, offset, attempts, latencyMs, aggregate));
      } else if (budget.allow(Date.now())) {
        out(`Processed order: ${JSON.stringify(orderJson(order))} (partition ${partition}, offset ${offset}, attempt ${attempts}) -> ${figuresText(aggregate)}`);
      }
    },
    retrying({ orderId, partition, offset, attempt, delayMs, errorMessage }) {
      if (term.json) out(JSON.stringify({ event: 'retry', orderId, partition, offset, attempt, delay_ms: delayMs, error: errorMessage }));
      else if (budget.allow(Date.now())) out(`Attempt ${attempt} failed for orderId ${orderId}: ${errorMessage}; retrying in ${delayMs} ms`);
    },
    deadLettered({ orderId, partition, offset, reason, attempts, errorMessage }) {
      processed++;
      deadLettered++;
      if (term.json) {
        out(JSON.stringify({ event: 'dlq', orderId, partition, offset, reason, attempts, error: errorMessage }));
        return;
      }
      if (!budget.allow(Date.now())) return;
      const what = orderId === null ? `undecodable record at partition ${partition}, offset ${offset}` : `orderId ${orderId}`;
      out(`Permanent failure (${reason}) after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${errorMessage}`);
      out(`Moved to DLQ: ${what} (${dlqTopic})`);
    },
    flush() {
      lines.flush();
    },
    close() {
      if (progress !== undefined) clearInterval(progress);
      lines.flush();
    },
    summary(summary) {
      if (progress !== undefined) clearInterval(progress);
      const skipped = budget.takeSuppressed();
      if (term.json) {
        out(JSON.stringify({ event: 'summary', processed: summary.processed, succeeded: summary.succeeded, dlq: summary.deadLettered, ...figures(summary.aggregate), seed: summary.seed }));
      } else {
        if (skipped > 0) out(`... ${skipped} more events not shown`);
        out(`Summary: processed=${summary.processed} succeeded=${summary.succeeded} dlq=${summary.deadLettered} ${figuresText(summary.aggregate)} seed=${summary.seed}`);
      }
      lines.flush();
    },
  };
}

/**
 * The `order` line, byte for byte what JSON.stringify makes of it, from a template: stringifying a
 * spread object per order was a twentieth of consume's CPU.
 */
export function orderLine(order: Order, partition: number, offset: string, attempts: number, latencyMs: number, aggregate: Aggregate): string {
  return `{"event":"order","orderId":${JSON.stringify(order.orderId)},"partition":${JSON.stringify(partition)},"offset":${JSON.stringify(offset)},`
    + `"status":"ok","attempts":${JSON.stringify(attempts)},"price":${JSON.stringify(order.price)},"product":${JSON.stringify(order.product)},`
    + `"latency_ms":${JSON.stringify(latencyMs)},"total_price":${JSON.stringify(totalPrice(aggregate))},"count":${JSON.stringify(aggregate.count)},`
    + `"avg":${JSON.stringify(average(aggregate))}}`;
}

export interface DlqTailView extends DlqTailEvents, View {
  summary(summary: DlqTailSummary): void;
}

export function dlqTailView(term: Terminal, dlqTopic: string): DlqTailView {
  return {
    deadLetter({ partition, offset, key, order, rawBase64, schemaId, info }) {
      if (term.json) {
        term.out(JSON.stringify({
          event: 'dead_letter', topic: dlqTopic, partition, offset, key,
          order: order === null ? null : orderJson(order), value_base64: rawBase64, schema_id: schemaId,
          reason: info.reason, attempts: info.attempts, error: info.errorMessage, group: info.group, failed_at: info.failedAt,
          original: { topic: info.originalTopic, partition: info.originalPartition, offset: info.originalOffset, timestamp: info.originalTimestamp },
        }));
        return;
      }
      const payload = order === null ? `undecodable value (base64): ${rawBase64}` : `order ${JSON.stringify(orderJson(order))}`;
      const known = (value: string | number | null): string => (value === null ? '?' : String(value));
      term.out(`Dead letter ${dlqTopic}/${partition}@${offset}${schemaId === null ? '' : ` (schema id ${schemaId})`}: ${payload}`);
      term.out(`  reason=${known(info.reason)} attempts=${known(info.attempts)} from ${known(info.originalTopic)}/${known(info.originalPartition)}@${known(info.originalOffset)} at ${timeText(info.originalTimestamp)} failed at ${known(info.failedAt)} by ${known(info.group)}: ${known(info.errorMessage)}`);
    },
    close() {},
    summary({ shown }) {
      if (term.json) term.out(JSON.stringify({ event: 'summary', dead_letters: shown }));
      else term.out(`Shown ${shown} dead letter${shown === 1 ? '' : 's'} from ${dlqTopic}`);
    },
  };
}

export interface StatsView extends View {
  show(result: Stats): void;
}

/**
 * The totals line first, as it always was (scripts read the first JSON line); with --json, the lag
 * lines follow it only with `lag` (--lag), so that what a script already reads stays alone on stdout.
 * The text output always shows the group and each partition's lag.
 */
export function statsView(term: Terminal, byPartition: boolean, lag = false): StatsView {
  return {
    show(result) {
      const partitions = result.partitions.map((p) => ({ partition: p.partition, ...figures(p.aggregate), offset: p.offset }));
      const { group, topic } = result;
      if (term.json) {
        term.out(JSON.stringify({ event: 'stats', group, topic, ...figures(result.total), ...(byPartition ? { partitions } : {}) }));
        if (!lag) return;
        for (const p of result.lag.partitions) {
          term.out(JSON.stringify({
            event: 'partition', group, topic, partition: p.partition, committed_offset: p.committed, log_end_offset: p.logEnd, last_stable_offset: p.lastStable, lag: p.lag,
            member_id: p.owner?.memberId ?? null, client_id: p.owner?.clientId ?? null, host: p.owner?.host ?? null,
          }));
        }
        const { state, protocolType, protocol, members, total } = result.lag;
        term.out(JSON.stringify({ event: 'group', group, topic, state, protocol_type: protocolType, protocol, members, lag: total }));
        return;
      }
      term.out(`Group ${group} on ${topic}: ${figuresText(result.total)} (${result.partitions.length} partition${result.partitions.length === 1 ? '' : 's'} with data)`);
      if (byPartition) for (const p of result.partitions) term.out(`  partition ${p.partition}: ${figuresText(p.aggregate)} last offset ${p.offset}`);
      const { state, protocolType, protocol, members, total } = result.lag;
      const kind = protocolType === '' ? 'no protocol' : `protocol ${protocolType}${protocol === '' ? '' : ` (${protocol})`}`;
      term.out(`  state ${state}, ${kind}, ${members} member${members === 1 ? '' : 's'}; lag ${total} over ${result.lag.partitions.length} partition${result.lag.partitions.length === 1 ? '' : 's'}`);
      for (const p of result.lag.partitions) {
        const committed = p.committed < 0 ? 'none' : String(p.committed);
        const stable = p.lastStable === p.logEnd ? '' : ` (stable ${p.lastStable})`;
        const owner = p.owner === undefined ? 'no owner' : `owner ${p.owner.clientId} ${p.owner.memberId} on ${p.owner.host}`;
        term.out(`  partition ${p.partition}: committed ${committed} end ${p.logEnd}${stable} lag ${p.lag}, ${owner}`);
      }
    },
    close() {},
  };
}

export interface DlqReplayView extends DlqReplayEvents, View {
  summary(summary: DlqReplaySummary): void;
}

export function dlqReplayView(term: Terminal, dryRun: boolean): DlqReplayView {
  return {
    replay({ action, key, reason, dlqPartition, dlqOffset, to, replayCount }) {
      if (term.json) {
        term.out(JSON.stringify({ event: action, key, reason, dlq_partition: dlqPartition, dlq_offset: dlqOffset, to, replay_count: replayCount }));
        return;
      }
      const what = `dead letter p${dlqPartition}@${dlqOffset} (key ${key ?? 'null'}, ${reason ?? 'no reason'})`;
      if (action === 'replayed') term.out(`Replayed ${what} to ${to ?? '?'}, replay ${replayCount}`);
      else if (action === 'would-replay') term.out(`Would replay ${what} to ${to ?? '?'}`);
      else if (action === 'skipped-no-topic') term.out(`Skipped ${what}: it names no original topic (give --to)`);
      else term.out(`Skipped ${what}: replayed ${replayCount} times already`);
    },
    close() {},
    summary({ replayed, wouldReplay, skipped, noTopic }) {
      const noTopicText = noTopic > 0 ? `, ${noTopic} without a topic` : '';
      if (term.json) term.out(JSON.stringify({ event: 'summary', replayed, would_replay: wouldReplay, skipped, no_topic: noTopic, dry_run: dryRun }));
      else if (dryRun) term.out(`Dry run: would replay ${wouldReplay}, skip ${skipped}${noTopicText}; nothing sent, nothing committed`);
      else term.out(`Replayed ${replayed} dead letter${replayed === 1 ? '' : 's'}, skipped ${skipped}${noTopicText}`);
    },
  };
}

// A header written by another tool may hold anything: show a time where it is one, else the text as it is.
function timeText(timestamp: string | null): string {
  if (timestamp === null) return '?';
  const date = /^\d{1,15}$/.test(timestamp) ? new Date(Number(timestamp)) : undefined;
  return date !== undefined && !Number.isNaN(date.getTime()) ? date.toISOString() : JSON.stringify(timestamp);
}
