import type { Ora } from 'ora';
import type { ProduceEvents, ProduceSummary } from '../commands/produce.js';
import { BatchedLines } from './batched-lines.js';
import { orderJson } from './fields.js';
import { sentJson } from './json-lines.js';
import type { Terminal, View } from './terminal.js';

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
