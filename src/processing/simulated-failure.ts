/**
 * Whether attempt `attempt` of order `orderId` fails, as a pure function of the seed:
 * a rerun or a replayed batch with the same seed makes the same decisions.
 */
export function failsAttempt(seed: number, orderId: string, attempt: number, failRate: number): boolean {
  if (failRate <= 0) return false;
  if (failRate >= 1) return true;
  return unitHash(`${seed}:${orderId}:${attempt}`) < failRate;
}

/** FNV-1a over the UTF-16 code units, finished with a murmur3 mix, mapped to [0, 1). */
export function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 4_294_967_296;
}
