import kafkaJavascript from '@confluentinc/kafka-javascript';

const { ERR_UNKNOWN_MEMBER_ID, ERR_ILLEGAL_GENERATION, ERR_FENCED_INSTANCE_ID, ERR_FENCED_MEMBER_EPOCH, ERR_STALE_MEMBER_EPOCH, ERR__MAX_POLL_EXCEEDED, ERR__ASSIGNMENT_LOST, ERR__FENCED } = kafkaJavascript.CODES.ERRORS;

// The group went on without this member: a commit under its old membership can never succeed.
const PUT_OUT = new Set<number>([ERR_UNKNOWN_MEMBER_ID, ERR_ILLEGAL_GENERATION, ERR_FENCED_INSTANCE_ID, ERR_FENCED_MEMBER_EPOCH, ERR_STALE_MEMBER_EPOCH, ERR__MAX_POLL_EXCEEDED, ERR__ASSIGNMENT_LOST, ERR__FENCED]);
// Of those, the ones a rebalance alone also gives: under KIP-848 a member's epoch moves as it hands
// partitions over, and a commit sent before librdkafka learns the new one is refused (measured: ILLEGAL_GENERATION).
const OLD_GENERATION = new Set<number>([ERR_ILLEGAL_GENERATION, ERR_STALE_MEMBER_EPOCH]);

/** True when `error`, or what caused it, carries one of `codes`. */
function codeIn(error: unknown, codes: Set<number>): boolean {
  for (let cause = error, depth = 0; cause !== undefined && cause !== null && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'number' && codes.has(code)) return true;
  }
  return false;
}

/** True when `error` (or what caused it) says the group put this member out: its partitions are lost. */
export function putOut(error: unknown): boolean {
  return codeIn(error, PUT_OUT);
}

/** True when `error` says only that the commit named an older generation than the group's: a rebalance, or put out. */
export function oldGeneration(error: unknown): boolean {
  return codeIn(error, OLD_GENERATION);
}
