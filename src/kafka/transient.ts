import kafkaJavascript from '@confluentinc/kafka-javascript';

/** What a transient failure says is missing: the step that hit it names it when the deadline passes. */
export type Missing = 'coordinator' | 'leader' | 'replicas' | 'broker';

const E = kafkaJavascript.CODES.ERRORS;

// Kafka's codes for "a broker is away or its work is moving to another one: ask again". Read by code,
// as the client's KafkaJS errors always say retriable=false (it reads librdkafka's flags under other names).
const TRANSIENT = new Map<number, Missing>([
  [E.ERR_COORDINATOR_LOAD_IN_PROGRESS, 'coordinator'], // 14
  [E.ERR_COORDINATOR_NOT_AVAILABLE, 'coordinator'], // 15
  [E.ERR_NOT_COORDINATOR_FOR_GROUP, 'coordinator'], // 16
  [E.ERR_CONCURRENT_TRANSACTIONS, 'coordinator'], // 51: the old coordinator's transaction is still being ended
  [E.ERR__WAIT_COORD, 'coordinator'],
  [E.ERR_LEADER_NOT_AVAILABLE, 'leader'], // 5
  [E.ERR_NOT_LEADER_FOR_PARTITION, 'leader'], // 6
  [E.ERR__UNKNOWN_PARTITION, 'leader'],
  [E.ERR_NOT_ENOUGH_REPLICAS, 'replicas'], // 19
  [E.ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, 'replicas'], // 20
  [E.ERR_REQUEST_TIMED_OUT, 'broker'], // 7
  [E.ERR__TRANSPORT, 'broker'],
  [E.ERR__TIMED_OUT, 'broker'],
  [E.ERR__TIMED_OUT_QUEUE, 'broker'],
  [E.ERR__MSG_TIMED_OUT, 'broker'],
  [E.ERR__ALL_BROKERS_DOWN, 'broker'],
  [E.ERR__NODE_UPDATE, 'broker'],
]);

function codeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * What is missing when `error` (or every part of an aggregate) is transient, else undefined. An aggregate
 * names the most specific part: a coordinator or leader over "a broker".
 */
export function transientCause(error: unknown): Missing | undefined {
  const parts = (error as { errors?: unknown } | null)?.errors;
  if (Array.isArray(parts) && parts.length > 0) {
    const causes = parts.map(transientCause);
    if (causes.some((cause) => cause === undefined)) return undefined;
    return causes.find((cause) => cause !== 'broker') ?? 'broker';
  }
  const code = codeOf(error);
  return code === undefined ? undefined : TRANSIENT.get(code);
}

/** How a step's failure line names what did not answer. */
export function describeMissing(missing: Missing | undefined, coordinator?: string): string | undefined {
  switch (missing) {
    case 'coordinator': return `the ${coordinator === undefined ? '' : `${coordinator} `}coordinator`;
    case 'leader': return 'a partition leader';
    case 'replicas': return 'enough in-sync replicas (NOT_ENOUGH_REPLICAS: fewer brokers up than min.insync.replicas)';
    default: return undefined;
  }
}
