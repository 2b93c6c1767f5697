// checkSeries, the reading the Prometheus loop test makes of a query_range answer: it must see a
// step back, a gap, and a missing start or end, or that test could not fail.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkSeries } from "../support/series-check.js";

const steps = (from: number, values: number[]): [number, number][] => values.map((v, i) => [from + i, v]);

describe("checkSeries", () => {
  it("a value that only goes up, one point every step: no decrease, no gap", () => {
    assert.deepEqual(checkSeries(steps(10, [1, 1, 2, 3, 3, 4]), 10, 15, 1), {
      points: 6,
      min: 1,
      max: 4,
      decreases: [],
      longestGapS: 0,
      longestGapAtS: 10,
    });
  });

  it("an older copy scraped after a newer one is a decrease, each time", () => {
    const c = checkSeries(steps(0, [5, 6, 3, 7, 3, 8]), 0, 5, 1);
    assert.deepEqual(c.decreases, [
      { atS: 2, from: 6, to: 3 },
      { atS: 4, from: 7, to: 3 },
    ]);
  });

  it("the longest stretch without a point, in the middle, at the start or at the end", () => {
    const middle: [number, number][] = [
      [0, 1],
      [1, 2],
      [4, 3],
      [5, 4],
    ];
    assert.deepEqual([checkSeries(middle, 0, 5, 1).longestGapS, checkSeries(middle, 0, 5, 1).longestGapAtS], [2, 2]);
    assert.equal(checkSeries(steps(3, [1, 2, 3]), 0, 5, 1).longestGapS, 3, "nothing for the first three steps");
    assert.equal(checkSeries(steps(0, [1, 2]), 0, 5, 1).longestGapS, 4, "nothing after the second step");
    assert.equal(checkSeries([], 0, 5, 1).longestGapS, 6, "no point at all: the whole window and one step");
  });
});
