import type { ConsumeEvents, ConsumeSummary } from '../commands/consume.js';
import { progressText, type ProgressReport } from '../consume/progress.js';
import type { Aggregate } from '../processing/aggregate.js';
import type { FlightStatus } from '../processing/flight.js';
import { BatchedLines } from './batched-lines.js';
import { figures, figuresText, orderJson } from './fields.js';
import { orderLine } from './json-lines.js';
import { LineBudget } from './line-budget.js';
import type { Terminal, View } from './terminal.js';

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
    unwritten() {
      return term.unwritten?.() ?? 0;
    },
    written(stop) {
      lines.flush();
      return term.written?.(stop) ?? Promise.resolve(true);
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
