// Out-of-sample scores of a probability forecast.

/** Share of rows where (p >= 0.5) equals the label. */
export function accuracy(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let hit = 0;
  for (let i = 0; i < y.length; i++) if ((p[i] >= 0.5 ? 1 : 0) === y[i]) hit++;
  return y.length ? hit / y.length : NaN;
}

/**
 * Area under the ROC curve: the probability that a random positive row scores above a random negative
 * one (ties count half), from the ranks of the scores (Mann-Whitney U). NaN without both classes.
 */
export function auc(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = y.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => p[a] - p[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j < n && p[order[j]] === p[order[i]]) j++;
    const rank = (i + 1 + j) / 2; // average 1-based rank of the tie group
    for (let k = i; k < j; k++)
      if (y[order[k]] === 1) {
        pos++;
        rankSum += rank;
      }
    i = j;
  }
  const neg = n - pos;
  return pos && neg ? (rankSum - (pos * (pos + 1)) / 2) / (pos * neg) : NaN;
}
