/** One buffer and its views from the start, made once per length: the lengths of orders repeat. */
export class ScratchViews {
  readonly buffer: Buffer;
  private readonly views: Buffer[] = [];

  constructor(size: number) {
    this.buffer = Buffer.alloc(size);
  }

  /** The first `length` bytes. */
  view(length: number): Buffer {
    return this.views[length] ??= this.buffer.subarray(0, length);
  }
}
