import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DataArrayParser } from "../../src/pushgateway/client/data-array-parser.js";

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TRICKY = ['a"b', "\\", "{[", "]}", ",", "é", "日本", "🙂", "\n\t", '\\"', "data", '"data":['];

function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 4 : 7));
  if (k === 0) return TRICKY[Math.floor(r() * TRICKY.length)];
  if (k === 1) return Math.round(r() * 1e6) / 100;
  if (k === 2) return r() < 0.5 ? null : r() < 0.5;
  if (k === 3) return `plain ${Math.floor(r() * 1000)}`;
  if (k === 4) return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 4); i > 0; i--) o[String(value(r, 9))] = value(r, depth + 1);
  return o;
}

function answer(r: () => number): { text: string; data: unknown[] } {
  const data = Array.from({ length: Math.floor(r() * 6) }, () => ({ labels: { job: String(value(r, 9)) }, x: value(r, 1) }));
  const members: [string, unknown][] = [
    ["status", "success"],
    ["data", data],
    ["extra", value(r, 1)],
  ];
  if (r() < 0.5) members.reverse();
  const space = () => (r() < 0.3 ? " \n\t".slice(0, 1 + Math.floor(r() * 3)) : "");
  const text = `${space()}{${members.map(([k, v]) => `${space()}${JSON.stringify(k)}${space()}:${space()}${JSON.stringify(v, null, r() < 0.3 ? 1 : 0)}`).join(`${space()},`)}${space()}}${space()}`;
  return { text, data };
}

function parse(bytes: Buffer, cuts: number[]): { elements: unknown[]; members: Record<string, unknown> } {
  const elements: unknown[] = [];
  const p = new DataArrayParser((e) => elements.push(e));
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    p.write(bytes.subarray(at, cut));
    at = cut;
  }
  p.end();
  assert.equal(p.elements, elements.length);
  return { elements, members: p.members };
}

describe("DataArrayParser", () => {
  it("hands over every element of data and the other members as JSON.parse reads them, however the answer is cut", () => {
    const r = random(20261202);
    for (let n = 0; n < 500; n++) {
      const { text, data } = answer(r);
      const bytes = Buffer.from(text, "utf8");
      const whole = JSON.parse(text) as Record<string, unknown>;
      const cuts = Array.from({ length: Math.floor(r() * 8) }, () => Math.floor(r() * bytes.length)).sort((a, b) => a - b);
      const got = parse(bytes, cuts);
      assert.deepEqual(got.elements, data, text);
      const { data: _data, ...rest } = whole;
      assert.deepEqual(got.members, rest, text);
    }
  });

  it("reads an answer fed one byte at a time (a character's UTF-8 bytes split apart)", () => {
    const text = JSON.stringify({ status: "success", data: [{ labels: { job: "日本🙂" }, v: ['"]}', "\\"] }, { labels: { job: "x" } }] });
    const bytes = Buffer.from(text);
    const got = parse(
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
    );
    assert.deepEqual(got.elements, (JSON.parse(text) as { data: unknown[] }).data);
  });

  it("data null or empty: no element, the status read", () => {
    assert.deepEqual(parse(Buffer.from('{"status":"success","data":null}'), []), {
      elements: [],
      members: { status: "success", data: null },
    });
    assert.deepEqual(parse(Buffer.from('{"status":"success","data":[ ]}'), [27]), { elements: [], members: { status: "success" } });
  });

  it("refuses an answer cut short, more than one value, or not an object", () => {
    assert.throws(() => parse(Buffer.from('{"status":"success","data":[{"a":1}'), []), /ended before its JSON did/);
    assert.throws(() => parse(Buffer.from('{"data":[{"a":"1}]}'), []), /ended before its JSON did/);
    assert.throws(() => parse(Buffer.from("[1,2]"), []), /not one JSON object/);
    assert.throws(() => parse(Buffer.from("{} {}"), []), /not one JSON object/);
    assert.throws(() => parse(Buffer.from('{"data":[{"a":}]}'), []), SyntaxError);
  });
});
