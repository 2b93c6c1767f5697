// Reads a Pushgateway API answer, `{"status": "success", "data": [group, group, ...]}`, chunk by
// chunk and hands each element of `data` over as soon as it is complete, so that an inventory of
// 100,000 groups is never held whole, neither as text nor as objects (bench/README.md, "sweep").
// Pure. It finds where each element starts and ends by counting brackets outside strings (UTF-8
// bytes of multi-byte characters are all ≥ 0x80, so they never look like JSON's punctuation) and
// leaves the parsing of each element, and of the other members, to JSON.parse.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
/** `"data":` followed by `[`: the member whose elements are streamed. */
const DATA_KEY = /^"data"\s*:\s*$/;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export class DataArrayParser {
  /** The answer's other members (`status`, and `data` when it is not an array). */
  readonly members: Record<string, unknown> = {};
  /** Elements of `data` handed over so far. */
  elements = 0;
  private depth = 0;
  private opened = false;
  private inString = false;
  private escaped = false;
  /** Inside the `data` array: its elements are at depth 2, the top object's members at depth 1. */
  private inData = false;
  /** The text of the element or member being read, from chunks before this one. */
  private pieces: Buffer[] = [];
  private capturing = false;

  constructor(private readonly onElement: (element: unknown) => void) {}

  write(chunk: Buffer): void {
    let start = this.capturing ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      const level = this.inData ? 2 : 1;
      const closer = c === CLOSE_OBJECT || c === CLOSE_ARRAY;
      if (this.depth === 0) {
        this.top(c);
        continue;
      }
      if (this.depth === level && !this.capturing && !closer) {
        if (isSpace(c) || c === COMMA) continue;
        this.capturing = true;
        start = i;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_ARRAY && this.depth === 1 && !this.inData && DATA_KEY.test(this.captured(chunk, start, i))) {
        this.inData = true;
        this.capturing = false;
        this.pieces = [];
        this.depth = 2;
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) this.depth++;
      else if (closer || (c === COMMA && this.depth === level)) {
        if (this.depth === level && this.capturing) this.finish(chunk, start, i);
        if (closer && this.depth === level && this.inData) this.inData = false;
        if (closer) this.depth--;
      }
    }
    if (this.capturing) this.pieces.push(chunk.subarray(start));
  }

  /** The answer is complete: throws if it ended early. */
  end(): void {
    if (!this.opened || this.depth !== 0 || this.inString) throw new SyntaxError("the answer ended before its JSON did");
  }

  /** Outside the top object: only one object, with white space around it. */
  private top(c: number): void {
    if (isSpace(c)) return;
    if (c !== OPEN_OBJECT || this.opened) throw new SyntaxError("the answer is not one JSON object");
    this.opened = true;
    this.depth = 1;
  }

  private captured(chunk: Buffer, start: number, end: number): string {
    return Buffer.concat([...this.pieces, chunk.subarray(start, end)]).toString("utf8");
  }

  private finish(chunk: Buffer, start: number, end: number): void {
    const text = this.captured(chunk, start, end);
    this.pieces = [];
    this.capturing = false;
    if (this.inData) {
      this.elements++;
      this.onElement(JSON.parse(text));
    } else Object.assign(this.members, JSON.parse(`{${text}}`));
  }
}
