/**
 * Adds `"cost": <USD>` to the `usage` object of an OpenAI response or usage chunk given as JSON text,
 * without re-serialising it (OpenRouter reports `usage.cost` the same way). The top-level `usage` key is
 * found as the last `"usage":{` in the text: inside JSON strings quotes are escaped, so the sequence can
 * only be a key, and the response's own usage comes after its choices. Returns the text unchanged when
 * there is no usage object or it already has a cost.
 */
export function withUsageCost(json: string, costUsd: number): string {
  const key = json.lastIndexOf('"usage"');
  if (key === -1) return json;
  let index = key + 7;
  while (index < json.length && isSpace(json.charCodeAt(index))) index++;
  if (json[index] !== ':') return json;
  index++;
  while (index < json.length && isSpace(json.charCodeAt(index))) index++;
  if (json[index] !== '{') return json;
  const close = json.indexOf('}', index);
  if (json.slice(index, close === -1 ? undefined : close).includes('"cost"')) return json;
  let next = index + 1;
  while (next < json.length && isSpace(json.charCodeAt(next))) next++;
  const separator = json[next] === '}' ? '' : ',';
  return `${json.slice(0, index + 1)}"cost":${formatCost(costUsd)}${separator}${json.slice(index + 1)}`;
}

/** 12 significant digits, as a JSON number (tiny costs may use an exponent, which JSON allows). */
function formatCost(costUsd: number): string {
  return JSON.stringify(Number(costUsd.toPrecision(12)));
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}
