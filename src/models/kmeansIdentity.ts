/**
 * Cluster identity across runs: which of the previous run's clusters each of
 * this run's clusters is, so that cluster N names the same group of customers
 * from one run to the next (and `crm migration --by cluster` compares like
 * with like). The matching is the optimal assignment (Kuhn–Munkres, the
 * "Hungarian" algorithm) of the new centroids to the previous ones: the
 * pairing that makes the sum of squared distances between paired centroids
 * smallest (the k-means criterion), not a greedy nearest-first pairing, which
 * can give a cluster's natural partner to a neighbour.
 */
import { KMeansError } from './kmeans.js';

/**
 * The assignment of rows to columns of an n×m cost matrix (row-major) with
 * the least total cost: `result[i]` is row i's column, or -1 when n > m and
 * row i is left over. O(max(n, m)³) (the potentials form of Kuhn–Munkres, as
 * in Jonker–Volgenant's shortest augmenting paths). Ties go to the
 * lowest-numbered column found first, so the result is deterministic.
 */
export function optimalAssignment(cost: Float64Array, n: number, m: number): Int32Array {
  if (cost.length !== n * m) throw new KMeansError('INVALID_INPUT', `cost has ${cost.length} values, expected ${n}×${m}`);
  for (const c of cost) if (!Number.isFinite(c)) throw new KMeansError('INVALID_INPUT', `cost has a non-finite value (${c})`);
  const result = new Int32Array(n).fill(-1);
  if (n === 0 || m === 0) return result;
  // The algorithm assigns every row of a matrix with rows ≤ columns: transpose when there are more rows.
  const transposed = n > m;
  const rows = transposed ? m : n;
  const cols = transposed ? n : m;
  const at = (i: number, j: number) => (transposed ? cost[j * m + i]! : cost[i * m + j]!);

  // 1-based, column 0 a sentinel: u, v the potentials, match[j] the row in column j.
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const match = new Int32Array(cols + 1);
  const way = new Int32Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    match[0] = i;
    let j0 = 0;
    const minv = new Float64Array(cols + 1).fill(Infinity);
    const used = new Uint8Array(cols + 1);
    do {
      used[j0] = 1;
      const i0 = match[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const reduced = at(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (reduced < minv[j]!) {
          minv[j] = reduced;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[match[j]!] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (match[j0] !== 0);
    do {
      const j1 = way[j0]!;
      match[j0] = match[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  for (let j = 1; j <= cols; j++) {
    // Stryker disable next-line ConditionalExpression: an unmatched column would write −1 where −1 already is, or at index −1 of a typed array (ignored)
    if (match[j] === 0) continue;
    if (transposed) result[j - 1] = match[j]! - 1;
    else result[match[j]! - 1] = j - 1;
  }
  return result;
}

/** Squared Euclidean distances between the rows of two row-major matrices of d columns: a.rows × b.rows. */
export function squaredDistances(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const n = a.length / d;
  const m = b.length / d;
  const out = new Float64Array(n * m);
  // Stryker disable next-line EqualityOperator: `<=` only adds a pass one past the end (reads undefined, so NaN; writes past the end of a typed array are ignored)
  for (let i = 0; i < n; i++) {
    // Stryker disable next-line EqualityOperator: `<=` writes one more value into the next row's first slot, which the next pass fills, or past the end of the array (ignored)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let f = 0; f < d; f++) {
        const diff = a[i * d + f]! - b[j * d + f]!;
        s += diff * diff;
      }
      out[i * m + j] = s;
    }
  }
  return out;
}

/**
 * The numbers of this run's clusters (`current`: k×d centroids, in the order
 * new clusters are to be numbered: descending mean revenue), given the
 * previous run's centroids (`previous`, in the same space) and numbers
 * (`previousIds`): each cluster paired with a previous one takes its number;
 * the others (k grew) take the next numbers after every previous one, in the
 * given order. With no previous run, 1..k in the given order.
 */
export function clusterIds(current: Float64Array, previous: Float64Array, previousIds: readonly number[], d: number): number[] {
  const k = current.length / d;
  if (previous.length !== previousIds.length * d) {
    throw new KMeansError('INVALID_INPUT', `previous has ${previous.length} values for ${previousIds.length} clusters of ${d} features`);
  }
  const paired = optimalAssignment(squaredDistances(current, previous, d), k, previousIds.length);
  let nextNew = Math.max(0, ...previousIds);
  return Array.from(paired, (j) => (j >= 0 ? previousIds[j]! : ++nextNew));
}
