import { editDistance } from '../core/edit-distance.js';

/** The candidate closest to `wanted` (edit distance, case-insensitive), if one is close enough to suggest. */
export function closestName(wanted: string, candidates: Iterable<string>): string | undefined {
  const target = wanted.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(target.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(target, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `; did you mean 'x'?` or `''`, to append to a message. */
export function didYouMean(wanted: string, candidates: Iterable<string>): string {
  const suggestion = closestName(wanted, candidates);
  return suggestion === undefined ? '' : `; did you mean '${suggestion}'?`;
}
