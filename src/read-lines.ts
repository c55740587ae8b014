import { createReadStream } from 'node:fs';
import { addAbortSignal, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** The lines of one chunk of input, numbered from 1 across the whole input. */
export interface LineBatch {
  /** The number of the batch's first line. */
  first: number;
  /** Each line without its newline; null for a line longer than the limit, whose text was dropped as it came. */
  lines: (string | null)[];
}

/** The longest line kept: an order is ~120 characters, and a line without end must not fill the memory. */
export const MAX_LINE_CHARS = 1 << 20;
// A chunk's text stays below V8's large-object size (128 KiB): a 256 KiB chunk made every text a
// large object of its own (mmap, page faults, munmap), 16 x the CPU of 64 KiB ones in the decode and split.
const READ_BYTES = 1 << 16;

/** `-` is stdin, anything else a file; `signal` ends the reading (the stream is destroyed). */
export function openInput(path: string, signal: AbortSignal): Readable {
  const stream = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: READ_BYTES });
  return addAbortSignal(signal, stream);
}

/**
 * Splits a stream of UTF-8 bytes into lines, a batch per chunk read, never holding more than a chunk
 * and one line: "\n" ends a line (a "\r" before it stays, JSON reads it as whitespace), a UTF-8 BOM at
 * the start is dropped, and a last line without "\n" is a line too.
 */
export async function* readLines(stream: AsyncIterable<Buffer | string>, maxChars = MAX_LINE_CHARS): AsyncGenerator<LineBatch> {
  const decoder = new StringDecoder('utf8');
  let next = 1;
  // The start of a line whose end is in a later chunk; `dropping` once it grew past maxChars.
  let rest = '';
  let dropping = false;
  let atStart = true;
  for await (const chunk of stream) {
    let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (atStart && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      atStart = false;
    }
    const lines: (string | null)[] = [];
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const line = dropping ? null : rest === '' ? text.slice(start, end) : rest + text.slice(start, end);
      lines.push(line !== null && line.length > maxChars ? null : line);
      rest = '';
      dropping = false;
      start = end + 1;
    }
    if (!dropping) rest += text.slice(start);
    if (rest.length > maxChars) {
      rest = '';
      dropping = true;
    }
    if (lines.length > 0) {
      yield { first: next, lines };
      next += lines.length;
    }
  }
  if (!dropping) rest += decoder.end();
  if (dropping || rest !== '') yield { first: next, lines: [dropping || rest.length > maxChars ? null : rest] };
}
