import type { UpstreamClient, UpstreamResponse } from './upstream-client.js';
import { readText } from './upstream-client.js';
import { errorMessageOf, upstreamFailure } from './upstream-error.js';

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
  let text: string;
  try {
    text = await readText(response.body);
  } catch (error) {
    throw client.transportError(error, signal);
  }
  if (response.status >= 200 && response.status < 300) return text;
  throw upstreamFailure({
    provider: client.provider,
    status: response.status,
    message: errorMessageOf(text),
    headers: response.headers,
    contextLength: isContextLength(response.status, text),
  });
}
