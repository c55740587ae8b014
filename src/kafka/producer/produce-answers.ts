/**
 * What the brokers answered a producer's requests, per partition, as librdkafka logs it with
 * `debug=msg` (its delivery reports say only "timed out" once message.timeout.ms has passed).
 */

/** The last failed answer of a partition's requests, and since when that partition has had no acknowledgement. */
export interface PartitionAnswer {
  topic: string;
  partition: number;
  /** librdkafka's words, e.g. "Broker: Not enough in-sync replicas". */
  error: string;
  /** Kafka's name of the error where known, e.g. NOT_ENOUGH_REPLICAS. */
  name: string | undefined;
  /** The broker that answered, as librdkafka names it: "127.0.0.1:17092/1". */
  broker: string;
  /** The answer came from the broker itself, not from librdkafka (a timeout, a lost connection). */
  fromBroker: boolean;
  /** A leader moving: the next metadata names the new one, librdkafka sends there. */
  leadershipMoving: boolean;
  /** When the partition's requests started failing (the first failure after its last acknowledgement). */
  failingSince: number;
}

// librdkafka's error strings (rd_kafka_err2str) of the broker answers a produce meets, with Kafka's names.
const BROKER_ERRORS: Readonly<Record<string, string>> = {
  'Broker: Not enough in-sync replicas': 'NOT_ENOUGH_REPLICAS',
  'Broker: Message(s) written to insufficient number of in-sync replicas': 'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'Broker: Request timed out': 'REQUEST_TIMED_OUT',
  'Broker: Disk error when trying to access log file on disk': 'KAFKA_STORAGE_ERROR',
  'Broker: Not leader for partition': 'NOT_LEADER_OR_FOLLOWER',
  'Broker: Leader not available': 'LEADER_NOT_AVAILABLE',
  'Broker: Leader epoch is older than broker epoch': 'FENCED_LEADER_EPOCH',
  'Broker: Leader epoch is newer than broker epoch': 'UNKNOWN_LEADER_EPOCH',
  'Broker: Broker disconnected before response received': 'NETWORK_EXCEPTION',
  'Broker: Throttling quota has been exceeded': 'THROTTLING_QUOTA_EXCEEDED',
};
const LEADERSHIP = new Set(['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'NETWORK_EXCEPTION']);

// "[thrd:…]: 127.0.0.1:17092/1: orders [3]: MessageSet with 514 message(s) (MsgId 6, BaseSeq 5) encountered error: Local: Timed out (actions Retry,MsgPossiblyPersisted)"
const MESSAGE_SET = /(\S+\/\S+): (\S+) \[(\d+)\]: MessageSet with \d+ message\(s\) \([^)]*\) (delivered|encountered error: (.*?) \(actions [^)]*\))/;

// librdkafka's warning while an idempotent producer has no producer id (nothing is sent until it has one).
const PID_REFUSED = /Failed to acquire idempotence PID from broker (\S+): (.*?): retrying/;

/** A line of librdkafka's msg debug about one request's answer: delivered, or failed and why. */
export function parseAnswer(line: string): { broker: string; topic: string; partition: number; error: string | undefined } | undefined {
  const found = MESSAGE_SET.exec(line);
  if (found === null) return undefined;
  const [, broker = '', topic = '', partition = '', outcome = '', error] = found;
  return { broker, topic, partition: Number(partition), error: outcome === 'delivered' ? undefined : error };
}

/** Each partition's failing answers since its last acknowledgement, fed with librdkafka's log lines. */
export class ProduceAnswers {
  private readonly failing = new Map<string, PartitionAnswer>();
  // The producer id's refusals since the first one; the producer says when it has its id.
  private pidRefused: { broker: string; error: string; since: number } | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** One librdkafka log line; those that are not a request's answer are ignored. */
  seen(line: string): void {
    const pid = PID_REFUSED.exec(line);
    if (pid !== null) {
      this.pidRefused = { broker: pid[1] ?? '', error: pid[2] ?? '', since: this.pidRefused?.since ?? this.now() };
      return;
    }
    const answer = parseAnswer(line);
    if (answer === undefined) return;
    const key = `${answer.topic}/${answer.partition}`;
    if (answer.error === undefined) {
      this.failing.delete(key);
      return;
    }
    const name = BROKER_ERRORS[answer.error];
    this.failing.set(key, {
      topic: answer.topic, partition: answer.partition, error: answer.error, name, broker: answer.broker,
      fromBroker: answer.error.startsWith('Broker: '), leadershipMoving: name !== undefined && LEADERSHIP.has(name),
      failingSince: this.failing.get(key)?.failingSince ?? this.now(),
    });
  }

  /**
   * A partition whose leader itself has refused every request for at least `forMs` with an answer a
   * new leader does not cure (NOT_ENOUGH_REPLICAS, say); a timeout or a lost connection is not an answer.
   */
  persisting(forMs: number): PartitionAnswer | undefined {
    const now = this.now();
    for (const answer of this.failing.values()) {
      if (answer.fromBroker && !answer.leadershipMoving && now - answer.failingSince >= forMs) return answer;
    }
    return undefined;
  }

  /**
   * The broker's refusal of a producer id, once refusals went on for `forMs` and the producer still has
   * none (`hasId` false): then no order was sent at all.
   */
  producerIdRefused(forMs: number, hasId: boolean): string | undefined {
    if (hasId) this.pidRefused = undefined;
    const refused = this.pidRefused;
    if (refused === undefined || this.now() - refused.since < forMs) return undefined;
    const [address = refused.broker, id] = refused.broker.split('/');
    return `${id === undefined ? refused.broker : `broker ${id} (${address})`} refused the producer an id (${refused.error}) for ${Math.round(this.now() - refused.since)} ms: no order was sent`;
  }

  /** The most recent failure of a partition still failing, for a line about orders that timed out. */
  last(): PartitionAnswer | undefined {
    let latest: PartitionAnswer | undefined;
    for (const answer of this.failing.values()) if (latest === undefined || answer.failingSince >= latest.failingSince) latest = answer;
    return latest;
  }
}

/** "broker 1 (127.0.0.1:17092), the leader of orders [3], answered NOT_ENOUGH_REPLICAS (Broker: Not enough in-sync replicas)". */
export function describeAnswer(answer: PartitionAnswer): string {
  const [address = answer.broker, id] = answer.broker.split('/');
  const who = id === undefined || !/^\d+$/.test(id) ? answer.broker : `broker ${id} (${address})`;
  const what = answer.name === undefined ? answer.error : `${answer.name} (${answer.error})`;
  return answer.fromBroker ? `${who}, the leader of ${answer.topic} [${answer.partition}], answered ${what}` : `${answer.topic} [${answer.partition}] at ${who}: ${what}`;
}
