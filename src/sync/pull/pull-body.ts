/** The response goes out in chunks of about this many characters. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Writes the pull response `{ changes: { <table>: { created: [], updated: [...], deleted: [...] } },
 * timestamp }` from pieces of JSON text that PostgreSQL rendered, as they come: each chunk is
 * handed to `emit` once full, so the response is never held whole (and never as one string).
 * Sections are table i's `updated` (2i) and `deleted` (2i+1); pieces must come in section order,
 * as the pull statement returns them.
 */
export class PullBody {
  records = 0;
  /** The section being written; -1 before the first. */
  private section = -1;
  private firstInSection = true;
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(
    private readonly tables: readonly string[],
    private readonly emit: (chunk: Buffer) => void,
  ) {}

  add(section: number, json: string): void {
    if (section < this.section) {
      throw new Error(`pull rows out of order: section ${section} after ${this.section}`);
    }
    this.enter(section);
    if (!this.firstInSection) this.write(',');
    this.firstInSection = false;
    this.write(json);
    this.records++;
  }

  /** Writes the rest of the response and emits its last chunk. */
  finish(timestamp: number, replacement = false): void {
    this.enter(2 * this.tables.length);
    const strategy = replacement ? `"experimentalStrategy":"replacement",` : '';
    this.write(`},${strategy}"timestamp":${timestamp}}`);
    this.flush();
  }

  /** Closes the sections before `section` (empty ones included) and opens it. */
  private enter(section: number): void {
    while (this.section < section) {
      this.section++;
      this.firstInSection = true;
      const s = this.section;
      if (s % 2 === 1) {
        this.write('],"deleted":[');
        continue;
      }
      if (s > 0) this.write(']}');
      if (s === 2 * this.tables.length) break;
      const table = JSON.stringify(this.tables[s / 2]);
      this.write(`${s === 0 ? '{"changes":{' : ','}${table}:{"created":[],"updated":[`);
    }
  }

  private write(text: string): void {
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= CHUNK_CHARS) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.emit(Buffer.from(this.pending.join('')));
    this.pending = [];
    this.pendingChars = 0;
  }
}
