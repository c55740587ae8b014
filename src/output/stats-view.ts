import type { Stats } from '../commands/stats.js';
import { figures, figuresText } from './fields.js';
import type { Terminal, View } from './terminal.js';

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
