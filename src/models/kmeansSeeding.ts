/** k-means++ seeding on typed arrays (the centres handed to ml-kmeans). */
import { mulberry32 } from './kmeans.js';

/**
 * Greedy k-means++ seeding (Arthur & Vassilvitskii 2007; the greedy variant
 * with 2 + ⌊ln k⌋ local trials per centre, as scikit-learn and ml-kmeans do)
 * on a row-major typed array: the first centre is a uniformly drawn point;
 * each next centre is the best (lowest resulting inertia; ties → the earliest
 * trial) of `localTrials` points drawn with probability proportional to their
 * squared distance to the nearest centre so far. O(n·k·localTrials·d) time,
 * O(n·localTrials) memory. Randomness from {@link mulberry32}(`seed`), so the
 * same points in the same order give the same centres. Needs k ≤ the number
 * of distinct points (checked by the caller); returns k×d row-major centres.
 */
export function kMeansPlusPlus(points: Float64Array, d: number, k: number, seed: number, localTrials = 2 + Math.floor(Math.log(k))): Float64Array {
  const n = points.length / d;
  const random = mulberry32(seed);
  const centers = new Float64Array(k * d);
  const closest = new Float64Array(n); // squared distance to the nearest centre so far
  const cumulative = new Float64Array(n);
  const trials = Array.from({ length: localTrials }, () => new Float64Array(n));
  const candidates = new Int32Array(localTrials);

  const setCenter = (c: number, i: number) => {
    // Stryker disable next-line EqualityOperator: `<=` writes one more value into the next centre's slot, which setCenter fills later, or past the end of the array (ignored)
    for (let j = 0; j < d; j++) centers[c * d + j] = points[i * d + j];
  };
  // random() < 1 (at most 1 − 2⁻³²), so this is at most n − 1.
  const first = Math.floor(random() * n);
  setCenter(0, first);
  // Stryker disable next-line EqualityOperator: `<=` only adds a pass one past the end of a typed array (reads undefined, so NaN; writes ignored)
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const diff = points[i * d + j] - points[first * d + j];
      s += diff * diff;
    }
    closest[i] = s;
  }
  // Stryker disable next-line EqualityOperator: `c <= k` adds a last round whose centre is written past the end of the array (ignored); only the draws it uses differ
  for (let c = 1; c < k; c++) {
    let running = 0;
    for (let i = 0; i < n; i++) cumulative[i] = running += closest[i];
    const total = running;
    // draw the candidates: first index whose cumulative weight exceeds u·total
    for (let t = 0; t < localTrials; t++) {
      const target = random() * total;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cumulative[mid] > target) hi = mid;
        else lo = mid + 1;
      }
      while (lo > 0 && closest[lo] === 0) lo--; // rounding at the very top: step back to a point with weight
      candidates[t] = lo;
    }
    let bestTrial = 0;
    let bestPotential = Infinity;
    for (let t = 0; t < localTrials; t++) {
      const q = candidates[t] * d;
      const next = trials[t];
      let pot = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const diff = points[i * d + j] - points[q + j];
          s += diff * diff;
        }
        // Stryker disable next-line EqualityOperator: at a tie both are the same value
        const v = s < closest[i] ? s : closest[i];
        next[i] = v;
        pot += v;
      }
      if (pot < bestPotential) {
        bestPotential = pot;
        bestTrial = t;
      }
    }
    setCenter(c, candidates[bestTrial]);
    closest.set(trials[bestTrial]);
  }
  return centers;
}
