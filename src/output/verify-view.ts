import type { Verification } from '../commands/verify.js';
import { totalPrice, type Aggregate } from '../processing/aggregate.js';
import type { Position } from '../processing/audit.js';
import type { Terminal, View } from './terminal.js';

export interface VerifyView extends View {
  show(result: Verification): void;
}

// Lists longer than this are cut in the output; their counts stay whole.
const LISTED = 20;

/** One JSON object with --json (scripts read it whole); else the verdict first, then the figures and what is wrong. */
export function verifyView(term: Terminal): VerifyView {
  return {
    show(result) {
      const exact = result.problems.length === 0;
      if (term.json) {
        term.out(JSON.stringify({
          event: 'verify', group: result.group, topic: result.topic, dlq_topic: result.dlqTopic, exact, guarantee: result.guarantee,
          stats: figuresOf(result.stats), expected: figuresOf(result.succeeded), difference: figuresOf(result.difference),
          decided: result.decided, dead_lettered: result.deadLettered, undecided: result.undecided, members: result.members,
          dead_lettered_twice: result.deadLetteredTwice.length, dead_letters_undecided: result.deadLettersUndecided.length, undecodable_lost: result.undecodableLost.length,
          dead_lettered_twice_orders: result.deadLetteredTwice.slice(0, LISTED).map((p) => ({ ...positionJson(p), copies: p.copies })),
          dead_letters_undecided_orders: result.deadLettersUndecided.slice(0, LISTED).map(positionJson),
          unreadable_partitions: result.unreadable, problems: result.problems,
        }));
        return;
      }
      term.out(`Group ${result.group} on ${result.topic} (dead letters in ${result.dlqTopic}): ${exact ? 'exact' : 'NOT exact'} (${result.guarantee})`);
      const stats = result.stats === undefined ? 'no aggregate (at-least-once keeps none)' : figuresText(result.stats);
      term.out(`  stats    ${stats}`);
      term.out(`  expected ${figuresText(result.succeeded)} = ${result.decided} decided orders - ${result.deadLettered} dead-lettered`);
      if (result.difference !== undefined) term.out(`  difference count ${result.difference.count} total_price ${totalPrice(result.difference).toFixed(2)}`);
      term.out(`  ${result.undecided} order${result.undecided === 1 ? '' : 's'} not decided yet (above the committed offsets)${result.members > 0 ? `; the group has ${result.members} member${result.members === 1 ? '' : 's'} now, so these figures may move` : ''}`);
      for (const problem of result.problems) term.out(`  problem: ${problem}`);
      for (const p of result.deadLetteredTwice.slice(0, LISTED)) term.out(`  dead-lettered ${p.copies} times: ${positionText(p)}`);
      for (const p of result.deadLettersUndecided.slice(0, LISTED)) term.out(`  dead letter of an order not committed as decided: ${positionText(p)}`);
    },
    close() {},
  };
}

function figuresOf(aggregate: Aggregate | undefined): { count: number; total_price: number } | null {
  return aggregate === undefined ? null : { count: aggregate.count, total_price: totalPrice(aggregate) };
}

function figuresText(aggregate: Aggregate): string {
  return `count=${aggregate.count} total_price=${totalPrice(aggregate).toFixed(2)}`;
}

function positionJson(p: Position): { partition: number; offset: number; order_id: string | null } {
  return { partition: p.partition, offset: p.offset, order_id: p.key };
}

function positionText(p: Position): string {
  return `partition ${p.partition} offset ${p.offset}${p.key === null ? '' : ` orderId ${p.key}`}`;
}
