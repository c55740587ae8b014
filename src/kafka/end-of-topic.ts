/**
 * Knows when a reader has caught up with what a topic held when it started, like `kcat -e`:
 * each partition's end is its high watermark at start, its position the next offset to read.
 * With `quietMs`, a partition that has been quiet that long also counts as read to its end
 * (transaction markers after the last record keep a position from ever reaching the watermark);
 * before its first record a partition gets `startGraceMs` more, for the first fetch to arrive. A partition
 * stuck on a record that could not be handled is never quiet: it has data left.
 */
export class EndOfTopic {
  private readonly ends: Map<number, number>;
  private readonly quietMs: number | undefined;
  private readonly startGraceMs: number;
  private readonly seenRecords = new Set<number>();
  private readonly positions = new Map<number, number>();
  private readonly lastProgress = new Map<number, number>();
  // Partitions whose next record could not be handled yet: quiet there means stuck, not done.
  private readonly stuckAt = new Set<number>();

  constructor(ends: Map<number, number>, quietMs?: number, startGraceMs = 2_000) {
    this.ends = ends;
    this.quietMs = quietMs;
    this.startGraceMs = startGraceMs;
  }

  /** Where reading starts when no record has been seen yet: the committed offset, or the log start. */
  startAt(partition: number, offset: number, now = Date.now()): void {
    if (this.positions.has(partition)) return;
    this.positions.set(partition, offset);
    this.lastProgress.set(partition, now);
  }

  hasStart(partition: number): boolean {
    return this.positions.has(partition);
  }

  consumed(partition: number, offset: number, now = Date.now()): void {
    this.positions.set(partition, Math.max(offset + 1, this.positions.get(partition) ?? 0));
    this.lastProgress.set(partition, now);
    this.seenRecords.add(partition);
    this.stuckAt.delete(partition);
  }

  /** A record of `partition` was delivered but not handled; it is read again, and until then the partition is not at its end. */
  stuck(partition: number): void {
    this.stuckAt.add(partition);
  }

  /** True when every given partition has been read up to its end; false while any position is unknown. */
  reached(partitions: number[], now = Date.now()): boolean {
    if (partitions.length === 0) return false;
    return partitions.every((partition) => {
      const position = this.positions.get(partition);
      if (position === undefined) return false;
      if (position >= (this.ends.get(partition) ?? 0)) return true;
      if (this.quietMs === undefined || this.stuckAt.has(partition)) return false;
      const quietFor = this.quietMs + (this.seenRecords.has(partition) ? 0 : this.startGraceMs);
      return now - (this.lastProgress.get(partition) ?? now) >= quietFor;
    });
  }
}
