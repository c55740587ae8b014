import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { ConsumerGlobalConfig, EofEvent, KafkaConsumer, LibrdKafkaError, Message, TopicPartitionOffsetAndMetadata } from '@confluentinc/kafka-javascript';
import { Lifecycle } from '../lifecycle.js';
import { FetchWake, partitionKey, type TopicPartition } from './fetch-wake.js';
import type { LibraryListener } from '../producer/native-producer.js';

const { ERR__ASSIGN_PARTITIONS } = kafkaJavascript.CODES.ERRORS;

// consume(n) waits this long for a first message, then takes only what is ready: Ctrl-C, the end of
// the topic and a rebalance are looked at between two calls.
const CONSUME_WAIT_MS = 100;

// A query that wakes a leader's connection (fetch-wake.ts) gives up after this. Not sooner: a request
// answered later than its timeout makes librdkafka drop that connection (socket.max.fails), and a broker
// answers it after the fetch it holds (fetch.wait.max.ms, 500 ms); not later: close waits for it (DRAIN_MS).
const WAKE_QUERY_MS = 4_000;
// A user's fetch.wait.max.ms above this leaves no margin to the query's timeout: no wakes then.
const WAKE_FETCH_WAIT_AT_MOST_MS = WAKE_QUERY_MS / 2;

// Methods lib/kafka-consumer.js has that the binding's type definitions leave out.
interface UntypedMethods {
  assignmentLost(): boolean;
  rebalanceProtocol(): 'NONE' | 'EAGER' | 'COOPERATIVE';
  incrementalAssign(partitions: { topic: string; partition: number }[]): void;
  incrementalUnassign(partitions: { topic: string; partition: number }[]): void;
  setDefaultIsTimeoutOnlyForFirstMessage(onlyFirst: boolean): void;
  commitCb(offsets: TopicPartitionOffsetAndMetadata[], done: (error: LibrdKafkaError | null) => void): void;
}

/** A rebalance librdkafka asked for; the partitions stay ours until `finish` hands them over. */
export interface Rebalance {
  kind: 'assign' | 'revoke';
  partitions: { topic: string; partition: number }[];
  /** The partitions were lost (session timed out, fenced): nothing may be committed for them. */
  lost: boolean;
}

/** A committed offset with the metadata written beside it. */
export interface CommittedOffset {
  partition: number;
  /** -1 where the group has none. */
  offset: number;
  metadata: string | undefined;
}

/**
 * The node-rdkafka-compatible consumer of @confluentinc/kafka-javascript, each callback call as a
 * promise. librdkafka serves rebalances inside consume(): they are queued here, and the reader takes
 * them between two batches (`takeRebalance`), does what must happen before partitions move, then
 * `finish`es them, so no batch and no rebalance ever run at once.
 */
export class NativeConsumer {
  readonly client: KafkaConsumer & UntypedMethods;
  private readonly rebalances: Rebalance[] = [];
  private ends: EofEvent[] = [];
  // What librdkafka has assigned, as last asked; only finish() changes it. Asking is a round trip to
  // librdkafka's main thread: at once per batch it was 4.5 % of consume's CPU (issue 27).
  private assigned: { topic: string; partition: number }[] | undefined;
  // Leaving: librdkafka's last revoke is handed over at once, as nothing reads any more.
  private closing = false;
  // Its life: connected once, every call that calls back counted, disconnected once (src/kafka/lifecycle.ts).
  private readonly life: Lifecycle;
  // Partitions this side paused (pause, not yet resume): librdkafka keeps them paused across a rebalance.
  private readonly paused = new Set<string>();
  // After librdkafka or this side resumed partitions: their leaders' connections fetch now, not in up to 1 s.
  private readonly fetchWake: FetchWake | undefined;
  /** Told of a commit the broker refused: commit() only queues it, and its answer comes inside consume(). */
  commitRefused: (error: LibrdKafkaError) => void = () => {};

  constructor(config: ConsumerGlobalConfig, private readonly onLibrary: LibraryListener) {
    this.fetchWake = Number(config['fetch.wait.max.ms'] ?? 500) > WAKE_FETCH_WAIT_AT_MOST_MS ? undefined : new FetchWake(
      (topic, partition) => this.life.call(() => new Promise<void>((resolve) => {
        this.client.queryWatermarkOffsets(topic, partition, WAKE_QUERY_MS, () => resolve());
      })),
      (topic, partition) => !this.paused.has(partitionKey(topic, partition)) && this.assignment(topic).includes(partition),
    );
    this.client = new kafkaJavascript.KafkaConsumer({
      ...config,
      rebalance_cb: (error: LibrdKafkaError, assignment: { topic: string; partition: number }[]) => {
        const rebalance: Rebalance = {
          kind: error.code === ERR__ASSIGN_PARTITIONS ? 'assign' : 'revoke',
          partitions: assignment.map(({ topic, partition }) => ({ topic, partition })),
          lost: this.client.assignmentLost(),
        };
        if (this.closing) this.finish(rebalance);
        else this.rebalances.push(rebalance);
      },
      offset_commit_cb: (error: LibrdKafkaError | null) => {
        if (error) this.commitRefused(error);
      },
    }, { 'auto.offset.reset': 'earliest' }) as KafkaConsumer & UntypedMethods;
    this.life = new Lifecycle('consumer', {
      isConnected: () => this.client.isConnected(),
      disconnect: () => new Promise((resolve) => {
        this.client.disconnect(() => resolve());
      }),
    });
    // The binding disconnects by itself when its connect's metadata request fails: never again from here.
    this.client.on('disconnected', () => this.life.lost());
    this.client.setDefaultConsumeTimeout(CONSUME_WAIT_MS);
    this.client.setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.client.on('partition.eof', (end) => this.ends.push(end));
    this.client.on('event.log', (event: { message?: unknown }) => onLibrary(String(event.message)));
    this.client.on('event.error', (error) => onLibrary(`Error: ${error.message}`));
  }

  connect(timeoutMs: number): Promise<void> {
    return this.life.connect(() => new Promise((resolve, reject) => {
      this.client.connect({ timeout: timeoutMs }, (error) => (error ? reject(error) : resolve()));
    }));
  }

  /** Runs a native call of another client that uses this consumer (a transaction's sendOffsets): close waits for it. */
  use<T>(call: (client: KafkaConsumer) => Promise<T>): Promise<T> {
    return this.life.call(() => call(this.client));
  }

  subscribe(topic: string): void {
    this.client.subscribe([topic]);
  }

  /**
   * Up to `max` records, and the partitions found at their end (librdkafka's partition EOF), waiting
   * at most `waitMs` for the first.
   */
  consume(max: number, waitMs = CONSUME_WAIT_MS): Promise<{ messages: Message[]; ends: EofEvent[] }> {
    return this.life.call(() => new Promise((resolve, reject) => {
      this.client.setDefaultConsumeTimeout(waitMs);
      this.client.consume(max, (error, messages) => {
        // The EOF events are emitted before this callback, in the same call.
        const ends = this.ends;
        this.ends = [];
        if (error) reject(error);
        else resolve({ messages, ends });
      });
    }));
  }

  /** The oldest rebalance not yet handled. */
  takeRebalance(): Rebalance | undefined {
    return this.rebalances.shift();
  }

  /** Hands the partitions over: librdkafka goes on with the rebalance. */
  finish(rebalance: Rebalance): void {
    this.assigned = undefined;
    try {
      const cooperative = this.client.rebalanceProtocol() === 'COOPERATIVE';
      if (rebalance.kind === 'assign') {
        if (cooperative) this.client.incrementalAssign(rebalance.partitions);
        else this.client.assign(rebalance.partitions);
      } else if (cooperative) this.client.incrementalUnassign(rebalance.partitions);
      else this.client.unassign();
    } catch (error) {
      // librdkafka refuses an (un)assign it no longer expects (Erroneous state, seen while a static member
      // closed: soak seed 20261207 round 30); thrown inside rebalance_cb it was uncaught and the member never
      // stopped. The group rebalances again by itself; the refusal is only reported.
      this.onLibrary(`${rebalance.kind} of ${rebalance.partitions.length} partitions refused by librdkafka: ${(error as { message?: unknown }).message ?? String(error)}`);
      return;
    }
    // librdkafka paused every assigned partition for the rebalance and resumed them in the call above; those
    // it just assigned start fetching by themselves (that wakes their connections).
    if (this.fetchWake !== undefined && !this.closing && this.life.usable) this.fetchWake.wake(this.keptAfter(rebalance));
  }

  // The partitions assigned before the rebalance and still now; none if librdkafka cannot say (a wake is optional).
  // The assignment read here is the one the reader's next assignment() would read again.
  private keptAfter(rebalance: Rebalance): TopicPartition[] {
    const added = new Set(rebalance.kind === 'assign' ? rebalance.partitions.map(({ topic, partition }) => partitionKey(topic, partition)) : []);
    try {
      this.assigned = this.client.assignments();
    } catch {
      return [];
    }
    return this.assigned.filter(({ topic, partition }) => !added.has(partitionKey(topic, partition)));
  }

  /** Stops fetching `partitions` of `topic` (they stay assigned) until resume. */
  pause(topic: string, partitions: number[]): void {
    // A pause while the binding disconnects crashes it (confluentinc/confluent-kafka-javascript#34).
    if (!this.life.usable) return;
    this.client.pause(partitions.map((partition) => ({ topic, partition })));
    for (const partition of partitions) this.paused.add(partitionKey(topic, partition));
  }

  resume(topic: string, partitions: number[]): void {
    if (!this.life.usable) return;
    const resumed = partitions.map((partition) => ({ topic, partition }));
    this.client.resume(resumed);
    for (const partition of partitions) this.paused.delete(partitionKey(topic, partition));
    this.fetchWake?.wake(resumed);
  }

  /** The partitions of `topic` assigned to this consumer. */
  assignment(topic: string): number[] {
    if (!this.life.usable) return [];
    this.assigned ??= this.client.assignments();
    return this.assigned.filter((tp) => tp.topic === topic).map((tp) => tp.partition);
  }

  /**
   * Commits the offsets (and their metadata): resolves once librdkafka queued them (commitCb is
   * commitAsync). The broker's refusal comes later, inside consume(), to `commitRefused`.
   */
  commit(offsets: TopicPartitionOffsetAndMetadata[]): Promise<void> {
    return this.life.call(() => new Promise((resolve, reject) => {
      this.client.commitCb(offsets, (error: LibrdKafkaError | null) => (error ? reject(error) : resolve()));
    }));
  }

  /** The group's committed offsets of `partitions` of `topic`, with their metadata. */
  committed(topic: string, partitions: number[], timeoutMs: number): Promise<CommittedOffset[]> {
    return this.life.call(() => new Promise((resolve, reject) => {
      this.client.committed(partitions.map((partition) => ({ topic, partition })), timeoutMs, (error, found) => {
        if (error) {
          reject(error);
          return;
        }
        resolve(found.map((entry) => ({
          partition: entry.partition,
          offset: Number.isSafeInteger(entry.offset) && entry.offset >= 0 ? entry.offset : -1,
          metadata: entry.metadata ?? undefined,
        })));
      });
    }));
  }

  /** Reads `partition` again from `offset` (it must be assigned). */
  seek(topic: string, partition: number, offset: number, timeoutMs: number): Promise<void> {
    return this.life.call(() => new Promise((resolve, reject) => {
      this.client.seek({ topic, partition, offset }, timeoutMs, (error) => (error ? reject(error) : resolve()));
    }));
  }

  /** Leaves the group (what must be committed was, before) and lets go of the connections, once its calls ended. */
  async disconnect(): Promise<void> {
    this.closing = true;
    this.fetchWake?.stop();
    // What is still queued is handed over now, in order: close() waits for librdkafka's rebalance to end.
    if (this.life.usable) for (let rebalance = this.takeRebalance(); rebalance !== undefined; rebalance = this.takeRebalance()) this.finish(rebalance);
    await this.life.close();
  }
}
