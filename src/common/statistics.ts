/** Statistics shared by the reports, the verdict, the plan and the studies: pure, over plain numbers. */

/**
 * The p-th percentile (p in 0..100) by linear interpolation between the two
 * nearest ranks: on the values sorted ascending, rank = (n - 1) * p / 100 and
 * the result lies between sorted[floor(rank)] and sorted[ceil(rank)] in
 * proportion to the fraction of rank. This is Hyndman & Fan type 7, the
 * default of NumPy and R and Excel's PERCENTILE.INC: p0 is the minimum, p100
 * the maximum, p50 of an even count the mean of the two middle values, and
 * no result lies outside the observed values. Undefined for an empty list.
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  return percentileOfSorted([...values].sort((a, b) => a - b), p);
}

/** percentile() on values already sorted ascending (saves a sort per percentile). */
export function percentileOfSorted(sorted: readonly number[], p: number): number | undefined {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  if (sorted.length === 0) return undefined;
  const rank = ((sorted.length - 1) * p) / 100;
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (rank - below);
}

export function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}
