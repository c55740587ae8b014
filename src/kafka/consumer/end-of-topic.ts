interface PartitionEnd {
  /** librdkafka said the partition is at its end, and nothing was read again since. */
  atEnd: boolean;
  /** The next offset to read, as far as known. */
  position: number;
  /** The last offset handed to the handler, and the last one whose work is done. */
  lastRead: number;
  lastDone: number;
}

/**
 * Knows when a reader has read every assigned partition to its end, like `kcat -e`: a partition is
 * done when librdkafka reported its end (partition EOF, which counts transaction markers right) or
 * the position passed the end it had at start, and every record read from it is done. No timer
 * guesses: a record still in work keeps its partition from counting as done, however quiet.
 */
export class EndOfTopic {
  private readonly partitions = new Map<number, PartitionEnd>();

  /** @param startEnds each partition's high watermark when reading began. */
  constructor(private readonly startEnds: Map<number, number>) {}

  /** The partition is (again) ours: nothing is known of it yet. */
  assigned(partition: number): void {
    this.partitions.set(partition, { atEnd: false, position: -1, lastRead: -1, lastDone: -1 });
  }

  revoked(partition: number): void {
    this.partitions.delete(partition);
  }

  /** librdkafka's partition EOF: the next offset to read is `offset`, and there is nothing there yet. */
  end(partition: number, offset: number): void {
    const state = this.partitions.get(partition);
    if (state === undefined) return;
    state.atEnd = true;
    state.position = Math.max(state.position, offset);
  }

  /** Records up to `lastOffset` were handed to the handler. */
  read(partition: number, lastOffset: number): void {
    const state = this.partitions.get(partition);
    if (state === undefined) return;
    state.lastRead = Math.max(state.lastRead, lastOffset);
    state.position = Math.max(state.position, lastOffset + 1);
  }

  /** The work of the records up to `lastOffset` is done (committed, where the handler commits later). */
  done(partition: number, lastOffset: number): void {
    const state = this.partitions.get(partition);
    if (state !== undefined) state.lastDone = Math.max(state.lastDone, lastOffset);
  }

  /** Records are read again from `offset`: an end seen before no longer holds. */
  rewound(partition: number, offset: number): void {
    const state = this.partitions.get(partition);
    if (state === undefined) return;
    state.atEnd = false;
    state.position = offset;
  }

  /** True when every given partition is read to its end and its work done; false for none. */
  reached(partitions: number[]): boolean {
    if (partitions.length === 0) return false;
    return partitions.every((partition) => {
      const state = this.partitions.get(partition);
      if (state === undefined) return false;
      const readToEnd = state.atEnd || state.position >= (this.startEnds.get(partition) ?? Number.MAX_SAFE_INTEGER);
      return readToEnd && state.lastDone >= state.lastRead;
    });
  }
}
