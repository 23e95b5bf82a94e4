import { celLibrary } from './cel-library.js';

/**
 * Plain-data helpers shared by both rule forms: deep JSON equality, type names for messages, short
 * renderings of values, and the conversion of CEL results (bigint, CelList, CelMap, ...) to JSON-like
 * data that an explanation can carry over the wire.
 */

/** Deep equality of JSON-like values (numbers by value, objects by own keys, order-insensitive). */
export function jsonEquals(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false;
  if (Array.isArray(left) || Array.isArray(right)) {
    if (!Array.isArray(left) || !Array.isArray(right) || left.length !== right.length) return false;
    return left.every((item, index) => jsonEquals(item, right[index]));
  }
  const leftKeys = Object.keys(left);
  if (leftKeys.length !== Object.keys(right).length) return false;
  return leftKeys.every(
    (key) => Object.hasOwn(right, key) && jsonEquals((left as Record<string, unknown>)[key], (right as Record<string, unknown>)[key]),
  );
}

/** `string`, `number`, `list`, `map`, `null`, ... as the rule language names them in messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'map';
  return typeof value;
}

/** A value as it should appear in a message: JSON, cut at `limit` characters. */
export function renderValue(value: unknown, limit = 80): string {
  let text: string;
  try {
    text = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? Number(item) : item)) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** A CEL result as plain data: int/uint → number (string past 2^53), list → array, map → object. */
export function toPlainValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value === null || typeof value !== 'object') return value;
  const { isCelList, isCelMap, isCelUint } = celLibrary();
  if (isCelUint(value)) return toPlainValue(value.value);
  if (isCelList(value)) return Array.from(value, (item) => toPlainValue(item));
  if (isCelMap(value)) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of value) result[String(toPlainValue(key))] = toPlainValue(item);
    return result;
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((item: unknown) => toPlainValue(item));
  if (Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toPlainValue(item)]));
  }
  return String(value);
}
