import type { DlqTailEvents, DlqTailSummary } from '../commands/dlq-tail.js';
import { orderJson } from './fields.js';
import type { Terminal, View } from './terminal.js';

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

// A header written by another tool may hold anything: show a time where it is one, else the text as it is.
function timeText(timestamp: string | null): string {
  if (timestamp === null) return '?';
  const date = /^\d{1,15}$/.test(timestamp) ? new Date(Number(timestamp)) : undefined;
  return date !== undefined && !Number.isNaN(date.getTime()) ? date.toISOString() : JSON.stringify(timestamp);
}
