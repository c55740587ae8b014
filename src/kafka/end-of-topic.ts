/**
 * Knows when a reader has caught up with what a topic held when it started, like `kcat -e`:
 * each partition's end is its high watermark at start, its position the next offset to read.
 */
export class EndOfTopic {
  private readonly ends: Map<number, number>;
  private readonly positions = new Map<number, number>();

  constructor(ends: Map<number, number>) {
    this.ends = ends;
  }

  /** Where reading starts when no record has been seen yet: the committed offset, or the log start. */
  startAt(partition: number, offset: number): void {
    if (!this.positions.has(partition)) this.positions.set(partition, offset);
  }

  hasStart(partition: number): boolean {
    return this.positions.has(partition);
  }

  consumed(partition: number, offset: number): void {
    this.positions.set(partition, Math.max(offset + 1, this.positions.get(partition) ?? 0));
  }

  /** True when every given partition has been read up to its end; false while any position is unknown. */
  reached(partitions: number[]): boolean {
    if (partitions.length === 0) return false;
    return partitions.every((partition) => {
      const position = this.positions.get(partition);
      return position !== undefined && position >= (this.ends.get(partition) ?? 0);
    });
  }
}
