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
  if (hasTopLevelKey(json, index, '"cost"')) return json;
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

/** Whether the object starting at `open` (a `{`) has `key` (quoted) among its own keys, nested objects aside. */
function hasTopLevelKey(json: string, open: number, key: string): boolean {
  let depth = 0;
  for (let index = open; index < json.length; index++) {
    const char = json[index];
    if (char === '"') {
      const end = stringEnd(json, index);
      if (depth === 1 && json.startsWith(key, index) && end === index + key.length - 1) {
        let next = end + 1;
        while (next < json.length && isSpace(json.charCodeAt(next))) next++;
        if (json[next] === ':') return true;
      }
      index = end;
    } else if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') {
      depth--;
      if (depth === 0) return false;
    }
  }
  return false;
}

/** Index of the quote that closes the string opening at `start`. */
function stringEnd(json: string, start: number): number {
  for (let index = start + 1; index < json.length; index++) {
    if (json[index] === '\\') index++;
    else if (json[index] === '"') return index;
  }
  return json.length;
}
