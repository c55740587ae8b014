import { UndecodableError } from '../errors.js';

/** Confluent's framing: magic byte 0, then the schema id as a 4-byte big-endian integer, then the Avro body. */
export const HEADER_BYTES = 5;
const MAGIC = 0;

/** The 5 bytes that go before every value written with schema `id`. */
export function wireHeader(id: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(MAGIC, 0);
  header.writeUInt32BE(id, 1);
  return header;
}

/** The schema id and the Avro body of a framed value, or UndecodableError saying what is wrong with it. */
export function readFrame(bytes: Buffer | null): { schemaId: number; body: Buffer } {
  if (bytes === null) throw new UndecodableError('record has no value');
  if (bytes.length < HEADER_BYTES) throw new UndecodableError(`value of ${bytes.length} bytes is shorter than the 5-byte schema registry header`);
  if (bytes[0] !== MAGIC) throw new UndecodableError(`value starts with byte 0x${bytes[0]?.toString(16).padStart(2, '0') ?? '??'}, not the schema registry magic byte 0x00`);
  return { schemaId: bytes.readUInt32BE(1), body: bytes.subarray(HEADER_BYTES) };
}

/** The schema id of a framed value, or null when it is not framed. */
export function schemaIdOf(bytes: Buffer | null): number | null {
  return bytes !== null && bytes.length >= HEADER_BYTES && bytes[0] === MAGIC ? bytes.readUInt32BE(1) : null;
}
