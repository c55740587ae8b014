/**
 * Kafka's consumer lag of one partition: the records between the group's committed offset and the end
 * of the log. With no committed offset the group starts at the log start (auto.offset.reset=earliest),
 * so all of the log is lag. Undefined while the end is not known.
 */
export function lagOf(committed: number, end: number, start: number): number | undefined {
  if (end < 0) return undefined;
  const from = committed >= 0 ? committed : Math.max(0, start);
  return Math.max(0, end - from);
}

/**
 * Where a read_committed consumer stops: the last stable offset, which an open transaction holds below
 * the high watermark; the high watermark where the stable offset is not known.
 */
export function readableEnd(highWatermark: number, lastStable: number): number {
  return lastStable >= 0 ? lastStable : highWatermark;
}
