import type { UpstreamClient, UpstreamResponse } from './upstream-client.js';
import { readText } from './upstream-client.js';
import { errorMessageOf, malformedUpstream, upstreamFailure } from './upstream-error.js';

/** The largest answer read whole (a batch of embeddings runs to tens of MB); error answers keep their first 1 MiB. */
export const maxAnswerBytes = 256 * 1024 * 1024;
const maxErrorBytes = 1024 * 1024;

/**
 * Reads a response body: the text of a 2xx answer, or the matching `ProviderError` for any other
 * status, with the provider's own message and `contextLength` set when `isContextLength` says so.
 */
export async function readUpstreamBody(
  client: UpstreamClient,
  response: UpstreamResponse,
  signal: AbortSignal,
  isContextLength: (status: number, text: string) => boolean,
): Promise<string> {
  const ok = response.status >= 200 && response.status < 300;
  let read: { text: string; truncated: boolean };
  try {
    read = await readText(response.body, ok ? maxAnswerBytes : maxErrorBytes);
  } catch (error) {
    throw client.transportError(error, signal);
  }
  const text = read.text;
  if (ok) {
    if (read.truncated) throw malformedUpstream(client.provider, `the answer is larger than ${maxAnswerBytes / 1024 / 1024} MiB`);
    return text;
  }
  throw upstreamFailure({
    provider: client.provider,
    status: response.status,
    message: errorMessageOf(text),
    headers: response.headers,
    contextLength: isContextLength(response.status, text),
  });
}
