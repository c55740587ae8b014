import { setFlagsFromString } from 'node:v8';

// V8 lets its old space grow to as much as 4 x what survived the last full collection before the next
// one; consume promotes records that die there by the million, so much of its peak RSS was that
// headroom. At 1.5 x, consuming 1,000,000 orders peaked at 140 MB against 166 MB (at-least-once), 145
// against 175 MB (exactly-once), 157 MB at fail-rate 0.3, in about as much CPU (issue 27, docs/benchmarks.md).
export const HEAP_GROWING_PERCENT = 50;

/**
 * V8's flag for orders' heap growth, or undefined where node's own command line set it already
 * (`node --heap-growing-percent=N "$(command -v orders)"`; node refuses it in NODE_OPTIONS).
 */
export function heapGrowthFlag(execArgv: readonly string[]): string | undefined {
  const given = execArgv.some((option) => /--heap[-_]growing[-_]percent\b/.test(option));
  return given ? undefined : `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/** Sets it for this process: V8 reads it at each full collection, so it holds from the next one on. */
export function boundHeapGrowth(): void {
  const flag = heapGrowthFlag(process.execArgv);
  if (flag !== undefined) setFlagsFromString(flag);
}
