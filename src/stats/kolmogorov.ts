/**
 * Null distributions of the Kolmogorov–Smirnov statistics, ported from SciPy 1.10
 * (scipy/stats/_ksstats.py, scipy/stats/_stats_py.py) so that ksTwoSample gives SciPy's p-values:
 *
 * - exact two-sample counts: Hodges (1958) lattice paths; for two-sided tests with unequal sizes the
 *   numerically stable "outer probability" recursion of Viehmann (2021, arXiv:2102.08037);
 * - the one-sample two-sided distribution D_n (used by the two-sided asymptotic two-sample test with
 *   n = round(nA nB / (nA + nB))): Simard & L'Ecuyer (2011)'s choice among Durbin's matrix
 *   (Marsaglia, Tsang & Wang 2003), Pomeranz (1974), Pelz–Good (1976) and the one-sided Smirnov
 *   sum of Birnbaum & Tingey (1951).
 * Internal to assay/stats.
 */

const E128 = 2 ** 128
const EM128 = 2 ** -128

/** Pr(D_{n,n} >= h/n), two-sided, equal sizes: 2 (A0 - A0 A1 + ...) by a Horner-like scheme. */
export function probOutsideSquare(n: number, h: number): number {
  let p = 0
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1)
    p = p1 * (1 - p)
  }
  return 2 * p
}

/** Pr(D_{m,n} >= h/lcm), two-sided, from the proportion of lattice paths that leave the band |x/m - y/n| < h/lcm. */
export function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0)
  const n = Math.min(m0, n0)
  const mg = m / g
  const ng = n / g
  let minj = 0
  let maxj = Math.min(Math.ceil(h / mg), n + 1)
  let curlen = maxj - minj
  // A[j - minj] holds Pr(a random path to (i, j) has left the band); points outside the window are 1.
  const a = new Float64Array(n + 2).fill(1)
  for (let j = minj; j < maxj; j++) a[j] = 0
  for (let i = 1; i <= m; i++) {
    const lastminj = minj
    const lastlen = curlen
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n)
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1)
    if (maxj <= minj) return 1
    let val = minj === 0 ? 0 : 1
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj
      val = (a[jj + minj - lastminj] * i + val * j) / (i + j)
      a[jj] = val
    }
    curlen = maxj - minj
    if (lastlen > curlen) a.fill(1, maxj - minj, maxj - minj + (lastlen - curlen))
  }
  return a[maxj - minj - 1]
}

/** Binomial coefficient as a double (Infinity when it overflows), as a product of ratios. */
export function binomial(n: number, k: number): number {
  const kk = Math.min(k, n - k)
  if (kk < 0) return 0
  let r = 1
  for (let i = 1; i <= kk; i++) r = (r * (n - kk + i)) / i
  return r
}

/** Number of lattice paths from (0,0) to (m,n) that reach m y <= n x - h g (one-sided), Hodges' treatment. */
export function countPathsOutside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0)
  const n = Math.min(m0, n0)
  const mg = m / g
  const ng = n / g
  const lxj = n + Math.floor((mg - h) / mg)
  if (lxj <= 0) return binomial(m + n, n)
  const xj = new Array<number>(lxj)
  for (let j = 0; j < lxj; j++) xj[j] = Math.floor((h + mg * j + ng - 1) / ng)
  const b = new Float64Array(lxj)
  b[0] = 1
  for (let j = 1; j < lxj; j++) {
    let bj = binomial(xj[j] + j, j)
    for (let i = 0; i < j; i++) bj -= binomial(xj[j] - xj[i] + j - i, j - i) * b[i]
    b[j] = bj
  }
  let paths = 0
  for (let j = 0; j < lxj; j++) paths += b[j] * binomial(m - xj[j] + (n - j), n - j)
  return paths
}

/**
 * One-sided Smirnov survival function Pr(D_n^+ >= x), the Birnbaum–Tingey sum
 * x Σ_{j=0}^{⌊n(1-x)⌋} C(n,j) (1 - x - j/n)^(n-j) (x + j/n)^(j-1), evaluated term by term in logs.
 */
export function smirnovSf(n: number, x: number): number {
  if (x <= 0) return 1
  if (x >= 1) return 0
  const last = Math.floor(n * (1 - x) + 1e-12)
  let logC = 0
  let sum = 0
  for (let j = 0; j <= last; j++) {
    if (j > 0) logC += Math.log((n - j + 1) / j)
    const base = 1 - x - j / n
    if (base <= 0) {
      if (n - j === 0) sum += Math.exp(logC + (j - 1) * Math.log(x + j / n))
      continue
    }
    sum += Math.exp(logC + (n - j) * Math.log(base) + (j - 1) * Math.log(x + j / n))
  }
  return Math.min(1, Math.max(0, x * sum))
}

function clip(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p
}

/** Pr(D_n <= d) by Durbin's matrix, as Marsaglia, Tsang & Wang (2003). */
function kolmogorovCdfDurbin(n: number, d: number): number {
  if (d >= 1) return 1
  const nd = n * d
  if (nd <= 0.5) return 0
  const k = Math.ceil(nd)
  const h = k - nd
  const m = 2 * k - 1
  const v = new Float64Array(m)
  const w = new Float64Array(m)
  let fac = 1
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac
    fac /= j
    v[j - 1] = (1 - h ** j) * fac
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m
  v[m - 1] = (1 + tt) * fac
  let hm: Float64Array[] = Array.from({ length: m }, () => new Float64Array(m))
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) hm[r][i] = w[r - (i - 1)]
  for (let r = 0; r < m; r++) hm[r][0] = v[r]
  for (let c = 0; c < m; c++) hm[m - 1][c] = v[m - 1 - c]
  let pw: Float64Array[] = Array.from({ length: m }, (_, r) => {
    const row = new Float64Array(m)
    row[r] = 1
    return row
  })
  let nn = n
  let expnt = 0
  let hexpnt = 0
  while (nn > 0) {
    if (nn % 2 === 1) {
      pw = matmul(pw, hm)
      expnt += hexpnt
    }
    hm = matmul(hm, hm)
    hexpnt *= 2
    if (Math.abs(hm[k - 1][k - 1]) > E128) {
      for (const row of hm) for (let c = 0; c < m; c++) row[c] /= E128
      hexpnt += 128
    }
    nn = Math.floor(nn / 2)
  }
  let p = pw[k - 1][k - 1]
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n
    if (Math.abs(p) < EM128) {
      p *= E128
      expnt -= 128
    }
  }
  if (expnt !== 0) p *= 2 ** expnt
  return clip(p)
}

function matmul(a: Float64Array[], b: Float64Array[]): Float64Array[] {
  const m = a.length
  const out = Array.from({ length: m }, () => new Float64Array(m))
  for (let i = 0; i < m; i++) {
    const ai = a[i]
    const oi = out[i]
    for (let k = 0; k < m; k++) {
      const aik = ai[k]
      if (aik === 0) continue
      const bk = b[k]
      for (let j = 0; j < m; j++) oi[j] += aik * bk[j]
    }
  }
  return out
}

function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number
  let j2: number
  if (i === 0) {
    j1 = -ll - ceilf - 1
    j2 = ll + ceilf - 1
  } else {
    const ip1div2 = Math.floor((i + 1) / 2)
    const ip1mod2 = (i + 1) % 2
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1
        j2 = n + ll + ceilf - 1
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1
        j2 = ip1div2 + ll - 1 + ceilf - 1
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1
      j2 = ip1div2 + ll + roundf - 1
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)]
}

/** Pr(D_n <= x) by the Pomeranz (1974) recursion. */
function kolmogorovCdfPomeranz(n: number, x: number): number {
  const t = n * x
  const ll = Math.floor(t)
  const f = t - ll
  const g = Math.min(f, 1 - f)
  const ceilf = f > 0 ? 1 : 0
  const roundf = f > 0.5 ? 1 : 0
  const npwrs = 2 * (ll + 1)
  const gpower = new Float64Array(npwrs)
  const twogpower = new Float64Array(npwrs)
  const onem2gpower = new Float64Array(npwrs)
  gpower[0] = twogpower[0] = onem2gpower[0] = 1
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1] * (g / n)) / m
    twogpower[m] = (twogpower[m - 1] * ((2 * g) / n)) / m
    onem2gpower[m] = (onem2gpower[m - 1] * ((1 - 2 * g) / n)) / m
  }
  let v0 = new Float64Array(npwrs)
  let v1 = new Float64Array(npwrs)
  v1[0] = 1
  let v0s = 0
  let v1s = 0
  let expnt = 0
  let [j1] = pomeranzJ1J2(0, n, ll, ceilf, roundf)
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1
    ;[v0, v1] = [v1, v0]
    ;[v0s, v1s] = [v1s, v0s]
    v1.fill(0)
    let j2: number
    ;[j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf)
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 === 1 ? twogpower : onem2gpower
    const ln2 = j2 - k1 + 1
    if (ln2 > 0) {
      const start = k1 - v0s
      const convStart = j1 - k1
      const convLen = j2 - j1 + 1
      // conv = convolve(V0[start:start+ln2], pwrs[:ln2]); V1[:convLen] = conv[convStart:convStart+convLen]
      let max = 0
      for (let c = 0; c < convLen; c++) {
        const idx = convStart + c
        let s = 0
        for (let q = Math.max(0, idx - ln2 + 1); q <= Math.min(idx, ln2 - 1); q++) {
          const vi = start + q
          if (vi < npwrs) s += v0[vi] * pwrs[idx - q]
        }
        v1[c] = s
        if (s > max) max = s
      }
      if (max > 0 && max < EM128) {
        for (let c = 0; c < npwrs; c++) v1[c] *= E128
        expnt -= 128
      }
      v1s = v0s + j1 - k1
    }
  }
  let ans = v1[n - v1s]
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > E128) {
      ans *= EM128
      expnt += 128
    }
    ans *= m
  }
  if (expnt !== 0) ans *= 2 ** expnt
  return clip(ans)
}

/** Pelz–Good approximation of Pr(D_n <= x). */
function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const PI2 = Math.PI ** 2
  const PI4 = Math.PI ** 4
  const PI6 = Math.PI ** 6
  const z = Math.sqrt(n) * x
  const z2 = z ** 2
  const z3 = z ** 3
  const z4 = z ** 4
  const z6 = z ** 6
  const qlog = -PI2 / 8 / z2
  if (qlog < -708) return 0
  let q = Math.exp(qlog)
  const k1a = -z2
  const k1b = PI2 / 4
  const k2a = 6 * z6 + 2 * z4
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4
  const k2c = (PI4 * (1 - 2 * z2)) / 16
  const k3d = (PI6 * (5 - 30 * z2)) / 64
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4
  const k3a = -30 * z6 - 90 * z ** 8
  const kk = [0, 0, 0, 0]
  const maxk = Math.ceil((16 * z) / Math.PI)
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1
    const m2 = m ** 2
    const m4 = m ** 4
    const m6 = m ** 6
    const qpower = q ** (8 * k)
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6]
    for (let i = 0; i < 4; i++) kk[i] = kk[i] * qpower + coeffs[i]
  }
  const sqrt2pi = Math.sqrt(2 * Math.PI)
  const denominators = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10]
  for (let i = 0; i < 4; i++) kk[i] = (kk[i] * q * sqrt2pi) / denominators[i]
  q = Math.exp(-PI2 / 2 / z2)
  let k2extra = 0
  let k3extra = 0
  const sqrt3z = Math.sqrt(3) * z
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k
    const qp = q ** k2
    k2extra += k2 * qp
    const kspi = Math.PI * k
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * k2 * qp
  }
  kk[2] += (k2extra * PI2 * sqrt2pi) / (-36 * z3)
  kk[3] += (k3extra * PI2 * sqrt2pi) / (216 * z6)
  let sum = 0
  for (let i = 0; i < 4; i++) sum += kk[i] / n ** (i / 2)
  return sum
}

/** log(n! / n^n) by Stirling's series with n log n removed up front. */
function logFactorialOverPower(n: number): number {
  // Stirling coefficients B_2j / (2j (2j - 1)), j = 8, ..., 1 (as SciPy's _ksstats.py).
  const coeffs = [-2.955065359477124e-2, 6.41025641025641e-3, -1.9175269175269176e-3, 8.417508417508417e-4, -5.952380952380953e-4, 7.936507936507937e-4, -2.777777777777778e-3, 8.333333333333333e-2]
  const rn = 1 / n
  let poly = 0
  for (const c of coeffs) poly = poly * (rn / n) + c
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * poly
}

/** Survival function Pr(D_n >= x) of the two-sided one-sample statistic: SciPy's kstwo.sf(x, n). */
export function kolmogorovSf(n: number, x: number): number {
  if (x >= 1) return 0
  if (x <= 0) return 1
  const t = n * x
  if (t <= 1) {
    if (t <= 0.5) return 1
    let prob: number
    if (n <= 140) {
      prob = 1
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1)
    } else prob = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1))
    return clip(1 - prob)
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n)
  if (x >= 0.5) return clip(2 * smirnovSf(n, x))
  const nx2 = t * x
  if (n <= 140) {
    if (nx2 <= 0.754693) return clip(1 - kolmogorovCdfDurbin(n, x))
    if (nx2 <= 4) return clip(1 - kolmogorovCdfPomeranz(n, x))
    return clip(2 * smirnovSf(n, x))
  }
  if (nx2 >= 370) return 0
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x))
  let cdf: number
  if (nx2 >= 18) cdf = 1
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) cdf = kolmogorovCdfDurbin(n, x)
  else cdf = kolmogorovCdfPelzGood(n, x)
  return clip(1 - cdf)
}
