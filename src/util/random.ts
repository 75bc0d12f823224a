/** A source of uniformly distributed numbers in [0, 1), injected so partitioning and jitter are testable. */
export type RandomSource = () => number

export const systemRandom: RandomSource = Math.random

/** Deterministic generator (mulberry32) for tests and reproducible benchmarks. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
