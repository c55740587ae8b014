/**
 * Lines written a batch at a time, at the latest on the next turn of the event loop: stdout to a
 * pipe or file costs a system call per write.
 */
export class BatchedLines {
  private readonly write: (text: string) => void;
  private readonly maxLines: number;
  private pending: string[] = [];
  private scheduled = false;

  /** `write` gets the lines joined by newlines, without the last one. */
  constructor(write: (text: string) => void, maxLines = 1_000) {
    this.write = write;
    this.maxLines = maxLines;
  }

  add(line: string): void {
    this.pending.push(line);
    if (this.pending.length >= this.maxLines) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('\n');
    this.pending = [];
    this.write(text);
  }
}
