/**
 * Special functions for the customer-base likelihoods, written for accuracy
 * in double precision (≈1e-15) and for finite results over the whole range
 * the models reach (frequency in the hundreds, parameters from 1e-8 to 1e8).
 *
 * simple-statistics' `gammaln` is not used: it has no small-argument
 * treatment (relative error ~1e-13 below 0.5, where r, a and s of the
 * CDNOW fits live) and no digamma companion for analytic gradients.
 */

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** Below this the Stirling series is not yet accurate; shift the argument up first. */
const ASYMPTOTIC_FROM = 10;

/**
 * log Γ(x) for x > 0 (log |Γ(x)| for negative non-integers; +Infinity at the
 * poles). For x ≥ 10 the Stirling series with 8 Bernoulli terms is accurate
 * to < 1e-16; smaller x are shifted up with Γ(x) = Γ(x + n) / (x (x+1) … (x+n−1)).
 */
export function logGamma(x: number): number {
  // NaN fails every comparison below and comes out of the series as NaN.
  if (x === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (x <= 0) {
    if (Number.isInteger(x)) return Number.POSITIVE_INFINITY;
    // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  }
  // From x ≥ 10 on, no shift: log(1) = 0 is subtracted.
  let product = 1;
  let y = x;
  // Stryker disable next-line EqualityOperator: at y = 10 one more shift and the series agree (the switch point)
  while (y < ASYMPTOTIC_FROM) {
    product *= y;
    y += 1;
  }
  return stirlingLogGamma(y) - Math.log(product);
}

function stirlingLogGamma(x: number): number {
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI + stirlingSeries(x);
}

/** Σ B₂ₖ / (2k (2k−1) x^(2k−1)), k = 1..8: the correction term of Stirling's series. */
function stirlingSeries(x: number): number {
  const inv = 1 / x;
  const inv2 = inv * inv;
  return (
    inv *
    (1 / 12 +
      inv2 *
        (-1 / 360 +
          inv2 *
            (1 / 1260 +
              inv2 *
                (-1 / 1680 +
                  inv2 * (1 / 1188 + inv2 * (-691 / 360360 + inv2 * (1 / 156 + inv2 * (-3617 / 122400))))))))
  );
}

/**
 * Digamma ψ(x) = d/dx log Γ(x). Recurrence ψ(x) = ψ(x+1) − 1/x up to x ≥ 10,
 * then the asymptotic series; reflection for negative non-integers.
 */
export function digamma(x: number): number {
  // NaN fails every comparison below and comes out as NaN; +∞ as log(∞) = ∞.
  if (x <= 0) {
    if (Number.isInteger(x)) return Number.NaN;
    // ψ(1 − x) − ψ(x) = π cot(πx)
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * x);
  }
  let shift = 0;
  let y = x;
  // Stryker disable next-line EqualityOperator: at y = 10 one more shift and the series agree (the switch point)
  while (y < ASYMPTOTIC_FROM) {
    shift += 1 / y;
    y += 1;
  }
  const inv2 = 1 / (y * y);
  // Σ B_2k / (2k x^2k), k = 1..7
  const series =
    inv2 *
    (1 / 12 +
      inv2 *
        (-1 / 120 +
          inv2 * (1 / 252 + inv2 * (-1 / 240 + inv2 * (1 / 132 + inv2 * (-691 / 32760 + inv2 * (1 / 12)))))));
  return Math.log(y) - 0.5 / y - series - shift;
}

/**
 * log Γ(y + d) − log Γ(y) for y > 0, y + d > 0. For large arguments the two
 * log-gammas are big and nearly equal; the difference of Stirling series,
 * (y − ½) log1p(d/y) + d log(y + d) − d + (S(y+d) − S(y)), avoids cancelling them.
 */
export function logGammaRatio(y: number, d: number): number {
  const z = y + d;
  // Stryker disable next-line EqualityOperator: at 10 the difference of log Γ and of Stirling series agree (the switch point)
  if (y < ASYMPTOTIC_FROM || z < ASYMPTOTIC_FROM) return logGamma(z) - logGamma(y);
  return (y - 0.5) * Math.log1p(d / y) + d * Math.log(z) - d + (stirlingSeries(z) - stirlingSeries(y));
}

/** log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** log(eᵃ + eᵇ) without overflow; −Infinity terms are neutral. */
export function logAddExp(a: number, b: number): number {
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  // −∞ − (−∞) would be NaN.
  return lo === Number.NEGATIVE_INFINITY ? hi : hi + Math.log1p(Math.exp(lo - hi));
}

/** log Σ exp(vᵢ) without overflow; −Infinity for an empty list. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = Number.NEGATIVE_INFINITY;
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  // −∞ (no values, or all −∞), +∞ or NaN: the sum is that value.
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum);
}

/**
 * log(1 − eˣ) for x ≤ 0, accurate at both ends (Mächler 2012): expm1 near 0,
 * log1p far from it. −Infinity at x = 0; NaN for x > 0.
 */
export function log1mExp(x: number): number {
  // For x > 0 the first form is the log of a negative number: NaN.
  // Stryker disable next-line EqualityOperator: at x = −ln 2 the two forms agree (log(1/2), to an ulp)
  return x > -Math.LN2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
}

/**
 * (e^(ε·L) − 1) / ε, continuous at ε = 0 (where it is L). Appears as
 * (1 − u^(s−1)) / (s − 1) in the Pareto/NBD expectations and
 * (1 − (1−z)^(a−1)) / (a − 1) in the BG/NBD ones, both of which have a
 * removable singularity at s = 1 or a = 1.
 */
export function expm1Ratio(eps: number, L: number): number {
  const u = eps * L;
  if (Math.abs(u) < 1e-5) {
    // Taylor series of expm1(u)/u; error < u⁴/120 relative.
    return L * (1 + u * (0.5 + u * (1 / 6 + u / 24)));
  }
  return Math.expm1(u) / eps;
}

/**
 * Gauss hypergeometric ₂F₁(a, b; c; z) by its power series, for |z| < 1 and
 * c not a non-positive integer. A reference implementation (used in tests to
 * cross-check the closed forms); the models use the stable specialised forms
 * below. Slow as z → 1, and subject to overflow when the terms grow large
 * (a, b in the hundreds with z near 1): not for hot paths.
 */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  if (!(Math.abs(z) < 1)) return Number.NaN;
  let term = 1;
  let sum = 1;
  for (let k = 0; k < 1_000_000; k++) {
    term *= ((a + k) * (b + k) * z) / ((c + k) * (k + 1));
    sum += term;
    if (term === 0 || (Math.abs(term) <= 1e-17 * Math.abs(sum) && k > Math.abs(a * b) / Math.abs(c))) break;
  }
  return sum;
}

/**
 * Value and partial derivatives of F(b, c, z) = ₂F₁(1, b; c; z) for
 * 0 < b < c and 0 ≤ z < 1, written into `out` as [F, ∂F/∂b, ∂F/∂c, ∂F/∂z].
 *
 * This is the only hypergeometric function the Pareto/NBD likelihood needs
 * once Euler's transformation ₂F₁(a, b; a+1; z) = (1−z)^(1−b) ₂F₁(1, a+1−b; a+1; z)
 * has been applied to lifetimes' ₂F₁(r+s+x, ·; r+s+x+1; z): the transformed
 * series has terms tₖ ≤ zᵏ, all positive, so F lies in [1, 1/(1−z)] and
 * never overflows, whatever the frequency.
 *
 * - z ≤ 0.5: the power series Σ tₖ with t₀ = 1, tₖ₊₁ = tₖ z (b+k)/(c+k); the
 *   derivatives accumulate tₖ ∂log tₖ along the way.
 * - z > 0.5: Gauss's continued fraction, F = 1/(1 − d₁z/(1 − d₂z/(1 − …))),
 *   d₁ = b/c, d₂ⱼ₊₁ = (c+j−1)(b+j)/((c+2j−1)(c+2j)), d₂ⱼ = j(c−b−1+j)/((c+2j−2)(c+2j−1)).
 *   F is a Stieltjes function of z, so the fraction converges geometrically up
 *   to z → 1 where the series needs ~40/(1−z) terms (hundreds of times fewer
 *   steps at z = 0.999). Derivatives are propagated through the Wallis
 *   recurrences (forward-mode differentiation of the same approximant).
 */
export function hyp2f1A1WithDerivatives(b: number, c: number, z: number, out: Float64Array): void {
  // Stryker disable next-line EqualityOperator: at z = 0.5 the series and the continued fraction agree (the switch point)
  if (z <= 0.5) seriesA1(b, c, z, out);
  else continuedFractionA1(b, c, z, out);
}

/** F(b, c, z) = ₂F₁(1, b; c; z) for 0 < b < c, 0 ≤ z < 1; see {@link hyp2f1A1WithDerivatives}. */
export function hyp2f1A1(b: number, c: number, z: number): number {
  const out = scratch4;
  hyp2f1A1WithDerivatives(b, c, z, out);
  return out[0];
}

const scratch4 = new Float64Array(4);

const MAX_TERMS = 100_000;

function seriesA1(b: number, c: number, z: number, out: Float64Array): void {
  // t_k, and its log-derivatives w.r.t. b and c: Σ_{j<k} 1/(b+j), −Σ_{j<k} 1/(c+j).
  let t = 1;
  let sum = 1;
  let dlogB = 0;
  let dlogC = 0;
  let sumB = 0;
  let sumC = 0;
  // ∂F/∂z = Σ_{k≥1} k t_k / z, accumulated as Σ k·u_k with u_k = t_k / z
  // so that z = 0 needs no division.
  let sumZ = 0;
  for (let k = 0; k < MAX_TERMS; k++) {
    const bk = b + k;
    const ck = c + k;
    const u = (t * bk) / ck; // t_{k+1} / z
    sumZ += (k + 1) * u;
    t = u * z;
    dlogB += 1 / bk;
    dlogC -= 1 / ck;
    sum += t;
    sumB += t * dlogB;
    sumC += t * dlogC;
    if (t <= 1e-17 * sum) break;
  }
  out[0] = sum;
  out[1] = sumB;
  out[2] = sumC;
  out[3] = sumZ;
}

function continuedFractionA1(b: number, c: number, z: number, out: Float64Array): void {
  // Wallis recurrences A_n = A_{n−1} + a_n A_{n−2}, same for B, with
  // a_1 = 1 and a_{i+1} = −d_i z. Convergent n is F_n = A_n / B_n. For z < 1
  // every B_n > 0 (the Padé denominators of a Stieltjes function have their
  // zeros beyond z = 1), so we renormalise by B_n each step to stay in range.
  // Derivatives: dA_n = dA_{n−1} + da_n A_{n−2} + a_n dA_{n−2} for d ∈ {b, c, z}.
  // Start from (A_0, B_0) = (0, 1) and (A_1, B_1) = (1, 1); F_1 = 1.
  let A2 = 0;
  let B2 = 1;
  let A1 = 1;
  let B1 = 1;
  let A2b = 0, A2c = 0, A2z = 0, B2b = 0, B2c = 0, B2z = 0;
  let A1b = 0, A1c = 0, A1z = 0, B1b = 0, B1c = 0, B1z = 0;
  let F = 1;
  let Fb = 0;
  let Fc = 0;
  let Fz = 0;
  for (let i = 1; i < MAX_TERMS; i++) {
    let d: number;
    let db: number;
    let dc: number;
    if (i === 1) {
      d = b / c;
      db = 1 / c;
      dc = -d / c;
    } else if ((i & 1) === 1) {
      const j = (i - 1) >> 1;
      const p = c + j - 1;
      const q1 = c + 2 * j - 1;
      const q2 = c + 2 * j;
      d = (p * (b + j)) / (q1 * q2);
      db = p / (q1 * q2);
      dc = d * (1 / p - 1 / q1 - 1 / q2);
    } else {
      const j = i >> 1;
      const q1 = c + 2 * j - 2;
      const q2 = c + 2 * j - 1;
      const num = c - b - 1 + j;
      d = (j * num) / (q1 * q2);
      db = -j / (q1 * q2);
      dc = j / (q1 * q2) - d * (1 / q1 + 1 / q2);
    }
    const a = -d * z;
    const ab = -db * z;
    const ac = -dc * z;
    const az = -d;
    const A = A1 + a * A2;
    const B = B1 + a * B2;
    const Ab = A1b + ab * A2 + a * A2b;
    const Ac = A1c + ac * A2 + a * A2c;
    const Az = A1z + az * A2 + a * A2z;
    const Bb = B1b + ab * B2 + a * B2b;
    const Bc = B1c + ac * B2 + a * B2c;
    const Bz = B1z + az * B2 + a * B2z;
    const inv = 1 / B;
    const Fn = A * inv;
    const Fnb = (Ab - Fn * Bb) * inv;
    const Fnc = (Ac - Fn * Bc) * inv;
    const Fnz = (Az - Fn * Bz) * inv;
    // Shift and renormalise by B_n (all quantities are homogeneous of degree 1).
    A2 = A1 * inv;
    B2 = B1 * inv;
    A2b = A1b * inv;
    A2c = A1c * inv;
    A2z = A1z * inv;
    B2b = B1b * inv;
    B2c = B1c * inv;
    B2z = B1z * inv;
    A1 = Fn;
    B1 = 1;
    A1b = Ab * inv;
    A1c = Ac * inv;
    A1z = Az * inv;
    B1b = Bb * inv;
    B1c = Bc * inv;
    B1z = Bz * inv;
    const done =
      i > 2 &&
      Math.abs(Fn - F) <= 1e-16 * Fn &&
      Math.abs(Fnb - Fb) <= 1e-15 * (Math.abs(Fnb) + Fn) &&
      Math.abs(Fnc - Fc) <= 1e-15 * (Math.abs(Fnc) + Fn) &&
      Math.abs(Fnz - Fz) <= 1e-15 * (Math.abs(Fnz) + Fn);
    F = Fn;
    Fb = Fnb;
    Fc = Fnc;
    Fz = Fnz;
    if (done) break;
  }
  out[0] = F;
  out[1] = Fb;
  out[2] = Fc;
  out[3] = Fz;
}
