/** One buffer and its views, each made once: the lengths of orders and their ids repeat. */
export class ScratchViews {
  readonly buffer: Buffer;
  private readonly views = new Map<number, Buffer>();

  constructor(size: number) {
    this.buffer = Buffer.alloc(size);
  }

  /** Bytes `start` to `end` (exclusive). */
  view(start: number, end: number): Buffer {
    const key = start * this.buffer.length + end;
    let view = this.views.get(key);
    if (view === undefined) {
      view = this.buffer.subarray(start, end);
      this.views.set(key, view);
    }
    return view;
  }
}
