export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type Headers = Record<string, HeaderValue>;

/** A consumed record as it came from Kafka, before any decoding. */
export interface SourceRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
}

// Kafka allows a header name more than once; the last value is the one that counts.
export function headerText(value: HeaderValue): string | null {
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last === undefined ? null : last.toString();
}
