import type { DlqReplayEvents, DlqReplaySummary } from '../commands/dlq-replay.js';
import type { Terminal, View } from './terminal.js';

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
