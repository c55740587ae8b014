import kafkaJavascript from '@confluentinc/kafka-javascript';

const { ERR_UNKNOWN_MEMBER_ID, ERR_ILLEGAL_GENERATION, ERR_FENCED_INSTANCE_ID, ERR_FENCED_MEMBER_EPOCH, ERR_STALE_MEMBER_EPOCH, ERR__MAX_POLL_EXCEEDED, ERR__ASSIGNMENT_LOST, ERR__FENCED } = kafkaJavascript.CODES.ERRORS;

// The group went on without this member: a commit under its old membership can never succeed.
const PUT_OUT = new Set<number>([ERR_UNKNOWN_MEMBER_ID, ERR_ILLEGAL_GENERATION, ERR_FENCED_INSTANCE_ID, ERR_FENCED_MEMBER_EPOCH, ERR_STALE_MEMBER_EPOCH, ERR__MAX_POLL_EXCEEDED, ERR__ASSIGNMENT_LOST, ERR__FENCED]);

/** True when `error` (or what caused it) says the group put this member out: its partitions are lost. */
export function putOut(error: unknown): boolean {
  for (let cause = error, depth = 0; cause !== undefined && cause !== null && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'number' && PUT_OUT.has(code)) return true;
  }
  return false;
}
