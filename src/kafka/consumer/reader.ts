import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { Message } from '@confluentinc/kafka-javascript';
import { BrokerError, OrdersError, messageOf } from '../../errors.js';
import type { NativeConsumer, Rebalance } from './native-consumer.js';
import { EndOfTopic } from './end-of-topic.js';
import { ClientClosedError } from '../lifecycle.js';
import { GroupEnd } from './group-end.js';
import { GROUP_AUTHORIZATION_FAILED, authorizationFailure } from '../failures.js';
import type { Headers, SourceRecord } from '../record.js';
import type { KafkaSession } from '../session.js';

/** What a reader of records does as partitions come and go. */
export interface RebalanceHooks {
  /**
   * After an assignment (the whole one, or the added part of an incremental one). Those partitions are
   * paused until the promise settles, so no record of theirs is taken before; the others go on meanwhile.
   */
  assigned?(partitions: number[]): Promise<void>;
  /**
   * Awaited before partitions are handed over: what finished is committed. `lost`: they are gone
   * already (session timed out, fenced), and nothing may be committed for them.
   */
  revoking?(partitions: number[], lost: boolean): Promise<void>;
}

export interface ReadOptions {
  topic: string;
  /** The consumer's group, named when the broker refuses it. */
  group: string;
  /** Made by the session; readTopic connects, subscribes and disconnects it. */
  consumer: NativeConsumer;
  /** Commit each partition's position after each batch; false where a transaction or librdkafka commits it, or nobody may. */
  commit: boolean;
  exitAtEnd: boolean;
  /** Stops the read like Ctrl-C does, e.g. once a handler has what it needs. */
  until?: AbortSignal;
  /** Awaited once reading stops, before the consumer leaves its group (and so before its last revoke). */
  beforeDisconnect?: () => Promise<void>;
  /**
   * For handlers that finish records after they return: how far each partition is done comes from
   * here, not from what the handler took in, so --exit-at-end waits for the work, not the reading.
   */
  done?: DoneOffsets;
  rebalance?: RebalanceHooks;
  /** Called each time the read loop turns (at least every consume wait, 100 ms, unless a handler holds it): /healthz. */
  heartbeat?: () => void;
}

/** Where a handler that finishes records later says how far each partition is done (its last offset). */
export class DoneOffsets {
  private listener: ((partition: number, lastOffset: number) => void) | undefined;

  report(partition: number, lastOffset: number): void {
    this.listener?.(partition, lastOffset);
  }

  listen(listener: (partition: number, lastOffset: number) => void): void {
    this.listener = listener;
  }
}

/**
 * Handles a batch of one partition's records in order, without waiting for room; returns how many
 * (from the first) were taken. The partition is then paused and the rest offered again at each turn
 * of the loop until taken. Throwing fails the whole read: the command stops with that error.
 */
export type BatchHandler = (records: SourceRecord[], stopping: () => boolean) => Promise<number>;

/** Handles one record; throwing fails the read. */
export type RecordHandler = (record: SourceRecord) => Promise<void>;

const { ERR__FATAL } = kafkaJavascript.CODES.ERRORS;

// Records asked for per consume() call: librdkafka hands over what its queue holds, up to this. A batch
// lives until it is handled, and 10,000 records outlived scavenges into V8's old space: consuming
// 1,000,000 orders, 1,000 peaked at 166 MB against 264 MB (at-least-once) and 175 against 279 MB
// (exactly-once), in 2.9 and 3.9 CPU s less (issue 27, docs/benchmarks.md).
const BATCH_MAX = 1_000;
// With a partition paused for want of room, its records are offered again this soon: a commit may have made room.
const WAITING_CONSUME_MS = 10;

/** A batch handler that handles records one by one, in order. */
export function oneByOne(handle: RecordHandler): BatchHandler {
  return async (records, stopping) => {
    let handled = 0;
    for (const record of records) {
      if (stopping()) break;
      await handle(record);
      handled++;
    }
    return handled;
  };
}

/**
 * Reads `topic` until Ctrl-C, `until`, a failed handler or (with exitAtEnd) every assigned partition is
 * at its end. One loop does everything in turn: a rebalance is handled between two batches, never
 * during one. Positions advance only past handled records. The loop never stops polling (as Parallel
 * Consumer's broker poll system): a partition whose records the handler has no room for is paused, its
 * records kept, and consume() goes on, which keeps the member in its group and serves rebalances.
 */
export async function readTopic(session: KafkaSession, options: ReadOptions, handle: BatchHandler): Promise<void> {
  const { consumer, topic } = options;
  session.log.readingAs(options.group, topic);
  const offsets = await session.admin.topicOffsets(topic);
  const startEnds = new Map([...offsets].map(([partition, { high }]) => [partition, high]));
  const position = new EndOfTopic(startEnds);
  // --exit-at-end means the whole topic: the partitions other members hold count too (issue 25).
  const groupCommitted = async (): Promise<Map<number, number>> =>
    new Map((await consumer.committed(topic, [...startEnds.keys()], session.timeoutMs)).map(({ partition, offset }) => [partition, offset]));
  const topicEnd = options.exitAtEnd ? new GroupEnd(session.admin, session.logger, topic, options.group, startEnds, groupCommitted) : undefined;
  options.done?.listen((partition, lastOffset) => position.done(partition, lastOffset));
  const groupAccess = { operation: 'READ', resource: `group ${options.group}` } as const;
  await session.connect({ connect: () => consumer.connect(session.timeoutMs) }, 'consumer', groupAccess);
  await session.steps.run(`subscribing to ${topic}`, async () => consumer.subscribe(topic), { operation: 'READ', resource: `topic ${topic}` });
  const stop = new AbortController();
  // A refused principal or bad credentials show only in librdkafka's log, and it would retry for ever.
  const stopped = AbortSignal.any([session.signal, session.failed, stop.signal, ...(options.until === undefined ? [] : [options.until])]);
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown): void => {
    failure ??= { error };
    stop.abort();
    // The whole command fails, not only this loop: backoffs end and the drain gives up instead of waiting
    // for commits a failed consumer can no longer make.
    session.fail(error instanceof OrdersError ? error : new BrokerError(`reading ${topic} failed: ${messageOf(error)}`, error));
  };

  // Partitions assigned whose `assigned` hook (their committed offsets) is still under way, by the
  // assignment that paused them: they are not read until it is done, the others go on meanwhile.
  const preparing = new Map<number, number>();
  // Partitions paused because the handler had no room, with the records fetched and not taken yet, in
  // order: offered again at each turn; resumed once all are taken. librdkafka fetches on from after them.
  const waiting = new Map<number, SourceRecord[]>();
  let assignments = 0;
  const rebalance = async (event: Rebalance): Promise<void> => {
    const partitions = event.partitions.filter((tp) => tp.topic === topic).map((tp) => tp.partition);
    if (event.kind === 'revoke') {
      await options.rebalance?.revoking?.(partitions, event.lost);
      for (const partition of partitions) {
        position.revoked(partition);
        preparing.delete(partition);
      }
      // librdkafka keeps an application's pause across an unassign: the partition's next assignment must not start paused.
      const unpause = partitions.filter((partition) => waiting.delete(partition));
      if (unpause.length > 0) consumer.resume(topic, unpause);
      consumer.finish(event);
      return;
    }
    for (const partition of partitions) position.assigned(partition);
    topicEnd?.joined();
    consumer.finish(event);
    const prepared = options.rebalance?.assigned?.(partitions);
    if (prepared === undefined || partitions.length === 0) return;
    const assignment = ++assignments;
    for (const partition of partitions) preparing.set(partition, assignment);
    consumer.pause(topic, partitions);
    void prepared.finally(() => {
      // Only what this assignment paused and no later rebalance took over.
      const ready = partitions.filter((partition) => preparing.get(partition) === assignment);
      for (const partition of ready) preparing.delete(partition);
      const owned = consumer.assignment(topic);
      const resume = ready.filter((partition) => owned.includes(partition) && !waiting.has(partition));
      if (resume.length > 0) consumer.resume(topic, resume);
    });
  };
  const rebalances = async (): Promise<void> => {
    for (let event = consumer.takeRebalance(); event !== undefined; event = consumer.takeRebalance()) await rebalance(event);
  };

  const handleBatch = async (partition: number, records: SourceRecord[]): Promise<void> => {
    let handled: number;
    try {
      handled = await handle(records, () => stopped.aborted);
    } catch (error) {
      // Not the client's to retry: the command fails with this error once the consumer is closed.
      fail(error);
      return;
    }
    const last = records[handled - 1];
    if (last !== undefined) {
      position.read(partition, Number(last.offset));
      if (options.done === undefined) position.done(partition, Number(last.offset));
      if (options.commit) await commit(session, consumer, topic, partition, Number(last.offset) + 1);
    }
    // What is not taken waits here, its partition paused; when reading stops it is read again next time.
    if (handled >= records.length || stopped.aborted || !consumer.assignment(topic).includes(partition)) {
      if (waiting.delete(partition)) consumer.resume(topic, [partition]);
      return;
    }
    if (!waiting.has(partition)) consumer.pause(topic, [partition]);
    waiting.set(partition, records.slice(handled));
  };
  // Records kept for a paused partition are offered again; those fetched later join them, in order.
  const offer = async (partition: number, records: SourceRecord[]): Promise<void> => {
    const kept = waiting.get(partition);
    await handleBatch(partition, kept === undefined ? records : [...kept, ...records]);
  };
  // Records not taken are read again from `next`, unless the partition went away meanwhile or reading stops.
  const seekBack = async (partition: number, next: SourceRecord | undefined): Promise<void> => {
    if (next === undefined || stopped.aborted || !consumer.assignment(topic).includes(partition)) return;
    await consumer.seek(topic, partition, Number(next.offset), session.timeoutMs).catch((error: unknown) => fail(error));
    position.rewound(partition, Number(next.offset));
  };

  try {
    while (!stopped.aborted) {
      options.heartbeat?.();
      await rebalances();
      for (const partition of [...waiting.keys()]) if (!stopped.aborted && !preparing.has(partition)) await offer(partition, []);
      // Records kept for a paused partition are not read yet: that partition is not at its end.
      if (topicEnd?.reached(consumer.assignment(topic), (partition) => !waiting.has(partition) && position.reached([partition])) === true) break;
      let batch: Awaited<ReturnType<NativeConsumer['consume']>>;
      try {
        batch = await consumer.consume(BATCH_MAX, waiting.size > 0 ? WAITING_CONSUME_MS : undefined);
      } catch (error) {
        const refused = authorizationFailure(error, (code) => (code === GROUP_AUTHORIZATION_FAILED ? groupAccess : { operation: 'READ', resource: `topic ${topic}` }));
        if (refused !== undefined) fail(refused);
        // librdkafka's fatal error reaches consume() as ERR__FATAL without the flag (a refused static member, seen).
        else if ((error as { isFatal?: unknown }).isFatal === true || (error as { code?: unknown }).code === ERR__FATAL) fail(fatalFailure(session, topic, error));
        // librdkafka goes on by itself after anything else (a broker away, a coordinator moving).
        // A client already closed answers at once, for ever: going on would spin without yielding to timers or signals.
        else if (error instanceof ClientClosedError) fail(new BrokerError(`the consumer of ${topic} was closed: ${messageOf(error)}`, error));
        else session.logger.debug(`consume: ${messageOf(error)}`);
        continue;
      }
      // A revoke that came with this batch goes first: records of partitions no longer ours are read by their owner.
      await rebalances();
      for (const end of batch.ends) if (end.topic === topic) position.end(end.partition, end.offset);
      for (const [partition, records] of byPartition(batch.messages)) {
        if (stopped.aborted) break;
        // Fetched before its pause took hold: read again once its committed offsets are known.
        if (preparing.has(partition)) await seekBack(partition, records[0]);
        else await offer(partition, records);
      }
    }
  } finally {
    stop.abort();
    await options.beforeDisconnect?.();
    // What finished was committed by beforeDisconnect; the last revoke has nothing left to do.
    await consumer.disconnect();
  }
  if (failure !== undefined) throw failure.error;
  session.steps.throwIfFailed();
}

// librdkafka's fatal error says only "Local: Fatal error"; its reason is in its log (e.g. a static member
// whose instance id KIP-848's coordinator still holds for a killed predecessor's session).
function fatalFailure(session: KafkaSession, topic: string, error: unknown): BrokerError {
  const reason = session.log.fatalReason;
  return new BrokerError(`the consumer of ${topic} failed: ${messageOf(error)}${reason === undefined ? '' : ` (${reason})`}`, error);
}

// Most records carry no headers: one shared, frozen object, not one each.
const NO_HEADERS: Headers = Object.freeze({});

/** One batch's records by partition, each in offset order; a record keeps only what is used. */
function byPartition(messages: Message[]): Map<number, SourceRecord[]> {
  const found = new Map<number, SourceRecord[]>();
  for (const message of messages) {
    const record: SourceRecord = {
      topic: message.topic,
      partition: message.partition,
      offset: String(message.offset),
      timestamp: String(message.timestamp ?? -1),
      key: toBuffer(message.key),
      value: message.value,
      headers: message.headers === undefined ? NO_HEADERS : headersOf(message.headers),
    };
    const list = found.get(message.partition);
    if (list === undefined) found.set(message.partition, [record]);
    else list.push(record);
  }
  return found;
}

function toBuffer(key: Message['key']): Buffer | null {
  if (key === undefined || key === null) return null;
  return typeof key === 'string' ? Buffer.from(key) : key;
}

// The binding gives headers as a list of one-entry objects; a name given twice keeps every value, in order.
function headersOf(list: NonNullable<Message['headers']>): Headers {
  const headers: Headers = {};
  for (const entry of list) {
    for (const [name, value] of Object.entries(entry)) {
      const before = headers[name];
      headers[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
    }
  }
  return headers;
}

async function commit(session: KafkaSession, consumer: NativeConsumer, topic: string, partition: number, offset: number): Promise<void> {
  try {
    await consumer.commit([{ topic, partition, offset }]);
  } catch (error) {
    // Not fatal: the records are read again after a restart, which at-least-once allows.
    session.logger.warn(`commit of ${topic}/${partition}@${offset} failed: ${messageOf(error)}`);
  }
}
