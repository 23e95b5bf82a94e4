import { editDistance } from '../core/edit-distance.js';

/** The names closest to `wanted` (edit distance, case-insensitive), for "did you mean" messages. */
export function closestNames(wanted: string, names: Iterable<string>, limit = 3): string[] {
  const target = wanted.toLowerCase();
  const scored: { name: string; distance: number }[] = [];
  for (const name of names) {
    const candidate = name.toLowerCase();
    const edits = editDistance(target, candidate);
    // A name containing the other is close, but a one-letter typo is closer.
    const distance = candidate.includes(target) || target.includes(candidate) ? Math.min(edits, 1.5) : edits;
    if (distance <= Math.max(3, target.length / 2)) scored.push({ name, distance });
  }
  scored.sort((left, right) => left.distance - right.distance || left.name.localeCompare(right.name));
  return scored.slice(0, limit).map((entry) => entry.name);
}
