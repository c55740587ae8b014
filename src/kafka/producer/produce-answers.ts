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
const MESSAGE_SET = /(\S+\/\S+): (\S+) \[(\d+)\]: MessageSet with (\d+) message\(s\) \(MsgId (\d+)[^)]*\) (delivered|encountered error: (.*?) \(actions ([^)]*)\))/;

// "[thrd:…]: 127.0.0.1:17093/2: orders [3] 1 message(s) implicitly acked by subsequent batch success (msgids 1..1, last acked 7)"
const IMPLICIT_ACK = /(\S+) \[(\d+)\] \d+ message\(s\) implicitly acked by subsequent batch success \(msgids (\d+)\.\.(\d+),/;

// librdkafka's warning while an idempotent producer has no producer id (nothing is sent until it has one).
const PID_REFUSED = /Failed to acquire idempotence PID from broker (\S+): (.*?): retrying/;

/**
 * A line of librdkafka's msg debug about one request's answer: delivered, or failed and why, with the
 * messages it carried (librdkafka's msgids, per partition) and whether a refusal wrote nothing.
 */
export function parseAnswer(line: string): { broker: string; topic: string; partition: number; error: string | undefined; first: number; count: number; notWritten: boolean } | undefined {
  const found = MESSAGE_SET.exec(line);
  if (found === null) return undefined;
  const [, broker = '', topic = '', partition = '', count = '', first = '', outcome = '', error, actions = ''] = found;
  return {
    broker, topic, partition: Number(partition), error: outcome === 'delivered' ? undefined : error,
    first: Number(first), count: Number(count), notWritten: outcome !== 'delivered' && actions.split(',').includes('MsgNotPersisted'),
  };
}

/** Messages librdkafka counted as delivered because a later request of their partition was (msgids first..last). */
export function parseImplicitAck(line: string): { topic: string; partition: number; first: number; last: number } | undefined {
  const found = IMPLICIT_ACK.exec(line);
  if (found === null) return undefined;
  const [, topic = '', partition = '', first = '', last = ''] = found;
  return { topic, partition: Number(partition), first: Number(first), last: Number(last) };
}

/** Each partition's failing answers since its last acknowledgement, fed with librdkafka's log lines. */
export class ProduceAnswers {
  private readonly failing = new Map<string, PartitionAnswer>();
  // Per partition, the msgids of requests the broker refused without writing them (MsgNotPersisted), until a retry of them is delivered.
  private readonly refusedUnwritten = new Map<string, Array<{ first: number; last: number }>>();
  // Per partition ("orders [3]"), how many messages librdkafka counted delivered though nothing wrote them.
  private readonly unwrittenAcked = new Map<string, number>();
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
    const implicit = parseImplicitAck(line);
    if (implicit !== undefined) {
      this.implicitlyAcked(implicit);
      return;
    }
    const answer = parseAnswer(line);
    if (answer === undefined) return;
    const key = `${answer.topic}/${answer.partition}`;
    this.trackUnwritten(key, answer);
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

  // A refusal that wrote nothing is remembered until a request with those messages is delivered.
  private trackUnwritten(key: string, answer: { first: number; count: number; notWritten: boolean }): void {
    const last = answer.first + answer.count - 1;
    const ranges = this.refusedUnwritten.get(key) ?? [];
    const rest = ranges.filter((range) => range.last < answer.first || range.first > last);
    if (answer.notWritten) rest.push({ first: answer.first, last });
    if (rest.length > 0) this.refusedUnwritten.set(key, rest);
    else this.refusedUnwritten.delete(key);
  }

  // librdkafka infers a delivery from a later request's success (right after an answer that may have been
  // written); after a refusal that wrote nothing, the broker can accept the later request with a gap in the
  // sequence (a new leader with no state of this producer), and the refused orders are lost.
  private implicitlyAcked(implicit: { topic: string; partition: number; first: number; last: number }): void {
    const ranges = this.refusedUnwritten.get(`${implicit.topic}/${implicit.partition}`) ?? [];
    let count = 0;
    for (const range of ranges) count += Math.max(0, Math.min(range.last, implicit.last) - Math.max(range.first, implicit.first) + 1);
    if (count === 0) return;
    const where = `${implicit.topic} [${implicit.partition}]`;
    this.unwrittenAcked.set(where, (this.unwrittenAcked.get(where) ?? 0) + count);
  }

  /**
   * Orders librdkafka reported delivered though the broker refused the only request of theirs it
   * answered, and none was delivered since: they are very likely not in the topic.
   */
  ackedUnwritten(): { count: number; partitions: string[] } | undefined {
    if (this.unwrittenAcked.size === 0) return undefined;
    return { count: [...this.unwrittenAcked.values()].reduce((sum, count) => sum + count, 0), partitions: [...this.unwrittenAcked.keys()] };
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
