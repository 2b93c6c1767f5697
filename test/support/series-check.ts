// What a user reads off a query_range answer for a value that only ever goes up (a gauge pushed
// +1 each time): how many points, the range, every step where it went backwards (an older copy
// scraped after a newer one: docs/facts/prometheus.md, "Staleness"), and the longest stretch of
// the window with no value at all. Pure.

export interface Decrease {
  atS: number;
  from: number;
  to: number;
}

export interface SeriesCheck {
  points: number;
  min: number;
  max: number;
  decreases: Decrease[];
  /** The longest run of steps of [startS, endS] without a point, in seconds (steps missed x step; 0 when none is). */
  longestGapS: number;
  /** Where that stretch begins (the first step without a value). */
  longestGapAtS: number;
}

/** Reads `values` ([time s, value], in time order) of a query_range over [startS, endS] with `stepS`. */
export function checkSeries(values: readonly [number, number][], startS: number, endS: number, stepS: number): SeriesCheck {
  const decreases: Decrease[] = [];
  let gap = { s: 0, at: startS };
  const widen = (from: number, to: number) => {
    const s = to - from - stepS; // consecutive steps are one step apart: no gap
    if (s > gap.s + 1e-9) gap = { s, at: from + stepS };
  };
  let prev: [number, number] | undefined;
  for (const point of values) {
    if (prev === undefined) widen(startS - stepS, point[0]);
    else {
      widen(prev[0], point[0]);
      if (point[1] < prev[1]) decreases.push({ atS: point[0], from: prev[1], to: point[1] });
    }
    prev = point;
  }
  widen(prev === undefined ? startS - stepS : prev[0], endS + stepS);
  const vs = values.map((v) => v[1]);
  return {
    points: values.length,
    min: vs.length ? Math.min(...vs) : NaN,
    max: vs.length ? Math.max(...vs) : NaN,
    decreases,
    longestGapS: Math.max(0, round(gap.s)),
    longestGapAtS: gap.at,
  };
}

const round = (s: number) => Math.round(s * 1000) / 1000;
