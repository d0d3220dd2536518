/** Rows are packed into chunks of about this many characters. */
const CHUNK_CHARS = 64 * 1024;
const COMMA = Buffer.from(',');

/** One array of the response (a table's `updated` or `deleted`), packed into Buffers. */
class Section {
  readonly chunks: Buffer[] = [];
  private pending: string[] = [];
  private pendingChars = 0;

  add(json: string): void {
    this.pending.push(json);
    this.pendingChars += json.length;
    if (this.pendingChars >= CHUNK_CHARS) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Buffer.from(this.pending.join(',')));
    this.pending = [];
    this.pendingChars = 0;
  }
}

/**
 * The pull response `{ changes: { <table>: { created: [], updated: [...], deleted: [...] } },
 * timestamp }`, assembled from pieces of JSON text that PostgreSQL rendered. The pieces may come
 * in any order; each is packed into its section's chunks as it comes, so the response is held
 * once, as Buffers, and never as one big string.
 */
export class PullBody {
  private readonly sections: Section[];
  records = 0;

  /** Section 2i is table i's `updated`, section 2i+1 its `deleted`. */
  constructor(private readonly tables: readonly string[]) {
    this.sections = tables.flatMap(() => [new Section(), new Section()]);
  }

  add(section: number, json: string): void {
    this.sections[section].add(json);
    this.records++;
  }

  finish(timestamp: number): Buffer[] {
    const out: Buffer[] = [];
    const text = (value: string) => out.push(Buffer.from(value));
    const array = (section: Section) => {
      section.flush();
      section.chunks.forEach((chunk, i) => (i ? out.push(COMMA, chunk) : out.push(chunk)));
    };
    text('{"changes":{');
    this.tables.forEach((table, i) => {
      text(`${i ? ',' : ''}${JSON.stringify(table)}:{"created":[],"updated":[`);
      array(this.sections[2 * i]);
      text('],"deleted":[');
      array(this.sections[2 * i + 1]);
      text(']}');
    });
    text(`},"timestamp":${timestamp}}`);
    return out;
  }
}
